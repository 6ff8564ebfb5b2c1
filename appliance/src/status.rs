//! `certd status`: what the store holds and how fresh it is.

use crate::config::Config;
use certkiosk_formats::escape::line;
use certkiosk_store::{PublicationInfo, Store, StoreError};
use certkiosk_verify::Freshness;
use jiff::Timestamp;
use serde::Deserialize;
use serde::Serialize;
use std::path::Path;

#[derive(Debug, Serialize)]
pub struct Status {
    pub store: String,
    pub publication: Option<PublicationInfo>,
    pub age_seconds: Option<i64>,
    pub freshness: Freshness,
    pub clock_floor: Option<Timestamp>,
    pub clock_suspect: bool,
    pub content_digest: String,
    /// The lookup index for manual lookup, if the data carries one.
    pub lookup: Option<LookupStatus>,
    pub sync: SyncStatus,
    /// What the store holds besides the lookup index (none before the first sync).
    pub counts: Option<StoreCounts>,
    /// `sha256:` of the pinned root file, to compare with the one the authority publishes.
    pub trusted_root: String,
    /// Whether the system clock is kept by NTP: every verdict depends on the date. Asked by
    /// `certd status` ([`ClockSync::query`], a program run); `None` where nobody asked (the
    /// kiosk's admin screen, which must not wait for it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clock_sync: Option<ClockSync>,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct StoreCounts {
    pub seals: u64,
    pub revocations: u64,
    pub cancellations: u64,
}

/// The system clock's synchronisation, as systemd-timedated reports it (`timedatectl`, which
/// asks the kernel: any NTP client counts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state", content = "why")]
pub enum ClockSync {
    Synchronized,
    NotSynchronized,
    /// Cannot be told (no systemd, no timedatectl): why, in one line.
    Unknown(String),
}

impl ClockSync {
    /// Asks `timedatectl`, waiting at most 5 s.
    pub fn query() -> ClockSync {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let out = std::process::Command::new("timedatectl")
                .args(["show", "--property=NTPSynchronized", "--value"])
                .stdin(std::process::Stdio::null())
                .output();
            let _ = tx.send(out);
        });
        match rx.recv_timeout(std::time::Duration::from_secs(5)) {
            Err(_) => ClockSync::Unknown("timedatectl did not answer within 5 s".into()),
            Ok(Err(e)) => ClockSync::Unknown(format!("cannot run timedatectl: {e}")),
            Ok(Ok(out)) => ClockSync::parse(out.status.success(), &out.stdout, &out.stderr),
        }
    }

    /// `timedatectl show --property=NTPSynchronized --value`'s answer.
    pub fn parse(success: bool, stdout: &[u8], stderr: &[u8]) -> ClockSync {
        match (success, String::from_utf8_lossy(stdout).trim()) {
            (true, "yes") => ClockSync::Synchronized,
            (true, "no") => ClockSync::NotSynchronized,
            _ => {
                let why = String::from_utf8_lossy(stderr);
                let why = why.lines().next().unwrap_or("no answer").trim();
                ClockSync::Unknown(format!("timedatectl: {}", line(why)))
            }
        }
    }
}

/// `sha256:` of `file`'s bytes.
pub fn fingerprint(file: &Path) -> String {
    use sha2::Digest;
    match std::fs::read(file) {
        Ok(bytes) => format!("sha256:{}", certkiosk_formats::hex(&sha2::Sha256::digest(&bytes))),
        Err(e) => format!("cannot read {}: {e}", file.display()),
    }
}

/// A moment in UTC and in the system's own time zone (Asia/Shanghai on an appliance in China).
pub fn both_times(t: Timestamp) -> String {
    let zone = jiff::tz::TimeZone::system();
    let local = t.to_zoned(zone.clone());
    format!(
        "{} ({} {})",
        t.strftime("%Y-%m-%d %H:%M:%S UTC"),
        local.strftime("%Y-%m-%d %H:%M:%S"),
        zone.iana_name().unwrap_or("local")
    )
}

#[derive(Debug, Serialize)]
pub struct LookupStatus {
    pub certificates: u64,
    pub qualifications: Vec<String>,
}

/// What the store holds and how the syncs went; a store not created yet (no sync has
/// succeeded) is reported as empty, with the sync record saying why.
pub fn status(config: &Config, now: Timestamp) -> Result<Status, StoreError> {
    let store = match Store::open(&config.store_path()) {
        Ok(s) => Some(s),
        Err(StoreError::Missing { .. }) => None,
        Err(e) => return Err(e),
    };
    let reader = store.as_ref().map(Store::reader).transpose()?;
    let publication = reader.as_ref().map(|r| r.publication()).transpose()?.flatten();
    let clock_floor = reader.as_ref().map(|r| r.clock_floor()).transpose()?.flatten();
    let effective_now = clock_floor.map_or(now, |f| f.max(now));
    let age = publication.as_ref().map(|p| effective_now.duration_since(p.as_of));
    let freshness = age.map_or(Freshness::Missing, |a| config.policy.grade(a));
    Ok(Status {
        store: config.store_path().display().to_string(),
        publication,
        age_seconds: age.map(|a| a.as_secs()),
        freshness,
        clock_floor,
        clock_suspect: clock_floor.is_some_and(|f| f > now),
        content_digest: reader
            .as_ref()
            .map(|r| r.content_digest())
            .transpose()?
            .unwrap_or_default(),
        lookup: reader
            .as_ref()
            .map(|r| r.lookup_meta())
            .transpose()?
            .flatten()
            .map(|m| LookupStatus {
                certificates: m.rows,
                qualifications: m.qualifications,
            }),
        sync: SyncStatus::load(&config.sync_status_path()),
        counts: reader.as_ref().map(|r| r.counts()).transpose()?.map(|c| StoreCounts {
            seals: c.seals,
            revocations: c.revocations,
            cancellations: c.cancellations,
        }),
        trusted_root: fingerprint(&config.trusted_root),
        clock_sync: None,
    })
}

pub fn to_text(s: &Status) -> String {
    let mut out = format!("store          {}\n", s.store);
    match &s.publication {
        None => out += "publication    none (run `certd sync --once`)\n",
        Some(p) => {
            out += &format!(
                "publication    {} (TUF root v{}, targets v{}, snapshot v{})\n",
                p.version, p.root_version, p.targets_version, p.snapshot_version
            );
            let hours = s.age_seconds.unwrap_or_default() / 3600;
            out += &format!(
                "as of          {} ({hours} h old, {:?})\n",
                both_times(p.as_of),
                s.freshness
            );
            out += &format!("applied at     {}\n", both_times(p.applied_at));
        }
    }
    out += &format!("trusted root   {}\n", s.trusted_root);
    out += &match &s.clock_sync {
        None => String::new(),
        Some(ClockSync::Synchronized) => "clock sync     synchronised (NTP)\n".to_owned(),
        Some(ClockSync::NotSynchronized) => {
            "clock sync     NOT synchronised: every verdict depends on the date; enable NTP (`timedatectl set-ntp true`)\n"
                .to_owned()
        }
        Some(ClockSync::Unknown(why)) => format!("clock sync     unknown ({why})\n"),
    };
    if let Some(f) = s.clock_floor {
        out += &format!(
            "clock floor    {}{}\n",
            both_times(f),
            if s.clock_suspect {
                " (system clock is earlier!)"
            } else {
                ""
            }
        );
    }
    out += &format!("content        sha256:{}\n", s.content_digest);
    if let Some(l) = &s.lookup {
        out += &format!(
            "lookup index   {} certificates of {}\n",
            l.certificates,
            l.qualifications.join(", ")
        );
    }
    if let Some(c) = &s.counts {
        out += &format!(
            "holds          {} revocations, {} cancelled annotations, {} seals\n",
            c.revocations, c.cancellations, c.seals
        );
    }
    let never = || "never".to_owned();
    out += &format!(
        "last attempt   {}\n",
        s.sync.last_attempt.map_or_else(never, both_times)
    );
    out += &format!(
        "last success   {}{}\n",
        s.sync.last_success.map_or_else(never, both_times),
        s.sync
            .last_source
            .as_deref()
            .map(|src| format!(" from {}", line(src)))
            .unwrap_or_default()
    );
    if let Some(e) = &s.sync.last_error {
        out += &format!(
            "last error     {} ({} failed in a row)\n",
            line(e),
            s.sync.consecutive_failures
        );
    }
    out
}

/// The record of sync attempts kept beside the store (certd writes it, through a temp file and a rename).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncStatus {
    pub last_attempt: Option<Timestamp>,
    pub last_success: Option<Timestamp>,
    pub last_source: Option<String>,
    /// One line: the source and the cause.
    pub last_error: Option<String>,
    pub consecutive_failures: u32,
}

impl SyncStatus {
    /// The recorded status; a missing or unreadable file reads as "never synced".
    pub fn load(path: &Path) -> SyncStatus {
        std::fs::read(path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clocks_sync_state_is_read_from_timedatectl() {
        assert_eq!(ClockSync::parse(true, b"yes\n", b""), ClockSync::Synchronized);
        assert_eq!(ClockSync::parse(true, b"no\n", b""), ClockSync::NotSynchronized);
        let not_booted = ClockSync::parse(
            false,
            b"",
            b"System has not been booted with systemd as init system (PID 1). Can't operate.\nFailed to connect to bus\n",
        );
        match not_booted {
            ClockSync::Unknown(why) => assert!(why.starts_with("timedatectl: System has not") && !why.contains('\n')),
            other => panic!("{other:?}"),
        }
        // A hostile answer stays on its line.
        match ClockSync::parse(false, b"", b"\x1b[2Jbad\rnews") {
            ClockSync::Unknown(why) => assert!(!why.contains('\x1b') && !why.contains('\r'), "{why:?}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn moments_are_shown_in_utc_and_local_time() {
        let t: Timestamp = "2026-11-25T02:00:00Z".parse().expect("time");
        assert!(
            both_times(t).starts_with("2026-11-25 02:00:00 UTC ("),
            "{}",
            both_times(t)
        );
    }
}
