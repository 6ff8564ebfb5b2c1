//! An authority of the test's own (`Authority::init`, no demo data) and an appliance that syncs
//! from its repository on disk, all in one temporary directory.

use crate::{run, runtime, status_json};
use certsync::authority::Authority;
use certsync::publish::Lifetimes;
use std::path::PathBuf;
use std::process::Output;

#[derive(Debug)]
pub struct World {
    _tmp: tempfile::TempDir,
    /// Where the binaries run: the authority in `auth/`, the appliance's `certd.toml` and `state/`.
    pub dir: PathBuf,
    pub auth: PathBuf,
    /// The appliance's config: trusts `auth/root.json`, syncs from `auth/repo` in one round,
    /// opens the sealed targets with `fleet.key` (enrolled).
    pub config: String,
    pub rt: tokio::runtime::Runtime,
}

impl World {
    /// The authority initialised at `now`, nothing published yet, nothing synced.
    pub fn new(now: jiff::Timestamp) -> World {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().to_owned();
        let auth = dir.join("auth");
        let rt = runtime();
        let mut authority = rt
            .block_on(Authority::init(&auth, now, &Lifetimes::default()))
            .expect("init");
        // The appliance, enrolled in the fleet with its key where the config looks by default.
        let key = certkiosk_formats::fleet::ApplianceKey::generate();
        std::fs::write(dir.join("fleet.key"), key.to_file_text()).expect("fleet key");
        authority.enroll("test kiosk", &key.public_hex(), now).expect("enroll");
        let config = dir.join("certd.toml");
        std::fs::write(
            &config,
            "trusted_root = \"auth/root.json\"\nstate_dir = \"state\"\n[sync]\nmirrors = [\"auth/repo\"]\nrounds = 1\n",
        )
        .expect("config");
        World {
            _tmp: tmp,
            dir,
            auth,
            config: config.to_str().expect("utf-8").to_owned(),
            rt,
        }
    }

    pub fn repo(&self) -> PathBuf {
        self.auth.join("repo")
    }

    /// `certd sync --once`; its outcome is the caller's to check.
    pub fn sync(&self) -> Output {
        run("certd", &["--config", &self.config, "sync", "--once"], &self.dir)
    }

    /// `certd status --json`.
    pub fn status(&self) -> serde_json::Value {
        status_json(&self.config, &self.dir)
    }
}
