//! Fetching the TUF repository that carries status data (docs/design.md §3.2) with tough's
//! client against the pinned root, with a persistent datastore (rollback protection across
//! restarts) and the newest verified root persisted and passed back as the trusted root at
//! every start (docs/decisions/0002).

use crate::clock::Clock;
use crate::transport::{DirTransport, HttpTransport};
use certkiosk_formats::fleet::ApplianceKey;
use certkiosk_formats::repository::{HttpLimits, Source, metadata_dir, targets_dir};
use certkiosk_formats::status::{StatusFileError, TargetKind, Update};
use jiff::Timestamp;
use std::path::{Path, PathBuf};
use tough::schema::{RoleType, Root, Signed};
use tough::{ExpirationEnforcement, Limits, RepositoryLoader, Transport};
use url::Url;

#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    #[error("{path}: {cause}")]
    Io { path: PathBuf, cause: std::io::Error },
    #[error("repository at {location} rejected: {cause}")]
    Rejected { location: String, cause: Rejection },
    #[error("repository at {location}: target {name} rejected: {cause}")]
    TargetRejected {
        location: String,
        name: String,
        cause: TargetRejection,
    },
    #[error("repository at {location} uses delegations, which certkiosk does not accept")]
    Delegations { location: String },
    #[error("repository at {location}: target {name} is not a flat certkiosk status file")]
    UnexpectedTarget { location: String, name: String },
    #[error("repository at {location} has no {kind} target")]
    MissingTarget { location: String, kind: &'static str },
    #[error("repository at {location}: targets of publications {a} and {b} are mixed")]
    MixedVersions { location: String, a: u64, b: u64 },
    #[error("repository at {location}: {cause}")]
    StatusFile { location: String, cause: StatusFileError },
    #[error("repository at {location}: {kind} file disagrees with targets metadata ({what})")]
    HeaderMismatch {
        location: String,
        kind: &'static str,
        what: &'static str,
    },
    #[error(
        "the system clock ({system}) is earlier than the last sync ({latest_known}): TUF expiry cannot be \
         checked until the clock is set (e.g. `timedatectl set-ntp true`); verification meanwhile uses the \
         newest signed time as now"
    )]
    ClockBehind { system: Timestamp, latest_known: Timestamp },
    #[error("fleet key {path}: {problem}")]
    FleetKey { path: PathBuf, problem: String },
    #[error("trusted root {path} is not valid TUF root metadata: {cause}")]
    BadTrustedRoot { path: PathBuf, cause: serde_json::Error },
}

/// Why a repository as a whole was refused.
#[derive(Debug, thiserror::Error)]
pub enum Rejection {
    #[error("cannot open the directory: {0}")]
    Directory(std::io::Error),
    #[error("{} is not an absolute directory path", .0.display())]
    NotAbsolute(PathBuf),
    #[error("{url:?} is not a valid URL: {cause}")]
    BadUrl { url: String, cause: url::ParseError },
    #[error("cannot set up the HTTP client: {0}")]
    HttpClient(reqwest::Error),
    /// tough's verdict on the metadata: signatures, versions, hashes, lengths, expiry.
    #[error("{}", one_line(.0))]
    Tuf(Box<tough::error::Error>),
    #[error("{0} metadata is expired")]
    Expired(RoleType),
    #[error("publication {0} is already held")]
    AlreadyHeld(u64),
    #[error("the verified root cannot be kept: {0}")]
    Root(serde_json::Error),
}

/// Why one target file was refused.
#[derive(Debug, thiserror::Error)]
pub enum TargetRejection {
    /// tough's verdict on the file: its signed length and hash, or the transfer.
    #[error("{}", one_line(.0))]
    Tuf(Box<tough::error::Error>),
    #[error("listed but not readable")]
    NotReadable,
    #[error("{}", one_line(.0))]
    Spool(std::io::Error),
    /// A file sealed to the fleet that this appliance cannot open: the envelope's own error
    /// and what to do about it.
    #[error("sealed to the fleet and not opened: {0}")]
    Fleet(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RepoError + '_ {
    move |source| RepoError::Io {
        path: path.to_owned(),
        cause: source,
    }
}

/// Write `bytes` to `path` through a temporary file and a rename, synced.
/// The file is readable by all (0644; a temporary file starts 0600): what certd writes beside
/// the store — the newest root, the sync record — is read by the kiosk's user, in certd's
/// group, and holds nothing secret; the state directory's own mode decides who may look.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), RepoError> {
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io(dir))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().set_permissions(std::fs::Permissions::from_mode(0o644)))
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(io(path))?;
    tmp.persist(path).map_err(|e| RepoError::Io {
        path: path.to_owned(),
        cause: e.error,
    })?;
    Ok(())
}

/// Where the appliance keeps its TUF trust state.
#[derive(Debug, Clone)]
pub struct TrustState {
    /// The root.json shipped with the appliance (`trusted_root` in the config).
    pub pinned_root: PathBuf,
    /// Directory holding `root.json` (the newest verified root) and `datastore/`.
    pub dir: PathBuf,
    /// The appliance's fleet key (`fleet_key` in the config), read when a publication carries
    /// sealed files; a missing file is an appliance not yet provisioned.
    pub fleet_key: PathBuf,
}

impl TrustState {
    fn newest_root(&self) -> PathBuf {
        self.dir.join("root.json")
    }

    fn datastore(&self) -> PathBuf {
        self.dir.join("datastore")
    }

    /// The root to start from: the newest verified one if present, else the pinned one.
    pub fn trusted_root(&self) -> Result<Vec<u8>, RepoError> {
        let newest = self.newest_root();
        let path = if newest.exists() {
            newest
        } else {
            self.pinned_root.clone()
        };
        let bytes = std::fs::read(&path).map_err(io(&path))?;
        serde_json::from_slice::<Signed<Root>>(&bytes).map_err(|cause| RepoError::BadTrustedRoot {
            path: path.clone(),
            cause,
        })?;
        Ok(bytes)
    }
}

/// The longest fleet key file read (a key file is under 100 bytes).
const MAX_FLEET_KEY_FILE: u64 = 4096;

/// The appliance's fleet key at `path`, `None` when there is no file. Opened without blocking
/// and as a regular file only (a FIFO or a device is refused at once), at most 4 KiB; the
/// error never repeats the file's content.
pub fn read_fleet_key(path: &Path) -> Result<Option<ApplianceKey>, String> {
    let opened = match certkiosk_open::open(path, MAX_FLEET_KEY_FILE) {
        Ok(o) => o,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    let bytes = opened.read_capped().map_err(|e| e.to_string())?;
    let text = std::str::from_utf8(&bytes).map_err(|_| "not a fleet key file (not UTF-8)".to_owned())?;
    ApplianceKey::from_file_text(text).map(Some)
}

/// What the appliance holds, so a sync fetches only what is new.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    pub version: u64,
    pub targets_version: u64,
}

/// The outcome of a verified fetch.
#[derive(Debug)]
pub enum Fetched {
    /// The repository's publication is the one held: nothing was downloaded past metadata.
    UpToDate {
        version: u64,
    },
    New(Box<NewPublication>),
}

/// A verified publication, its record sets whole or as delta chains from the version held.
#[derive(Debug)]
pub struct NewPublication {
    pub update: Update,
    pub root_version: u64,
    pub targets_version: u64,
    pub snapshot_version: u64,
    pub timestamp_version: u64,
}

/// Caps on what a repository may make us download.
pub fn limits() -> Limits {
    Limits {
        max_root_size: 256 * 1024,
        max_targets_size: 4 * 1024 * 1024,
        max_timestamp_size: 64 * 1024,
        max_snapshot_size: 256 * 1024,
        max_root_updates: 64,
    }
}

/// Fetch and verify the whole publication of the repository at the local directory `repo`.
pub async fn fetch_dir(repo: &Path, trust: &TrustState, clock: Clock) -> Result<NewPublication, RepoError> {
    match fetch(&Source::Dir(repo.to_owned()), trust, HttpLimits::default(), None, clock).await? {
        Fetched::New(p) => Ok(*p),
        Fetched::UpToDate { version } => Err(RepoError::Rejected {
            location: repo.display().to_string(),
            cause: Rejection::AlreadyHeld(version),
        }),
    }
}

/// Fetch and verify the repository at `source` against the trust state.
/// `held`: what the store holds — the publication is skipped when it is the same, and
/// record sets come as delta chains from it where the repository lists them.
/// `clock`: what expiry is checked against ([`Clock::System`] in the product).
pub async fn fetch(
    source: &Source,
    trust: &TrustState,
    http: HttpLimits,
    held: Option<Held>,
    clock: Clock,
) -> Result<Fetched, RepoError> {
    let location = source.to_string();
    let rejected = |cause: Rejection| RepoError::Rejected {
        location: location.clone(),
        cause,
    };
    match source {
        Source::Dir(repo) => {
            let abs = std::fs::canonicalize(repo).map_err(|e| rejected(Rejection::Directory(e)))?;
            let url = |p: PathBuf| Url::from_directory_path(&p).map_err(|()| rejected(Rejection::NotAbsolute(p)));
            let (metadata, targets) = (url(metadata_dir(&abs))?, url(targets_dir(&abs))?);
            let transport = DirTransport::new(abs);
            fetch_with(transport, (metadata, targets), location, trust, held, clock).await
        }
        Source::Http(base) => {
            let bad_url = |url: String| move |cause| rejected(Rejection::BadUrl { url, cause });
            let base = Url::parse(base).map_err(bad_url(base.clone()))?;
            let join = |p: &str| base.join(p).map_err(bad_url(format!("{base}{p}")));
            let (metadata, targets) = (join("metadata/")?, join("targets/")?);
            let transport = HttpTransport::new(http).map_err(|e| rejected(Rejection::HttpClient(e)))?;
            fetch_with(transport, (metadata, targets), location, trust, held, clock).await
        }
    }
}

/// tough's freeze-attack checks (TUF 5.2.9, 5.3.3, 5.4.5, 5.6.5) at `now` instead of the system
/// clock: no top-level role may have expired before `now`. Err: the first that has.
fn check_unexpired(repository: &tough::Repository, now: Timestamp) -> Result<(), RoleType> {
    let roles = [
        (RoleType::Root, repository.root().signed.expires),
        (RoleType::Timestamp, repository.timestamp().signed.expires),
        (RoleType::Snapshot, repository.snapshot().signed.expires),
        (RoleType::Targets, repository.targets().signed.expires),
    ];
    match roles.into_iter().find(|(_, expires)| *expires < now) {
        Some((role, _)) => Err(role),
        None => Ok(()),
    }
}

fn one_line(e: &dyn std::fmt::Display) -> String {
    e.to_string().replace('\n', " ")
}

async fn fetch_with<T: Transport + Send + Sync + 'static>(
    transport: T,
    (metadata_url, targets_url): (Url, Url),
    location: String,
    trust: &TrustState,
    held: Option<Held>,
    clock: Clock,
) -> Result<Fetched, RepoError> {
    let root = trust.trusted_root()?;
    let datastore = trust.datastore();
    std::fs::create_dir_all(&datastore).map_err(io(&datastore))?;
    let repository = RepositoryLoader::new(&root, metadata_url, targets_url)
        .transport(transport)
        .datastore(&datastore)
        .limits(limits())
        .expiration_enforcement(match clock {
            Clock::System => ExpirationEnforcement::Safe,
            // tough reads only the system clock: its checks are made below, at the pinned time.
            Clock::Pinned(_) => ExpirationEnforcement::Unsafe,
        })
        .load()
        .await
        .map_err(|e| match e {
            tough::error::Error::SystemTimeSteppedBackward {
                sys_time,
                latest_known_time,
            } => RepoError::ClockBehind {
                system: sys_time,
                latest_known: latest_known_time,
            },
            e => RepoError::Rejected {
                location: location.clone(),
                cause: Rejection::Tuf(Box::new(e)),
            },
        })?;

    if let Clock::Pinned(now) = clock {
        check_unexpired(&repository, now).map_err(|role| RepoError::Rejected {
            location: location.clone(),
            cause: Rejection::Expired(role),
        })?;
    }

    // Persist the newest verified root so that a rotation sticks across restarts.
    let root_bytes = serde_json::to_vec_pretty(repository.root()).map_err(|e| RepoError::Rejected {
        location: location.clone(),
        cause: Rejection::Root(e),
    })?;
    write_atomically(&trust.newest_root(), &root_bytes)?;

    if repository
        .targets()
        .signed
        .delegations
        .as_ref()
        .is_some_and(|d| !d.roles.is_empty())
    {
        return Err(RepoError::Delegations { location });
    }
    let Listing { full, deltas, version } = listing::list(&repository, &location)?;
    let versions = (
        repository.root().signed.version.get(),
        repository.targets().signed.version.get(),
        repository.snapshot().signed.version.get(),
        repository.timestamp().signed.version.get(),
    );
    if let Some(h) = held
        && h.version == version
        && h.targets_version == versions.1
    {
        return Ok(Fetched::UpToDate { version });
    }

    let mut reader = TargetReader {
        repository: &repository,
        location: &location,
        version,
        spool: &trust.dir,
        fleet: targets::Fleet::default(),
    };
    reader.fleet = reader
        .fleet(full.get(TargetKind::FleetKeys.as_str()), &trust.fleet_key)
        .await?;
    let read = targets::Publication {
        reader,
        full,
        deltas,
        held: held.map(|h| h.version),
    };
    Ok(Fetched::New(Box::new(NewPublication {
        update: read.update().await?,
        root_version: versions.0,
        targets_version: versions.1,
        snapshot_version: versions.2,
        timestamp_version: versions.3,
    })))
}

mod listing;
mod targets;
use listing::Listing;
use targets::TargetReader;
