//! Real filesystem objects, made in a temporary directory: a FIFO, a socket, devices, links.

use super::*;
use std::sync::mpsc;
use std::time::Duration;

fn mkfifo(path: &Path) {
    rustix::fs::mknodat(rustix::fs::CWD, path, FileType::Fifo, Mode::RUSR | Mode::WUSR, 0).expect("mkfifo");
}

/// Runs `f` on a thread and fails the test if it has not returned in a minute: an open that
/// blocks would otherwise hang the suite instead of failing it.
fn returns<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(60))
        .expect("the open returned (it blocked)")
}

fn kind(e: &OpenError) -> &'static str {
    match e {
        OpenError::NotRegular { kind, .. } => kind,
        OpenError::TooLarge { .. } => "too large",
        OpenError::Escapes { .. } => "escapes",
        OpenError::Io { .. } if e.is_not_found() => "not found",
        OpenError::Io { .. } => "io",
    }
}

#[test]
fn a_fifo_is_refused_at_once_not_waited_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("snapshot.json");
    mkfifo(&fifo);
    let e = returns(move || open(&fifo, 1 << 20).expect_err("a FIFO"));
    assert_eq!(kind(&e), "FIFO (named pipe)");
    let root = dir.path().to_owned();
    let e = returns(move || open_beneath(&root, Path::new("snapshot.json"), 1 << 20).expect_err("a FIFO"));
    assert_eq!(kind(&e), "FIFO (named pipe)");
}

#[test]
fn devices_sockets_and_directories_are_refused_by_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    assert_eq!(
        kind(&open(Path::new("/dev/zero"), 1 << 20).expect_err("zero")),
        "character device"
    );
    assert_eq!(kind(&open(dir.path(), 1 << 20).expect_err("dir")), "directory");
    let socket = dir.path().join("s");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).expect("bind");
    // A socket cannot be opened at all (ENXIO); either way it is not read.
    let e = open(&socket, 1 << 20).expect_err("socket");
    assert!(matches!(kind(&e), "socket" | "io"), "{e}");
}

#[test]
fn size_is_capped_before_and_while_reading() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sparse = dir.path().join("huge");
    File::create(&sparse)
        .expect("create")
        .set_len(20 << 30)
        .expect("20 GB, sparse");
    assert_eq!(kind(&open(&sparse, 1 << 20).expect_err("huge")), "too large");

    let growing = dir.path().join("grows");
    std::fs::write(&growing, b"0123456789").expect("write");
    let opened = open(&growing, 12).expect("10 bytes");
    assert_eq!(opened.len, 10);
    std::fs::write(&growing, b"0123456789ABCDEF").expect("grow");
    assert_eq!(kind(&opened.read_capped().expect_err("grew past the cap")), "too large");
    assert_eq!(
        open(&growing, 16).expect("16").read_capped().expect("read"),
        b"0123456789ABCDEF"
    );
}

#[test]
fn nothing_beneath_a_root_leads_out_of_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("我的U盘 #1%?");
    std::fs::create_dir_all(root.join("metadata")).expect("mkdir");
    std::fs::write(dir.path().join("secret"), b"outside").expect("write");
    std::fs::write(root.join("metadata/1.root.json"), b"{}").expect("write");
    let link = |target: &str, name: &str| std::os::unix::fs::symlink(target, root.join(name)).expect("symlink");
    link("/etc/passwd", "metadata/absolute.json");
    link("../../secret", "metadata/up.json");
    link("1.root.json", "metadata/inside.json");

    // The kernel's resolution, and the fallback for kernels without openat2.
    for how in [open_beneath, open_beneath_by_hand] {
        let beneath = |rel: &str| how(&root, Path::new(rel), 1 << 20);
        assert_eq!(
            beneath("metadata/1.root.json")
                .expect("plain")
                .read_capped()
                .expect("read"),
            b"{}"
        );
        assert_eq!(beneath("metadata/inside.json").expect("a link inside").len, 2);
        for rel in ["metadata/absolute.json", "metadata/up.json", "../secret", "/etc/passwd"] {
            assert_eq!(kind(&beneath(rel).expect_err(rel)), "escapes", "{rel}");
        }
        assert_eq!(
            kind(&beneath("metadata/missing.json").expect_err("missing")),
            "not found"
        );
    }
}

#[test]
fn a_refusal_names_the_path_escaped_on_one_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let odd = dir.path().join("stick\nWATCHDOG=trigger");
    std::fs::create_dir(&odd).expect("mkdir");
    let message = open(&odd, 1).expect_err("a directory").to_string();
    assert!(!message.contains('\n'), "{message}");
    assert!(message.contains("stick\\nWATCHDOG=trigger"), "{message}");
}
