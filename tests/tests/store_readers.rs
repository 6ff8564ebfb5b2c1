//! The kiosk UI reads the store as another user, in certd's group, with no write access to the
//! state directory (systemd/, docs/design.md §2: only certd writes). SQLite opens a WAL database
//! read-only only where its -wal and -shm files exist or can be made, so certd keeps them.
//! This test reads the store through a user who can write nothing there, after certd is done.

use certkiosk_tests::{ok, run, stdout, synced_demo_world};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

#[test]
fn a_reader_that_cannot_write_the_state_directory_reads_the_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = synced_demo_world(dir.path(), "w");
    let state = dir.path().join("w/state");
    // Nobody may write the store's directory or files now: like the UI's user.
    for entry in std::fs::read_dir(&state).expect("state dir").flatten() {
        if entry.path().is_file() {
            set_mode(&entry.path(), 0o444);
        }
    }
    set_mode(&state, 0o555);
    let is_root = stdout(&ok(Command::new("id").arg("-u").output().expect("id"))).trim() == "0";
    let certd = certkiosk_tests::bin("certd");
    let args = ["--config", &config, "verify", "w/samples/valid-ministry-annotated.txt"];
    let out = if is_root {
        // Root ignores modes: read as an unprivileged user instead.
        let w = dir.path().join("w");
        for p in [dir.path(), &w, &w.join("samples")] {
            set_mode(p, 0o755);
        }
        for p in ["root.json", "certd.toml", "samples/valid-ministry-annotated.txt"] {
            set_mode(&w.join(p), 0o644);
        }
        Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&certd)
            .args(args)
            .current_dir(dir.path())
            .output()
            .expect("setpriv")
    } else {
        run("certd", &args, dir.path())
    };
    set_mode(&state, 0o755);
    let text = stdout(&out);
    assert!(
        text.contains("(valid)"),
        "stdout: {text}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).expect("metadata").permissions().mode() & 0o777
}

fn files_under(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// Each file gets the mode its readers need (issue 16): what is published is readable by a web
/// server running as another user, and so is an exported copy; the sync record is readable by
/// the kiosk's user; the authority's database, with names and masked ID numbers, by nobody else.
#[test]
fn every_file_has_the_mode_its_readers_need() {
    let dir = tempfile::tempdir().expect("tempdir");
    synced_demo_world(dir.path(), "w");
    let w = dir.path().join("w");
    ok(run(
        "certsync",
        &["export", "--dir", "w", "--to", "stick/certkiosk"],
        dir.path(),
    ));
    assert_eq!(mode(&w.join("authority.sqlite")), 0o600);
    let mut public = Vec::new();
    files_under(&w.join("repo"), &mut public);
    files_under(&dir.path().join("stick"), &mut public);
    assert!(public.len() > 10, "{public:?}");
    for file in &public {
        assert_eq!(mode(file) & 0o644, 0o644, "{}", file.display());
    }
    let status = w.join("state/sync-status.json");
    assert_eq!(mode(&status) & 0o644, 0o644);

    let is_root = stdout(&ok(Command::new("id").arg("-u").output().expect("id"))).trim() == "0";
    if is_root {
        // As another user, as nginx or the kiosk would: the directories on the way open to all.
        for p in [dir.path(), &w, &w.join("state")] {
            set_mode(p, 0o755);
        }
        let read_as_nobody = |file: &Path| {
            Command::new("setpriv")
                .args(["--reuid=65534", "--regid=65534", "--clear-groups", "cat"])
                .arg(file)
                .output()
                .expect("setpriv")
        };
        for file in public.iter().chain([&status]) {
            let out = read_as_nobody(file);
            assert!(
                out.status.success(),
                "{}: {}",
                file.display(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        assert!(!read_as_nobody(&w.join("authority.sqlite")).status.success());
    }
}
