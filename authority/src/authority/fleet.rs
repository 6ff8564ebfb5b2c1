//! The fleet (issue 17): the appliances enrolled to open the sealed targets (their public
//! keys, from `certd fleet-key`), and the content keys publications seal with. A new content
//! key is made when an appliance leaves the fleet, so it opens nothing published after.

use super::rows::Row;
use super::{Authority, AuthorityError, Result, sqlite_error};
use crate::publish;
use certkiosk_formats::fleet::{ContentKey, Grant, KeyId};
use jiff::Timestamp;
use rusqlite::{OptionalExtension, TransactionBehavior, params};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS fleet_members (
    public_key TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    enrolled_at INTEGER NOT NULL,
    removed_at INTEGER
);
CREATE UNIQUE INDEX IF NOT EXISTS fleet_members_name ON fleet_members(name) WHERE removed_at IS NULL;
CREATE TABLE IF NOT EXISTS fleet_keys (
    serial INTEGER PRIMARY KEY,
    key BLOB NOT NULL,
    created_at INTEGER NOT NULL
);";

/// Longest appliance name.
const MAX_NAME_CHARS: usize = 64;

/// An appliance of the fleet, as `certsync fleet` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub name: String,
    pub public_key: String,
    pub enrolled_at: Timestamp,
    pub removed_at: Option<Timestamp>,
}

impl Authority {
    /// Enroll the appliance whose fleet key (`certd fleet-key` on it) is `public_key` under
    /// `name`: the next publication grants it the content key. A key once removed stays out
    /// (make a new key on the appliance instead).
    pub fn enroll(&mut self, name: &str, public_key: &str, now: Timestamp) -> Result<()> {
        let name = name.trim();
        let bad_name = name.is_empty()
            || name.chars().count() > MAX_NAME_CHARS
            || !name.chars().all(|c| c.is_alphanumeric() || "-_.· ".contains(c));
        if bad_name {
            return Err(AuthorityError::Invalid {
                field: "appliance name",
                problem: format!("1 to {MAX_NAME_CHARS} letters, digits, spaces, '-', '_', '.' or '·'"),
            });
        }
        let key = public_key.trim().to_ascii_lowercase();
        Grant::wrap(&ContentKey::generate(), &key).map_err(|problem| AuthorityError::Invalid {
            field: "fleet key",
            problem,
        })?;
        let e = sqlite_error(&self.dir);
        let tx = self
            .db
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(e)?;
        let known: Option<(String, Option<i64>)> = tx
            .query_row(
                "SELECT name, removed_at FROM fleet_members WHERE public_key = ?1",
                [&key],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(e)?;
        if let Some((held_by, removed)) = known {
            return Err(AuthorityError::Invalid {
                field: "fleet key",
                problem: match removed {
                    Some(_) => {
                        format!("it was removed from the fleet (as {held_by:?}); make a new key on the appliance")
                    }
                    None => format!("already enrolled as {held_by:?}"),
                },
            });
        }
        let taken: bool = tx
            .query_row(
                "SELECT count(*) > 0 FROM fleet_members WHERE name = ?1 AND removed_at IS NULL",
                [name],
                |r| r.get(0),
            )
            .map_err(e)?;
        if taken {
            return Err(AuthorityError::Invalid {
                field: "appliance name",
                problem: format!("{name:?} is enrolled already (remove it first to replace its key)"),
            });
        }
        tx.execute(
            "INSERT INTO fleet_members VALUES (?1, ?2, ?3, NULL)",
            params![key, name, now.as_second()],
        )
        .map_err(e)?;
        tx.commit().map_err(e)
    }

    /// Remove the appliance `name` from the fleet (stolen, scrapped, re-keyed) and make a new
    /// content key: publications from the next on open only with the appliances still
    /// enrolled. What it already received, it keeps.
    pub fn remove_from_fleet(&mut self, name: &str, now: Timestamp) -> Result<KeyId> {
        let e = sqlite_error(&self.dir);
        let tx = self
            .db
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(e)?;
        let removed = tx
            .execute(
                "UPDATE fleet_members SET removed_at = ?2 WHERE name = ?1 AND removed_at IS NULL",
                params![name.trim(), now.as_second()],
            )
            .map_err(e)?;
        if removed == 0 {
            return Err(AuthorityError::UnknownAppliance(name.to_owned()));
        }
        let id = new_content_key(&tx, now).map_err(e)?;
        tx.commit().map_err(e)?;
        Ok(id)
    }

    /// Make a new content key for the publications from the next on (routine rotation).
    pub fn rotate_fleet_key(&mut self, now: Timestamp) -> Result<KeyId> {
        let e = sqlite_error(&self.dir);
        let tx = self
            .db
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(e)?;
        let id = new_content_key(&tx, now).map_err(e)?;
        tx.commit().map_err(e)?;
        Ok(id)
    }

    /// Every appliance ever enrolled, by name.
    pub fn fleet_members(&self) -> Result<Vec<Member>> {
        let mut st = self
            .db
            .prepare("SELECT name, public_key, enrolled_at, removed_at FROM fleet_members ORDER BY name, enrolled_at")
            .map_err(self.sqlite())?;
        let rows = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, Option<i64>>(3)?,
                ))
            })
            .map_err(self.sqlite())?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(self.sqlite())?;
        rows.into_iter()
            .map(|(name, public_key, at, removed)| {
                let row = Row {
                    table: "fleet_members",
                    key: &public_key,
                };
                let enrolled_at = row.timestamp("enrolled_at", at).map_err(|c| self.corrupt(c))?;
                let removed_at = removed
                    .map(|t| row.timestamp("removed_at", t))
                    .transpose()
                    .map_err(|c| self.corrupt(c))?;
                Ok(Member {
                    name,
                    public_key,
                    enrolled_at,
                    removed_at,
                })
            })
            .collect()
    }

    /// What a publication seals with: the newest content key (the first is made here), the
    /// earlier ones, and a grant per enrolled appliance. `publish` calls it inside its
    /// transaction; a test that signs a repository itself calls it too.
    pub fn publication_fleet(&self, now: Timestamp) -> Result<publish::Fleet> {
        let db = &self.db;
        let none: bool = db
            .query_row("SELECT count(*) = 0 FROM fleet_keys", [], |r| r.get(0))
            .map_err(self.sqlite())?;
        if none {
            new_content_key(db, now).map_err(self.sqlite())?;
        }
        let mut keys: Vec<ContentKey> = Vec::new();
        let mut st = db
            .prepare("SELECT key FROM fleet_keys ORDER BY serial DESC")
            .map_err(self.sqlite())?;
        for bytes in st.query_map([], |r| r.get::<_, Vec<u8>>(0)).map_err(self.sqlite())? {
            let bytes = bytes.map_err(self.sqlite())?;
            let key: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| {
                let row = Row {
                    table: "fleet_keys",
                    key: "key",
                };
                self.corrupt(row.corrupt("key", format!("{} bytes", b.len())))
            })?;
            keys.push(ContentKey::from_bytes(key));
        }
        let key = keys.remove(0);
        let mut grants = Vec::new();
        let mut st = db
            .prepare("SELECT public_key FROM fleet_members WHERE removed_at IS NULL ORDER BY public_key")
            .map_err(self.sqlite())?;
        for public in st.query_map([], |r| r.get::<_, String>(0)).map_err(self.sqlite())? {
            let public = public.map_err(self.sqlite())?;
            let grant = Grant::wrap(&key, &public).map_err(|_| {
                let row = Row {
                    table: "fleet_members",
                    key: &public,
                };
                self.corrupt(row.corrupt("public_key", &public))
            })?;
            grants.push(grant);
        }
        Ok(publish::Fleet {
            key,
            grants,
            earlier: keys,
        })
    }
}

fn new_content_key(db: &rusqlite::Connection, now: Timestamp) -> rusqlite::Result<KeyId> {
    let key = ContentKey::generate();
    db.execute(
        "INSERT INTO fleet_keys (key, created_at) VALUES (?1, ?2)",
        params![key.bytes().as_slice(), now.as_second()],
    )?;
    Ok(key.id())
}
