//! Manual lookup end to end (issues 8 and 17): `certsync demo` publishes a lookup index, `certd
//! sync` applies it, and `certd lookup` (number, name, ID number) answers every case of the
//! demo's `lookups.json` with the same verdict codes a scan gets — while neither the published
//! files nor anything on the appliance holds a name or an ID number, masked or not.

use certkiosk_tests::{ok, run, status_json, stderr, stdout, synced_demo_world};
use serde_json::Value;
use std::path::Path;

fn lookup(dir: &Path, config: &str, case: &Value, extra: &[&str]) -> Value {
    let field = |k: &str| case[k].as_str().expect(k);
    let mut args = vec![
        "--config",
        config,
        "lookup",
        "--json",
        "--number",
        field("number"),
        "--name",
        field("name"),
        "--id",
        field("id_number"),
    ];
    args.extend(extra);
    let out = ok(run("certd", &args, dir));
    serde_json::from_str(stdout(&out).trim()).expect("one JSON object")
}

fn cases(world: &Path) -> Vec<Value> {
    serde_json::from_slice(&std::fs::read(world.join("lookups.json")).expect("lookups.json")).expect("json")
}

#[test]
fn every_demo_lookup_gets_its_expected_verdict() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let config = synced_demo_world(dir, "w");
    let all = cases(&dir.join("w"));
    assert!(all.len() >= 8, "{all:?}");
    let status = status_json(&config, dir);
    assert_eq!(
        status["lookup"]["qualifications"].as_array().map(Vec::len),
        Some(6),
        "{status}"
    );
    assert!(status["lookup"]["certificates"].as_u64() > Some(10), "{status}");
    let mut codes = std::collections::BTreeSet::new();
    for case in &all {
        let number = case["number"].as_str().expect("number");
        let got = lookup(dir, &config, case, &[]);
        assert_eq!(got["verdict"], case["verdict"], "{}: {got}", case["case"]);
        assert_eq!(got["source"], "manual");
        assert_eq!(got["input"], number, "the number, never the name, names the input");
        codes.insert(got["verdict"].as_str().expect("code").to_owned());
        match got["verdict"].as_str() {
            Some("not_found") => {
                let scope = got["scope"].as_array().expect("the scope explains not_found");
                assert!(!scope.is_empty());
                assert!(
                    scope.iter().all(|s| s["qualification_code"] != "0901"),
                    "审计 is not in the index"
                );
                assert!(got["certificate"].is_null());
            }
            Some("valid" | "revoked") => {
                assert_eq!(got["certificate"]["management_number"], number);
                assert!(got["certificate"]["masked_id"].is_null(), "the index has no ID number");
                let issued = got["certificate"]["ecert_issued_on"].as_str().expect("date");
                let warned = got["warnings"]
                    .as_array()
                    .expect("warnings")
                    .contains(&"annotation_not_checked".into());
                if got["verdict"] == "valid" {
                    assert_eq!(warned, issued >= "2021-12-17", "{}: {got}", case["case"]);
                }
            }
            _ => {}
        }
    }
    assert_eq!(
        codes.into_iter().collect::<Vec<_>>(),
        ["not_found", "revoked", "valid"],
        "the demo covers what a lookup can answer"
    );

    // The revoked certificate says when and why; the text output is for a person.
    let revoked = all.iter().find(|c| c["verdict"] == "revoked").expect("a revoked case");
    let (number, name, id) = (
        revoked["number"].as_str().expect("n"),
        revoked["name"].as_str().expect("n"),
        revoked["id_number"].as_str().expect("id"),
    );
    let got = lookup(dir, &config, revoked, &[]);
    assert_eq!(got["revocation"]["reason_code"], "fraud");
    let text = stdout(&ok(run(
        "certd",
        &[
            "--config", &config, "lookup", "--number", number, "--name", name, "--id", id, "--lang", "en",
        ],
        dir,
    )));
    assert!(text.contains("Revoked") && text.contains(name), "{text}");

    // Data beyond the maximum age decides nothing, but a revocation is known from any data.
    let valid = all.iter().find(|c| c["verdict"] == "valid").expect("a valid case");
    let later = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * 40)).to_string();
    assert_eq!(
        lookup(dir, &config, valid, &["--at", &later])["verdict"],
        "status_unavailable"
    );
    assert_eq!(lookup(dir, &config, revoked, &["--at", &later])["verdict"], "revoked");

    // The ID number from standard input (`--id -`): out of the process list and the history.
    let mut child = std::process::Command::new(certkiosk_tests::bin("certd"))
        .args([
            "--config", &config, "lookup", "--json", "--number", number, "--name", name, "--id", "-",
        ])
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("certd");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), format!("{id}\n").as_bytes())
        .expect("write the ID");
    let out = child.wait_with_output().expect("certd");
    let got: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(got["verdict"], "revoked", "{got}");

    // Bad input is one line and exit 2, a mistyped ID number before any lookup.
    let id = "11010519491231002X";
    for (number, name, id, says) in [
        ("", "王䶮", id, "management number"),
        ("2023", "", id, "holder name"),
        ("2023", &"王".repeat(51), id, "holder name"),
        ("2023", "王䶮", "110105194912310021", "should be X"),
        ("2023", "王䶮", "1101051949", "18 characters"),
    ] {
        let out = run(
            "certd",
            &[
                "--config", &config, "lookup", "--number", number, "--name", name, "--id", id,
            ],
            dir,
        );
        assert_eq!(out.status.code(), Some(2), "{number:?} {name:?} {id:?}");
        assert_eq!(stderr(&out).trim().lines().count(), 1, "{}", stderr(&out));
        assert!(stderr(&out).contains(says), "{}", stderr(&out));
    }
}

/// Every file under `dir`, gunzipped where it is gzip.
fn contents(dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    for entry in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            contents(&path, out);
            continue;
        }
        let bytes = std::fs::read(&path).expect("read");
        let bytes = if bytes.starts_with(&[0x1f, 0x8b]) {
            let mut plain = Vec::new();
            std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(bytes.as_slice()), &mut plain)
                .expect("gunzip");
            plain
        } else {
            bytes
        };
        out.push((path.display().to_string(), bytes));
    }
}

#[test]
fn neither_the_published_index_nor_the_appliance_holds_a_name_or_an_id_number() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let config = synced_demo_world(dir, "w");
    let world = dir.join("w");
    // Lookups and scans write the audit log: it must hold no name either.
    for case in cases(&world) {
        lookup(dir, &config, &case, &[]);
    }
    ok(run(
        "certd",
        &["--config", &config, "verify", "w/samples/valid-ministry-annotated.txt"],
        dir,
    ));

    let authority = rusqlite::Connection::open(world.join("authority.sqlite")).expect("authority state");
    let secrets: Vec<String> = authority
        .prepare("SELECT holder_name FROM certificates UNION SELECT masked_id FROM certificates")
        .and_then(|mut st| st.query_map([], |r| r.get(0))?.collect())
        .expect("names and IDs");
    assert!(secrets.len() >= 30, "{secrets:?}");
    // And the full ID numbers typed at the desk.
    let typed: Vec<String> = cases(&world)
        .iter()
        .map(|c| c["id_number"].as_str().expect("id").to_owned())
        .collect();
    let secrets: Vec<String> = secrets.into_iter().chain(typed).collect();
    let mut files = Vec::new();
    contents(&world.join("repo"), &mut files);
    contents(&world.join("state"), &mut files);
    assert!(
        files.iter().any(|(p, _)| p.contains("lookup.v1")),
        "the index is published"
    );
    assert!(
        files.iter().any(|(p, _)| p.ends_with("store.sqlite")),
        "the store is there"
    );
    assert!(files.iter().any(|(p, _)| p.contains("audit")), "the audit log is there");
    for (path, bytes) in &files {
        for secret in &secrets {
            let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
            assert!(!found, "{path} holds {secret:?}");
        }
    }
}
