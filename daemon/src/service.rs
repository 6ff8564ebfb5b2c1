//! `certd run`: the appliance service.
//!
//! One loop over one closed [`Event`] enum. What it reacts to: the jittered sync
//! timer, a scan of the removable-media directories for a repository copy, a finished sync or
//! import, the watchdog timer and shutdown. Syncs and imports run one at a time in their own
//! task, so the loop — and with it the watchdog ping and the reaction to SIGTERM — never waits
//! on the network or on SQLite.
//!
//! The world is injected: the [`Syncer`] (the transport: tough over HTTP, or a
//! directory), the wall [`Clock`] (for TUF expiry and the records; the schedule runs on
//! tokio's clock), the [`Notifier`] (systemd's notify socket), the metrics listener
//! and the shutdown future. Tests run the loop with paused time.

use crate::metrics::{self, Metrics};
use crate::sync::{SyncError, SyncOutcome};
use certkiosk_appliance::config::{Config, RunSettings};
use certkiosk_formats::escape;
use certkiosk_formats::repository::Source;
use certkiosk_sync::clock::Clock;
use std::collections::VecDeque;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// A sync's future, as the service spawns it.
pub type SyncFuture = Pin<Box<dyn Future<Output = Result<SyncOutcome, SyncError>> + Send>>;

/// Fetches and applies status data: from the configured mirrors (`None`) or from the given
/// sources (a repository copy on removable media).
pub trait Syncer: Send + Sync + 'static {
    fn sync(&self, sources: Option<Vec<Source>>, clock: Clock) -> SyncFuture;
}

/// The real transport: [`crate::sync::sync_once`] with the configuration.
#[derive(Debug)]
pub struct Mirrors(pub Arc<Config>);

impl Syncer for Mirrors {
    fn sync(&self, sources: Option<Vec<Source>>, clock: Clock) -> SyncFuture {
        let config = Arc::clone(&self.0);
        Box::pin(async move { crate::sync::sync_once(&config, sources, clock).await })
    }
}

/// What the service tells its supervisor (systemd's `sd_notify`).
pub trait Notifier: Send + 'static {
    fn ready(&mut self);
    fn watchdog(&mut self);
    fn status(&mut self, line: &str);
    fn stopping(&mut self);
}

/// systemd's notify socket; does nothing when certd was not started by systemd.
#[derive(Debug)]
pub struct Systemd;

impl Notifier for Systemd {
    fn ready(&mut self) {
        notify(&[sd_notify::NotifyState::Ready]);
    }
    fn watchdog(&mut self) {
        notify(&[sd_notify::NotifyState::Watchdog]);
    }
    fn status(&mut self, line: &str) {
        // One line, always: a newline would start a notification of its own. (The lines the
        // service says are escaped already; this is for any that are not.)
        if line.chars().any(escape::is_hidden) {
            notify(&[sd_notify::NotifyState::Status(&escape::line(line))]);
        } else {
            notify(&[sd_notify::NotifyState::Status(line)]);
        }
    }
    fn stopping(&mut self) {
        notify(&[sd_notify::NotifyState::Stopping]);
    }
}

fn notify(state: &[sd_notify::NotifyState]) {
    if let Err(e) = sd_notify::notify(state) {
        tracing::warn!(error = %e, "cannot notify systemd");
    }
}

/// Everything the service runs against.
pub struct World<S: Syncer> {
    pub config: Arc<Config>,
    pub syncer: S,
    pub clock: Clock,
    pub notifier: Box<dyn Notifier>,
    /// The Prometheus listener, when `run.metrics` is configured (bound by the caller).
    pub metrics: Option<tokio::net::TcpListener>,
    /// How often to ping the watchdog (half of systemd's `WatchdogSec`), if it is on.
    pub watchdog: Option<Duration>,
}

impl<S: Syncer> std::fmt::Debug for World<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("World")
            .field("config", &self.config.file)
            .field("metrics", &self.metrics)
            .field("watchdog", &self.watchdog)
            .finish_non_exhaustive()
    }
}

/// What the loop reacts to.
#[derive(Debug)]
enum Event {
    /// The sync timer fired.
    SyncDue,
    /// Time to look at the removable-media directories.
    MediaScan,
    /// The copies a scan found, with their versions.
    Scanned(Vec<(PathBuf, [u8; 32])>),
    /// A sync or import finished (or its task died).
    Finished(Finished),
    WatchdogDue,
    /// Time to raise the clock floor to the clock.
    ClockDue,
    Shutdown,
}

/// What a job was for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Job {
    /// The configured mirrors, on the timer.
    Mirrors,
    /// A repository copy found on removable media.
    Import(PathBuf),
}

#[derive(Debug)]
struct Finished {
    job: Job,
    result: Result<SyncOutcome, String>,
    took: Duration,
}

struct Running {
    job: Job,
    task: JoinHandle<()>,
}

/// A media scan in flight: the copies it finds, or its timeout.
type Scan = Pin<Box<tokio::time::Timeout<JoinHandle<Vec<(PathBuf, [u8; 32])>>>>>;

/// How often the clock is written to the store as its floor (and at start and shutdown).
pub const CLOCK_PERIOD: Duration = Duration::from_secs(10 * 60);

/// The least time a media scan is given, however short the poll.
const MIN_SCAN: Duration = Duration::from_secs(5);

/// Runs until `shutdown` resolves. A sync in flight at shutdown is given `run.grace` to
/// finish; after that it is abandoned, which is atomic: the store changes in one SQLite
/// transaction, so it holds either the old publication or the new one.
pub async fn run<S: Syncer>(mut world: World<S>, shutdown: impl Future<Output = ()>) {
    let settings = world.config.run.clone();
    let metrics = Arc::new(Mutex::new(Metrics::default()));
    if let Some(listener) = world.metrics.take() {
        let (config, metrics) = (Arc::clone(&world.config), Arc::clone(&metrics));
        let clock = world.clock;
        tokio::spawn(metrics::serve(listener, move || {
            metrics::render(&config, &metrics, clock.now())
        }));
    }
    let (done_tx, mut done_rx) = mpsc::channel::<Finished>(4);
    let mut running: Option<Running> = None;
    let mut imports: VecDeque<PathBuf> = VecDeque::new();
    let mut seen = media::Seen::default();
    let mut scanning: Option<Scan> = None;
    let mut next_sync = Instant::now() + startup_delay(&settings);
    let mut media_timer = tokio::time::interval(settings.media_poll);
    media_timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let watchdog_period = world.watchdog.unwrap_or(Duration::from_secs(3600));
    let mut watchdog_timer = tokio::time::interval(watchdog_period);
    let mut clock_timer = tokio::time::interval(CLOCK_PERIOD);
    clock_timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(shutdown);

    world.notifier.ready();
    world.notifier.status("waiting for the first sync");
    tracing::info!(
        mirrors = world.config.mirrors.len(),
        interval_s = settings.interval.as_secs(),
        media = ?settings.media_dirs,
        "certd running"
    );
    loop {
        let event = tokio::select! {
            () = &mut shutdown => Event::Shutdown,
            Some(done) = done_rx.recv() => Event::Finished(done),
            () = tokio::time::sleep_until(next_sync), if running.is_none() => Event::SyncDue,
            _ = media_timer.tick(), if !settings.media_dirs.is_empty() => Event::MediaScan,
            scanned = async { scanning.as_mut().expect("guarded").await }, if scanning.is_some() => {
                match scanned {
                    Ok(Ok(copies)) => Event::Scanned(copies),
                    _ => {
                        tracing::warn!("a removable-media scan did not finish in time; skipped");
                        Event::Scanned(Vec::new())
                    }
                }
            }
            _ = watchdog_timer.tick(), if world.watchdog.is_some() => Event::WatchdogDue,
            _ = clock_timer.tick() => Event::ClockDue,
        };
        match event {
            Event::Shutdown => break,
            Event::WatchdogDue => world.notifier.watchdog(),
            Event::ClockDue => {
                // Off the loop: the store may be busy with a sync's transaction.
                let (config, now) = (Arc::clone(&world.config), world.clock.now());
                tokio::task::spawn_blocking(move || observe_clock(&config, now));
            }
            Event::SyncDue => {
                running = Some(start(&world, Job::Mirrors, &done_tx));
            }
            Event::MediaScan => {
                // The sticks are read in a blocking thread, one scan at a time, each within a
                // poll period: a stalled or huge stick costs a scan, never the loop.
                if scanning.is_none() {
                    let dirs = settings.media_dirs.clone();
                    let task = tokio::task::spawn_blocking(move || media::scan(&dirs));
                    scanning = Some(Box::pin(tokio::time::timeout(settings.media_poll.max(MIN_SCAN), task)));
                }
            }
            Event::Scanned(copies) => {
                scanning = None;
                for copy in seen.new_copies(copies, Instant::now()) {
                    tracing::info!(path = ?copy, "repository copy found on removable media");
                    imports.push_back(copy);
                }
                if running.is_none()
                    && let Some(path) = imports.pop_front()
                {
                    running = Some(start(&world, Job::Import(path), &done_tx));
                }
            }
            Event::Finished(done) => {
                running = None;
                let line = report(&done);
                world.notifier.status(&line);
                if let Ok(mut m) = metrics.lock() {
                    m.record(&done.job, done.result.is_ok(), done.took, world.clock.now());
                }
                match &done.job {
                    Job::Mirrors => next_sync = Instant::now() + next_interval(&settings, done.result.is_ok()),
                    Job::Import(path) => seen.finished(path, done.result.is_ok(), Instant::now()),
                }
                // A scheduled sync that fell due meanwhile goes first: however many copies a
                // stick offers, the mirrors are never starved.
                if Instant::now() < next_sync
                    && let Some(path) = imports.pop_front()
                {
                    running = Some(start(&world, Job::Import(path), &done_tx));
                }
            }
        }
    }

    world.notifier.stopping();
    if let Some(Running { job, task }) = running {
        tracing::info!(
            ?job,
            grace_s = settings.grace.as_secs(),
            "waiting for the job in flight"
        );
        match tokio::time::timeout(settings.grace, done_rx.recv()).await {
            Ok(Some(done)) => {
                report(&done);
            }
            _ => {
                task.abort();
                tracing::warn!(
                    ?job,
                    "job abandoned at shutdown; the store keeps its previous publication"
                );
            }
        }
    }
    let (config, now) = (Arc::clone(&world.config), world.clock.now());
    let _ = tokio::time::timeout(
        Duration::from_secs(2),
        tokio::task::spawn_blocking(move || observe_clock(&config, now)),
    )
    .await;
    tracing::info!("certd stopped");
}

/// Raises the store's clock floor to `now` (docs/design.md §4); a store not made yet has no
/// floor to raise, and a failure is logged, never fatal.
fn observe_clock(config: &Config, now: jiff::Timestamp) {
    let path = config.store_path();
    if !path.exists() {
        return;
    }
    let busy = Duration::from_secs(1);
    if let Err(e) = certkiosk_sync::writer::observe_clock(&path, now, config.policy.max_status_age, busy) {
        tracing::warn!("clock floor not raised: {}", escape::line(&e.to_string()));
    }
}

fn start<S: Syncer>(world: &World<S>, job: Job, done: &mpsc::Sender<Finished>) -> Running {
    let sources = match &job {
        Job::Mirrors => None,
        Job::Import(path) => Some(vec![Source::Dir(path.clone())]),
    };
    let future = world.syncer.sync(sources, world.clock);
    let (deadline, config, clock) = (world.config.run.job_deadline, Arc::clone(&world.config), world.clock);
    let done = done.clone();
    let for_task = job.clone();
    let task = tokio::spawn(async move {
        let started = Instant::now();
        let mut job = tokio::spawn(future);
        let result = match tokio::time::timeout(deadline, &mut job).await {
            Ok(Ok(result)) => result.map_err(|e| e.to_string()),
            Ok(Err(died)) => Err(format!("stopped unexpectedly: {died}")),
            // Past its deadline the job is dropped, so that nothing it waits on can hold up the
            // next one. A store write already under way in a blocking thread finishes or rolls
            // back as one transaction; the store's own lock keeps a second writer out meanwhile.
            Err(_) => {
                job.abort();
                let error = format!(
                    "did not finish within {} min (run.job_deadline_minutes); abandoned",
                    deadline.as_secs().div_ceil(60)
                );
                crate::sync::record_failure(&config, clock.now(), &error);
                Err(error)
            }
        };
        let _ = done
            .send(Finished {
                job: for_task,
                result,
                took: started.elapsed(),
            })
            .await;
    });
    Running { job, task }
}

/// Logs a finished job; returns the line for systemd's status. The line names a stick's path
/// and repeats what a server or a stick said: it is escaped to one line (`escape::line`), so
/// nothing in it can pose as another notification or log record.
fn report(done: &Finished) -> String {
    let what = match &done.job {
        Job::Mirrors => "sync".to_owned(),
        Job::Import(path) => format!("import from {}", path.display()),
    };
    let took_ms = done.took.as_millis() as u64;
    let said = match &done.result {
        Ok(outcome) => format!("{what}: {outcome}"),
        Err(e) => format!("{what} failed: {e}"),
    };
    let said = escape::line(&said).into_owned();
    if done.result.is_ok() {
        tracing::info!(took_ms, "{said}");
    } else {
        tracing::warn!(took_ms, "{said}");
    }
    said
}

/// The first sync comes soon after start, spread over up to a minute so that a fleet powered
/// on together does not hit the mirrors at once.
fn startup_delay(settings: &RunSettings) -> Duration {
    jittered(settings.first_sync, settings.jitter)
}

/// The pause before the next scheduled sync: the interval, or a quarter of it after a failure
/// (sync's own rounds and backoff have already been spent), with jitter either way.
fn next_interval(settings: &RunSettings, ok: bool) -> Duration {
    let base = if ok { settings.interval } else { settings.interval / 4 };
    jittered(base, settings.jitter)
}

/// `base` ± `fraction` × `base`, uniformly.
pub fn jittered(base: Duration, fraction: f64) -> Duration {
    let factor = 1.0 + fraction * (2.0 * rand::random::<f64>() - 1.0);
    base.mul_f64(factor.max(0.0))
}

/// Repository copies on removable media.
pub mod media {
    use super::*;
    use std::collections::{HashMap, HashSet};

    /// How deep below a media directory a copy is looked for (`/media/USER/LABEL/certkiosk`).
    const DEPTH: usize = 3;
    /// Largest `timestamp.json` read to tell versions apart.
    const MAX_TIMESTAMP_BYTES: u64 = 64 * 1024;
    /// The name of a copy on a stick as the README tells the authority to export it.
    const USUAL_NAME: &str = "certkiosk";
    /// Directory entries looked at per scan, all media directories together.
    const MAX_ENTRIES: usize = 20_000;
    /// Versions remembered (a kiosk meets few sticks).
    const REMEMBERED: usize = 256;
    /// Copies taken from one scan (and so failed copies remembered, since an unplugged copy's
    /// failures are forgotten): a stick made to hold thousands cannot flood the queue.
    const MAX_COPIES: usize = 16;
    /// The first retry of a failed import, doubled after each failure up to [`RETRY_MAX`].
    const RETRY_FIRST: Duration = Duration::from_secs(30);
    const RETRY_MAX: Duration = Duration::from_secs(3600);

    /// Which copies to offer for import. A version (the digest of its `timestamp.json`) is
    /// imported once, however often a stick holding it is plugged in — but only a successful
    /// import marks it done: a copy whose import failed is offered again after a backoff that
    /// doubles with each failure, and at once when it is unplugged and another copy appears.
    #[derive(Debug, Default)]
    pub struct Seen {
        /// Versions imported.
        imported: HashSet<[u8; 32]>,
        /// Offered and not yet finished (queued or running), with their version.
        offered: HashMap<PathBuf, [u8; 32]>,
        /// Copies whose import of a version failed: how often, and when to try again.
        failed: HashMap<(PathBuf, [u8; 32]), (u32, Instant)>,
    }

    impl Seen {
        /// Of the copies a [`scan`] found, those to import now.
        pub fn new_copies(&mut self, found: Vec<(PathBuf, [u8; 32])>, now: Instant) -> Vec<PathBuf> {
            // An unplugged copy's failures are forgotten: what is plugged in next is new.
            self.failed.retain(|(path, _), _| found.iter().any(|(p, _)| p == path));
            let mut out = Vec::new();
            for (copy, version) in found {
                let waiting = self
                    .failed
                    .get(&(copy.clone(), version))
                    .is_some_and(|(_, at)| now < *at);
                if self.imported.contains(&version) || self.offered.contains_key(&copy) || waiting {
                    continue;
                }
                self.offered.insert(copy.clone(), version);
                out.push(copy);
            }
            out
        }

        /// The import of `copy` (offered by [`Seen::new_copies`]) ended.
        pub fn finished(&mut self, copy: &Path, ok: bool, now: Instant) {
            let Some(version) = self.offered.remove(copy) else {
                return;
            };
            if ok {
                if self.imported.len() >= REMEMBERED {
                    self.imported.clear();
                }
                self.imported.insert(version);
                self.failed.retain(|(_, v), _| *v != version);
                return;
            }
            let (failures, at) = self.failed.entry((copy.to_owned(), version)).or_insert((0, now));
            *failures += 1;
            *at = now + retry_after(*failures);
        }
    }

    /// The repository copies under `dirs`, at most [`MAX_COPIES`], each with its version
    /// (blocking: it reads the sticks, at most [`MAX_ENTRIES`] directory entries in all).
    pub fn scan(dirs: &[PathBuf]) -> Vec<(PathBuf, [u8; 32])> {
        let mut budget = MAX_ENTRIES;
        let mut copies = Vec::new();
        for dir in dirs {
            copies_under(dir, DEPTH, &mut budget, &mut copies);
        }
        copies
            .into_iter()
            .filter_map(|copy| fingerprint(&copy).map(|version| (copy, version)))
            .take(MAX_COPIES)
            .collect()
    }

    /// The pause after the `failures`-th failed import of a copy.
    pub fn retry_after(failures: u32) -> Duration {
        RETRY_FIRST
            .saturating_mul(1 << failures.saturating_sub(1).min(16))
            .min(RETRY_MAX)
    }

    /// Adds to `out` the directories under `dir`, `depth` levels down, that hold a repository
    /// copy (`metadata/timestamp.json` and `targets/`), reading at most `budget` entries: a
    /// stick made (or grown) to hold hundreds of thousands costs a bounded read per poll.
    pub fn copies_under(dir: &Path, depth: usize, budget: &mut usize, out: &mut Vec<PathBuf>) {
        let is_copy = |d: &Path| d.join("metadata/timestamp.json").is_file() && d.join("targets").is_dir();
        if is_copy(dir) {
            out.push(dir.to_owned());
            return;
        }
        if depth == 0 {
            return;
        }
        // Where `certsync export` puts it, found however full the stick is.
        let usual = dir.join(USUAL_NAME);
        if is_copy(&usual) {
            out.push(usual);
            return;
        }
        if *budget == 0 {
            return;
        }
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut subdirs = Vec::new();
        for entry in entries {
            if *budget == 0 {
                break;
            }
            *budget -= 1;
            if let Ok(e) = entry
                && e.file_type().is_ok_and(|t| t.is_dir())
            {
                subdirs.push(e.path());
            }
        }
        subdirs.sort();
        for d in subdirs {
            copies_under(&d, depth - 1, budget, out);
        }
    }

    /// The digest of a copy's `timestamp.json`; `None` if it is not a regular file within
    /// the size a timestamp has (opened without blocking, beneath the copy).
    fn fingerprint(copy: &Path) -> Option<[u8; 32]> {
        use sha2::Digest;
        let file = certkiosk_open::open_beneath(copy, Path::new("metadata/timestamp.json"), MAX_TIMESTAMP_BYTES);
        let bytes = file.and_then(certkiosk_open::Opened::read_capped).ok()?;
        Some(sha2::Sha256::digest(&bytes).into())
    }
}

#[cfg(test)]
mod tests;
