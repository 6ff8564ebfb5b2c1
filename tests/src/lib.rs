//! Helpers for the end-to-end tests in `tests/`: they run the real `certsync` and `certd`
//! binaries, as an operator or a script would.

pub mod servers;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The directory holding the workspace's binaries (`target/debug` for `cargo test`).
fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/debug/deps/<test> → target/debug
    exe.parent().and_then(Path::parent).expect("target dir").to_path_buf()
}

/// Path of a workspace binary, built once per test process if it is missing or stale.
pub fn bin(name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut args = vec!["build", "--quiet", "-p", "certd", "-p", "certkiosk-sync", "--bins"];
        if bin_dir().ends_with("release") {
            args.push("--release");
        }
        let status = Command::new(cargo)
            .args(&args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("run cargo build for the binaries");
        assert!(status.success(), "building certd and certsync failed");
    });
    bin_dir().join(name)
}

/// Run a binary; returns its output (never panics on a non-zero exit).
pub fn run(name: &str, args: &[&str], dir: &Path) -> Output {
    Command::new(bin(name))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("spawn binary")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Assert a command succeeded, showing its stderr when not.
pub fn ok(o: Output) -> Output {
    assert!(o.status.success(), "exit {:?}: {}", o.status.code(), stderr(&o));
    o
}

/// `certsync demo NAME` in `dir`, synced once with its own config; returns that config's path
/// (relative to `dir`, where the binaries run).
pub fn synced_demo_world(dir: &Path, name: &str) -> String {
    ok(run("certsync", &["demo", name], dir));
    let config = format!("{name}/certd.toml");
    ok(run("certd", &["--config", &config, "sync", "--once"], dir));
    config
}
