//! The lookup index as the store holds it: one primary-key probe per lookup, and the meta row
//! (row count and set sum) that stands for the whole index.

use crate::{StoreError, sqlite};
use certkiosk_formats::calendar;
use certkiosk_formats::lookup::{HolderDigest, Kdf, LookupEntry, LookupStatus, Salt, SetSum};
use rusqlite::OptionalExtension;
use std::path::Path;

/// What the store knows about its lookup index as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupMeta {
    /// The publication that last wrote it.
    pub version: u64,
    pub rows: u64,
    /// The cost its digests were made with.
    pub kdf: Kdf,
    /// The qualifications whose certificates it holds.
    pub qualifications: Vec<String>,
    pub set_sum: SetSum,
}

/// The lookup index's meta row: none when the store holds no index.
pub fn read_meta(conn: &rusqlite::Connection, path: &Path) -> Result<Option<LookupMeta>, StoreError> {
    let row = conn
        .prepare_cached(
            "SELECT version, rows, memory_kib, passes, qualifications, set_sum FROM lookup_meta WHERE id = 1",
        )
        .and_then(|mut st| {
            st.query_row([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    (r.get::<_, u32>(2)?, r.get::<_, u32>(3)?),
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                ))
            })
            .optional()
        })
        .map_err(sqlite(path))?;
    let Some((version, rows, (memory_kib, passes), qualifications, sum)) = row else {
        return Ok(None);
    };
    let corrupt = |what: &str| StoreError::CorruptRow {
        path: path.to_owned(),
        table: "lookup_meta",
        what: what.to_owned(),
    };
    Ok(Some(LookupMeta {
        version: version as u64,
        rows: rows as u64,
        kdf: Kdf { memory_kib, passes },
        qualifications: serde_json::from_str(&qualifications).map_err(|_| corrupt("qualifications"))?,
        set_sum: SetSum::from_hex(&sum).ok_or_else(|| corrupt("set sum"))?,
    }))
}

/// The row of `number`, through a prepared `SELECT qualification, level, status, approved_on,
/// ecert_issued_on, salt_version, digest … WHERE management_number = ?1`.
pub fn row_of(select: &mut rusqlite::CachedStatement<'_>, number: &str) -> rusqlite::Result<Option<LookupEntry>> {
    select
        .query_row([number], |r| {
            let status: String = r.get(2)?;
            let day = |i: usize| -> rusqlite::Result<jiff::civil::Date> {
                let n: i64 = r.get(i)?;
                calendar::from_day_number(n).ok_or(rusqlite::Error::IntegralValueOutOfRange(i, n))
            };
            let digest: Vec<u8> = r.get(6)?;
            Ok(LookupEntry {
                management_number: number.to_owned(),
                qualification: r.get(0)?,
                level: r.get(1)?,
                status: LookupStatus::parse(&status).ok_or_else(|| {
                    rusqlite::Error::InvalidColumnType(2, status.clone(), rusqlite::types::Type::Text)
                })?,
                approved_on: day(3)?,
                ecert_issued_on: day(4)?,
                salt_version: r.get::<_, i64>(5)? as u64,
                digest: HolderDigest(
                    <[u8; certkiosk_formats::lookup::DIGEST_BYTES]>::try_from(digest.as_slice()).map_err(|_| {
                        rusqlite::Error::InvalidColumnType(6, "digest".into(), rusqlite::types::Type::Blob)
                    })?,
                ),
            })
        })
        .optional()
}

/// The salt of publication `version`.
pub fn salt_of(conn: &rusqlite::Connection, version: u64) -> rusqlite::Result<Option<Salt>> {
    conn.prepare_cached("SELECT salt FROM lookup_salts WHERE version = ?1")?
        .query_row([version as i64], |r| r.get::<_, Vec<u8>>(0))
        .optional()
        .map(|o| {
            o.and_then(|b| {
                <[u8; certkiosk_formats::lookup::SALT_BYTES]>::try_from(b.as_slice())
                    .ok()
                    .map(Salt)
            })
        })
}
