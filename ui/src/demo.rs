//! `certkiosk --demo`: a generated demo world (the same as `certsync demo`), synced into its
//! own store, and a simulated camera that plays the world's sample pictures one after another,
//! so that a person with no camera sees every verdict.

use crate::camera::CameraError;
use crate::camera::replay::Replay;
use crate::verifier::Clock;
use anyhow::Context;
use certkiosk_appliance::config::Config;
use certkiosk_appliance::pin::PinHash;
use certkiosk_sync::clock::Clock as SyncClock;
use certsync::demo::{Expectation, LookupExpectation};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The admin PIN of the demo (printed at start).
pub const DEMO_PIN: &str = "2468";
/// How long the simulated camera holds each sample up.
pub const HOLD: Duration = Duration::from_secs(6);

#[derive(Debug)]
pub struct DemoWorld {
    pub config: Config,
    pub samples: Vec<PathBuf>,
    pub clock: Clock,
    /// The manual lookups of the world and their verdicts (`lookups.json`).
    pub lookups: Vec<LookupExpectation>,
}

/// Builds a demo world in `dir` (which must be empty or hold an earlier one) relative to the
/// clock's now, and syncs it on that clock ([`SyncClock::Pinned`] for a world that must not
/// change by day).
pub fn build(dir: &Path, clock: SyncClock) -> anyhow::Result<DemoWorld> {
    let now = clock.now();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    certsync::demo::prepare_dir(dir, true)?;
    let summary = runtime.block_on(certsync::demo::build(dir, now))?;
    let mut config = Config::load(&dir.join("certd.toml"))?;
    runtime
        .block_on(certd::sync::sync_once(&config, None, clock))
        .context("cannot sync the demo world")?;
    config.kiosk.admin_pin_hash = Some(PinHash::new(DEMO_PIN).context("cannot hash the demo's PIN")?);
    config.kiosk.state_dir = config.state_dir.join("kiosk");
    config.kiosk.pdf_dir = Some(dir.join("samples"));
    config.kiosk.audit_dir = Some(config.state_dir.join("kiosk-audit"));
    config.run.media_dirs.clear();
    let samples = summary
        .expectations
        .iter()
        .map(|e| dir.join("samples").join(format!("{}.png", e.sample)))
        .collect();
    Ok(DemoWorld {
        clock: demo_clock(dir, &summary.expectations),
        config,
        samples,
        lookups: summary.lookups,
    })
}

/// Samples whose verdict shows only at another time are verified at that time.
fn demo_clock(dir: &Path, expectations: &[Expectation]) -> Clock {
    let mut at = HashMap::new();
    for e in expectations {
        if let (Some(t), Ok(text)) = (
            e.at,
            std::fs::read_to_string(dir.join("samples").join(format!("{}.txt", e.sample))),
        ) {
            at.insert(text.trim().to_owned(), t);
        }
    }
    Clock::Demo(Arc::new(at))
}

impl DemoWorld {
    pub fn camera(&self) -> Result<Replay, CameraError> {
        Replay::demo(&self.samples, HOLD)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use certkiosk_store::Store;
    use certkiosk_verify::{VerdictCode, verify};

    /// `certkiosk --demo`'s world on the system clock, whatever the date (scripts/test runs this
    /// again a year ahead and a year behind): it syncs, and its valid sample is valid today.
    #[test]
    fn the_demo_world_builds_and_syncs_on_the_system_clock() {
        let dir = tempfile::tempdir().expect("tempdir");
        let world = build(dir.path(), SyncClock::System).expect("the demo world");
        assert!(world.samples.len() > 20, "{}", world.samples.len());
        let store = Store::open(&world.config.store_path()).expect("store");
        let reader = store.reader().expect("reader");
        let text = std::fs::read_to_string(dir.path().join("samples/valid-ministry-annotated.txt")).expect("sample");
        let verdict = verify(
            text.trim(),
            &reader,
            world.clock.now_for(text.trim()),
            &world.config.policy,
        );
        assert_eq!(verdict.verdict, VerdictCode::Valid, "{verdict:?}");
    }
}
