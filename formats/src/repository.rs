//! Where a repository is and how it is laid out: a directory (a mirror copy, a USB stick) or
//! an HTTP(S) mirror, each holding `metadata/` and `targets/`; and the time limits a reader
//! of a mirror keeps to. Both the configuration (certd's and the kiosk's) and the fetch use
//! these, so they live here rather than with the fetch, which only certd links.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// The repository's layout: its signed metadata under `metadata/`…
pub fn metadata_dir(repo: &Path) -> PathBuf {
    repo.join("metadata")
}

/// …and the target files under `targets/`, one directory each.
pub fn targets_dir(repo: &Path) -> PathBuf {
    repo.join("targets")
}

/// Where a repository is read from: a directory (a mirror copy, a USB stick) holding
/// `metadata/` and `targets/`, or the base URL of an HTTP(S) mirror with the same layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Dir(PathBuf),
    /// An `http://` or `https://` URL ending in `/`, as the configuration's parser
    /// (`certkiosk_appliance::config::parse_source`) checked it. (A URL type here would pull
    /// an IDNA stack into every crate that reads the formats, the verdict engine included.)
    Http(String),
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Dir(p) => write!(f, "{}", p.display()),
            Source::Http(u) => write!(f, "{u}"),
        }
    }
}

/// Time limits of one file fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    pub connect_timeout: Duration,
    /// One file, headers to last byte, beyond the time its bytes earn at
    /// the transport's minimum rate.
    pub file_timeout: Duration,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            connect_timeout: Duration::from_secs(10),
            file_timeout: Duration::from_secs(120),
        }
    }
}
