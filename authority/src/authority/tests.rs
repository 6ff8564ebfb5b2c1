use super::*;
use crate::calendar::ANNOTATION_ERA_START;
use crate::credential::Envelope;
use crate::status::{DeltaOp, Records, Update};
use certkiosk_sync::clock::Clock;
use certkiosk_sync::repo::{self, Fetched, Held, TrustState};
use certkiosk_sync::writer::{MetadataVersions, Writer};
use jiff::civil::date;
use std::path::Path;

fn ts(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

/// 2026-03-10 10:00 in Shanghai.
const NOW: &str = "2026-03-10T02:00:00Z";

async fn authority() -> (tempfile::TempDir, Authority) {
    authority_at(ts(NOW)).await
}

async fn authority_at(now: Timestamp) -> (tempfile::TempDir, Authority) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut a = Authority::init(dir.path(), now, &Lifetimes::default())
        .await
        .expect("init");
    // An appliance enrolled in the fleet, its key beside the pinned root ([`fleet_key`]).
    let key = certkiosk_formats::fleet::ApplianceKey::generate();
    std::fs::write(fleet_key(&a.root_json()), key.to_file_text()).expect("fleet key");
    a.enroll("test kiosk", &key.public_hex(), now).expect("enroll");
    (dir, a)
}

/// The enrolled appliance's fleet key, beside the authority's `root.json`.
fn fleet_key(root_json: &Path) -> PathBuf {
    root_json.with_file_name("fleet.key")
}

fn request(qualification: &str, ecert: Date) -> IssueRequest {
    IssueRequest {
        qualification: qualification.into(),
        holder_name: "王䶮".into(),
        masked_id: "110***********123X".into(),
        level: Level::Intermediate,
        specialty: None,
        certificate_number: None,
        approved_on: ecert.checked_sub(jiff::Span::new().days(60)).expect("date"),
        ecert_issued_on: ecert,
    }
}

fn issue(a: &mut Authority) -> String {
    a.issue(&request("0301", date(2023, 6, 10)), ts(NOW))
        .expect("issue")
        .claims
        .management_number
}

#[tokio::test]
async fn an_authority_is_initialised_once() {
    let (dir, _a) = authority().await;
    let err = Authority::init(dir.path(), ts(NOW), &Lifetimes::default())
        .await
        .expect_err("second init");
    assert!(matches!(err, AuthorityError::AlreadyInitialised { .. }));
    assert!(matches!(
        Authority::open(&dir.path().join("nope")),
        Err(AuthorityError::NotInitialised { .. })
    ));
}

#[tokio::test]
async fn issued_credentials_carry_the_claims_under_the_right_seal() {
    let (_dir, mut a) = authority().await;
    let sealed = a.issue(&request("1101", date(2019, 5, 20)), ts(NOW)).expect("issue");
    let seal = a
        .seals()
        .expect("seals")
        .into_iter()
        .find(|s| s.owner == "CIREA")
        .expect("CIREA seal");
    let env = Envelope::parse(&sealed.credential).expect("parse");
    env.verify(&seal.public_key).expect("sealed by the association");
    assert_eq!(env.claims().expect("claims"), sealed.claims);
    assert!(sealed.claims.management_number.starts_with("20191101"));
}

#[tokio::test]
async fn issuing_refuses_bad_requests() {
    let (_dir, mut a) = authority().await;
    let mut long = request("0301", date(2023, 6, 10));
    long.holder_name = "名".repeat(51);
    let mut backwards = request("0301", date(2021, 1, 1));
    backwards.approved_on = date(2022, 1, 1);
    let cases = [
        (long, "holder name"),
        (request("9999", date(2023, 6, 10)), "unknown qualification"),
        (backwards, "before the approval date"),
        (request("0301", date(2027, 1, 1)), "in the future"),
        // The ministry's seal dates from 2021-12-17.
        (request("0301", date(2021, 12, 16)), "no seal of MOHRSS"),
    ];
    for (req, needle) in cases {
        let err = a.issue(&req, ts(NOW)).expect_err(needle).to_string();
        assert!(err.contains(needle), "{err}");
    }
}

#[tokio::test]
async fn annotations_last_at_most_90_days_and_never_start_in_the_past() {
    let (_dir, mut a) = authority().await;
    let n = issue(&mut a);
    let today = date(2026, 3, 10);
    let s = Scenario::SELF_USE;
    assert!(matches!(
        a.annotate(&n, s, today, date(2026, 6, 8), ts(NOW)),
        Err(AuthorityError::AnnotationTooLong { days: 91 })
    ));
    assert!(matches!(
        a.annotate(&n, s, date(2026, 3, 9), date(2026, 4, 1), ts(NOW)),
        Err(AuthorityError::AnnotationBackdated { .. })
    ));
    assert!(matches!(
        a.annotate(&n, s, today, today, ts(NOW))
            .map(|x| x.claims.annotation.is_some()),
        Ok(true)
    ));
    let ninety = a
        .annotate(&n, s, today, date(2026, 6, 7), ts(NOW))
        .expect("exactly 90 days");
    let ann = ninety.claims.annotation.expect("annotation");
    assert_eq!(calendar::days_between(ann.valid_from, ann.valid_until) + 1, 90);
    assert!(matches!(
        a.annotate(&n, Scenario(2), today, today, ts(NOW)),
        Err(AuthorityError::ScenarioNotOffered(2))
    ));
}

#[tokio::test]
async fn a_fourth_valid_annotation_within_90_days_is_refused() {
    let (_dir, mut a) = authority().await;
    let n = issue(&mut a);
    let s = Scenario::SELF_USE;
    let day = |d: i64| ts(NOW) + jiff::SignedDuration::from_hours(24 * d);
    let on = |d: i64| calendar::date_in_china(day(d));
    let mut ids = Vec::new();
    for d in [0, 10, 20] {
        ids.push(
            a.annotate(&n, s, on(d), on(d + 5), day(d))
                .expect("within three")
                .claims
                .annotation
                .expect("a")
                .id,
        );
    }
    let err = a.annotate(&n, s, on(30), on(35), day(30)).expect_err("fourth");
    assert!(
        matches!(err, AuthorityError::TooManyAnnotations { count: 3, .. }),
        "{err}"
    );
    // A cancelled annotation no longer counts.
    a.cancel_annotation(ids[1], "撤回", day(30)).expect("cancel");
    a.annotate(&n, s, on(30), on(35), day(30)).expect("room again");
    assert!(a.annotate(&n, s, on(31), on(35), day(31)).is_err());
    // 90 days after the first application (day 0 counts as day 1), it leaves the window.
    assert!(a.annotate(&n, s, on(89), on(95), day(89)).is_err());
    a.annotate(&n, s, on(90), on(95), day(90))
        .expect("first one left the window");
}

#[tokio::test]
async fn revoked_certificates_cannot_be_annotated_and_old_association_ones_need_none() {
    let (_dir, mut a) = authority().await;
    let n = issue(&mut a);
    let r = a
        .revoke(&n, RevocationReason::Fraud, "", None, ts(NOW))
        .expect("revoke");
    assert_eq!((r.reason.as_str(), r.revoked_by.as_str()), ("弄虚作假取得", "MOHRSS"));
    assert!(matches!(
        a.revoke(&n, RevocationReason::Other, "x", None, ts(NOW)),
        Err(AuthorityError::AlreadyRevoked(_))
    ));
    let today = date(2026, 3, 10);
    assert!(matches!(
        a.annotate(&n, Scenario::SELF_USE, today, today, ts(NOW)),
        Err(AuthorityError::Revoked(_))
    ));
    let old = a
        .issue(&request("1101", date(2019, 5, 20)), ts(NOW))
        .expect("issue")
        .claims
        .management_number;
    assert!(matches!(
        a.annotate(&old, Scenario::SELF_USE, today, today, ts(NOW)),
        Err(AuthorityError::AnnotationNotNeeded(_))
    ));
    let on_the_day = a
        .issue(&request("1101", ANNOTATION_ERA_START), ts(NOW))
        .expect("issue")
        .claims
        .management_number;
    a.annotate(&on_the_day, Scenario::SELF_USE, today, today, ts(NOW))
        .expect("issued on 2021-12-17: needs one");
    assert!(matches!(
        a.cancel_annotation(404, "x", ts(NOW)),
        Err(AuthorityError::UnknownAnnotation(404))
    ));
}

#[tokio::test]
async fn a_publication_round_trips_through_a_real_tuf_repository() {
    let (dir, mut a) = authority().await;
    let n = issue(&mut a);
    a.revoke(&n, RevocationReason::Reissued, "证书信息有误", None, ts(NOW))
        .expect("revoke");
    let repo = dir.path().join("repo");
    let now = ts(NOW);
    let p1 = a.publish(&repo, now, &Lifetimes::default()).await.expect("publish");
    let state = tempfile::tempdir().expect("state");
    let trust = TrustState {
        pinned_root: a.root_json(),
        fleet_key: fleet_key(&a.root_json()),
        dir: state.path().to_owned(),
    };
    let fetched = repo::fetch_dir(&repo, &trust, Clock::Pinned(now)).await.expect("fetch");
    assert_eq!(
        fetched.update,
        Update::from(a.dataset(p1.version, p1.as_of).expect("dataset"))
    );
    assert_eq!(
        (fetched.targets_version, fetched.snapshot_version, fetched.root_version),
        (1, 1, 1)
    );

    // A second publication supersedes the first; old target files stay for slower clients.
    let later = Timestamp::from_second(now.as_second() + 3600).expect("ts");
    let p2 = a
        .publish(&repo, later, &Lifetimes::default())
        .await
        .expect("publish again");
    let fetched = repo::fetch_dir(&repo, &trust, Clock::Pinned(later))
        .await
        .expect("fetch again");
    assert_eq!(
        (p2.version, fetched.update.version, fetched.update.as_of),
        (2, 2, later)
    );
    assert!(repo.join("targets").join("revocations.v1.jsonl.gz").exists());
    assert!(
        state.path().join("root.json").exists(),
        "the newest verified root is persisted"
    );
}

/// A pinned clock is every clock the fetch reads: a repository published at a fixed moment
/// loads at that moment whatever today's date, is refused as expired a week later, and the
/// system clock still refuses metadata that expired in the real past.
#[tokio::test]
async fn expiry_is_checked_against_the_clock_the_fetch_is_given() {
    let (dir, mut a) = authority().await;
    issue(&mut a);
    let root = a.root_json();
    let trust = |state: &tempfile::TempDir| TrustState {
        pinned_root: root.clone(),
        fleet_key: fleet_key(&root),
        dir: state.path().to_owned(),
    };
    let fixed = dir.path().join("fixed");
    a.publish(&fixed, ts(NOW), &Lifetimes::default())
        .await
        .expect("publish");
    let hour_later = Clock::Pinned(ts(NOW) + jiff::SignedDuration::from_hours(1));
    let state = tempfile::tempdir().expect("state");
    let fetched = repo::fetch_dir(&fixed, &trust(&state), hour_later)
        .await
        .expect("fetch at the pinned time");
    assert_eq!(fetched.update.as_of, ts(NOW));

    let week_later = Clock::Pinned(ts(NOW) + jiff::SignedDuration::from_hours(24 * 7 + 1));
    let state = tempfile::tempdir().expect("state");
    let err = repo::fetch_dir(&fixed, &trust(&state), week_later)
        .await
        .expect_err("the timestamp's 7 days are over")
        .to_string();
    assert!(err.contains("timestamp metadata is expired"), "{err}");

    let month_ago = Timestamp::now() - jiff::SignedDuration::from_hours(24 * 30);
    let (dir, mut a) = authority_at(month_ago).await;
    let stale = dir.path().join("stale");
    a.publish(&stale, month_ago, &Lifetimes::default())
        .await
        .expect("publish");
    let root = a.root_json();
    let trust = |state: &tempfile::TempDir| TrustState {
        pinned_root: root.clone(),
        fleet_key: fleet_key(&root),
        dir: state.path().to_owned(),
    };
    let state = tempfile::tempdir().expect("state");
    let err = repo::fetch_dir(&stale, &trust(&state), Clock::System)
        .await
        .expect_err("expired on the system clock")
        .to_string();
    assert!(err.contains("metadata is expired"), "{err}");
    let state = tempfile::tempdir().expect("state");
    repo::fetch_dir(&stale, &trust(&state), Clock::Pinned(month_ago))
        .await
        .expect("the same repository at its own time");
}

#[tokio::test]
async fn a_store_one_publication_behind_gets_deltas_that_reproduce_the_full_files() {
    let (dir, mut a) = authority().await;
    let first = issue(&mut a);
    let second = issue(&mut a);
    let day = calendar::date_in_china(ts(NOW));
    let annotated = a
        .annotate(&second, Scenario::SELF_USE, day, day, ts(NOW))
        .expect("annotate");
    a.revoke(&first, RevocationReason::Fraud, "", None, ts(NOW))
        .expect("revoke");
    let repo = dir.path().join("repo");
    let now = ts(NOW);
    a.publish(&repo, now, &Lifetimes::default()).await.expect("publish 1");
    let state = tempfile::tempdir().expect("state");
    let trust = TrustState {
        pinned_root: a.root_json(),
        fleet_key: fleet_key(&a.root_json()),
        dir: state.path().to_owned(),
    };
    let v1 = repo::fetch_dir(&repo, &trust, Clock::Pinned(now))
        .await
        .expect("fetch 1");
    let mut store = Writer::open(&state.path().join("store.sqlite")).expect("store");
    let versions = |p: &repo::NewPublication| MetadataVersions {
        root: 1,
        targets: p.targets_version,
        snapshot: p.snapshot_version,
    };
    store.apply_update(&v1.update, versions(&v1), now).expect("apply 1");

    // Publication 2: a new revocation, one withdrawn (made in error), a cancellation.
    a.revoke(&second, RevocationReason::Violation, "违规", None, ts(NOW))
        .expect("revoke 2");
    a.db.execute("DELETE FROM revocations WHERE management_number = ?1", [&first])
        .expect("withdraw");
    let id = annotated.claims.annotation.expect("annotation").id;
    a.cancel_annotation(id, "撤回", ts(NOW)).expect("cancel");
    let later = Timestamp::from_second(now.as_second() + 60).expect("ts");
    a.publish(&repo, later, &Lifetimes::default()).await.expect("publish 2");
    assert!(repo.join("targets/revocations.v2.from1.jsonl.gz").exists());

    let held = Held {
        version: 1,
        targets_version: 1,
    };
    let Fetched::New(v2) = repo::fetch(
        &crate::repository::Source::Dir(repo.clone()),
        &trust,
        Default::default(),
        Some(held),
        Clock::Pinned(later),
    )
    .await
    .expect("fetch 2") else {
        panic!("publication 2 is new");
    };
    let Records::Deltas(chain) = &v2.update.revocations else {
        panic!("revocations as a delta")
    };
    assert_eq!(chain.len(), 1);
    assert!(chain[0].ops.contains(&DeltaOp::Delete { key: first.clone() }));
    assert!(v2.update.cancellations.is_delta());
    store
        .apply_update(&v2.update, versions(&v2), later)
        .expect("apply the delta");
    let by_delta = store.reader().expect("r").content_digest().expect("digest");

    // The same publication applied from full files gives the same store.
    let fresh = tempfile::tempdir().expect("fresh");
    let mut full = Writer::open(&fresh.path().join("s.sqlite")).expect("store");
    full.apply(&a.dataset(2, later).expect("dataset"), versions(&v2), later)
        .expect("apply full");
    assert_eq!(full.reader().expect("r").content_digest().expect("digest"), by_delta);

    // Up to date: nothing but metadata is read.
    let held = Held {
        version: 2,
        targets_version: v2.targets_version,
    };
    let again = repo::fetch(
        &crate::repository::Source::Dir(repo.clone()),
        &trust,
        Default::default(),
        Some(held),
        Clock::Pinned(later),
    )
    .await
    .expect("fetch");
    assert!(matches!(again, Fetched::UpToDate { version: 2 }));

    // A chain that does not start at the store's version is refused and changes nothing.
    let mut wrong = v2.update.clone();
    wrong.version = 3;
    if let Records::Deltas(chain) = &mut wrong.revocations {
        chain[0].from = 7;
    }
    let err = store.apply_update(&wrong, versions(&v2), later).expect_err("mismatch");
    assert!(
        matches!(err, certkiosk_sync::writer::WriteError::DeltaMismatch { .. }),
        "{err}"
    );
    assert_eq!(store.reader().expect("r").content_digest().expect("digest"), by_delta);
}

/// Fetch `repo` as an appliance holding `held` and apply it to `store`.
async fn sync_into(
    repo: &Path,
    trust: &TrustState,
    store: &mut Writer,
    held: Option<Held>,
    now: Timestamp,
) -> repo::NewPublication {
    let Fetched::New(p) = repo::fetch(
        &crate::repository::Source::Dir(repo.to_owned()),
        trust,
        Default::default(),
        held,
        Clock::Pinned(now),
    )
    .await
    .expect("fetch") else {
        panic!("a new publication");
    };
    let versions = MetadataVersions {
        root: 1,
        targets: p.targets_version,
        snapshot: p.snapshot_version,
    };
    store.apply_update(&p.update, versions, now).expect("apply");
    *p
}

fn digest(store: &Writer) -> String {
    store.reader().expect("reader").content_digest().expect("digest")
}

#[tokio::test]
async fn the_lookup_index_is_published_whole_and_as_deltas_and_both_reach_the_same_store() {
    use crate::lookup::{LookupStatus, LookupUpdate, holder_digest};
    let (dir, mut a) = authority().await;
    a.set_lookup("0301", true).expect("opt in");
    assert!(matches!(
        a.set_lookup("9999", true),
        Err(AuthorityError::UnknownQualification(_))
    ));
    let numbers: Vec<String> = (0..3).map(|_| issue(&mut a)).collect();
    let outside = a
        .issue(&request("0901", date(2023, 6, 10)), ts(NOW))
        .expect("issue 0901")
        .claims
        .management_number;
    let repo = dir.path().join("repo");
    let now = ts(NOW);
    let p1 = a.publish(&repo, now, &Lifetimes::default()).await.expect("publish 1");
    assert_eq!(p1.lookup.map(|l| (l.rows, l.changed)), Some((3, 3)));

    let state = tempfile::tempdir().expect("state");
    let trust = TrustState {
        pinned_root: a.root_json(),
        fleet_key: fleet_key(&a.root_json()),
        dir: state.path().to_owned(),
    };
    let mut store = Writer::open(&state.path().join("store.sqlite")).expect("store");
    let v1 = sync_into(&repo, &trust, &mut store, None, now).await;
    assert!(matches!(v1.update.lookup, Some(LookupUpdate::Full(_))));
    {
        let r = store.reader().expect("reader");
        let meta = r.lookup_meta().expect("meta").expect("an index");
        assert_eq!((meta.rows, meta.qualifications.clone()), (3, vec!["0301".to_owned()]));
        let row = r.lookup_row(&numbers[0]).expect("row").expect("held");
        let salt = r.lookup_salt(row.salt_version).expect("salt");
        let masked = "110***********123X";
        assert_eq!(holder_digest(meta.kdf, &salt, &numbers[0], "王䶮", masked), row.digest);
        assert_ne!(holder_digest(meta.kdf, &salt, &numbers[1], "王䶮", masked), row.digest);
        assert_ne!(
            holder_digest(meta.kdf, &salt, &numbers[0], "王䶮", "110***********124X"),
            row.digest,
            "the masked ID number is bound"
        );
        assert_eq!(r.lookup_row(&outside).expect("row"), None, "0901 is not opted in");
    }

    // Publication 2: a revocation, a new certificate, a second qualification opted in.
    a.revoke(&numbers[1], RevocationReason::Fraud, "", None, ts(NOW))
        .expect("revoke");
    let newer = issue(&mut a);
    a.set_lookup("0501", true).expect("opt in 0501");
    let builder = a
        .issue(&request("0501", date(2024, 1, 10)), ts(NOW))
        .expect("issue 0501")
        .claims
        .management_number;
    let later = Timestamp::from_second(now.as_second() + 60).expect("ts");
    let p2 = a.publish(&repo, later, &Lifetimes::default()).await.expect("publish 2");
    assert_eq!(p2.lookup.map(|l| (l.rows, l.changed, l.deleted)), Some((5, 3, 0)));
    let held = |p: &repo::NewPublication| Held {
        version: p.update.version,
        targets_version: p.targets_version,
    };
    let v2 = sync_into(&repo, &trust, &mut store, Some(held(&v1)), later).await;
    let Some(LookupUpdate::Deltas(chain)) = &v2.update.lookup else {
        panic!("the index as a delta: {:?}", v2.update.lookup);
    };
    assert_eq!((chain.len(), chain[0].header.count), (1, 3));
    {
        let r = store.reader().expect("reader");
        let revoked = r.lookup_row(&numbers[1]).expect("row").expect("held");
        assert_eq!(revoked.status, LookupStatus::Revoked);
        assert_eq!(revoked.salt_version, 1, "a changed row keeps its digest and salt");
        let fresh = r.lookup_row(&newer).expect("row").expect("held");
        assert_eq!(fresh.salt_version, 2, "a new row uses the new publication's salt");
        assert!(r.lookup_row(&builder).expect("row").is_some());
        assert_ne!(r.lookup_salt(1).expect("salt 1"), r.lookup_salt(2).expect("salt 2"));
    }
    let by_delta = digest(&store);
    let fresh_state = tempfile::tempdir().expect("fresh");
    let fresh_trust = TrustState {
        pinned_root: a.root_json(),
        fleet_key: fleet_key(&a.root_json()),
        dir: fresh_state.path().to_owned(),
    };
    let mut whole = Writer::open(&fresh_state.path().join("s.sqlite")).expect("store");
    let full = sync_into(&repo, &fresh_trust, &mut whole, None, later).await;
    assert!(matches!(full.update.lookup, Some(LookupUpdate::Full(_))));
    assert_eq!(
        digest(&whole),
        by_delta,
        "full file and delta chain give the same store"
    );

    // Publication 3: 0501 taken out of the index again: a delete.
    a.set_lookup("0501", false).expect("opt out");
    let third = Timestamp::from_second(later.as_second() + 60).expect("ts");
    let p3 = a.publish(&repo, third, &Lifetimes::default()).await.expect("publish 3");
    assert_eq!(p3.lookup.map(|l| (l.rows, l.deleted)), Some((4, 1)));
    sync_into(&repo, &trust, &mut store, Some(held(&v2)), third).await;
    assert_eq!(store.reader().expect("r").lookup_row(&builder).expect("row"), None);
    let mut whole = Writer::open(&fresh_state.path().join("s3.sqlite")).expect("store");
    std::fs::remove_dir_all(fresh_state.path().join("datastore")).expect("forget tuf state");
    sync_into(&repo, &fresh_trust, &mut whole, None, third).await;
    assert_eq!(digest(&whole), digest(&store));

    // A delta where the store holds no index (an older appliance) is refused, changing nothing.
    let mut bare = Writer::open(&fresh_state.path().join("bare.sqlite")).expect("store");
    let mut no_index = v1.update.clone();
    no_index.lookup = None;
    bare.apply_update(
        &no_index,
        MetadataVersions {
            root: 1,
            targets: 1,
            snapshot: 1,
        },
        now,
    )
    .expect("apply without index");
    let before = digest(&bare);
    let err = bare
        .apply_update(
            &v2.update,
            MetadataVersions {
                root: 1,
                targets: 2,
                snapshot: 2,
            },
            later,
        )
        .expect_err("no index to apply a delta to");
    assert!(
        matches!(err, certkiosk_sync::writer::WriteError::DeltaMismatch { .. }),
        "{err}"
    );
    assert_eq!(digest(&bare), before);
}

#[tokio::test]
async fn the_published_index_holds_no_name_or_id_number() {
    use certkiosk_formats::fleet::{self, ApplianceKey, Grant};
    let (dir, mut a) = authority().await;
    a.set_lookup("0301", true).expect("opt in");
    let number = issue(&mut a);
    a.revoke(&number, RevocationReason::Other, "王䶮 本人申请", None, ts(NOW))
        .expect("revoke");
    let repo = dir.path().join("repo");
    a.publish(&repo, ts(NOW), &Lifetimes::default()).await.expect("publish");
    // What a mirror holds: no holder-linked file opens without a key, and no file names the
    // certificate, its holder or the reason.
    let targets = repo.join("targets");
    for entry in std::fs::read_dir(&targets).expect("targets").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let bytes = std::fs::read(entry.path()).expect("file");
        let linked = ["lookup", "revocations", "cancellations"]
            .iter()
            .any(|k| name.starts_with(k));
        assert_eq!(fleet::is_sealed(&bytes), linked, "{name}");
        let mut text = Vec::new();
        let _ = std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(bytes.as_slice()), &mut text);
        for secret in [number.as_str(), "王䶮", "本人申请"] {
            let leaked = |b: &[u8]| b.windows(secret.len()).any(|w| w == secret.as_bytes());
            assert!(!leaked(&bytes) && !leaked(&text), "{secret} in {name}");
        }
    }
    // What the enrolled appliance opens: the number, never the name or the ID number.
    let me = ApplianceKey::from_file_text(&std::fs::read_to_string(fleet_key(&a.root_json())).expect("key"))
        .expect("key file");
    let grants = std::fs::File::open(targets.join("fleet_keys.v1.jsonl.gz")).expect("grants");
    let (_, grants) = crate::status::RecordReader::open(grants, crate::status::TargetKind::FleetKeys)
        .and_then(|r| r.collect_all::<Grant>())
        .expect("grants");
    let key = me
        .grant_in(&grants)
        .expect("the appliance is enrolled")
        .unwrap(&me)
        .expect("granted");
    let sealed = std::fs::read(targets.join("lookup.v1.jsonl.gz")).expect("file");
    let mut clear = Vec::new();
    fleet::open(&[key], sealed.as_slice(), &mut clear).expect("opens");
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(clear.as_slice()), &mut text).expect("gunzip");
    assert!(text.contains(&number), "the number is there: {text}");
    for secret in ["王䶮", "䶮", "110***********123X", "123X"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
}

/// A value in the authority's state that does not read back exactly is refused where it
/// would be signed or published: no credential is sealed, no publication is recorded and
/// the published repository is not touched. Before, each of these was read as a default
/// (`Date::MIN`, "association", not retired, unleveled, 1970) and signed.
#[tokio::test]
async fn the_authority_refuses_to_sign_or_publish_a_value_it_cannot_read() {
    enum Then {
        Annotate,
        Publish,
    }
    use Then::{Annotate, Publish};
    let cases = [
        (
            "UPDATE certificates SET approved_on = '2023-4-11'",
            "certificates",
            "approved_on",
            Annotate,
        ),
        (
            "UPDATE certificates SET ecert_issued_on = 'soon'",
            "certificates",
            "ecert_issued_on",
            Annotate,
        ),
        ("UPDATE certificates SET level = 99", "certificates", "level", Annotate),
        (
            "UPDATE qualifications SET seal_kind = 'Ministry'",
            "qualifications",
            "seal_kind",
            Annotate,
        ),
        (
            "UPDATE qualifications SET seal_kind = 'ministry '",
            "qualifications",
            "seal_kind",
            Publish,
        ),
        ("UPDATE seal_keys SET kind = 'guild'", "seal_keys", "kind", Publish),
        (
            "UPDATE seal_keys SET valid_from = '2021-12-17 '",
            "seal_keys",
            "valid_from",
            Publish,
        ),
        (
            "UPDATE seal_keys SET valid_until = ''",
            "seal_keys",
            "valid_until",
            Publish,
        ),
        (
            "UPDATE seal_keys SET retired_at = 9000000000000000",
            "seal_keys",
            "retired_at",
            Publish,
        ),
        (
            "UPDATE revocations SET revoked_at = -9000000000000000",
            "revocations",
            "revoked_at",
            Publish,
        ),
        (
            "UPDATE cancellations SET cancelled_at = 9000000000000000",
            "cancellations",
            "cancelled_at",
            Publish,
        ),
        (
            "UPDATE lookup_rows SET ecert_issued_on = '2023-06-31'",
            "lookup_rows",
            "ecert_issued_on",
            Publish,
        ),
    ];
    for (sql, table, column, then) in cases {
        let (dir, mut a) = authority().await;
        let (n, revoked) = (issue(&mut a), issue(&mut a));
        let id = a
            .annotate(&n, Scenario::SELF_USE, date(2026, 3, 10), date(2026, 4, 1), ts(NOW))
            .expect("annotate")
            .claims
            .annotation
            .expect("annotation")
            .id;
        a.cancel_annotation(id, "撤回", ts(NOW)).expect("cancel");
        a.revoke(&revoked, RevocationReason::Fraud, "", None, ts(NOW))
            .expect("revoke");
        a.set_lookup("0301", true).expect("opt in");
        let repo = dir.path().join("repo");
        a.publish(&repo, ts(NOW), &Lifetimes::default())
            .await
            .expect("first publication");
        let timestamp = std::fs::read(repo.join("metadata/timestamp.json")).expect("timestamp.json");

        a.db.execute(sql, []).expect(sql);
        let later = Timestamp::from_second(ts(NOW).as_second() + 60).expect("later");
        let err = match then {
            Annotate => a
                .annotate(&n, Scenario::SELF_USE, date(2026, 3, 10), date(2026, 4, 1), later)
                .map(|_| ())
                .expect_err(sql),
            Publish => a
                .publish(&repo, later, &Lifetimes::default())
                .await
                .map(|_| ())
                .expect_err(sql),
        };
        let message = err.to_string();
        assert!(
            message.contains(&format!("{table} row")) && message.contains(&format!("{column} ")),
            "{sql}: {message}"
        );
        let published: i64 =
            a.db.query_row("SELECT count(*) FROM publications", [], |r| r.get(0))
                .expect("count");
        let annotations: i64 =
            a.db.query_row("SELECT count(*) FROM annotations", [], |r| r.get(0))
                .expect("count");
        assert_eq!((published, annotations), (1, 1), "{sql}: nothing recorded");
        assert_eq!(
            std::fs::read(repo.join("metadata/timestamp.json")).expect("timestamp.json"),
            timestamp,
            "{sql}: the published repository is untouched"
        );
    }
}

/// The seal list publishes the key in each seal's key file; a row naming another key is
/// corrupt, since credentials sealed through it would carry an id the list does not have.
#[tokio::test]
async fn a_seal_row_naming_another_key_than_its_file_is_refused() {
    let (_dir, a) = authority().await;
    a.db.execute(
        "UPDATE seal_keys SET file = (SELECT file FROM seal_keys WHERE owner = 'CAUP') WHERE owner = 'CIREA'",
        [],
    )
    .expect("swap");
    let err = a.seals().expect_err("mismatched key file");
    assert!(matches!(
        err,
        AuthorityError::Corrupt {
            cause: CorruptValue {
                table: "seal_keys",
                column: "file",
                ..
            },
            ..
        }
    ));
}

/// The key id a credential was sealed with.
/// Annotates `number` for `from..=until` at `at`; the key id the annotation was sealed with.
fn annotated_by(a: &mut Authority, number: &str, (from, until): (Date, Date), at: Timestamp) -> KeyId {
    let s = a
        .annotate(number, Scenario::SELF_USE, from, until, at)
        .expect("annotate");
    Envelope::parse(&s.credential).expect("parse").key_id().expect("key id")
}

#[tokio::test]
async fn a_rotation_is_scheduled_and_annotations_are_sealed_by_the_seal_in_service_that_day() {
    let (_dir, mut a) = authority().await;
    let number = issue(&mut a);
    let first = annotated_by(&mut a, &number, (date(2026, 3, 10), date(2026, 4, 10)), ts(NOW));

    // Never today or earlier: the new seal must be published before it seals anything.
    for day in [date(2026, 3, 10), date(2026, 3, 9)] {
        let e = a
            .rotate_seal("MOHRSS", ts(NOW), Some(day))
            .expect_err("not after today");
        assert!(e.to_string().contains("not after today"), "{e}");
    }
    assert!(a.rotate_seal("NOBODY", ts(NOW), None).is_err());
    let r = a.rotate_seal("MOHRSS", ts(NOW), None).expect("rotate");
    assert_eq!((r.retired, r.from), (Some(first), date(2026, 3, 11)));
    let e = a
        .rotate_seal("MOHRSS", ts(NOW), Some(date(2026, 4, 1)))
        .expect_err("scheduled");
    assert!(e.to_string().contains("already scheduled"), "{e}");

    // Until the day comes, the old seal seals; from its first instant (00:00 in Shanghai), the new.
    let late_today = ts("2026-03-10T15:59:59Z");
    assert_eq!(
        annotated_by(&mut a, &number, (date(2026, 3, 10), date(2026, 4, 10)), late_today),
        first
    );
    let tomorrow = ts("2026-03-10T16:00:00Z");
    assert_eq!(
        annotated_by(&mut a, &number, (date(2026, 3, 11), date(2026, 4, 10)), tomorrow),
        r.new
    );

    // The seal list says so: the old one retired at that instant, both scoped alike.
    let seals = a.seals().expect("seals");
    let old = seals.iter().find(|k| k.key_id == first).expect("old");
    let new = seals.iter().find(|k| k.key_id == r.new).expect("new");
    assert_eq!(old.retired_at, Some(tomorrow));
    assert_eq!((new.valid_from, new.retired_at), (date(2026, 3, 11), None));
    let codes = |k: &SealKey| k.scope.iter().map(|s| s.qualification.clone()).collect::<Vec<_>>();
    assert_eq!(codes(old), codes(new));
    assert!(codes(new).contains(&"0301".to_owned()) && !codes(new).contains(&"1101".to_owned()));
}

#[tokio::test]
async fn a_compromised_seal_is_replaced_at_once_and_its_date_never_moves_later() {
    let (_dir, mut a) = authority().await;
    let number = issue(&mut a);
    let leaked = annotated_by(&mut a, &number, (date(2026, 3, 10), date(2026, 4, 10)), ts(NOW));
    let e = a
        .compromise_seal(leaked, ts("2026-03-11T00:00:00Z"), ts(NOW))
        .expect_err("future");
    assert!(e.to_string().contains("in the future"), "{e}");
    let stranger = KeyId([9; 8]);
    assert!(a.compromise_seal(stranger, ts(NOW), ts(NOW)).is_err());

    let (from, r) = a
        .compromise_seal(leaked, ts("2026-03-01T00:00:00Z"), ts(NOW))
        .expect("compromise");
    assert_eq!(from, ts("2026-03-01T00:00:00Z"));
    let r = r.expect("the seal in service is replaced");
    assert_eq!(r.retired, Some(leaked));
    // Annotations go on at once, under the new seal.
    assert_eq!(
        annotated_by(&mut a, &number, (date(2026, 3, 10), date(2026, 4, 10)), ts(NOW)),
        r.new
    );
    // A later date leaves the earlier one in force, and says so.
    let (from, again) = a
        .compromise_seal(leaked, ts("2026-03-05T00:00:00Z"), ts(NOW))
        .expect("again");
    assert_eq!((from, again), (ts("2026-03-01T00:00:00Z"), None));
    let seals = a.seals().expect("seals");
    let old = seals.iter().find(|k| k.key_id == leaked).expect("old");
    assert_eq!(old.compromised_from, Some(ts("2026-03-01T00:00:00Z")));
}

#[tokio::test]
async fn lookup_rows_of_the_old_digest_are_dropped_once_when_the_authority_is_opened() {
    let (dir, a) = authority().await;
    let row = "INSERT INTO lookup_rows VALUES ('1', '0301', 2, 'issued', '2023-05-20', '2023-06-10', 1, x'0001020304050607', 1)";
    a.db.execute(row, []).expect("a row");
    let count = |a: &Authority| -> i64 {
        a.db.query_row("SELECT count(*) FROM lookup_rows", [], |r| r.get(0))
            .expect("count")
    };
    drop(a);
    // A new authority is Argon2id from the start: its rows stay.
    assert_eq!(count(&Authority::open(dir.path()).expect("open")), 1);
    // An authority from before (no marker): its PBKDF2 rows go, once.
    let a = Authority::open(dir.path()).expect("open");
    a.db.execute("DELETE FROM settings WHERE key = ?1", [LOOKUP_DIGEST])
        .expect("as before issue 17");
    drop(a);
    let a = Authority::open(dir.path()).expect("open");
    assert_eq!(count(&a), 0, "digested anew at the next publication");
    a.db.execute(row, []).expect("a new row");
    drop(a);
    assert_eq!(count(&Authority::open(dir.path()).expect("open")), 1, "only once");
}
