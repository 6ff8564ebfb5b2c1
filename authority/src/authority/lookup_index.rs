//! The publisher's side of the lookup index ([`crate::lookup`]).
//!
//! `authority.sqlite` keeps the index as last published (`lookup_rows`, with the publication
//! that last changed each row), so publication N writes its full file from one ordered query
//! and its delta from the rows changed in N, never diffing two 10 M-row files. A row's digest
//! is computed once, with the salt of the publication that first wrote it; only new rows pay
//! the slow digest, so a daily publication stays a batch job of minutes at 10 M certificates.

use super::rows::{CorruptValue, Row};
use super::{Authority, AuthorityError, Result};
use crate::lookup::{self, HolderDigest, Kdf, LookupEntry, LookupOp, LookupParams, LookupStatus, Salt};
use crate::status::{RecordHeader, RecordWriter, TargetKind};
use certkiosk_formats::fleet::{self, ContentKey};
use jiff::Timestamp;
use rusqlite::{Connection, params};
use std::path::Path;

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS lookup_qualifications (code TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS lookup_salts (version INTEGER PRIMARY KEY, salt BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS lookup_rows (
    management_number TEXT PRIMARY KEY, qualification TEXT NOT NULL, level INTEGER NOT NULL,
    status TEXT NOT NULL, approved_on TEXT NOT NULL, ecert_issued_on TEXT NOT NULL,
    salt_version INTEGER NOT NULL, digest BLOB NOT NULL, changed_in INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS lookup_rows_by_change ON lookup_rows (changed_in);
CREATE TABLE IF NOT EXISTS lookup_deleted (management_number TEXT NOT NULL, deleted_in INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS lookup_deleted_by_publication ON lookup_deleted (deleted_in);
";

/// What publication N wrote of the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LookupPublished {
    pub rows: u64,
    /// Rows new or changed since the previous publication.
    pub changed: u64,
    pub deleted: u64,
}

/// Whether certificate or row `x` belongs in the index: its qualification opted in, and its
/// approval year within the catalogue's scope (证书查询验证范围) — the index vouches for no
/// more than the rest of the status data.
const IN_INDEX: &str = "(EXISTS (SELECT 1 FROM lookup_qualifications q WHERE q.code = x.qualification)
    AND EXISTS (SELECT 1 FROM scope s WHERE s.qualification = x.qualification
                AND CAST(substr(x.approved_on, 1, 4) AS INTEGER) BETWEEN s.first_year AND s.last_year))";

const ROW_COLUMNS: &str =
    "management_number, qualification, level, status, approved_on, ecert_issued_on, salt_version, digest";

/// A row of the columns [`ROW_COLUMNS`], in that order, read from `table`. A value that cannot be read is an
/// error naming the row: the publisher never publishes a guess.
fn row(table: &'static str, r: &rusqlite::Row<'_>) -> rusqlite::Result<LookupEntry> {
    let number: String = r.get(0)?;
    let row = Row { table, key: &number };
    let fail = |i: usize, cause: CorruptValue| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(cause))
    };
    let status: String = r.get(3)?;
    let digest: Vec<u8> = r.get(7)?;
    Ok(LookupEntry {
        qualification: r.get(1)?,
        level: r.get(2)?,
        status: LookupStatus::parse(&status).ok_or_else(|| fail(3, row.corrupt("status", &status)))?,
        approved_on: row
            .date("approved_on", &r.get::<_, String>(4)?)
            .map_err(|c| fail(4, c))?,
        ecert_issued_on: row
            .date("ecert_issued_on", &r.get::<_, String>(5)?)
            .map_err(|c| fail(5, c))?,
        salt_version: row.count("salt_version", r.get(6)?).map_err(|c| fail(6, c))?,
        digest: HolderDigest(
            <[u8; lookup::DIGEST_BYTES]>::try_from(digest.as_slice())
                .map_err(|_| fail(7, row.corrupt("digest", format!("{} bytes", digest.len()))))?,
        ),
        management_number: number,
    })
}

impl Authority {
    /// Put the certificates of `qualification` into the lookup index from the next
    /// publication on (`on`), or take them out.
    pub fn set_lookup(&mut self, qualification: &str, on: bool) -> Result<()> {
        self.qualification(qualification)?;
        let sql = if on {
            "INSERT OR IGNORE INTO lookup_qualifications VALUES (?1)"
        } else {
            "DELETE FROM lookup_qualifications WHERE code = ?1"
        };
        self.db.execute(sql, [qualification]).map_err(self.sqlite())?;
        Ok(())
    }

    /// The qualifications in the lookup index.
    pub fn lookup_qualifications(&self) -> Result<Vec<String>> {
        self.all("SELECT code FROM lookup_qualifications ORDER BY code", |r| r.get(0))
    }

    /// Bring `lookup_rows` to what publication `version` carries, inside the caller's open
    /// transaction, and write its full file and (when the previous publication had an index)
    /// its delta into `targets`. Returns `None` when no qualification is in the index and
    /// none was before. Both files are sealed to the fleet with `key`.
    pub(super) fn write_lookup_files(
        &self,
        targets: &Path,
        key: &ContentKey,
        version: u64,
        as_of: Timestamp,
    ) -> Result<Option<LookupPublished>> {
        let db = &self.db;
        let e = self.sqlite();
        let in_index: i64 = db
            .query_row(
                "SELECT (SELECT count(*) FROM lookup_qualifications) + (SELECT count(*) FROM lookup_rows)",
                [],
                |r| r.get(0),
            )
            .map_err(&e)?;
        if in_index == 0 {
            return Ok(None);
        }
        let v = version as i64;
        let salt = Salt::random();
        db.execute(
            "INSERT OR REPLACE INTO lookup_salts VALUES (?1, ?2)",
            params![v, salt.0.as_slice()],
        )
        .map_err(&e)?;
        // Rows whose qualification left the index, or whose year left the scope.
        let deleted = db
            .execute(
                &format!(
                    "INSERT INTO lookup_deleted SELECT management_number, ?1 FROM lookup_rows x WHERE NOT {IN_INDEX}"
                ),
                [v],
            )
            .map_err(&e)? as u64;
        db.execute(&format!("DELETE FROM lookup_rows AS x WHERE NOT {IN_INDEX}"), [])
            .map_err(&e)?;
        // Status changes (a revocation; a revocation withdrawn).
        let status_sql =
            "CASE WHEN EXISTS (SELECT 1 FROM revocations v WHERE v.management_number = x.management_number)
                          THEN 'revoked' ELSE 'issued' END";
        db.execute(
            &format!(
                "UPDATE lookup_rows AS l SET status = s.status, changed_in = ?1
                 FROM (SELECT x.management_number, {status_sql} AS status FROM certificates x) AS s
                 WHERE s.management_number = l.management_number AND s.status != l.status"
            ),
            [v],
        )
        .map_err(&e)?;
        // New certificates: the only rows that pay the slow digest.
        let fresh: Vec<(LookupEntry, String, String)> = {
            // The columns of ROW_COLUMNS (the digest a placeholder until computed), then the
            // name and the masked ID number.
            let mut st = db
                .prepare(&format!(
                    "SELECT x.management_number, x.qualification, x.level, {status_sql}, x.approved_on,
                            x.ecert_issued_on, ?1, zeroblob({}), x.holder_name, x.masked_id
                     FROM certificates x
                     WHERE {IN_INDEX} AND
                           NOT EXISTS (SELECT 1 FROM lookup_rows l WHERE l.management_number = x.management_number)",
                    lookup::DIGEST_BYTES
                ))
                .map_err(&e)?;
            st.query_map([v], |r| {
                Ok((row("certificates", r)?, r.get::<_, String>(8)?, r.get::<_, String>(9)?))
            })
            .and_then(|rows| rows.collect())
            .map_err(&e)?
        };
        {
            let mut insert = db
                .prepare("INSERT INTO lookup_rows VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")
                .map_err(&e)?;
            for (mut entry, name, masked_id) in fresh {
                entry.digest = lookup::holder_digest(Kdf::DEFAULT, &salt, &entry.management_number, &name, &masked_id);
                insert
                    .execute(params![
                        entry.management_number,
                        entry.qualification,
                        entry.level,
                        entry.status.as_str(),
                        super::date_text(entry.approved_on),
                        super::date_text(entry.ecert_issued_on),
                        v,
                        entry.digest.0.as_slice(),
                        v
                    ])
                    .map_err(&e)?;
            }
        }
        let qualifications = self.lookup_qualifications()?;
        let rows: i64 = db
            .query_row("SELECT count(*) FROM lookup_rows", [], |r| r.get(0))
            .map_err(&e)?;
        let full_salts = salts(db, "SELECT DISTINCT salt_version FROM lookup_rows").map_err(&e)?;
        let header = RecordHeader {
            lookup: Some(LookupParams::with_salts(
                Kdf::DEFAULT,
                &full_salts,
                qualifications.clone(),
            )),
            ..RecordHeader::full(TargetKind::Lookup, version, as_of, rows as u64)
        };
        let full_path = targets.join(TargetKind::Lookup.file_name(version));
        write_streamed(&full_path, key, &header, |w| {
            let mut st = db
                .prepare(&format!(
                    "SELECT {ROW_COLUMNS} FROM lookup_rows ORDER BY management_number"
                ))
                .map_err(std::io::Error::other)?;
            let mut rows = st.query([]).map_err(std::io::Error::other)?;
            while let Some(r) = rows.next().map_err(std::io::Error::other)? {
                w.write(&row("lookup_rows", r).map_err(std::io::Error::other)?)?;
            }
            Ok(())
        })?;
        let changed: i64 = db
            .query_row("SELECT count(*) FROM lookup_rows WHERE changed_in = ?1", [v], |r| {
                r.get(0)
            })
            .map_err(&e)?;
        let previous = version.saturating_sub(1);
        if previous > 0 && targets.join(TargetKind::Lookup.file_name(previous)).exists() {
            let delta_salts = salts(
                db,
                &format!("SELECT DISTINCT salt_version FROM lookup_rows WHERE changed_in = {v}"),
            )
            .map_err(&e)?;
            let header = RecordHeader {
                from_version: Some(previous),
                total: Some(rows as u64),
                lookup: Some(LookupParams::with_salts(Kdf::DEFAULT, &delta_salts, qualifications)),
                ..RecordHeader::full(TargetKind::Lookup, version, as_of, changed as u64 + deleted)
            };
            let path = targets.join(TargetKind::Lookup.delta_name(previous, version));
            write_streamed(&path, key, &header, |w| {
                let mut st = db
                    .prepare(&format!(
                        "SELECT {ROW_COLUMNS} FROM lookup_rows WHERE changed_in = ?1 ORDER BY management_number"
                    ))
                    .map_err(std::io::Error::other)?;
                let mut rows = st.query([v]).map_err(std::io::Error::other)?;
                while let Some(r) = rows.next().map_err(std::io::Error::other)? {
                    w.write(&LookupOp::Upsert {
                        row: row("lookup_rows", r).map_err(std::io::Error::other)?,
                    })?;
                }
                let mut st = db
                    .prepare(
                        "SELECT management_number FROM lookup_deleted WHERE deleted_in = ?1 ORDER BY management_number",
                    )
                    .map_err(std::io::Error::other)?;
                let mut rows = st.query([v]).map_err(std::io::Error::other)?;
                while let Some(r) = rows.next().map_err(std::io::Error::other)? {
                    w.write(&LookupOp::Delete {
                        key: r.get(0).map_err(std::io::Error::other)?,
                    })?;
                }
                Ok(())
            })?;
        }
        Ok(Some(LookupPublished {
            rows: rows as u64,
            changed: changed as u64,
            deleted,
        }))
    }
}

/// The salts of the versions `sql` selects.
fn salts(db: &Connection, sql: &str) -> rusqlite::Result<Vec<(u64, Salt)>> {
    let versions: Vec<i64> = db
        .prepare(sql)?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = Vec::with_capacity(versions.len());
    for v in versions {
        let bytes: Vec<u8> = db.query_row("SELECT salt FROM lookup_salts WHERE version = ?1", [v], |r| r.get(0))?;
        let salt = <[u8; lookup::SALT_BYTES]>::try_from(bytes.as_slice()).map_err(|_| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Blob, format!("salt of {v}").into())
        })?;
        out.push((v as u64, Salt(salt)));
    }
    Ok(out)
}

/// Write a status file sealed to the fleet with `key` through temporary files in its
/// directory and a rename, streaming its records from `fill`.
fn write_streamed(
    path: &Path,
    key: &ContentKey,
    header: &RecordHeader,
    fill: impl FnOnce(&mut RecordWriter<&mut std::fs::File>) -> std::io::Result<()>,
) -> Result<()> {
    let io = |source| AuthorityError::Io {
        path: path.to_owned(),
        cause: source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    // The clear file has no name (O_TMPFILE): a publisher killed half-way leaves nothing of
    // it in the published directory, where a mirror's copy would pick it up.
    let mut clear = tempfile::tempfile_in(dir).map_err(io)?;
    {
        let mut w = RecordWriter::new(&mut clear, header).map_err(io)?;
        fill(&mut w).map_err(io)?;
        w.finish().map_err(io)?;
    }
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    {
        use std::io::Seek;
        clear.rewind().map_err(io)?;
        let mut out = std::io::BufWriter::with_capacity(1 << 16, tmp.as_file_mut());
        fleet::seal(key, std::io::BufReader::with_capacity(1 << 16, &clear), &mut out).map_err(io)?;
    }
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::Permissions::from_mode(crate::publish::PUBLIC_FILE_MODE);
        tmp.as_file().set_permissions(mode).map_err(io)?;
    }
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}
