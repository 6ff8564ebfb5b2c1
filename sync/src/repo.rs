//! The TUF repository that carries status data (DESIGN §3.2).
//!
//! Publishing uses tough's editor; fetching uses tough's client against the pinned root, with
//! a persistent datastore (rollback protection across restarts) and the newest verified root
//! persisted and passed back as the trusted root at every start. The repository is shaped around
//! what tough does well: no delegations, flat target names, sha256 always, no consistent
//! snapshots.

use crate::keys::{TufSigner, tuf_key};
use crate::status::{Catalogue, Dataset, RecordHeader, RecordReader, StatusFileError, TargetKind, write_records};
use crate::transport::{HttpLimits, HttpTransport};
use crate::trust::{KeyId, SealKey};
use ed25519_dalek::SigningKey;
use jiff::Timestamp;
use std::collections::HashMap;
use std::num::NonZeroU64;
use std::path::{Path, PathBuf};
use tough::editor::RepositoryEditor;
use tough::key_source::KeySource;
use tough::schema::{KeyHolder, RoleKeys, RoleType, Root, Signed};
use tough::{ExpirationEnforcement, FilesystemTransport, IntoVec, Limits, RepositoryLoader, TargetName, Transport};
use url::Url;

/// The four top-level TUF role keys, one key each (threshold 1).
#[derive(Debug)]
pub struct RoleKeySet {
    pub root: SigningKey,
    pub targets: SigningKey,
    pub snapshot: SigningKey,
    pub timestamp: SigningKey,
}

/// How long each role's metadata stays valid after a publication.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    pub root: jiff::SignedDuration,
    pub targets: jiff::SignedDuration,
    pub snapshot: jiff::SignedDuration,
    pub timestamp: jiff::SignedDuration,
}

impl Default for Lifetimes {
    fn default() -> Self {
        let days = |d: i64| jiff::SignedDuration::from_hours(24 * d);
        Lifetimes {
            root: days(365),
            targets: days(30),
            snapshot: days(30),
            timestamp: days(7),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("signing the repository metadata: {0}")]
    Sign(String),
    #[error("repository at {location} rejected: {cause}")]
    Rejected { location: String, cause: String },
    #[error("repository at {location}: target {name} rejected: {cause}")]
    TargetRejected {
        location: String,
        name: String,
        cause: String,
    },
    #[error("repository at {location} uses delegations, which certkiosk does not accept")]
    Delegations { location: String },
    #[error("repository at {location}: target {name} is not a flat certkiosk status file")]
    UnexpectedTarget { location: String, name: String },
    #[error("repository at {location} has no {kind} target")]
    MissingTarget { location: String, kind: &'static str },
    #[error("repository at {location}: targets of publications {a} and {b} are mixed")]
    MixedVersions { location: String, a: u64, b: u64 },
    #[error("repository at {location}: {source}")]
    StatusFile { location: String, source: StatusFileError },
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
    #[error("trusted root {path} is not valid TUF root metadata: {cause}")]
    BadTrustedRoot { path: PathBuf, cause: String },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RepoError + '_ {
    move |source| RepoError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Sign version `version` of root metadata naming the four role keys. A root that replaces
/// another (`cross_sign_with`, the previous root key) is signed by both the new and the old
/// root key, as TUF requires for a client to accept the rotation.
pub async fn sign_root(
    keys: &RoleKeySet,
    version: u64,
    expires: Timestamp,
    cross_sign_with: Option<&SigningKey>,
) -> Result<Vec<u8>, RepoError> {
    let mut root = Root {
        spec_version: "1.0.0".to_owned(),
        consistent_snapshot: false,
        version: NonZeroU64::new(version).ok_or_else(|| RepoError::Sign("root version 0".into()))?,
        expires,
        keys: HashMap::new(),
        roles: HashMap::new(),
        _extra: HashMap::new(),
    };
    for (role, key) in [
        (RoleType::Root, &keys.root),
        (RoleType::Targets, &keys.targets),
        (RoleType::Snapshot, &keys.snapshot),
        (RoleType::Timestamp, &keys.timestamp),
    ] {
        let k = tuf_key(key);
        let id = k.key_id().map_err(|e| RepoError::Sign(e.to_string()))?;
        root.keys.insert(id.clone(), k);
        root.roles.insert(
            role,
            RoleKeys {
                keyids: vec![id],
                threshold: NonZeroU64::MIN,
                _extra: HashMap::new(),
            },
        );
    }
    let sign_err = |e: &dyn std::fmt::Display| RepoError::Sign(e.to_string());
    let mut old_signatures = Vec::new();
    if let Some(old) = cross_sign_with.filter(|old| old.to_bytes() != keys.root.to_bytes()) {
        use ed25519_dalek::Signer;
        use serde::Serialize;
        let mut canonical = Vec::new();
        let mut ser = serde_json::Serializer::with_formatter(&mut canonical, olpc_cjson::CanonicalFormatter::new());
        root.serialize(&mut ser).map_err(|e| sign_err(&e))?;
        old_signatures.push(tough::schema::Signature {
            keyid: tuf_key(old).key_id().map_err(|e| sign_err(&e))?,
            sig: old.sign(&canonical).to_bytes().to_vec().into(),
        });
    }
    let signers: Vec<Box<dyn KeySource>> = vec![Box::new(TufSigner(keys.root.clone()))];
    let holder = KeyHolder::Root(root.clone());
    let signed = tough::editor::signed::SignedRole::new(root, &holder, &signers, &aws_lc_rs::rand::SystemRandom::new())
        .await
        .map_err(|e| sign_err(&e))?;
    let signed = if old_signatures.is_empty() {
        signed
    } else {
        signed.add_old_signatures(old_signatures).map_err(|e| sign_err(&e))?
    };
    Ok(signed.buffer().clone())
}

/// Write `bytes` to `path` through a temporary file and a rename, synced.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), RepoError> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io(dir))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(io(path))?;
    tmp.persist(path).map_err(|e| RepoError::Io {
        path: path.to_owned(),
        source: e.error,
    })?;
    Ok(())
}

/// The repository layout: `metadata/` and `targets/` under one directory.
pub fn metadata_dir(repo: &Path) -> PathBuf {
    repo.join("metadata")
}

pub fn targets_dir(repo: &Path) -> PathBuf {
    repo.join("targets")
}

/// Publish `dataset` as the next version of the repository at `repo`.
///
/// Target files get new, versioned names; metadata is signed into a staging directory and then
/// renamed into place in the order a client reads it backwards (root, targets, snapshot,
/// timestamp), so a client never sees a timestamp that points at files not yet written.
pub async fn publish(
    repo: &Path,
    root_json: &Path,
    keys: &RoleKeySet,
    dataset: &Dataset,
    now: Timestamp,
    lifetimes: &Lifetimes,
) -> Result<(), RepoError> {
    let targets = targets_dir(repo);
    let metadata = metadata_dir(repo);
    for d in [&targets, &metadata] {
        std::fs::create_dir_all(d).map_err(io(d))?;
    }
    let version = NonZeroU64::new(dataset.version).ok_or_else(|| RepoError::Sign("dataset version 0".into()))?;
    let sign_err = |e: tough::error::Error| RepoError::Sign(e.to_string());
    let mut editor = RepositoryEditor::new(root_json).await.map_err(sign_err)?;
    editor
        .targets_version(version)
        .map_err(sign_err)?
        .targets_expires(now + lifetimes.targets)
        .map_err(sign_err)?
        .snapshot_version(version)
        .snapshot_expires(now + lifetimes.snapshot)
        .timestamp_version(version)
        .timestamp_expires(now + lifetimes.timestamp);
    for kind in TargetKind::ALL {
        let name = kind.file_name(dataset.version);
        let path = targets.join(&name);
        let mut bytes = Vec::new();
        let v = dataset.version;
        let at = dataset.as_of;
        match kind {
            TargetKind::Seals => write_records(&mut bytes, kind, v, at, &dataset.seals),
            TargetKind::Catalogue => write_records(&mut bytes, kind, v, at, std::slice::from_ref(&dataset.catalogue)),
            TargetKind::Revocations => write_records(&mut bytes, kind, v, at, &dataset.revocations),
            TargetKind::Cancellations => write_records(&mut bytes, kind, v, at, &dataset.cancellations),
        }
        .map_err(io(&path))?;
        write_atomically(&path, &bytes)?;
        let mut target = tough::schema::Target::from_path(&path)
            .await
            .map_err(|e| RepoError::Sign(e.to_string()))?;
        target.custom.insert("kind".into(), serde_json::json!(kind.as_str()));
        target
            .custom
            .insert("version".into(), serde_json::json!(dataset.version));
        editor.add_target(name.as_str(), target).map_err(sign_err)?;
    }
    let signers: Vec<Box<dyn KeySource>> = vec![
        Box::new(TufSigner(keys.targets.clone())),
        Box::new(TufSigner(keys.snapshot.clone())),
        Box::new(TufSigner(keys.timestamp.clone())),
    ];
    let signed = editor.sign(&signers).await.map_err(sign_err)?;
    let staging = tempfile::Builder::new()
        .prefix(".staging-")
        .tempdir_in(repo)
        .map_err(io(repo))?;
    signed.write(staging.path()).await.map_err(sign_err)?;
    let mut names: Vec<String> = std::fs::read_dir(staging.path())
        .map_err(io(staging.path()))?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    let rank = |n: &str| match n {
        "targets.json" => 1,
        "snapshot.json" => 2,
        "timestamp.json" => 3,
        _ => 0,
    };
    names.sort_by_key(|n| rank(n));
    for name in names {
        let from = staging.path().join(&name);
        let to = metadata.join(&name);
        std::fs::rename(&from, &to).map_err(io(&to))?;
    }
    Ok(())
}

/// Copy the current state of the repository at `repo` to `to` (a USB stick): all root
/// versions, the top-level metadata and the targets it lists. Files are written through
/// temporary files and renamed, `timestamp.json` last, so a copy interrupted half-way is
/// refused by certd rather than mixed.
pub fn export(repo: &Path, to: &Path) -> Result<usize, RepoError> {
    let location = repo.display().to_string();
    let (from_meta, from_targets) = (metadata_dir(repo), targets_dir(repo));
    let targets_json = from_meta.join("targets.json");
    let bytes = std::fs::read(&targets_json).map_err(io(&targets_json))?;
    let parsed: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| RepoError::Rejected {
        location: location.clone(),
        cause: format!("targets.json: {e}"),
    })?;
    let names: Vec<String> = parsed
        .pointer("/signed/targets")
        .and_then(serde_json::Value::as_object)
        .map(|t| t.keys().cloned().collect())
        .unwrap_or_default();
    let (to_meta, to_targets) = (metadata_dir(to), targets_dir(to));
    for d in [&to_meta, &to_targets] {
        std::fs::create_dir_all(d).map_err(io(d))?;
    }
    let copy = |from: &Path, to: &Path| -> Result<(), RepoError> {
        let bytes = std::fs::read(from).map_err(io(from))?;
        write_atomically(to, &bytes)
    };
    let mut copied = 0;
    for name in &names {
        if name.contains('/') || name.starts_with('.') {
            return Err(RepoError::UnexpectedTarget {
                location,
                name: name.clone(),
            });
        }
        copy(&from_targets.join(name), &to_targets.join(name))?;
        copied += 1;
    }
    let mut roots: Vec<PathBuf> = std::fs::read_dir(&from_meta)
        .map_err(io(&from_meta))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(".root.json"))
        })
        .collect();
    roots.sort();
    for path in roots.iter().map(PathBuf::as_path).chain(
        ["targets.json", "snapshot.json", "timestamp.json"]
            .iter()
            .map(|n| from_meta.join(n))
            .collect::<Vec<_>>()
            .iter()
            .map(PathBuf::as_path),
    ) {
        let name = path.file_name().unwrap_or_default();
        copy(path, &to_meta.join(name))?;
        copied += 1;
    }
    Ok(copied)
}

/// Where the appliance keeps its TUF trust state.
#[derive(Debug, Clone)]
pub struct TrustState {
    /// The root.json shipped with the appliance (`trusted_root` in the config).
    pub pinned_root: PathBuf,
    /// Directory holding `root.json` (the newest verified root) and `datastore/`.
    pub dir: PathBuf,
}

impl TrustState {
    fn newest_root(&self) -> PathBuf {
        self.dir.join("root.json")
    }

    fn datastore(&self) -> PathBuf {
        self.dir.join("datastore")
    }

    /// The root to start from: the newest verified one if present, else the pinned one.
    pub fn trusted_root(&self) -> Result<(PathBuf, Vec<u8>), RepoError> {
        let newest = self.newest_root();
        let path = if newest.exists() {
            newest
        } else {
            self.pinned_root.clone()
        };
        let bytes = std::fs::read(&path).map_err(io(&path))?;
        serde_json::from_slice::<Signed<Root>>(&bytes).map_err(|e| RepoError::BadTrustedRoot {
            path: path.clone(),
            cause: e.to_string(),
        })?;
        Ok((path, bytes))
    }
}

/// A verified publication as fetched from a repository.
#[derive(Debug)]
pub struct Fetched {
    pub dataset: Dataset,
    pub root_version: u64,
    pub targets_version: u64,
    pub snapshot_version: u64,
    pub timestamp_version: u64,
    /// The newest signed time seen in the metadata (timestamp's issue proxy: the dataset's
    /// as_of), for the clock floor.
    pub newest_signed_time: Timestamp,
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

/// Where a repository is read from: a directory (a mirror copy, a USB stick) holding
/// `metadata/` and `targets/`, or the base URL of an HTTP(S) mirror with the same layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Dir(PathBuf),
    Http(Url),
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Dir(p) => write!(f, "{}", p.display()),
            Source::Http(u) => write!(f, "{u}"),
        }
    }
}

impl Source {
    /// A URL (`http://`, `https://`) or else a directory path.
    pub fn parse(s: &str) -> Result<Source, String> {
        if s.contains("://") {
            let mut url = Url::parse(s).map_err(|e| format!("{s:?} is not a valid URL: {e}"))?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err(format!("{s:?}: only http:// and https:// mirrors are supported"));
            }
            if !url.path().ends_with('/') {
                url.set_path(&format!("{}/", url.path()));
            }
            Ok(Source::Http(url))
        } else {
            Ok(Source::Dir(PathBuf::from(s)))
        }
    }
}

/// Fetch and verify the repository at the local directory `repo`.
pub async fn fetch_dir(repo: &Path, trust: &TrustState) -> Result<Fetched, RepoError> {
    fetch(&Source::Dir(repo.to_owned()), trust, HttpLimits::default()).await
}

/// Fetch and verify the repository at `source` against the trust state.
pub async fn fetch(source: &Source, trust: &TrustState, http: HttpLimits) -> Result<Fetched, RepoError> {
    let location = source.to_string();
    let rejected = |cause: String| RepoError::Rejected {
        location: location.clone(),
        cause,
    };
    match source {
        Source::Dir(repo) => {
            let abs = std::fs::canonicalize(repo).map_err(io(repo))?;
            let url = |p: PathBuf| {
                Url::from_directory_path(&p)
                    .map_err(|()| rejected(format!("{} is not an absolute directory path", p.display())))
            };
            let (metadata, targets) = (url(metadata_dir(&abs))?, url(targets_dir(&abs))?);
            fetch_with(FilesystemTransport, metadata, targets, location, trust).await
        }
        Source::Http(base) => {
            let join = |p: &str| base.join(p).map_err(|e| rejected(e.to_string()));
            let (metadata, targets) = (join("metadata/")?, join("targets/")?);
            let transport = HttpTransport::new(http).map_err(rejected)?;
            fetch_with(transport, metadata, targets, location, trust).await
        }
    }
}

fn one_line(e: &dyn std::fmt::Display) -> String {
    e.to_string().replace('\n', " ")
}

async fn fetch_with<T: Transport + Send + Sync + 'static>(
    transport: T,
    metadata_url: Url,
    targets_url: Url,
    location: String,
    trust: &TrustState,
) -> Result<Fetched, RepoError> {
    let (_, root) = trust.trusted_root()?;
    let datastore = trust.datastore();
    std::fs::create_dir_all(&datastore).map_err(io(&datastore))?;
    let repository = RepositoryLoader::new(&root, metadata_url, targets_url)
        .transport(transport)
        .datastore(&datastore)
        .limits(limits())
        .expiration_enforcement(ExpirationEnforcement::Safe)
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
                cause: one_line(&e),
            },
        })?;

    // Persist the newest verified root so that a rotation sticks across restarts.
    let root_bytes = serde_json::to_vec_pretty(repository.root()).map_err(|e| RepoError::Rejected {
        location: location.clone(),
        cause: e.to_string(),
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
    let mut chosen: HashMap<&'static str, (TargetName, u64)> = HashMap::new();
    let mut version: Option<u64> = None;
    for (name, target) in repository.all_targets() {
        let unexpected = || RepoError::UnexpectedTarget {
            location: location.clone(),
            name: name.raw().to_owned(),
        };
        if name.raw().contains('/') {
            return Err(unexpected());
        }
        // Kinds this build does not know (added by a newer publisher) are left alone, so that a
        // new kind of target never breaks appliances already in the field.
        let Some(kind_name) = target.custom.get("kind").and_then(|v| v.as_str()) else {
            return Err(unexpected());
        };
        let Some(kind) = TargetKind::ALL.into_iter().find(|t| t.as_str() == kind_name) else {
            continue;
        };
        let v = target
            .custom
            .get("version")
            .and_then(serde_json::Value::as_u64)
            .ok_or_else(unexpected)?;
        if name.raw() != kind.file_name(v) {
            return Err(unexpected());
        }
        match version {
            Some(seen) if seen != v => {
                return Err(RepoError::MixedVersions {
                    location,
                    a: seen.min(v),
                    b: seen.max(v),
                });
            }
            _ => version = Some(v),
        }
        if chosen.insert(kind.as_str(), (name.clone(), v)).is_some() {
            return Err(unexpected());
        }
    }
    let version = version.ok_or(RepoError::MissingTarget {
        location: location.clone(),
        kind: "any",
    })?;

    let mut as_of: Option<Timestamp> = None;
    let mut seals: Vec<SealKey> = Vec::new();
    let mut catalogue = Catalogue::default();
    let mut revocations = Vec::new();
    let mut cancellations = Vec::new();
    for kind in TargetKind::ALL {
        let (name, _) = chosen.get(kind.as_str()).ok_or(RepoError::MissingTarget {
            location: location.clone(),
            kind: kind.as_str(),
        })?;
        let rejected = |cause: String| RepoError::TargetRejected {
            location: location.clone(),
            name: name.raw().to_owned(),
            cause,
        };
        let stream = repository
            .read_target(name)
            .await
            .map_err(|e| rejected(one_line(&e)))?
            .ok_or_else(|| rejected("listed but not readable".into()))?;
        let bytes = stream.into_vec().await.map_err(|e| rejected(one_line(&e)))?;
        let file_err = |source| RepoError::StatusFile {
            location: location.clone(),
            source,
        };
        let reader = RecordReader::open(bytes.as_slice(), kind).map_err(file_err)?;
        check_header(reader.header(), version, &mut as_of).map_err(|what| RepoError::HeaderMismatch {
            location: location.clone(),
            kind: kind.as_str(),
            what,
        })?;
        match kind {
            TargetKind::Seals => {
                seals = reader.collect_all().map_err(file_err)?.1;
                if seals.iter().any(|s| s.key_id != KeyId::of(&s.public_key)) {
                    let what = "a seal whose key id is not its key's";
                    return Err(RepoError::HeaderMismatch {
                        location,
                        kind: kind.as_str(),
                        what,
                    });
                }
            }
            TargetKind::Catalogue => {
                let (_, mut list): (_, Vec<Catalogue>) = reader.collect_all().map_err(file_err)?;
                if list.len() != 1 {
                    return Err(RepoError::HeaderMismatch {
                        location,
                        kind: kind.as_str(),
                        what: "exactly one catalogue record",
                    });
                }
                catalogue = list.remove(0);
            }
            TargetKind::Revocations => revocations = reader.collect_all().map_err(file_err)?.1,
            TargetKind::Cancellations => cancellations = reader.collect_all().map_err(file_err)?.1,
        }
    }
    let as_of = as_of.unwrap_or(Timestamp::UNIX_EPOCH);
    Ok(Fetched {
        dataset: Dataset {
            version,
            as_of,
            seals,
            catalogue,
            revocations,
            cancellations,
        },
        root_version: repository.root().signed.version.get(),
        targets_version: repository.targets().signed.version.get(),
        snapshot_version: repository.snapshot().signed.version.get(),
        timestamp_version: repository.timestamp().signed.version.get(),
        newest_signed_time: as_of,
    })
}

fn check_header(h: &RecordHeader, version: u64, as_of: &mut Option<Timestamp>) -> Result<(), &'static str> {
    if h.version != version {
        return Err("version");
    }
    match as_of {
        Some(t) if *t != h.as_of => Err("as_of differs between files"),
        _ => {
            *as_of = Some(h.as_of);
            Ok(())
        }
    }
}
