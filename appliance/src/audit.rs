//! The audit log of verifications — the one part of this crate that writes files.
//!
//! Each verification is recorded minimally: when, the verdict, where the text came from, and
//! a keyed hash of the management number (never a name or an ID number; without the key the
//! hash cannot be matched against a list of numbers). Records are chained: each carries the
//! MAC of the one before and its own MAC over its fields, keyed with the appliance's audit
//! key, so an edited, inserted or deleted record is found by [`verify_log`]. The log is a
//! series of JSON-lines files of bounded size; when there are more than `keep_files`, the
//! oldest is deleted and `head.json` records where the kept chain starts, so the rest stays
//! checkable.
//!
//! Layout of the directory: `audit.key` (32 random bytes, 0600), `head.json` (oldest file,
//! the MAC the oldest kept record follows, the last sequence number and MAC), `lock`, and
//! `00000001.jsonl`, `00000002.jsonl`, ….

use certkiosk_formats::hex;
use hmac::{Hmac, Mac};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

type HmacSha256 = Hmac<Sha256>;

/// The chain's start before any record.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// How big the log may grow: `keep_files` files of up to `max_file_bytes` each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_file_bytes: u64,
    pub keep_files: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 1024 * 1024,
            keep_files: 8,
        }
    }
}

/// One verification, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub seq: u64,
    pub at: Timestamp,
    pub verdict: String,
    pub source: String,
    /// Keyed hash of the management number (hex, 128 bits); absent when none was read.
    pub number: Option<String>,
    /// The previous record's MAC.
    pub prev: String,
    /// This record's MAC over the fields above.
    pub mac: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Head {
    /// The oldest file kept.
    oldest_file: u64,
    /// The MAC the oldest kept record follows (`GENESIS` until the first rotation).
    oldest_prev: String,
    /// The file being appended to.
    current_file: u64,
    /// The last record written (0 and `GENESIS` before the first).
    last_seq: u64,
    last_mac: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("audit log {path}: {cause}")]
    Io { path: PathBuf, cause: String },
    #[error("audit log {path}: {problem}")]
    Broken { path: PathBuf, problem: String },
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> AuditError + '_ {
    move |e| AuditError::Io {
        path: path.to_owned(),
        cause: e.to_string(),
    }
}

/// An open audit log, ready to append.
#[derive(Debug)]
pub struct AuditLog {
    dir: PathBuf,
    key: [u8; 32],
    limits: Limits,
}

impl AuditLog {
    /// Opens (creating if needed) the log in `dir`, with a new random key the first time.
    pub fn open(dir: &Path, limits: Limits) -> Result<AuditLog, AuditError> {
        fs::create_dir_all(dir).map_err(io(dir))?;
        let key = load_or_make_key(&dir.join("audit.key"))?;
        Ok(AuditLog {
            dir: dir.to_owned(),
            key,
            limits,
        })
    }

    /// The keyed hash under which a management number is recorded.
    pub fn number_hash(&self, management_number: &str) -> String {
        let mut mac = keyed(&self.key);
        mac.update(b"management-number\0");
        mac.update(management_number.as_bytes());
        hex(&mac.finalize().into_bytes()[..16])
    }

    /// Appends one record; returns it.
    pub fn record(
        &self,
        at: Timestamp,
        verdict: &str,
        source: &str,
        management_number: Option<&str>,
    ) -> Result<Record, AuditError> {
        let lock_path = self.dir.join("lock");
        let lock = File::create(&lock_path).map_err(io(&lock_path))?;
        lock.lock().map_err(io(&lock_path))?;
        let head_path = self.dir.join("head.json");
        let mut head = read_head(&head_path)?.unwrap_or(Head {
            oldest_file: 1,
            oldest_prev: GENESIS.into(),
            current_file: 1,
            last_seq: 0,
            last_mac: GENESIS.into(),
        });
        let current = file_path(&self.dir, head.current_file);
        let size = fs::metadata(&current).map(|m| m.len()).unwrap_or(0);
        if size >= self.limits.max_file_bytes {
            head.current_file += 1;
            while head.current_file - head.oldest_file + 1 > u64::from(self.limits.keep_files.max(1)) {
                let oldest = file_path(&self.dir, head.oldest_file);
                head.oldest_prev = records_in(&oldest).last().map_or(head.oldest_prev, |r| r.mac);
                fs::remove_file(&oldest).map_err(io(&oldest))?;
                head.oldest_file += 1;
            }
        }
        let mut record = Record {
            seq: head.last_seq + 1,
            at,
            verdict: verdict.to_owned(),
            source: source.to_owned(),
            number: management_number.map(|n| self.number_hash(n)),
            prev: head.last_mac.clone(),
            mac: String::new(),
        };
        record.mac = record_mac(&self.key, &record);
        let path = file_path(&self.dir, head.current_file);
        let mut line = serde_json::to_vec(&record).map_err(|e| AuditError::Io {
            path: path.clone(),
            cause: e.to_string(),
        })?;
        line.push(b'\n');
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o640)
            .open(&path)
            .map_err(io(&path))?;
        file.write_all(&line).map_err(io(&path))?;
        file.sync_data().map_err(io(&path))?;
        head.last_seq = record.seq;
        head.last_mac = record.mac.clone();
        write_head(&head_path, &head)?;
        Ok(record)
    }
}

/// What [`verify_log`] found in a sound log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub records: u64,
    pub files: u64,
    /// The first and last sequence numbers kept.
    pub first_seq: Option<u64>,
    pub last_seq: u64,
}

/// Checks every kept record's MAC and the chain from `head.json` to the last record: an
/// edited, inserted, reordered or deleted record, a missing file or a cut-off end is an error
/// naming the file and line.
pub fn verify_log(dir: &Path) -> Result<Checked, AuditError> {
    let broken = |path: &Path, problem: String| AuditError::Broken {
        path: path.to_owned(),
        problem,
    };
    let key = read_key(&dir.join("audit.key"))?;
    let head_path = dir.join("head.json");
    let Some(head) = read_head(&head_path)? else {
        return Ok(Checked {
            records: 0,
            files: 0,
            first_seq: None,
            last_seq: 0,
        });
    };
    let mut expected_prev = head.oldest_prev.clone();
    let mut expected_seq: Option<u64> = None;
    let mut checked = Checked {
        records: 0,
        files: 0,
        first_seq: None,
        last_seq: 0,
    };
    for number in head.oldest_file..=head.current_file {
        let path = file_path(dir, number);
        let file = match File::open(&path) {
            Ok(f) => f,
            // The current file does not exist until its first record.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && number == head.current_file => break,
            Err(e) => return Err(broken(&path, format!("missing ({e}): records deleted"))),
        };
        checked.files += 1;
        for (index, line) in BufReader::new(file).lines().enumerate() {
            let at_line = |problem: &str| broken(&path, format!("line {}: {problem}", index + 1));
            let line = line.map_err(|e| at_line(&e.to_string()))?;
            let record: Record = serde_json::from_str(&line).map_err(|e| at_line(&format!("not a record ({e})")))?;
            if record.mac != record_mac(&key, &record) {
                return Err(at_line(&format!(
                    "record {} was altered (its MAC does not match)",
                    record.seq
                )));
            }
            if record.prev != expected_prev {
                return Err(at_line(&format!(
                    "record {} does not follow the one before it: a record was deleted, inserted or moved",
                    record.seq
                )));
            }
            if let Some(seq) = expected_seq
                && record.seq != seq
            {
                return Err(at_line(&format!("record {} where {seq} was expected", record.seq)));
            }
            checked.first_seq.get_or_insert(record.seq);
            checked.records += 1;
            checked.last_seq = record.seq;
            expected_seq = Some(record.seq + 1);
            expected_prev = record.mac;
        }
    }
    if checked.last_seq != head.last_seq || expected_prev != head.last_mac {
        return Err(broken(
            &head_path,
            format!(
                "the log ends at record {} but {} were written: records deleted at the end",
                checked.last_seq, head.last_seq
            ),
        ));
    }
    Ok(checked)
}

/// Counts of the kept records by verdict (for the metrics).
pub fn count_verdicts(dir: &Path) -> std::collections::BTreeMap<String, u64> {
    let mut counts = std::collections::BTreeMap::new();
    let Ok(Some(head)) = read_head(&dir.join("head.json")) else {
        return counts;
    };
    for number in head.oldest_file..=head.current_file {
        let Ok(file) = File::open(file_path(dir, number)) else {
            continue;
        };
        for line in BufReader::new(file).lines().map_while(Result::ok) {
            if let Ok(r) = serde_json::from_str::<Record>(&line) {
                *counts.entry(r.verdict).or_insert(0) += 1;
            }
        }
    }
    counts
}

fn file_path(dir: &Path, number: u64) -> PathBuf {
    dir.join(format!("{number:08}.jsonl"))
}

fn keyed(key: &[u8; 32]) -> HmacSha256 {
    // A 32-byte key is always accepted by HMAC.
    <HmacSha256 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key length"))
}

fn record_mac(key: &[u8; 32], r: &Record) -> String {
    let mut mac = keyed(key);
    let fields = format!(
        "certkiosk-audit-v1\n{}\n{}\n{}\n{}\n{}\n{}",
        r.seq,
        r.at,
        r.verdict,
        r.source,
        r.number.as_deref().unwrap_or(""),
        r.prev
    );
    mac.update(fields.as_bytes());
    hex(&mac.finalize().into_bytes())
}

fn read_key(path: &Path) -> Result<[u8; 32], AuditError> {
    let mut key = [0u8; 32];
    let mut file = File::open(path).map_err(io(path))?;
    file.read_exact(&mut key).map_err(|_| AuditError::Broken {
        path: path.to_owned(),
        problem: "not a 32-byte key".into(),
    })?;
    Ok(key)
}

fn load_or_make_key(path: &Path) -> Result<[u8; 32], AuditError> {
    if path.exists() {
        return read_key(path);
    }
    let key: [u8; 32] = rand::random();
    let tmp = path.with_extension("key.tmp");
    write_synced(&tmp, &key, 0o600)?;
    // Another writer may have made one meanwhile: the first rename wins, both then read it.
    if fs::hard_link(&tmp, path).is_err() && !path.exists() {
        return Err(AuditError::Io {
            path: path.to_owned(),
            cause: "cannot create the key".into(),
        });
    }
    let _ = fs::remove_file(&tmp);
    read_key(path)
}

fn read_head(path: &Path) -> Result<Option<Head>, AuditError> {
    match fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| AuditError::Broken {
                path: path.to_owned(),
                problem: format!("unreadable ({e})"),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(path)(e)),
    }
}

fn write_head(path: &Path, head: &Head) -> Result<(), AuditError> {
    let bytes = serde_json::to_vec_pretty(head).map_err(|e| AuditError::Io {
        path: path.to_owned(),
        cause: e.to_string(),
    })?;
    let tmp = path.with_extension("json.tmp");
    write_synced(&tmp, &bytes, 0o640)?;
    fs::rename(&tmp, path).map_err(io(path))
}

/// `bytes` as the whole of `path` (created with `mode`), on disk before this returns.
fn write_synced(path: &Path, bytes: &[u8], mode: u32) -> Result<(), AuditError> {
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .mode(mode)
        .open(path)
        .map_err(io(path))?;
    file.write_all(bytes).map_err(io(path))?;
    file.sync_all().map_err(io(path))
}

/// The records of one file that parse, in order (none if it cannot be opened); for counting
/// and rotation, not for checking (that is [`verify_log`]).
fn records_in(path: &Path) -> impl Iterator<Item = Record> {
    File::open(path)
        .into_iter()
        .flat_map(|file| BufReader::new(file).lines().map_while(Result::ok))
        .filter_map(|line| serde_json::from_str::<Record>(&line).ok())
}

#[cfg(test)]
mod tests;
