//! Helpers for the end-to-end tests in `tests/`: they run the real `certsync` and `certd`
//! binaries, as an operator or a script would.

pub mod servers;
pub mod tamper;
pub mod world;

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
        // scripts/clock-shift built them already, at the real time: cargo and rustc are not
        // run under its shifted clock (rustc hangs under libfaketime).
        if std::env::var_os("CERTKIOSK_TEST_BINS_BUILT").is_some() {
            return;
        }
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut args = vec!["build", "--quiet", "-p", "certd", "-p", "certsync", "--bins"];
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

/// Run a binary that must end by itself: it is killed after `limit`, and the test fails, if it
/// has not (a hang is a failure, not a slow pass; `limit` is generous, not a benchmark).
pub fn run_within(limit: std::time::Duration, name: &str, args: &[&str], dir: &Path) -> Output {
    let mut child = Command::new(bin(name))
        .args(args)
        .current_dir(dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn binary");
    let started = std::time::Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!("{name} {args:?} still running after {limit:?}: {}", stderr(&out));
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.wait_with_output().expect("output")
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

/// The current time, to the whole second.
pub fn now() -> jiff::Timestamp {
    jiff::Timestamp::from_second(jiff::Timestamp::now().as_second()).expect("ts")
}

/// A single-threaded runtime for the authority library's async calls.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// `certd status --json` of the appliance configured by `config`, run in `dir`.
pub fn status_json(config: &str, dir: &Path) -> serde_json::Value {
    serde_json::from_str(&stdout(&ok(run(
        "certd",
        &["--config", config, "status", "--json"],
        dir,
    ))))
    .expect("status json")
}

/// `certsync demo NAME` in `dir`, synced once with its own config; returns that config's path
/// (relative to `dir`, where the binaries run).
pub fn synced_demo_world(dir: &Path, name: &str) -> String {
    ok(run("certsync", &["demo", name], dir));
    let config = format!("{name}/certd.toml");
    ok(run("certd", &["--config", &config, "sync", "--once"], dir));
    config
}

/// The key of TUF role `role` of the authority in `dir` (`certsync init`).
pub fn role_key(dir: &Path, role: &str) -> ed25519_dalek::SigningKey {
    certsync::keys::read_key(&dir.join("keys").join(format!("{role}.pem"))).expect("key")
}

/// The TUF role keys of the authority in `dir` (`certsync init`), for tests that sign a
/// repository themselves.
pub fn role_keys(dir: &Path) -> certsync::publish::RoleKeySet {
    certsync::publish::RoleKeySet {
        root: role_key(dir, "root"),
        targets: role_key(dir, "targets"),
        snapshot: role_key(dir, "snapshot"),
        timestamp: role_key(dir, "timestamp"),
    }
}

/// Sign `dataset` into `auth/repo` with the role keys of the authority in `auth`, as of `as_of`
/// (listing the lookup files already in its targets, as [`write_lookup`] leaves them), in the
/// clear, as a publisher before the fleet envelope wrote it: appliances still read that.
pub fn publish_dataset(
    rt: &tokio::runtime::Runtime,
    auth: &Path,
    dataset: &certkiosk_formats::status::Dataset,
    as_of: jiff::Timestamp,
) {
    rt.block_on(certsync::publish::publish(
        &auth.join("repo"),
        &auth.join("root.json"),
        &role_keys(auth),
        dataset,
        None,
        as_of,
        &certsync::publish::Lifetimes::default(),
    ))
    .expect("publish");
}

/// The content key that publication `version` in `targets` grants the appliance whose fleet
/// key file is `key_file`, as its sync would unwrap it.
pub fn granted_key(targets: &Path, version: u64, key_file: &Path) -> certkiosk_formats::fleet::ContentKey {
    use certkiosk_formats::fleet::{ApplianceKey, Grant};
    use certkiosk_formats::status::{RecordReader, TargetKind};
    let me = ApplianceKey::from_file_text(&std::fs::read_to_string(key_file).expect("key file")).expect("a key");
    let grants = std::fs::File::open(targets.join(TargetKind::FleetKeys.file_name(version))).expect("grants");
    let (_, grants) = RecordReader::open(grants, TargetKind::FleetKeys)
        .and_then(|r| r.collect_all::<Grant>())
        .expect("grants");
    me.grant_in(&grants)
        .expect("the appliance is enrolled in that publication")
        .unwrap(&me)
        .expect("its grant opens")
}

/// A lookup index of `n` made-up rows for publication `version`, written into `repo_dir`'s
/// targets where `publish::publish` lists it.
pub fn write_lookup(repo_dir: &Path, version: u64, n: u64, as_of: jiff::Timestamp) {
    use certkiosk_formats::lookup::{HolderDigest, Kdf, LookupEntry, LookupParams, LookupStatus, Salt};
    use certkiosk_formats::status::{RecordHeader, RecordWriter, TargetKind};
    let salt = Salt([version as u8; 16]);
    let header = RecordHeader {
        lookup: Some(LookupParams::with_salts(
            Kdf::DEFAULT,
            &[(version, salt)],
            vec!["0301".into()],
        )),
        ..RecordHeader::full(TargetKind::Lookup, version, as_of, n)
    };
    let targets = certkiosk_formats::repository::targets_dir(repo_dir);
    std::fs::create_dir_all(&targets).expect("mkdir");
    let file = std::fs::File::create(targets.join(TargetKind::Lookup.file_name(version))).expect("create");
    let mut w = RecordWriter::new(file, &header).expect("header");
    let mut rng = fastrand::Rng::with_seed(version);
    for i in 0..n {
        w.write(&LookupEntry {
            management_number: format!("2020030100{i:06}"),
            qualification: "0301".into(),
            level: 3,
            status: LookupStatus::Issued,
            approved_on: jiff::civil::date(2020, 3, 1),
            ecert_issued_on: jiff::civil::date(2022, 3, 1),
            salt_version: version,
            digest: HolderDigest(rng.u64(..).to_le_bytes()),
        })
        .expect("row");
    }
    w.finish().expect("finish");
}

/// Sends SIGTERM to `child` (through bash's own kill: minbase has no /bin/kill) and waits for it
/// to end, failing the test if it is still running after `within`.
pub fn terminate(child: &mut std::process::Child, within: std::time::Duration) -> std::process::ExitStatus {
    let killed = Command::new("bash")
        .args(["-c", &format!("kill -TERM {}", child.id())])
        .status()
        .expect("kill");
    assert!(killed.success());
    let deadline = std::time::Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still running {within:?} after SIGTERM"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
