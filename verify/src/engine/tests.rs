//! The verdict engine against a real SQLite store holding a hand-made publication.

use super::*;
use certkiosk_formats::credential::{Annotation, Claims, PREFIX, Scenario, encode_claims};
use certkiosk_formats::status::{Cancellation, Dataset, Revocation};
use certkiosk_formats::trust::SealKind;
use certkiosk_sync::writer::{MetadataVersions, Writer};
use certsync::authority::{default_catalogue, seal_scope};
use certsync::seal::SealSigner;
use ed25519_dalek::SigningKey;
use jiff::civil::{Date, date};
use proptest::prelude::*;
use std::io::{Read, Write};

const AS_OF: &str = "2026-03-10T04:00:00Z";
const REVOKED: &str = "2023030100000666";
const CANCELLED_ANNOTATION: u64 = 777;

struct Fixture {
    _dir: tempfile::TempDir,
    store: Writer,
    ministry: SealSigner,
    association: SealSigner,
    retired: SealSigner,
    /// A ministry seal published as compromised from 2026-02-01 (Shanghai).
    compromised: SealSigner,
}

fn seal(signer: &SealSigner, owner: &str, kind: SealKind, from: Date, until: Date, retired: Option<&str>) -> SealKey {
    SealKey {
        key_id: signer.key_id,
        public_key: signer.verifying_key(),
        owner: owner.into(),
        kind,
        valid_from: from,
        valid_until: until,
        retired_at: retired.map(|t| t.parse().expect("ts")),
        scope: seal_scope(&default_catalogue().qualifications, owner, kind, (from, until)),
        compromised_from: None,
    }
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let ministry = SealSigner::new(SigningKey::from_bytes(&[1; 32]));
    let association = SealSigner::new(SigningKey::from_bytes(&[2; 32]));
    let retired = SealSigner::new(SigningKey::from_bytes(&[3; 32]));
    let compromised = SealSigner::new(SigningKey::from_bytes(&[4; 32]));
    let mut leaked = seal(
        &compromised,
        "MOHRSS",
        SealKind::Ministry,
        date(2021, 12, 17),
        date(2031, 12, 16),
        None,
    );
    leaked.compromised_from = Some(ts("2026-01-31T16:00:00Z"));
    let as_of: Timestamp = AS_OF.parse().expect("ts");
    let dataset = Dataset {
        version: 4,
        as_of,
        seals: vec![
            seal(
                &ministry,
                "MOHRSS",
                SealKind::Ministry,
                date(2021, 12, 17),
                date(2031, 12, 16),
                None,
            ),
            seal(
                &association,
                "CIREA",
                SealKind::Association,
                date(2005, 1, 1),
                date(2031, 12, 31),
                None,
            ),
            // Retired at 2024-01-01 00:00 in Shanghai.
            seal(
                &retired,
                "MOHRSS",
                SealKind::Ministry,
                date(2021, 12, 17),
                date(2031, 12, 16),
                Some("2023-12-31T16:00:00Z"),
            ),
            leaked,
        ],
        catalogue: default_catalogue(),
        revocations: vec![Revocation {
            management_number: REVOKED.into(),
            revoked_at: "2026-01-05T02:00:00Z".parse().expect("ts"),
            reason_code: "fraud".into(),
            reason: "弄虚作假取得".into(),
            revoked_by: "MOHRSS".into(),
        }],
        cancellations: vec![Cancellation {
            annotation_id: CANCELLED_ANNOTATION,
            cancelled_at: "2026-03-01T00:00:00Z".parse().expect("ts"),
            reason: "持证人撤回".into(),
        }],
    };
    let mut store = Writer::open(&dir.path().join("store.sqlite")).expect("store");
    let versions = MetadataVersions {
        root: 1,
        targets: 4,
        snapshot: 4,
    };
    store.apply(&dataset, versions, as_of).expect("apply");
    Fixture {
        _dir: dir,
        store,
        ministry,
        association,
        retired,
        compromised,
    }
}

fn ts(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

/// A ministry certificate of 经济 (0301), issued 2023-06-10, optionally annotated.
fn claims(annotation: Option<(u64, &str, Date, Date)>) -> Claims {
    Claims {
        specialty: None,
        annotation: annotation.map(|(id, requested, valid_from, valid_until)| Annotation {
            id,
            scenario: Scenario::SELF_USE,
            requested_at: ts(requested),
            valid_from,
            valid_until,
        }),
        ..Claims::example()
    }
}

/// Annotated 2026-03-01 for 2026-03-01..=2026-05-29 (90 days).
fn annotated() -> Claims {
    claims(Some((1, "2026-03-01T01:00:00Z", date(2026, 3, 1), date(2026, 5, 29))))
}

fn check(f: &Fixture, text: &str, now: Now) -> Verdict {
    verify(text, &f.store.reader().expect("reader"), now, &Policy::default())
}

fn code_at(f: &Fixture, text: &str, now: &str) -> VerdictCode {
    check(f, text, Now::Explicit(ts(now))).verdict
}

const SOON: &str = "2026-03-10T06:00:00Z";

#[test]
fn a_genuine_annotated_certificate_is_valid_with_everything_shown() {
    let f = fixture();
    let v = check(&f, &f.ministry.seal(&annotated()), Now::Explicit(ts(SOON)));
    assert_eq!(v.verdict, VerdictCode::Valid, "{v:?}");
    assert!(v.is_plain_green());
    let c = v.certificate.expect("certificate");
    assert_eq!(c.holder_name, "王䶮");
    assert_eq!(c.qualification_zh.as_deref(), Some("经济专业技术资格"));
    assert_eq!(c.issuing_body_zh.as_deref(), Some("人力资源和社会保障部"));
    let a = v.annotation.expect("annotation");
    assert_eq!(a.scenario_zh, "本人调用");
    // 2026-03-10 in Shanghai through 2026-05-29: 81 usable days, today included.
    assert_eq!(a.days_left, 81);
    assert_eq!(v.status_as_of, Some(ts(AS_OF)));
    assert_eq!(v.freshness, Freshness::Fresh);
}

#[test]
fn each_verdict_code_with_its_precedence() {
    let f = fixture();
    let m = &f.ministry;
    let mut revoked = annotated();
    revoked.management_number = REVOKED.into();
    let mut revoked_and_expired = revoked.clone();
    revoked_and_expired.annotation =
        claims(Some((2, "2025-10-01T00:00:00Z", date(2025, 10, 1), date(2025, 12, 1)))).annotation;
    let cancelled = claims(Some((
        CANCELLED_ANNOTATION,
        "2026-02-20T00:00:00Z",
        date(2026, 2, 20),
        date(2026, 5, 1),
    )));
    let cancelled_and_expired = claims(Some((
        CANCELLED_ANNOTATION,
        "2026-01-01T00:00:00Z",
        date(2026, 1, 1),
        date(2026, 2, 1),
    )));
    let expired = claims(Some((3, "2025-12-01T00:00:00Z", date(2025, 12, 1), date(2026, 2, 28))));
    let future = claims(Some((4, "2026-03-09T00:00:00Z", date(2026, 3, 20), date(2026, 4, 20))));
    let mut audit = annotated();
    audit.qualification = "0901".into();
    let mut old_year = annotated();
    old_year.approved_on = date(2015, 6, 1);
    let mut old_association = claims(None);
    old_association.qualification = "1101".into();
    old_association.issuing_body = "CIREA".into();
    old_association.ecert_issued_on = date(2019, 5, 20);
    old_association.approved_on = date(2015, 9, 1);
    let mut wrong_owner = old_association.clone();
    wrong_owner.issuing_body = "MOHRSS".into();
    let mut before_ministry_seal = claims(None);
    before_ministry_seal.ecert_issued_on = date(2021, 12, 16);
    let mut after_retirement = annotated();
    after_retirement.ecert_issued_on = date(2024, 1, 1);
    // The issue day backdated before the retirement (2024-01-01), the annotation applied for
    // after it: the annotation's day is the sealing day, and the retired seal refuses it.
    let mut backdated = annotated();
    backdated.ecert_issued_on = date(2023, 12, 31);
    // Applied for before the retirement: genuine, and long expired.
    let before_retirement = claims(Some((2, "2023-12-20T02:00:00Z", date(2023, 12, 20), date(2024, 3, 18))));
    let rogue = SealSigner::new(SigningKey::from_bytes(&[9; 32]));
    let late = "2026-04-20T00:00:00Z"; // 41 days after as_of

    let cases: Vec<(&str, String, &str, VerdictCode)> = vec![
        ("valid", m.seal(&annotated()), SOON, VerdictCode::Valid),
        (
            "association before 2021-12-17",
            f.association.seal(&old_association),
            SOON,
            VerdictCode::Valid,
        ),
        ("revoked", m.seal(&revoked), SOON, VerdictCode::Revoked),
        (
            "revoked beats expired annotation",
            m.seal(&revoked_and_expired),
            SOON,
            VerdictCode::Revoked,
        ),
        ("revoked beats stale data", m.seal(&revoked), late, VerdictCode::Revoked),
        ("required", m.seal(&claims(None)), SOON, VerdictCode::AnnotationRequired),
        ("cancelled", m.seal(&cancelled), SOON, VerdictCode::AnnotationCancelled),
        (
            "cancelled beats expired",
            m.seal(&cancelled_and_expired),
            SOON,
            VerdictCode::AnnotationCancelled,
        ),
        ("expired", m.seal(&expired), SOON, VerdictCode::AnnotationExpired),
        (
            "expired beats stale data",
            m.seal(&expired),
            late,
            VerdictCode::AnnotationExpired,
        ),
        (
            "not yet valid",
            m.seal(&future),
            SOON,
            VerdictCode::AnnotationNotYetValid,
        ),
        (
            "stale data",
            f.association.seal(&old_association),
            late,
            VerdictCode::StatusUnavailable,
        ),
        (
            "stale data beats not found",
            m.seal(&audit),
            late,
            VerdictCode::StatusUnavailable,
        ),
        (
            "qualification out of scope",
            m.seal(&audit),
            SOON,
            VerdictCode::NotFound,
        ),
        ("year out of scope", m.seal(&old_year), SOON, VerdictCode::NotFound),
        ("unknown seal", rogue.seal(&annotated()), SOON, VerdictCode::Forged),
        ("forged beats revoked", rogue.seal(&revoked), SOON, VerdictCode::Forged),
        (
            "seal of another body",
            f.association.seal(&wrong_owner),
            SOON,
            VerdictCode::Forged,
        ),
        (
            "seal not yet valid at issue",
            m.seal(&before_ministry_seal),
            SOON,
            VerdictCode::Forged,
        ),
        (
            "retired seal, issued after",
            f.retired.seal(&after_retirement),
            SOON,
            VerdictCode::Forged,
        ),
        (
            "retired seal, issue day backdated before it, annotation after",
            f.retired.seal(&backdated),
            SOON,
            VerdictCode::Forged,
        ),
        (
            "retired seal, annotation applied for before its retirement",
            f.retired.seal(&before_retirement),
            SOON,
            VerdictCode::AnnotationExpired,
        ),
        ("not a credential", "hello".into(), SOON, VerdictCode::Unreadable),
    ];
    for (what, text, now, want) in cases {
        let v = check(&f, &text, Now::Explicit(ts(now)));
        assert_eq!(v.verdict, want, "{what}: {v:?}");
        if matches!(
            want,
            VerdictCode::Forged | VerdictCode::Unreadable | VerdictCode::NotFound
        ) {
            assert!(
                v.reason.as_deref().is_some_and(|r| !r.is_empty() && !r.contains('\n')),
                "{what}: reason"
            );
        }
    }
}

#[test]
fn revocation_details_are_shown() {
    let f = fixture();
    let mut c = annotated();
    c.management_number = REVOKED.into();
    let v = check(&f, &f.ministry.seal(&c), Now::Explicit(ts(SOON)));
    let r = v.revocation.expect("revocation");
    assert_eq!(r.revoked_at, ts("2026-01-05T02:00:00Z"));
    assert_eq!(r.reason, "弄虚作假取得");
    assert_eq!(r.revoked_by_zh.as_deref(), Some("人力资源和社会保障部"));
}

#[test]
fn issued_exactly_on_2021_12_17_needs_an_annotation_the_day_before_does_not() {
    let f = fixture();
    // Decision: e-certificates issued on or after 2021-12-17 (China date) must be annotated.
    let mut on_the_day = claims(None);
    on_the_day.qualification = "1101".into();
    on_the_day.issuing_body = "CIREA".into();
    on_the_day.approved_on = date(2021, 9, 1);
    on_the_day.ecert_issued_on = date(2021, 12, 17);
    assert_eq!(
        code_at(&f, &f.association.seal(&on_the_day), SOON),
        VerdictCode::AnnotationRequired
    );
    let mut day_before = on_the_day.clone();
    day_before.ecert_issued_on = date(2021, 12, 16);
    assert_eq!(code_at(&f, &f.association.seal(&day_before), SOON), VerdictCode::Valid);
}

#[test]
fn the_first_day_of_an_annotation_starts_at_midnight_in_shanghai() {
    let f = fixture();
    // Valid from 2026-03-12 (China): that day begins at 2026-03-11T16:00:00Z.
    let text = f.ministry.seal(&claims(Some((
        5,
        "2026-03-09T00:00:00Z",
        date(2026, 3, 12),
        date(2026, 4, 1),
    ))));
    assert_eq!(
        code_at(&f, &text, "2026-03-11T15:59:59Z"),
        VerdictCode::AnnotationNotYetValid
    );
    assert_eq!(code_at(&f, &text, "2026-03-11T16:00:00Z"), VerdictCode::Valid);
}

#[test]
fn the_last_day_of_an_annotation_ends_at_midnight_in_shanghai() {
    let f = fixture();
    // Valid until 2026-03-11 (China), inclusive: it ends at 2026-03-11T16:00:00Z.
    let text = f.ministry.seal(&claims(Some((
        6,
        "2026-03-01T00:00:00Z",
        date(2026, 3, 1),
        date(2026, 3, 11),
    ))));
    let last_second = check(&f, &text, Now::Explicit(ts("2026-03-11T15:59:59Z")));
    assert_eq!(last_second.verdict, VerdictCode::Valid);
    assert_eq!(last_second.annotation.expect("annotation").days_left, 1);
    // Still 2026-03-11 in UTC, but already 2026-03-12 in Shanghai.
    assert_eq!(
        code_at(&f, &text, "2026-03-11T16:00:00Z"),
        VerdictCode::AnnotationExpired
    );
}

#[test]
fn freshness_is_graded_and_stale_data_is_never_plain_green() {
    let f = fixture();
    let text = f.ministry.seal(&annotated());
    let at = |h: i64| Now::Explicit(ts(AS_OF) + SignedDuration::from_hours(h));
    let fresh = check(&f, &text, at(48));
    assert!(fresh.is_plain_green() && fresh.freshness == Freshness::Fresh);
    let aging = check(&f, &text, at(49));
    assert_eq!((aging.verdict, aging.freshness), (VerdictCode::Valid, Freshness::Aging));
    assert_eq!(aging.warnings, vec![Warning::StatusStale]);
    assert!(!aging.is_plain_green());
    let stale = check(&f, &text, at(30 * 24 + 1));
    assert_eq!(
        (stale.verdict, stale.freshness),
        (VerdictCode::StatusUnavailable, Freshness::Stale)
    );
}

#[test]
fn a_later_annotation_vouches_for_status_until_its_request_time() {
    let f = fixture();
    // Requested 20 days after the data's as_of: "not revoked" as of then.
    let text = f.ministry.seal(&claims(Some((
        7,
        "2026-03-30T04:00:00Z",
        date(2026, 3, 30),
        date(2026, 6, 1),
    ))));
    let v = check(&f, &text, Now::Explicit(ts("2026-04-20T00:00:00Z")));
    assert_eq!(v.status_time, Some(ts("2026-03-30T04:00:00Z")));
    assert_eq!(v.verdict, VerdictCode::Valid, "{v:?}");
    assert_eq!(v.freshness, Freshness::Aging);
}

#[test]
fn a_clock_earlier_than_the_newest_signed_time_is_suspect() {
    let f = fixture();
    let text = f.ministry.seal(&annotated());
    // A Pi without RTC boots in 1970: the floor (the data's as_of) is used as now.
    let v = check(&f, &text, Now::System(ts("1970-01-01T00:00:10Z")));
    assert_eq!(v.verdict, VerdictCode::Valid);
    assert_eq!(v.checked_at, ts(AS_OF));
    assert!(v.warnings.contains(&Warning::ClockSuspect));
    // An explicit --at is taken as it is.
    let v = check(&f, &text, Now::Explicit(ts("2026-03-05T00:00:00Z")));
    assert!(!v.warnings.contains(&Warning::ClockSuspect));
    assert_eq!(v.checked_at, ts("2026-03-05T00:00:00Z"));
}

#[test]
fn without_any_status_data_nothing_can_be_decided() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Writer::open(&dir.path().join("s.sqlite")).expect("store");
    let text = SealSigner::new(SigningKey::from_bytes(&[1; 32])).seal(&annotated());
    let v = verify(
        &text,
        &store.reader().expect("reader"),
        Now::Explicit(ts(SOON)),
        &Policy::default(),
    );
    assert_eq!(v.verdict, VerdictCode::StatusUnavailable);
    assert_eq!(v.freshness, Freshness::Missing);
    // Unreadable still comes first.
    let v = verify(
        "junk",
        &store.reader().expect("reader"),
        Now::Explicit(ts(SOON)),
        &Policy::default(),
    );
    assert_eq!(v.verdict, VerdictCode::Unreadable);
}

fn zlib_base45(bytes: &[u8]) -> String {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(bytes).expect("zlib");
    format!("{PREFIX}{}", base45::encode(z.finish().expect("zlib")))
}

/// Another credential's signature on these claims.
fn with_signature_of(claims: &Claims, donor: &str) -> String {
    use coset::CborSerializable;
    let body = base45::decode(&donor[PREFIX.len()..]).expect("b45");
    let mut cose = Vec::new();
    flate2::read::ZlibDecoder::new(body.as_slice())
        .read_to_end(&mut cose)
        .expect("inflate");
    let mut sign1 = coset::CoseSign1::from_slice(&cose).expect("cose");
    sign1.payload = Some(encode_claims(claims));
    zlib_base45(&sign1.to_vec().expect("cose"))
}

#[test]
fn a_sealed_name_with_hidden_characters_is_valid_but_never_plain_green() {
    let f = fixture();
    for (field, hostile) in [
        (
            "holder name",
            Claims {
                holder_name: "王\u{202E}伟明".into(),
                ..annotated()
            },
        ),
        (
            "holder name",
            Claims {
                holder_name: "张三\u{200B}".into(),
                ..annotated()
            },
        ),
        (
            "specialty",
            Claims {
                specialty: Some("建筑\u{2066}".into()),
                ..annotated()
            },
        ),
    ] {
        let v = check(&f, &f.ministry.seal(&hostile), Now::Explicit(ts(SOON)));
        assert_eq!(v.verdict, VerdictCode::Valid, "{field}");
        assert!(v.warnings.contains(&Warning::HiddenCharacters), "{field}: {v:?}");
        assert!(!v.is_plain_green(), "{field}");
    }
    let v = check(&f, &f.ministry.seal(&annotated()), Now::Explicit(ts(SOON)));
    assert!(!v.warnings.contains(&Warning::HiddenCharacters));
}

#[test]
fn bad_input_gets_a_typed_verdict_and_a_one_line_reason() {
    let f = fixture();
    let m = &f.ministry;
    let good = encode_claims(&annotated());
    let mut trailing = good.clone();
    trailing.extend_from_slice(&[0x01, 0x02]);
    let mut wrong_type = annotated();
    wrong_type.holder_name = "x".into();
    let wrong_type = encode_claims(&wrong_type)
        .iter()
        .map(|&b| if b == 0x61 { 0x01 } else { b })
        .collect();
    let mut oversize = annotated();
    oversize.holder_name = "名".repeat(51);
    let mut other = annotated();
    other.holder_name = "冯娟".into();
    let mut bomb = vec![0u8; 2 << 20];
    bomb[0] = 0x84;
    let cases: Vec<(&str, String, VerdictCode)> = vec![
        ("empty", String::new(), VerdictCode::Unreadable),
        (
            "10 MB",
            "CK1:".to_owned() + &"0".repeat(10 << 20),
            VerdictCode::Unreadable,
        ),
        ("wrong prefix", "HC1:NCFOXN%TS3DH".into(), VerdictCode::Unreadable),
        ("bad base45", "CK1:$$$$####".into(), VerdictCode::Unreadable),
        ("zlib bomb", zlib_base45(&bomb), VerdictCode::Unreadable),
        (
            "truncated CBOR",
            m.seal_payload(good[..good.len() - 5].to_vec()),
            VerdictCode::Unreadable,
        ),
        ("trailing CBOR", m.seal_payload(trailing), VerdictCode::Unreadable),
        ("wrong types", m.seal_payload(wrong_type), VerdictCode::Unreadable),
        ("oversize name", m.seal(&oversize), VerdictCode::Unreadable),
        (
            "valid signature over other claims",
            with_signature_of(&other, &m.seal(&annotated())),
            VerdictCode::Forged,
        ),
        (
            "unsealed COSE garbage",
            zlib_base45(&[0x84, 0x40, 0xa0, 0x41, 0x00, 0x40]),
            VerdictCode::Forged,
        ),
        (
            "binary noise",
            String::from_utf8_lossy(&[0xff, 0xfe, 0x00, 0x41]).into_owned(),
            VerdictCode::Unreadable,
        ),
        (
            "long key id",
            {
                use coset::CborSerializable;
                let sign1 = coset::CoseSign1Builder::new()
                    .protected(
                        coset::HeaderBuilder::new()
                            .algorithm(coset::iana::Algorithm::EdDSA)
                            .key_id(vec![1; 300])
                            .build(),
                    )
                    .payload(good.clone())
                    .build();
                zlib_base45(&sign1.to_vec().expect("cose"))
            },
            VerdictCode::Forged,
        ),
    ];
    for (what, text, want) in cases {
        let v = check(&f, &text, Now::Explicit(ts(SOON)));
        assert_eq!(v.verdict, want, "{what}: {:?}", v.reason);
        let reason = v.reason.unwrap_or_default();
        assert!(!reason.is_empty() && !reason.contains('\n'), "{what}: {reason:?}");
    }
}

#[test]
fn a_text_that_is_no_credential_says_what_it_is() {
    let f = fixture();
    let good = f.ministry.seal(&annotated());
    let cases: Vec<(&str, String, Option<NotCredential>)> = vec![
        ("a credential", good.clone(), None),
        ("nothing", String::new(), Some(NotCredential::Empty)),
        ("blanks", " \r\n".into(), Some(NotCredential::Empty)),
        (
            "a link",
            "https://www.cpta.com.cn/zscx".into(),
            Some(NotCredential::WebAddress),
        ),
        (
            "a link in capitals",
            "HTTP://CPTA.COM.CN".into(),
            Some(NotCredential::WebAddress),
        ),
        ("www", "WWW.mohrss.gov.cn/".into(), Some(NotCredential::WebAddress)),
        (
            "an app's link",
            "weixin://dl/business/?t=x".into(),
            Some(NotCredential::WebAddress),
        ),
        ("not a scheme", "证书://x".into(), Some(NotCredential::OtherText)),
        ("a colon only", "http:cpta".into(), Some(NotCredential::OtherText)),
        (
            "a health code",
            "HC1:NCFOXN%TS3DH".into(),
            Some(NotCredential::OtherText),
        ),
        ("a name", "王䶮".into(), Some(NotCredential::OtherText)),
        (
            "cut short",
            good[..good.len() / 2].to_owned(),
            Some(NotCredential::Damaged),
        ),
        ("prefix only", "CK1:".into(), Some(NotCredential::Damaged)),
        (
            "a character changed",
            format!(
                "{}{}{}",
                &good[..10],
                if &good[10..11] == "$" { "%" } else { "$" },
                &good[11..]
            ),
            Some(NotCredential::Damaged),
        ),
        (
            "too long",
            "CK1:".to_owned() + &"0".repeat(8000),
            Some(NotCredential::TooLong),
        ),
    ];
    for (what, text, want) in cases {
        let v = check(&f, &text, Now::Explicit(ts(SOON)));
        assert_eq!(v.not_credential, want, "{what}: {:?}", v.reason);
        if want.is_some() {
            assert_eq!(v.verdict, VerdictCode::Unreadable, "{what}");
        }
        let without = without_store(&text, "no store", ts(SOON));
        assert_eq!(without.not_credential, want, "{what}, before the first sync");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// No clock (system or explicit, before or after the data, suspect or not) and no data age
    /// turns a revoked or an expired case into `valid`; and `valid` always means inside the
    /// annotation, not revoked and data no older than the maximum age.
    #[test]
    fn no_clock_or_data_age_makes_revoked_or_expired_valid(
        now_offset_h in -24i64 * 800..24 * 800,
        system_clock in any::<bool>(),
        revoked in any::<bool>(),
        from_offset_d in -200i64..200,
        length_d in 1i64..=90,
        requested_before_d in 0i64..30,
    ) {
        let f = fixture();
        let as_of = ts(AS_OF);
        let base = calendar::date_in_china(as_of);
        let valid_from = base.checked_add(jiff::Span::new().days(from_offset_d)).expect("date");
        let valid_until = valid_from.checked_add(jiff::Span::new().days(length_d - 1)).expect("date");
        let requested = calendar::start_of_day(valid_from) - SignedDuration::from_hours(24 * requested_before_d);
        let mut c = claims(None);
        c.annotation = Some(Annotation { id: 42, scenario: Scenario::SELF_USE, requested_at: requested, valid_from, valid_until });
        if revoked {
            c.management_number = REVOKED.into();
        }
        let given = as_of + SignedDuration::from_hours(now_offset_h);
        let now = if system_clock { Now::System(given) } else { Now::Explicit(given) };
        let v = check(&f, &f.ministry.seal(&c), now);
        let today = calendar::date_in_china(v.checked_at);
        if revoked {
            prop_assert_eq!(v.verdict, VerdictCode::Revoked);
        }
        if today > valid_until {
            prop_assert_ne!(v.verdict, VerdictCode::Valid);
        }
        if v.verdict == VerdictCode::Valid {
            prop_assert!(!revoked);
            prop_assert!(valid_from <= today && today <= valid_until);
            let status_time = as_of.max(requested);
            prop_assert!(v.checked_at.duration_since(status_time) <= Policy::default().max_status_age);
            prop_assert_eq!(v.is_plain_green(), v.freshness == Freshness::Fresh && !v.warnings.contains(&Warning::ClockSuspect));
        }
        if system_clock && given < as_of {
            prop_assert!(v.warnings.contains(&Warning::ClockSuspect));
        }
        // The clock is never taken below its floor (the store's, here the data's time), and an
        // annotation dated ahead raises it by the skew at most.
        if system_clock {
            let floor = as_of.max(given);
            prop_assert!(v.checked_at >= floor && v.checked_at <= floor + ANNOTATION_CLOCK_SKEW, "{v:?}");
        } else {
            prop_assert_eq!(v.checked_at, given);
        }
    }
}

#[test]
fn an_annotation_is_checked_even_where_none_is_required() {
    let f = fixture();
    // An association certificate from 2019 needs no annotation, but one it carries is a signed
    // statement of when it may be used: expired is expired.
    let mut c = claims(Some((8, "2025-12-01T00:00:00Z", date(2025, 12, 1), date(2026, 1, 31))));
    c.qualification = "1101".into();
    c.issuing_body = "CIREA".into();
    c.approved_on = date(2015, 9, 1);
    c.ecert_issued_on = date(2019, 5, 20);
    assert_eq!(
        code_at(&f, &f.association.seal(&c), SOON),
        VerdictCode::AnnotationExpired
    );
    c.annotation = None;
    assert_eq!(code_at(&f, &f.association.seal(&c), SOON), VerdictCode::Valid);
}

#[test]
fn a_genuine_annotation_raises_the_clock_only_within_the_skew() {
    let f = fixture();
    // Applied for 5 minutes after the system clock: the authority's clock is a little ahead.
    let text = f.ministry.seal(&claims(Some((
        10,
        "2026-03-20T00:05:00Z",
        date(2026, 3, 20),
        date(2026, 5, 1),
    ))));
    let v = check(&f, &text, Now::System(ts("2026-03-20T00:00:00Z")));
    assert_eq!(v.checked_at, ts("2026-03-20T00:05:00Z"));
    assert!(v.warnings.contains(&Warning::ClockSuspect));
    assert_eq!(v.verdict, VerdictCode::Valid, "{v:?}");

    // Dated ten days ahead of the clock: "now" moves by the skew only, so the annotation has
    // not started, and the clock is suspect.
    let text = f.ministry.seal(&claims(Some((
        11,
        "2026-03-30T04:00:00Z",
        date(2026, 3, 30),
        date(2026, 5, 1),
    ))));
    let v = check(&f, &text, Now::System(ts("2026-03-20T00:00:00Z")));
    assert_eq!(v.checked_at, ts("2026-03-20T00:00:00Z") + ANNOTATION_CLOCK_SKEW);
    assert!(v.warnings.contains(&Warning::ClockSuspect));
    assert_eq!(v.verdict, VerdictCode::AnnotationNotYetValid, "{v:?}");
    // Taken as it is with an explicit time.
    assert_eq!(
        code_at(&f, &text, "2026-03-20T00:00:00Z"),
        VerdictCode::AnnotationNotYetValid
    );
}

/// The forged verdict of `text` at [`SOON`], and its reason, which names the rule.
fn forged_because(f: &Fixture, text: &str) -> String {
    let v = check(f, text, Now::Explicit(ts(SOON)));
    assert_eq!(v.verdict, VerdictCode::Forged, "{v:?}");
    assert!(
        v.certificate.is_none() && v.annotation.is_none(),
        "a forgery shows no one: {v:?}"
    );
    let reason = v.reason.expect("a reason");
    assert!(!reason.contains('\n'), "{reason}");
    reason
}

#[test]
fn a_seal_seals_only_what_the_seal_list_entitles_it_to() {
    let f = fixture();
    // The association's seal on a ministry qualification (一级建造师), and the ministry's on an
    // association's (房地产估价师): each genuine signatures, each outside its seal's scope.
    let mut constructor = annotated();
    constructor.qualification = "0501".into();
    constructor.level = certkiosk_formats::credential::Level::FirstClass;
    let reason = forged_because(&f, &f.association.seal(&constructor));
    assert!(reason.contains("0501") && reason.contains("scope"), "{reason}");
    let mut constructor_claimed_by_the_association = constructor.clone();
    constructor_claimed_by_the_association.issuing_body = "CIREA".into();
    let reason = forged_because(&f, &f.association.seal(&constructor_claimed_by_the_association));
    assert!(reason.contains("scope"), "{reason}");

    let mut appraiser = annotated();
    appraiser.qualification = "1101".into();
    appraiser.issuing_body = "CIREA".into();
    let reason = forged_because(&f, &f.ministry.seal(&appraiser));
    assert!(reason.contains("1101") && reason.contains("scope"), "{reason}");
    // Sealed by its own body's seal, it is genuine.
    assert_eq!(code_at(&f, &f.association.seal(&appraiser), SOON), VerdictCode::Valid);

    // Within the scope, but claiming another issuing body than the catalogue's.
    let mut other_body = annotated();
    other_body.issuing_body = "CAUP".into();
    let reason = forged_because(&f, &f.ministry.seal(&other_body));
    assert!(reason.contains("issuing body"), "{reason}");
}

#[test]
fn an_annotation_breaking_the_rules_is_forged_whatever_sealed_it() {
    let f = fixture();
    let with = |requested: &str, from: Date, until: Date, scenario: u16| {
        let mut c = claims(Some((5, requested, from, until)));
        if let Some(a) = &mut c.annotation {
            a.scenario = Scenario(scenario);
        }
        f.ministry.seal(&c)
    };
    let applied = "2026-03-01T01:00:00Z"; // 2026-03-01 in Shanghai
    let cases = [
        // 91 days counted inclusively; the 10-year annotation.
        (with(applied, date(2026, 3, 1), date(2026, 5, 30), 1), "91 days"),
        (
            with(applied, date(2026, 3, 1), date(2036, 2, 28), 1),
            "more than the 90",
        ),
        // Starts the day before it was applied for.
        (
            with(applied, date(2026, 2, 28), date(2026, 5, 28), 1),
            "before the day it was applied for",
        ),
        (
            with(applied, date(2026, 3, 1), date(2026, 5, 29), 7),
            "not a known scenario",
        ),
        // Starts 31 days after the application: a seal retired since would still grant days.
        (
            with(applied, date(2026, 4, 1), date(2026, 6, 29), 1),
            "more than 30 days after",
        ),
        // Applied for before the e-certificate (2023-06-10) existed.
        (
            with("2023-06-01T01:00:00Z", date(2023, 6, 1), date(2023, 8, 1), 1),
            "before the e-certificate",
        ),
    ];
    for (text, says) in cases {
        let reason = forged_because(&f, &text);
        assert!(reason.contains(says), "{says}: {reason}");
    }
    // The longest there is: 90 days, from the day of application; and the latest start.
    assert_eq!(
        code_at(&f, &with(applied, date(2026, 3, 1), date(2026, 5, 29), 1), SOON),
        VerdictCode::Valid
    );
    assert_eq!(
        code_at(
            &f,
            &with(applied, date(2026, 3, 31), date(2026, 6, 28), 1),
            "2026-03-31T04:00:00Z"
        ),
        VerdictCode::Valid
    );
}

#[test]
fn a_management_number_with_anything_but_letters_digits_and_hyphens_is_forged() {
    let f = fixture();
    for number in [
        format!("{REVOKED}\u{200B}"),
        format!("{REVOKED} "),
        "２０２３".to_owned(),
    ] {
        let mut c = annotated();
        c.management_number = number.clone();
        let reason = forged_because(&f, &f.ministry.seal(&c));
        assert!(reason.contains("no management number has"), "{number:?}: {reason}");
    }
}

#[test]
fn a_compromised_seal_vouches_for_nothing_sealed_from_its_date() {
    let f = fixture();
    // Applied for on 2026-01-31: before the compromise, genuine.
    let before = claims(Some((6, "2026-01-31T02:00:00Z", date(2026, 1, 31), date(2026, 4, 30))));
    assert_eq!(code_at(&f, &f.compromised.seal(&before), SOON), VerdictCode::Valid);
    // On the day of the compromise, and after it.
    for requested in ["2026-02-01T02:00:00Z", "2026-03-01T01:00:00Z"] {
        let day = calendar::date_in_china(ts(requested));
        let after = claims(Some((7, requested, day, date(2026, 4, 30))));
        let reason = forged_because(&f, &f.compromised.seal(&after));
        assert!(
            reason.contains("compromised") && reason.contains("2026-02-01"),
            "{reason}"
        );
    }
}

#[test]
fn an_unknown_seal_is_forged_only_when_the_data_is_fresh() {
    let f = fixture();
    let rogue = SealSigner::new(SigningKey::from_bytes(&[9; 32]));
    let text = rogue.seal(&annotated());
    // Fresh data knows every seal in service: a seal it does not know is a forgery, and the
    // verdict says how old the data is.
    let v = check(&f, &text, Now::Explicit(ts(SOON)));
    assert_eq!(
        (v.verdict, v.freshness),
        (VerdictCode::Forged, Freshness::Fresh),
        "{v:?}"
    );
    assert_eq!(v.status_time, Some(ts(AS_OF)));
    // Three days later the seal may be one put in service since: cannot verify, sync first.
    let v = check(&f, &text, Now::Explicit(ts("2026-03-13T06:00:00Z")));
    assert_eq!(
        (v.verdict, v.freshness),
        (VerdictCode::StatusUnavailable, Freshness::Aging),
        "{v:?}"
    );
    let reason = v.reason.clone().expect("reason");
    assert!(reason.contains("sync") && reason.contains("2026-03-10"), "{reason}");
    assert!(v.certificate.is_none(), "nothing of the claims is shown: {v:?}");
    // A known seal's bad signature is forged however old the data.
    let v = check(
        &f,
        &flip_last_signature_byte(&f.ministry.seal(&annotated())),
        Now::Explicit(ts("2026-03-13T06:00:00Z")),
    );
    assert_eq!(v.verdict, VerdictCode::Forged, "{v:?}");
}

/// The credential with the last byte of its signature changed.
fn flip_last_signature_byte(text: &str) -> String {
    let raw = base45::decode(&text[PREFIX.len()..]).expect("base45");
    let mut cose = Vec::new();
    flate2::read::ZlibDecoder::new(raw.as_slice())
        .read_to_end(&mut cose)
        .expect("inflate");
    // The signature is the last 64 bytes of the COSE_Sign1 array.
    let last = cose.len() - 1;
    cose[last] ^= 1;
    zlib_base45(&cose)
}

#[test]
fn an_unreadable_code_shows_the_age_of_the_data() {
    let f = fixture();
    let v = check(&f, "https://example.org/certificate?id=1", Now::Explicit(ts(SOON)));
    assert_eq!(v.verdict, VerdictCode::Unreadable);
    assert_eq!(
        (v.status_as_of, v.freshness),
        (Some(ts(AS_OF)), Freshness::Fresh),
        "{v:?}"
    );
}
