//! Publishing the TUF repository that carries status data (docs/design.md §3.2): tough's
//! editor signs the metadata, target files get new versioned names, and deltas from the
//! previous publication are listed beside the full files. The repository is shaped around what
//! tough's client does well (docs/decisions/0002): no delegations, flat target names, sha256
//! always, no consistent snapshots.

use crate::keys::{TufSigner, tuf_key};
use certkiosk_formats::fleet::{self, ContentKey, Grant};
use certkiosk_formats::repository::{metadata_dir, targets_dir};
use certkiosk_formats::status::{
    Dataset, Record, RecordReader, StatusFileError, TargetKind, diff, write_delta, write_records,
};
use ed25519_dalek::SigningKey;
use jiff::Timestamp;
use std::collections::HashMap;
use std::num::NonZeroU64;
use std::path::{Path, PathBuf};
use tough::editor::RepositoryEditor;
use tough::key_source::KeySource;
use tough::schema::{KeyHolder, RoleKeys, RoleType, Root, Signed};

/// The four top-level TUF role keys, one key each (threshold 1).
#[derive(Debug)]
pub struct RoleKeySet {
    pub root: SigningKey,
    pub targets: SigningKey,
    pub snapshot: SigningKey,
    pub timestamp: SigningKey,
}

/// What a publication seals its holder-linked files with (`certkiosk_formats::fleet`): an
/// authority always has one; `None` (tests of the clear format an older publisher wrote)
/// publishes every file in the clear.
#[derive(Debug, Clone)]
pub struct Fleet {
    /// This publication's content key.
    pub key: ContentKey,
    /// It wrapped to each enrolled appliance: the `fleet_keys` target.
    pub grants: Vec<Grant>,
    /// The content keys of earlier publications, to read the previous files a delta is made
    /// from.
    pub earlier: Vec<ContentKey>,
}

impl Fleet {
    fn seal(&self, path: &Path, clear: &[u8]) -> Result<Vec<u8>, PublishError> {
        let mut out = Vec::with_capacity(clear.len() + clear.len() / 1000 + 64);
        fleet::seal(&self.key, clear, &mut out).map_err(io(path))?;
        Ok(out)
    }
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
pub enum PublishError {
    #[error("{path}: {cause}")]
    Io { path: PathBuf, cause: std::io::Error },
    #[error("signing the repository metadata: {0}")]
    Sign(Box<tough::error::Error>),
    #[error("signing the repository metadata: {0}")]
    Schema(tough::schema::Error),
    #[error("signing the repository metadata: {0}")]
    Canonical(serde_json::Error),
    #[error("signing the repository metadata: {what} version 0")]
    VersionZero { what: &'static str },
    #[error("signing the repository metadata: the published targets.json cannot be read: {cause}")]
    PublishedTargets { cause: serde_json::Error },
    #[error(
        "signing the repository metadata: targets/{name} changed on disk since publication {version} signed it; \
         restore it before publishing"
    )]
    SignedFileChanged { name: String, version: NonZeroU64 },
    #[error("repository at {location}: targets.json: {cause}")]
    Unreadable { location: String, cause: serde_json::Error },
    #[error("repository at {location}: targets.json lists no targets")]
    NoTargets { location: String },
    #[error("repository at {location}: target {name} is not a flat certkiosk status file")]
    UnexpectedTarget { location: String, name: String },
    #[error("repository at {location}: {cause}")]
    StatusFile { location: String, cause: StatusFileError },
    #[error("targets/{name} would be published in the clear: holder-linked files are sealed to the fleet")]
    NotSealed { name: String },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> PublishError + '_ {
    move |source| PublishError::Io {
        path: path.to_owned(),
        cause: source,
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
) -> Result<Vec<u8>, PublishError> {
    let mut root = Root {
        spec_version: "1.0.0".to_owned(),
        consistent_snapshot: false,
        version: NonZeroU64::new(version).ok_or(PublishError::VersionZero { what: "root" })?,
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
        let id = k.key_id().map_err(PublishError::Schema)?;
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
    let mut old_signatures = Vec::new();
    if let Some(old) = cross_sign_with.filter(|old| old.to_bytes() != keys.root.to_bytes()) {
        use ed25519_dalek::Signer;
        use serde::Serialize;
        let mut canonical = Vec::new();
        let mut ser = serde_json::Serializer::with_formatter(&mut canonical, olpc_cjson::CanonicalFormatter::new());
        root.serialize(&mut ser).map_err(PublishError::Canonical)?;
        old_signatures.push(tough::schema::Signature {
            keyid: tuf_key(old).key_id().map_err(PublishError::Schema)?,
            sig: old.sign(&canonical).to_bytes().to_vec().into(),
        });
    }
    let signers: Vec<Box<dyn KeySource>> = vec![Box::new(TufSigner(keys.root.clone()))];
    let holder = KeyHolder::Root(root.clone());
    let signed = tough::editor::signed::SignedRole::new(root, &holder, &signers, &aws_lc_rs::rand::SystemRandom::new())
        .await
        .map_err(|e| PublishError::Sign(Box::new(e)))?;
    let signed = if old_signatures.is_empty() {
        signed
    } else {
        signed
            .add_old_signatures(old_signatures)
            .map_err(|e| PublishError::Sign(Box::new(e)))?
    };
    Ok(signed.buffer().clone())
}

/// The mode of every file the publisher writes: published files are public by design, and a
/// web server or an appliance reading a copy runs as another user (issue 16).
pub const PUBLIC_FILE_MODE: u32 = 0o644;

/// Write `bytes` to `path` through a temporary file and a rename, synced, readable by all
/// ([`PUBLIC_FILE_MODE`]; a temporary file starts 0600).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), PublishError> {
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io(dir))?;
    tmp.write_all(bytes)
        .and_then(|()| {
            tmp.as_file()
                .set_permissions(std::fs::Permissions::from_mode(PUBLIC_FILE_MODE))
        })
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(io(path))?;
    tmp.persist(path).map_err(|e| PublishError::Io {
        path: path.to_owned(),
        cause: e.error,
    })?;
    Ok(())
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
    fleet: Option<&Fleet>,
    now: Timestamp,
    lifetimes: &Lifetimes,
) -> Result<(), PublishError> {
    let targets = targets_dir(repo);
    let metadata = metadata_dir(repo);
    for d in [&targets, &metadata] {
        std::fs::create_dir_all(d).map_err(io(d))?;
    }
    let version = NonZeroU64::new(dataset.version).ok_or(PublishError::VersionZero { what: "dataset" })?;
    check_signed_files_unchanged(&metadata, &targets).await?;
    remove_leftovers(&targets)?;
    let sign_err = |e| PublishError::Sign(Box::new(e));
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
    let (v, at) = (dataset.version, dataset.as_of);
    let mut files: Vec<(String, serde_json::Value)> = Vec::new();
    for kind in TargetKind::ALL {
        let name = kind.file_name(v);
        let path = targets.join(&name);
        let mut bytes = Vec::new();
        match kind {
            TargetKind::Seals => write_records(&mut bytes, kind, v, at, &dataset.seals),
            TargetKind::Catalogue => write_records(&mut bytes, kind, v, at, std::slice::from_ref(&dataset.catalogue)),
            TargetKind::Revocations => write_records(&mut bytes, kind, v, at, &dataset.revocations),
            TargetKind::Cancellations => write_records(&mut bytes, kind, v, at, &dataset.cancellations),
            // Streamed by the publisher into `targets/` before this call (crate::lookup), and
            // listed when it is there: the index is optional.
            TargetKind::Lookup => {
                if path.exists() {
                    files.push((name, serde_json::json!({ "kind": kind.as_str(), "version": v })));
                }
                continue;
            }
            TargetKind::FleetKeys => match fleet {
                Some(f) => write_records(&mut bytes, kind, v, at, &f.grants),
                None => continue,
            },
        }
        .map_err(io(&path))?;
        let bytes = match fleet {
            Some(f) if kind.holder_linked() => f.seal(&path, &bytes)?,
            _ => bytes,
        };
        write_atomically(&path, &bytes)?;
        files.push((name, serde_json::json!({ "kind": kind.as_str(), "version": v })));
    }
    write_delta_file(&targets, TargetKind::Revocations, dataset, &dataset.revocations, fleet)?;
    write_delta_file(
        &targets,
        TargetKind::Cancellations,
        dataset,
        &dataset.cancellations,
        fleet,
    )?;
    // List the deltas of the last publications, so an appliance up to KEPT_DELTAS versions
    // behind fetches a short chain instead of the full files.
    for entry in std::fs::read_dir(&targets).map_err(io(&targets))?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some((kind, from, to)) = parse_delta_name(&name)
            && to <= v
            && to + KEPT_DELTAS > v
            // A delta an older publisher left in the clear is not listed once files are
            // sealed: appliances fetch the (sealed) full file instead.
            && (fleet.is_none() || !kind.holder_linked() || is_sealed_file(&targets.join(&name)))
        {
            files.push((
                name,
                serde_json::json!({ "kind": kind.as_str(), "version": to, "from": from }),
            ));
        }
    }
    // Nothing holder-linked goes out in the clear once there is a fleet (the lookup files are
    // written, sealed, by the authority before this call).
    if fleet.is_some() {
        for (name, custom) in &files {
            let kind = custom.get("kind").and_then(|k| k.as_str());
            let linked = TargetKind::ALL
                .iter()
                .any(|t| Some(t.as_str()) == kind && t.holder_linked());
            if linked && !is_sealed_file(&targets.join(name)) {
                return Err(PublishError::NotSealed { name: name.clone() });
            }
        }
    }
    for (name, custom) in files {
        let mut target = tough::schema::Target::from_path(targets.join(&name))
            .await
            .map_err(PublishError::Schema)?;
        if let serde_json::Value::Object(fields) = custom {
            target.custom.extend(fields);
        }
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
    if fleet.is_some() {
        remove_clear_holder_files(&targets)?;
    }
    Ok(())
}

/// Temporary files a publisher killed half-way left in `targets/` (never listed, but a
/// mirror's copy of the directory would take them).
fn remove_leftovers(targets: &Path) -> Result<(), PublishError> {
    for entry in std::fs::read_dir(targets).map_err(io(targets))?.flatten() {
        if entry.file_name().to_string_lossy().starts_with(".tmp") {
            std::fs::remove_file(entry.path()).map_err(io(&entry.path()))?;
        }
    }
    Ok(())
}

/// Once publications are sealed, the holder-linked files an older publisher wrote in the
/// clear go: the new metadata lists none of them, and the origin should not serve them.
fn remove_clear_holder_files(targets: &Path) -> Result<(), PublishError> {
    for entry in std::fs::read_dir(targets).map_err(io(targets))?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let linked = TargetKind::ALL
            .iter()
            .any(|k| k.holder_linked() && name.starts_with(&format!("{}.v", k.as_str())));
        if linked && !is_sealed_file(&entry.path()) {
            std::fs::remove_file(entry.path()).map_err(io(&entry.path()))?;
        }
    }
    Ok(())
}

/// Copy the current state of the repository at `repo` to `to` (a USB stick): all root
/// versions, the top-level metadata and the targets it lists. Files are written through
/// temporary files and renamed, `timestamp.json` last, so a copy interrupted half-way is
/// refused by certd rather than mixed.
pub fn export(repo: &Path, to: &Path) -> Result<usize, PublishError> {
    let location = repo.display().to_string();
    let (from_meta, from_targets) = (metadata_dir(repo), targets_dir(repo));
    let targets_json = from_meta.join("targets.json");
    let bytes = std::fs::read(&targets_json).map_err(io(&targets_json))?;
    let parsed: serde_json::Value = serde_json::from_slice(&bytes).map_err(|cause| PublishError::Unreadable {
        location: location.clone(),
        cause,
    })?;
    let names: Vec<String> = parsed
        .pointer("/signed/targets")
        .and_then(serde_json::Value::as_object)
        .map(|t| t.keys().cloned().collect())
        .ok_or_else(|| PublishError::NoTargets {
            location: location.clone(),
        })?;
    let (to_meta, to_targets) = (metadata_dir(to), targets_dir(to));
    for d in [&to_meta, &to_targets] {
        std::fs::create_dir_all(d).map_err(io(d))?;
    }
    let copy = |from: &Path, to: &Path| -> Result<(), PublishError> {
        let bytes = std::fs::read(from).map_err(io(from))?;
        write_atomically(to, &bytes)
    };
    let mut copied = 0;
    for name in &names {
        if name.contains('/') || name.starts_with('.') {
            return Err(PublishError::UnexpectedTarget {
                location,
                name: name.clone(),
            });
        }
        copy(&from_targets.join(name), &to_targets.join(name))?;
        copied += 1;
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(&from_meta)
        .map_err(io(&from_meta))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(".root.json"))
        })
        .collect();
    // Top-level metadata after every root, timestamp.json last.
    files.extend(["targets.json", "snapshot.json", "timestamp.json"].map(|n| from_meta.join(n)));
    for path in &files {
        copy(path, &to_meta.join(path.file_name().unwrap_or_default()))?;
        copied += 1;
    }
    Ok(copied)
}

/// Files signed by the last publication must still be the bytes that were signed — before
/// anything is written: a file changed on the publisher's disk (the previous full file a delta
/// is computed from, a delta listed again) is refused, never signed again.
async fn check_signed_files_unchanged(metadata: &Path, targets: &Path) -> Result<(), PublishError> {
    let Ok(bytes) = std::fs::read(metadata.join("targets.json")) else {
        return Ok(());
    };
    let signed = serde_json::from_slice::<Signed<tough::schema::Targets>>(&bytes)
        .map_err(|cause| PublishError::PublishedTargets { cause })?;
    let version = signed.signed.version;
    for (name, target) in signed.signed.targets {
        let path = targets.join(name.raw());
        if !path.exists() {
            continue;
        }
        let on_disk = tough::schema::Target::from_path(&path)
            .await
            .map_err(PublishError::Schema)?;
        if on_disk.hashes.sha256 != target.hashes.sha256 || on_disk.length != target.length {
            return Err(PublishError::SignedFileChanged {
                name: name.raw().to_owned(),
                version,
            });
        }
    }
    Ok(())
}

/// How many publications back deltas are listed for.
pub const KEPT_DELTAS: u64 = 30;

/// `KIND.vTO.fromFROM.jsonl.gz` → (kind, from, to).
fn parse_delta_name(name: &str) -> Option<(TargetKind, u64, u64)> {
    let rest = name.strip_suffix(".jsonl.gz")?;
    let (kind, rest) = rest.split_once(".v")?;
    let (to, from) = rest.split_once(".from")?;
    let kind = TargetKind::ALL
        .into_iter()
        .find(|k| k.as_str() == kind && k.has_deltas())?;
    let (from, to) = (from.parse().ok()?, to.parse().ok()?);
    (kind.delta_name(from, to) == name).then_some((kind, from, to))
}

/// Write the delta of `kind` from the previous publication's full file (if it is there).
fn write_delta_file<T: Record>(
    targets: &Path,
    kind: TargetKind,
    dataset: &Dataset,
    current: &[T],
    fleet: Option<&Fleet>,
) -> Result<(), PublishError> {
    let Some(previous) = dataset.version.checked_sub(1).filter(|p| *p > 0) else {
        return Ok(());
    };
    let old_path = targets.join(kind.file_name(previous));
    let Ok(old_bytes) = std::fs::read(&old_path) else {
        return Ok(());
    };
    // The previous file as it was written: sealed with an earlier content key, or in the
    // clear. One sealed with a key no longer held gets no delta (appliances fetch the full
    // file).
    let old_bytes = if fleet::is_sealed(&old_bytes) {
        let keys: Vec<ContentKey> = fleet
            .map(|f| {
                std::iter::once(f.key.clone())
                    .chain(f.earlier.iter().cloned())
                    .collect()
            })
            .unwrap_or_default();
        let mut clear = Vec::new();
        if fleet::open(&keys, old_bytes.as_slice(), &mut clear).is_err() {
            return Ok(());
        }
        clear
    } else {
        old_bytes
    };
    let location = targets.display().to_string();
    let (_, old) = RecordReader::open(old_bytes.as_slice(), kind)
        .and_then(|r| r.collect_all::<T>())
        .map_err(|source| PublishError::StatusFile {
            location,
            cause: source,
        })?;
    let ops = diff(&old, current);
    let path = targets.join(kind.delta_name(previous, dataset.version));
    let mut bytes = Vec::new();
    write_delta(
        &mut bytes,
        kind,
        (previous, dataset.version),
        dataset.as_of,
        &ops,
        current.len() as u64,
    )
    .map_err(io(&path))?;
    let bytes = match fleet {
        Some(f) => f.seal(&path, &bytes)?,
        None => bytes,
    };
    write_atomically(&path, &bytes)
}

/// Whether the file at `path` starts a fleet envelope.
pub fn is_sealed_file(path: &Path) -> bool {
    let mut head = [0u8; fleet::MAGIC.len()];
    std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
        .is_ok_and(|()| fleet::is_sealed(&head))
}
