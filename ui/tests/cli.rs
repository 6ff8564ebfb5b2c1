//! `certkiosk` on the command line: without a display, or with a bad configuration, it says so
//! in one line and exits 2 (docs/design.md §5).

use std::process::Command;

fn certkiosk(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_certkiosk"))
        .args(args)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env("SLINT_BACKEND", "winit")
        .output()
        .expect("run certkiosk");
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// A configuration certkiosk accepts (the store need not exist yet).
fn config_dir() -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::write(d.path().join("root.json"), r#"{"signed":{"_type":"root"}}"#).expect("root");
    std::fs::write(
        d.path().join("certd.toml"),
        "trusted_root = \"root.json\"\nstate_dir = \"s\"\n",
    )
    .expect("config");
    d
}

#[test]
fn with_no_display_it_says_so_in_one_line() {
    let d = config_dir();
    let config = d.path().join("certd.toml");
    for args in [&["--demo"][..], &["--config", config.to_str().expect("utf-8 path")]] {
        let (code, err) = certkiosk(args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("certkiosk: no display"), "{args:?}: {err}");
    }
}

#[test]
fn a_bad_configuration_is_one_line_naming_the_file() {
    let d = config_dir();
    let file = d.path().join("certd.toml");
    std::fs::write(
        &file,
        "trusted_root = \"root.json\"\nstate_dir = \"s\"\n[kiosk]\nadmin_pin = \"12\"\n",
    )
    .expect("config");
    let out = Command::new(env!("CARGO_BIN_EXE_certkiosk"))
        .args(["--config", file.to_str().expect("utf-8 path")])
        .env("DISPLAY", ":999")
        .output()
        .expect("run certkiosk");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("certd.toml") && err.contains("kiosk.admin_pin"), "{err}");
}
