//! The crate graph states the architecture's invariants (ARCHITECTURE.md): each is checked on
//! the dependency tree cargo resolves for the crate as it is built and shipped, normal
//! dependencies only (a test may link anything).
//!
//! - No appliance crate (certd, the kiosk, the appliance library, the verdict engine, the
//!   store's reader, the formats, the acquisition) reaches the authority (`certsync`: issuing,
//!   seal and TUF keys, the publisher).
//! - The kiosk as the Debian package builds it (no `demo` feature) reaches neither certd nor
//!   certd's sync (`certkiosk-sync`: the TUF client, the HTTP client, the store's writer).
//! - The verdict engine stays small: at most [`ENGINE_LIMIT`] packages by name (70 after the
//!   split of issue 15; before it, 224 by name and version, 76 now by that count).

use std::collections::BTreeSet;
use std::process::Command;

/// The packages `krate` depends on, itself included, as `cargo tree` resolves them.
fn tree(krate: &str, default_features: bool) -> BTreeSet<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut args = vec![
        "tree",
        "--offline",
        "--locked",
        "-e",
        "normal",
        "--prefix",
        "none",
        "-f",
        "{p}",
        "-p",
        krate,
    ];
    if !default_features {
        args.push("--no-default-features");
    }
    let out = Command::new(cargo)
        .args(&args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo tree");
    assert!(
        out.status.success(),
        "cargo tree -p {krate}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

fn forbidden<'a>(deps: &BTreeSet<String>, names: &[&'a str]) -> Vec<&'a str> {
    names.iter().copied().filter(|n| deps.contains(*n)).collect()
}

const AUTHORITY: &[&str] = &["certsync"];
const SYNC: &[&str] = &["certd", "certkiosk-sync", "tough", "reqwest"];
const ENGINE_LIMIT: usize = 80;

#[test]
fn no_appliance_crate_reaches_the_authority() {
    for krate in [
        "certd",
        "certkiosk-appliance",
        "certkiosk-verify",
        "certkiosk-store",
        "certkiosk-formats",
        "certkiosk-acquire",
        "certkiosk-sync",
    ] {
        let deps = tree(krate, true);
        assert_eq!(
            forbidden(&deps, AUTHORITY),
            Vec::<&str>::new(),
            "{krate} reaches the authority"
        );
    }
    let kiosk = tree("certkiosk", false);
    assert_eq!(
        forbidden(&kiosk, AUTHORITY),
        Vec::<&str>::new(),
        "the kiosk reaches the authority"
    );
}

#[test]
fn the_shipped_kiosk_reaches_neither_fetch_nor_the_store_writer() {
    let shipped = tree("certkiosk", false);
    assert_eq!(forbidden(&shipped, SYNC), Vec::<&str>::new());
    assert!(shipped.contains("certkiosk-store"), "it reads the store");
    // The check sees such paths where they exist: the demo build links both.
    let demo = tree("certkiosk", true);
    assert_eq!(forbidden(&demo, SYNC), SYNC.to_vec());
    assert_eq!(forbidden(&demo, AUTHORITY), AUTHORITY.to_vec());
}

#[test]
fn the_verdict_engine_stays_small() {
    let engine = tree("certkiosk-verify", true);
    assert!(
        engine.len() <= ENGINE_LIMIT,
        "certkiosk-verify pulls {} packages (limit {ENGINE_LIMIT}): {engine:?}",
        engine.len()
    );
    assert_eq!(forbidden(&engine, SYNC), Vec::<&str>::new());
}
