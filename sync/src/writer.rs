//! The store's writer: certd alone creates, migrates, repairs and writes the appliance's
//! SQLite store (docs/design.md §2, §7). The read side is `certkiosk-store`.
//!
//! One initializer ([`Writer::open`]) sets the pragmas, creates or migrates the schema inside one
//! IMMEDIATE transaction, refuses a newer schema, and deletes a corrupt file and starts empty
//! (the store is a derived cache: the data is re-synced). A publication is applied in one
//! transaction ([`Writer::apply_update`]); readers see either the old or the new publication,
//! never a mix (WAL snapshot isolation).

use certkiosk_formats::calendar;
use certkiosk_formats::status::{Cancellation, Dataset, DeltaOp, Records, Revocation, StatusFileError, Update};
use certkiosk_store::{Reader, SCHEMA_VERSION, Store, StoreError, sqlite};
use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::path::{Path, PathBuf};

mod lookup;

/// Why a publication was not applied: what a reader can meet too ([`StoreError`]), or what
/// only writing meets. The store is unchanged in every case.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A delta chain that does not fit what the store holds: fetch the full files.
    #[error("store {path}: {table} do not fit: {what}")]
    DeltaMismatch {
        path: PathBuf,
        table: &'static str,
        what: String,
    },
    #[error("store {path}: {cause}")]
    TargetFile { path: PathBuf, cause: StatusFileError },
    #[error("store {path}: publication {offered} is not newer than the applied {applied}")]
    NotNewer { path: PathBuf, offered: u64, applied: u64 },
}

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetadataVersions {
    pub root: u64,
    pub targets: u64,
    pub snapshot: u64,
}

/// The store opened for writing.
#[derive(Debug)]
pub struct Writer {
    store: Store,
}

impl Writer {
    /// Open (create, migrate, or — when corrupt — delete and recreate) the store at `path`.
    pub fn open(path: &Path) -> Result<Writer, WriteError> {
        match Writer::open_rw(path) {
            Err(WriteError::Store(StoreError::Sqlite { cause: source, .. })) if is_corruption(&source) => {
                // A derived cache: a corrupt file is deleted and re-synced.
                for suffix in ["", "-wal", "-shm"] {
                    let p = PathBuf::from(format!("{}{suffix}", path.display()));
                    let _ = std::fs::remove_file(p);
                }
                Writer::open_rw(path)
            }
            other => other,
        }
    }

    fn open_rw(path: &Path) -> Result<Writer, WriteError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Sqlite {
                path: path.to_owned(),
                cause: rusqlite::Error::ToSqlConversionFailure(Box::new(e)),
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
            }
            .into());
        }
        if found == 0 {
            tx.execute_batch(SCHEMA_V1).map_err(sqlite(path))?;
        }
        if found < 2 {
            tx.execute_batch(lookup::SCHEMA).map_err(sqlite(path))?;
            tx.execute_batch(MAINTENANCE_SCHEMA).map_err(sqlite(path))?;
        }
        if found < 3 {
            // Seals gained their scope and compromise date. A store of an older schema holds
            // seals without them: its publication is forgotten, so the next sync applies the
            // whole of the current one (until then, nothing is decided on the old seals).
            tx.execute_batch(
                "ALTER TABLE seals ADD COLUMN scope TEXT NOT NULL DEFAULT '[]';
                 ALTER TABLE seals ADD COLUMN compromised_from INTEGER;
                 ALTER TABLE clock_floor ADD COLUMN observed_time INTEGER;
                 DELETE FROM publication;",
            )
            .map_err(sqlite(path))?;
        }
        if found < 4 {
            // The lookup index's digests became Argon2id over name and masked ID number: an
            // index of PBKDF2 digests is forgotten with its publication, and the next sync
            // brings the whole of the current one.
            tx.execute_batch(
                "ALTER TABLE lookup_meta RENAME COLUMN rounds TO passes;
                 ALTER TABLE lookup_meta ADD COLUMN memory_kib INTEGER NOT NULL DEFAULT 0;
                 DELETE FROM lookup_index; DELETE FROM lookup_salts; DELETE FROM lookup_meta;
                 DELETE FROM publication;",
            )
            .map_err(sqlite(path))?;
        }
        if let Some(at) = full_check {
            tx.execute("INSERT OR REPLACE INTO maintenance VALUES (1, ?1)", [at.as_second()])
                .map_err(sqlite(path))?;
        }
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(sqlite(path))?;
        tx.commit().map_err(sqlite(path))?;
        Ok(Writer {
            store: Store::over(conn, path.to_owned()),
        })
    }

    pub fn path(&self) -> &Path {
        self.store.path()
    }

    /// A consistent read view of what the writer holds.
    pub fn reader(&self) -> Result<Reader<'_>, StoreError> {
        self.store.reader()
    }

    /// Replace the held publication with `dataset`, in one transaction. A publication that is
    /// not newer than the applied one is refused (the caller treats equal as "nothing new").
    pub fn apply(&mut self, dataset: &Dataset, versions: MetadataVersions, now: Timestamp) -> Result<(), WriteError> {
        self.apply_update(&Update::from(dataset.clone()), versions, now)
    }

    /// Apply a publication as a sync delivers it — whole record sets, or delta chains from
    /// the applied version — in one transaction. A chain that does not start at the applied
    /// version, or does not reproduce the full set's record count, is refused
    /// ([`WriteError::DeltaMismatch`]) and changes nothing; the caller then fetches the full files.
    pub fn apply_update(
        &mut self,
        update: &Update,
        versions: MetadataVersions,
        now: Timestamp,
    ) -> Result<(), WriteError> {
        let path = self.store.path().to_owned();
        let e = sqlite(&path);
        let tx = self
            .store
            .connection_mut()
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
            return Err(WriteError::NotNewer {
                path: path.clone(),
                offered: update.version,
                applied,
            });
        }
        tx.execute_batch("DELETE FROM seals; DELETE FROM qualifications; DELETE FROM bodies; DELETE FROM scope;")
            .map_err(&e)?;
        {
            let mut st = tx
                .prepare("INSERT INTO seals VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")
                .map_err(&e)?;
            for s in &update.seals {
                let scope = serde_json::to_string(&s.scope)
                    .map_err(|e| sqlite(&path)(rusqlite::Error::ToSqlConversionFailure(Box::new(e))))?;
                st.execute(params![
                    s.key_id.0.as_slice(),
                    s.public_key.as_bytes().as_slice(),
                    s.owner,
                    s.kind.as_str(),
                    calendar::to_day_number(s.valid_from),
                    calendar::to_day_number(s.valid_until),
                    s.retired_at.map(|t| t.as_second()),
                    scope,
                    s.compromised_from.map(|t| t.as_second()),
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
            "INSERT INTO clock_floor (id, newest_signed_time) VALUES (1, ?1)
             ON CONFLICT (id) DO UPDATE SET newest_signed_time = max(newest_signed_time, excluded.newest_signed_time)",
            params![update.as_of.as_second()],
        )
        .map_err(&e)?;
        Ok(tx.commit().map_err(&e)?)
    }
}

/// Raises the store's clock floor to `now`, the system clock as certd observes it, so that a
/// clock later set back cannot make time run backwards for verification (docs/design.md §4).
/// Only a time within `bound` of the newest signed time is kept: a clock wrongly set far
/// ahead must not become a floor the appliance can never get below, and beyond the data's
/// maximum age nothing is decided as valid anyway. Whether the floor moved. Light: one
/// UPDATE on its own connection, waiting at most `busy` for a sync's transaction.
pub fn observe_clock(
    path: &Path,
    now: Timestamp,
    bound: jiff::SignedDuration,
    busy: std::time::Duration,
) -> Result<bool, StoreError> {
    let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE).map_err(sqlite(path))?;
    conn.busy_timeout(busy).map_err(sqlite(path))?;
    let changed = conn
        .execute(
            "UPDATE clock_floor SET observed_time = ?1
             WHERE ?1 > max(newest_signed_time, coalesce(observed_time, 0)) AND ?1 <= newest_signed_time + ?2",
            params![now.as_second(), bound.as_secs()],
        )
        .map_err(sqlite(path))?;
    Ok(changed > 0)
}

/// (`target` = (applied, offered)) and check the resulting count.
fn apply_records<T>(
    tx: &rusqlite::Transaction<'_>,
    path: &Path,
    (table, target): (&'static str, (Option<u64>, u64)),
    records: &Records<T>,
    mut upsert: impl FnMut(&T) -> rusqlite::Result<usize>,
    mut delete: impl FnMut(&str) -> rusqlite::Result<usize>,
) -> Result<(), WriteError> {
    let e = sqlite(path);
    let mismatch = |what: String| WriteError::DeltaMismatch {
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
/// A failed check is `SQLITE_CORRUPT`, which `Writer::open` answers by starting afresh.
fn check_integrity(conn: &Connection, path: &Path) -> Result<Option<Timestamp>, WriteError> {
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
                cause: rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CORRUPT),
                    Some(quick),
                ),
            }
            .into());
        }
    }
    Ok(due.then_some(now))
}

fn is_corruption(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseCorrupt) | Some(rusqlite::ErrorCode::NotADatabase)
    )
}

#[cfg(test)]
mod tests;
