use super::*;

fn sealed(key: &ContentKey, plain: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    seal(key, plain, &mut out).expect("seal");
    out
}

fn opened(keys: &[ContentKey], sealed: &[u8]) -> Result<Vec<u8>, FleetError> {
    let mut out = Vec::new();
    open(keys, sealed, &mut out).map(|_| out)
}

#[test]
fn files_of_every_size_round_the_chunk_boundaries_open_to_what_was_sealed() {
    let key = ContentKey::generate();
    for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 17] {
        let plain: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
        let s = sealed(&key, &plain);
        assert!(is_sealed(&s));
        assert_eq!(s.len(), HEADER_BYTES + plain.len() + TAG_BYTES * len.div_ceil(CHUNK).max(1), "{len}");
        assert_eq!(opened(std::slice::from_ref(&key), &s).expect("open"), plain, "{len}");
        // The plaintext does not show through.
        if len > 64 {
            assert!(!s.windows(32).any(|w| w == &plain[..32]));
        }
    }
}

#[test]
fn a_flipped_bit_a_cut_or_a_wrong_key_never_opens() {
    let key = ContentKey::generate();
    let plain: Vec<u8> = (0..2 * CHUNK + 100).map(|i| i as u8).collect();
    let s = sealed(&key, &plain);
    for at in [0, MAGIC.len() + 1, HEADER_BYTES - 1, HEADER_BYTES + 5, HEADER_BYTES + CHUNK + 3, s.len() - 1] {
        let mut bad = s.clone();
        bad[at] ^= 0x40;
        assert!(opened(std::slice::from_ref(&key), &bad).is_err(), "bit flipped at {at}");
    }
    // Cut at a chunk boundary (whole chunks, no last one), mid-chunk, and to the header.
    for len in [HEADER_BYTES + CHUNK + TAG_BYTES, HEADER_BYTES + 2 * (CHUNK + TAG_BYTES), s.len() - 1, HEADER_BYTES] {
        let r = opened(std::slice::from_ref(&key), &s[..len]);
        assert!(matches!(r, Err(FleetError::Truncated | FleetError::Damaged(_))), "cut to {len}: {r:?}");
    }
    // Two chunks swapped.
    let mut swapped = s[..HEADER_BYTES].to_vec();
    let c = CHUNK + TAG_BYTES;
    swapped.extend_from_slice(&s[HEADER_BYTES + c..HEADER_BYTES + 2 * c]);
    swapped.extend_from_slice(&s[HEADER_BYTES..HEADER_BYTES + c]);
    swapped.extend_from_slice(&s[HEADER_BYTES + 2 * c..]);
    assert!(opened(std::slice::from_ref(&key), &swapped).is_err());
    let other = ContentKey::generate();
    let r = opened(std::slice::from_ref(&other), &s);
    assert!(matches!(&r, Err(FleetError::UnknownKey(id)) if *id == key.id().to_string()), "{r:?}");
    assert!(matches!(opened(&[other, key.clone()], &s), Ok(p) if p == plain));
    assert!(matches!(opened(&[key], b"\x1f\x8b\x08 a gzip file"), Err(FleetError::NotSealed)));
}

#[test]
fn a_grant_opens_only_with_its_appliances_key_and_only_as_written() {
    let key = ContentKey::generate();
    let (a, b) = (ApplianceKey::generate(), ApplianceKey::generate());
    let grant = Grant::wrap(&key, &a.public_hex()).expect("wrap");
    assert_eq!(grant.key_id, key.id().to_string());
    assert_eq!(grant.unwrap(&a).expect("unwrap"), key);
    assert!(matches!(grant.unwrap(&b), Err(FleetError::BadGrant)));
    // Moved to another appliance's line, or renamed to another key id: refused.
    let moved = Grant {
        appliance: b.public_hex(),
        ..grant.clone()
    };
    assert!(moved.unwrap(&b).is_err());
    let renamed = Grant {
        key_id: ContentKey::generate().id().to_string(),
        ..grant.clone()
    };
    assert!(renamed.unwrap(&a).is_err());
    let mut flipped = grant.clone();
    flipped.sealed.replace_range(0..1, if flipped.sealed.starts_with('0') { "1" } else { "0" });
    assert!(flipped.unwrap(&a).is_err());
    assert!(Grant::wrap(&key, "not hex").is_err());
}

#[test]
fn a_key_file_round_trips_and_anything_else_is_refused_without_being_repeated() {
    let k = ApplianceKey::generate();
    let text = k.to_file_text();
    let back = ApplianceKey::from_file_text(&text).expect("parse");
    assert_eq!(back.public_hex(), k.public_hex());
    assert_eq!(k.public_hex().len(), 64);
    assert!(!format!("{k:?}").contains(&text.lines().nth(1).expect("key line")[..16]));
    let secret = "certkiosk fleet key v1\nzz-secret-zz\n";
    let e = ApplianceKey::from_file_text(secret).expect_err("not hex");
    assert!(!e.contains("zz-secret-zz"), "{e}");
    assert!(ApplianceKey::from_file_text("trusted_root = \"x\"\n").is_err());
    assert!(ApplianceKey::from_file_text(&format!("{text}more\n")).is_err());
}
