//! `certd set-pin`: stores the kiosk's admin PIN as an Argon2id hash, `[kiosk] admin_pin_hash`,
//! in the configuration file (docs/decisions/0019-admin-pin.md). Everything else in the file —
//! comments, order, other keys — stays as it was, and so do its mode and owner. A plain
//! `admin_pin`, which the configuration no longer accepts, is removed. The PIN is never printed.

use certkiosk_appliance::pin::{PinError, PinHash};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Why the PIN was not set; the file is then unchanged.
#[derive(Debug, thiserror::Error)]
pub enum SetPinError {
    #[error(transparent)]
    Pin(#[from] PinError),
    #[error("config {}: cannot read: {cause}", file.display())]
    Read { file: PathBuf, cause: std::io::Error },
    #[error("config {}: line {line}: {message}", file.display())]
    Syntax {
        file: PathBuf,
        line: usize,
        message: String,
    },
    #[error("config {}: kiosk: is not a table", file.display())]
    KioskNotATable { file: PathBuf },
    #[error("config {}: cannot write: {cause}", file.display())]
    Write { file: PathBuf, cause: std::io::Error },
}

/// Hashes `pin` and writes it into `file` as `[kiosk] admin_pin_hash`, replacing any earlier
/// hash or plain `admin_pin`. The file is replaced atomically (a synced temporary file renamed
/// over it) with the same mode, owner and group; a symbolic link is followed, not replaced.
pub fn set_pin(file: &Path, pin: &str) -> Result<(), SetPinError> {
    let hash = PinHash::new(pin)?;
    let read = |cause| SetPinError::Read {
        file: file.to_owned(),
        cause,
    };
    let path = std::fs::canonicalize(file).map_err(read)?;
    let text = std::fs::read_to_string(&path).map_err(read)?;
    let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
        let line = e
            .span()
            .map_or(1, |s| text[..s.start.min(text.len())].matches('\n').count() + 1);
        SetPinError::Syntax {
            file: file.to_owned(),
            line,
            message: e.message().replace('\n', " "),
        }
    })?;
    let kiosk = doc
        .entry("kiosk")
        .or_insert_with(toml_edit::table)
        .as_table_like_mut()
        .ok_or_else(|| SetPinError::KioskNotATable { file: file.to_owned() })?;
    kiosk.remove("admin_pin");
    kiosk.insert("admin_pin_hash", toml_edit::value(hash.as_str()));
    replace(&path, doc.to_string().as_bytes()).map_err(|cause| SetPinError::Write {
        file: file.to_owned(),
        cause,
    })
}

/// `bytes` as the whole of `path`, which keeps its mode, owner and group.
fn replace(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let old = std::fs::metadata(path)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new().prefix(".certd-set-pin.").tempfile_in(dir)?;
    let new = tmp.as_file().metadata()?;
    if (new.uid(), new.gid()) != (old.uid(), old.gid()) {
        std::os::unix::fs::fchown(tmp.as_file(), Some(old.uid()), Some(old.gid()))?;
    }
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(old.mode() & 0o7777))?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    // The rename reaches the disk with the directory. The file is replaced already: a failure
    // here is said, not reported as "nothing changed".
    if let Err(e) = std::fs::File::open(dir).and_then(|d| d.sync_all()) {
        tracing::warn!("{}: PIN set, but the directory could not be synced: {e}", dir.display());
    }
    Ok(())
}
