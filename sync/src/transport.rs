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

use certkiosk_formats::repository::HttpLimits;
use futures::StreamExt;
use std::time::Duration;
use tough::{Transport, TransportError, TransportErrorKind, TransportStream, async_trait};
use url::Url;

/// The slowest transfer a large file may run at (on average, beyond `file_timeout`): 64 KiB/s,
/// so 200 MB may take up to 52 minutes more.
pub const MIN_BYTES_PER_SEC: u64 = 64 * 1024;

/// When a transfer that started at `start` and has `received` bytes must be over.
fn deadline(start: tokio::time::Instant, limits: HttpLimits, received: u64) -> tokio::time::Instant {
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
        let client = reqwest::Client::builder()
            .connect_timeout(limits.connect_timeout)
            .user_agent(concat!("certkiosk-certd/", env!("CARGO_PKG_VERSION")))
            .no_proxy()
            .build()?;
        Ok(HttpTransport { client, limits })
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
        let limits = self.limits;
        let timed_out = |url: &Url| TransportError::new_with_cause(TransportErrorKind::Other, url.clone(), "timed out");
        let response = tokio::time::timeout_at(deadline(start, limits, 0), self.client.get(url.clone()).send())
            .await
            .map_err(|_| timed_out(&url))?
            .map_err(|e| TransportError::new_with_cause(TransportErrorKind::Other, url.clone(), describe(&e)))?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND || status == reqwest::StatusCode::GONE {
            return Err(TransportError::new(TransportErrorKind::FileNotFound, url));
        }
        if !status.is_success() {
            return Err(TransportError::new_with_cause(
                TransportErrorKind::Other,
                url,
                format!("HTTP {status}"),
            ));
        }
        // Each chunk must come before the deadline its predecessors earned; after an error the
        // stream ends.
        let body = response.bytes_stream();
        let stream = futures::stream::unfold(Some((body, 0u64)), move |state| {
            let url = url.clone();
            async move {
                let (mut body, received) = state?;
                match tokio::time::timeout_at(deadline(start, limits, received), body.next()).await {
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
