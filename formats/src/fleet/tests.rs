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
    for len in [
        0,
        1,
        PAD - 9,
        PAD - 8,
        PAD - 7,
        CHUNK - 9,
        CHUNK - 1,
        CHUNK,
        CHUNK + 1,
        2 * CHUNK,
        3 * CHUNK + 17,
    ] {
        let plain: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
        let s = sealed(&key, &plain);
        assert!(is_sealed(&s));
        let padded = (len + PAD_LEN_BYTES).div_ceil(PAD) * PAD;
        assert_eq!(
            s.len(),
            HEADER_BYTES + padded + TAG_BYTES * padded.div_ceil(CHUNK),
            "{len}"
        );
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
    for at in [
        0,
        MAGIC.len() + 1,
        HEADER_BYTES - 1,
        HEADER_BYTES + 5,
        HEADER_BYTES + CHUNK + 3,
        s.len() - 1,
    ] {
        let mut bad = s.clone();
        bad[at] ^= 0x40;
        assert!(opened(std::slice::from_ref(&key), &bad).is_err(), "bit flipped at {at}");
    }
    // Cut at a chunk boundary (whole chunks, no last one), mid-chunk, and to the header.
    for len in [
        HEADER_BYTES + CHUNK + TAG_BYTES,
        HEADER_BYTES + 2 * (CHUNK + TAG_BYTES),
        s.len() - 1,
        HEADER_BYTES,
    ] {
        let r = opened(std::slice::from_ref(&key), &s[..len]);
        assert!(
            matches!(r, Err(FleetError::Truncated | FleetError::Damaged(_))),
            "cut to {len}: {r:?}"
        );
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
    assert!(
        matches!(&r, Err(FleetError::UnknownKey(id)) if *id == key.id().to_string()),
        "{r:?}"
    );
    assert!(matches!(opened(&[other, key.clone()], &s), Ok(p) if p == plain));
    assert!(matches!(
        opened(&[key], b"\x1f\x8b\x08 a gzip file"),
        Err(FleetError::NotSealed)
    ));
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
    flipped
        .sealed
        .replace_range(0..1, if flipped.sealed.starts_with('0') { "1" } else { "0" });
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

/// An envelope of `plain` exactly as given (no padding added), to forge what a sealer never
/// writes.
fn sealed_raw(key: &ContentKey, plain: &[u8]) -> Vec<u8> {
    let cipher = XChaCha20Poly1305::new(&key.key.into());
    let prefix = [7u8; PREFIX_BYTES];
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&key.id().0);
    out.extend_from_slice(&prefix);
    let header = out.clone();
    let chunks: Vec<&[u8]> = if plain.is_empty() {
        vec![&[]]
    } else {
        plain.chunks(CHUNK).collect()
    };
    for (i, c) in chunks.iter().enumerate() {
        let mut buf = c.to_vec();
        let last = i + 1 == chunks.len();
        let tag = cipher
            .encrypt_inout_detached(&nonce(&prefix, i as u32, last), &header, buf.as_mut_slice().into())
            .expect("seal");
        out.extend_from_slice(&buf);
        out.extend_from_slice(&tag);
    }
    out
}

#[test]
fn padding_that_a_sealer_would_not_write_is_refused() {
    let key = ContentKey::generate();
    let keys = std::slice::from_ref(&key);
    let with_count = |mut body: Vec<u8>, zeros: u64| {
        body.extend_from_slice(&zeros.to_be_bytes());
        body
    };
    // Sound: 4088 bytes of data and no zeros, or 100 bytes and 3988 zeros.
    let data: Vec<u8> = (0..PAD - 8).map(|i| (i % 200 + 1) as u8).collect();
    assert_eq!(
        opened(keys, &sealed_raw(&key, &with_count(data.clone(), 0))).expect("sound"),
        data
    );
    let mut short = vec![9u8; 100];
    short.resize(PAD - 8, 0);
    assert_eq!(
        opened(keys, &sealed_raw(&key, &with_count(short, 3988))).expect("sound"),
        vec![9u8; 100]
    );
    // A count beyond the bytes, a non-zero byte among the zeros, a size not a multiple of PAD,
    // nothing at all.
    let too_many = with_count(vec![0u8; PAD - 8], PAD as u64);
    let mut dirty = vec![0u8; PAD - 8];
    dirty[PAD - 9] = 1;
    let dirty = with_count(dirty, 10);
    let ragged = with_count(vec![0u8; 10], 0);
    for (what, plain) in [
        ("count", too_many),
        ("dirty", dirty),
        ("ragged", ragged),
        ("empty", Vec::new()),
    ] {
        let r = opened(keys, &sealed_raw(&key, &plain));
        assert!(matches!(r, Err(FleetError::BadPadding)), "{what}: {r:?}");
    }
}

#[test]
fn only_the_canonical_spelling_of_an_appliance_key_is_enrolled() {
    let key = ContentKey::generate();
    let a = ApplianceKey::generate().public_hex();
    assert!(Grant::wrap(&key, &a).is_ok());
    assert!(
        Grant::wrap(&key, &a.to_ascii_uppercase()).is_ok(),
        "case is not a second key"
    );
    // The same point with the top bit set: X25519 ignores it, so it would be a twin.
    let mut twin = crate::unhex::<32>(&a).expect("hex");
    twin[31] |= 0x80;
    assert!(canonical_public_key(&hex(&twin)).is_err());
    assert!(Grant::wrap(&key, &hex(&twin)).is_err());
    // u ≥ p = 2^255 - 19.
    let mut p = [0xffu8; 32];
    p[0] = 0xed;
    p[31] = 0x7f;
    assert!(canonical_public_key(&hex(&p)).is_err());
    p[0] = 0xec;
    assert!(canonical_public_key(&hex(&p)).is_ok(), "p - 1 is canonical");
}
