//! Optional Prometheus text exposition for `certd run`, on a configured loopback address (off
//! by default). A few gauges and counters an operator alerts on: the data version and its age,
//! how the last sync went and how long it took, sync and import counts.
//!
//! The HTTP side is deliberately tiny: one `GET /metrics` per connection, a bounded request,
//! a few connections at a time, each within a few seconds, `Connection: close` (issue 16: a
//! flood of idle connections used to exhaust certd's descriptors and spin the loop).

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

/// What one listener may cost the service, whoever connects.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Connections served at once; more wait in the kernel's backlog, holding no descriptor of
    /// certd's.
    pub connections: usize,
    /// A connection is dropped when its request and answer take longer than this together.
    pub per_connection: Duration,
    /// After a failed `accept` (out of descriptors, say) the listener pauses this long instead
    /// of trying again at once.
    pub accept_pause: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            connections: 8,
            per_connection: Duration::from_secs(5),
            accept_pause: Duration::from_millis(200),
        }
    }
}

/// Serves `GET /metrics` on `listener` until the task is dropped, within [`Limits::default`].
pub async fn serve(listener: tokio::net::TcpListener, render: impl Fn() -> String + Send + Sync + 'static) {
    serve_within(listener, render, Limits::default()).await;
}

/// [`serve`] within `limits`.
pub async fn serve_within(
    listener: tokio::net::TcpListener,
    render: impl Fn() -> String + Send + Sync + 'static,
    limits: Limits,
) {
    let render = std::sync::Arc::new(render);
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(limits.connections));
    loop {
        // A slot first, then a connection: a flood waits in the backlog, not in certd.
        let Ok(slot) = std::sync::Arc::clone(&slots).acquire_owned().await else {
            return;
        };
        let mut stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!(error = %e, "metrics: cannot accept a connection");
                tokio::time::sleep(limits.accept_pause).await;
                continue;
            }
        };
        let render = std::sync::Arc::clone(&render);
        tokio::spawn(async move {
            let _slot = slot;
            let _ = tokio::time::timeout(limits.per_connection, answer(&mut stream, render)).await;
        });
    }
}

/// Reads one request on `stream` and answers it.
async fn answer(
    stream: &mut tokio::net::TcpStream,
    render: std::sync::Arc<impl Fn() -> String + Send + Sync + 'static>,
) {
    let Some(path) = request_path(stream).await else {
        return;
    };
    let (status, body) = if path == "/metrics" {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    fn open_descriptors() -> usize {
        std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count())
    }

    fn scrape(addr: std::net::SocketAddr) -> String {
        let Ok(mut stream) = std::net::TcpStream::connect(addr) else {
            return String::new();
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let _ = stream.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer
    }

    #[tokio::test]
    async fn a_flood_of_idle_connections_costs_a_few_descriptors_and_scrapes_go_on() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let limits = Limits {
            connections: 4,
            per_connection: Duration::from_millis(500),
            accept_pause: Duration::from_millis(50),
        };
        tokio::spawn(serve_within(listener, || "up 1\n".to_owned(), limits));
        let before = open_descriptors();
        let flood: Vec<std::net::TcpStream> = tokio::task::spawn_blocking(move || {
            (0..150)
                .filter_map(|_| std::net::TcpStream::connect(addr).ok())
                .collect()
        })
        .await
        .expect("flood");
        tokio::time::sleep(Duration::from_millis(200)).await;
        // The flood's own 150 sockets, and at most the 4 certd accepted (without the limit,
        // 150 more). The count is the whole process's: other tests running beside this one
        // may hold a few dozen files meanwhile.
        let held = open_descriptors().saturating_sub(before);
        assert!(
            held <= flood.len() + limits.connections + 50,
            "{held} descriptors for {} connections",
            flood.len()
        );
        // The runtime the service shares is not kept busy meanwhile: a timer fires on time.
        let asked = std::time::Instant::now();
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(asked.elapsed() < Duration::from_millis(300), "{:?}", asked.elapsed());
        // The flood gone, the next scrape is answered.
        drop(flood);
        let answer = tokio::task::spawn_blocking(move || scrape(addr)).await.expect("scrape");
        assert!(
            answer.starts_with("HTTP/1.1 200 OK") && answer.ends_with("up 1\n"),
            "{answer}"
        );
    }
}
