//! Configuration in two stages: the raw TOML (`deny_unknown_fields`) is validated into
//! [`Config`] with real types and absolute paths. Only `Config` travels.

use crate::pin::PinHash;
use certkiosk_formats::repository::Source;
use certkiosk_formats::repository::{HttpLimits, Proxy};
use certkiosk_verify::{Lang, Policy};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;
use url::Url;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    trusted_root: PathBuf,
    state_dir: PathBuf,
    fleet_key: Option<PathBuf>,
    #[serde(default)]
    sync: RawSync,
    #[serde(default)]
    verify: RawVerify,
    #[serde(default)]
    run: RawRun,
    #[serde(default)]
    audit: RawAudit,
    #[serde(default)]
    kiosk: RawKiosk,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKiosk {
    result_timeout_secs: Option<u32>,
    hold_negative_secs: Option<u32>,
    mode: Option<String>,
    sound: Option<bool>,
    volume: Option<u32>,
    sound_device: Option<String>,
    /// Refused: read only to say what to do instead (docs/decisions/0019-admin-pin.md).
    /// Any value (a string, or a number written without quotes): only its presence is read,
    /// so no error message can ever repeat it.
    admin_pin: Option<toml::Value>,
    admin_pin_hash: Option<String>,
    pdf_dir: Option<PathBuf>,
    camera: Option<u32>,
    lang: Option<String>,
    audit_dir: Option<PathBuf>,
    state_dir: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAudit {
    enabled: Option<bool>,
    dir: Option<PathBuf>,
    max_file_kib: Option<u32>,
    keep_files: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRun {
    interval_minutes: Option<u32>,
    jitter_percent: Option<u32>,
    first_sync_secs: Option<u32>,
    media_dirs: Option<Vec<PathBuf>>,
    media_poll_secs: Option<u32>,
    grace_secs: Option<u32>,
    job_deadline_minutes: Option<u32>,
    metrics: Option<String>,
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
    proxy: Option<String>,
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

/// How `certd run` behaves.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSettings {
    /// Between scheduled syncs from the mirrors.
    pub interval: Duration,
    /// Each pause is spread by ± this fraction of itself.
    pub jitter: f64,
    /// The first sync after start (also jittered).
    pub first_sync: Duration,
    /// Watched for repository copies (removable media); empty: not watched.
    pub media_dirs: Vec<PathBuf>,
    pub media_poll: Duration,
    /// How long a sync in flight may take to finish at shutdown.
    pub grace: Duration,
    /// How long any sync or import may take before it is abandoned (and counted as failed),
    /// so that nothing on a mirror or a stick can hold up the next one.
    pub job_deadline: Duration,
    /// Prometheus exposition address (loopback only); `None`: off.
    pub metrics: Option<std::net::SocketAddr>,
}

impl Default for RunSettings {
    fn default() -> Self {
        RunSettings {
            interval: Duration::from_secs(3600),
            jitter: 0.2,
            first_sync: Duration::from_secs(30),
            media_dirs: vec![PathBuf::from("/media"), PathBuf::from("/run/media")],
            media_poll: Duration::from_secs(5),
            grace: Duration::from_secs(20),
            job_deadline: Duration::from_secs(30 * 60),
            metrics: None,
        }
    }
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub file: PathBuf,
    pub trusted_root: PathBuf,
    pub state_dir: PathBuf,
    /// This appliance's fleet key (`certd fleet-key`), which opens the sealed targets:
    /// `fleet_key`, by default `fleet.key` beside the configuration.
    pub fleet_key: PathBuf,
    pub mirrors: Vec<Source>,
    pub http: HttpLimits,
    pub retry: Retry,
    pub policy: Policy,
    pub lang: Lang,
    pub run: RunSettings,
    /// Where verifications are recorded (`None`: not recorded).
    pub audit: Option<AuditSettings>,
    pub kiosk: KioskSettings,
}

/// The kiosk UI's part of the file (`[kiosk]`): certkiosk reads the same configuration, so the
/// two never disagree about the store, the policy or the media directories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KioskSettings {
    /// A result is cleared after this, so the next person never sees it (docs/design.md §7).
    pub result_timeout: Duration,
    /// A negative (red) result stays on screen at least this long unless the clerk dismisses
    /// it: the next person's code waits rather than replace it unseen.
    pub hold_negative: Duration,
    /// Exam-gate mode: the result is the verdict's colour full-screen with the name, a short
    /// timeout, and a certificate seen earlier today is said so (at the front desk: details).
    pub gate: bool,
    /// A chime per result (valid, caution, negative); off: silent.
    pub sound: bool,
    /// 0–100.
    pub volume: u8,
    /// The ALSA device the chimes play on (`default`).
    pub sound_device: String,
    /// The hash of the digits that open the admin screen (`certd set-pin` writes it);
    /// `None`: the admin screen is not offered.
    pub admin_pin_hash: Option<PinHash>,
    /// The one folder besides removable media (`run.media_dirs`) that PDFs are opened from.
    pub pdf_dir: Option<PathBuf>,
    /// The V4L2 camera (index of /dev/videoN); `None`: the first that delivers frames.
    pub camera: Option<u32>,
    /// The language the kiosk starts in and returns to.
    pub lang: Lang,
    /// Where the kiosk records its verifications (its own state directory: it cannot write
    /// certd's); `None`: not recorded.
    pub audit_dir: Option<PathBuf>,
    /// The kiosk's own writable directory (it cannot write certd's): the count of wrong PINs
    /// and the lockout that follows them, kept across restarts.
    pub state_dir: PathBuf,
}

fn read_text(file: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(file).map_err(|e| ConfigError::Read {
        file: file.to_owned(),
        cause: e.to_string(),
    })
}

/// An ALSA device that is a sound card: `default`, `null`, `sysdefault`, `hw`, `plughw` or
/// `dmix`, with `:` and card and device words. Not any PCM definition: `file:` would write
/// (truncating) any file the kiosk may, and a pipe would run a program.
fn is_sound_device(name: &str) -> bool {
    let (kind, args) = name.split_once(':').unwrap_or((name, ""));
    let kind_ok = matches!(kind, "default" | "null" | "sysdefault" | "hw" | "plughw" | "dmix");
    let args_ok = (args.is_empty() && !name.ends_with(':'))
        || (!args.is_empty()
            && args.len() <= 48
            && args
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | ',' | '=')));
    kind_ok && args_ok
}

/// The proxy mirrors are fetched through: `sync.proxy` (a URL, or `none`), else the
/// environment's `https_proxy`, `http_proxy` and `no_proxy` (or their capitals), as curl and
/// apt read them. Err: the key or variable, and why (never the URL: it may hold a password).
fn proxy(setting: Option<&str>, env: impl Fn(&str) -> Option<String>) -> Result<Proxy, (&'static str, String)> {
    let check = |url: &str, key: &'static str| -> Result<String, (&'static str, String)> {
        match Url::parse(url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => Ok(url.to_owned()),
            _ => Err((key, "not an http:// or https:// proxy URL".to_owned())),
        }
    };
    match setting {
        Some("none") => Ok(Proxy::default()),
        Some(url) => {
            let url = check(url, "sync.proxy")?;
            Ok(Proxy {
                http: Some(url.clone()),
                https: Some(url),
                no_proxy: Vec::new(),
            })
        }
        None => {
            let var = |lower: &'static str, upper: &str| {
                env(lower)
                    .or_else(|| env(upper))
                    .filter(|v| !v.trim().is_empty())
                    .map(|v| (lower, v))
            };
            let https = var("https_proxy", "HTTPS_PROXY")
                .map(|(k, v)| check(v.trim(), k))
                .transpose()?;
            let http = var("http_proxy", "HTTP_PROXY")
                .map(|(k, v)| check(v.trim(), k))
                .transpose()?;
            let no_proxy = var("no_proxy", "NO_PROXY")
                .map(|(_, v)| {
                    v.split(',')
                        .map(|h| h.trim().to_owned())
                        .filter(|h| !h.is_empty())
                        .collect()
                })
                .unwrap_or_default();
            Ok(Proxy { http, https, no_proxy })
        }
    }
}

/// The key set on line `line` (1-based) of a TOML text, with its table (`kiosk.lang`), when the
/// line is a plain `key = value`: a wrong value's message then names what it is for.
fn key_on_line(text: &str, line: usize) -> Option<String> {
    let mut table = String::new();
    for l in text.lines().take(line.saturating_sub(1)) {
        let l = l.trim();
        if let Some(name) = l.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            table = name.trim().to_owned();
        }
    }
    let (key, _) = text.lines().nth(line.checked_sub(1)?)?.split_once('=')?;
    let key = key.trim();
    let bare = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'));
    bare.then(|| {
        if table.is_empty() {
            key.to_owned()
        } else {
            format!("{table}.{key}")
        }
    })
}

/// The TOML of `file`, and the directory its relative paths start from.
fn raw(file: &Path, text: &str) -> Result<(RawConfig, PathBuf), ConfigError> {
    let raw: RawConfig = toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
            .unwrap_or(1);
        let message = e.message().replace('\n', " ");
        ConfigError::Syntax {
            file: file.to_owned(),
            line,
            message: match key_on_line(text, line) {
                Some(key) => format!("{key}: {message}"),
                None => message,
            },
        }
    })?;
    let base = file.parent().map(Path::to_path_buf).unwrap_or_default();
    let base = if base.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        base
    };
    let base = std::path::absolute(&base).unwrap_or(base);
    Ok((raw, base))
}

fn fleet_key(raw: &RawConfig, base: &Path) -> PathBuf {
    base.join(raw.fleet_key.as_deref().unwrap_or(Path::new(FLEET_KEY_FILE)))
}

/// The fleet key's file name beside the configuration when `fleet_key` is not set.
pub const FLEET_KEY_FILE: &str = "fleet.key";

/// The kiosk's state directory when `[kiosk] state_dir` is not set: the StateDirectory of
/// certkiosk.service.
pub const KIOSK_STATE_DIR: &str = "/var/lib/certkiosk-ui";

/// The audit log of verifications (`certkiosk_appliance::audit`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditSettings {
    pub dir: PathBuf,
    pub limits: crate::audit::Limits,
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
        Config::parse(file, &read_text(file)?)
    }

    /// Where the fleet key of the configuration in `file` is, from the file's text alone:
    /// `certd fleet-key --init` runs at install, before the authority's root is in place.
    pub fn fleet_key_path(file: &Path) -> Result<PathBuf, ConfigError> {
        let (raw, base) = raw(file, &read_text(file)?)?;
        Ok(fleet_key(&raw, &base))
    }

    pub fn parse(file: &Path, text: &str) -> Result<Config, ConfigError> {
        let (raw, base) = raw(file, text)?;
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
        let fleet_key = fleet_key(&raw, &base);
        let mut mirrors = Vec::new();
        for m in &raw.sync.mirrors {
            match parse_source(m).map_err(|e| invalid("sync.mirrors", e))? {
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
            proxy: proxy(raw.sync.proxy.as_deref(), |k| std::env::var(k).ok()).map_err(|(key, e)| invalid(key, e))?,
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
            Some(l) => {
                Lang::parse(l).ok_or_else(|| invalid("verify.lang", format!("{l:?} is not zh, zh-Hant or en")))?
            }
        };
        let run = run_settings(&raw.run, &base).map_err(|(key, problem)| invalid(key, problem))?;
        let audit = if raw.audit.enabled.unwrap_or(true) {
            let defaults = crate::audit::Limits::default();
            let limits = crate::audit::Limits {
                max_file_bytes: match raw.audit.max_file_kib {
                    Some(0) => return Err(invalid("audit.max_file_kib", "must be at least 1".into())),
                    Some(k) => u64::from(k) * 1024,
                    None => defaults.max_file_bytes,
                },
                keep_files: match raw.audit.keep_files {
                    Some(0) => return Err(invalid("audit.keep_files", "must be at least 1".into())),
                    Some(n) => n,
                    None => defaults.keep_files,
                },
            };
            let dir = raw
                .audit
                .dir
                .as_ref()
                .map_or_else(|| state_dir.join("audit"), |d| base.join(d));
            Some(AuditSettings { dir, limits })
        } else {
            None
        };
        let kiosk = kiosk_settings(&raw.kiosk, &base, file).map_err(|(key, problem)| invalid(key, problem))?;
        Ok(Config {
            run,
            audit,
            kiosk,
            file: file.to_owned(),
            trusted_root,
            state_dir,
            fleet_key,
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

fn kiosk_settings(raw: &RawKiosk, base: &Path, file: &Path) -> Result<KioskSettings, (&'static str, String)> {
    let gate = match raw.mode.as_deref() {
        None | Some("desk") => false,
        Some("gate") => true,
        Some(m) => return Err(("kiosk.mode", format!("{m:?} is not desk or gate"))),
    };
    let result_timeout = match raw.result_timeout_secs {
        Some(s) if !(5..=600).contains(&s) => {
            return Err(("kiosk.result_timeout_secs", format!("{s} is not between 5 and 600")));
        }
        // At a gate the queue moves every few seconds.
        s => Duration::from_secs(u64::from(s.unwrap_or(if gate { 5 } else { 30 }))),
    };
    let hold_negative = match raw.hold_negative_secs {
        Some(s) if u64::from(s) >= result_timeout.as_secs() || s > 60 => {
            return Err((
                "kiosk.hold_negative_secs",
                format!(
                    "{s} is not between 0 and 60 and shorter than kiosk.result_timeout_secs ({})",
                    result_timeout.as_secs()
                ),
            ));
        }
        s => Duration::from_secs(u64::from(s.unwrap_or(3))),
    };
    // A PIN in plain text is never used, and never silently ignored: the admin screen would
    // vanish without a word.
    if raw.admin_pin.as_ref().is_some_and(|p| p.as_str() != Some("")) {
        return Err((
            "kiosk.admin_pin",
            format!(
                "a PIN in plain text is no longer accepted: run `certd --config {} set-pin`, which stores its hash as kiosk.admin_pin_hash instead",
                file.display()
            ),
        ));
    }
    let admin_pin_hash = match raw.admin_pin_hash.as_deref() {
        None | Some("") => None,
        Some(h) => Some(PinHash::parse(h).map_err(|e| ("kiosk.admin_pin_hash", e.to_string()))?),
    };
    let lang = match raw.lang.as_deref() {
        None => Lang::Zh,
        Some(l) => Lang::parse(l).ok_or(("kiosk.lang", format!("{l:?} is not zh, zh-Hant or en")))?,
    };
    let volume = match raw.volume {
        Some(v) if v > 100 => return Err(("kiosk.volume", format!("{v} is not between 0 and 100"))),
        v => v.unwrap_or(60) as u8,
    };
    let sound_device = match raw.sound_device.as_deref() {
        None => "default".to_owned(),
        Some(d) if !is_sound_device(d) => {
            return Err((
                "kiosk.sound_device",
                "not a sound card's ALSA name: default, null, sysdefault, hw, plughw or dmix, with :card,device"
                    .to_owned(),
            ));
        }
        Some(d) => d.to_owned(),
    };
    Ok(KioskSettings {
        sound: raw.sound.unwrap_or(true),
        volume,
        sound_device,
        result_timeout,
        hold_negative,
        gate,
        admin_pin_hash,
        pdf_dir: raw.pdf_dir.as_ref().map(|d| base.join(d)),
        camera: raw.camera,
        lang,
        audit_dir: raw.audit_dir.as_ref().map(|d| base.join(d)),
        state_dir: raw
            .state_dir
            .as_ref()
            .map_or_else(|| PathBuf::from(KIOSK_STATE_DIR), |d| base.join(d)),
    })
}

fn run_settings(raw: &RawRun, base: &Path) -> Result<RunSettings, (&'static str, String)> {
    let defaults = RunSettings::default();
    let at_least_one = |v: Option<u32>, key: &'static str| match v {
        Some(0) => Err((key, "must be at least 1".to_owned())),
        other => Ok(other.map(u64::from)),
    };
    let interval = at_least_one(raw.interval_minutes, "run.interval_minutes")?
        .map_or(defaults.interval, |m| Duration::from_secs(m * 60));
    let jitter = match raw.jitter_percent {
        Some(p) if p > 50 => return Err(("run.jitter_percent", format!("{p} is more than 50"))),
        Some(p) => f64::from(p) / 100.0,
        None => defaults.jitter,
    };
    let first_sync = raw
        .first_sync_secs
        .map_or(defaults.first_sync, |s| Duration::from_secs(u64::from(s)));
    let media_poll =
        at_least_one(raw.media_poll_secs, "run.media_poll_secs")?.map_or(defaults.media_poll, Duration::from_secs);
    let grace = raw
        .grace_secs
        .map_or(defaults.grace, |s| Duration::from_secs(u64::from(s)));
    let job_deadline = at_least_one(raw.job_deadline_minutes, "run.job_deadline_minutes")?
        .map_or(defaults.job_deadline, |m| Duration::from_secs(m * 60));
    let media_dirs = raw
        .media_dirs
        .as_ref()
        .map_or(defaults.media_dirs, |dirs| dirs.iter().map(|d| base.join(d)).collect());
    let metrics = match raw.metrics.as_deref() {
        None | Some("") => None,
        Some(text) => {
            let addr: std::net::SocketAddr = text
                .parse()
                .map_err(|_| ("run.metrics", format!("{text:?} is not an address like 127.0.0.1:9731")))?;
            if !addr.ip().is_loopback() {
                return Err(("run.metrics", format!("{addr} is not a loopback address")));
            }
            Some(addr)
        }
    };
    Ok(RunSettings {
        interval,
        jitter,
        first_sync,
        media_dirs,
        media_poll,
        grace,
        job_deadline,
        metrics,
    })
}

/// A repository's place as written in the configuration or on the command line: a URL
/// (`http://`, `https://`) or else a directory path.
pub fn parse_source(s: &str) -> Result<Source, String> {
    if s.contains("://") {
        let mut url = Url::parse(s).map_err(|e| format!("{s:?} is not a valid URL: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("{s:?}: only http:// and https:// mirrors are supported"));
        }
        if !url.path().ends_with('/') {
            url.set_path(&format!("{}/", url.path()));
        }
        Ok(Source::Http(url.to_string()))
    } else {
        Ok(Source::Dir(PathBuf::from(s)))
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
        assert_eq!(c.run, RunSettings::default());
        assert_eq!(c.run.metrics, None, "no listening socket by default");
        assert_eq!(c.kiosk.result_timeout, Duration::from_secs(30));
        assert_eq!(c.kiosk.hold_negative, Duration::from_secs(3));
        assert!(!c.kiosk.gate, "the front desk by default");
        assert!(c.kiosk.sound && c.kiosk.volume == 60 && c.kiosk.sound_device == "default");
        for good in ["default", "null", "hw:1,0", "plughw:CARD=Device,DEV=0", "dmix"] {
            assert!(is_sound_device(good), "{good}");
        }
        for bad in ["file:'/etc/passwd'", "default:", "plug:'|sh'", "hw:1;0", ""] {
            assert!(!is_sound_device(bad), "{bad}");
        }
        assert_eq!((c.kiosk.admin_pin_hash.as_ref(), c.kiosk.lang), (None, Lang::Zh));
        assert_eq!(c.kiosk.state_dir, Path::new(KIOSK_STATE_DIR));
    }

    #[test]
    fn the_proxy_is_the_configs_else_the_environments_and_never_shown_with_its_password() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned())
        };
        let none: &[(&str, &str)] = &[];
        assert_eq!(proxy(None, env(none)), Ok(Proxy::default()));
        let set = proxy(Some("http://user:secret@proxy.example.cn:3128"), env(none)).expect("proxy");
        assert_eq!(
            set.for_host("https", "mirror.example.cn"),
            Some("http://user:secret@proxy.example.cn:3128")
        );
        assert_eq!(set.for_host("http", "127.0.0.1"), None, "loopback is reached directly");
        assert_eq!(set.for_host("http", "[::1]"), None);
        assert_eq!(
            Proxy::shown("http://user:secret@proxy.example.cn:3128/"),
            "proxy.example.cn:3128"
        );
        // The environment, as curl and apt read it; `none` ignores it.
        let vars: &[(&str, &str)] = &[
            ("HTTPS_PROXY", "http://p.example.cn:8080"),
            ("no_proxy", "intranet.example.cn, .local"),
        ];
        let from_env = proxy(None, env(vars)).expect("from the environment");
        assert_eq!(
            from_env.for_host("https", "mirror.example.cn"),
            Some("http://p.example.cn:8080")
        );
        assert_eq!(from_env.for_host("http", "mirror.example.cn"), None, "no http_proxy");
        assert_eq!(from_env.for_host("https", "a.intranet.example.cn"), None, "no_proxy");
        assert_eq!(from_env.for_host("https", "kiosk.local"), None);
        assert_eq!(proxy(Some("none"), env(vars)), Ok(Proxy::default()));
        // Wrong values: the key, never the value.
        let bad: &[(&str, &str)] = &[("https_proxy", "socks5://user:pw@x:1")];
        let (key, why) = proxy(None, env(bad)).expect_err("socks");
        assert_eq!(key, "https_proxy");
        assert!(!why.contains("pw"), "{why}");
        assert_eq!(
            proxy(Some("proxy:3128"), env(none)).map_err(|(k, _)| k),
            Err("sync.proxy")
        );
    }

    #[test]
    fn an_exam_gate_gets_a_short_timeout_unless_one_is_set() {
        let d = dir_with_root();
        let head = "trusted_root = \"root.json\"\nstate_dir = \"s\"\n[kiosk]\nmode = \"gate\"\n";
        let c = parse(&d, head).expect("valid");
        assert!(c.kiosk.gate);
        assert_eq!(c.kiosk.result_timeout, Duration::from_secs(5));
        let c = parse(&d, &format!("{head}result_timeout_secs = 12\n")).expect("valid");
        assert_eq!(c.kiosk.result_timeout, Duration::from_secs(12));
        let c = parse(
            &d,
            "trusted_root = \"root.json\"\nstate_dir = \"s\"\n[kiosk]\nmode = \"desk\"\n",
        )
        .expect("valid");
        assert!(!c.kiosk.gate);
    }

    #[test]
    fn the_admin_pin_is_read_only_as_a_hash() {
        let d = dir_with_root();
        let head = "trusted_root = \"root.json\"\nstate_dir = \"s\"\n[kiosk]\n";
        // Quoted, or a number written without quotes: refused, and never repeated.
        for pin in ["\"246810\"", "246810"] {
            let plain = parse(&d, &format!("{head}admin_pin = {pin}\n"))
                .expect_err("a plain PIN is refused")
                .to_string();
            assert!(
                plain.contains("kiosk.admin_pin:") && plain.contains("set-pin") && !plain.contains("246810"),
                "{plain}"
            );
        }
        let hash = PinHash::new("246810").expect("hash");
        let c = parse(
            &d,
            &format!(
                "{head}admin_pin_hash = \"{}\"\nstate_dir = \"kiosk-state\"\n",
                hash.as_str()
            ),
        )
        .expect("a hash is read");
        assert!(c.kiosk.admin_pin_hash.as_ref().is_some_and(|h| h.matches("246810")));
        assert_eq!(c.kiosk.state_dir, d.path().join("kiosk-state"), "relative to the file");
        let none = parse(&d, &format!("{head}admin_pin = \"\"\nadmin_pin_hash = \"\"\n")).expect("empty: no PIN");
        assert_eq!(none.kiosk.admin_pin_hash, None);
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
            (
                "trusted_root = \"root.json\"\nstate_dir = \"s\"\n[run]\nmetrics = \"0.0.0.0:9731\"\n",
                "run.metrics",
            ),
            (
                "trusted_root = \"root.json\"\nstate_dir = \"s\"\n[run]\nmetrics = \"localhost\"\n",
                "run.metrics",
            ),
            (
                "trusted_root = \"root.json\"\nstate_dir = \"s\"\n[audit]\nkeep_files = 0\n",
                "audit.keep_files",
            ),
            (
                "trusted_root = \"root.json\"\nstate_dir = \"s\"\n[run]\ninterval_minutes = 0\n",
                "run.interval_minutes",
            ),
            (
                "trusted_root = \"root.json\"\nstate_dir = \"s\"\n[run]\njitter_percent = 80\n",
                "run.jitter_percent",
            ),
            (
                "trusted_root = \"root.json\"\nstate_dir = \"s\"\n[run]\nintervall_minutes = 5\n",
                "line 4",
            ),
            (
                "trusted_root = \"root.json\"\nstate_dir = \"s\"\n[kiosk]\nadmin_pin = \"12a4\"\n",
                "kiosk.admin_pin",
            ),
            (
                "trusted_root = \"root.json\"\nstate_dir = \"s\"\n[kiosk]\nadmin_pin_hash = \"246810\"\n",
                "kiosk.admin_pin_hash",
            ),
            (
                "trusted_root = \"root.json\"\nstate_dir = \"s\"\n[kiosk]\nadmin_pin_hash = \"$argon2i$v=19$m=19456,t=2,p=1$c29tZXNhbHQxMjM0$iWh06vD8Fy27wf9npn6FXWiCX4K6pW6Ue1Bnzz07Z8A\"\n",
                "kiosk.admin_pin_hash",
            ),
            (
                "trusted_root = \"root.json\"\nstate_dir = \"s\"\n[kiosk]\nresult_timeout_secs = 1\n",
                "kiosk.result_timeout_secs",
            ),
            (
                "trusted_root = \"root.json\"\nstate_dir = \"s\"\n[kiosk]\nresult_timeout_secs = 10\nhold_negative_secs = 10\n",
                "kiosk.hold_negative_secs",
            ),
            (
                "trusted_root = \"root.json\"\nstate_dir = \"s\"\n[kiosk]\nhold_negative_secs = -1\n",
                "kiosk.hold_negative_secs",
            ),
            (
                "trusted_root = \"root.json\"\nstate_dir = \"s\"\n[kiosk]\nvolume = 150\n",
                "kiosk.volume",
            ),
            (
                "trusted_root = \"root.json\"\nstate_dir = \"s\"\n[kiosk]\nsound_device = \"\"\n",
                "kiosk.sound_device",
            ),
            (
                "trusted_root = \"root.json\"\nstate_dir = \"s\"\n[kiosk]\nsound_device = \"file:'/var/lib/certkiosk-ui/audit/x'\"\n",
                "kiosk.sound_device",
            ),
            (
                "trusted_root = \"root.json\"\nstate_dir = \"s\"\n[kiosk]\nmode = \"exam\"\n",
                "kiosk.mode",
            ),
            (
                "trusted_root = \"root.json\"\nstate_dir = \"s\"\n[kiosk]\nlang = \"de\"\n",
                "kiosk.lang",
            ),
        ];
        for (text, needle) in cases {
            let msg = parse(&d, text).expect_err(text).to_string();
            assert!(msg.contains("certd.toml") && msg.contains(needle), "{msg}");
            assert!(!msg.contains('\n'), "one line: {msg}");
        }
    }
}
