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
            out += &format!("as of          {} ({hours} h old, {:?})\n", p.as_of, s.freshness);
            out += &format!("applied at     {}\n", p.applied_at);
        }
    }
    if let Some(f) = s.clock_floor {
        out += &format!(
            "clock floor    {f}{}\n",
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
    let never = || "never".to_owned();
    out += &format!(
        "last attempt   {}\n",
        s.sync.last_attempt.map_or_else(never, |t| t.to_string())
    );
    out += &format!(
        "last success   {}{}\n",
        s.sync.last_success.map_or_else(never, |t| t.to_string()),
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
