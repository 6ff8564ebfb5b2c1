//! One sync: fetch a repository with tough, then apply its publication to the store in one
//! transaction. certd is the store's only writer; an exclusive lock on `state/certd.lock`
//! keeps a second certd from writing at the same time.

use crate::config::{Config, Mirror};
use certsync::repo::{self, Fetched, RepoError, TrustState};
use certsync::store::{MetadataVersions, Mode, Store, StoreError};
use jiff::Timestamp;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("no repository to sync from: configure sync.mirrors or pass --from")]
    NoSource,
    #[error("another certd holds {path}; only one may write the store")]
    Locked { path: PathBuf },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("applying the publication was interrupted: {0}")]
    Join(String),
}

/// What a successful sync did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncOutcome {
    Applied {
        source: String,
        version: u64,
        as_of: Timestamp,
        revocations: usize,
        cancellations: usize,
        seals: usize,
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
            } => write!(
                f,
                "applied publication {version} (as of {as_of}) from {source}: {revocations} revocations, \
                 {cancellations} annotation cancellations, {seals} seals"
            ),
            SyncOutcome::UpToDate { source, version } => {
                write!(f, "up to date: publication {version} from {source} is already applied")
            }
        }
    }
}

/// Sync once from `from`, or else from each configured mirror in order until one succeeds.
pub async fn sync_once(config: &Config, from: Option<Mirror>, now: Timestamp) -> Result<SyncOutcome, SyncError> {
    let sources: Vec<Mirror> = match from {
        Some(m) => vec![m],
        None => config.mirrors.clone(),
    };
    if sources.is_empty() {
        return Err(SyncError::NoSource);
    }
    std::fs::create_dir_all(&config.state_dir).map_err(|source| SyncError::Io {
        path: config.state_dir.clone(),
        source,
    })?;
    let lock_path = config.lock_path();
    let lock = std::fs::File::create(&lock_path).map_err(|source| SyncError::Io {
        path: lock_path.clone(),
        source,
    })?;
    lock.try_lock().map_err(|_| SyncError::Locked {
        path: lock_path.clone(),
    })?;

    let trust = TrustState {
        pinned_root: config.trusted_root.clone(),
        dir: config.tuf_dir(),
    };
    let mut last_error = None;
    for source in sources {
        let result = match &source {
            Mirror::Dir(dir) => repo::fetch_dir(dir, &trust).await,
        };
        match result {
            Ok(fetched) => return apply(config, source.to_string(), fetched, now).await,
            Err(e) => {
                tracing::info!(source = %source, error = %e, "sync source failed");
                last_error = Some(SyncError::Repo(e));
            }
        }
    }
    Err(last_error.unwrap_or(SyncError::NoSource))
}

async fn apply(config: &Config, source: String, fetched: Fetched, now: Timestamp) -> Result<SyncOutcome, SyncError> {
    let store_path = config.store_path();
    tokio::task::spawn_blocking(move || {
        let mut store = Store::open(&store_path, Mode::ReadWrite)?;
        let applied = store.reader()?.publication()?;
        let version = fetched.dataset.version;
        // tough replaces a same-version timestamp with new content; only a newer publication
        // (data version and targets metadata version) is new data.
        if let Some(a) = applied
            && a.version == version
            && a.targets_version == fetched.targets_version
        {
            return Ok(SyncOutcome::UpToDate { source, version });
        }
        let versions = MetadataVersions {
            root: fetched.root_version,
            targets: fetched.targets_version,
            snapshot: fetched.snapshot_version,
        };
        let span = tracing::info_span!("apply", version, source = %source);
        let _guard = span.enter();
        let started = std::time::Instant::now();
        store.apply(&fetched.dataset, versions, now)?;
        let d = &fetched.dataset;
        tracing::info!(
            revocations = d.revocations.len(),
            cancellations = d.cancellations.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "publication applied"
        );
        Ok(SyncOutcome::Applied {
            source,
            version,
            as_of: d.as_of,
            revocations: d.revocations.len(),
            cancellations: d.cancellations.len(),
            seals: d.seals.len(),
        })
    })
    .await
    .map_err(|e| SyncError::Join(e.to_string()))?
}
