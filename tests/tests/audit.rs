//! The audit log as an operator meets it: `certd verify` records each verification without
//! names or numbers, `certd audit verify` vouches for the chain, and finds an edited or a
//! deleted record, and records cut at the end with `head.json` rewritten to match.

use certkiosk_tests::{ok, run, stderr, stdout, synced_demo_world};
use std::path::Path;

fn records(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("w/state/audit/00000001.jsonl")).expect("audit file");
    text.lines().map(str::to_owned).collect()
}

#[test]
fn verifications_are_recorded_and_tampering_is_found() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    let config = synced_demo_world(d, "w");
    let config = config.as_str();
    let samples = [
        "w/samples/valid-middle-dot-name.txt",
        "w/samples/revoked-reissued.txt",
        "w/samples/forged-bad-signature.png",
        "w/samples/unreadable-truncated.txt",
    ];
    let mut args = vec!["--config", config, "verify", "--json"];
    args.extend(samples);
    let out = stdout(&ok(run("certd", &args, d)));
    assert_eq!(out.lines().count(), 4);

    let lines = records(d);
    assert_eq!(lines.len(), 4);
    let all = lines.join("\n");
    // No names, no numbers: the demo's holders and management numbers are nowhere in the log.
    for field in ["阿依古丽", "买买提", "\"number\":\"20"] {
        assert!(!all.contains(field), "{field} in {all}");
    }
    for (line, want) in lines.iter().zip(["valid", "revoked", "forged", "unreadable"]) {
        assert!(line.contains(&format!("\"verdict\":\"{want}\"")), "{line}");
    }
    assert!(lines[2].contains("\"source\":\"qr-image\""), "{}", lines[2]);

    let intact = stdout(&ok(run("certd", &["--config", config, "audit", "verify"], d)));
    assert!(
        intact.contains("4 records") && intact.contains("chain intact"),
        "{intact}"
    );

    // An edit: the revocation becomes "valid".
    let path = d.join("w/state/audit/00000001.jsonl");
    let edited: String = lines
        .iter()
        .map(|l| format!("{}\n", l.replace("\"verdict\":\"revoked\"", "\"verdict\":\"valid\"")))
        .collect();
    std::fs::write(&path, edited).expect("edit");
    let out = run("certd", &["--config", config, "audit", "verify"], d);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("line 2") && stderr(&out).contains("altered"),
        "{}",
        stderr(&out)
    );
    assert_eq!(stderr(&out).trim().lines().count(), 1);

    // A deletion: the forged verification disappears.
    let deleted: String = lines
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 2)
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    std::fs::write(&path, deleted).expect("delete");
    let out = run("certd", &["--config", config, "audit", "verify"], d);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("line 3") && stderr(&out).contains("deleted"),
        "{}",
        stderr(&out)
    );

    // The last record deleted and head.json rewritten to end before it, without the key.
    let head_path = d.join("w/state/audit/head.json");
    let mut head: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&head_path).expect("head")).expect("head json");
    let third: serde_json::Value = serde_json::from_str(&lines[2]).expect("record");
    head["last_seq"] = 3.into();
    head["last_mac"] = third["mac"].clone();
    std::fs::write(&head_path, serde_json::to_vec_pretty(&head).expect("json")).expect("rewrite head");
    let cut: String = lines[..3].iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&path, cut).expect("cut");
    let out = run("certd", &["--config", config, "audit", "verify"], d);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("head.json") && stderr(&out).contains("without the key"),
        "{}",
        stderr(&out)
    );
    assert_eq!(stderr(&out).trim().lines().count(), 1);

    // The next verification is numbered above every record written, and the log says why.
    ok(run(
        "certd",
        &["--config", config, "verify", "w/samples/valid-middle-dot-name.txt"],
        d,
    ));
    let last: serde_json::Value = serde_json::from_str(records(d).last().expect("a record")).expect("record");
    assert_eq!(last["seq"], 5, "record 4 was written once: {last}");
    let out = run("certd", &["--config", config, "audit", "verify"], d);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("when record 5 was written") && stderr(&out).contains("without the key"),
        "{}",
        stderr(&out)
    );
    // Every record and head.json removed, the key kept: found, not vouched for as intact.
    for entry in std::fs::read_dir(d.join("w/state/audit")).expect("ls") {
        let path = entry.expect("entry").path();
        if !path.ends_with("audit.key") {
            std::fs::remove_file(path).expect("rm");
        }
    }
    let out = run("certd", &["--config", config, "audit", "verify"], d);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("head.json was deleted"), "{}", stderr(&out));
}
