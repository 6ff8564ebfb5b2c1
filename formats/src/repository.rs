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

/// Time limits of one file fetch, and the proxy it goes through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpLimits {
    pub connect_timeout: Duration,
    /// One file, headers to last byte, beyond the time its bytes earn at
    /// the transport's minimum rate.
    pub file_timeout: Duration,
    pub proxy: Proxy,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            connect_timeout: Duration::from_secs(10),
            file_timeout: Duration::from_secs(120),
            proxy: Proxy::default(),
        }
    }
}

/// The HTTP proxy mirrors are fetched through (`sync.proxy`, else the environment's
/// `https_proxy`, `http_proxy` and `no_proxy`). The URLs are checked when the configuration
/// is read; one may hold a user and password, so it is only ever shown through [`Proxy::shown`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Proxy {
    /// For `http://` mirrors.
    pub http: Option<String>,
    /// For `https://` mirrors (a CONNECT tunnel: the proxy sees the host, not the files).
    pub https: Option<String>,
    /// Hosts reached directly: a name matches itself and its subdomains, `*` every host.
    pub no_proxy: Vec<String>,
}

impl Proxy {
    /// The proxy for a mirror at `scheme://host`: none for the appliance's own loopback, nor
    /// for a `no_proxy` host.
    pub fn for_host(&self, scheme: &str, host: &str) -> Option<&str> {
        let host = host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
        let loopback = host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
        let direct = self.no_proxy.iter().any(|n| {
            let n = n.trim().trim_start_matches('.').to_ascii_lowercase();
            n == "*" || (!n.is_empty() && (host == n || host.ends_with(&format!(".{n}"))))
        });
        if loopback || direct {
            return None;
        }
        match scheme {
            "http" => self.http.as_deref(),
            "https" => self.https.as_deref(),
            _ => None,
        }
    }

    /// A proxy URL as it may be shown or logged: its host and port, never a user or password.
    pub fn shown(url: &str) -> String {
        let rest = url.split_once("://").map_or(url, |(_, r)| r);
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        crate::escape::line(host).into_owned()
    }
}
