//! Payload → verdict against a bare Ed25519 verify of the same signature, in the same run
//! (docs/design.md §6: median ≤ 1.5 ×). Run with `scripts/bench` (release profile).
//!
//! Both loops are interleaved in rounds so that frequency scaling and other load hit both
//! alike; each figure is the median over all rounds of the per-call time in a round.

use certkiosk_formats::credential::{Annotation, Claims, Envelope};
use certkiosk_formats::status::{Dataset, Revocation};
use certkiosk_formats::trust::{SealKey, SealKind};
use certkiosk_store::Store;
use certkiosk_sync::writer::{MetadataVersions, Writer};
use certkiosk_verify::{Now, Policy, VerdictCode, verify};
use certsync::authority::{default_catalogue, seal_scope};
use certsync::seal::SealSigner;
use coset::CborSerializable;
use ed25519_dalek::{Signature, SigningKey};
use jiff::Timestamp;
use jiff::civil::date;
use std::hint::black_box;
use std::io::Read;
use std::time::Instant;

const ROUNDS: usize = 200;
const PER_ROUND: usize = 50;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let signer = SealSigner::new(SigningKey::from_bytes(&[1; 32]));
    let now = Timestamp::now();
    // 200 000 revocations, as in docs/design.md §6's national figure, so lookups hit a real-sized index.
    let revocations = (0..200_000)
        .map(|i| Revocation {
            management_number: format!("2020030100{i:06}"),
            revoked_at: now,
            reason_code: "other".into(),
            reason: "测试".into(),
            revoked_by: "MOHRSS".into(),
        })
        .collect();
    let dataset = Dataset {
        version: 1,
        as_of: now,
        seals: vec![SealKey {
            key_id: signer.key_id,
            public_key: signer.verifying_key(),
            owner: "MOHRSS".into(),
            kind: SealKind::Ministry,
            valid_from: date(2021, 12, 17),
            valid_until: date(2031, 12, 16),
            retired_at: None,
            scope: seal_scope(
                &default_catalogue().qualifications,
                "MOHRSS",
                SealKind::Ministry,
                (date(2021, 12, 17), date(2031, 12, 16)),
            ),
            compromised_from: None,
        }],
        catalogue: default_catalogue(),
        revocations,
        cancellations: Vec::new(),
    };
    let path = dir.path().join("store.sqlite");
    Writer::open(&path)
        .expect("store")
        .apply(
            &dataset,
            MetadataVersions {
                root: 1,
                targets: 1,
                snapshot: 1,
            },
            now,
        )
        .expect("apply");
    let store = Store::open(&path).expect("read-only store");
    let today = certkiosk_formats::calendar::date_in_china(now);
    let mut claims = Claims::example();
    claims.annotation = Some(Annotation {
        requested_at: now,
        valid_from: today,
        valid_until: today.checked_add(jiff::Span::new().days(60)).expect("date"),
        ..claims.annotation.expect("the example is annotated")
    });
    let text = signer.seal(&claims);

    // The anchor: the same signature over the same Sig_structure bytes, ed25519-dalek alone.
    let body = base45::decode(&text[4..]).expect("b45");
    let mut cose = Vec::new();
    flate2::read::ZlibDecoder::new(body.as_slice())
        .read_to_end(&mut cose)
        .expect("inflate");
    let sign1 = coset::CoseSign1::from_slice(&cose).expect("cose");
    let tbs = sign1.tbs_data(b"");
    let signature = Signature::from_slice(&sign1.signature).expect("sig");
    let key = signer.verifying_key();
    assert!(Envelope::parse(&text).is_ok());

    let policy = Policy::default();
    let reader = store.reader().expect("reader");
    let v = verify(&text, &reader, Now::System(now), &policy);
    assert_eq!(v.verdict, VerdictCode::Valid, "{v:?}");

    let (mut bare, mut bare_strict, mut full) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let t = Instant::now();
        for _ in 0..PER_ROUND {
            black_box(key.verify_strict(black_box(&tbs), black_box(&signature))).expect("verify");
        }
        bare_strict.push(t.elapsed().as_secs_f64() * 1e6 / PER_ROUND as f64);
        let t = Instant::now();
        for _ in 0..PER_ROUND {
            use ed25519_dalek::Verifier;
            black_box(key.verify(black_box(&tbs), black_box(&signature))).expect("verify");
        }
        bare.push(t.elapsed().as_secs_f64() * 1e6 / PER_ROUND as f64);
        let t = Instant::now();
        for _ in 0..PER_ROUND {
            black_box(verify(black_box(&text), &reader, Now::System(now), &policy));
        }
        full.push(t.elapsed().as_secs_f64() * 1e6 / PER_ROUND as f64);
    }
    let (bare, bare_strict, full) = (median(bare), median(bare_strict), median(full));
    println!("| measure | median µs/call |");
    println!("|---|---|");
    println!("| bare ed25519-dalek `verify_strict` (anchor) | {bare_strict:.1} |");
    println!("| bare ed25519-dalek `verify` | {bare:.1} |");
    println!("| payload → verdict (`certkiosk_verify::verify`, 200 k revocations held) | {full:.1} |");
    println!(
        "| **ratio** payload → verdict / anchor (budget ≤ 1.5) | **{:.2}** |",
        full / bare_strict
    );
    println!();
    println!(
        "credential: {} characters, {} bytes before Base45; {ROUNDS} rounds × {PER_ROUND} calls",
        text.len(),
        body.len()
    );
}
