//! `certd run` as systemd runs it: a real nginx mirror on loopback, a repository copy
//! appearing on "removable media", the Prometheus endpoint scraped over TCP, readiness and
//! watchdog pings on a notify socket, and SIGTERM.

use certkiosk_tests::servers::{Nginx, free_port};
use certkiosk_tests::{bin, ok, run, stdout, terminate};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixDatagram;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What certd sent to the notify socket, message by message.
fn listen_for_notifications(socket: UnixDatagram) -> Arc<Mutex<Vec<String>>> {
    let said = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&said);
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = socket.recv(&mut buf) {
            if let Ok(mut s) = sink.lock() {
                s.push(String::from_utf8_lossy(&buf[..n]).into_owned());
            }
        }
    });
    said
}

fn scrape(port: u16, path: &str) -> String {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = write!(stream, "GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n");
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response
}

fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn said(notes: &Mutex<Vec<String>>, line: &str) -> usize {
    notes
        .lock()
        .map(|n| n.iter().filter(|m| m.lines().any(|l| l == line)).count())
        .unwrap_or(0)
}

#[test]
fn certd_run_syncs_imports_reports_and_stops_gracefully() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    ok(run("certsync", &["demo", "w"], d));
    let nginx = Nginx::serve(&d.join("w/repo"));
    let metrics_port = free_port();
    let config = d.join("w/certd-run.toml");
    std::fs::write(
        &config,
        format!(
            "trusted_root = \"root.json\"\nstate_dir = \"state-run\"\n\
             [sync]\nmirrors = [{:?}]\n\
             [run]\nfirst_sync_secs = 0\ninterval_minutes = 60\nmedia_dirs = [\"../media\"]\n\
             media_poll_secs = 1\nmetrics = \"127.0.0.1:{metrics_port}\"\n",
            nginx.url("repo")
        ),
    )
    .expect("config");
    let config = config.to_str().expect("utf-8").to_owned();
    std::fs::create_dir_all(d.join("media")).expect("media");

    let socket_path = d.join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).expect("notify socket");
    let notes = listen_for_notifications(socket);
    let log = std::fs::File::create(d.join("certd.log")).expect("log");
    let mut certd = Command::new(bin("certd"))
        .args(["--config", &config, "run"])
        .current_dir(d)
        .env("NOTIFY_SOCKET", &socket_path)
        .env("WATCHDOG_USEC", "1000000")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start certd run");

    wait_until("READY=1", Duration::from_secs(20), || said(&notes, "READY=1") == 1);
    // The first sync, from nginx.
    wait_until("publication 1 in the metrics", Duration::from_secs(30), || {
        scrape(metrics_port, "/metrics").contains("\ncertkiosk_data_version 1\n")
    });
    let metrics = scrape(metrics_port, "/metrics");
    assert!(metrics.starts_with("HTTP/1.1 200 OK\r\n"), "{metrics}");
    assert!(metrics.contains("Content-Type: text/plain; version=0.0.4"), "{metrics}");
    assert!(
        metrics.contains("certkiosk_syncs_total{result=\"ok\"} 1\n"),
        "{metrics}"
    );
    assert!(metrics.contains("certkiosk_last_sync_success 1\n"), "{metrics}");
    assert!(
        metrics.contains("# TYPE certkiosk_status_age_seconds gauge\n"),
        "{metrics}"
    );
    assert!(scrape(metrics_port, "/").starts_with("HTTP/1.1 404"));

    // Publication 2 reaches the kiosk only on a USB stick (the next sync is an hour away).
    ok(run("certsync", &["publish", "--dir", "w"], d));
    let stick = d.join("media/usb0/certkiosk");
    ok(run(
        "certsync",
        &["export", "--dir", "w", "--to", stick.to_str().expect("utf-8")],
        d,
    ));
    wait_until("publication 2 from the stick", Duration::from_secs(30), || {
        scrape(metrics_port, "/metrics").contains("\ncertkiosk_data_version 2\n")
    });
    let metrics = scrape(metrics_port, "/metrics");
    assert!(
        metrics.contains("certkiosk_imports_total{result=\"ok\"} 1\n"),
        "{metrics}"
    );
    // The stick stays in: its version is not imported again.
    std::thread::sleep(Duration::from_secs(3));
    assert!(scrape(metrics_port, "/metrics").contains("certkiosk_imports_total{result=\"ok\"} 1\n"));
    assert!(said(&notes, "WATCHDOG=1") >= 3, "{:?}", notes.lock().map(|n| n.clone()));

    // The store the service wrote is the one `certd verify` reads.
    let verified = stdout(&ok(run(
        "certd",
        &[
            "--config",
            &config,
            "verify",
            "--json",
            "w/samples/valid-association-before-2021.txt",
        ],
        d,
    )));
    assert!(verified.contains("\"verdict\":\"valid\""), "{verified}");
    // …and is counted from the audit log.
    let metrics = scrape(metrics_port, "/metrics");
    assert!(
        metrics.contains("certkiosk_verifications{verdict=\"valid\"} 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("certkiosk_verifications{verdict=\"revoked\"} 0\n"),
        "{metrics}"
    );

    // SIGTERM: a clean stop.
    let status = terminate(&mut certd, Duration::from_secs(15));
    assert!(status.success(), "{status:?}");
    assert_eq!(said(&notes, "STOPPING=1"), 1);
    let log = std::fs::read_to_string(d.join("certd.log")).expect("log");
    assert!(log.contains("SIGTERM") && log.contains("certd stopped"), "{log}");
    assert!(
        log.contains("import from ") && log.contains("media/usb0/certkiosk: applied publication 2"),
        "{log}"
    );
}
