//! Certificate PDFs made by other tools — reportlab, img2pdf, tiff2pdf, ghostscript, qpdf
//! (object streams, linearised, rotated, RC4 and AES encryption) and hand-written ones
//! (stencil masks, predictors, incremental updates, vector QR) — read by `certd` as an
//! operator would: `certd decode` prints the credential, and `certd verify` gives the same
//! verdict as for the credential's text, from where the corpus says it should come from.
//!
//! The PDFs come from `scripts/corpus --quick --pdfs-only` over a fresh demo world;
//! `scripts/install-deps` installs the tools it runs.

use certkiosk_tests::{ok, run, stdout, synced_demo_world};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn verdict_line(out: &std::process::Output) -> Value {
    let text = stdout(out);
    let line = text.lines().next().expect("one line of JSON");
    serde_json::from_str(line).expect("JSON")
}

#[test]
fn pdfs_from_third_party_tools_are_read_and_verified() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let config = synced_demo_world(dir, "world");
    let config = config.as_str();

    let corpus_script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/corpus");
    let made = Command::new(&corpus_script)
        .args(["world", "corpus", "--quick", "--pdfs-only"])
        .current_dir(dir)
        .output()
        .expect("run scripts/corpus");
    assert!(
        made.status.success(),
        "scripts/corpus: {}",
        String::from_utf8_lossy(&made.stderr)
    );

    let manifest: Vec<Value> =
        serde_json::from_slice(&std::fs::read(dir.join("corpus/manifest.json")).expect("manifest")).expect("json");
    let tools: std::collections::BTreeSet<&str> = manifest.iter().filter_map(|e| e["tool"].as_str()).collect();
    assert!(manifest.len() >= 15, "{} PDFs", manifest.len());
    for tool in ["reportlab", "img2pdf", "tiff2pdf", "ghostscript", "qpdf"] {
        assert!(tools.iter().any(|t| t.contains(tool)), "no PDF by {tool}: {tools:?}");
    }

    let mut verdicts = Vec::new();
    for entry in &manifest {
        let file = entry["file"].as_str().expect("file");
        let expected = entry["expected"].as_str().expect("expected");
        let path = format!("corpus/{file}");

        let decoded = ok(run("certd", &["decode", &path], dir));
        assert!(
            stdout(&decoded).lines().any(|l| l == expected),
            "{file}: certd decode printed {:?}",
            stdout(&decoded)
        );

        let text_file = dir.join("credential.txt");
        std::fs::write(&text_file, expected).expect("write the text");
        let by_text = verdict_line(&run(
            "certd",
            &["--config", config, "verify", "--json", "credential.txt"],
            dir,
        ));
        let by_pdf = verdict_line(&run("certd", &["--config", config, "verify", "--json", &path], dir));
        // (The corpus also prints the demo's deliberately broken `CK1:` text: both unreadable.)
        assert_eq!(
            by_pdf["verdict"], by_text["verdict"],
            "{file}: {} / {}",
            by_pdf["reason"], by_text["reason"]
        );
        assert_eq!(by_pdf["source"], entry["source"], "{file}");
        verdicts.push(by_pdf["verdict"].as_str().unwrap_or_default().to_owned());
    }
    let unreadable = verdicts.iter().filter(|v| *v == "unreadable").count();
    assert!(unreadable * 4 < verdicts.len(), "{verdicts:?}");
}
