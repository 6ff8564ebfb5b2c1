//! `certd set-pin`: as an operator runs it — a configuration holding a plain PIN is refused with
//! one line that says what to do; `set-pin` reads the new PIN from standard input, stores its
//! hash and never shows the PIN; the file then loads — and what it does to the file: the rest,
//! comments included, kept; mode and owner kept; nothing changed when it fails.

use certd::set_pin::{SetPinError, set_pin};
use certkiosk_appliance::config::Config;
use certkiosk_appliance::pin::PinError;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::process::{Command, Output, Stdio};

fn certd(config: &std::path::Path, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_certd"))
        .arg("--config")
        .arg(config)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("certd");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("write stdin");
    child.wait_with_output().expect("certd ran")
}

const CONFIG: &str = "# the operator's notes\ntrusted_root = \"root.json\"   # pinned\nstate_dir = \"state\"\n\n[sync]\nmirrors = [\"repo\"]   # the only one\n\n[kiosk]\n# who may open it\nadmin_pin = \"246810\"\nlang = \"en\"\n";

fn dir() -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        d.path().join("root.json"),
        r#"{"signed":{"_type":"root"},"signatures":[]}"#,
    )
    .expect("root");
    d
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn a_plain_pin_is_refused_until_set_pin_stores_its_hash() {
    let dir = dir();
    let config = dir.path().join("certd.toml");
    let original = "trusted_root = \"root.json\"\nstate_dir = \"state\"\n\n[kiosk]\nadmin_pin = \"246810\"\n";
    std::fs::write(&config, original).expect("config");

    let check = certd(&config, &["check-config"], b"");
    let said = text(&check);
    assert_eq!(check.status.code(), Some(2), "{said}");
    assert!(
        said.contains("kiosk.admin_pin:") && said.contains("set-pin") && !said.contains("246810"),
        "{said}"
    );
    assert_eq!(said.trim_end().lines().count(), 1, "one line: {said}");

    // A PIN that is not 4 to 12 digits: refused, the file unchanged, the PIN not repeated.
    let bad = certd(&config, &["set-pin"], b"97531x\n");
    let said = text(&bad);
    assert_eq!(bad.status.code(), Some(2), "{said}");
    assert!(said.contains("4 to 12 digits") && !said.contains("97531"), "{said}");
    assert_eq!(std::fs::read_to_string(&config).expect("read"), original);

    let set = certd(&config, &["set-pin"], b"135790\n");
    let said = text(&set);
    assert_eq!(set.status.code(), Some(0), "{said}");
    assert!(
        said.contains("kiosk.admin_pin_hash") && !said.contains("135790"),
        "{said}"
    );
    let stored = std::fs::read_to_string(&config).expect("read");
    assert!(stored.contains("admin_pin_hash = \"$argon2id$v=19$"), "{stored}");
    assert!(!stored.contains("135790") && !stored.contains("246810"), "{stored}");

    let check = certd(&config, &["check-config"], b"");
    assert_eq!(check.status.code(), Some(0), "{}", text(&check));
}

#[test]
fn the_hash_replaces_a_plain_pin_and_the_rest_of_the_file_stays() {
    let d = dir();
    let file = d.path().join("certd.toml");
    std::fs::write(&file, CONFIG).expect("write");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    // As root (the operator, and CI), the file belongs to someone else: root:certkiosk.
    let owned = std::os::unix::fs::chown(&file, Some(4321), Some(4322)).is_ok();
    assert!(Config::load(&file).is_err(), "a plain PIN is refused");

    set_pin(&file, "135790").expect("set");
    let text = std::fs::read_to_string(&file).expect("read");
    assert!(!text.contains("246810") && !text.contains("135790"), "{text}");
    assert!(!text.contains("admin_pin ="), "{text}");
    for kept in [
        "# the operator's notes\n",
        "trusted_root = \"root.json\"   # pinned\n",
        "mirrors = [\"repo\"]   # the only one\n",
        "lang = \"en\"\n",
    ] {
        assert!(text.contains(kept), "{kept:?} lost:\n{text}");
    }
    let mode = std::fs::metadata(&file).expect("stat").permissions().mode() & 0o7777;
    assert_eq!(mode, 0o640, "the mode is kept");
    if owned {
        let meta = std::fs::metadata(&file).expect("stat");
        assert_eq!((meta.uid(), meta.gid()), (4321, 4322), "the owner and group are kept");
    }
    let config = Config::load(&file).expect("the file loads");
    let hash = config.kiosk.admin_pin_hash.expect("a hash");
    assert!(hash.matches("135790") && !hash.matches("246810"));
    assert_eq!(
        std::fs::read_dir(d.path()).expect("dir").count(),
        2,
        "no temporary file left"
    );

    // Again: the hash is replaced, not added twice.
    set_pin(&file, "2468").expect("set again");
    let config = Config::load(&file).expect("the file loads");
    assert!(config.kiosk.admin_pin_hash.expect("a hash").matches("2468"));
}

#[test]
fn a_file_without_a_kiosk_section_gets_one() {
    let d = dir();
    let file = d.path().join("certd.toml");
    std::fs::write(&file, "trusted_root = \"root.json\"\nstate_dir = \"state\"\n").expect("write");
    set_pin(&file, "1234").expect("set");
    let config = Config::load(&file).expect("the file loads");
    assert!(config.kiosk.admin_pin_hash.expect("a hash").matches("1234"));
}

#[test]
fn nothing_changes_when_the_pin_or_the_file_is_wrong() {
    let d = dir();
    let file = d.path().join("certd.toml");
    std::fs::write(&file, CONFIG).expect("write");
    for pin in ["123", "12a4", "1234567890123", ""] {
        let e = set_pin(&file, pin).expect_err(pin);
        assert!(matches!(e, SetPinError::Pin(PinError::NotAPin)), "{e}");
        assert!(pin.is_empty() || !e.to_string().contains(pin), "{e}");
    }
    assert_eq!(std::fs::read_to_string(&file).expect("read"), CONFIG);

    std::fs::write(&file, "kiosk = 3\n").expect("write");
    let e = set_pin(&file, "1234").expect_err("not a table");
    assert!(e.to_string().contains("kiosk"), "{e}");
    std::fs::write(&file, "a = 1\n[kiosk\n").expect("write");
    let e = set_pin(&file, "1234").expect_err("syntax");
    assert!(e.to_string().contains("line 2") && !e.to_string().contains('\n'), "{e}");
    let e = set_pin(&d.path().join("missing.toml"), "1234").expect_err("missing");
    assert!(matches!(e, SetPinError::Read { .. }), "{e}");
}
