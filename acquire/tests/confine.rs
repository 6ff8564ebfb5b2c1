//! The parsing child cannot harm the appliance (issue 16): once confined as the child confines
//! itself (`acquire::child::confine`), a process told to delete a file, truncate one, create,
//! rename, open a socket or run a program fails, and the files are intact. Each probe runs in a
//! process of its own: this test binary run again with the probe in its environment.

use std::path::Path;
use std::process::Command;

const PROBE: &str = "CERTKIOSK_CONFINE_PROBE";
const TEST: &str = "a_confined_process_cannot_delete_truncate_create_connect_or_run";

/// In the probe process: what it was told, with or without confinement; exit 0 if it worked,
/// 3 if it was refused.
fn probe(action: &str, dir: &Path) -> ! {
    let victim = dir.join("victim");
    // Opened before confinement, as an inherited descriptor would be.
    let held = std::fs::OpenOptions::new().write(true).open(&victim);
    let (confined, action) = match action.strip_prefix("free:") {
        Some(a) => (false, a),
        None => (true, action),
    };
    if confined {
        acquire::child::confine().expect("confine");
    }
    let worked = match action {
        "unlink" => std::fs::remove_file(&victim).is_ok(),
        "truncate" => held.and_then(|f| f.set_len(0)).is_ok(),
        "create" => std::fs::File::create(dir.join("new")).is_ok(),
        "rename" => std::fs::rename(&victim, dir.join("moved")).is_ok(),
        "read" => std::fs::read(&victim).is_ok(),
        "socket" => std::net::TcpListener::bind("127.0.0.1:0").is_ok(),
        "udp" => std::net::UdpSocket::bind("127.0.0.1:0").is_ok(),
        "exec" => Command::new("/bin/true").status().is_ok(),
        other => panic!("unknown probe {other}"),
    };
    std::process::exit(if worked { 0 } else { 3 })
}

fn run_probe(action: &str, dir: &Path) -> i32 {
    std::fs::write(dir.join("victim"), b"keep me").expect("victim");
    let out = Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", TEST, "--nocapture", "--test-threads=1"])
        .env(PROBE, format!("{action}|{}", dir.display()))
        .output()
        .expect("probe");
    out.status.code().unwrap_or(-1)
}

#[test]
fn a_confined_process_cannot_delete_truncate_create_connect_or_run() {
    if let Ok(told) = std::env::var(PROBE) {
        let (action, dir) = told.split_once('|').expect("probe");
        probe(action, Path::new(dir));
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    for action in [
        "unlink", "truncate", "create", "rename", "read", "socket", "udp", "exec",
    ] {
        // The probe works unconfined (else the test proves nothing) …
        assert_eq!(run_probe(&format!("free:{action}"), dir), 0, "{action} unconfined");
        let _ = std::fs::remove_file(dir.join("new"));
        let _ = std::fs::rename(dir.join("moved"), dir.join("victim"));
        // … and is refused confined, the files untouched.
        assert_eq!(run_probe(action, dir), 3, "{action} confined");
        assert_eq!(
            std::fs::read(dir.join("victim")).expect("victim"),
            b"keep me",
            "{action}"
        );
        assert!(!dir.join("new").exists() && !dir.join("moved").exists(), "{action}");
    }
}
