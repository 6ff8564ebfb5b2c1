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
