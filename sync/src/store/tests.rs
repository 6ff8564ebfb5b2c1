use super::*;
use crate::authority::default_catalogue;
use crate::status::{Cancellation, Dataset, Revocation};
use crate::trust::{KeyId, SealKey, SealKind};
use ed25519_dalek::SigningKey;
use jiff::civil::date;

fn dataset(version: u64, revoked: &[&str]) -> Dataset {
    let vk = SigningKey::from_bytes(&[5; 32]).verifying_key();
    Dataset {
        version,
        as_of: Timestamp::from_second(1_770_000_000 + version as i64 * 3600).expect("ts"),
        seals: vec![SealKey {
            key_id: KeyId::of(&vk),
            public_key: vk,
            owner: "MOHRSS".into(),
            kind: SealKind::Ministry,
            valid_from: date(2021, 12, 17),
            valid_until: date(2031, 12, 16),
            retired_at: Some("2030-01-01T00:00:00Z".parse().expect("ts")),
        }],
        catalogue: default_catalogue(),
        revocations: revoked
            .iter()
            .map(|n| Revocation {
                management_number: (*n).into(),
                revoked_at: "2026-01-01T00:00:00Z".parse().expect("ts"),
                reason_code: "other".into(),
                reason: "测试".into(),
                revoked_by: "MOHRSS".into(),
            })
            .collect(),
        cancellations: vec![Cancellation {
            annotation_id: 9,
            cancelled_at: "2026-01-02T00:00:00Z".parse().expect("ts"),
            reason: "撤回".into(),
        }],
    }
}

fn versions(v: u64) -> MetadataVersions {
    MetadataVersions {
        root: 1,
        targets: v,
        snapshot: v,
    }
}

fn now() -> Timestamp {
    "2026-03-01T00:00:00Z".parse().expect("ts")
}

#[test]
fn a_read_only_open_of_a_missing_store_names_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("none.sqlite");
    let err = Store::open(&path, Mode::ReadOnly).expect_err("missing");
    assert!(matches!(err, StoreError::Missing { .. }));
    assert!(err.to_string().contains("none.sqlite"));
    assert!(!path.exists(), "a read-only open never creates the file");
}

#[test]
fn an_applied_publication_reads_back_exactly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.sqlite");
    let mut store = Store::open(&path, Mode::ReadWrite).expect("open");
    let d = dataset(3, &["A1", "A2"]);
    store.apply(&d, versions(3), now()).expect("apply");
    let ro = Store::open(&path, Mode::ReadOnly).expect("read-only");
    let r = ro.reader().expect("reader");
    let p = r.publication().expect("publication").expect("some");
    assert_eq!(
        (p.version, p.as_of, p.targets_version, p.applied_at),
        (3, d.as_of, 3, now())
    );
    assert_eq!(r.seal(d.seals[0].key_id).expect("seal"), Some(d.seals[0].clone()));
    assert_eq!(r.revocation("A2").expect("rev"), Some(d.revocations[1].clone()));
    assert_eq!(r.revocation("A3").expect("rev"), None);
    assert_eq!(r.cancellation(9).expect("c"), Some(d.cancellations[0].clone()));
    assert_eq!(
        r.qualification("0301").expect("q").map(|q| q.name_zh),
        Some("经济专业技术资格".into())
    );
    assert_eq!(r.body("CIREA").expect("b").map(|b| b.code), Some("CIREA".into()));
    assert_eq!(r.scope("0301", 2020).expect("scope"), Scope::Covered);
    assert_eq!(
        r.scope("0301", 2016).expect("scope"),
        Scope::OtherYears {
            first_year: 2017,
            last_year: 2099
        }
    );
    assert_eq!(r.scope("0901", 2020).expect("scope"), Scope::NotCovered);
    assert_eq!(r.clock_floor().expect("floor"), Some(d.as_of));
}

#[test]
fn a_publication_that_is_not_newer_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(&dir.path().join("s.sqlite"), Mode::ReadWrite).expect("open");
    store.apply(&dataset(5, &["A1"]), versions(5), now()).expect("apply");
    let before = store.reader().expect("r").content_digest().expect("digest");
    for v in [5, 4] {
        let err = store
            .apply(&dataset(v, &["B1"]), versions(v), now())
            .expect_err("not newer");
        assert!(matches!(err, StoreError::NotNewer { .. }), "{err}");
    }
    assert_eq!(store.reader().expect("r").content_digest().expect("digest"), before);
    store
        .apply(&dataset(6, &["B1"]), versions(6), now())
        .expect("newer applies");
    let r = store.reader().expect("r");
    assert_ne!(r.content_digest().expect("digest"), before);
    assert!(
        r.revocation("A1").expect("q").is_none(),
        "a full publication replaces the old one"
    );
    // The clock floor never moves backwards.
    assert_eq!(r.clock_floor().expect("floor"), Some(dataset(6, &[]).as_of));
}

#[test]
fn a_reader_keeps_its_snapshot_while_a_publication_is_applied() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.sqlite");
    let mut writer = Store::open(&path, Mode::ReadWrite).expect("open");
    writer.apply(&dataset(1, &["OLD"]), versions(1), now()).expect("apply");
    let kiosk = Store::open(&path, Mode::ReadOnly).expect("ro");
    let snapshot = kiosk.reader().expect("reader");
    assert!(snapshot.revocation("OLD").expect("q").is_some());
    writer
        .apply(&dataset(2, &["NEW"]), versions(2), now())
        .expect("apply while read");
    assert!(
        snapshot.revocation("OLD").expect("q").is_some(),
        "old snapshot stays whole"
    );
    assert!(snapshot.revocation("NEW").expect("q").is_none());
    drop(snapshot);
    assert!(kiosk.reader().expect("r").revocation("NEW").expect("q").is_some());
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.sqlite");
    drop(Store::open(&path, Mode::ReadWrite).expect("open"));
    let c = Connection::open(&path).expect("raw");
    c.pragma_update(None, "user_version", 99).expect("bump");
    drop(c);
    for mode in [Mode::ReadWrite, Mode::ReadOnly] {
        let err = Store::open(&path, mode).expect_err("newer");
        assert!(matches!(err, StoreError::NewerSchema { found: 99, .. }), "{err}");
    }
}

#[test]
fn a_corrupt_store_is_deleted_and_started_empty_by_the_writer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.sqlite");
    std::fs::write(&path, vec![0x5a; 8192]).expect("garbage");
    assert!(Store::open(&path, Mode::ReadOnly).is_err(), "readers never repair");
    let mut store = Store::open(&path, Mode::ReadWrite).expect("writer recreates");
    assert_eq!(store.reader().expect("r").publication().expect("p"), None);
    store.apply(&dataset(1, &[]), versions(1), now()).expect("apply");
}
