//! The lookup index in the store: applied by streaming (a full file of 10 M rows never sits in
//! memory), read by one primary-key probe.
//!
//! A full file is parsed on a second thread (gunzip, JSON, order and salt checks, the set sum)
//! and handed to the SQLite writer in batches through a bounded channel, so memory stays flat
//! and both cores work. `lookup_meta` keeps the row count and the [`SetSum`] up to date, so a
//! delta is checked, and the store's content digest computed, without reading every row.

use super::WriteError;
use certkiosk_formats::calendar;
use certkiosk_formats::lookup::{LookupEntry, LookupFile, LookupOp, LookupUpdate, Salt, SetSum};
use certkiosk_formats::status::StatusFileError;
use certkiosk_store::{LookupMeta, read_meta, row_of, sqlite};
use rusqlite::{Transaction, params};
use std::collections::HashSet;
use std::path::Path;

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS lookup_index (
    management_number TEXT PRIMARY KEY,
    qualification TEXT NOT NULL,
    level INTEGER NOT NULL,
    status TEXT NOT NULL,
    approved_on INTEGER NOT NULL,
    ecert_issued_on INTEGER NOT NULL,
    salt_version INTEGER NOT NULL,
    digest BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS lookup_salts (
    version INTEGER PRIMARY KEY,
    salt BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS lookup_meta (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL,
    rows INTEGER NOT NULL,
    rounds INTEGER NOT NULL,
    qualifications TEXT NOT NULL,
    set_sum TEXT NOT NULL
);
";

/// Rows handed from the parser thread to the writer at a time.
const BATCH: usize = 4096;

const INSERT: &str = "INSERT INTO lookup_index VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

fn bind_insert(st: &mut rusqlite::CachedStatement<'_>, e: &LookupEntry) -> rusqlite::Result<usize> {
    st.execute(params![
        e.management_number,
        e.qualification,
        e.level,
        e.status.as_str(),
        calendar::to_day_number(e.approved_on),
        calendar::to_day_number(e.ecert_issued_on),
        e.salt_version as i64,
        e.digest.0.as_slice(),
    ])
}

/// Apply the lookup part of a publication inside the publication's transaction. `target` is
/// (applied, offered) publication versions.
pub(super) fn apply(
    tx: &Transaction<'_>,
    path: &Path,
    target: (Option<u64>, u64),
    update: Option<&LookupUpdate>,
) -> Result<(), WriteError> {
    let e = sqlite(path);
    match update {
        None => {
            tx.execute_batch("DELETE FROM lookup_index; DELETE FROM lookup_salts; DELETE FROM lookup_meta;")
                .map_err(e)?;
            Ok(())
        }
        Some(LookupUpdate::Full(file)) => apply_full(tx, path, target.1, file),
        Some(LookupUpdate::Deltas(chain)) => apply_deltas(tx, path, target, chain),
    }
}

fn file_error(path: &Path) -> impl Fn(StatusFileError) -> WriteError + '_ {
    move |source| WriteError::TargetFile {
        path: path.to_owned(),
        cause: source,
    }
}

fn apply_full(tx: &Transaction<'_>, path: &Path, version: u64, file: &LookupFile) -> Result<(), WriteError> {
    let e = sqlite(path);
    let bad = file_error(path);
    let (params, salts) = file.params().map_err(&bad)?;
    tx.execute_batch("DELETE FROM lookup_index; DELETE FROM lookup_salts; DELETE FROM lookup_meta;")
        .map_err(&e)?;
    write_salts(tx, path, &salts)?;
    let known: HashSet<u64> = salts.iter().map(|(v, _)| *v).collect();
    let mut reader = file.reader().map_err(&bad)?;
    let (sender, batches) = std::sync::mpsc::sync_channel::<Vec<LookupEntry>>(4);
    let (rows, sum) = std::thread::scope(|scope| {
        let parser = scope.spawn(move || -> Result<(u64, SetSum), StatusFileError> {
            let mut sum = SetSum::default();
            let mut rows = 0u64;
            let mut last: Option<String> = None;
            let mut batch = Vec::with_capacity(BATCH);
            while let Some(row) = reader.next_record::<LookupEntry>()? {
                if last.as_deref().is_some_and(|l| l >= row.management_number.as_str()) {
                    return Err(reader.invalid("rows are not in strictly increasing management-number order"));
                }
                if !known.contains(&row.salt_version) {
                    return Err(reader.invalid(format!("salt version {} is not in the header", row.salt_version)));
                }
                sum.add(&row);
                rows += 1;
                last = Some(row.management_number.clone());
                batch.push(row);
                if batch.len() == BATCH
                    && sender
                        .send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)))
                        .is_err()
                {
                    // The writer stopped on an error of its own, which it reports.
                    return Ok((rows, sum));
                }
            }
            if !batch.is_empty() {
                let _ = sender.send(batch);
            }
            Ok((rows, sum))
        });
        let written = (|| -> Result<(), WriteError> {
            let mut st = tx.prepare_cached(INSERT).map_err(&e)?;
            for batch in batches {
                for row in &batch {
                    bind_insert(&mut st, row).map_err(&e)?;
                }
            }
            Ok(())
        })();
        let parsed = parser.join().unwrap_or(Err(StatusFileError::Invalid {
            kind: "lookup",
            line: 0,
            message: "the parser stopped unexpectedly".into(),
        }));
        written?;
        parsed.map_err(&bad)
    })?;
    write_meta(
        tx,
        path,
        &LookupMeta {
            version,
            rows,
            kdf: params.cost(),
            qualifications: params.qualifications.clone(),
            set_sum: sum,
        },
    )
}

fn apply_deltas(
    tx: &Transaction<'_>,
    path: &Path,
    (applied, offered): (Option<u64>, u64),
    chain: &[LookupFile],
) -> Result<(), WriteError> {
    let e = sqlite(path);
    let bad = file_error(path);
    let mismatch = |what: String| WriteError::DeltaMismatch {
        path: path.to_owned(),
        table: "lookup_index",
        what,
    };
    let mut meta =
        read_meta(tx, path)?.ok_or_else(|| mismatch("no lookup index is held to apply a delta to".into()))?;
    if Some(meta.version) != applied {
        return Err(mismatch(format!(
            "the lookup index held is of publication {}, not of the applied {applied:?}",
            meta.version
        )));
    }
    let mut select = tx
        .prepare_cached(
            "SELECT qualification, level, status, approved_on, ecert_issued_on, salt_version, digest
             FROM lookup_index WHERE management_number = ?1",
        )
        .map_err(&e)?;
    let mut insert = tx
        .prepare_cached("INSERT OR REPLACE INTO lookup_index VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")
        .map_err(&e)?;
    let mut delete = tx
        .prepare_cached("DELETE FROM lookup_index WHERE management_number = ?1")
        .map_err(&e)?;
    for link in chain {
        let h = &link.header;
        if h.from_version != Some(meta.version) {
            return Err(mismatch(format!(
                "delta from {:?} does not follow version {}",
                h.from_version, meta.version
            )));
        }
        let (params, salts) = link.params().map_err(&bad)?;
        if params.cost() != meta.kdf {
            // The rows held were digested at the cost held: a new cost needs every row anew.
            return Err(mismatch(format!(
                "delta to {} uses another digest cost ({:?}) than the index held ({:?})",
                h.version,
                params.cost(),
                meta.kdf
            )));
        }
        write_salts(tx, path, &salts)?;
        let listed: HashSet<u64> = salts.iter().map(|(v, _)| *v).collect();
        let mut reader = link.reader().map_err(&bad)?;
        while let Some(op) = reader.next_record::<LookupOp>().map_err(&bad)? {
            let old = row_of(&mut select, op.key()).map_err(&e)?;
            if let Some(old) = &old {
                meta.set_sum.remove(old);
            }
            match op {
                LookupOp::Upsert { row } => {
                    if !listed.contains(&row.salt_version) {
                        return Err(bad(
                            reader.invalid(format!("salt version {} is not in the header", row.salt_version))
                        ));
                    }
                    bind_insert(&mut insert, &row).map_err(&e)?;
                    meta.set_sum.add(&row);
                    meta.rows += u64::from(old.is_none());
                }
                LookupOp::Delete { key } => {
                    if old.is_none() {
                        return Err(mismatch(format!("a delete of {key}, which is not held")));
                    }
                    delete.execute([&key]).map_err(&e)?;
                    meta.rows = meta
                        .rows
                        .checked_sub(1)
                        .ok_or_else(|| mismatch("more rows deleted than the index held".into()))?;
                }
            }
        }
        let total = h.total.unwrap_or_default();
        if meta.rows != total {
            return Err(mismatch(format!(
                "{} rows after the delta to {}, the full index has {total}",
                meta.rows, h.version
            )));
        }
        meta.version = h.version;
        meta.kdf = params.cost();
        meta.qualifications = params.qualifications.clone();
    }
    if meta.version != offered {
        return Err(mismatch(format!("chain ends at {}, not at {offered}", meta.version)));
    }
    write_meta(tx, path, &meta)
}

fn write_salts(tx: &Transaction<'_>, path: &Path, salts: &[(u64, Salt)]) -> Result<(), WriteError> {
    let e = sqlite(path);
    let mut st = tx
        .prepare_cached("INSERT OR REPLACE INTO lookup_salts VALUES (?1, ?2)")
        .map_err(&e)?;
    for (version, salt) in salts {
        st.execute(params![*version as i64, salt.0.as_slice()]).map_err(&e)?;
    }
    Ok(())
}

fn write_meta(tx: &Transaction<'_>, path: &Path, m: &LookupMeta) -> Result<(), WriteError> {
    let qualifications = serde_json::to_string(&m.qualifications).unwrap_or_else(|_| "[]".into());
    tx.execute(
        "INSERT OR REPLACE INTO lookup_meta (id, version, rows, passes, qualifications, set_sum, memory_kib)
         VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            m.version as i64,
            m.rows as i64,
            m.kdf.passes,
            qualifications,
            m.set_sum.to_hex(),
            m.kdf.memory_kib
        ],
    )
    .map_err(sqlite(path))?;
    Ok(())
}
