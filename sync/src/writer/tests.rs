use super::*;
use certkiosk_formats::status::{Body, Cancellation, Catalogue, Dataset, Qualification, Revocation, ScopeEntry};
use certkiosk_formats::trust::{KeyId, SealKey, SealKind, SealScope};
use certkiosk_store::Scope;
use ed25519_dalek::SigningKey;
use jiff::civil::date;

/// One qualification of the ministry's (covered 2017–2099) and one association with no
/// qualification of its own: what the tests below read back.
fn catalogue() -> Catalogue {
    Catalogue {
        qualifications: vec![Qualification {
            code: "0301".into(),
            name_zh: "经济专业技术资格".into(),
            name_en: "Economics".into(),
            seal_kind: SealKind::Ministry,
            body: "MOHRSS".into(),
        }],
        bodies: vec![Body {
            code: "CIREA".into(),
            name_zh: "中国房地产估价师与房地产经纪人学会".into(),
            name_en: "China Institute of Real Estate Appraisers and Agents".into(),
        }],
        scope: vec![ScopeEntry {
            qualification: "0301".into(),
            first_year: 2017,
            last_year: 2099,
        }],
    }
}

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
            scope: vec![SealScope {
                qualification: "0301".into(),
                from: date(2021, 12, 17),
                until: date(2031, 12, 16),
            }],
            compromised_from: Some("2029-06-01T00:00:00Z".parse().expect("ts")),
        }],
        catalogue: catalogue(),
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
    let err = Store::open(&path).expect_err("missing");
    assert!(matches!(err, StoreError::Missing { .. }));
    assert!(err.to_string().contains("none.sqlite"));
    assert!(!path.exists(), "a read-only open never creates the file");
}

#[test]
fn an_applied_publication_reads_back_exactly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.sqlite");
    let mut store = Writer::open(&path).expect("open");
    let d = dataset(3, &["A1", "A2"]);
    store.apply(&d, versions(3), now()).expect("apply");
    let ro = Store::open(&path).expect("read-only");
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
    let mut store = Writer::open(&dir.path().join("s.sqlite")).expect("open");
    store.apply(&dataset(5, &["A1"]), versions(5), now()).expect("apply");
    let before = store.reader().expect("r").content_digest().expect("digest");
    for v in [5, 4] {
        let err = store
            .apply(&dataset(v, &["B1"]), versions(v), now())
            .expect_err("not newer");
        assert!(matches!(err, WriteError::NotNewer { .. }), "{err}");
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
    let mut writer = Writer::open(&path).expect("open");
    writer.apply(&dataset(1, &["OLD"]), versions(1), now()).expect("apply");
    let kiosk = Store::open(&path).expect("ro");
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
    drop(Writer::open(&path).expect("open"));
    let c = Connection::open(&path).expect("raw");
    c.pragma_update(None, "user_version", 99).expect("bump");
    drop(c);
    let err = Writer::open(&path).expect_err("newer");
    assert!(
        matches!(err, WriteError::Store(StoreError::NewerSchema { found: 99, .. })),
        "{err}"
    );
    let err = Store::open(&path).expect_err("newer");
    assert!(matches!(err, StoreError::NewerSchema { found: 99, .. }), "{err}");
}

#[test]
fn a_corrupt_store_is_deleted_and_started_empty_by_the_writer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.sqlite");
    std::fs::write(&path, vec![0x5a; 8192]).expect("garbage");
    assert!(Store::open(&path).is_err(), "readers never repair");
    let mut store = Writer::open(&path).expect("writer recreates");
    assert_eq!(store.reader().expect("r").publication().expect("p"), None);
    store.apply(&dataset(1, &[]), versions(1), now()).expect("apply");
}

mod lookup_files {
    use super::*;
    use certkiosk_formats::lookup::{
        Kdf, LookupEntry, LookupFile, LookupParams, LookupStatus, LookupUpdate, Salt, holder_digest,
    };
    use certkiosk_formats::status::{RecordHeader, RecordWriter, TargetKind};

    const SALT: Salt = Salt([3; 16]);
    /// Cheap, for tests: the cost is the header's to say.
    const CHEAP: Kdf = Kdf {
        memory_kib: 64,
        passes: 1,
    };

    fn row(number: &str, salt_version: u64) -> LookupEntry {
        LookupEntry {
            management_number: number.into(),
            qualification: "0301".into(),
            level: 3,
            status: LookupStatus::Issued,
            approved_on: date(2023, 5, 20),
            ecert_issued_on: date(2023, 6, 10),
            salt_version,
            digest: holder_digest(CHEAP, &SALT, number, "王䶮", "110***********123X"),
        }
    }

    /// A full lookup file of `rows` for publication `version`, its header declaring `count`.
    fn file(dir: &Path, version: u64, rows: &[LookupEntry], count: u64, params: LookupParams) -> LookupFile {
        let path = dir.join(format!("lookup-{version}-{}.gz", rand::random::<u32>()));
        let header = RecordHeader {
            lookup: Some(params),
            ..RecordHeader::full(TargetKind::Lookup, version, dataset(version, &[]).as_of, count)
        };
        let out = std::fs::File::create(&path).expect("create");
        let mut w = RecordWriter::new(out, &header).expect("header");
        for r in rows {
            w.write(r).expect("row");
        }
        // A lying count is written past the writer's own check.
        let _ = w.finish();
        LookupFile::open(&path).expect("open")
    }

    fn params() -> LookupParams {
        LookupParams::with_salts(CHEAP, &[(1, SALT)], vec!["0301".into()])
    }

    fn update(version: u64, lookup: LookupFile) -> Update {
        Update {
            lookup: Some(LookupUpdate::Full(lookup)),
            ..Update::from(dataset(version, &[]))
        }
    }

    /// A delta from publication 1 to 2 upserting `rows`, with the cost `kdf` in its header.
    fn delta(dir: &Path, rows: &[LookupEntry], total: u64, kdf: Kdf) -> LookupFile {
        let path = dir.join(format!("delta-{}.gz", rand::random::<u32>()));
        let header = RecordHeader {
            from_version: Some(1),
            total: Some(total),
            lookup: Some(LookupParams::with_salts(kdf, &[(1, SALT)], vec!["0301".into()])),
            ..RecordHeader::full(TargetKind::Lookup, 2, dataset(2, &[]).as_of, rows.len() as u64)
        };
        let mut w = RecordWriter::new(std::fs::File::create(&path).expect("create"), &header).expect("header");
        for row in rows {
            w.write(&certkiosk_formats::lookup::LookupOp::Upsert { row: row.clone() })
                .expect("op");
        }
        w.finish().expect("finish");
        LookupFile::open(&path).expect("open")
    }

    #[test]
    fn a_delta_with_another_digest_cost_is_refused_for_the_full_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Writer::open(&dir.path().join("s.sqlite")).expect("open");
        store
            .apply_update(
                &update(1, file(dir.path(), 1, &[row("1", 1)], 1, params())),
                versions(1),
                now(),
            )
            .expect("full file");
        let before = store.reader().expect("r").content_digest().expect("digest");
        let with = |kdf| Update {
            lookup: Some(LookupUpdate::Deltas(vec![delta(dir.path(), &[row("2", 1)], 2, kdf)])),
            ..Update::from(dataset(2, &[]))
        };
        let err = store
            .apply_update(&with(Kdf { passes: 3, ..CHEAP }), versions(2), now())
            .expect_err("another cost");
        assert!(matches!(err, WriteError::DeltaMismatch { .. }), "{err}");
        assert!(err.to_string().contains("digest cost"), "{err}");
        assert_eq!(store.reader().expect("r").content_digest().expect("digest"), before);
        store
            .apply_update(&with(CHEAP), versions(2), now())
            .expect("the same cost");
        assert_eq!(
            store.reader().expect("r").lookup_meta().expect("meta").map(|m| m.rows),
            Some(2)
        );
    }

    #[test]
    fn a_good_file_is_applied_and_every_hostile_one_is_refused_with_the_store_unchanged() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Writer::open(&dir.path().join("s.sqlite")).expect("open");
        let good = [row("1", 1), row("2", 1), row("3", 1)];
        store
            .apply_update(&update(1, file(dir.path(), 1, &good, 3, params())), versions(1), now())
            .expect("good file");
        let meta = store.reader().expect("r").lookup_meta().expect("meta").expect("index");
        assert_eq!((meta.rows, meta.kdf), (3, CHEAP));
        let before = store.reader().expect("r").content_digest().expect("digest");

        let unsorted = [row("2", 1), row("1", 1)];
        let duplicate = [row("1", 1), row("1", 1)];
        let unknown_salt = [row("1", 9)];
        let mut md5 = params();
        md5.kdf = "md5".into();
        let mut slow = params();
        slow.memory_kib = u32::MAX;
        for (name, lookup, why) in [
            ("unsorted", file(dir.path(), 2, &unsorted, 2, params()), "increasing"),
            ("duplicate", file(dir.path(), 2, &duplicate, 2, params()), "increasing"),
            (
                "unknown salt",
                file(dir.path(), 2, &unknown_salt, 1, params()),
                "salt version 9",
            ),
            ("short count", file(dir.path(), 2, &good, 2, params()), "header says 2"),
            ("long count", file(dir.path(), 2, &good, 4, params()), "header says 4"),
            (
                "unknown digest",
                file(dir.path(), 2, &good, 3, md5),
                "unknown holder digest",
            ),
            ("endless memory", file(dir.path(), 2, &good, 3, slow), "KiB"),
        ] {
            let err = store
                .apply_update(&update(2, lookup), versions(2), now())
                .expect_err(name);
            assert!(matches!(err, WriteError::TargetFile { .. }), "{name}: {err}");
            assert!(err.to_string().contains(why), "{name}: {err}");
            assert_eq!(
                store.reader().expect("r").content_digest().expect("digest"),
                before,
                "{name}: the store is unchanged"
            );
        }
        // A publication without an index empties it.
        store
            .apply_update(&Update::from(dataset(3, &[])), versions(3), now())
            .expect("no index");
        assert_eq!(store.reader().expect("r").lookup_meta().expect("meta"), None);
        assert_eq!(store.reader().expect("r").lookup_row("1").expect("row"), None);
    }
}

#[test]
fn a_version_1_store_gains_the_lookup_index_and_keeps_its_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.sqlite");
    let mut store = Writer::open(&path).expect("open");
    store
        .apply(&dataset(1, &["2023030100000001"]), versions(1), now())
        .expect("apply");
    store
        .store
        .connection_mut()
        .execute_batch(
            "DROP TABLE lookup_index; DROP TABLE lookup_salts; DROP TABLE lookup_meta;
             ALTER TABLE seals DROP COLUMN scope; ALTER TABLE seals DROP COLUMN compromised_from;
             ALTER TABLE clock_floor DROP COLUMN observed_time; PRAGMA user_version = 1;",
        )
        .expect("make it version 1");
    drop(store);
    assert!(
        matches!(Store::open(&path), Err(StoreError::Missing { .. })),
        "readers wait for certd"
    );
    let mut store = Writer::open(&path).expect("migrate");
    let r = store.reader().expect("reader");
    assert_eq!(r.lookup_meta().expect("meta"), None);
    assert!(r.revocation("2023030100000001").expect("revocation").is_some());
    drop(r);
    let version: i64 = store
        .store
        .connection_mut()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("version");
    assert_eq!(version, SCHEMA_VERSION);
}

#[test]
fn a_version_2_store_forgets_its_publication_so_the_next_sync_brings_the_seal_scopes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.sqlite");
    let mut store = Writer::open(&path).expect("open");
    let d = dataset(1, &["2023030100000001"]);
    store.apply(&d, versions(1), now()).expect("apply");
    store
        .store
        .connection_mut()
        .execute_batch(
            "ALTER TABLE seals DROP COLUMN scope; ALTER TABLE seals DROP COLUMN compromised_from;
             ALTER TABLE clock_floor DROP COLUMN observed_time;
             ALTER TABLE lookup_meta DROP COLUMN memory_kib;
             ALTER TABLE lookup_meta RENAME COLUMN passes TO rounds; PRAGMA user_version = 2;",
        )
        .expect("make it version 2");
    drop(store);
    let mut store = Writer::open(&path).expect("migrate");
    let r = store.reader().expect("reader");
    assert_eq!(
        r.publication().expect("publication"),
        None,
        "nothing decided on old seals"
    );
    assert_eq!(r.clock_floor().expect("floor"), Some(d.as_of), "the floor is kept");
    drop(r);
    // The same publication applies again, whole, with its seals' scopes.
    store.apply(&d, versions(1), now()).expect("apply again");
    let r = store.reader().expect("reader");
    assert_eq!(r.seal(d.seals[0].key_id).expect("seal"), Some(d.seals[0].clone()));
}

proptest::proptest! {
    /// The clock floor never moves back, whatever certd observes and in whatever order, and
    /// never goes past the newest signed time by more than the bound.
    #[test]
    fn the_clock_floor_never_moves_back(observed in proptest::collection::vec(-40i64 * 86_400..40 * 86_400, 1..12)) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.sqlite");
        let mut store = Writer::open(&path).expect("open");
        let d = dataset(1, &[]);
        store.apply(&d, versions(1), now()).expect("apply");
        let bound = jiff::SignedDuration::from_hours(30 * 24);
        let busy = std::time::Duration::from_secs(1);
        let mut floor = d.as_of;
        for offset in observed {
            let at = d.as_of + jiff::SignedDuration::from_secs(offset);
            let moved = observe_clock(&path, at, bound, busy).expect("observe");
            let now_floor = store.reader().expect("reader").clock_floor().expect("floor").expect("some");
            proptest::prop_assert!(now_floor >= floor, "moved back: {floor} -> {now_floor}");
            proptest::prop_assert!(now_floor <= d.as_of + bound);
            let expected = if at > floor && at <= d.as_of + bound { at } else { floor };
            proptest::prop_assert_eq!(now_floor, expected);
            proptest::prop_assert_eq!(moved, expected != floor);
            floor = now_floor;
        }
        // A publication signed earlier than the floor leaves it where it is.
        let mut older = dataset(2, &[]);
        older.as_of = d.as_of;
        store.apply(&older, versions(2), now()).expect("apply");
        proptest::prop_assert_eq!(store.reader().expect("reader").clock_floor().expect("floor"), Some(floor));
    }
}

/// Overwrite the root page of `table` in the store's file with garbage (after the WAL is
/// checkpointed into it).
fn corrupt_root_page(path: &Path, table: &str) {
    let conn = Connection::open(path).expect("open");
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .expect("checkpoint");
    let (root, size): (i64, i64) = conn
        .query_row(
            "SELECT rootpage, (SELECT page_size FROM pragma_page_size) FROM sqlite_schema WHERE name = ?1",
            [table],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("root page");
    drop(conn);
    let mut bytes = std::fs::read(path).expect("read");
    let start = ((root - 1) * size) as usize;
    bytes[start..start + size as usize].fill(0xA5);
    std::fs::write(path, bytes).expect("write");
}

#[test]
fn every_table_but_the_lookup_index_is_checked_at_each_writer_open_and_the_whole_file_daily() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.sqlite");
    let open_and_fill = || {
        let _ = std::fs::remove_file(&path);
        let mut store = Writer::open(&path).expect("open");
        store
            .apply(&dataset(1, &["2023030100000001"]), versions(1), now())
            .expect("apply");
    };
    let applied = || {
        let store = Writer::open(&path).expect("writer opens");
        store.reader().expect("r").publication().expect("p").is_some()
    };

    // A damaged revocations table is found at once, though the whole file was checked just now.
    open_and_fill();
    corrupt_root_page(&path, "revocations");
    assert!(!applied(), "the corrupt store was deleted and started empty");

    // A damaged lookup index waits for the daily full check.
    open_and_fill();
    corrupt_root_page(&path, "lookup_index");
    assert!(
        applied(),
        "within a day of the last full check the lookup index is not read"
    );
    let conn = Connection::open(&path).expect("open");
    let two_days_ago = now().as_second().min(Timestamp::now().as_second()) - 2 * 86_400;
    conn.execute("UPDATE maintenance SET last_full_check = ?1", [two_days_ago])
        .expect("age the check");
    drop(conn);
    assert!(!applied(), "the full check found the damaged lookup index");
}
