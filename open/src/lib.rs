//! Opening a file that someone else controls — on a USB stick, or at a path a person typed —
//! so that no file can stop the appliance (docs/design.md §7, issue 16):
//!
//! * the open never blocks: `O_NONBLOCK`, so a FIFO or a device answers at once instead of
//!   waiting for a writer that never comes;
//! * only a regular file is read: `fstat` on the opened descriptor (not a second look at the
//!   path, which could change in between) must say so, and a FIFO, device, socket or directory
//!   is refused by name;
//! * its size is capped before a byte is read;
//! * under a root (a repository copy), the path is resolved by the kernel beneath it
//!   (`openat2` with `RESOLVE_BENEATH`): no `..`, absolute path or symbolic link leads out.
//!
//! A file can still grow after it is opened; readers cap what they read as well
//! ([`Opened::read_capped`]).

use rustix::fs::{FileType, Mode, OFlags, ResolveFlags};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Why a file was not opened. Paths print as `{:?}` would: quoted, with control characters
/// escaped, since they come from whoever made the file.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("{path:?}: {cause}")]
    Io { path: PathBuf, cause: std::io::Error },
    #[error("{path:?} is a {kind}, not a regular file")]
    NotRegular { path: PathBuf, kind: &'static str },
    #[error("{path:?} is {len} bytes, more than the {max} accepted")]
    TooLarge { path: PathBuf, len: u64, max: u64 },
    #[error("{path:?} leads out of {root:?}")]
    Escapes { path: PathBuf, root: PathBuf },
}

impl OpenError {
    /// Nothing is there (as opposed to something that was refused).
    pub fn is_not_found(&self) -> bool {
        matches!(self, OpenError::Io { cause, .. } if cause.kind() == std::io::ErrorKind::NotFound)
    }
}

/// An opened regular file and its size when it was opened.
#[derive(Debug)]
pub struct Opened {
    pub file: File,
    pub len: u64,
    max: u64,
    path: PathBuf,
}

impl Opened {
    /// All of the file, refusing it if it grew past the cap since it was opened.
    pub fn read_capped(self) -> Result<Vec<u8>, OpenError> {
        let Opened { file, len, max, path } = self;
        let mut bytes = Vec::with_capacity(len.min(max) as usize);
        let read = file.take(max.saturating_add(1)).read_to_end(&mut bytes);
        read.map_err(|cause| OpenError::Io {
            path: path.clone(),
            cause,
        })?;
        if bytes.len() as u64 > max {
            return Err(OpenError::TooLarge {
                path,
                len: bytes.len() as u64,
                max,
            });
        }
        Ok(bytes)
    }
}

const FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::NONBLOCK)
    .union(OFlags::NOCTTY)
    .union(OFlags::CLOEXEC);

/// Open the regular file at `path` (a path a person gave: symbolic links are followed), at
/// most `max` bytes long.
pub fn open(path: &Path, max: u64) -> Result<Opened, OpenError> {
    let fd = rustix::fs::open(path, FLAGS, Mode::empty()).map_err(|e| io(path, e))?;
    checked(File::from(fd), path, max)
}

/// Open `relative` beneath the directory `root` (a repository copy on a stick): the kernel
/// refuses any resolution that leaves `root`, whether by `..`, an absolute path or a symbolic
/// link; links inside it are followed.
pub fn open_beneath(root: &Path, relative: &Path, max: u64) -> Result<Opened, OpenError> {
    let path = root.join(relative);
    let dir = rustix::fs::open(root, FLAGS | OFlags::DIRECTORY, Mode::empty()).map_err(|e| io(root, e))?;
    let resolve = ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS;
    let fd = match rustix::fs::openat2(&dir, relative, FLAGS, Mode::empty(), resolve) {
        Ok(fd) => fd,
        Err(rustix::io::Errno::XDEV) => {
            return Err(OpenError::Escapes {
                path,
                root: root.to_owned(),
            });
        }
        // Kernels before 5.6: resolve it ourselves, then open the final name without
        // following a link (a swap in between is refused, not followed).
        Err(rustix::io::Errno::NOSYS) => return open_beneath_by_hand(root, relative, max),
        Err(e) => return Err(io(&path, e)),
    };
    checked(File::from(fd), &path, max)
}

fn open_beneath_by_hand(root: &Path, relative: &Path, max: u64) -> Result<Opened, OpenError> {
    let path = root.join(relative);
    let escapes = || OpenError::Escapes {
        path: path.clone(),
        root: root.to_owned(),
    };
    let real_root = std::fs::canonicalize(root).map_err(|cause| OpenError::Io {
        path: root.to_owned(),
        cause,
    })?;
    let real = std::fs::canonicalize(&path).map_err(|cause| OpenError::Io {
        path: path.clone(),
        cause,
    })?;
    if relative.is_absolute() || !real.starts_with(&real_root) {
        return Err(escapes());
    }
    let fd = rustix::fs::open(&real, FLAGS | OFlags::NOFOLLOW, Mode::empty()).map_err(|e| io(&path, e))?;
    checked(File::from(fd), &path, max)
}

fn io(path: &Path, e: rustix::io::Errno) -> OpenError {
    OpenError::Io {
        path: path.to_owned(),
        cause: e.into(),
    }
}

fn checked(file: File, path: &Path, max: u64) -> Result<Opened, OpenError> {
    let stat = rustix::fs::fstat(&file).map_err(|e| io(path, e))?;
    let kind = match FileType::from_raw_mode(stat.st_mode) {
        FileType::RegularFile => None,
        FileType::Directory => Some("directory"),
        FileType::Fifo => Some("FIFO (named pipe)"),
        FileType::CharacterDevice => Some("character device"),
        FileType::BlockDevice => Some("block device"),
        FileType::Socket => Some("socket"),
        FileType::Symlink => Some("symbolic link"),
        FileType::Unknown => Some("special file"),
    };
    if let Some(kind) = kind {
        return Err(OpenError::NotRegular {
            path: path.to_owned(),
            kind,
        });
    }
    let len = u64::try_from(stat.st_size).unwrap_or(u64::MAX);
    if len > max {
        return Err(OpenError::TooLarge {
            path: path.to_owned(),
            len,
            max,
        });
    }
    Ok(Opened {
        file,
        len,
        max,
        path: path.to_owned(),
    })
}

#[cfg(test)]
mod tests;
