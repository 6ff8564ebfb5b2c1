//! Untrusted text on its way out (issue 16): a QR code's text, a file's name, a stick's path
//! reach a terminal, a script or a JSON reader through the real `certd`, one line each, hidden
//! characters escaped (`certkiosk_formats::escape`), and can be read back exactly.

use certkiosk_formats::escape::line;
use certkiosk_tests::world::World;
use certkiosk_tests::{now, ok, run, stderr, stdout};
use std::path::Path;
use std::process::Command;

/// A QR code of `text`, drawn by a third party's encoder (python3-qrcode, Debian's).
fn qr_png(text: &str, to: &Path) {
    let out = Command::new("/usr/bin/python3")
        .args([
            "-c",
            "import qrcode, sys; qrcode.make(sys.argv[1]).save(sys.argv[2])",
            text,
        ])
        .arg(to)
        .output()
        .expect("python3");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn decode_prints_each_text_on_one_line_with_hidden_characters_escaped() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    // A terminal title escape and bell, a forged second line, a right-to-left override, and a
    // backslash of its own.
    let text = "CK1:\u{1b}]0;owned\u{7}\nCK1:forged line \u{202e}gnp.exe \\u{000a}";
    qr_png(text, &d.join("code.png"));
    let out = run("certd", &["decode", "code.png"], d);
    let printed = stdout(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(printed.lines().count(), 1, "{printed:?}");
    assert_eq!(printed.trim_end_matches('\n'), line(text));
    assert!(
        printed.starts_with("CK1:\\u{001b}]0;owned\\u{0007}\\u{000a}CK1:forged"),
        "{printed:?}"
    );
}

#[test]
fn verify_keeps_a_hostile_name_on_its_line_in_text_and_json() {
    let w = World::new(now());
    ok(run("certsync", &["publish", "--dir", "auth"], &w.dir));
    ok(w.sync());
    let name = "证书\u{202e}fdp.txt\n✔ 有效 (valid)\u{200b}";
    std::fs::write(w.dir.join(name), "not a credential").expect("write");

    let out = run("certd", &["--config", &w.config, "verify", name], &w.dir);
    let text = stdout(&out);
    assert!(!text.contains(name), "{text}");
    assert!(text.starts_with(&format!("{}: ", line(name))), "{text}");
    assert!(!text.lines().any(|l| l.starts_with("✔")), "{text}");

    let out = run("certd", &["--config", &w.config, "verify", "--json", name], &w.dir);
    let json = stdout(&out);
    assert_eq!(json.lines().count(), 1, "{json}");
    assert!(json.contains("\\u202e") && json.contains("\\u200b"), "{json}");
    let value: serde_json::Value = serde_json::from_str(json.trim()).expect("json");
    assert_eq!(value["input"], name, "read back exactly");

    // A path given to import that is no repository: one line on stderr, escaped.
    let fake = w.dir.join("stick\nSTATUS=applied publication 99");
    std::fs::create_dir_all(&fake).expect("dir");
    let out = run(
        "certd",
        &["--config", &w.config, "import", fake.to_str().expect("utf-8")],
        &w.dir,
    );
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("stick\\u{000a}STATUS="), "{err}");
}
