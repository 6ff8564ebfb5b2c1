//! Configuration in two stages (STYLE 4): the raw TOML (`deny_unknown_fields`) is validated into
//! [`Config`] with real types and absolute paths. Only `Config` travels.

use certkiosk_verify::{Lang, Policy};
use serde::Deserialize;
use std::path::{Path, PathBuf};

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
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVerify {
    fresh_hours: Option<u32>,
    max_status_age_days: Option<u32>,
    lang: Option<String>,
}

/// A repository source: for now a directory holding `metadata/` and `targets/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mirror {
    Dir(PathBuf),
}

impl std::fmt::Display for Mirror {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mirror::Dir(p) => write!(f, "{}", p.display()),
        }
    }
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub file: PathBuf,
    pub trusted_root: PathBuf,
    pub state_dir: PathBuf,
    pub mirrors: Vec<Mirror>,
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
            if m.contains("://") {
                return Err(invalid(
                    "sync.mirrors",
                    format!(
                        "{m:?}: only repository directories (a mirror copy, a USB stick) are supported by this build"
                    ),
                ));
            }
            mirrors.push(Mirror::Dir(base.join(m)));
        }

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
                "trusted_root = \"root.json\"\nstate_dir = \"s\"\n[sync]\nmirrors = [\"http://x/\"]\n",
                "sync.mirrors",
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
