//! The acquisition pipeline over the corpus of `scripts/corpus`, as one more "peer" for
//! `scripts/peers.py`: one JSON line per file, in the peers' format, timed the same way — from
//! the path: reading and decoding the file, then searching it, stopping at the first text that
//! parses as a credential. In process, one thread, release build.
//!
//!     cargo bench -p certkiosk-acquire --bench corpus -- MANIFEST RESULTS.jsonl

use acquire::{Goal, Limits};
use serde_json::{Value, json};
use std::io::Write;
use std::path::Path;
use std::time::Instant;

fn is_credential(text: &str) -> bool {
    certkiosk_formats::credential::Envelope::parse(text).is_ok()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let [manifest, results] = args.as_slice() else {
        eprintln!("usage: cargo bench -p certkiosk-acquire --bench corpus -- MANIFEST RESULTS.jsonl");
        std::process::exit(2);
    };
    let entries: Vec<Value> =
        serde_json::from_slice(&std::fs::read(manifest).expect("read manifest")).expect("manifest");
    let base = Path::new(manifest).parent().unwrap_or(Path::new("."));
    let mut out = std::fs::File::create(results).expect("results file");
    let limits = Limits::default();
    let goal = Goal::Credential(&is_credential);
    for e in &entries {
        let file = e["file"].as_str().unwrap_or_default();
        let expected = e["expected"].as_str().unwrap_or_default();
        let started = Instant::now();
        let found = std::fs::read(base.join(file))
            .map_err(|e| acquire::Unreadable::new(e.to_string()))
            .and_then(|bytes| acquire::search(&bytes, &limits, &goal));
        let seconds = started.elapsed().as_secs_f64();
        let texts: Vec<String> = found
            .map(|f| f.into_iter().map(|f| f.text).collect())
            .unwrap_or_default();
        let outcome = if texts.iter().any(|t| t == expected) {
            "ok"
        } else if !texts.is_empty() {
            "misread"
        } else {
            "none"
        };
        let row = json!({
            "file": file, "kind": e["kind"], "bucket": e["bucket"], "peer": "certkiosk",
            "outcome": outcome, "seconds": seconds, "texts": texts,
        });
        writeln!(out, "{row}").expect("write results");
    }
}
