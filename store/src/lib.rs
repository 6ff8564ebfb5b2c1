//! The appliance's SQLite store, read side: a derived cache of signed status data
//! (docs/design.md §2). The kiosk and verification open it read-only through [`Store::open`];
//! a [`Reader`] is one read transaction, so every query through it sees one publication (WAL
//! snapshot isolation). Creating, migrating, repairing and applying publications is the
//! writer's (`certkiosk-sync`), which only certd links.

use jiff::Timestamp;
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};

/// The schema this build reads and its writer writes. Version 0 is an empty file; version 2
/// added the lookup index, version 3 the seals' scope and compromise date, version 4 the
/// lookup index's Argon2id holder digests.
pub const SCHEMA_VERSION: i64 = 4;

mod lookup;
mod reader;
pub use lookup::{LookupMeta, read_meta, row_of, salt_of};
pub use reader::{Counts, Reader};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store {path} does not exist (run `certd sync` first)")]
    Missing { path: PathBuf },
    #[error("store {path}: {cause}")]
    Sqlite { path: PathBuf, cause: rusqlite::Error },
    #[error("store {path} has schema version {found}, newer than this build's {supported}")]
    NewerSchema { path: PathBuf, found: i64, supported: i64 },
    #[error("store {path}: corrupt row in {table}: {what}")]
    CorruptRow {
        path: PathBuf,
        table: &'static str,
        what: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PublicationInfo {
    pub version: u64,
    pub as_of: Timestamp,
    pub root_version: u64,
    pub targets_version: u64,
    pub snapshot_version: u64,
    pub applied_at: Timestamp,
}

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
    /// Open the store at `path` read-only. A missing file, or one the writer has not yet
    /// brought to this build's schema, is [`StoreError::Missing`]; a newer schema is refused.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if !path.exists() {
            return Err(StoreError::Missing { path: path.to_owned() });
        }
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(sqlite(path))?;
        let store = Store::over(conn, path.to_owned());
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

    /// A store over a connection the caller opened (the writer, read-write).
    pub fn over(conn: Connection, path: PathBuf) -> Store {
        Store {
            conn,
            path,
            points: KeyCache::default(),
        }
    }

    /// The connection, for the writer's transactions.
    pub fn connection_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    fn user_version(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(sqlite(&self.path))
    }

    pub fn path(&self) -> &Path {
        &self.path
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

/// The error of a failed SQLite call on the store at `path`.
pub fn sqlite(path: &Path) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |source| StoreError::Sqlite {
        path: path.to_owned(),
        cause: source,
    }
}
