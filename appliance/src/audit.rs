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
//! Layout of the directory: `audit.key`, `head.json`, `lock`, and `00000001.jsonl`,
//! `00000002.jsonl`, ….
//!
//! * `audit.key` (0600): 32 random bytes, then `\ncertkiosk-audit written N\n`, the highest
//!   sequence number written (updated after each record). Nobody without the key can read it,
//!   so nobody can put back an older copy, and a file made in its place has another key, which
//!   no record checks against (a writer that finds the key gone makes a new one and notes it).
//!   A key of 32 bytes alone is a log written before heads were authenticated: its head is
//!   taken as it is by the next record, which authenticates it.
//! * `head.json`: the oldest file kept, the MAC the oldest kept record follows and that
//!   record's sequence number (what rotation dropped), the file being appended to, the last
//!   sequence number and MAC, tampering the writer found (`incident`), and a MAC over all of it
//!   with the same key (`head_mac`). So the ends of the log cannot be moved without the key.
//!
//! The writer numbers a record one above the highest of the head, the last genuine record on
//! disk, the key file's count and what it has itself written, so a lost, forged or older
//! `head.json` never makes a sequence number repeat. It does not repair a log quietly: what it
//! found is kept in every later head, and [`verify_log`] reports it until the log is archived
//! (stop the writers, move the directory away) and a new one started.

use certkiosk_formats::hex;
use hmac::{Hmac, Mac};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

type HmacSha256 = Hmac<Sha256>;

/// The chain's start before any record.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What follows the key in `audit.key`, before the highest sequence number written.
const WRITTEN: &[u8] = b"\ncertkiosk-audit written ";

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
    /// The oldest kept record's sequence number: rotation dropped every one before it.
    /// Unknown in heads written before heads were authenticated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    first_seq: Option<u64>,
    /// The file being appended to.
    current_file: u64,
    /// The last record written (0 and `GENESIS` before the first).
    last_seq: u64,
    last_mac: String,
    /// Tampering the writer found before it wrote on; kept in every later head.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    incident: Option<Noted>,
    /// [`head_mac`] of the fields above (absent before heads were authenticated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mac: Option<String>,
}

impl Head {
    fn genesis() -> Head {
        Head {
            oldest_file: 1,
            oldest_prev: GENESIS.into(),
            first_seq: Some(1),
            current_file: 1,
            last_seq: 0,
            last_mac: GENESIS.into(),
            incident: None,
            mac: None,
        }
    }
}

/// Tampering the writer found, and the first record it wrote after finding it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Noted {
    seq: u64,
    what: Incident,
}

/// What the writer found wrong with the log before it wrote on (kept in `head.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Incident {
    #[error("audit.key was deleted or replaced")]
    KeyReplaced,
    #[error("head.json was deleted")]
    HeadMissing,
    #[error("head.json was not a head")]
    HeadUnreadable,
    #[error("head.json was rewritten without the key")]
    HeadForged,
    #[error("head.json ended at record {head} but the log went on to record {log}: it was replaced by an older copy")]
    HeadBehind { head: u64, log: u64 },
    #[error(
        "record {written} had been written but the log and head.json ended at record {head}: records deleted at the end and head.json replaced by an older copy"
    )]
    WentBack { head: u64, written: u64 },
    #[error("{file:08}.jsonl did not check when rotation dropped it: records deleted or altered")]
    DroppedFileBroken { file: u64 },
}

impl Incident {
    /// The incident as its head's MAC covers it.
    fn canonical(self) -> String {
        match self {
            Incident::KeyReplaced => "key_replaced".into(),
            Incident::HeadMissing => "head_missing".into(),
            Incident::HeadUnreadable => "head_unreadable".into(),
            Incident::HeadForged => "head_forged".into(),
            Incident::HeadBehind { head, log } => format!("head_behind {head} {log}"),
            Incident::WentBack { head, written } => format!("went_back {head} {written}"),
            Incident::DroppedFileBroken { file } => format!("dropped_file_broken {file}"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("audit log {path}: {cause}")]
    Io { path: PathBuf, cause: std::io::Error },
    #[error("audit log {path}: {problem}")]
    Broken { path: PathBuf, problem: Problem },
}

/// What is wrong with a log's file (the path is the error's).
#[derive(Debug, thiserror::Error)]
pub enum Problem {
    #[error("not a key file (32 bytes and the count written)")]
    NotAKey,
    #[error("not a head ({cause})")]
    HeadUnreadable { cause: serde_json::Error },
    #[error("missing while {files} log files remain: head.json was deleted")]
    HeadMissing { files: usize },
    #[error("its MAC does not match: head.json was rewritten without the key")]
    HeadForged,
    #[error("it carries no MAC but this log's heads are authenticated: head.json was rewritten without the key")]
    HeadWithoutMac,
    #[error(
        "it carries no MAC (written before heads were authenticated): the ends of the log cannot be vouched for until its next record"
    )]
    HeadUnauthenticated,
    #[error("missing: records deleted")]
    FileMissing,
    #[error("not part of the log, which head.json ends in {current:08}.jsonl: head.json was replaced by an older copy")]
    FileBeyondHead { current: u64 },
    #[error("line {line}: {cause}")]
    Unreadable { line: usize, cause: std::io::Error },
    #[error("line {line}: not a record ({cause})")]
    NotARecord { line: usize, cause: serde_json::Error },
    #[error("line {line}: record {seq} was altered (its MAC does not match)")]
    Altered { line: usize, seq: u64 },
    #[error("line {line}: record {seq} does not follow the one before it: a record was deleted, inserted or moved")]
    DoesNotFollow { line: usize, seq: u64 },
    #[error("line {line}: {}", start_cut(*.seq, *.expected))]
    StartCut {
        line: usize,
        seq: u64,
        expected: Option<u64>,
    },
    #[error("line {line}: record {seq} where {expected} was expected")]
    OutOfSequence { line: usize, seq: u64, expected: u64 },
    #[error("the log ends at record {last} but head.json says {written} were written: records deleted at the end")]
    EndCut { last: u64, written: u64 },
    #[error(
        "head.json ends at record {head} but the log goes on to record {log}: head.json was replaced by an older copy"
    )]
    HeadBehind { head: u64, log: u64 },
    #[error(
        "the log and head.json end at record {head} but record {written} was written: records deleted at the end and head.json replaced by an older copy"
    )]
    WentBack { head: u64, written: u64 },
    #[error("tampering found when record {seq} was written: {incident}")]
    Tampered { seq: u64, incident: Incident },
}

fn start_cut(seq: u64, expected: Option<u64>) -> String {
    match expected {
        Some(first) => format!(
            "the log starts at record {seq} but head.json says it starts at record {first}: records deleted at the start"
        ),
        None => format!("record {seq} is not where head.json says the log starts: records deleted at the start"),
    }
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> AuditError + '_ {
    move |cause| AuditError::Io {
        path: path.to_owned(),
        cause,
    }
}

fn broken(path: &Path, problem: Problem) -> AuditError {
    AuditError::Broken {
        path: path.to_owned(),
        problem,
    }
}

/// An open audit log, ready to append.
pub struct AuditLog {
    dir: PathBuf,
    key: [u8; 32],
    limits: Limits,
    /// The highest sequence number this writer has written: it never goes below it.
    written: AtomicU64,
    /// The key was made when the directory already held a log (whose key was deleted).
    key_lost: AtomicBool,
}

/// Never the key.
impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("dir", &self.dir)
            .field("limits", &self.limits)
            .field("written", &self.written)
            .finish_non_exhaustive()
    }
}

impl AuditLog {
    /// Opens (creating if needed) the log in `dir`, with a new random key the first time.
    pub fn open(dir: &Path, limits: Limits) -> Result<AuditLog, AuditError> {
        fs::create_dir_all(dir).map_err(io(dir))?;
        let (key, made) = load_or_make_key(&dir.join("audit.key"))?;
        let key_lost = made && (dir.join("head.json").exists() || !log_files(dir)?.is_empty());
        Ok(AuditLog {
            dir: dir.to_owned(),
            key: key.key,
            limits,
            written: AtomicU64::new(0),
            key_lost: AtomicBool::new(key_lost),
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
        // Without truncating, and without waiting for a reader should a FIFO stand there.
        let lock = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(O_NONBLOCK)
            .open(&lock_path)
            .map_err(io(&lock_path))?;
        lock.lock().map_err(io(&lock_path))?;

        let key_path = self.dir.join("audit.key");
        let on_disk = match read_key(&key_path) {
            Ok(k) if k.key == self.key => Some(k),
            Ok(_) | Err(AuditError::Broken { .. }) => None,
            Err(AuditError::Io { cause, .. }) if cause.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        let key_lost = self.key_lost.load(Ordering::SeqCst);
        let mut found = (on_disk.is_none() || key_lost).then_some(Incident::KeyReplaced);
        // A key file without the count (or none at all) is a log from before heads were
        // authenticated: its head is taken as it is, once, and authenticated from now on.
        let authenticated = on_disk.as_ref().is_none_or(|k| k.written.is_some());
        let written = on_disk.as_ref().and_then(|k| k.written).unwrap_or(0);
        let files = log_files(&self.dir)?;
        let mut head = self.position(&files, authenticated, written, &mut found)?;

        // Never backwards: above the key file's count, what this writer wrote, and (when the
        // key was lost, so no record can be checked) every number on disk.
        let mut floor = written.max(self.written.load(Ordering::SeqCst));
        if key_lost {
            floor = floor.max(highest_seq_on_disk(&self.dir, &files));
        }
        if head.last_seq < floor {
            found.get_or_insert(Incident::WentBack {
                head: head.last_seq,
                written: floor,
            });
        }
        let seq = head.last_seq.max(floor) + 1;

        let current = file_path(&self.dir, head.current_file);
        let size = fs::metadata(&current).map(|m| m.len()).unwrap_or(0);
        if size >= self.limits.max_file_bytes {
            head.current_file += 1;
        }
        while head.current_file - head.oldest_file + 1 > u64::from(self.limits.keep_files.max(1)) {
            // What the dropped file ends with is where the kept chain starts; a file that does
            // not check is noted, not carried past quietly.
            let oldest = file_path(&self.dir, head.oldest_file);
            let mut chain = Chain::new(&self.key, &head);
            let end = match chain.check_file(&oldest) {
                Ok(true) => chain.last.map(|last| (last, chain.prev.clone())),
                _ => {
                    found.get_or_insert(Incident::DroppedFileBroken { file: head.oldest_file });
                    records_in(&oldest)
                        .filter(|r| r.mac == record_mac(&self.key, r))
                        .last()
                        .map(|r| (r.seq, r.mac))
                }
            };
            if let Some((last, mac)) = end {
                head.first_seq = Some(last + 1);
                head.oldest_prev = mac;
            }
            head.oldest_file += 1;
        }
        if head.incident.is_none() {
            head.incident = found.map(|what| Noted { seq, what });
        }

        let mut record = Record {
            seq,
            at,
            verdict: verdict.to_owned(),
            source: source.to_owned(),
            number: management_number.map(|n| self.number_hash(n)),
            prev: head.last_mac.clone(),
            mac: String::new(),
        };
        record.mac = record_mac(&self.key, &record);
        let path = file_path(&self.dir, head.current_file);
        let mut line = serde_json::to_vec(&record).map_err(|e| io(&path)(e.into()))?;
        line.push(b'\n');
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o640)
            .custom_flags(O_NONBLOCK)
            .open(&path)
            .map_err(io(&path))?;
        file.write_all(&line).map_err(io(&path))?;
        file.sync_data().map_err(io(&path))?;
        head.last_seq = record.seq;
        head.last_mac = record.mac.clone();
        head.mac = Some(head_mac(&self.key, &head));
        write_head(&self.dir.join("head.json"), &head)?;
        write_key(&key_path, &self.key, record.seq)?;
        self.written.fetch_max(record.seq, Ordering::SeqCst);
        self.key_lost.store(false, Ordering::SeqCst);
        // Files rotation dropped (or a rotation cut short left behind).
        for &number in files.iter().filter(|&&n| n < head.oldest_file) {
            let old = file_path(&self.dir, number);
            match fs::remove_file(&old) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(&old)(e)),
                _ => {}
            }
        }
        Ok(record)
    }

    /// Where the log stands: `head.json` if it is this log's and up to date, else what the
    /// records on disk say, with what was wrong put in `found`.
    fn position(
        &self,
        files: &BTreeSet<u64>,
        authenticated: bool,
        written: u64,
        found: &mut Option<Incident>,
    ) -> Result<Head, AuditError> {
        let tail = last_genuine(&self.dir, &self.key, files);
        let mut absent = false;
        let trusted = match read_head(&self.dir.join("head.json")) {
            Ok(Some(h)) => match &h.mac {
                Some(mac) if *mac == head_mac(&self.key, &h) => Some(h),
                // Taken on trust once, so long as it is a head the old writer could have left.
                None if !authenticated && plausible(&h) => Some(self.upgraded(h)),
                _ => {
                    found.get_or_insert(Incident::HeadForged);
                    None
                }
            },
            // Records were written, so was a head.
            Ok(None) if written > 0 => {
                found.get_or_insert(Incident::HeadMissing);
                None
            }
            Ok(None) => {
                absent = true;
                Some(Head::genesis())
            }
            Err(AuditError::Broken { .. }) => {
                found.get_or_insert(Incident::HeadUnreadable);
                None
            }
            Err(e) => return Err(e),
        };
        let Some(mut head) = trusted else {
            return Ok(self.recovered(files, tail));
        };
        if let Some((file, t)) = tail {
            if t.seq == head.last_seq + 1
                && t.prev == head.last_mac
                && (head.current_file..=head.current_file + 1).contains(&file)
            {
                // Written, but its head did not reach the disk (a crash in between).
                head.current_file = file;
                head.last_seq = t.seq;
                head.last_mac = t.mac;
            } else if t.seq > head.last_seq {
                found.get_or_insert(if absent {
                    Incident::HeadMissing
                } else {
                    Incident::HeadBehind {
                        head: head.last_seq,
                        log: t.seq,
                    }
                });
                return Ok(self.recovered(files, Some((file, t))));
            }
            // Fewer records than the head says: records were deleted at the end. The next
            // record follows the head, so the break shows in the chain.
        }
        Ok(head)
    }

    /// A head from before heads were authenticated, with where its kept chain starts.
    fn upgraded(&self, mut head: Head) -> Head {
        if head.first_seq.is_none() {
            head.first_seq = if head.oldest_prev == GENESIS {
                Some(1)
            } else {
                records_in(&file_path(&self.dir, head.oldest_file))
                    .next()
                    .filter(|r| r.prev == head.oldest_prev && r.mac == record_mac(&self.key, r))
                    .map(|r| r.seq)
            };
        }
        head
    }

    /// The log as its files show it, when its head cannot be trusted: from the oldest file's
    /// first genuine record to the last genuine record.
    fn recovered(&self, files: &BTreeSet<u64>, tail: Option<(u64, Record)>) -> Head {
        let mut head = Head::genesis();
        head.first_seq = None;
        if let Some(&oldest) = files.first() {
            head.oldest_file = oldest;
            if let Some(first) = records_in(&file_path(&self.dir, oldest)).find(|r| r.mac == record_mac(&self.key, r)) {
                head.oldest_prev = first.prev;
                head.first_seq = Some(first.seq);
            }
            head.current_file = files.last().copied().unwrap_or(oldest);
        }
        match tail {
            Some((file, t)) => {
                head.current_file = file;
                head.last_seq = t.seq;
                head.last_mac = t.mac;
            }
            None => head.last_mac = head.oldest_prev.clone(),
        }
        head
    }
}

/// What [`verify_log`] found in a sound log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checked {
    pub records: u64,
    pub files: u64,
    /// The first and last sequence numbers kept.
    pub first_seq: Option<u64>,
    pub last_seq: u64,
}

/// Checks `head.json`'s MAC, every kept record's MAC and the chain from where the head says
/// it starts to where it says it ends: an edited, inserted, reordered or deleted record, a
/// missing file, records cut at either end, a head rewritten without the key or replaced by an
/// older copy, and tampering the writer found and wrote past are each an error of one line
/// naming the file (and line).
pub fn verify_log(dir: &Path) -> Result<Checked, AuditError> {
    // Not halfway through a record, when the writers' lock file is there to be shared.
    let lock = open_read(&dir.join("lock"), u64::MAX).ok();
    if let Some(lock) = &lock {
        let lock_path = dir.join("lock");
        lock.lock_shared().map_err(io(&lock_path))?;
    }
    let key = read_key(&dir.join("audit.key"))?;
    let head_path = dir.join("head.json");
    let files = log_files(dir)?;
    let head_missing = || broken(&head_path, Problem::HeadMissing { files: files.len() });
    let written = key.written.unwrap_or(0);
    let read = read_head(&head_path)?;
    let absent = read.is_none();
    let head = match read {
        Some(head) => {
            authenticate(&head, &key).map_err(|p| broken(&head_path, p))?;
            head
        }
        None if files.is_empty() && written == 0 => return Ok(Checked::default()),
        None if written > 0 => return Err(head_missing()),
        // Nothing written but a first record, whose head may not have reached the disk.
        None => Head::genesis(),
    };
    // What the writer found explains whatever else is wrong (a gap in the numbers after it).
    if let Some(Noted { seq, what }) = head.incident {
        return Err(broken(&head_path, Problem::Tampered { seq, incident: what }));
    }
    if let Some(&beyond) = files.iter().find(|&&n| n > head.current_file + 1) {
        return Err(if absent {
            head_missing()
        } else {
            broken(
                &file_path(dir, beyond),
                Problem::FileBeyondHead {
                    current: head.current_file,
                },
            )
        });
    }
    let last_file = files.last().copied().unwrap_or(0).max(head.current_file);
    let mut chain = Chain::new(&key.key, &head);
    let mut checked_files = 0;
    for number in head.oldest_file..=last_file {
        let path = file_path(dir, number);
        if chain.check_file(&path)? {
            checked_files += 1;
        } else if number == head.current_file && number == last_file {
            // The current file does not exist until its first record.
            break;
        } else {
            return Err(broken(&path, Problem::FileMissing));
        }
    }
    let last = chain.last.unwrap_or(0);
    match chain.after_head {
        // One record more than the head: its head did not reach the disk (a crash between).
        Some(0 | 1) => {}
        Some(_) if absent => return Err(head_missing()),
        Some(_) => {
            return Err(broken(
                &head_path,
                Problem::HeadBehind {
                    head: head.last_seq,
                    log: last,
                },
            ));
        }
        None => {
            return Err(broken(
                &head_path,
                Problem::EndCut {
                    last,
                    written: head.last_seq,
                },
            ));
        }
    }
    // The key file's count is written after the head: it is never ahead of an honest head.
    if written > head.last_seq {
        return Err(broken(
            &head_path,
            Problem::WentBack {
                head: head.last_seq,
                written,
            },
        ));
    }
    Ok(Checked {
        records: chain.records,
        files: checked_files,
        first_seq: chain.first,
        last_seq: chain.last.unwrap_or(head.last_seq),
    })
}

/// The head's MAC is this log's, or why it cannot be vouched for.
fn authenticate(head: &Head, key: &KeyFile) -> Result<(), Problem> {
    match &head.mac {
        Some(mac) if *mac == head_mac(&key.key, head) => Ok(()),
        Some(_) => Err(Problem::HeadForged),
        None if key.written.is_some() => Err(Problem::HeadWithoutMac),
        None => Err(Problem::HeadUnauthenticated),
    }
}

/// Numbers no honest writer reaches, so no arithmetic on them overflows.
fn plausible(head: &Head) -> bool {
    const LIMIT: u64 = 1 << 48;
    head.oldest_file <= head.current_file && head.current_file < LIMIT && head.last_seq < LIMIT
}

/// A walk along the chain, record by record, from where a head says it starts.
struct Chain<'k> {
    key: &'k [u8; 32],
    /// The MAC the next record must follow.
    prev: String,
    /// The sequence number the next record must carry, when known.
    next: Option<u64>,
    /// The head's last record's MAC, and how many records came after it once it was passed.
    head_mac: String,
    after_head: Option<u64>,
    records: u64,
    first: Option<u64>,
    last: Option<u64>,
}

impl<'k> Chain<'k> {
    fn new(key: &'k [u8; 32], head: &Head) -> Chain<'k> {
        Chain {
            key,
            prev: head.oldest_prev.clone(),
            next: head.first_seq,
            head_mac: head.last_mac.clone(),
            after_head: (head.oldest_prev == head.last_mac).then_some(0),
            records: 0,
            first: None,
            last: None,
        }
    }

    /// Follows the chain through `path`: false if there is no such file.
    fn check_file(&mut self, path: &Path) -> Result<bool, AuditError> {
        let file = match open_read(path, MAX_FILE_BYTES) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(io(path)(e)),
        };
        let broken = |problem| broken(path, problem);
        for (index, line) in BufReader::new(file).lines().enumerate() {
            let line_no = index + 1;
            let line = line.map_err(|cause| broken(Problem::Unreadable { line: line_no, cause }))?;
            let record: Record =
                serde_json::from_str(&line).map_err(|cause| broken(Problem::NotARecord { line: line_no, cause }))?;
            let (line, seq) = (line_no, record.seq);
            if record.mac != record_mac(self.key, &record) {
                return Err(broken(Problem::Altered { line, seq }));
            }
            if record.prev != self.prev {
                return Err(broken(if self.records == 0 {
                    Problem::StartCut {
                        line,
                        seq,
                        expected: self.next,
                    }
                } else {
                    Problem::DoesNotFollow { line, seq }
                }));
            }
            if let Some(expected) = self.next
                && seq != expected
            {
                return Err(broken(Problem::OutOfSequence { line, seq, expected }));
            }
            self.first.get_or_insert(seq);
            self.records += 1;
            self.last = Some(seq);
            self.next = Some(seq.saturating_add(1));
            self.after_head = match self.after_head {
                Some(n) => Some(n + 1),
                None => (record.mac == self.head_mac).then_some(0),
            };
            self.prev = record.mac;
        }
        Ok(true)
    }
}

/// Counts of the kept records by verdict (for the metrics).
pub fn count_verdicts(dir: &Path) -> std::collections::BTreeMap<String, u64> {
    let mut counts = std::collections::BTreeMap::new();
    let Ok(Some(head)) = read_head(&dir.join("head.json")) else {
        return counts;
    };
    for number in head.oldest_file..=head.current_file {
        let Ok(file) = open_read(&file_path(dir, number), MAX_FILE_BYTES) else {
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

/// The numbers of the log files in `dir`.
fn log_files(dir: &Path) -> Result<BTreeSet<u64>, AuditError> {
    let mut numbers = BTreeSet::new();
    for entry in fs::read_dir(dir).map_err(io(dir))? {
        let name = entry.map_err(io(dir))?.file_name();
        let Some(stem) = name.to_str().and_then(|n| n.strip_suffix(".jsonl")) else {
            continue;
        };
        if stem.len() == 8
            && stem.bytes().all(|b| b.is_ascii_digit())
            && let Ok(number) = stem.parse()
        {
            numbers.insert(number);
        }
    }
    Ok(numbers)
}

/// The last record on disk that this key made, and its file: from the newest file down.
fn last_genuine(dir: &Path, key: &[u8; 32], files: &BTreeSet<u64>) -> Option<(u64, Record)> {
    files
        .iter()
        .rev()
        .find_map(|&number| last_genuine_in(&file_path(dir, number), key).map(|r| (number, r)))
}

/// `O_NONBLOCK` (the same value on every Linux architecture): a FIFO in place of a file of the
/// log answers at once instead of blocking the verifier.
const O_NONBLOCK: i32 = 0o4000;
/// The largest log file read: far past any rotation size (`max_file_kib`).
const MAX_FILE_BYTES: u64 = 256 << 20;
/// The largest head read: a few numbers and a MAC.
const MAX_HEAD_BYTES: u64 = 64 << 10;

/// Opens a file of the log for reading through certkiosk-open: a FIFO, a device or a directory
/// put in its place is refused at once, and so is a file larger than `max`.
fn open_read(path: &Path, max: u64) -> std::io::Result<File> {
    match certkiosk_open::open(path, max) {
        Ok(opened) => Ok(opened.file),
        Err(certkiosk_open::OpenError::Io { cause, .. }) => Err(cause),
        Err(refused) => Err(std::io::Error::other(refused.to_string())),
    }
}

fn last_genuine_in(path: &Path, key: &[u8; 32]) -> Option<Record> {
    const TAIL: u64 = 8192;
    let genuine = |r: &Record| r.mac == record_mac(key, r);
    let mut file = open_read(path, MAX_FILE_BYTES).ok()?;
    let start = file.metadata().ok()?.len().saturating_sub(TAIL);
    let mut bytes = Vec::new();
    file.seek(SeekFrom::Start(start)).ok()?;
    file.take(TAIL).read_to_end(&mut bytes).ok()?;
    let text = String::from_utf8_lossy(&bytes);
    // Past the first line break, unless the read began at the start: that line may be cut.
    let whole = if start == 0 {
        &text[..]
    } else {
        text.split_once('\n').map_or("", |(_, rest)| rest)
    };
    whole
        .lines()
        .rev()
        .filter_map(|line| serde_json::from_str::<Record>(line).ok())
        .find(genuine)
        // Not in the last few kilobytes (lines appended by someone else): the whole file.
        .or_else(|| records_in(path).filter(genuine).last())
}

/// The highest sequence number any record on disk claims (checked or not), for a writer whose
/// key was lost and so can check none.
fn highest_seq_on_disk(dir: &Path, files: &BTreeSet<u64>) -> u64 {
    files
        .iter()
        .flat_map(|&n| records_in(&file_path(dir, n)))
        .map(|r| r.seq)
        // A number no log reaches would only be someone's way to exhaust the count.
        .filter(|&seq| seq < 1 << 48)
        .max()
        .unwrap_or(0)
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

/// The MAC over every field of a head but its own.
fn head_mac(key: &[u8; 32], h: &Head) -> String {
    let mut mac = keyed(key);
    let first_seq = h.first_seq.map_or(String::new(), |s| s.to_string());
    let incident = h
        .incident
        .map_or(String::new(), |n| format!("{} {}", n.seq, n.what.canonical()));
    let fields = format!(
        "certkiosk-audit-head-v1\n{}\n{}\n{first_seq}\n{}\n{}\n{}\n{incident}",
        h.oldest_file, h.oldest_prev, h.current_file, h.last_seq, h.last_mac
    );
    mac.update(fields.as_bytes());
    hex(&mac.finalize().into_bytes())
}

/// `audit.key`: the key, and the highest sequence number written (none in a key file from
/// before heads were authenticated).
struct KeyFile {
    key: [u8; 32],
    written: Option<u64>,
}

fn read_key(path: &Path) -> Result<KeyFile, AuditError> {
    let mut bytes = Vec::new();
    let file = open_read(path, 128).map_err(io(path))?;
    file.take(128).read_to_end(&mut bytes).map_err(io(path))?;
    let not_a_key = || broken(path, Problem::NotAKey);
    let (key, rest) = bytes.split_first_chunk::<32>().ok_or_else(not_a_key)?;
    let written = if rest.is_empty() {
        None
    } else {
        let count = rest
            .strip_prefix(WRITTEN)
            .and_then(|r| r.strip_suffix(b"\n"))
            .filter(|digits| !digits.is_empty() && digits.iter().all(u8::is_ascii_digit))
            .and_then(|digits| std::str::from_utf8(digits).ok()?.parse().ok());
        Some(count.ok_or_else(not_a_key)?)
    };
    Ok(KeyFile { key: *key, written })
}

/// The key file's bytes: the key and the count written.
fn write_key(path: &Path, key: &[u8; 32], written: u64) -> Result<(), AuditError> {
    let mut bytes = key.to_vec();
    bytes.extend_from_slice(WRITTEN);
    bytes.extend_from_slice(format!("{written}\n").as_bytes());
    let tmp = path.with_extension("key.new");
    write_synced(&tmp, &bytes, 0o600)?;
    fs::rename(&tmp, path).map_err(io(path))
}

/// The key in `path`, made if there is none (then also true).
fn load_or_make_key(path: &Path) -> Result<(KeyFile, bool), AuditError> {
    if path.exists() {
        return Ok((read_key(path)?, false));
    }
    let key: [u8; 32] = rand::random();
    let mut bytes = key.to_vec();
    bytes.extend_from_slice(WRITTEN);
    bytes.extend_from_slice(b"0\n");
    let tmp = path.with_extension("key.tmp");
    write_synced(&tmp, &bytes, 0o600)?;
    // Another writer may have made one meanwhile: the first link wins, both then read it.
    let linked = fs::hard_link(&tmp, path);
    let _ = fs::remove_file(&tmp);
    if let Err(cause) = linked
        && !path.exists()
    {
        return Err(io(path)(cause));
    }
    let made = read_key(path)?;
    let ours = made.key == key;
    Ok((made, ours))
}

fn read_head(path: &Path) -> Result<Option<Head>, AuditError> {
    let read = |path: &Path| -> std::io::Result<Vec<u8>> {
        let mut bytes = Vec::new();
        open_read(path, MAX_HEAD_BYTES)?.read_to_end(&mut bytes)?;
        Ok(bytes)
    };
    match read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|cause| broken(path, Problem::HeadUnreadable { cause })),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(path)(e)),
    }
}

fn write_head(path: &Path, head: &Head) -> Result<(), AuditError> {
    let bytes = serde_json::to_vec_pretty(head).map_err(|e| io(path)(e.into()))?;
    let tmp = path.with_extension("json.tmp");
    write_synced(&tmp, &bytes, 0o640)?;
    fs::rename(&tmp, path).map_err(io(path))
}

/// `bytes` as the whole of a new file `path` (created with `mode`), on disk before this
/// returns. Never into a file someone left there: it could be theirs to read, or a link.
fn write_synced(path: &Path, bytes: &[u8], mode: u32) -> Result<(), AuditError> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(path)(e)),
        _ => {}
    }
    let mut file = OpenOptions::new()
        .create_new(true)
        .write(true)
        .mode(mode)
        .open(path)
        .map_err(io(path))?;
    file.write_all(bytes).map_err(io(path))?;
    file.sync_all().map_err(io(path))
}

/// The records of one file that parse, in order (none if it cannot be opened); for counting
/// and rotation, not for checking (that is [`verify_log`]).
fn records_in(path: &Path) -> impl Iterator<Item = Record> + use<> {
    open_read(path, MAX_FILE_BYTES)
        .into_iter()
        .flat_map(|file| BufReader::new(file).lines().map_while(Result::ok))
        .filter_map(|line| serde_json::from_str::<Record>(&line).ok())
}

#[cfg(test)]
mod tests;
