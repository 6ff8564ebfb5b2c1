//! Optional Prometheus text exposition for `certd run`, on a configured loopback address (off
//! by default). A few gauges and counters an operator alerts on: the data version and its age,
//! how the last sync went and how long it took, sync and import counts.
//!
//! The HTTP side is deliberately tiny: one `GET /metrics` per connection, a bounded request,
//! a short timeout, `Connection: close`.

use crate::service::Job;
use certkiosk_appliance::config::Config;
use jiff::Timestamp;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What the service counts; the store's own figures are read at scrape time.
#[derive(Debug, Default, Clone)]
pub struct Metrics {
    pub syncs_ok: u64,
    pub syncs_failed: u64,
    pub imports_ok: u64,
    pub imports_failed: u64,
    pub last_sync: Option<LastSync>,
}

#[derive(Debug, Clone, Copy)]
pub struct LastSync {
    pub ok: bool,
    pub at: Timestamp,
    pub took: Duration,
}

impl Metrics {
    pub fn record(&mut self, job: &Job, ok: bool, took: Duration, at: Timestamp) {
        match (job, ok) {
            (Job::Mirrors, true) => self.syncs_ok += 1,
            (Job::Mirrors, false) => self.syncs_failed += 1,
            (Job::Import(_), true) => self.imports_ok += 1,
            (Job::Import(_), false) => self.imports_failed += 1,
        }
        self.last_sync = Some(LastSync { ok, at, took });
    }
}

/// The exposition text at `now`.
pub fn render(config: &Config, metrics: &Mutex<Metrics>, now: Timestamp) -> String {
    let m = metrics.lock().map(|m| m.clone()).unwrap_or_default();
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, samples: &[(&str, f64)]| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (labels, value) in samples {
            let _ = writeln!(out, "{name}{labels} {value}");
        }
    };
    let status = certkiosk_appliance::status::status(config, now)
        .inspect_err(|e| tracing::warn!(error = %e, "metrics: cannot read the store"))
        .ok();
    if let Some(s) = &status {
        if let Some(p) = &s.publication {
            metric(
                "certkiosk_data_version",
                "gauge",
                "Publication version of the status data in the store.",
                &[("", p.version as f64)],
            );
            metric(
                "certkiosk_status_as_of_seconds",
                "gauge",
                "The status data's as_of, as Unix time.",
                &[("", p.as_of.as_second() as f64)],
            );
        }
        if let Some(age) = s.age_seconds {
            metric(
                "certkiosk_status_age_seconds",
                "gauge",
                "Age of the status data's as_of.",
                &[("", age as f64)],
            );
        }
    }
    metric(
        "certkiosk_store_readable",
        "gauge",
        "1 when the store could be read.",
        &[("", if status.is_some() { 1.0 } else { 0.0 })],
    );
    if let Some(last) = m.last_sync {
        metric(
            "certkiosk_last_sync_success",
            "gauge",
            "1 when the last sync or import succeeded.",
            &[("", if last.ok { 1.0 } else { 0.0 })],
        );
        metric(
            "certkiosk_last_sync_timestamp_seconds",
            "gauge",
            "When the last sync or import finished, as Unix time.",
            &[("", last.at.as_second() as f64)],
        );
        metric(
            "certkiosk_last_sync_duration_seconds",
            "gauge",
            "How long the last sync or import took.",
            &[("", last.took.as_secs_f64())],
        );
    }
    if let Some(audit) = &config.audit {
        let counts = certkiosk_appliance::audit::count_verdicts(&audit.dir);
        let labels: Vec<(String, f64)> = certkiosk_verify::VerdictCode::ALL
            .iter()
            .map(|code| {
                let n = counts.get(code.as_str()).copied().unwrap_or(0);
                (format!("{{verdict=\"{}\"}}", code.as_str()), n as f64)
            })
            .collect();
        let samples: Vec<(&str, f64)> = labels.iter().map(|(l, n)| (l.as_str(), *n)).collect();
        metric(
            "certkiosk_verifications",
            "gauge",
            "Verifications in the kept audit log, by verdict.",
            &samples,
        );
    }
    metric(
        "certkiosk_syncs_total",
        "counter",
        "Scheduled syncs from the mirrors since start, by result.",
        &[
            ("{result=\"ok\"}", m.syncs_ok as f64),
            ("{result=\"error\"}", m.syncs_failed as f64),
        ],
    );
    metric(
        "certkiosk_imports_total",
        "counter",
        "Imports from removable media since start, by result.",
        &[
            ("{result=\"ok\"}", m.imports_ok as f64),
            ("{result=\"error\"}", m.imports_failed as f64),
        ],
    );
    out
}

/// Largest request read.
const MAX_REQUEST: usize = 8 * 1024;
/// A client that has not sent its request by then is dropped.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Serves `GET /metrics` on `listener` until the task is dropped.
pub async fn serve(listener: tokio::net::TcpListener, render: impl Fn() -> String + Send + Sync + 'static) {
    let render = std::sync::Arc::new(render);
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            continue;
        };
        let render = std::sync::Arc::clone(&render);
        tokio::spawn(async move {
            let Ok(Some(path)) = tokio::time::timeout(REQUEST_TIMEOUT, request_path(&mut stream)).await else {
                return;
            };
            let (status, body) = if path == "/metrics" {
                let render = std::sync::Arc::clone(&render);
                // Reading the store is blocking.
                match tokio::task::spawn_blocking(move || render()).await {
                    Ok(body) => ("200 OK", body),
                    Err(_) => ("500 Internal Server Error", String::new()),
                }
            } else {
                ("404 Not Found", "only /metrics is here\n".to_owned())
            };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(body.as_bytes()).await;
            let _ = stream.shutdown().await;
        });
    }
}

/// The path of a `GET` request, once its head has arrived; `None` for anything else.
async fn request_path(stream: &mut tokio::net::TcpStream) -> Option<String> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 || buf.len() + n > MAX_REQUEST {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let line = buf.split(|b| *b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut parts = line.split_whitespace();
    (parts.next()? == "GET").then_some(())?;
    Some(parts.next()?.to_owned())
}
