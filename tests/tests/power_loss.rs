//! Power loss during a sync: `certd sync` is killed with SIGKILL at random instants while it
//! fetches and applies a large publication (revocations, and a lookup index streamed into the
//! same transaction). After every kill the store opens, passes
//! `PRAGMA integrity_check`, and holds exactly the old or the new publication — never a mix —
//! and the appliance still syncs afterwards. A reader (as the kiosk is) keeps answering
//! throughout a sync.

use certkiosk_formats::status::{Dataset, Revocation};
use certkiosk_store::Store;
use certkiosk_tests::world::World;
use certkiosk_tests::{bin, now, ok, publish_dataset, stdout, write_lookup};
use certsync::authority::{Authority, default_catalogue};
use jiff::Timestamp;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Kills per run (docs/design.md §7 asks for at least 200).
const KILLS: usize = 200;

fn revocations(n: usize, tag: &str) -> Vec<Revocation> {
    (0..n)
        .map(|i| Revocation {
            management_number: format!("2020030100{i:06}"),
            revoked_at: Timestamp::from_second(1_760_000_000 + i as i64).expect("ts"),
            reason_code: "other".into(),
            reason: format!("{tag} 第{i}号"),
            revoked_by: "MOHRSS".into(),
        })
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    let _ = std::fs::remove_dir_all(to);
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir").flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

/// The store's content digest and integrity, opened as the next certd start would see it.
fn inspect(state: &Path) -> (String, String) {
    let path = state.join("store.sqlite");
    let raw = rusqlite::Connection::open(&path).expect("open after kill");
    let integrity: String = raw
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check");
    drop(raw);
    let store = Store::open(&path).expect("store opens");
    let digest = store.reader().expect("reader").content_digest().expect("digest");
    (integrity, digest)
}

/// The shared world after publications 1 and 2, each with its lookup index.
struct Published {
    world: World,
    /// The appliance's state directory after publication 1 was applied.
    after_old: PathBuf,
    old_digest: String,
    new_digest: String,
}

impl Deref for Published {
    type Target = World;

    fn deref(&self) -> &World {
        &self.world
    }
}

fn world() -> Published {
    let now = now();
    let world = World::new(now);
    let (dir, auth) = (&world.dir, &world.auth);
    let seals = Authority::open(auth).expect("open").seals().expect("seals");
    let dataset = |version: u64, n: usize, tag: &str| Dataset {
        version,
        as_of: now,
        seals: seals.clone(),
        catalogue: default_catalogue(),
        revocations: revocations(n, tag),
        cancellations: Vec::new(),
    };
    let repo_dir = world.repo();
    let publish = |d: &Dataset| publish_dataset(&world.rt, auth, d, now);

    write_lookup(&repo_dir, 1, 20_000, now);
    publish(&dataset(1, 20_000, "旧"));
    ok(world.sync());
    let after_old = dir.join("after-old");
    copy_dir(&dir.join("state"), &after_old);
    let (_, old_digest) = inspect(&after_old);
    let held = |state: &Path| {
        let store = Store::open(&state.join("store.sqlite")).expect("store");
        store.reader().expect("r").lookup_meta().expect("meta").map(|m| m.rows)
    };
    assert_eq!(held(&after_old), Some(20_000), "publication 1 carries its lookup index");

    write_lookup(&repo_dir, 2, 60_000, now);
    publish(&dataset(2, 60_000, "新"));
    ok(world.sync());
    let (_, new_digest) = inspect(&dir.join("state"));
    assert_ne!(old_digest, new_digest);
    assert_eq!(held(&dir.join("state")), Some(60_000));
    Published {
        world,
        after_old,
        old_digest,
        new_digest,
    }
}

#[test]
fn a_sync_killed_at_any_instant_leaves_the_old_or_the_new_publication() {
    let w = world();
    let state = w.dir.join("state");
    // How long a whole sync of publication 2 takes from the old state.
    copy_dir(&w.after_old, &state);
    let t0 = Instant::now();
    ok(w.sync());
    let full = t0.elapsed();

    let (mut old, mut new) = (0, 0);
    for i in 0..KILLS {
        copy_dir(&w.after_old, &state);
        let mut child = Command::new(bin("certd"))
            .args(["--config", &w.config, "sync", "--once"])
            .current_dir(&w.dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        let delay = full.mul_f64(spread(i) * 1.1);
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let (integrity, digest) = inspect(&state);
        assert_eq!(integrity, "ok", "kill {i} after {delay:?}");
        if digest == w.old_digest {
            old += 1;
        } else {
            assert_eq!(digest, w.new_digest, "kill {i} after {delay:?}: neither old nor new");
            new += 1;
        }
        // The appliance recovers: the next sync reaches the new publication.
        if i % 20 == 0 {
            let out = ok(w.sync());
            assert!(stdout(&out).contains("publication 2"));
            assert_eq!(inspect(&state).1, w.new_digest);
        }
    }
    // Both outcomes must have happened, or the kills missed the interesting window.
    assert!(old > 0 && new > 0, "old {old}, new {new} (full sync {full:?})");
}

/// The `i`-th fraction of [0, 1) in the golden-ratio sequence: reproducible, and covering the
/// whole window evenly (a random draw leaves gaps).
fn spread(i: usize) -> f64 {
    (i as f64 * 0.618_033_988_749_895).fract()
}

#[test]
fn a_reader_keeps_answering_while_a_sync_applies() {
    let w = world();
    let state = w.dir.join("state");
    copy_dir(&w.after_old, &state);
    let path = state.join("store.sqlite");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let store = Store::open(&path).expect("kiosk store");
            let mut answers = 0u64;
            let mut slowest = Duration::ZERO;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let t = Instant::now();
                let r = store.reader().expect("reader");
                // Revoked in both publications; only the reason differs.
                let rev = r
                    .revocation("2020030100000007")
                    .expect("lookup")
                    .expect("revoked in both");
                assert!(rev.reason == "旧 第7号" || rev.reason == "新 第7号", "{}", rev.reason);
                let version = r.publication().expect("publication").expect("some").version;
                assert!(version == 1 || version == 2);
                drop(r);
                slowest = slowest.max(t.elapsed());
                answers += 1;
            }
            (answers, slowest)
        })
    };
    std::thread::sleep(Duration::from_millis(50));
    ok(w.sync());
    std::thread::sleep(Duration::from_millis(50));
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let (answers, slowest) = reader.join().expect("reader thread");
    assert!(answers > 100, "the reader answered {answers} times");
    assert!(slowest < Duration::from_secs(1), "a read waited {slowest:?}");
}
