//! USB sticks as an attacker or an ordinary user makes them (issue 16): a FIFO where a file
//! should be, and the names real sticks are mounted under. Each is a real filesystem object in
//! a temporary directory, read by the real `certd import`.

use certkiosk_tests::world::World;
use certkiosk_tests::{now, ok, run, run_within, stderr, stdout};
use std::path::Path;
use std::time::Duration;

/// Long enough for any honest import here; a FIFO used to hold one forever.
const LIMIT: Duration = Duration::from_secs(120);

fn mkfifo(path: &Path) {
    let _ = std::fs::remove_file(path);
    let out = std::process::Command::new("mkfifo").arg(path).output().expect("mkfifo");
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
