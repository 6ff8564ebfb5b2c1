//! USB sticks as an attacker or an ordinary user makes them (issue 16): a FIFO where a file
//! should be, and the names real sticks are mounted under. Each is a real filesystem object in
//! a temporary directory, read by the real `certd import`, `certd verify` and `certd run`.

use certkiosk_tests::servers::Nginx;
use certkiosk_tests::world::World;
use certkiosk_tests::{bin, now, ok, run, run_within, stderr, stdout, terminate};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Long enough for any honest import here; a FIFO used to hold one forever.
const LIMIT: Duration = Duration::from_secs(120);

fn mkfifo(path: &Path) {
    let _ = std::fs::remove_file(path);
    let out = Command::new("mkfifo").arg(path).output().expect("mkfifo");
    assert!(out.status.success(), "mkfifo {}", path.display());
}

fn export(w: &World, to: &Path) {
    let to = to.to_str().expect("utf-8");
    ok(run("certsync", &["export", "--dir", "auth", "--to", to], &w.dir));
}

fn import(w: &World, copy: &Path) -> std::process::Output {
    let copy = copy.to_str().expect("utf-8");
    run_within(LIMIT, "certd", &["--config", &w.config, "import", copy], &w.dir)
}

#[test]
fn copies_under_the_names_sticks_are_mounted_at_import() {
    for label in ["USB DISK", "我的U盘", "新加卷", "#1 100% sure?"] {
        let w = World::new(now());
        ok(run("certsync", &["publish", "--dir", "auth"], &w.dir));
        let copy = w.dir.join("media/user").join(label).join("certkiosk");
        export(&w, &copy);
        let out = import(&w, &copy);
        assert!(out.status.success(), "{label}: {}", stderr(&out));
        assert!(
            stdout(&out).contains("applied publication 1"),
            "{label}: {}",
            stdout(&out)
        );
    }
}

#[test]
fn a_fifo_anywhere_on_a_stick_is_refused_at_once_and_the_store_kept() {
    let w = World::new(now());
    ok(run("certsync", &["publish", "--dir", "auth"], &w.dir));
    ok(w.sync());
    let before = w.status()["content_digest"].clone();
    ok(run("certsync", &["publish", "--dir", "auth"], &w.dir));
    for (i, file) in [
        "metadata/timestamp.json",
        "metadata/snapshot.json",
        "metadata/targets.json",
        "targets/catalogue.v2.jsonl.gz",
        "targets/seals.v2.jsonl.gz",
    ]
    .into_iter()
    .enumerate()
    {
        let copy = w.dir.join(format!("media/stick{i}/certkiosk"));
        export(&w, &copy);
        mkfifo(&copy.join(file));
        let out = import(&w, &copy);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{file}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{file}: one line: {err}");
        assert!(err.contains("FIFO"), "{file}: names what it found: {err}");
        assert_eq!(w.status()["content_digest"], before, "{file}: the store is unchanged");
    }
    // Where a file may be missing (the next root version, looked for at every update), a FIFO
    // reads as missing, at once, and the genuine rest of the stick is imported.
    let copy = w.dir.join("media/root/certkiosk");
    export(&w, &copy);
    mkfifo(&copy.join("metadata/2.root.json"));
    ok(import(&w, &copy));
    assert_ne!(w.status()["content_digest"], before);
}

#[test]
fn verify_and_decode_refuse_a_fifo_at_once() {
    let w = World::new(now());
    ok(run("certsync", &["publish", "--dir", "auth"], &w.dir));
    ok(w.sync());
    let fifo = w.dir.join("certificate.pdf");
    mkfifo(&fifo);
    let fifo = fifo.to_str().expect("utf-8");
    for command in ["verify", "decode"] {
        let out = run_within(LIMIT, "certd", &["--config", &w.config, command, fifo], &w.dir);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{command}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{command}: one line: {err}");
        assert!(
            err.contains("FIFO") && err.contains("certificate.pdf"),
            "{command}: {err}"
        );
    }
}

/// The attack end to end: the authority revokes a certificate and publishes it to the mirror;
/// a stick whose copy holds a FIFO is plugged into the appliance. Its import fails at once and
/// the next mirror sync brings the revocation (it used to hang the import, and with it every
/// later sync, for as long as the stick stayed in).
#[test]
fn a_fifo_stick_does_not_keep_a_revoked_certificate_valid() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    ok(run("certsync", &["demo", "w"], d));
    let nginx = Nginx::serve(&d.join("w/repo"));
    let config = d.join("w/certd-fifo.toml");
    std::fs::write(
        &config,
        format!(
            "trusted_root = \"root.json\"\nstate_dir = \"state-fifo\"\n\
             [sync]\nmirrors = [{:?}]\n\
             [run]\nfirst_sync_secs = 3\njitter_percent = 0\ninterval_minutes = 60\n\
             media_dirs = [\"../media\"]\nmedia_poll_secs = 1\n",
            nginx.url("repo")
        ),
    )
    .expect("config");
    let config = config.to_str().expect("utf-8").to_owned();
    let sample = "w/samples/valid-association-before-2021.txt";
    let verify = || {
        let out = run("certd", &["--config", &config, "verify", "--json", sample], d);
        serde_json::from_str::<serde_json::Value>(stdout(&out).trim()).expect("json")
    };
    ok(run("certd", &["--config", &config, "sync", "--once"], d));
    let before = verify();
    assert_eq!(before["verdict"], "valid");
    let number = before["certificate"]["management_number"]
        .as_str()
        .expect("number")
        .to_owned();

    ok(run(
        "certsync",
        &[
            "revoke",
            "--dir",
            "w",
            "--management-number",
            &number,
            "--reason-code",
            "fraud",
        ],
        d,
    ));
    ok(run("certsync", &["publish", "--dir", "w"], d));
    let stick = d.join("media/usb0/certkiosk");
    ok(run(
        "certsync",
        &["export", "--dir", "w", "--to", stick.to_str().expect("utf-8")],
        d,
    ));
    mkfifo(&stick.join("metadata/snapshot.json"));

    let log = std::fs::File::create(d.join("certd.log")).expect("log");
    let mut certd = Command::new(bin("certd"))
        .args(["--config", &config, "run"])
        .current_dir(d)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start certd run");
    let deadline = Instant::now() + LIMIT;
    while verify()["verdict"] != "revoked" {
        if Instant::now() > deadline {
            let _ = certd.kill();
            panic!(
                "still not revoked: {}",
                std::fs::read_to_string(d.join("certd.log")).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let status = terminate(&mut certd, Duration::from_secs(25));
    assert!(status.success(), "{status:?}");
    let log = std::fs::read_to_string(d.join("certd.log")).expect("log");
    assert!(
        log.lines()
            .any(|l| l.contains("import from") && l.contains("failed") && l.contains("FIFO")),
        "the stick's import failed, naming why: {log}"
    );
}
