//! The fleet envelope end to end (issue 17): what a mirror holds of the demo's publication
//! names no certificate and no holder; an appliance opens it only once the authority has
//! enrolled its key (made by `certd fleet-key --init`); an appliance taken out of the fleet
//! opens nothing published after, while the others carry on — each refusal one line, the
//! store as it was.

use certkiosk_formats::fleet;
use certkiosk_formats::status::TargetKind;
use certkiosk_tests::{granted_key, ok, run, status_json, stderr, stdout};
use serde_json::Value;
use std::io::Read;
use std::path::Path;

/// Every published file as a mirror holds it, and gunzipped where it is gzip.
fn mirror_view(repo: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    for sub in ["targets", "metadata"] {
        for e in std::fs::read_dir(repo.join(sub)).expect("dir").flatten() {
            let name = format!("{sub}/{}", e.file_name().to_string_lossy());
            let bytes = std::fs::read(e.path()).expect("read");
            let mut inflated = Vec::new();
            let _ = flate2::read::GzDecoder::new(bytes.as_slice()).read_to_end(&mut inflated);
            files.push((name.clone(), bytes));
            files.push((format!("{name} (gunzipped)"), inflated));
        }
    }
    files
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// `certd sync --once` refused: exit 1, one line holding each of `expect`, the store as it was.
fn refused(config: &str, dir: &Path, expect: &[&str]) {
    let before = status_json(config, dir)["content_digest"].clone();
    let out = run("certd", &["--config", config, "sync", "--once"], dir);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    for e in expect {
        assert!(err.contains(e), "{e:?} in {err}");
    }
    assert_eq!(status_json(config, dir)["content_digest"], before, "store unchanged");
}

fn lookup_verdict(config: &str, dir: &Path, case: &Value) -> String {
    let field = |k: &str| case[k].as_str().expect(k).to_owned();
    let out = ok(run(
        "certd",
        &[
            "--config",
            config,
            "lookup",
            "--json",
            "--number",
            &field("number"),
            "--name",
            &field("name"),
            "--id",
            &field("id_number"),
        ],
        dir,
    ));
    let v: Value = serde_json::from_str(stdout(&out).trim()).expect("json");
    v["verdict"].as_str().expect("verdict").to_owned()
}

#[test]
fn only_enrolled_appliances_open_the_publication_and_a_removed_one_opens_nothing_after() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    ok(run("certsync", &["demo", "w"], dir));
    let cases: Vec<Value> =
        serde_json::from_slice(&std::fs::read(dir.join("w/lookups.json")).expect("lookups")).expect("json");
    let valid = cases
        .iter()
        .find(|c| c["verdict"] == "valid")
        .expect("a valid case")
        .clone();

    // A mirror: the holder-linked files are sealed, and nothing it holds names a certificate
    // of the index, its holder, or the revocation reasons the demo's authority wrote.
    let view = mirror_view(&dir.join("w/repo"));
    for (name, bytes) in &view {
        let linked = ["lookup", "revocations", "cancellations"]
            .iter()
            .any(|k| name.starts_with(&format!("targets/{k}.")));
        if linked && !name.ends_with("(gunzipped)") {
            assert!(bytes.starts_with(b"CKFLEET1"), "{name} is sealed");
        }
        for case in &cases {
            for k in ["number", "name"] {
                let secret = case[k].as_str().expect(k);
                assert!(!contains(bytes, secret), "{k} {secret} in {name}");
            }
        }
    }

    // Appliance B, newly installed: no key yet.
    std::fs::write(
        dir.join("b.toml"),
        "trusted_root = \"w/root.json\"\nstate_dir = \"b-state\"\nfleet_key = \"b.key\"\n[sync]\nmirrors = [\"w/repo\"]\nrounds = 1\n",
    )
    .expect("config");
    let b = "b.toml";
    refused(b, dir, &["no fleet key", "certd fleet-key --init"]);
    assert_eq!(status_json(b, dir)["publication"], Value::Null);
    let made = ok(run("certd", &["--config", b, "fleet-key", "--init"], dir));
    let key = stdout(&made).trim().to_owned();
    assert_eq!(key.len(), 64, "{key}");
    assert!(stderr(&made).contains("certsync enroll"), "{}", stderr(&made));
    let file = std::fs::read(dir.join("b.key")).expect("key file");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("b.key")).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    let again = stdout(&ok(run("certd", &["--config", b, "fleet-key", "--init"], dir)))
        .trim()
        .to_owned();
    assert_eq!(again, key, "an existing key is kept");
    assert_eq!(std::fs::read(dir.join("b.key")).expect("key file"), file);
    assert!(!stderr(&made).contains(std::str::from_utf8(&file).expect("utf-8").lines().nth(1).expect("line")));

    // Made, not enrolled: refused, naming its key.
    refused(b, dir, &["not enrolled", &key]);

    // Enrolled: the next publication opens.
    let enroll = |name: &str| {
        run(
            "certsync",
            &["enroll", "--dir", "w", "--name", name, "--key", &key],
            dir,
        )
    };
    ok(enroll("前台-2"));
    let twice = enroll("another desk");
    assert_eq!(twice.status.code(), Some(1));
    assert!(stderr(&twice).contains("already enrolled"), "{}", stderr(&twice));
    ok(run("certsync", &["publish", "--dir", "w"], dir));
    assert!(stdout(&ok(run("certd", &["--config", b, "sync", "--once"], dir))).contains("applied publication 2"));
    assert_eq!(lookup_verdict(b, dir, &valid), "valid");

    // Removed (a stolen kiosk), then a revocation is published: B opens nothing of it and
    // keeps what it had; the demo kiosk, still enrolled, gets the revocation.
    let removed = stdout(&ok(run(
        "certsync",
        &["unenroll", "--dir", "w", "--name", "前台-2"],
        dir,
    )));
    assert!(removed.contains("new key"), "{removed}");
    let number = valid["number"].as_str().expect("number");
    ok(run(
        "certsync",
        &[
            "revoke",
            "--dir",
            "w",
            "--management-number",
            number,
            "--reason-code",
            "fraud",
        ],
        dir,
    ));
    ok(run("certsync", &["publish", "--dir", "w"], dir));
    refused(b, dir, &["not enrolled in publication 3"]);
    assert_eq!(status_json(b, dir)["publication"]["version"], 2);
    assert_eq!(lookup_verdict(b, dir, &valid), "valid", "B keeps what it had");
    // Even the content key B was granted for publication 2 does not open publication 3.
    let old = granted_key(&dir.join("w/repo/targets"), 2, &dir.join("b.key"));
    let v3 = std::fs::read(dir.join("w/repo/targets").join(TargetKind::Revocations.file_name(3))).expect("v3");
    let opened = fleet::open(&[old], v3.as_slice(), std::io::sink());
    assert!(matches!(opened, Err(fleet::FleetError::UnknownKey(_))), "{opened:?}");
    let kiosk = "w/certd.toml";
    assert!(stdout(&ok(run("certd", &["--config", kiosk, "sync", "--once"], dir))).contains("applied publication 3"));
    assert_eq!(lookup_verdict(kiosk, dir, &valid), "revoked");

    // The publisher cleans up after itself and its predecessors: a temporary file a killed
    // publisher left, and a holder-linked file an older publisher wrote in the clear.
    let targets = dir.join("w/repo/targets");
    std::fs::write(targets.join(".tmpK1LLED"), b"clear rows").expect("leftover");
    let mut clear = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut clear, b"{}\n").expect("gzip");
    std::fs::write(targets.join("revocations.v0.jsonl.gz"), clear.finish().expect("gzip")).expect("clear");
    ok(run("certsync", &["publish", "--dir", "w"], dir));
    assert!(!targets.join(".tmpK1LLED").exists() && !targets.join("revocations.v0.jsonl.gz").exists());

    // A removed key stays out; the fleet lists both.
    let back = enroll("前台-3");
    assert_eq!(back.status.code(), Some(1));
    assert!(stderr(&back).contains("removed"), "{}", stderr(&back));
    let fleet = stdout(&ok(run("certsync", &["fleet", "--dir", "w"], dir)));
    assert!(
        fleet.contains("demo kiosk") && fleet.contains("前台-2\t") && fleet.contains("removed"),
        "{fleet}"
    );
}

/// A fleet key file that is a FIFO, huge or not a key never stalls certd: `certd sync` and
/// `certd fleet-key` answer at once with one line that does not repeat the file.
#[test]
fn a_fleet_key_file_that_is_not_one_is_refused_at_once() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    ok(run("certsync", &["demo", "w"], dir));
    let key = dir.join("w/fleet.key");
    let within = std::time::Duration::from_secs(20);
    let check = |what: &str, expect: &str| {
        let sync = certkiosk_tests::run_within(within, "certd", &["--config", "w/certd.toml", "sync", "--once"], dir);
        let err = stderr(&sync);
        assert_eq!(sync.status.code(), Some(1), "{what}: {err}");
        assert!(err.contains(expect) && err.trim().lines().count() == 1, "{what}: {err}");
        assert!(!err.contains("s3cr3t"), "{what}: {err}");
        let shown = certkiosk_tests::run_within(within, "certd", &["--config", "w/certd.toml", "fleet-key"], dir);
        assert_eq!(shown.status.code(), Some(1), "{what}: {}", stderr(&shown));
        assert!(stderr(&shown).contains(expect), "{what}: {}", stderr(&shown));
    };
    std::fs::remove_file(&key).expect("rm");
    let fifo = std::process::Command::new("mkfifo").arg(&key).status().expect("mkfifo");
    assert!(fifo.success());
    check("a FIFO", "not a regular file");
    std::fs::remove_file(&key).expect("rm");
    std::fs::File::create(&key)
        .and_then(|f| f.set_len(1 << 30))
        .expect("sparse");
    check("1 GiB", "more than the 4096 accepted");
    std::fs::write(&key, "certkiosk fleet key v1\ns3cr3t\n").expect("write");
    check("not hex", "64 hex digits");
}
