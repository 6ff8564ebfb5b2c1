//! One read transaction on the store: every query through a [`Reader`] sees one publication.

use crate::{KeyCache, LookupMeta, PublicationInfo, Scope, StoreError, read_meta, row_of, salt_of, sqlite};
use certkiosk_formats::calendar;
use certkiosk_formats::lookup::{LookupEntry, Salt};
use certkiosk_formats::status::{Body, Cancellation, Qualification, Revocation, ScopeEntry};
use certkiosk_formats::trust::{KeyId, SealKey, SealKind};
use jiff::Timestamp;
use rusqlite::OptionalExtension;
use std::path::Path;

/// A read transaction on the store.
#[derive(Debug)]
pub struct Reader<'s> {
    pub(crate) tx: rusqlite::Transaction<'s>,
    pub(crate) path: &'s Path,
    pub(crate) points: &'s KeyCache,
}

fn ts(secs: i64) -> Timestamp {
    Timestamp::from_second(secs).unwrap_or(Timestamp::UNIX_EPOCH)
}

impl Reader<'_> {
    /// A prepared statement from the connection's cache: verification runs the same few
    /// queries for every credential, so parsing them once matters (docs/design.md §6 budget).
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

    /// The clock floor (docs/design.md §4 `clock_suspect`): the newest signed time the
    /// appliance has seen, or the latest system time certd observed within its bound.
    pub fn clock_floor(&self) -> Result<Option<Timestamp>, StoreError> {
        self.cached("SELECT max(newest_signed_time, coalesce(observed_time, 0)) FROM clock_floor WHERE id = 1")?
            .query_row([], |r| r.get::<_, i64>(0))
            .optional()
            .map(|o| o.map(ts))
            .map_err(sqlite(self.path))
    }

    pub fn seal(&self, key_id: KeyId) -> Result<Option<SealKey>, StoreError> {
        let row = self
            .cached(
                "SELECT public_key, owner, kind, valid_from, valid_until, retired_at, scope, compromised_from
                 FROM seals WHERE key_id = ?1",
            )?
            .query_row([key_id.0.as_slice()], |r| {
                Ok((
                    (r.get::<_, Vec<u8>>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?),
                    (r.get::<_, i64>(3)?, r.get::<_, i64>(4)?, r.get::<_, Option<i64>>(5)?),
                    (r.get::<_, String>(6)?, r.get::<_, Option<i64>>(7)?),
                ))
            })
            .optional()
            .map_err(sqlite(self.path))?;
        let Some(((pk, owner, kind), (from, until, retired), (scope, compromised))) = row else {
            return Ok(None);
        };
        let public_key = <[u8; 32]>::try_from(pk.as_slice())
            .ok()
            .and_then(|b| self.points.get(b))
            .ok_or_else(|| self.corrupt("seals", format!("public key of {key_id}")))?;
        let kind = SealKind::parse(&kind).ok_or_else(|| self.corrupt("seals", format!("kind {kind:?}")))?;
        let day = |n| calendar::from_day_number(n).ok_or_else(|| self.corrupt("seals", format!("day {n}")));
        let scope = serde_json::from_str(&scope).map_err(|_| self.corrupt("seals", format!("scope of {key_id}")))?;
        Ok(Some(SealKey {
            key_id,
            public_key,
            owner,
            kind,
            valid_from: day(from)?,
            valid_until: day(until)?,
            retired_at: retired.map(ts),
            scope,
            compromised_from: compromised.map(ts),
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
    pub fn scope_entries(&self) -> Result<Vec<ScopeEntry>, StoreError> {
        let mut st =
            self.cached("SELECT qualification, first_year, last_year FROM scope ORDER BY qualification, first_year")?;
        st.query_map([], |r| {
            Ok(ScopeEntry {
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
        row_of(&mut st, management_number).map_err(|e| match e {
            rusqlite::Error::InvalidColumnType(..) | rusqlite::Error::IntegralValueOutOfRange(..) => {
                self.corrupt("lookup_index", format!("row of {management_number}: {e}"))
            }
            e => StoreError::Sqlite {
                path: self.path.to_owned(),
                cause: e,
            },
        })
    }

    /// The salt of publication `version`, for the lookup index's digests (a row whose salt is
    /// missing is a corrupt row).
    pub fn lookup_salt(&self, version: u64) -> Result<Salt, StoreError> {
        salt_of(&self.tx, version)
            .map_err(sqlite(self.path))?
            .ok_or_else(|| self.corrupt("lookup_salts", format!("no salt of version {version}")))
    }

    /// How many seals, revocations and annotation cancellations the store holds (the admin
    /// screen's counts; the lookup index's are in [`Reader::lookup_meta`]).
    pub fn counts(&self) -> Result<Counts, StoreError> {
        let count = |table: &str| -> Result<u64, StoreError> {
            self.cached(&format!("SELECT count(*) FROM {table}"))?
                .query_row([], |r| r.get::<_, i64>(0))
                .map(|n| u64::try_from(n).unwrap_or(0))
                .map_err(sqlite(self.path))
        };
        Ok(Counts {
            seals: count("seals")?,
            revocations: count("revocations")?,
            cancellations: count("cancellations")?,
        })
    }

    /// The lookup index as a whole: none when the data carries no index.
    pub fn lookup_meta(&self) -> Result<Option<LookupMeta>, StoreError> {
        read_meta(&self.tx, self.path)
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
                "SELECT rows, memory_kib, passes, qualifications, set_sum FROM lookup_meta".to_owned()
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
        Ok(certkiosk_formats::hex(&h.finalize()))
    }
}

/// Rows of the store by kind ([`Reader::counts`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub seals: u64,
    pub revocations: u64,
    pub cancellations: u64,
}
