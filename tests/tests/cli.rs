//! The CLI contract of docs/design.md §5 through the real binaries: the authority's workflow, exit
//! codes, one-line errors, stdin, and a tampered repository leaving the store unchanged.

use certkiosk_tests::tamper::revocations_v2;
use certkiosk_tests::{ok, run, status_json, stderr, stdout, synced_demo_world};
use serde_json::Value;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

fn write_config(dir: &Path, extra: &str) -> String {
    let path = dir.join("certd.toml");
    std::fs::write(
        &path,
        format!("trusted_root = \"authority/root.json\"\nstate_dir = \"state\"\n{extra}"),
    )
    .expect("config");
    path.to_str().expect("utf-8").to_owned()
}

fn today_in_china() -> String {
    // Close enough for an argument: the authority refuses days before today (China).
    let out = Command::new("date")
        .args(["-u", "-d", "+8 hours", "+%F"])
        .output()
        .expect("date");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn verify_stdin(config: &str, text: &str, dir: &Path) -> Value {
    let mut child = Command::new(certkiosk_tests::bin("certd"))
        .args(["--config", config, "verify", "--json", "-"])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).expect("json")
}

fn digest(config: &str, dir: &Path) -> String {
    status_json(config, dir)["content_digest"]
        .as_str()
        .expect("digest")
        .to_owned()
}

#[test]
fn the_authority_workflow_reaches_the_appliance() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    ok(run("certsync", &["init", "authority"], d));
    let issued = stdout(&ok(run(
        "certsync",
        &[
            "issue",
            "--dir",
            "authority",
            "--qualification",
            "0501",
            "--name",
            "刘𰻝𰻝",
            "--masked-id",
            "510***********002X",
            "--level",
            "first_class",
            "--approved",
            "2024-09-01",
            "--issued",
            "2024-11-05",
        ],
        d,
    )));
    let number = issued.lines().next().expect("management number").to_owned();
    let today = today_in_china();
    let annotate = |until: &str| {
        run(
            "certsync",
            &[
                "annotate",
                "--dir",
                "authority",
                "--management-number",
                &number,
                "--from",
                &today,
                "--until",
                until,
            ],
            d,
        )
    };
    let mut credential = String::new();
    for _ in 0..3 {
        let out = stdout(&ok(annotate(&today)));
        credential = out.lines().nth(1).expect("credential").to_owned();
    }
    let fourth = annotate(&today);
    assert_eq!(fourth.status.code(), Some(1));
    let err = stderr(&fourth);
    assert!(err.contains("at most 3") && err.trim().lines().count() == 1, "{err}");

    let opted = stdout(&ok(run(
        "certsync",
        &["lookup-index", "--dir", "authority", "--qualification", "0501"],
        d,
    )));
    assert!(opted.contains("0501"), "{opted}");
    // The appliance makes its fleet key at install; the authority enrolls it.
    let config = write_config(d, "[sync]\nmirrors = [\"authority/repo\"]\n");
    let key = stdout(&ok(run("certd", &["--config", &config, "fleet-key", "--init"], d)));
    let enrolled = run(
        "certsync",
        &["enroll", "--dir", "authority", "--name", "前台 1", "--key", key.trim()],
        d,
    );
    assert!(stdout(&ok(enrolled)).contains("enrolled"));
    let published = stdout(&ok(run("certsync", &["publish", "--dir", "authority"], d)));
    assert!(published.contains("lookup index of 1 certificates"), "{published}");
    ok(run("certd", &["--config", &config, "sync", "--once"], d));
    assert_eq!(verify_stdin(&config, &credential, d)["verdict"], "valid");
    let lookup = |name: &str| {
        let out = ok(run(
            "certd",
            &[
                "--config",
                &config,
                "lookup",
                "--json",
                "--number",
                &number,
                "--name",
                name,
                "--id",
                // The holder's ID number; the authority was given only its masked form.
                "51010419800106002X",
            ],
            d,
        ));
        serde_json::from_str::<Value>(stdout(&out).trim()).expect("json")
    };
    assert_eq!(lookup("刘𰻝𰻝")["verdict"], "valid");
    assert_eq!(lookup("刘𰻝")["verdict"], "not_found");

    ok(run(
        "certsync",
        &[
            "revoke",
            "--dir",
            "authority",
            "--management-number",
            &number,
            "--reason-code",
            "fraud",
        ],
        d,
    ));
    ok(run("certsync", &["publish", "--dir", "authority"], d));
    let synced = stdout(&ok(run(
        "certd",
        &["--config", &config, "sync", "--once", "--from", "authority/repo"],
        d,
    )));
    assert!(
        synced.contains("publication 2") && synced.contains("as deltas"),
        "{synced}"
    );
    let v = verify_stdin(&config, &credential, d);
    assert_eq!(v["verdict"], "revoked");
    assert_eq!(v["revocation"]["reason_code"], "fraud");
    assert_eq!(v["certificate"]["holder_name"], "刘𰻝𰻝");
    assert_eq!(
        lookup("刘𰻝𰻝")["verdict"],
        "revoked",
        "the index's delta carried the revocation"
    );
}

#[test]
fn bad_configs_and_missing_stores_are_one_line_and_exit_2() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    ok(run("certsync", &["init", "authority"], d));
    let config = write_config(d, "[verify]\nfresh_hourz = 3\n");
    let out = run("certd", &["--config", &config, "check-config"], d);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("certd.toml") && err.contains("line 4") && err.trim().lines().count() == 1,
        "{err}"
    );

    let out = run("certd", &["--config", "nowhere.toml", "status"], d);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("nowhere.toml"));

    let config = write_config(d, "");
    ok(run("certd", &["--config", &config, "check-config"], d));
    let out = run("certd", &["--config", &config, "verify", "-"], d);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("store.sqlite") && err.contains("does not exist"), "{err}");
    assert!(!err.contains("panicked") && err.trim().lines().count() == 1, "{err}");

    let out = run(
        "certd",
        &["--config", &config, "verify", "--at", "yesterday", "x.txt"],
        d,
    );
    assert_eq!(out.status.code(), Some(2), "bad usage");
}

#[test]
fn unreadable_inputs_do_not_stop_the_others() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    let config = synced_demo_world(d, "w");
    std::fs::write(d.join("huge.txt"), vec![b'A'; 10 << 20]).expect("huge");
    std::fs::write(d.join("binary.txt"), [0xff, 0xd8, 0xff, 0xe0, 0, 0x10]).expect("binary");
    let out = run(
        "certd",
        &[
            "--config",
            &config,
            "verify",
            "--json",
            "missing.txt",
            "huge.txt",
            "binary.txt",
            "w/samples/valid-middle-dot-name.txt",
        ],
        d,
    );
    assert_eq!(out.status.code(), Some(1), "a missing input is exit 1");
    assert!(stderr(&out).contains("missing.txt"));
    let verdicts: Vec<String> = stdout(&out)
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).expect("json")["verdict"]
                .as_str()
                .expect("v")
                .to_owned()
        })
        .collect();
    assert_eq!(verdicts, ["unreadable", "unreadable", "valid"]);
}

#[test]
fn a_tampered_repository_is_rejected_and_the_store_is_unchanged() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    let config = synced_demo_world(d, "w");
    let before = digest(&config, d);

    ok(run("certsync", &["publish", "--dir", "w"], d));
    let [delta, full] = revocations_v2(&d.join("w/repo"));
    for file in [&delta, &full] {
        file.tamper(|bytes| {
            let last = bytes.len() - 1;
            bytes[last] ^= 0x55;
        });
    }
    let out = run("certd", &["--config", &config, "sync", "--once"], d);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("revocations.v2.jsonl.gz") && err.trim().lines().count() == 1,
        "{err}"
    );
    assert_eq!(digest(&config, d), before, "store unchanged");

    // With only the delta bad, the appliance falls back to the (verified) full file.
    full.restore();
    let out = stdout(&ok(run("certd", &["--config", &config, "sync", "--once"], d)));
    assert!(out.contains("publication 2") && out.contains("in full"), "{out}");

    // The publisher refuses to sign the changed file again; restored, publishing and syncing go on.
    let out = run("certsync", &["publish", "--dir", "w"], d);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("changed on disk"), "{}", stderr(&out));
    delta.restore();
    ok(run("certsync", &["publish", "--dir", "w"], d));
    let out = stdout(&ok(run("certd", &["--config", &config, "sync", "--once"], d)));
    assert!(out.contains("publication 3") && out.contains("as deltas"), "{out}");
    assert_ne!(digest(&config, d), before);
}

/// A reader that stops early (`certd verify … | head -1`) ends certd quietly, with the status a
/// shell gives a process SIGPIPE ended, not with a panic on standard error.
#[test]
fn a_reader_that_stops_early_ends_certd_quietly() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let config = synced_demo_world(dir, "w");
    let samples: Vec<String> = std::fs::read_dir(dir.join("w/samples"))
        .expect("samples")
        .flatten()
        .map(|e| e.path().to_string_lossy().into_owned())
        .filter(|p| p.ends_with(".txt"))
        .collect();
    let mut args = vec!["--config".to_owned(), config, "verify".to_owned()];
    args.extend(samples);
    let mut child = Command::new(certkiosk_tests::bin("certd"))
        .args(&args)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(out.status.code(), Some(141), "{err}");
}
