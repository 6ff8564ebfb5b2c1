//! The demo world end to end: `certsync demo`, `certd sync --once`, `certd verify --json` over
//! every sample — its text, its QR code image and its certificate PDF — compared with
//! `expected.json`.

use certkiosk_tests::{ok, run, status_json, stderr, stdout};
use serde_json::Value;
use std::collections::BTreeMap;

/// Each sample as the demo writes it, and where its text is expected to come from.
const FORMS: [(&str, &str); 3] = [("txt", "payload"), ("png", "qr-image"), ("pdf", "pdf-embedded")];

#[test]
fn every_demo_sample_gets_its_expected_verdict() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    ok(run("certsync", &["demo", "world"], dir));
    let world = dir.join("world");
    let config = world.join("certd.toml");
    let config = config.to_str().expect("utf-8 path");
    let synced = stdout(&ok(run("certd", &["--config", config, "sync", "--once"], dir)));
    assert!(synced.contains("applied publication 1"), "{synced}");
    let again = stdout(&ok(run("certd", &["--config", config, "sync", "--once"], dir)));
    assert!(again.contains("up to date"), "{again}");

    let expected: Vec<Value> =
        serde_json::from_slice(&std::fs::read(world.join("expected.json")).expect("expected.json")).expect("json");
    // Group the samples by the time they are verified at, one certd run per group.
    let mut groups: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for e in &expected {
        let sample = e["sample"].as_str().expect("sample").to_owned();
        let verdict = e["verdict"].as_str().expect("verdict").to_owned();
        let at = e.get("at").and_then(Value::as_str).unwrap_or_default().to_owned();
        groups.entry(at).or_default().push((sample, verdict));
    }
    let mut seen_codes = BTreeMap::new();
    for (at, samples) in &groups {
        let mut args = vec!["--config", config, "verify", "--json"];
        if !at.is_empty() {
            args.extend(["--at", at.as_str()]);
        }
        let cases: Vec<(String, &str, &str)> = samples
            .iter()
            .flat_map(|(s, want)| {
                FORMS.map(|(ext, source)| (format!("world/samples/{s}.{ext}"), want.as_str(), source))
            })
            .collect();
        args.extend(cases.iter().map(|(path, _, _)| path.as_str()));
        let out = ok(run("certd", &args, dir));
        let lines: Vec<Value> = stdout(&out)
            .lines()
            .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
            .collect();
        assert_eq!(lines.len(), cases.len());
        for ((sample, want, source), got) in cases.iter().zip(&lines) {
            assert_eq!(got["input"], sample.as_str());
            assert_eq!(got["verdict"], *want, "{sample}: {}", got["reason"]);
            assert_eq!(got["source"], *source, "{sample}");
            for field in [
                "warnings",
                "explanation",
                "certificate",
                "annotation",
                "revocation",
                "status_as_of",
                "source",
            ] {
                assert!(got.get(field).is_some(), "{sample}: field {field}");
            }
            assert!(got["timings_us"]["total"].is_u64());
            *seen_codes.entry(want.to_string()).or_insert(0) += 1;
        }
    }
    // At least two samples for every verdict code of docs/design.md §4.
    assert_eq!(seen_codes.len(), 10, "{seen_codes:?}");
    assert!(seen_codes.values().all(|&n| n >= 2 * FORMS.len()), "{seen_codes:?}");

    // The rare-character names survive the whole trip, code point for code point.
    let names = ["王䶮", "李𠇔", "陈𬱖", "张𫍯", "赵𡟣", "刘𰻝𰻝", "阿依古丽·买买提"];
    let all = stdout(&ok(run(
        "certd",
        &[
            "--config",
            config,
            "verify",
            "--json",
            "world/samples/valid-ministry-annotated.txt",
            "world/samples/valid-association-before-2021.txt",
            "world/samples/revoked-after-annotation.txt",
            "world/samples/annotation-expired-month-ago.txt",
            "world/samples/annotation-starts-in-3-days.txt",
            "world/samples/valid-ninety-day-annotation.txt",
            "world/samples/valid-middle-dot-name.txt",
        ],
        dir,
    )));
    for (line, name) in all.lines().zip(names) {
        let v: Value = serde_json::from_str(line).expect("json");
        assert_eq!(v["certificate"]["holder_name"], name);
    }

    // A person at a terminal gets the verdict in Chinese by default, English on request.
    let zh = stdout(&ok(run(
        "certd",
        &["--config", config, "verify", "world/samples/revoked-reissued.txt"],
        dir,
    )));
    assert!(zh.contains("已撤销") && zh.contains("撤销于"), "{zh}");
    let en = stdout(&ok(run(
        "certd",
        &[
            "--config",
            config,
            "verify",
            "--lang",
            "en",
            "world/samples/revoked-reissued.txt",
        ],
        dir,
    )));
    assert!(en.contains("Revoked") && en.contains("issued with wrong data"), "{en}");

    let status = status_json(config, dir);
    assert_eq!(status["publication"]["version"], 1);
    assert_eq!(status["freshness"], "fresh");
    // The pinned root's fingerprint, as `sha256sum` computes it: what the install docs compare
    // with the authority's published one. The clock's sync state is said, whatever it is.
    let sum = stdout(&ok(std::process::Command::new("sha256sum")
        .arg(dir.join("world/root.json"))
        .output()
        .expect("sha256sum")));
    let hex = sum.split_whitespace().next().expect("a sum");
    assert_eq!(status["trusted_root"], format!("sha256:{hex}"));
    assert!(status["clock_sync"]["state"].is_string(), "{}", status["clock_sync"]);
    let text = stdout(&ok(run("certd", &["--config", config, "status"], dir)));
    assert!(text.contains(&format!("trusted root   sha256:{hex}")), "{text}");
    assert!(text.contains("clock sync     "), "{text}");
    assert!(text.contains(" UTC ("), "local time beside UTC: {text}");
    // What the store holds, as the kiosk's admin screen shows it too.
    assert!(
        status["counts"]["revocations"].as_u64().is_some_and(|n| n > 0),
        "{}",
        status["counts"]
    );
    assert!(
        text.contains("holds          ") && text.contains(" revocations, "),
        "{text}"
    );
    assert!(stderr(&ok(run("certd", &["--config", config, "check-config"], dir))).is_empty());
}
