//! Sync from HTTP mirrors on loopback — a real nginx, and servers that fail on purpose — and
//! from a repository copy on "removable media" (`certsync export`, `certd import`).

use certkiosk_tests::servers::{Fault, Faulty, Nginx};
use certkiosk_tests::tamper::RepoFile;
use certkiosk_tests::{now, ok, publish_dataset, run, runtime, status_json, stderr, stdout};
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};

/// A demo world in `dir/w`, and a certd config syncing from `mirrors` with quick retries.
fn world(dir: &Path, mirrors: &[String], extra: &str) -> String {
    std::fs::create_dir_all(dir).expect("dir");
    ok(run("certsync", &["demo", "w"], dir));
    let list = mirrors.iter().map(|m| format!("{m:?}")).collect::<Vec<_>>().join(", ");
    let config = dir.join("w/certd-http.toml");
    std::fs::write(
        &config,
        format!(
            "trusted_root = \"root.json\"\nstate_dir = \"state\"\n[sync]\nmirrors = [{list}]\n\
             rounds = 3\nretry_initial_ms = 20\nretry_max_secs = 1\n{extra}"
        ),
    )
    .expect("config");
    config.to_str().expect("utf-8").to_owned()
}

#[test]
fn syncs_from_nginx_and_tries_mirrors_in_order() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    // The world is made first so nginx can serve its repository.
    let config = world(d, &[], "");
    let nginx = Nginx::serve(&d.join("w/repo"));
    let (down, good) = (nginx.url("down"), nginx.url("repo"));
    let text = std::fs::read_to_string(&config)
        .expect("config")
        .replace("mirrors = []", &format!("mirrors = [{down:?}, {good:?}]"));
    std::fs::write(&config, text).expect("config");

    let out = stdout(&ok(run("certd", &["--config", &config, "sync", "--once"], d)));
    assert!(out.contains("applied publication 1") && out.contains(&good), "{out}");
    let s = status_json(&config, d);
    assert_eq!(s["publication"]["version"], 1);
    assert_eq!(s["sync"]["last_source"], good.as_str());
    assert!(s["sync"]["last_error"].is_null());

    let v: Value = serde_json::from_str(&stdout(&ok(run(
        "certd",
        &[
            "--config",
            &config,
            "verify",
            "--json",
            "w/samples/revoked-reissued.txt",
        ],
        d,
    ))))
    .expect("json");
    assert_eq!(v["verdict"], "revoked");
}

#[test]
fn when_every_mirror_fails_the_last_error_names_the_url_and_the_store_is_unchanged() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    let config = world(d, &[], "");
    let nginx = Nginx::serve(&d.join("w/repo"));
    // First a good sync, so there is a store to keep.
    ok(run(
        "certd",
        &["--config", &config, "sync", "--once", "--from", &nginx.url("repo")],
        d,
    ));
    let before = status_json(&config, d)["content_digest"].clone();
    ok(run("certsync", &["publish", "--dir", "w"], d));

    let down = nginx.url("down");
    let out = run("certd", &["--config", &config, "sync", "--once", "--from", &down], d);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(&down) && err.contains("503") && err.trim().lines().count() == 1,
        "{err}"
    );
    let s = status_json(&config, d);
    assert_eq!(s["content_digest"], before, "store unchanged");
    let last = s["sync"]["last_error"].as_str().expect("last error");
    assert!(
        last.contains(&down) && last.contains("503") && !last.contains('\n'),
        "{last}"
    );
    assert_eq!(s["sync"]["consecutive_failures"], 1);
    let text = stdout(&ok(run("certd", &["--config", &config, "status"], d)));
    assert!(text.contains("last error") && text.contains("503"), "{text}");
}

#[test]
fn a_server_that_drips_bytes_is_cut_off_by_the_file_timeout() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    let config = world(d, &[], "file_timeout_secs = 2\nconnect_timeout_secs = 1\n");
    let nginx = Nginx::serve(&d.join("w/repo"));
    let slow = nginx.url("slow");
    let started = Instant::now();
    let out = run("certd", &["--config", &config, "sync", "--once", "--from", &slow], d);
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("timed out"), "{}", stderr(&out));
    // Three rounds of one 2 s timeout each, plus short pauses: never the hours a drip would take.
    assert!(took < Duration::from_secs(30), "{took:?}");
    let s = status_json(&config, d);
    assert!(s["publication"].is_null(), "nothing applied");
}

#[test]
fn a_large_file_over_a_slow_but_steady_link_outlasts_the_file_timeout() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    let config = world(d, &[], "file_timeout_secs = 1\nconnect_timeout_secs = 1\n");
    // Publication 2 carries a lookup index of about 1 MB: four seconds at 256 KB/s.
    let (auth, repo_dir) = (d.join("w"), d.join("w/repo"));
    let now = now();
    certkiosk_tests::write_lookup(&repo_dir, 2, 60_000, now);
    let dataset = certsync::authority::Authority::open(&auth)
        .expect("authority")
        .dataset(2, now)
        .expect("dataset");
    publish_dataset(&runtime(), &auth, &dataset, now);
    let size = std::fs::metadata(repo_dir.join("targets/lookup.v2.jsonl.gz"))
        .expect("file")
        .len();
    assert!(
        size > 600_000,
        "{size} bytes is too little to outlast a second at 256 KB/s"
    );

    let nginx = Nginx::serve(&repo_dir);
    let started = Instant::now();
    let out = ok(run(
        "certd",
        &["--config", &config, "sync", "--once", "--from", &nginx.url("steady")],
        d,
    ));
    let took = started.elapsed();
    assert!(stdout(&out).contains("applied publication 2"), "{}", stdout(&out));
    assert!(
        took > Duration::from_secs(2),
        "the transfer outlasted file_timeout_secs = 1: {took:?}"
    );
    assert_eq!(status_json(&config, d)["publication"]["version"], 2);
}

#[test]
fn server_errors_and_truncated_bodies_are_retried_with_backoff() {
    for (fault, failures, cause) in [(Fault::Unavailable, 2, "503"), (Fault::Truncate, 1, "truncated")] {
        let tmp = tempfile::tempdir().expect("tempdir");
        let d = tmp.path();
        let config = world(d, &[], "");
        let server = Faulty::serve(&d.join("w/repo"), fault, failures);
        let out = run(
            "certd",
            &["--config", &config, "sync", "--once", "--from", &server.url()],
            d,
        );
        assert!(out.status.success(), "{fault:?}: {}", stderr(&out));
        assert!(stdout(&out).contains("applied publication 1"));
        assert!(server.requests.load(std::sync::atomic::Ordering::SeqCst) > failures);

        // With a single round, the same fault is the final answer, named in the status.
        let config1 = world(&d.join("again"), &[], "");
        let text = std::fs::read_to_string(&config1)
            .expect("config")
            .replace("rounds = 3", "rounds = 1");
        std::fs::write(&config1, text).expect("config");
        let server = Faulty::serve(&d.join("again/w/repo"), fault, failures);
        let out = run(
            "certd",
            &["--config", &config1, "sync", "--once", "--from", &server.url()],
            &d.join("again"),
        );
        assert_eq!(out.status.code(), Some(1), "{fault:?}");
        assert!(stderr(&out).contains(cause), "{fault:?}: {}", stderr(&out));
    }
}

#[test]
fn a_repository_copy_on_removable_media_is_imported_with_the_same_checks() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    let config = world(d, &[], "");
    let stick = d.join("media/usb0/certkiosk");
    ok(run(
        "certsync",
        &["export", "--dir", "w", "--to", stick.to_str().expect("utf-8")],
        d,
    ));
    let out = stdout(&ok(run(
        "certd",
        &["--config", &config, "import", stick.to_str().expect("utf-8")],
        d,
    )));
    assert!(out.contains("applied publication 1"), "{out}");
    assert_eq!(
        status_json(&config, d)["sync"]["last_source"],
        stick.to_str().expect("utf-8")
    );

    // A tampered copy is refused exactly as a tampered mirror is.
    ok(run("certsync", &["publish", "--dir", "w"], d));
    ok(run(
        "certsync",
        &["export", "--dir", "w", "--to", stick.to_str().expect("utf-8")],
        d,
    ));
    RepoFile::read(stick.join("targets/seals.v2.jsonl.gz")).tamper(|bytes| bytes.push(0));
    let before = status_json(&config, d)["content_digest"].clone();
    let out = run(
        "certd",
        &["--config", &config, "import", stick.to_str().expect("utf-8")],
        d,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("seals.v2.jsonl.gz"), "{}", stderr(&out));
    assert_eq!(status_json(&config, d)["content_digest"], before);
    let out = run("certd", &["--config", &config, "import", "nowhere"], d);
    assert_eq!(out.status.code(), Some(1));
}

/// A mirror reached only through an HTTP proxy: `mirror.certkiosk.test` resolves nowhere
/// (`.test` is reserved), so the sync succeeds only if every request goes through the proxy —
/// here nginx, which answers a proxy's absolute-URI requests from the repository. A proxy that
/// refuses connections fails the sync with one line naming it (without its password), and the
/// store is kept.
#[test]
fn mirrors_are_reached_through_the_configured_proxy() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    let mirror = "http://mirror.certkiosk.test/repo/";
    let config = world(d, &[mirror.to_owned()], "");
    let nginx = Nginx::serve(&d.join("w/repo"));
    let port = nginx
        .url("repo")
        .split(':')
        .nth(2)
        .and_then(|p| p.split('/').next())
        .expect("port")
        .to_owned();
    let with_proxy = |proxy: &str| {
        let text = std::fs::read_to_string(&config).expect("config");
        let text = match text.find("proxy = ") {
            Some(at) => format!("{}proxy = {proxy:?}\n", &text[..at]),
            None => format!("{text}proxy = {proxy:?}\n"),
        };
        std::fs::write(&config, text).expect("config");
    };

    // Without a proxy the name does not resolve.
    let out = run("certd", &["--config", &config, "sync", "--once"], d);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));

    with_proxy(&format!("http://kiosk:s3cret@127.0.0.1:{port}"));
    let out = stdout(&ok(run("certd", &["--config", &config, "sync", "--once"], d)));
    assert!(out.contains("applied publication 1"), "{out}");
    let before = status_json(&config, d)["content_digest"].clone();

    // A proxy that refuses: one line, naming it, never its password; nothing lost.
    ok(run("certsync", &["publish", "--dir", "w"], d));
    let closed = certkiosk_tests::servers::free_port();
    with_proxy(&format!("http://kiosk:s3cret@127.0.0.1:{closed}"));
    let out = run("certd", &["--config", &config, "sync", "--once"], d);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("through proxy 127.0.0.1:{closed}")) && err.trim().lines().count() == 1,
        "{err}"
    );
    assert!(
        !err.contains("s3cret") && !stdout(&out).contains("s3cret"),
        "the password shown: {err}"
    );
    let s = status_json(&config, d);
    assert_eq!(s["content_digest"], before, "store unchanged");
    assert!(!s.to_string().contains("s3cret"), "the password recorded");
}
