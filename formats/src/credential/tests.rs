use super::*;
use ed25519_dalek::{Signer, SigningKey};
use std::io::Write;

/// A seal key for these tests (the authority's signer lives in its own crate).
pub(crate) struct TestSigner {
    pub key_id: KeyId,
    key: SigningKey,
}

impl TestSigner {
    pub fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    pub fn seal(&self, claims: &Claims) -> String {
        self.seal_payload(encode_claims(claims))
    }

    pub fn seal_payload(&self, payload: Vec<u8>) -> String {
        seal_with(self.key_id, payload, |tbs| self.key.sign(tbs).to_bytes().to_vec())
    }
}

/// The fixed seal key of the test vector in docs/formats.md.
pub(crate) fn vector_signer() -> TestSigner {
    let key = SigningKey::from_bytes(&[0x2a; 32]);
    TestSigner {
        key_id: KeyId::of(&key.verifying_key()),
        key,
    }
}

/// The fixed claims of the test vector in docs/formats.md.
pub(crate) fn vector_claims() -> Claims {
    let c = Claims::example();
    assert_eq!(
        c.annotation.as_ref().map(|a| a.requested_at),
        Some("2026-11-25T02:00:00Z".parse().expect("ts"))
    );
    c
}

fn open(text: &str) -> Claims {
    let env = Envelope::parse(text).expect("parse");
    env.verify(&vector_signer().verifying_key()).expect("verify");
    env.claims().expect("claims")
}

/// The vector as docs/formats.md states it, between its markers.
fn documented_vector() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/formats.md");
    let doc = std::fs::read_to_string(&path).expect("docs/formats.md is readable");
    let start = doc
        .find("<!-- vector:begin -->")
        .expect("docs/formats.md has the vector's begin marker");
    let end = doc
        .find("<!-- vector:end -->")
        .expect("docs/formats.md has the vector's end marker");
    doc[start..end]
        .lines()
        .filter(|l| l.starts_with(PREFIX))
        .collect::<Vec<_>>()
        .concat()
}

#[test]
fn the_documented_test_vector_holds_in_both_directions() {
    let sealed = vector_signer().seal(&vector_claims());
    let documented = documented_vector();
    assert_eq!(
        sealed, documented,
        "sealing the fixed claims must give the documented string"
    );
    assert_eq!(
        open(&documented),
        vector_claims(),
        "reading the documented string must give the fixed claims"
    );
}

#[test]
fn claims_round_trip_with_and_without_optional_parts() {
    let mut c = vector_claims();
    assert_eq!(open(&vector_signer().seal(&c)), c);
    c.annotation = None;
    c.specialty = None;
    c.certificate_number = Some("0012345678".into());
    assert_eq!(open(&vector_signer().seal(&c)), c);
}

fn qr_version(text: &str) -> i16 {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M).expect("fits a QR");
    match code.version() {
        qrcode::Version::Normal(v) => v,
        qrcode::Version::Micro(_) => 0,
    }
}

#[test]
fn a_typical_credential_fits_220_bytes_and_qr_version_12() {
    let mut c = vector_claims();
    c.holder_name = "欧阳娜".into();
    c.certificate_number = Some("00310000012".into());
    let text = vector_signer().seal(&c);
    let env = Envelope::parse(&text).expect("parse");
    assert!(env.compressed_len <= 220, "{} bytes before Base45", env.compressed_len);
    let v = qr_version(&text);
    assert!(v <= 12, "QR version {v} at ECC M");
}

#[test]
fn a_fifty_character_ext_b_name_fits_qr_version_16() {
    let mut c = vector_claims();
    c.certificate_number = Some("00310000012".into());
    c.holder_name = ('\u{20000}'..).take(50).collect();
    assert_eq!(c.holder_name.chars().count(), 50);
    let text = vector_signer().seal(&c);
    assert_eq!(open(&text).holder_name, c.holder_name);
    let v = qr_version(&text);
    assert!(v <= 16, "QR version {v} at ECC M");
}

#[test]
fn names_keep_their_exact_code_points() {
    // U+00B7 and its look-alikes, a decomposable character and CJK compatibility ideographs
    // must come back exactly as sealed: never normalised.
    for name in [
        "阿依古丽·买买提",
        "阿依古丽•买买提",
        "e\u{301}",
        "\u{F900}\u{2F800}",
        "刘𰻝𰻝",
    ] {
        let mut c = vector_claims();
        c.holder_name = name.into();
        assert_eq!(open(&vector_signer().seal(&c)).holder_name, name);
    }
}

fn zlib_base45(bytes: &[u8]) -> String {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(bytes).expect("zlib");
    format!("{PREFIX}{}", base45::encode(z.finish().expect("zlib")))
}

#[test]
fn envelope_errors_are_typed() {
    let long = "A".repeat(10 << 20);
    type Case = (&'static str, String, fn(&ReadError) -> bool);
    let cases: Vec<Case> = vec![
        ("empty", String::new(), |e| matches!(e, ReadError::Empty)),
        ("blank", " \n\t".into(), |e| matches!(e, ReadError::Empty)),
        ("10 MB", long, |e| matches!(e, ReadError::TooLong { .. })),
        ("no prefix", "HC1:6BFOXN".into(), |e| matches!(e, ReadError::NoPrefix)),
        ("lower-case prefix", "ck1:6BFOXN".into(), |e| {
            matches!(e, ReadError::NoPrefix)
        }),
        ("bad base45", "CK1:abc".into(), |e| matches!(e, ReadError::Base45(_))),
        ("not zlib", format!("{PREFIX}{}", base45::encode(b"plain bytes")), |e| {
            matches!(e, ReadError::Inflate(_))
        }),
        ("zlib bomb", zlib_base45(&vec![0u8; 2 << 20]), |e| {
            matches!(e, ReadError::Inflated { .. })
        }),
        ("not COSE", zlib_base45(b"\xa1\x01\x02"), |e| {
            matches!(e, ReadError::Cose(_))
        }),
        (
            "trailing after COSE",
            {
                let env = vector_signer().seal(&vector_claims());
                let body = base45::decode(&env[PREFIX.len()..]).expect("b45");
                let mut cose = Vec::new();
                flate2::read::ZlibDecoder::new(body.as_slice())
                    .read_to_end(&mut cose)
                    .expect("inflate");
                cose.push(0);
                zlib_base45(&cose)
            },
            |e| matches!(e, ReadError::Cose(_)),
        ),
    ];
    for (what, text, ok) in cases {
        let err = Envelope::parse(&text).expect_err(what);
        assert!(ok(&err), "{what}: {err}");
        assert!(!err.to_string().contains('\n'), "{what}: one line");
    }
}

#[test]
fn claims_errors_are_typed() {
    let signer = vector_signer();
    let good = encode_claims(&vector_claims());
    let map_with = |extra: (i64, Value)| {
        let mut v: Value = ciborium::de::from_reader(good.as_slice()).expect("cbor");
        if let Value::Map(m) = &mut v {
            m.retain(|(k, _)| k.as_integer().map(i128::from) != Some(i128::from(extra.0)));
            m.push((Value::Integer(extra.0.into()), extra.1));
        }
        let mut out = Vec::new();
        ciborium::ser::into_writer(&v, &mut out).expect("cbor");
        out
    };
    let mut trailing = good.clone();
    trailing.push(0xf6);
    let mut duplicate = good.clone();
    duplicate[0] += 1; // one more map entry …
    duplicate.extend_from_slice(&[0x01, 0x61, b'x']); // … that repeats key 1
    type Case = (&'static str, Vec<u8>, fn(&ClaimsError) -> bool);
    let cases: Vec<Case> = vec![
        ("truncated", good[..good.len() / 2].to_vec(), |e| {
            matches!(e, ClaimsError::Cbor(_))
        }),
        ("trailing", trailing, |e| matches!(e, ClaimsError::Trailing)),
        ("array", vec![0x80], |e| matches!(e, ClaimsError::NotAMap)),
        ("unknown key", map_with((99, Value::Null)), |e| {
            matches!(e, ClaimsError::UnknownKey(99))
        }),
        ("duplicate", duplicate, |e| matches!(e, ClaimsError::Duplicate(1))),
        ("name as integer", map_with((key::HOLDER_NAME, 7.into())), |e| {
            matches!(e, ClaimsError::WrongType(_))
        }),
        (
            "oversize name",
            map_with((key::HOLDER_NAME, "名".repeat(51).into())),
            |e| matches!(e, ClaimsError::TooLong { .. }),
        ),
        ("empty name", map_with((key::HOLDER_NAME, " ".into())), |e| {
            matches!(e, ClaimsError::EmptyText(_))
        }),
        ("level 99", map_with((key::LEVEL, 99.into())), |e| {
            matches!(e, ClaimsError::OutOfRange(_))
        }),
        ("date far away", map_with((key::APPROVED_ON, i64::MAX.into())), |e| {
            matches!(e, ClaimsError::OutOfRange(_))
        }),
        (
            "partial annotation",
            map_with((key::ANNOTATION_VALID_UNTIL, Value::Null)),
            |e| matches!(e, ClaimsError::WrongType(_)),
        ),
        (
            "reversed annotation",
            map_with((key::ANNOTATION_VALID_UNTIL, 0.into())),
            |e| matches!(e, ClaimsError::AnnotationReversed),
        ),
    ];
    for (what, payload, ok) in cases {
        let text = signer.seal_payload(payload);
        let env = Envelope::parse(&text).expect(what);
        env.verify(&signer.verifying_key()).expect("genuinely sealed");
        let err = env.claims().expect_err(what);
        assert!(ok(&err), "{what}: {err}");
    }
    let mut no_until: Value = ciborium::de::from_reader(good.as_slice()).expect("cbor");
    if let Value::Map(m) = &mut no_until {
        m.retain(|(k, _)| k.as_integer().map(i128::from) != Some(i128::from(key::ANNOTATION_VALID_UNTIL)));
    }
    let mut bytes = Vec::new();
    ciborium::ser::into_writer(&no_until, &mut bytes).expect("cbor");
    assert_eq!(decode_claims(&bytes), Err(ClaimsError::PartialAnnotation));
}

#[test]
fn seal_errors_are_typed() {
    let text = vector_signer().seal(&vector_claims());
    let env = Envelope::parse(&text).expect("parse");
    let other = SigningKey::from_bytes(&[1; 32]).verifying_key();
    assert!(matches!(env.verify(&other), Err(SealError::BadSignature(_))));
    assert_eq!(env.key_id(), Ok(vector_signer().key_id));
}
