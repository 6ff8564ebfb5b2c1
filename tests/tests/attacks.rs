//! Every TUF attack class (the specification's list) against a real `certd sync`: each is
//! crafted on a real repository published by the authority library, and each must be rejected
//! with a clear one-line status while the store stays exactly as it was.

use certkiosk_tests::tamper::revocations_v2;
use certkiosk_tests::world::World;
use certkiosk_tests::{now, ok, role_key, run, stderr, stdout};
use certsync::authority::Authority;
use certsync::keys::{self, TufSigner};
use certsync::publish::{self, Lifetimes};
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use std::collections::HashMap;
use std::num::NonZeroU64;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use tough::key_source::KeySource;
use tough::schema::{Hashes, KeyHolder, Metafile, Root, Signed, Snapshot, Timestamp as TufTimestamp};

/// The shared world with the attacker's tools.
struct Lab(World);

impl Deref for Lab {
    type Target = World;

    fn deref(&self) -> &World {
        &self.0
    }
}

impl Lab {
    /// An authority with one certificate, publication 1 synced into the appliance.
    fn new() -> Lab {
        let lab = Lab(World::new(now()));
        lab.publish(now(), Lifetimes::default());
        ok(lab.sync());
        lab
    }

    fn authority(&self) -> Authority {
        Authority::open(&self.auth).expect("authority")
    }

    fn publish(&self, at: Timestamp, lifetimes: Lifetimes) {
        let mut a = self.authority();
        self.rt
            .block_on(a.publish(&self.repo(), at, &lifetimes))
            .expect("publish");
    }

    /// Sign `dataset` with the authority's own keys, sealed with `fleet`, as if the authority
    /// had published it (the attacker holds its tools, or the authority made a mistake).
    fn publish_signed(&self, dataset: &certkiosk_formats::status::Dataset, fleet: &publish::Fleet) {
        self.rt
            .block_on(publish::publish(
                &self.repo(),
                &self.auth.join("root.json"),
                &certkiosk_tests::role_keys(&self.auth),
                dataset,
                Some(fleet),
                now(),
                &Lifetimes::default(),
            ))
            .expect("publish");
    }

    fn metadata(&self, name: &str) -> PathBuf {
        self.repo().join("metadata").join(name)
    }

    fn save(&self) -> HashMap<String, Vec<u8>> {
        ["timestamp.json", "snapshot.json", "targets.json"]
            .iter()
            .map(|n| (n.to_string(), std::fs::read(self.metadata(n)).expect("metadata")))
            .collect()
    }

    fn key(&self, role: &str) -> TufSigner {
        TufSigner(role_key(&self.auth, role))
    }

    fn root(&self) -> Root {
        let bytes = std::fs::read(self.auth.join("root.json")).expect("root");
        serde_json::from_slice::<Signed<Root>>(&bytes)
            .expect("root json")
            .signed
    }

    /// Sign `role` with the key of `key_role`, as the authority's own tooling would.
    fn sign<T: tough::schema::Role + serde::Serialize>(&self, role: T, key_role: &str) -> Vec<u8> {
        let keys: Vec<Box<dyn KeySource>> = vec![Box::new(self.key(key_role))];
        let signed = self
            .rt
            .block_on(tough::editor::signed::SignedRole::new(
                role,
                &KeyHolder::Root(self.root()),
                &keys,
                &aws_lc_rs::rand::SystemRandom::new(),
            ))
            .expect("sign");
        signed.buffer().clone()
    }

    /// A signed timestamp (version `version`) pointing at the snapshot.json bytes given.
    fn timestamp_for(&self, version: u64, snapshot: &[u8], snapshot_version: u64) -> Vec<u8> {
        let mut ts = TufTimestamp::new("1.0.0".into(), nz(version), now() + SignedDuration::from_hours(48));
        ts.meta.insert(
            "snapshot.json".into(),
            Metafile {
                length: Some(snapshot.len() as u64),
                hashes: Some(Hashes {
                    sha256: sha256(snapshot).into(),
                    _extra: HashMap::new(),
                }),
                version: nz(snapshot_version),
                _extra: HashMap::new(),
            },
        );
        self.sign(ts, "timestamp")
    }

    /// Run the attack: the sync must fail with one line containing `expect`, the store unchanged.
    fn assert_rejected(&self, what: &str, expect: &[&str]) {
        let before = self.status()["content_digest"].clone();
        let out = self.sync();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{what}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{what}: one line: {err}");
        assert!(
            expect.iter().any(|e| err.contains(e)),
            "{what}: expected one of {expect:?} in {err}"
        );
        let after = self.status();
        assert_eq!(after["content_digest"], before, "{what}: store unchanged");
        let last = after["sync"]["last_error"].as_str().unwrap_or_default();
        assert!(
            !last.is_empty() && !last.contains('\n'),
            "{what}: status shows the error: {last:?}"
        );
    }
}

fn nz(n: u64) -> NonZeroU64 {
    NonZeroU64::new(n).expect("non-zero")
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes)
        .as_ref()
        .to_vec()
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).expect("write");
}

#[test]
fn rollback_of_timestamp_snapshot_or_targets_is_rejected() {
    let lab = Lab::new();
    let v1 = lab.save();
    lab.publish(now(), Lifetimes::default());
    ok(lab.sync());
    let v2 = lab.save();

    // The whole repository rolled back to publication 1.
    for (name, bytes) in &v1 {
        write(&lab.metadata(name), bytes);
    }
    lab.assert_rejected("timestamp rollback", &["older", "version"]);

    // A fresh timestamp (v3) pointing at the old snapshot (v1).
    write(&lab.metadata("snapshot.json"), &v1["snapshot.json"]);
    write(&lab.metadata("targets.json"), &v1["targets.json"]);
    write(
        &lab.metadata("timestamp.json"),
        &lab.timestamp_for(3, &v1["snapshot.json"], 1),
    );
    lab.assert_rejected("snapshot rollback", &["older", "version"]);

    // A fresh snapshot (v3) listing the old targets (v1), under a fresh timestamp.
    let mut snapshot = Snapshot::new("1.0.0".into(), nz(3), now() + SignedDuration::from_hours(48));
    snapshot.meta.insert(
        "targets.json".into(),
        Metafile {
            length: None,
            hashes: None,
            version: nz(1),
            _extra: HashMap::new(),
        },
    );
    let snapshot = lab.sign(snapshot, "snapshot");
    write(&lab.metadata("snapshot.json"), &snapshot);
    write(&lab.metadata("timestamp.json"), &lab.timestamp_for(3, &snapshot, 3));
    lab.assert_rejected("targets rollback", &["older", "version"]);

    // tough keeps the attacker's timestamp version 3 as seen (it was validly signed), so the
    // genuine publication 2 now reads as a rollback too; the authority recovers by publishing
    // past the attacker's versions.
    for (name, bytes) in &v2 {
        write(&lab.metadata(name), bytes);
    }
    lab.assert_rejected("publication 2 after the attacker's version 3", &["older", "version"]);
    lab.publish(now(), Lifetimes::default());
    lab.publish(now(), Lifetimes::default());
    assert!(stdout(&ok(lab.sync())).contains("applied publication 4"));
}

#[test]
fn frozen_metadata_is_rejected() {
    let lab = Lab::new();
    // Published 8 days ago with a 7-day timestamp: what a freeze attack replays.
    lab.publish(now() - SignedDuration::from_hours(24 * 8), Lifetimes::default());
    lab.assert_rejected("expired timestamp", &["expired"]);
}

#[test]
fn mixed_metadata_of_two_publications_is_rejected() {
    let lab = Lab::new();
    let v1 = lab.save();
    lab.publish(now(), Lifetimes::default());
    write(&lab.metadata("targets.json"), &v1["targets.json"]);
    lab.assert_rejected("mix and match", &["version", "hash", "length", "match"]);
}

#[test]
fn wrong_missing_or_misplaced_signatures_are_rejected() {
    let lab = Lab::new();
    lab.publish(now(), Lifetimes::default());
    let good = lab.save();
    let timestamp: Value = serde_json::from_slice(&good["timestamp.json"]).expect("json");

    let mut flipped = timestamp.clone();
    let sig = flipped["signatures"][0]["sig"].as_str().expect("sig").to_owned();
    let first = if sig.starts_with('0') { "1" } else { "0" };
    flipped["signatures"][0]["sig"] = Value::String(format!("{first}{}", &sig[1..]));
    write(
        &lab.metadata("timestamp.json"),
        &serde_json::to_vec(&flipped).expect("json"),
    );
    lab.assert_rejected("bad signature", &["ignature", "threshold"]);

    let mut none = timestamp.clone();
    none["signatures"] = Value::Array(Vec::new());
    write(
        &lab.metadata("timestamp.json"),
        &serde_json::to_vec(&none).expect("json"),
    );
    lab.assert_rejected("too few signatures", &["ignature", "threshold"]);

    let mut other_bytes = timestamp.clone();
    other_bytes["signed"]["version"] = Value::from(99);
    write(
        &lab.metadata("timestamp.json"),
        &serde_json::to_vec(&other_bytes).expect("json"),
    );
    lab.assert_rejected("signature over other bytes", &["ignature", "threshold"]);

    // Signed by the wrong role's key (the snapshot key signs a timestamp).
    let mut ts = TufTimestamp::new("1.0.0".into(), nz(9), now() + SignedDuration::from_hours(48));
    ts.meta.insert(
        "snapshot.json".into(),
        Metafile {
            length: Some(good["snapshot.json"].len() as u64),
            hashes: Some(Hashes {
                sha256: sha256(&good["snapshot.json"]).into(),
                _extra: HashMap::new(),
            }),
            version: nz(2),
            _extra: HashMap::new(),
        },
    );
    let keys: Vec<Box<dyn KeySource>> = vec![Box::new(lab.key("snapshot"))];
    let mut root = lab.root();
    // A holder that names the snapshot key for the timestamp role, so tough's editor signs.
    let snapshot_ids = root.roles[&tough::schema::RoleType::Snapshot].clone();
    root.roles.insert(tough::schema::RoleType::Timestamp, snapshot_ids);
    let wrong = lab
        .rt
        .block_on(tough::editor::signed::SignedRole::new(
            ts,
            &KeyHolder::Root(root),
            &keys,
            &aws_lc_rs::rand::SystemRandom::new(),
        ))
        .expect("sign");
    write(&lab.metadata("timestamp.json"), wrong.buffer());
    lab.assert_rejected("wrong key", &["ignature", "threshold"]);

    write(&lab.metadata("timestamp.json"), &good["timestamp.json"]);
    assert!(stdout(&ok(lab.sync())).contains("applied publication 2"));
}

#[test]
fn a_cross_signed_root_rotation_is_followed_and_an_unsigned_one_refused() {
    let lab = Lab::new();
    // Refused: version 2 of root signed by a new key only.
    let keys = publish::RoleKeySet {
        root: keys::generate(),
        targets: lab.key("targets").0,
        snapshot: lab.key("snapshot").0,
        timestamp: lab.key("timestamp").0,
    };
    let rogue = lab
        .rt
        .block_on(publish::sign_root(
            &keys,
            2,
            now() + SignedDuration::from_hours(24 * 30),
            None,
        ))
        .expect("root");
    write(&lab.metadata("2.root.json"), &rogue);
    lab.publish(now(), Lifetimes::default());
    lab.assert_rejected(
        "root not signed by the old root key",
        &["root", "ignature", "threshold"],
    );
    let trusted: Value =
        serde_json::from_slice(&std::fs::read(lab.dir.join("state/tuf/root.json")).expect("trusted root"))
            .expect("json");
    assert_eq!(trusted["signed"]["version"], 1);
    std::fs::remove_file(lab.metadata("2.root.json")).expect("rm");

    // Accepted: the authority's rotation, cross-signed by old and new root keys.
    let mut a = lab.authority();
    let v = lab
        .rt
        .block_on(a.rotate_root(&lab.repo(), now(), &Lifetimes::default()))
        .expect("rotate");
    assert_eq!(v, 2);
    lab.publish(now(), Lifetimes::default());
    let out = stdout(&ok(lab.sync()));
    assert!(out.contains("applied publication 3"), "{out}");
    let trusted: Value =
        serde_json::from_slice(&std::fs::read(lab.dir.join("state/tuf/root.json")).expect("trusted root"))
            .expect("json");
    assert_eq!(trusted["signed"]["version"], 2, "the rotation sticks across restarts");
    lab.publish(now(), Lifetimes::default());
    assert!(stdout(&ok(lab.sync())).contains("applied publication 4"));
}

#[test]
fn endless_data_and_broken_repository_files_are_refused() {
    let lab = Lab::new();
    lab.publish(now(), Lifetimes::default());
    let good = lab.save();

    // Targets longer than their signed length: the delta the appliance (one version behind)
    // reads first, and the full file it falls back to.
    let files = revocations_v2(&lab.repo());
    for file in &files {
        file.tamper(|bytes| bytes.extend(std::iter::repeat_n(0u8, 4 << 20)));
    }
    lab.assert_rejected("endless target", &["revocations.v2.jsonl.gz"]);
    for file in &files {
        file.restore();
    }

    // Metadata far beyond any honest size.
    let mut huge = good["timestamp.json"].clone();
    huge.extend(std::iter::repeat_n(b' ', 2 << 20));
    write(&lab.metadata("timestamp.json"), &huge);
    lab.assert_rejected("endless timestamp", &["timestamp", "size", "exceed"]);

    let broken: [(&str, &[u8]); 3] = [
        (
            "truncated JSON",
            &good["timestamp.json"][..good["timestamp.json"].len() / 2],
        ),
        ("wrong types", br#"{"signed": 5, "signatures": "none"}"#),
        ("empty file", b""),
    ];
    for (what, bytes) in broken {
        write(&lab.metadata("timestamp.json"), bytes);
        lab.assert_rejected(what, &["timestamp"]);
    }
    write(&lab.metadata("timestamp.json"), &good["timestamp.json"]);
    assert!(stdout(&ok(lab.sync())).contains("applied publication 2"));
}

#[test]
fn a_clock_stepped_back_below_the_last_sync_is_a_clear_status_not_a_bypass() {
    let lab = Lab::new();
    lab.publish(now(), Lifetimes::default());
    // What a Pi without RTC looks like after a power cut: tough saw a later time at the last
    // sync than the system clock now says (here: the record is moved 10 days ahead).
    let record = lab.dir.join("state/tuf/datastore/latest_known_time.json");
    let ahead = now() + SignedDuration::from_hours(240);
    write(&record, format!("\"{ahead}\"").as_bytes());
    lab.assert_rejected("system clock behind", &["system clock"]);
    let last = lab.status()["sync"]["last_error"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(last.contains("timedatectl"), "the status says how to recover: {last}");
    // Verification meanwhile goes on, with the data held.
    let out = run("certd", &["--config", &lab.config, "status"], &lab.dir);
    assert!(out.status.success());
    // Once the clock is right again (here: the record back at a true time), syncs resume.
    write(
        &record,
        format!("\"{}\"", now() - SignedDuration::from_hours(1)).as_bytes(),
    );
    assert!(stdout(&ok(lab.sync())).contains("applied publication 2"));
}

#[test]
fn a_signed_target_name_that_climbs_out_of_the_repository_is_refused() {
    use ed25519_dalek::Signer;
    use serde::Serialize;
    let lab = Lab::new();
    // The targets role itself (say, a stolen key) lists a path-traversing name.
    let current: Value =
        serde_json::from_slice(&std::fs::read(lab.metadata("targets.json")).expect("targets")).expect("json");
    let mut signed = current["signed"].clone();
    let any = signed["targets"]
        .as_object()
        .expect("targets")
        .values()
        .next()
        .expect("a target")
        .clone();
    signed["targets"]["../../etc/cron.d/evil"] = any;
    signed["version"] = Value::from(2);
    let mut canonical = Vec::new();
    signed
        .serialize(&mut serde_json::Serializer::with_formatter(
            &mut canonical,
            olpc_cjson::CanonicalFormatter::new(),
        ))
        .expect("canonical");
    let key = lab.key("targets").0;
    let keyid = keys::tuf_key(&key).key_id().expect("key id");
    let sig: String = key
        .sign(&canonical)
        .to_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let targets = serde_json::to_vec(&serde_json::json!({
        "signed": signed,
        "signatures": [{ "keyid": keyid, "sig": sig }],
    }))
    .expect("json");
    write(&lab.metadata("targets.json"), &targets);
    let mut snapshot = Snapshot::new("1.0.0".into(), nz(2), now() + SignedDuration::from_hours(48));
    snapshot.meta.insert(
        "targets.json".into(),
        Metafile {
            length: Some(targets.len() as u64),
            hashes: Some(Hashes {
                sha256: sha256(&targets).into(),
                _extra: HashMap::new(),
            }),
            version: nz(2),
            _extra: HashMap::new(),
        },
    );
    let snapshot = lab.sign(snapshot, "snapshot");
    write(&lab.metadata("snapshot.json"), &snapshot);
    write(&lab.metadata("timestamp.json"), &lab.timestamp_for(2, &snapshot, 2));
    lab.assert_rejected("path-traversing target name", &["evil", "not a flat", "path"]);
    assert!(!lab.dir.join("etc").exists() && !Path::new("/etc/cron.d/evil").exists());
}

#[test]
fn a_seal_list_granting_a_seal_more_than_it_may_seal_is_refused() {
    use certsync::trust::SealScope;
    let lab = Lab::new();
    let a = lab.authority();
    let day = |y, m, d| jiff::civil::date(y, m, d);
    // Signed with the repository's own keys: an association's seal given a ministry
    // qualification, a qualification the catalogue does not know, a period ending before it
    // starts.
    let grants = [
        ("CIREA", "0301", day(2024, 1, 1), day(2030, 1, 1)),
        ("MOHRSS", "9999", day(2024, 1, 1), day(2030, 1, 1)),
        ("MOHRSS", "0301", day(2030, 1, 1), day(2024, 1, 1)),
    ];
    for (version, (owner, qualification, from, until)) in (2..).zip(grants) {
        let mut d = a.dataset(version, now()).expect("dataset");
        let seal = d.seals.iter_mut().find(|s| s.owner == owner).expect("seal");
        seal.scope.push(SealScope {
            qualification: qualification.into(),
            from,
            until,
        });
        lab.publish_signed(&d, &a.publication_fleet(now()).expect("fleet"));
        lab.assert_rejected(&format!("{owner} scoped for {qualification}"), &["seal scope"]);
    }
}

/// Sealed files the authority's own keys signed, but that do not open (issue 17): a flipped
/// byte, a file cut after a whole chunk, a file sealed to a key the appliance was not granted,
/// a grant that does not open. Each is refused like any bad target; then a sound publication
/// applies.
#[test]
fn a_damaged_envelope_or_grant_signed_by_the_authority_is_refused() {
    use certkiosk_formats::fleet::{self, ContentKey};
    use certkiosk_formats::status::TargetKind;
    let lab = Lab::new();
    let a = lab.authority();
    let fleet = a.publication_fleet(now()).expect("fleet");
    let sealed = |key: &ContentKey| {
        let plain: Vec<u8> = (0..3 * fleet::CHUNK as u32).map(|i| (i % 251) as u8).collect();
        let mut out = Vec::new();
        fleet::seal(key, plain.as_slice(), &mut out).expect("seal");
        out
    };
    let publish = |version: u64, lookup: Option<Vec<u8>>, fleet: &publish::Fleet| {
        let targets = lab.repo().join("targets");
        if let Some(bytes) = lookup {
            write(&targets.join(TargetKind::Lookup.file_name(version)), &bytes);
        }
        lab.publish_signed(&a.dataset(version, now()).expect("dataset"), fleet);
    };

    let mut flipped = sealed(&fleet.key);
    let middle = flipped.len() / 2;
    flipped[middle] ^= 1;
    publish(2, Some(flipped), &fleet);
    lab.assert_rejected(
        "a flipped byte",
        &["lookup.v2.jsonl.gz rejected: sealed to the fleet and not opened: the envelope is damaged"],
    );

    let whole = sealed(&fleet.key);
    // Magic, key id and nonce prefix (35 bytes), then one whole chunk and its tag.
    let cut = whole[..35 + fleet::CHUNK + 16].to_vec();
    publish(3, Some(cut), &fleet);
    lab.assert_rejected("cut after a chunk", &["ends without its last chunk"]);

    let stranger = ContentKey::generate();
    publish(4, Some(sealed(&stranger)), &fleet);
    lab.assert_rejected(
        "sealed to another key",
        &[&format!("sealed to fleet key {}", stranger.id())],
    );

    let mut bad_grant = fleet.clone();
    for g in &mut bad_grant.grants {
        g.sealed = "00".repeat(48);
    }
    publish(5, None, &bad_grant);
    lab.assert_rejected("a grant that does not open", &["grant does not open"]);

    publish(6, None, &fleet);
    assert!(stdout(&ok(lab.sync())).contains("applied publication 6"));
}
