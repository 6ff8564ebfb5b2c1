//! How repository files reach the appliance: from an HTTP(S) mirror, through tough's
//! [`Transport`] trait (STYLE 5: the transport is a parameter, tests use loopback).
//!
//! One attempt per file, bounded in time: a connect timeout, and a deadline for the whole
//! transfer so a server that drips bytes forever cannot hold a sync. Retries with backoff and
//! jitter happen a level up, over the whole sync and the list of mirrors (`certd`), because a
//! half-read repository is worth nothing. tough caps every file at its signed (or configured)
//! length, so an endless body is cut off there.

use futures::StreamExt;
use std::time::Duration;
use tough::{Transport, TransportError, TransportErrorKind, TransportStream, async_trait};
use url::Url;

/// Time limits of one file fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    pub connect_timeout: Duration,
    /// The whole transfer of one file, headers to last byte.
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

/// Fetches `http://` and `https://` URLs with reqwest (rustls, the system's CA store).
#[derive(Debug, Clone)]
pub struct HttpTransport {
    client: reqwest::Client,
}

impl HttpTransport {
    pub fn new(limits: HttpLimits) -> Result<HttpTransport, String> {
        let client = reqwest::Client::builder()
            .connect_timeout(limits.connect_timeout)
            .timeout(limits.file_timeout)
            .user_agent(concat!("certkiosk-certd/", env!("CARGO_PKG_VERSION")))
            .no_proxy()
            .build()
            .map_err(|e| format!("cannot set up the HTTP client: {e}"))?;
        Ok(HttpTransport { client })
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
        let response = self
            .client
            .get(url.clone())
            .send()
            .await
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
        let stream = response.bytes_stream().map(move |chunk| {
            chunk.map_err(|e| TransportError::new_with_cause(TransportErrorKind::Other, url.clone(), describe(&e)))
        });
        Ok(Box::pin(stream))
    }
}
