//! Configuration in two stages (STYLE 4): the raw TOML (`deny_unknown_fields`) is validated into
//! [`Config`] with real types and absolute paths. Only `Config` travels.

use certkiosk_verify::{Lang, Policy};
use certsync::repo::Source;
use certsync::transport::HttpLimits;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    trusted_root: PathBuf,
    state_dir: PathBuf,
    #[serde(default)]
    sync: RawSync,
    #[serde(default)]
    verify: RawVerify,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSync {
    #[serde(default)]
    mirrors: Vec<String>,
    connect_timeout_secs: Option<u32>,
    file_timeout_secs: Option<u32>,
    rounds: Option<u32>,
    retry_initial_ms: Option<u32>,
    retry_max_secs: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVerify {
    fresh_hours: Option<u32>,
    max_status_age_days: Option<u32>,
    lang: Option<String>,
}

/// How a sync retries: rounds over the mirror list, with exponential backoff and jitter
/// between rounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    pub rounds: u32,
    pub initial: Duration,
    pub max: Duration,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub file: PathBuf,
    pub trusted_root: PathBuf,
    pub state_dir: PathBuf,
    pub mirrors: Vec<Source>,
    pub http: HttpLimits,
    pub retry: Retry,
    pub policy: Policy,
    pub lang: Lang,
}

/// A configuration that cannot be used: always names the file, and the key where it can.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config {file}: cannot read: {cause}")]
    Read { file: PathBuf, cause: String },
    #[error("config {file}: line {line}: {message}")]
    Syntax {
        file: PathBuf,
        line: usize,
        message: String,
    },
    #[error("config {file}: {key}: {problem}")]
    Invalid {
        file: PathBuf,
        key: &'static str,
        problem: String,
    },
}

impl Config {
    pub fn store_path(&self) -> PathBuf {
        self.state_dir.join("store.sqlite")
    }

    pub fn tuf_dir(&self) -> PathBuf {
        self.state_dir.join("tuf")
    }

    pub fn lock_path(&self) -> PathBuf {
        self.state_dir.join("certd.lock")
    }

    /// The outcome of the last sync attempts, written by certd only.
    pub fn sync_status_path(&self) -> PathBuf {
        self.state_dir.join("sync-status.json")
    }

    pub fn load(file: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(file).map_err(|e| ConfigError::Read {
            file: file.to_owned(),
            cause: e.to_string(),
        })?;
        Config::parse(file, &text)
    }

    pub fn parse(file: &Path, text: &str) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
                .unwrap_or(1);
            ConfigError::Syntax {
                file: file.to_owned(),
                line,
                message: e.message().replace('\n', " "),
            }
        })?;
        let base = file.parent().map(Path::to_path_buf).unwrap_or_default();
        let base = if base.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            base
        };
        let base = std::path::absolute(&base).unwrap_or(base);
        let invalid = |key, problem: String| ConfigError::Invalid {
            file: file.to_owned(),
            key,
            problem,
        };

        let trusted_root = base.join(&raw.trusted_root);
        let root_text = std::fs::read(&trusted_root)
            .map_err(|e| invalid("trusted_root", format!("{}: {e}", trusted_root.display())))?;
        let root: serde_json::Value = serde_json::from_slice(&root_text)
            .map_err(|e| invalid("trusted_root", format!("{} is not JSON: {e}", trusted_root.display())))?;
        if root.pointer("/signed/_type").and_then(|t| t.as_str()) != Some("root") {
            return Err(invalid(
                "trusted_root",
                format!("{} is not TUF root metadata", trusted_root.display()),
            ));
        }

        let state_dir = base.join(&raw.state_dir);
        let mut mirrors = Vec::new();
        for m in &raw.sync.mirrors {
            match Source::parse(m).map_err(|e| invalid("sync.mirrors", e))? {
                Source::Dir(p) => mirrors.push(Source::Dir(base.join(p))),
                url => mirrors.push(url),
            }
        }
        let secs = |v: Option<u32>, default: u64, key: &'static str| match v {
            Some(0) => Err(invalid(key, "must be at least 1".into())),
            Some(n) => Ok(Duration::from_secs(u64::from(n))),
            None => Ok(Duration::from_secs(default)),
        };
        let http = HttpLimits {
            connect_timeout: secs(raw.sync.connect_timeout_secs, 10, "sync.connect_timeout_secs")?,
            file_timeout: secs(raw.sync.file_timeout_secs, 120, "sync.file_timeout_secs")?,
        };
        let retry = Retry {
            rounds: match raw.sync.rounds {
                Some(0) => return Err(invalid("sync.rounds", "must be at least 1".into())),
                Some(n) => n,
                None => 3,
            },
            initial: Duration::from_millis(u64::from(raw.sync.retry_initial_ms.unwrap_or(1000))),
            max: secs(raw.sync.retry_max_secs, 60, "sync.retry_max_secs")?,
        };

        let defaults = Policy::default();
        let hours = |h: u32| jiff::SignedDuration::from_hours(i64::from(h));
        let fresh_window = raw.verify.fresh_hours.map(hours).unwrap_or(defaults.fresh_window);
        let max_status_age = raw
            .verify
            .max_status_age_days
            .map(|d| hours(d * 24))
            .unwrap_or(defaults.max_status_age);
        if fresh_window.is_zero() {
            return Err(invalid("verify.fresh_hours", "must be at least 1".into()));
        }
        if max_status_age < fresh_window {
            return Err(invalid(
                "verify.max_status_age_days",
                "must not be shorter than verify.fresh_hours".into(),
            ));
        }
        let lang = match raw.verify.lang.as_deref() {
            None => Lang::default(),
            Some(l) => Lang::parse(l).ok_or_else(|| invalid("verify.lang", format!("{l:?} is not zh or en")))?,
        };
        Ok(Config {
            file: file.to_owned(),
            trusted_root,
            state_dir,
            mirrors,
            http,
            retry,
            policy: Policy {
                fresh_window,
                max_status_age,
            },
            lang,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_with_root() -> tempfile::TempDir {
        let d = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            d.path().join("root.json"),
            r#"{"signed":{"_type":"root"},"signatures":[]}"#,
        )
        .expect("write");
        d
    }

    fn parse(d: &tempfile::TempDir, text: &str) -> Result<Config, ConfigError> {
        Config::parse(&d.path().join("certd.toml"), text)
    }

    #[test]
    fn a_minimal_config_gets_defaults_and_absolute_paths() {
        let d = dir_with_root();
        let c = parse(&d, "trusted_root = \"root.json\"\nstate_dir = \"state\"\n").expect("valid");
        assert!(c.store_path().is_absolute());
        assert_eq!(c.policy, Policy::default());
        assert_eq!(c.lang, Lang::Zh);
    }

    #[test]
    fn every_error_names_the_file_and_the_key_on_one_line() {
        let d = dir_with_root();
        let cases = [
            ("trusted_root = \"root.json\"\nstate_dir = \"s\"\nbogus = 1\n", "line 3"),
            ("trusted_root = \"missing.json\"\nstate_dir = \"s\"\n", "trusted_root"),
            (
                "trusted_root = \"root.json\"\nstate_dir = \"s\"\n[verify]\nlang = \"fr\"\n",
                "verify.lang",
            ),
            (
                "trusted_root = \"root.json\"\nstate_dir = \"s\"\n[verify]\nfresh_hours = 0\n",
                "verify.fresh_hours",
            ),
            (
                "trusted_root = \"root.json\"\nstate_dir = \"s\"\n[verify]\nfresh_hours = 100\nmax_status_age_days = 1\n",
                "verify.max_status_age_days",
            ),
            (
                "trusted_root = \"root.json\"\nstate_dir = \"s\"\n[sync]\nmirrors = [\"ftp://x/\"]\n",
                "sync.mirrors",
            ),
            (
                "trusted_root = \"root.json\"\nstate_dir = \"s\"\n[sync]\nrounds = 0\n",
                "sync.rounds",
            ),
            ("state_dir = \"s\"\n", "trusted_root"),
        ];
        for (text, needle) in cases {
            let msg = parse(&d, text).expect_err(text).to_string();
            assert!(msg.contains("certd.toml") && msg.contains(needle), "{msg}");
            assert!(!msg.contains('\n'), "one line: {msg}");
        }
    }
}
