//! One sync: fetch a repository with tough, then apply its publication to the store in one
//! transaction. certd is the store's only writer; an exclusive lock on `state/certd.lock`
//! keeps a second certd from writing at the same time.
//!
//! Sources are tried in order; when every one fails, the whole round is retried after an
//! exponential backoff with jitter, up to `sync.rounds` rounds. Every attempt's outcome is
//! recorded in `state/sync-status.json` for `certd status` and the admin screen.

use certkiosk_appliance::config::{Config, Retry};
use certkiosk_appliance::status::SyncStatus;
use certkiosk_formats::escape::{self, line};
use certkiosk_formats::repository::Source;
use certkiosk_store::{Store, StoreError};
use certkiosk_sync::clock::Clock;
use certkiosk_sync::repo::{self, Fetched, Held, RepoError, TrustState};
use certkiosk_sync::writer::{MetadataVersions, WriteError, Writer};
use jiff::Timestamp;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("no repository to sync from: configure sync.mirrors or pass --from")]
    NoSource,
    #[error("another certd holds {path}; only one may write the store")]
    Locked { path: PathBuf },
    #[error("{path}: {cause}")]
    Io { path: PathBuf, cause: std::io::Error },
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error("applying the publication was interrupted: {0}")]
    Join(tokio::task::JoinError),
}

impl SyncError {
    /// Worth another round? Local trouble (a lock, the store, the clock) is not.
    fn retryable(&self) -> bool {
        matches!(self, SyncError::Repo(e) if !matches!(e, RepoError::ClockBehind { .. } | RepoError::Io { .. } | RepoError::FleetKey { .. }))
    }
}

/// What a successful sync did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncOutcome {
    Applied {
        source: String,
        version: u64,
        as_of: Timestamp,
        /// Records received (whole sets, or the operations of the delta chain).
        revocations: usize,
        cancellations: usize,
        seals: usize,
        /// Whether the growing sets came as deltas.
        delta: bool,
    },
    /// The repository holds the publication already applied (same targets and data version).
    UpToDate { source: String, version: u64 },
}

impl std::fmt::Display for SyncOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SyncOutcome::Applied {
                source,
                version,
                as_of,
                revocations,
                cancellations,
                seals,
                delta,
            } => {
                let how = if *delta { "as deltas" } else { "in full" };
                write!(
                    f,
                    "applied publication {version} (as of {as_of}) from {source} {how}: {revocations} revocations, \
                     {cancellations} annotation cancellations, {seals} seals"
                )
            }
            SyncOutcome::UpToDate { source, version } => {
                write!(f, "up to date: publication {version} from {source} is already applied")
            }
        }
    }
}

/// Record `status` beside the store (temp file + rename; certd only).
fn save_status(status: &SyncStatus, path: &Path) {
    // A source's name or an error's words come from a stick or a server: hidden characters
    // are escaped in the file too (`escape::json`), so a reader of it sees them.
    let bytes = escape::json(status).into_bytes();
    if let Err(e) = repo::write_atomically(path, &bytes) {
        tracing::warn!(error = %e, "cannot record the sync status");
    }
}

/// Records in `state/sync-status.json` a sync that ended without `sync_once` ending it (the
/// service abandoned it at its deadline), so that `certd status` and the kiosk's admin screen
/// show it failing.
pub fn record_failure(config: &Config, at: Timestamp, error: &str) {
    let path = config.sync_status_path();
    let mut status = SyncStatus::load(&path);
    status.last_attempt = Some(at);
    status.last_error = Some(error.to_owned());
    status.consecutive_failures += 1;
    save_status(&status, &path);
}

/// Exponential backoff with ±50 % jitter for round `round` (0-based).
pub fn backoff(retry: &Retry, round: u32) -> Duration {
    let exp = retry.initial.saturating_mul(2u32.saturating_pow(round)).min(retry.max);
    exp.mul_f64(0.5 + rand::random::<f64>())
}

/// Sync from `sources` (or the configured mirrors), retrying rounds as configured; `clock` is
/// [`Clock::System`] but in a world pinned to a moment.
pub async fn sync_once(config: &Config, sources: Option<Vec<Source>>, clock: Clock) -> Result<SyncOutcome, SyncError> {
    let sources = sources.unwrap_or_else(|| config.mirrors.clone());
    if sources.is_empty() {
        return Err(SyncError::NoSource);
    }
    std::fs::create_dir_all(&config.state_dir).map_err(|source| SyncError::Io {
        path: config.state_dir.clone(),
        cause: source,
    })?;
    let lock_path = config.lock_path();
    let lock = std::fs::File::create(&lock_path).map_err(|source| SyncError::Io {
        path: lock_path.clone(),
        cause: source,
    })?;
    lock.try_lock().map_err(|_| SyncError::Locked {
        path: lock_path.clone(),
    })?;

    let status_path = config.sync_status_path();
    let mut status = SyncStatus::load(&status_path);
    let now = clock.now();
    status.last_attempt = Some(now);
    let result = sync_rounds(config, &sources, clock, now).await;
    match &result {
        Ok(outcome) => {
            status.last_success = Some(now);
            status.last_source = Some(match outcome {
                SyncOutcome::Applied { source, .. } | SyncOutcome::UpToDate { source, .. } => source.clone(),
            });
            status.last_error = None;
            status.consecutive_failures = 0;
        }
        Err(e) => {
            status.last_error = Some(e.to_string());
            status.consecutive_failures += 1;
        }
    }
    save_status(&status, &status_path);
    result
}

/// `clock` is what TUF expiry is checked against; `now`, read once per sync, is what its
/// records say (the status file's attempt and success, the store's `applied_at`).
async fn sync_rounds(
    config: &Config,
    sources: &[Source],
    clock: Clock,
    now: Timestamp,
) -> Result<SyncOutcome, SyncError> {
    let trust = TrustState {
        pinned_root: config.trusted_root.clone(),
        dir: config.tuf_dir(),
        fleet_key: config.fleet_key.clone(),
    };
    let mut round = 0;
    loop {
        let mut last_error = SyncError::NoSource;
        for source in sources {
            match fetch_and_apply(config, &trust, source, clock, now).await {
                Ok(outcome) => return Ok(outcome),
                Err(e) if e.retryable() => {
                    tracing::info!(
                        source = %line(&source.to_string()),
                        error = %line(&e.to_string()),
                        round,
                        "sync source failed"
                    );
                    last_error = e;
                }
                Err(e) => return Err(e),
            }
        }
        round += 1;
        if round >= config.retry.rounds {
            return Err(last_error);
        }
        let pause = backoff(&config.retry, round - 1);
        tracing::info!(
            pause_ms = pause.as_millis() as u64,
            round,
            "every source failed; retrying"
        );
        tokio::time::sleep(pause).await;
    }
}

/// What the store holds now, if anything (a missing or unreadable store holds nothing: the
/// writer rebuilds it from full files).
fn held(config: &Config) -> Option<Held> {
    let store = Store::open(&config.store_path()).ok()?;
    let publication = store.reader().ok()?.publication().ok()??;
    Some(Held {
        version: publication.version,
        targets_version: publication.targets_version,
    })
}

/// Fetch from one source and apply; a delta chain that does not fit the store is replaced by
/// the full files in a second fetch.
async fn fetch_and_apply(
    config: &Config,
    trust: &TrustState,
    source: &Source,
    clock: Clock,
    now: Timestamp,
) -> Result<SyncOutcome, SyncError> {
    let fetched = repo::fetch(source, trust, config.http.clone(), held(config), clock).await?;
    match apply(config, source.to_string(), fetched, now).await {
        Err(SyncError::Write(WriteError::DeltaMismatch { what, .. })) => {
            tracing::warn!(
                source = %line(&source.to_string()),
                problem = %line(&what.to_string()),
                "delta chain does not fit the store; fetching full files"
            );
            let fetched = repo::fetch(source, trust, config.http.clone(), None, clock).await?;
            apply(config, source.to_string(), fetched, now).await
        }
        other => other,
    }
}

async fn apply(config: &Config, source: String, fetched: Fetched, now: Timestamp) -> Result<SyncOutcome, SyncError> {
    let publication = match fetched {
        Fetched::UpToDate { version } => return Ok(SyncOutcome::UpToDate { source, version }),
        Fetched::New(p) => p,
    };
    let store_path = config.store_path();
    tokio::task::spawn_blocking(move || {
        let mut store = Writer::open(&store_path)?;
        let update = &publication.update;
        let versions = MetadataVersions {
            root: publication.root_version,
            targets: publication.targets_version,
            snapshot: publication.snapshot_version,
        };
        let span = tracing::info_span!("apply", version = update.version, source = %line(&source));
        let _guard = span.enter();
        let started = std::time::Instant::now();
        store.apply_update(update, versions, now)?;
        tracing::info!(
            revocations = update.revocations.len_hint(),
            delta = update.revocations.is_delta(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "publication applied"
        );
        Ok(SyncOutcome::Applied {
            source,
            version: update.version,
            as_of: update.as_of,
            revocations: update.revocations.len_hint(),
            cancellations: update.cancellations.len_hint(),
            seals: update.seals.len(),
            delta: update.revocations.is_delta(),
        })
    })
    .await
    .map_err(SyncError::Join)?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_exponentially_with_jitter_and_a_ceiling() {
        let retry = Retry {
            rounds: 5,
            initial: Duration::from_millis(100),
            max: Duration::from_secs(1),
        };
        for _ in 0..100 {
            let b0 = backoff(&retry, 0);
            assert!(
                b0 >= Duration::from_millis(50) && b0 < Duration::from_millis(150),
                "{b0:?}"
            );
            let b2 = backoff(&retry, 2);
            assert!(
                b2 >= Duration::from_millis(200) && b2 < Duration::from_millis(600),
                "{b2:?}"
            );
            let b9 = backoff(&retry, 9);
            assert!(
                b9 >= Duration::from_millis(500) && b9 < Duration::from_millis(1500),
                "{b9:?}"
            );
        }
        let spread: std::collections::HashSet<u128> = (0..50).map(|_| backoff(&retry, 1).as_micros()).collect();
        assert!(spread.len() > 10, "jitter spreads the pauses");
    }

    #[test]
    fn a_broken_status_file_reads_as_never_synced() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sync-status.json");
        std::fs::write(&path, "{ not json").expect("write");
        assert_eq!(SyncStatus::load(&path), SyncStatus::default());
        let s = SyncStatus {
            last_error: Some("x".into()),
            consecutive_failures: 2,
            ..SyncStatus::default()
        };
        save_status(&s, &path);
        assert_eq!(SyncStatus::load(&path), s);
    }

    #[test]
    fn the_status_file_keeps_what_a_stick_said_escaped_and_exact() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sync-status.json");
        let s = SyncStatus {
            last_error: Some("import from /media/x\nSTATUS=ok \u{202e}fdp failed".into()),
            last_source: Some("/media/\u{200b}stick".into()),
            ..SyncStatus::default()
        };
        save_status(&s, &path);
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(!text.chars().any(escape::is_hidden), "{text}");
        assert!(text.contains("\\u202e") && text.contains("\\u200b"), "{text}");
        assert_eq!(SyncStatus::load(&path), s, "read back exactly");
    }
}
