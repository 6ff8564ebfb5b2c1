//! The appliance's SQLite store: a derived cache of signed status data (DESIGN §2, STYLE 8–9).
//!
//! One initializer ([`Store::open`]) sets the pragmas, creates or migrates the schema inside one
//! IMMEDIATE transaction, refuses a newer schema, and — for the writer — deletes a corrupt file
//! and starts empty (the data is re-synced). A publication is applied in one transaction
//! ([`Store::apply`]); readers see either the old or the new publication, never a mix
//! (WAL snapshot isolation). Only certd opens the store for writing.

use crate::lookup::{LookupEntry, Salt};
use crate::status::{Cancellation, Dataset, DeltaOp, Qualification, Records, Revocation, StatusFileError, Update};
use crate::trust::{KeyId, SealKey, SealKind};
use crate::{calendar, status::Body};
use jiff::Timestamp;
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};
use std::path::{Path, PathBuf};

/// The schema this build writes. Version 0 is an empty file; version 2 added the lookup index.
pub const SCHEMA_VERSION: i64 = 2;

mod lookup;
pub use lookup::LookupMeta;

const SCHEMA_V1: &str = "
CREATE TABLE publication (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL,
    as_of INTEGER NOT NULL,
    root_version INTEGER NOT NULL,
    targets_version INTEGER NOT NULL,
    snapshot_version INTEGER NOT NULL,
    applied_at INTEGER NOT NULL
);
CREATE TABLE clock_floor (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    newest_signed_time INTEGER NOT NULL
);
CREATE TABLE seals (
    key_id BLOB PRIMARY KEY,
    public_key BLOB NOT NULL,
    owner TEXT NOT NULL,
    kind TEXT NOT NULL,
    valid_from INTEGER NOT NULL,
    valid_until INTEGER NOT NULL,
    retired_at INTEGER
) WITHOUT ROWID;
CREATE TABLE revocations (
    management_number TEXT PRIMARY KEY,
    revoked_at INTEGER NOT NULL,
    reason_code TEXT NOT NULL,
    reason TEXT NOT NULL,
    revoked_by TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE cancellations (
    annotation_id INTEGER PRIMARY KEY,
    cancelled_at INTEGER NOT NULL,
    reason TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE qualifications (
    code TEXT PRIMARY KEY,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    seal_kind TEXT NOT NULL,
    body TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE bodies (
    code TEXT PRIMARY KEY,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE scope (
    qualification TEXT NOT NULL,
    first_year INTEGER NOT NULL,
    last_year INTEGER NOT NULL
);
CREATE INDEX scope_by_qualification ON scope (qualification);
";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store {path} does not exist (run `certd sync` first)")]
    Missing { path: PathBuf },
    #[error("store {path}: {source}")]
    Sqlite { path: PathBuf, source: rusqlite::Error },
    #[error("store {path} has schema version {found}, newer than this build's {supported}")]
    NewerSchema { path: PathBuf, found: i64, supported: i64 },
    #[error("store {path}: corrupt row in {table}: {what}")]
    CorruptRow {
        path: PathBuf,
        table: &'static str,
        what: String,
    },
    #[error("store {path}: {table} do not fit: {what}")]
    DeltaMismatch {
        path: PathBuf,
        table: &'static str,
        what: String,
    },
    #[error("store {path}: {source}")]
    TargetFile { path: PathBuf, source: StatusFileError },
    #[error("store {path}: publication {offered} is not newer than the applied {applied}")]
    NotNewer { path: PathBuf, offered: u64, applied: u64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// certd: creates, migrates, repairs and writes.
    ReadWrite,
    /// Verification and the kiosk UI: never writes.
    ReadOnly,
}

/// What the store holds, for status and for verdicts.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PublicationInfo {
    pub version: u64,
    pub as_of: Timestamp,
    pub root_version: u64,
    pub targets_version: u64,
    pub snapshot_version: u64,
    pub applied_at: Timestamp,
}

/// TUF metadata versions a publication arrived with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetadataVersions {
    pub root: u64,
    pub targets: u64,
    pub snapshot: u64,
}

/// Answer of a scope query (证书查询验证范围).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The data covers this qualification and year.
    Covered,
    /// The qualification is covered for other years only.
    OtherYears { first_year: i16, last_year: i16 },
    /// The data does not cover this qualification at all.
    NotCovered,
}

#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// Decompressed Ed25519 points of seal keys, by their 32 raw bytes: decompression costs
    /// about as much as a quarter of a signature check, and the same few seals sign everything.
    points: KeyCache,
}

/// A pure function's memo (raw bytes → decoded key), so it never needs invalidating.
#[derive(Debug, Default)]
struct KeyCache(std::cell::RefCell<std::collections::HashMap<[u8; 32], ed25519_dalek::VerifyingKey>>);

impl KeyCache {
    fn get(&self, raw: [u8; 32]) -> Option<ed25519_dalek::VerifyingKey> {
        if let Some(k) = self.0.borrow().get(&raw) {
            return Some(*k);
        }
        let key = ed25519_dalek::VerifyingKey::from_bytes(&raw).ok()?;
        let mut map = self.0.borrow_mut();
        if map.len() >= 1024 {
            map.clear();
        }
        map.insert(raw, key);
        Some(key)
    }
}

impl Store {
    /// Open the store at `path` through the one initializer.
    pub fn open(path: &Path, mode: Mode) -> Result<Store, StoreError> {
        match mode {
            Mode::ReadOnly => {
                if !path.exists() {
                    return Err(StoreError::Missing { path: path.to_owned() });
                }
                let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(sqlite(path))?;
                let store = Store {
                    conn,
                    path: path.to_owned(),
                    points: KeyCache::default(),
                };
                store
                    .conn
                    .busy_timeout(std::time::Duration::from_secs(5))
                    .map_err(sqlite(path))?;
                let found = store.user_version()?;
                if found > SCHEMA_VERSION {
                    return Err(StoreError::NewerSchema {
                        path: path.to_owned(),
                        found,
                        supported: SCHEMA_VERSION,
                    });
                }
                if found < SCHEMA_VERSION {
                    return Err(StoreError::Missing { path: path.to_owned() });
                }
                Ok(store)
            }
            Mode::ReadWrite => match Store::open_rw(path) {
                Err(StoreError::Sqlite { source, .. }) if is_corruption(&source) => {
                    // A derived cache: a corrupt file is deleted and re-synced.
                    for suffix in ["", "-wal", "-shm"] {
                        let p = PathBuf::from(format!("{}{suffix}", path.display()));
                        let _ = std::fs::remove_file(p);
                    }
                    Store::open_rw(path)
                }
                other => other,
            },
        }
    }

    fn open_rw(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Sqlite {
                path: path.to_owned(),
                source: rusqlite::Error::ToSqlConversionFailure(Box::new(e)),
            })?;
        }
        let mut conn = Connection::open(path).map_err(sqlite(path))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(sqlite(path))?;
        // Pragmas outside any transaction.
        conn.pragma_update(None, "journal_mode", "WAL").map_err(sqlite(path))?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(sqlite(path))?;
        // The -wal file is kept (below); after a 10 M-row import it would otherwise stay the
        // size of the whole index on disk for good.
        conn.pragma_update(None, "journal_size_limit", 64 << 20)
            .map_err(sqlite(path))?;
        // Keep the -wal and -shm files when the last writer closes. Readers of another user
        // (the kiosk UI, in certd's group, with no write access to this directory) cannot
        // create them, and without them SQLite refuses to open a WAL database read-only.
        let mut persist = 1;
        conn.file_control(Some(rusqlite::MAIN_DB), rusqlite::FileControl::PersistWal(&mut persist))
            .map_err(sqlite(path))?;
        let full_check = check_integrity(&conn, path)?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sqlite(path))?;
        let found: i64 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(sqlite(path))?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                path: path.to_owned(),
                found,
                supported: SCHEMA_VERSION,
            });
        }
        if found == 0 {
            tx.execute_batch(SCHEMA_V1).map_err(sqlite(path))?;
        }
        if found < 2 {
            tx.execute_batch(lookup::SCHEMA).map_err(sqlite(path))?;
            tx.execute_batch(MAINTENANCE_SCHEMA).map_err(sqlite(path))?;
        }
        if let Some(at) = full_check {
            tx.execute("INSERT OR REPLACE INTO maintenance VALUES (1, ?1)", [at.as_second()])
                .map_err(sqlite(path))?;
        }
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(sqlite(path))?;
        tx.commit().map_err(sqlite(path))?;
        Ok(Store {
            conn,
            path: path.to_owned(),
            points: KeyCache::default(),
        })
    }

    fn user_version(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(sqlite(&self.path))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Replace the held publication with `dataset`, in one transaction. A publication that is
    /// not newer than the applied one is refused (the caller treats equal as "nothing new").
    pub fn apply(&mut self, dataset: &Dataset, versions: MetadataVersions, now: Timestamp) -> Result<(), StoreError> {
        self.apply_update(&Update::from(dataset.clone()), versions, now)
    }

    /// Apply a publication as a sync delivers it — whole record sets, or delta chains from
    /// the applied version — in one transaction. A chain that does not start at the applied
    /// version, or does not reproduce the full set's record count, is refused
    /// ([`StoreError::DeltaMismatch`]) and changes nothing; the caller then fetches the full files.
    pub fn apply_update(
        &mut self,
        update: &Update,
        versions: MetadataVersions,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let path = self.path.clone();
        let e = sqlite(&path);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&e)?;
        let applied: Option<i64> = tx
            .query_row("SELECT version FROM publication WHERE id = 1", [], |r| r.get(0))
            .optional()
            .map_err(&e)?;
        let applied = applied.map(|v| v as u64);
        if let Some(applied) = applied
            && update.version <= applied
        {
            return Err(StoreError::NotNewer {
                path: self.path.clone(),
                offered: update.version,
                applied,
            });
        }
        tx.execute_batch("DELETE FROM seals; DELETE FROM qualifications; DELETE FROM bodies; DELETE FROM scope;")
            .map_err(&e)?;
        {
            let mut st = tx
                .prepare("INSERT INTO seals VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
                .map_err(&e)?;
            for s in &update.seals {
                st.execute(params![
                    s.key_id.0.as_slice(),
                    s.public_key.as_bytes().as_slice(),
                    s.owner,
                    s.kind.as_str(),
                    calendar::to_day_number(s.valid_from),
                    calendar::to_day_number(s.valid_until),
                    s.retired_at.map(|t| t.as_second()),
                ])
                .map_err(&e)?;
            }
            let mut st = tx
                .prepare("INSERT INTO qualifications VALUES (?1, ?2, ?3, ?4, ?5)")
                .map_err(&e)?;
            for q in &update.catalogue.qualifications {
                st.execute(params![q.code, q.name_zh, q.name_en, q.seal_kind.as_str(), q.body])
                    .map_err(&e)?;
            }
            let mut st = tx.prepare("INSERT INTO bodies VALUES (?1, ?2, ?3)").map_err(&e)?;
            for b in &update.catalogue.bodies {
                st.execute(params![b.code, b.name_zh, b.name_en]).map_err(&e)?;
            }
            let mut st = tx.prepare("INSERT INTO scope VALUES (?1, ?2, ?3)").map_err(&e)?;
            for s in &update.catalogue.scope {
                st.execute(params![s.qualification, s.first_year, s.last_year])
                    .map_err(&e)?;
            }
        }
        let target = (applied, update.version);
        {
            let mut up = tx
                .prepare("INSERT OR REPLACE INTO revocations VALUES (?1, ?2, ?3, ?4, ?5)")
                .map_err(&e)?;
            let mut del = tx
                .prepare("DELETE FROM revocations WHERE management_number = ?1")
                .map_err(&e)?;
            apply_records(
                &tx,
                &path,
                ("revocations", target),
                &update.revocations,
                |r: &Revocation| {
                    up.execute(params![
                        r.management_number,
                        r.revoked_at.as_second(),
                        r.reason_code,
                        r.reason,
                        r.revoked_by
                    ])
                },
                |key| del.execute([key]),
            )?;
            let mut up = tx
                .prepare("INSERT OR REPLACE INTO cancellations VALUES (?1, ?2, ?3)")
                .map_err(&e)?;
            let mut del = tx
                .prepare("DELETE FROM cancellations WHERE annotation_id = ?1")
                .map_err(&e)?;
            apply_records(
                &tx,
                &path,
                ("cancellations", target),
                &update.cancellations,
                |c: &Cancellation| up.execute(params![c.annotation_id as i64, c.cancelled_at.as_second(), c.reason]),
                |key| del.execute([key.parse::<i64>().unwrap_or(-1)]),
            )?;
        }
        lookup::apply(&tx, &path, target, update.lookup.as_ref())?;
        tx.execute(
            "INSERT OR REPLACE INTO publication VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                update.version as i64,
                update.as_of.as_second(),
                versions.root as i64,
                versions.targets as i64,
                versions.snapshot as i64,
                now.as_second()
            ],
        )
        .map_err(&e)?;
        tx.execute(
            "INSERT INTO clock_floor VALUES (1, ?1)
             ON CONFLICT (id) DO UPDATE SET newest_signed_time = max(newest_signed_time, excluded.newest_signed_time)",
            params![update.as_of.as_second()],
        )
        .map_err(&e)?;
        tx.commit().map_err(&e)
    }

    /// A consistent read view: every query through it sees one publication.
    pub fn reader(&self) -> Result<Reader<'_>, StoreError> {
        let tx = self.conn.unchecked_transaction().map_err(sqlite(&self.path))?;
        Ok(Reader {
            tx,
            path: &self.path,
            points: &self.points,
        })
    }
}

/// Replace the table `table` with a full set, or apply a delta chain from the applied version
/// (`target` = (applied, offered)) and check the resulting count.
fn apply_records<T>(
    tx: &rusqlite::Transaction<'_>,
    path: &Path,
    (table, target): (&'static str, (Option<u64>, u64)),
    records: &Records<T>,
    mut upsert: impl FnMut(&T) -> rusqlite::Result<usize>,
    mut delete: impl FnMut(&str) -> rusqlite::Result<usize>,
) -> Result<(), StoreError> {
    let e = sqlite(path);
    let mismatch = |what: String| StoreError::DeltaMismatch {
        path: path.to_owned(),
        table,
        what,
    };
    match records {
        Records::Full(all) => {
            tx.execute(&format!("DELETE FROM {table}"), []).map_err(&e)?;
            for r in all {
                upsert(r).map_err(&e)?;
            }
            let count: i64 = tx
                .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
                .map_err(&e)?;
            if count as usize != all.len() {
                return Err(mismatch(format!("{} records but {count} distinct keys", all.len())));
            }
        }
        Records::Deltas(chain) => {
            let (applied, offered) = target;
            let mut at = applied.ok_or_else(|| mismatch("no publication is applied to start from".into()))?;
            for link in chain {
                if link.from != at {
                    return Err(mismatch(format!(
                        "delta from {} does not follow version {at}",
                        link.from
                    )));
                }
                for op in &link.ops {
                    match op {
                        DeltaOp::Upsert(r) => upsert(r).map_err(&e)?,
                        DeltaOp::Delete { key } => delete(key).map_err(&e)?,
                    };
                }
                at = link.to;
            }
            if at != offered {
                return Err(mismatch(format!("chain ends at {at}, not at {offered}")));
            }
            let expected = chain.last().map_or(0, |l| l.total);
            let count: i64 = tx
                .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
                .map_err(&e)?;
            if count as u64 != expected {
                return Err(mismatch(format!(
                    "{count} records after the chain, the full set has {expected}"
                )));
            }
        }
    }
    Ok(())
}

/// When the writer last read the whole file with `PRAGMA quick_check`.
const MAINTENANCE_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS maintenance (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_full_check INTEGER NOT NULL
);
";

/// How often the writer checks the whole file, the lookup index included.
pub const FULL_CHECK_EVERY: jiff::SignedDuration = jiff::SignedDuration::from_hours(24);

/// The writer's integrity check at open. Every table but the lookup index is checked at every
/// open; the whole file — 10 M lookup rows are ~580 MB, a second of reading here and more on
/// an SD card — once per [`FULL_CHECK_EVERY`], or when the last full check is unknown or in
/// the future (a clock set back). Returns the time of a full check made now, to be recorded.
/// A failed check is `SQLITE_CORRUPT`, which `Store::open` answers by starting afresh.
fn check_integrity(conn: &Connection, path: &Path) -> Result<Option<Timestamp>, StoreError> {
    let now = Timestamp::now();
    let last: Option<i64> = conn
        .query_row("SELECT last_full_check FROM maintenance WHERE id = 1", [], |r| r.get(0))
        .optional()
        .unwrap_or(None);
    let due = last
        .and_then(|t| Timestamp::from_second(t).ok())
        .is_none_or(|t| t > now || now.duration_since(t) >= FULL_CHECK_EVERY);
    let tables: Vec<Option<String>> = if due {
        vec![None]
    } else {
        let mut st = conn
            .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name != 'lookup_index'")
            .map_err(sqlite(path))?;
        st.query_map([], |r| r.get::<_, String>(0).map(Some))
            .and_then(|rows| rows.collect())
            .map_err(sqlite(path))?
    };
    for table in tables {
        let sql = match &table {
            None => "PRAGMA quick_check".to_owned(),
            Some(t) => format!("PRAGMA quick_check(\"{}\")", t.replace('"', "\"\"")),
        };
        let quick: String = conn.query_row(&sql, [], |r| r.get(0)).map_err(sqlite(path))?;
        if quick != "ok" {
            return Err(StoreError::Sqlite {
                path: path.to_owned(),
                source: rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CORRUPT),
                    Some(quick),
                ),
            });
        }
    }
    Ok(due.then_some(now))
}

fn sqlite(path: &Path) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |source| StoreError::Sqlite {
        path: path.to_owned(),
        source,
    }
}

fn is_corruption(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseCorrupt) | Some(rusqlite::ErrorCode::NotADatabase)
    )
}

/// A read transaction on the store.
#[derive(Debug)]
pub struct Reader<'s> {
    tx: rusqlite::Transaction<'s>,
    path: &'s Path,
    points: &'s KeyCache,
}

fn ts(secs: i64) -> Timestamp {
    Timestamp::from_second(secs).unwrap_or(Timestamp::UNIX_EPOCH)
}

impl Reader<'_> {
    /// A prepared statement from the connection's cache: verification runs the same few
    /// queries for every credential, so parsing them once matters (DESIGN §6 budget).
    fn cached(&self, sql: &str) -> Result<rusqlite::CachedStatement<'_>, StoreError> {
        self.tx.prepare_cached(sql).map_err(sqlite(self.path))
    }

    fn corrupt(&self, table: &'static str, what: impl Into<String>) -> StoreError {
        StoreError::CorruptRow {
            path: self.path.to_owned(),
            table,
            what: what.into(),
        }
    }

    pub fn publication(&self) -> Result<Option<PublicationInfo>, StoreError> {
        self.cached("SELECT version, as_of, root_version, targets_version, snapshot_version, applied_at FROM publication WHERE id = 1")?.query_row( [], |r| {
                Ok(PublicationInfo {
                    version: r.get::<_, i64>(0)? as u64,
                    as_of: ts(r.get(1)?),
                    root_version: r.get::<_, i64>(2)? as u64,
                    targets_version: r.get::<_, i64>(3)? as u64,
                    snapshot_version: r.get::<_, i64>(4)? as u64,
                    applied_at: ts(r.get(5)?),
                })
            })
            .optional()
            .map_err(sqlite(self.path))
    }

    /// The newest signed time the appliance has seen (DESIGN §4 `clock_suspect`).
    pub fn clock_floor(&self) -> Result<Option<Timestamp>, StoreError> {
        self.cached("SELECT newest_signed_time FROM clock_floor WHERE id = 1")?
            .query_row([], |r| r.get::<_, i64>(0))
            .optional()
            .map(|o| o.map(ts))
            .map_err(sqlite(self.path))
    }

    pub fn seal(&self, key_id: KeyId) -> Result<Option<SealKey>, StoreError> {
        let row = self
            .cached("SELECT public_key, owner, kind, valid_from, valid_until, retired_at FROM seals WHERE key_id = ?1")?
            .query_row([key_id.0.as_slice()], |r| {
                Ok((
                    r.get::<_, Vec<u8>>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, Option<i64>>(5)?,
                ))
            })
            .optional()
            .map_err(sqlite(self.path))?;
        let Some((pk, owner, kind, from, until, retired)) = row else {
            return Ok(None);
        };
        let public_key = <[u8; 32]>::try_from(pk.as_slice())
            .ok()
            .and_then(|b| self.points.get(b))
            .ok_or_else(|| self.corrupt("seals", format!("public key of {key_id}")))?;
        let kind = SealKind::parse(&kind).ok_or_else(|| self.corrupt("seals", format!("kind {kind:?}")))?;
        let day = |n| calendar::from_day_number(n).ok_or_else(|| self.corrupt("seals", format!("day {n}")));
        Ok(Some(SealKey {
            key_id,
            public_key,
            owner,
            kind,
            valid_from: day(from)?,
            valid_until: day(until)?,
            retired_at: retired.map(ts),
        }))
    }

    pub fn revocation(&self, management_number: &str) -> Result<Option<Revocation>, StoreError> {
        self.cached("SELECT revoked_at, reason_code, reason, revoked_by FROM revocations WHERE management_number = ?1")?
            .query_row([management_number], |r| {
                Ok(Revocation {
                    management_number: management_number.to_owned(),
                    revoked_at: ts(r.get(0)?),
                    reason_code: r.get(1)?,
                    reason: r.get(2)?,
                    revoked_by: r.get(3)?,
                })
            })
            .optional()
            .map_err(sqlite(self.path))
    }

    pub fn cancellation(&self, annotation_id: u64) -> Result<Option<Cancellation>, StoreError> {
        self.cached("SELECT cancelled_at, reason FROM cancellations WHERE annotation_id = ?1")?
            .query_row([annotation_id as i64], |r| {
                Ok(Cancellation {
                    annotation_id,
                    cancelled_at: ts(r.get(0)?),
                    reason: r.get(1)?,
                })
            })
            .optional()
            .map_err(sqlite(self.path))
    }

    pub fn qualification(&self, code: &str) -> Result<Option<Qualification>, StoreError> {
        let row = self
            .cached("SELECT name_zh, name_en, seal_kind, body FROM qualifications WHERE code = ?1")?
            .query_row([code], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })
            .optional()
            .map_err(sqlite(self.path))?;
        let Some((name_zh, name_en, kind, body)) = row else {
            return Ok(None);
        };
        let seal_kind =
            SealKind::parse(&kind).ok_or_else(|| self.corrupt("qualifications", format!("seal kind {kind:?}")))?;
        Ok(Some(Qualification {
            code: code.to_owned(),
            name_zh,
            name_en,
            seal_kind,
            body,
        }))
    }

    pub fn body(&self, code: &str) -> Result<Option<Body>, StoreError> {
        self.cached("SELECT name_zh, name_en FROM bodies WHERE code = ?1")?
            .query_row([code], |r| {
                Ok(Body {
                    code: code.to_owned(),
                    name_zh: r.get(0)?,
                    name_en: r.get(1)?,
                })
            })
            .optional()
            .map_err(sqlite(self.path))
    }

    /// The whole verification scope (证书查询验证范围), by qualification and first year.
    pub fn scope_entries(&self) -> Result<Vec<crate::status::ScopeEntry>, StoreError> {
        let mut st =
            self.cached("SELECT qualification, first_year, last_year FROM scope ORDER BY qualification, first_year")?;
        st.query_map([], |r| {
            Ok(crate::status::ScopeEntry {
                qualification: r.get(0)?,
                first_year: r.get(1)?,
                last_year: r.get(2)?,
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(sqlite(self.path))
    }

    /// Does the data cover certificates of `qualification` approved in `year`?
    pub fn scope(&self, qualification: &str, year: i16) -> Result<Scope, StoreError> {
        let mut st = self
            .tx
            .prepare_cached("SELECT first_year, last_year FROM scope WHERE qualification = ?1")
            .map_err(sqlite(self.path))?;
        let ranges: Vec<(i16, i16)> = st
            .query_map([qualification], |r| Ok((r.get(0)?, r.get(1)?)))
            .and_then(|rows| rows.collect())
            .map_err(sqlite(self.path))?;
        if ranges.is_empty() {
            return Ok(Scope::NotCovered);
        }
        if ranges.iter().any(|&(a, b)| (a..=b).contains(&year)) {
            return Ok(Scope::Covered);
        }
        let first_year = ranges.iter().map(|r| r.0).min().unwrap_or(year);
        let last_year = ranges.iter().map(|r| r.1).max().unwrap_or(year);
        Ok(Scope::OtherYears { first_year, last_year })
    }

    /// The lookup index's row for `management_number`, if it holds one.
    pub fn lookup_row(&self, management_number: &str) -> Result<Option<LookupEntry>, StoreError> {
        let mut st = self.cached(
            "SELECT qualification, level, status, approved_on, ecert_issued_on, salt_version, digest
             FROM lookup_index WHERE management_number = ?1",
        )?;
        lookup::row_of(&mut st, management_number).map_err(|e| match e {
            rusqlite::Error::InvalidColumnType(..) | rusqlite::Error::IntegralValueOutOfRange(..) => {
                self.corrupt("lookup_index", format!("row of {management_number}: {e}"))
            }
            e => StoreError::Sqlite {
                path: self.path.to_owned(),
                source: e,
            },
        })
    }

    /// The salt of publication `version`, for the lookup index's digests (a row whose salt is
    /// missing is a corrupt row).
    pub fn lookup_salt(&self, version: u64) -> Result<Salt, StoreError> {
        lookup::salt(&self.tx, version)
            .map_err(sqlite(self.path))?
            .ok_or_else(|| self.corrupt("lookup_salts", format!("no salt of version {version}")))
    }

    /// The lookup index as a whole: none when the data carries no index.
    pub fn lookup_meta(&self) -> Result<Option<LookupMeta>, StoreError> {
        lookup::read_meta(&self.tx, self.path)
    }

    /// A digest of everything the store holds about certificates, for tests and for
    /// `certd status`: equal digests mean equal content. The lookup index enters through its
    /// meta row, whose set sum stands for its rows: reading 10 M rows would take seconds.
    pub fn content_digest(&self) -> Result<String, StoreError> {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for (table, order) in [
            ("publication", "id"),
            ("seals", "key_id"),
            ("revocations", "management_number"),
            ("cancellations", "annotation_id"),
            ("qualifications", "code"),
            ("bodies", "code"),
            ("scope", "qualification, first_year, last_year"),
            // Not lookup_salts: a full file lists the salts in use, deltas only add salts. The
            // salt versions are in the rows' set sum.
            ("lookup_meta", "id"),
        ] {
            let sql = if table == "publication" {
                "SELECT version, as_of, targets_version FROM publication ORDER BY id".to_owned()
            } else if table == "lookup_meta" {
                // Not `version`: a full file and a delta chain reach the same rows.
                "SELECT rows, rounds, qualifications, set_sum FROM lookup_meta".to_owned()
            } else {
                format!("SELECT * FROM {table} ORDER BY {order}")
            };
            let mut st = self.tx.prepare(&sql).map_err(sqlite(self.path))?;
            let n = st.column_count();
            let mut rows = st.query([]).map_err(sqlite(self.path))?;
            h.update(table.as_bytes());
            while let Some(row) = rows.next().map_err(sqlite(self.path))? {
                for i in 0..n {
                    let v: rusqlite::types::Value = row.get(i).map_err(sqlite(self.path))?;
                    h.update(format!("{v:?}\u{1f}").as_bytes());
                }
                h.update(b"\x1e");
            }
        }
        Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
    }
}

#[cfg(test)]
mod tests;
