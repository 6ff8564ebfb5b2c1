//! The admin PIN's guard: wrong PINs lock the PIN pad, for longer with each one, and the lockout
//! outlives a restart of the kiosk (docs/decisions/0019-admin-pin.md).
//!
//! [`Attempts`] is the rule, pure, on a time given to it: three wrong PINs in a row lock the pad
//! for 30 s, each further one doubles the lockout, up to an hour; a right PIN forgets them all.
//! [`Guard`] keeps it in a small file of the kiosk's state directory, written atomically after
//! every change and read at start. A file that cannot be read or understood counts as the
//! longest lockout: fail safe, not open.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Wrong PINs in a row that cost nothing but the message.
pub const FREE_TRIES: u32 = 2;
/// The lockout after the third wrong PIN in a row.
pub const FIRST_LOCKOUT: SignedDuration = SignedDuration::from_secs(30);
/// No lockout is longer.
pub const MAX_LOCKOUT: SignedDuration = SignedDuration::from_hours(1);
/// The file in the kiosk's state directory (`[kiosk] state_dir`).
pub const FILE_NAME: &str = "pin-attempts.json";

/// How long the pad locks after `failures` wrong PINs in a row: not at all for the first two,
/// [`FIRST_LOCKOUT`] after the third, doubling with each further one, at most [`MAX_LOCKOUT`].
pub fn lockout(failures: u32) -> Option<SignedDuration> {
    let doublings = failures.checked_sub(FREE_TRIES + 1)?;
    let secs = FIRST_LOCKOUT
        .as_secs()
        .checked_mul(1_i64.checked_shl(doublings.min(62)).unwrap_or(i64::MAX))
        .unwrap_or(i64::MAX);
    Some(SignedDuration::from_secs(secs).min(MAX_LOCKOUT))
}

/// The wrong PINs since the last right one, and the lockout they started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attempts {
    /// Wrong PINs in a row.
    pub failures: u32,
    /// No PIN is checked before this.
    pub locked_until: Option<Timestamp>,
}

impl Attempts {
    /// What a record that cannot be trusted counts as: as many wrong PINs as give the longest
    /// lockout, and that lockout from `now`.
    pub fn fail_safe(now: Timestamp) -> Attempts {
        let failures = (FREE_TRIES + 1..=u32::MAX)
            .find(|&n| lockout(n) == Some(MAX_LOCKOUT))
            .unwrap_or(u32::MAX);
        Attempts {
            failures,
            locked_until: now.checked_add(MAX_LOCKOUT).ok(),
        }
    }

    /// How much of the lockout is left at `now`; `None`: a PIN may be checked.
    ///
    /// A lockout never lasts longer than it was set for: when its end lies further ahead than
    /// that (the clock was set back, as on a Raspberry Pi without a real-time clock after a
    /// power cut), it is moved to end that long after `now`.
    pub fn locked(&mut self, now: Timestamp) -> Option<SignedDuration> {
        let until = self.locked_until?;
        let left = until.duration_since(now);
        if !left.is_positive() {
            return None;
        }
        let longest = lockout(self.failures).unwrap_or(MAX_LOCKOUT);
        if left > longest {
            self.locked_until = now.checked_add(longest).ok();
            return Some(longest);
        }
        Some(left)
    }

    /// Counts a wrong PIN typed at `now`; the lockout it starts, if any.
    pub fn wrong(&mut self, now: Timestamp) -> Option<SignedDuration> {
        self.failures = self.failures.saturating_add(1);
        let length = lockout(self.failures)?;
        self.locked_until = Some(now.checked_add(length).unwrap_or(Timestamp::MAX));
        Some(length)
    }

    /// The right PIN: the wrong ones before it are forgotten.
    pub fn right(&mut self) {
        *self = Attempts::default();
    }
}

/// The largest record of attempts read: a few numbers.
const MAX_RECORD_BYTES: u64 = 4096;

/// The record of attempts cannot be read, understood or written.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// Not a regular file within the size of a record, or not readable.
    #[error("cannot read the record of PIN attempts: {cause}")]
    Read { cause: certkiosk_open::OpenError },
    #[error("{}: not a record of PIN attempts: {cause}", path.display())]
    Corrupt { path: PathBuf, cause: serde_json::Error },
    #[error("{}: cannot write: {cause}", path.display())]
    Write { path: PathBuf, cause: std::io::Error },
}

/// The record in `path`; none yet (no file) is no attempts. Opened without blocking or
/// following a link (a FIFO, a device or a link in its place is not a record) and read to at
/// most [`MAX_RECORD_BYTES`].
pub fn read(path: &Path) -> Result<Attempts, StateError> {
    let bytes = match certkiosk_open::open_beneath(
        path.parent().unwrap_or(Path::new(".")),
        Path::new(path.file_name().unwrap_or_default()),
        MAX_RECORD_BYTES,
    )
    .and_then(certkiosk_open::Opened::read_capped)
    {
        Ok(b) => b,
        Err(e) if e.is_not_found() => return Ok(Attempts::default()),
        Err(cause) => return Err(StateError::Read { cause }),
    };
    serde_json::from_slice(&bytes).map_err(|cause| StateError::Corrupt {
        path: path.to_owned(),
        cause,
    })
}

/// Writes the record to `path` through a synced temporary file and a rename: a power cut leaves
/// the old record or the new one, never half of one. Only the kiosk's user reads it (0600).
pub fn write(path: &Path, attempts: &Attempts) -> Result<(), StateError> {
    use std::io::Write;
    let fail = |cause| StateError::Write {
        path: path.to_owned(),
        cause,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(fail)?;
    let bytes = serde_json::to_vec(attempts).map_err(|e| fail(e.into()))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".pin-attempts.")
        .tempfile_in(dir)
        .map_err(fail)?;
    tmp.write_all(&bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(fail)?;
    tmp.persist(path).map_err(|e| fail(e.error))?;
    // The rename itself reaches the disk with the directory.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// The rule with its file: every change is written before the kiosk acts on it.
#[derive(Debug)]
pub struct Guard {
    attempts: Attempts,
    file: PathBuf,
    /// Whether the record on disk is the one in memory. While it is not, no PIN is checked:
    /// a lockout that is not written would end with the next restart.
    kept: bool,
}

impl Guard {
    /// The guard of the kiosk whose state directory is `dir`, as its file left it. A file that
    /// cannot be read or understood is said in one line and counts as [`Attempts::fail_safe`].
    pub fn open(dir: &Path, now: Timestamp) -> Guard {
        let file = dir.join(FILE_NAME);
        let attempts = read(&file).unwrap_or_else(|e| {
            tracing::warn!("admin PIN locked for an hour, the longest lockout: {e}");
            Attempts::fail_safe(now)
        });
        // Written at once, so a directory the record cannot be kept in is known before the
        // first PIN.
        let kept = save(&file, &attempts);
        Guard { attempts, file, kept }
    }

    /// How much of the lockout is left at `now`; `None`: a PIN may be checked. While the
    /// record cannot be written, the pad stays locked for the longest lockout: wrong PINs not
    /// kept would start afresh with every restart.
    pub fn locked(&mut self, now: Timestamp) -> Option<SignedDuration> {
        let left = self.change(|a| a.locked(now));
        if !self.kept {
            self.kept = save(&self.file, &self.attempts);
        }
        if self.kept { left } else { Some(MAX_LOCKOUT) }
    }

    /// Counts a wrong PIN; the lockout it starts, if any.
    pub fn wrong(&mut self, now: Timestamp) -> Option<SignedDuration> {
        self.change(|a| a.wrong(now))
    }

    /// The right PIN.
    pub fn right(&mut self) {
        self.change(Attempts::right);
    }

    fn change<T>(&mut self, f: impl FnOnce(&mut Attempts) -> T) -> T {
        let before = self.attempts;
        let out = f(&mut self.attempts);
        if self.attempts != before {
            self.kept = save(&self.file, &self.attempts);
        }
        out
    }
}

/// Writes the record; whether it could, having said why not.
fn save(file: &Path, attempts: &Attempts) -> bool {
    write(file, attempts)
        .inspect_err(|e| tracing::error!("admin PIN not checked: the record of wrong PINs cannot be kept: {e}"))
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(1_790_000_000 + secs).expect("time")
    }

    #[test]
    fn three_wrong_pins_lock_the_pad_for_30_seconds() {
        let mut a = Attempts::default();
        assert_eq!(a.wrong(at(0)), None);
        assert_eq!(a.locked(at(0)), None);
        assert_eq!(a.wrong(at(1)), None);
        assert_eq!(a.locked(at(1)), None);
        assert_eq!(a.wrong(at(2)), Some(SignedDuration::from_secs(30)));
        assert_eq!(a.locked(at(2)), Some(SignedDuration::from_secs(30)));
        assert_eq!(a.locked(at(31)), Some(SignedDuration::from_secs(1)));
        assert_eq!(a.locked(at(32)), None, "over when the 30 s are");
    }

    #[test]
    fn each_further_wrong_pin_doubles_the_lockout_up_to_an_hour() {
        let mut a = Attempts::default();
        let mut now = 0;
        let mut lockouts = Vec::new();
        for _ in 0..14 {
            if let Some(left) = a.locked(at(now)) {
                now += left.as_secs();
            }
            lockouts.push(a.wrong(at(now)).map(|d| d.as_secs()));
        }
        assert_eq!(
            lockouts,
            [
                None,
                None,
                Some(30),
                Some(60),
                Some(120),
                Some(240),
                Some(480),
                Some(960),
                Some(1920),
                Some(3600),
                Some(3600),
                Some(3600),
                Some(3600),
                Some(3600)
            ]
            .to_vec()
        );
        assert_eq!(lockout(u32::MAX), Some(MAX_LOCKOUT));
        assert_eq!(lockout(70), Some(MAX_LOCKOUT));
    }

    #[test]
    fn a_right_pin_forgets_the_wrong_ones() {
        let mut a = Attempts::default();
        a.wrong(at(0));
        a.wrong(at(1));
        a.right();
        assert_eq!(a, Attempts::default());
        assert_eq!(a.wrong(at(2)), None, "two more before a lockout again");
    }

    #[test]
    fn a_clock_set_back_never_makes_a_lockout_longer_than_it_was() {
        let mut a = Attempts::default();
        for s in 0..3 {
            a.wrong(at(s));
        }
        // After a power cut the clock reads a day earlier: 30 s from then, not a day and 30 s.
        let back = at(-86_400);
        assert_eq!(a.locked(back), Some(SignedDuration::from_secs(30)));
        assert_eq!(a.locked(at(-86_400 + 30)), None);
    }

    #[test]
    fn the_record_survives_a_round_trip_through_its_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(FILE_NAME);
        assert_eq!(read(&path).expect("no file yet"), Attempts::default());
        let mut a = Attempts::default();
        for s in 0..4 {
            a.wrong(at(s));
        }
        write(&path, &a).expect("write");
        assert_eq!(read(&path).expect("read"), a);
        assert_eq!(
            std::fs::read_dir(dir.path()).expect("dir").count(),
            1,
            "no temporary file left"
        );

        // The guard writes every change, and a new one (the kiosk restarted) reads it.
        let mut g = Guard::open(dir.path(), at(10));
        assert_eq!(g.locked(at(10)), Some(SignedDuration::from_secs(53)));
        let mut again = Guard::open(dir.path(), at(20));
        assert_eq!(again.locked(at(20)), Some(SignedDuration::from_secs(43)));
        again.right();
        assert_eq!(read(&path).expect("read"), Attempts::default());
    }

    #[test]
    fn a_record_that_cannot_be_trusted_locks_for_the_longest_time() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(FILE_NAME);
        for junk in [
            &b"{\"failures\": 1"[..],
            b"",
            b"\xff\xfe",
            b"{\"failures\":0,\"extra\":1}",
        ] {
            std::fs::write(&path, junk).expect("write");
            let e = read(&path).expect_err("corrupt");
            assert!(matches!(e, StateError::Corrupt { .. }), "{e}");
            assert!(!e.to_string().contains('\n'), "{e}");
            let mut g = Guard::open(dir.path(), at(0));
            assert_eq!(g.locked(at(0)), Some(MAX_LOCKOUT), "fail safe, not open");
            assert_eq!(
                read(&path).expect("the safe record is written"),
                Attempts::fail_safe(at(0))
            );
            // When it is over, a wrong PIN locks for the longest time again; a right one resets.
            assert_eq!(g.wrong(at(3600)), Some(MAX_LOCKOUT));
            g.right();
            assert_eq!(g.locked(at(3600)), None);
        }
        // A directory where the file should be: unreadable, so locked too.
        std::fs::remove_file(&path).expect("rm");
        std::fs::create_dir(&path).expect("mkdir");
        let mut g = Guard::open(dir.path(), at(0));
        assert_eq!(g.locked(at(0)), Some(MAX_LOCKOUT));

        // A FIFO (which would block the kiosk's start) or a link to an endless device (which
        // would fill its memory): refused at once, and locked.
        std::fs::remove_dir(&path).expect("rmdir");
        let made = std::process::Command::new("mkfifo")
            .arg(&path)
            .status()
            .expect("mkfifo");
        assert!(made.success());
        assert!(matches!(read(&path), Err(StateError::Read { .. })));
        assert_eq!(Guard::open(dir.path(), at(0)).locked(at(0)), Some(MAX_LOCKOUT));
        std::fs::remove_file(&path).expect("rm fifo");
        std::os::unix::fs::symlink("/dev/zero", &path).expect("symlink");
        assert!(matches!(read(&path), Err(StateError::Read { .. })));
        assert_eq!(Guard::open(dir.path(), at(0)).locked(at(0)), Some(MAX_LOCKOUT));
    }

    #[test]
    fn a_record_that_cannot_be_written_checks_no_pin() {
        // Nothing can be created in /proc, not even by root: the record reads as "none yet",
        // and without this rule each restart would give three fresh tries.
        let mut g = Guard::open(Path::new("/proc"), at(0));
        assert_eq!(g.locked(at(0)), Some(MAX_LOCKOUT), "not checked while not kept");
        assert_eq!(g.wrong(at(0)), None, "counted in memory all the same");
        assert_eq!(g.locked(at(7200)), Some(MAX_LOCKOUT));

        // Once the record can be written again, the count it kept in memory applies.
        let dir = tempfile::tempdir().expect("tempdir");
        let mut g = Guard::open(Path::new("/proc"), at(0));
        g.wrong(at(0));
        g.file = dir.path().join(FILE_NAME);
        assert_eq!(g.locked(at(1)), None);
        assert_eq!(read(&g.file).expect("written").failures, 1);
    }
}
