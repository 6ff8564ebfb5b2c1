//! The service's loop on paused time: the schedule, media imports, the watchdog and shutdown.
//! The syncer here records what it is asked and takes as long as told; the real transport
//! (tough over nginx, a USB copy) is driven through `certd run` in `tests/tests/service.rs`.

use super::*;
use tokio::sync::oneshot;

/// What the syncer was asked (`None`: the mirrors), and when.
type Call = (Option<Vec<Source>>, Instant);

#[derive(Clone, Default)]
struct Calls(Arc<Mutex<Vec<Call>>>);

struct Recorder {
    calls: Calls,
    /// How long each sync takes.
    takes: Duration,
    /// Set when a sync ran to its end.
    completed: Arc<Mutex<u32>>,
    /// How many of the next syncs fail (at their end).
    failing: Arc<Mutex<u32>>,
}

impl Syncer for Recorder {
    fn sync(&self, sources: Option<Vec<Source>>, _clock: Clock) -> SyncFuture {
        if let Ok(mut c) = self.calls.0.lock() {
            c.push((sources.clone(), Instant::now()));
        }
        let (takes, completed, failing) = (self.takes, Arc::clone(&self.completed), Arc::clone(&self.failing));
        Box::pin(async move {
            tokio::time::sleep(takes).await;
            if let Ok(mut n) = completed.lock() {
                *n += 1;
            }
            if let Ok(mut n) = failing.lock()
                && *n > 0
            {
                *n -= 1;
                return Err(SyncError::NoSource);
            }
            Ok(SyncOutcome::UpToDate {
                source: sources.map_or("mirrors".into(), |s| s[0].to_string()),
                version: 1,
            })
        })
    }
}

#[derive(Clone, Default)]
struct Said(Arc<Mutex<Vec<(String, Instant)>>>);

impl Said {
    fn say(&self, what: &str) {
        if let Ok(mut s) = self.0.lock() {
            s.push((what.to_owned(), Instant::now()));
        }
    }
    fn lines(&self) -> Vec<String> {
        self.0
            .lock()
            .map(|s| s.iter().map(|(l, _)| l.clone()).collect())
            .unwrap_or_default()
    }
}

impl Notifier for Said {
    fn ready(&mut self) {
        self.say("READY");
    }
    fn watchdog(&mut self) {
        self.say("WATCHDOG");
    }
    fn status(&mut self, line: &str) {
        self.say(&format!("STATUS {line}"));
    }
    fn stopping(&mut self) {
        self.say("STOPPING");
    }
}

fn config(dir: &Path, run: RunSettings) -> Arc<Config> {
    std::fs::write(dir.join("root.json"), r#"{"signed":{"_type":"root"},"signatures":[]}"#).expect("root");
    let mut c = Config::parse(
        &dir.join("certd.toml"),
        "trusted_root = \"root.json\"\nstate_dir = \"state\"\n",
    )
    .expect("config");
    c.run = run;
    Arc::new(c)
}

struct Harness {
    calls: Calls,
    completed: Arc<Mutex<u32>>,
    failing: Arc<Mutex<u32>>,
    said: Said,
    stop: oneshot::Sender<()>,
    service: JoinHandle<()>,
}

fn start_service(config: Arc<Config>, takes: Duration, watchdog: Option<Duration>) -> Harness {
    let calls = Calls::default();
    let completed = Arc::new(Mutex::new(0));
    let failing = Arc::new(Mutex::new(0));
    let said = Said::default();
    let world = World {
        config,
        syncer: Recorder {
            calls: calls.clone(),
            takes,
            completed: Arc::clone(&completed),
            failing: Arc::clone(&failing),
        },
        clock: Clock::System,
        notifier: Box::new(said.clone()),
        metrics: None,
        watchdog,
    };
    let (stop, stopped) = oneshot::channel::<()>();
    let service = tokio::spawn(run(world, async move {
        let _ = stopped.await;
    }));
    Harness {
        calls,
        completed,
        failing,
        said,
        stop,
        service,
    }
}

fn settings() -> RunSettings {
    RunSettings {
        interval: Duration::from_secs(3600),
        jitter: 0.2,
        first_sync: Duration::from_secs(30),
        media_dirs: Vec::new(),
        media_poll: Duration::from_secs(5),
        grace: Duration::from_secs(20),
        job_deadline: Duration::from_secs(30 * 60),
        metrics: None,
    }
}

#[tokio::test(start_paused = true)]
async fn syncs_come_on_a_jittered_schedule() {
    let dir = tempfile::tempdir().expect("tempdir");
    let started = Instant::now();
    let h = start_service(config(dir.path(), settings()), Duration::from_secs(2), None);
    tokio::time::sleep(Duration::from_secs(10 * 3600)).await;
    let times: Vec<Duration> = h
        .calls
        .0
        .lock()
        .expect("calls")
        .iter()
        .map(|(_, t)| *t - started)
        .collect();
    // First within 30 s ± 20 %, then every hour ± 20 % after the previous one finished.
    assert!(
        times[0] >= Duration::from_secs(24) && times[0] <= Duration::from_secs(36),
        "{times:?}"
    );
    for pair in times.windows(2) {
        let gap = pair[1] - pair[0] - Duration::from_secs(2);
        assert!(
            gap >= Duration::from_secs(2880) && gap <= Duration::from_secs(4320),
            "{times:?}"
        );
    }
    assert!((9..=13).contains(&times.len()), "{times:?}");
    // The gaps differ: a fleet spreads out.
    let gaps: std::collections::HashSet<u64> = times.windows(2).map(|p| (p[1] - p[0]).as_secs()).collect();
    assert!(gaps.len() > 3, "{times:?}");
    assert!(
        h.calls.0.lock().expect("calls").iter().all(|(s, _)| s.is_none()),
        "mirrors only"
    );
    let _ = h.stop.send(());
    h.service.await.expect("service ends");
}

#[tokio::test(start_paused = true)]
async fn shutdown_lets_a_sync_finish_within_the_grace_period() {
    let dir = tempfile::tempdir().expect("tempdir");
    let h = start_service(config(dir.path(), settings()), Duration::from_secs(10), None);
    tokio::time::sleep(Duration::from_secs(40)).await; // the first sync is under way
    assert_eq!(h.calls.0.lock().expect("calls").len(), 1);
    let asked = Instant::now();
    let _ = h.stop.send(());
    h.service.await.expect("service ends");
    assert_eq!(*h.completed.lock().expect("completed"), 1, "the sync finished");
    assert!(Instant::now() - asked < Duration::from_secs(20));
    let said = h.said.lines();
    assert_eq!(said.first().map(String::as_str), Some("READY"));
    assert!(said.iter().any(|l| l == "STOPPING"), "{said:?}");
}

#[tokio::test(start_paused = true)]
async fn shutdown_abandons_a_sync_that_outlasts_the_grace_period() {
    let dir = tempfile::tempdir().expect("tempdir");
    let h = start_service(config(dir.path(), settings()), Duration::from_secs(600), None);
    tokio::time::sleep(Duration::from_secs(40)).await;
    let asked = Instant::now();
    let _ = h.stop.send(());
    h.service.await.expect("service ends");
    let waited = Instant::now() - asked;
    assert!(
        waited >= Duration::from_secs(20) && waited < Duration::from_secs(21),
        "{waited:?}"
    );
    assert_eq!(*h.completed.lock().expect("completed"), 0, "abandoned, not finished");
}

#[tokio::test(start_paused = true)]
async fn the_watchdog_is_pinged_while_a_long_sync_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let h = start_service(
        config(dir.path(), settings()),
        Duration::from_secs(300),
        Some(Duration::from_secs(30)),
    );
    tokio::time::sleep(Duration::from_secs(330)).await;
    let pings = h
        .said
        .0
        .lock()
        .expect("said")
        .iter()
        .filter(|(l, _)| l == "WATCHDOG")
        .count();
    assert!((10..=12).contains(&pings), "{pings} pings in 330 s at 30 s");
    let _ = h.stop.send(());
    h.service.await.expect("service ends");
}

fn repository_copy(at: &Path, timestamp: &str) {
    std::fs::create_dir_all(at.join("metadata")).expect("metadata");
    std::fs::create_dir_all(at.join("targets")).expect("targets");
    std::fs::write(at.join("metadata/timestamp.json"), timestamp).expect("timestamp");
}

/// The copies the syncer was asked to import, in order.
fn imports(h: &Harness) -> Vec<PathBuf> {
    h.calls
        .0
        .lock()
        .expect("calls")
        .iter()
        .filter_map(|(s, _)| match s.as_deref() {
            Some([Source::Dir(p)]) => Some(p.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn each_version_on_removable_media_is_imported_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let media = dir.path().join("media");
    std::fs::create_dir_all(media.join("kiosk/EMPTY-STICK/photos")).expect("a stick without a copy");
    let mut run_settings = settings();
    run_settings.media_dirs = vec![media.clone()];
    run_settings.first_sync = Duration::from_secs(3000);
    let h = start_service(config(dir.path(), run_settings), Duration::from_secs(1), None);
    tokio::time::sleep(Duration::from_secs(20)).await;
    assert!(imports(&h).is_empty());

    let stick = media.join("kiosk/STICK/certkiosk");
    repository_copy(&stick, "{\"version\": 1}");
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert_eq!(
        imports(&h),
        std::slice::from_ref(&stick),
        "found within a poll, imported once"
    );

    // Unplugged and plugged in again with the same version: nothing to do.
    std::fs::remove_dir_all(media.join("kiosk/STICK")).expect("unplug");
    tokio::time::sleep(Duration::from_secs(20)).await;
    repository_copy(&stick, "{\"version\": 1}");
    tokio::time::sleep(Duration::from_secs(20)).await;
    assert_eq!(imports(&h).len(), 1);

    // A new version on the stick is imported.
    repository_copy(&stick, "{\"version\": 2}");
    tokio::time::sleep(Duration::from_secs(20)).await;
    assert_eq!(imports(&h), [stick.clone(), stick]);
    let said = h.said.lines();
    assert!(said.iter().any(|l| l.starts_with("STATUS import from")), "{said:?}");
    let _ = h.stop.send(());
    h.service.await.expect("service ends");
}

#[tokio::test(start_paused = true)]
async fn a_failed_import_is_retried_and_only_a_success_is_final() {
    let dir = tempfile::tempdir().expect("tempdir");
    let media = dir.path().join("media");
    let mut run_settings = settings();
    run_settings.media_dirs = vec![media.clone()];
    run_settings.first_sync = Duration::from_secs(30_000);
    let h = start_service(config(dir.path(), run_settings), Duration::from_secs(1), None);
    *h.failing.lock().expect("failing") = 2;

    // A copy that fails to import (say, only the public timestamp.json) is tried again after
    // 30 s, then 60 s, and not before.
    let stick = media.join("kiosk/STICK/certkiosk");
    repository_copy(&stick, "{\"version\": 7}");
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(imports(&h).len(), 1, "tried once");
    tokio::time::sleep(Duration::from_secs(15)).await;
    assert_eq!(imports(&h).len(), 1, "backing off");
    tokio::time::sleep(Duration::from_secs(15)).await;
    assert_eq!(imports(&h).len(), 2, "tried again after 30 s");
    tokio::time::sleep(Duration::from_secs(50)).await;
    assert_eq!(imports(&h).len(), 2, "backing off for 60 s now");
    tokio::time::sleep(Duration::from_secs(20)).await;
    assert_eq!(imports(&h).len(), 3, "tried a third time, and it worked");
    // Done: never again, however long it stays in or is plugged in again.
    tokio::time::sleep(Duration::from_secs(7200)).await;
    assert_eq!(imports(&h).len(), 3);

    // A failing copy unplugged and another plugged in at the same place is tried at once.
    *h.failing.lock().expect("failing") = 1;
    repository_copy(&stick, "{\"version\": 8}");
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(imports(&h).len(), 4, "version 8 tried, and failed");
    std::fs::remove_dir_all(media.join("kiosk/STICK")).expect("unplug");
    tokio::time::sleep(Duration::from_secs(6)).await;
    repository_copy(&stick, "{\"version\": 8}");
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(imports(&h).len(), 5, "the genuine stick, tried without waiting");
    let said = h.said.lines();
    assert!(
        said.iter()
            .any(|l| l.starts_with("STATUS import from") && l.contains("failed")),
        "{said:?}"
    );
    let _ = h.stop.send(());
    h.service.await.expect("service ends");
}

#[tokio::test(start_paused = true)]
async fn a_job_past_its_deadline_is_abandoned_and_the_next_sync_still_comes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut run_settings = settings();
    run_settings.job_deadline = Duration::from_secs(300);
    let config = config(dir.path(), run_settings);
    std::fs::create_dir_all(&config.state_dir).expect("state");
    // Every sync hangs (a stalled read that nothing else would end).
    let h = start_service(
        Arc::clone(&config),
        Duration::from_secs(100 * 3600),
        Some(Duration::from_secs(30)),
    );
    tokio::time::sleep(Duration::from_secs(3 * 3600)).await;
    let times: Vec<Instant> = h.calls.0.lock().expect("calls").iter().map(|(_, t)| *t).collect();
    // A failed sync is followed by the next after a quarter of the interval (± 20 %).
    assert!(times.len() >= 8, "{} syncs in 3 h", times.len());
    for pair in times.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            gap >= Duration::from_secs(300 + 720) && gap <= Duration::from_secs(300 + 1080),
            "{gap:?}"
        );
    }
    assert_eq!(*h.completed.lock().expect("completed"), 0);
    let said = h.said.lines();
    assert!(
        said.iter()
            .any(|l| l == "STATUS sync failed: did not finish within 5 min (run.job_deadline_minutes); abandoned"),
        "{said:?}"
    );
    let _ = h.stop.send(());
    h.service.await.expect("service ends");
}

#[tokio::test(start_paused = true)]
async fn a_stick_of_stalling_copies_never_starves_the_mirrors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let media = dir.path().join("media");
    for i in 0..40 {
        repository_copy(
            &media.join(format!("STICK/copy{i:02}")),
            &format!("{{\"version\": {i}}}"),
        );
    }
    let mut run_settings = settings();
    run_settings.media_dirs = vec![media.clone()];
    run_settings.job_deadline = Duration::from_secs(300);
    // Every job stalls until its deadline and fails.
    let h = start_service(config(dir.path(), run_settings), Duration::from_secs(100 * 3600), None);
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(6 * 3600)).await;
    let calls = h.calls.0.lock().expect("calls").clone();
    let mirrors: Vec<Duration> = calls
        .iter()
        .filter(|(s, _)| s.is_none())
        .map(|(_, t)| *t - started)
        .collect();
    // A failed sync comes back after a quarter of the interval (± 20 %); an import in flight
    // may delay it by one deadline, no more.
    assert!(mirrors.len() >= 10, "{mirrors:?}");
    for pair in mirrors.windows(2) {
        assert!(
            pair[1] - pair[0] <= Duration::from_secs(300 + 1080 + 300),
            "{mirrors:?}"
        );
    }
    let copies: std::collections::HashSet<PathBuf> = imports(&h).into_iter().collect();
    assert!(
        !copies.is_empty() && copies.len() <= 16,
        "{} copies taken",
        copies.len()
    );
    let _ = h.stop.send(());
    h.service.await.expect("service ends");
}

#[tokio::test(start_paused = true)]
async fn a_stick_named_to_forge_notifications_stays_on_one_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let media = dir.path().join("media");
    let label = "x\nWATCHDOG=trigger\nSTATUS=sync: applied publication 99";
    repository_copy(&media.join(label).join("certkiosk"), "{\"version\": 1}");
    let mut run_settings = settings();
    run_settings.media_dirs = vec![media];
    run_settings.first_sync = Duration::from_secs(3000);
    let h = start_service(config(dir.path(), run_settings), Duration::from_secs(1), None);
    tokio::time::sleep(Duration::from_secs(20)).await;
    let said = h.said.lines();
    let import = said
        .iter()
        .find(|l| l.starts_with("STATUS import from"))
        .expect("the import reported");
    assert!(!import.contains('\n'), "{import}");
    assert!(
        import.contains("x\\u{000a}WATCHDOG=trigger\\u{000a}STATUS=sync"),
        "{import}"
    );
    let _ = h.stop.send(());
    h.service.await.expect("service ends");
}

#[test]
fn a_stick_of_many_entries_is_read_within_a_budget_and_its_copy_still_found() {
    let dir = tempfile::tempdir().expect("tempdir");
    let stick = dir.path().join("user/BIG");
    for i in 0..3000 {
        std::fs::create_dir_all(stick.join(format!("d{i:04}"))).expect("dir");
    }
    let mut budget = 1000;
    let mut found = Vec::new();
    media::copies_under(dir.path(), 3, &mut budget, &mut found);
    assert_eq!((budget, found.len()), (0, 0), "stopped at the budget");

    repository_copy(&stick.join("certkiosk"), "{\"version\": 1}");
    let (mut budget, mut found) = (1000, Vec::new());
    media::copies_under(dir.path(), 3, &mut budget, &mut found);
    assert_eq!(found, [stick.join("certkiosk")], "the usual name is looked for first");
    assert_eq!(media::scan(&[dir.path().to_owned()]).len(), 1);
}

#[test]
fn retries_back_off_to_an_hour() {
    let after: Vec<u64> = (1..=9).map(|n| media::retry_after(n).as_secs()).collect();
    assert_eq!(after, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
    assert_eq!(media::retry_after(u32::MAX).as_secs(), 3600);
}

#[test]
fn jitter_stays_within_its_fraction() {
    let base = Duration::from_secs(1000);
    for _ in 0..1000 {
        let j = jittered(base, 0.2);
        assert!(j >= Duration::from_secs(800) && j <= Duration::from_secs(1200), "{j:?}");
    }
    assert_eq!(jittered(base, 0.0), base);
}
