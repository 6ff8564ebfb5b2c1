//! How repository files reach the appliance: from an HTTP(S) mirror, through tough's
//! [`Transport`] trait (the transport is a parameter, tests use loopback).
//!
//! One attempt per file, bounded in time: a connect timeout, and a deadline for the transfer
//! so a server that drips bytes forever cannot hold a sync. The deadline is `file_timeout`
//! plus the time the bytes received so far would take at [`MIN_BYTES_PER_SEC`]: a 200 MB
//! lookup index over an ordinary link finishes, a drip is cut off after `file_timeout`. Retries with backoff and
//! jitter happen a level up, over the whole sync and the list of mirrors (`certd`), because a
//! half-read repository is worth nothing. tough caps every file at its signed (or configured)
//! length, so an endless body is cut off there.

use certkiosk_formats::repository::{HttpLimits, Proxy};
use futures::StreamExt;
use std::time::Duration;
use tough::{Transport, TransportError, TransportErrorKind, TransportStream, async_trait};
use url::Url;

/// The slowest transfer a large file may run at (on average, beyond `file_timeout`): 64 KiB/s,
/// so 200 MB may take up to 52 minutes more.
pub const MIN_BYTES_PER_SEC: u64 = 64 * 1024;

/// When a transfer that started at `start` and has `received` bytes must be over.
fn deadline(start: tokio::time::Instant, limits: &HttpLimits, received: u64) -> tokio::time::Instant {
    start + limits.file_timeout + Duration::from_millis(received.saturating_mul(1000) / MIN_BYTES_PER_SEC)
}

/// Fetches `http://` and `https://` URLs with reqwest (rustls, the system's CA store).
#[derive(Debug, Clone)]
pub struct HttpTransport {
    client: reqwest::Client,
    limits: HttpLimits,
}

impl HttpTransport {
    pub fn new(limits: HttpLimits) -> Result<HttpTransport, reqwest::Error> {
        let builder = reqwest::Client::builder()
            .connect_timeout(limits.connect_timeout)
            .user_agent(concat!("certkiosk-certd/", env!("CARGO_PKG_VERSION")));
        // The proxy comes from the configuration (which read the environment, where it may);
        // reqwest's own reading of the environment stays off.
        let builder = if limits.proxy == Proxy::default() {
            builder.no_proxy()
        } else {
            let proxy = limits.proxy.clone();
            builder.proxy(reqwest::Proxy::custom(move |url| {
                proxy
                    .for_host(url.scheme(), url.host_str()?)
                    .and_then(|p| Url::parse(p).ok())
            }))
        };
        Ok(HttpTransport {
            client: builder.build()?,
            limits,
        })
    }

    /// " (through proxy HOST:PORT)" when `url` is fetched through one, for error lines.
    fn through(&self, url: &Url) -> String {
        url.host_str()
            .and_then(|h| self.limits.proxy.for_host(url.scheme(), h))
            .map(|p| format!(" (through proxy {})", Proxy::shown(p)))
            .unwrap_or_default()
    }
}

/// The shortest useful description of a reqwest error, on one line.
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "cannot connect".to_owned()
    } else if e.is_body() || e.is_decode() {
        "connection broke during the transfer (truncated body)".to_owned()
    } else {
        let mut msg = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            msg = format!("{msg}: {s}");
            source = s.source();
        }
        msg.replace('\n', " ")
    }
}

#[async_trait]
impl Transport for HttpTransport {
    async fn fetch(&self, url: Url) -> Result<TransportStream, TransportError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(TransportError::new(TransportErrorKind::UnsupportedUrlScheme, url));
        }
        let start = tokio::time::Instant::now();
        let limits = self.limits.clone();
        let through = self.through(&url);
        let timed_out = {
            let through = through.clone();
            move |url: &Url| {
                TransportError::new_with_cause(TransportErrorKind::Other, url.clone(), format!("timed out{through}"))
            }
        };
        let response = tokio::time::timeout_at(deadline(start, &limits, 0), self.client.get(url.clone()).send())
            .await
            .map_err(|_| timed_out(&url))?
            .map_err(|e| {
                TransportError::new_with_cause(
                    TransportErrorKind::Other,
                    url.clone(),
                    format!("{}{through}", describe(&e)),
                )
            })?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND || status == reqwest::StatusCode::GONE {
            return Err(TransportError::new(TransportErrorKind::FileNotFound, url));
        }
        if !status.is_success() {
            return Err(TransportError::new_with_cause(
                TransportErrorKind::Other,
                url,
                format!("HTTP {status}{through}"),
            ));
        }
        // Each chunk must come before the deadline its predecessors earned; after an error the
        // stream ends.
        let body = response.bytes_stream();
        let stream = futures::stream::unfold(Some((body, 0u64)), move |state| {
            let (url, limits, timed_out) = (url.clone(), limits.clone(), timed_out.clone());
            async move {
                let (mut body, received) = state?;
                match tokio::time::timeout_at(deadline(start, &limits, received), body.next()).await {
                    Err(_) => Some((Err(timed_out(&url)), None)),
                    Ok(None) => None,
                    Ok(Some(Err(e))) => Some((
                        Err(TransportError::new_with_cause(
                            TransportErrorKind::Other,
                            url,
                            describe(&e),
                        )),
                        None,
                    )),
                    Ok(Some(Ok(chunk))) => {
                        let received = received + chunk.len() as u64;
                        Some((Ok(chunk), Some((body, received))))
                    }
                }
            }
        });
        Ok(Box::pin(stream))
    }
}

/// The largest file a repository copy on removable media may hand us: above the signed length
/// of any target (tough stops reading at that length anyway), below what would fill the spool.
pub const MAX_COPY_FILE: u64 = 4 << 30;

/// Reads `file://` URLs of a repository copy (a USB stick) beneath `root`, through
/// [`certkiosk_open`]: a FIFO, device or socket is refused at once instead of blocking the
/// sync, nothing resolves out of `root`, and names are percent-decoded (a stick mounted at
/// `/media/u/我的U盘` or `…/USB DISK`).
#[derive(Debug, Clone)]
pub struct DirTransport {
    root: std::path::PathBuf,
}

impl DirTransport {
    /// `root` must be absolute (the fetch canonicalises it).
    pub fn new(root: std::path::PathBuf) -> DirTransport {
        DirTransport { root }
    }
}

#[async_trait]
impl Transport for DirTransport {
    async fn fetch(&self, url: Url) -> Result<TransportStream, TransportError> {
        let refused = |url: &Url, kind, cause: String| TransportError::new_with_cause(kind, url.clone(), cause);
        if url.scheme() != "file" {
            return Err(TransportError::new(TransportErrorKind::UnsupportedUrlScheme, url));
        }
        let path = url
            .to_file_path()
            .map_err(|()| refused(&url, TransportErrorKind::Other, "not a local path".into()))?;
        let relative = path
            .strip_prefix(&self.root)
            .map_err(|_| refused(&url, TransportErrorKind::Other, "outside the repository copy".into()))?
            .to_owned();
        let root = self.root.clone();
        let opened = tokio::task::spawn_blocking(move || certkiosk_open::open_beneath(&root, &relative, MAX_COPY_FILE))
            .await
            .map_err(|e| refused(&url, TransportErrorKind::Other, e.to_string()))?
            .map_err(|e| {
                let kind = if e.is_not_found() {
                    TransportErrorKind::FileNotFound
                } else {
                    TransportErrorKind::Other
                };
                refused(&url, kind, e.to_string())
            })?;
        let file = tokio::fs::File::from_std(opened.file);
        let stream = futures::stream::unfold(Some(file), move |state| {
            let url = url.clone();
            async move {
                let mut file = state?;
                let mut chunk = vec![0u8; 64 * 1024];
                match tokio::io::AsyncReadExt::read(&mut file, &mut chunk).await {
                    Ok(0) => None,
                    Ok(n) => {
                        chunk.truncate(n);
                        Some((Ok(chunk.into()), Some(file)))
                    }
                    Err(e) => Some((
                        Err(TransportError::new_with_cause(TransportErrorKind::Other, url, e)),
                        None,
                    )),
                }
            }
        });
        Ok(Box::pin(stream))
    }
}
