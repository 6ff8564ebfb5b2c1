//! The attack on the published lookup index (issue 17). A mirror holds the index sealed to the
//! fleet and cannot read a row (checked first). What follows is the attacker who holds an
//! enrolled appliance's key (a stolen kiosk, an insider): with a dictionary of common names it
//! tries to label rows, that is, to find whose certificate a row is. The attack is real — with the right name and masked ID among its
//! guesses it finds the row — and its cost is measured here, per guess, beside the cost of the
//! same attack on the index as it was before (PBKDF2-HMAC-SHA256, 160 rounds, over the name
//! alone), which named 9 of 16 demo rows in 82 s. The design asks that labelling one row with a
//! name dictionary cost at least 10⁶ times as much; docs/decisions/0020-lookup-binding.md has
//! the figures for a GPU.

use certkiosk_formats::fleet;
use certkiosk_formats::lookup::{LookupEntry, LookupFile, Salt, holder_digest};
use certkiosk_tests::{ok, run};
use std::time::Instant;

/// 100 common surnames and 67 given-name characters: the dictionary the red team used
/// (100 × (67 + 67²) = 455 600 names).
const SURNAMES: &str = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤";
const GIVEN: &str = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华文辉建国玉梅红玲鹏飞林波宇浩然欣怡子轩梓涵一诺依晨雨萱思远博俊志春燕雪琳颖慧敬佳嘉瑞";

fn dictionary_size() -> u64 {
    let (s, g) = (SURNAMES.chars().count() as u64, GIVEN.chars().count() as u64);
    assert_eq!((s, g), (100, 67), "the dictionary the red team used");
    s * (g + g * g)
}

/// Masked ID numbers an attacker must try for a holder whose region it knows: the 3 digits of
/// the sequence number and the check character (10³ × 11). Not knowing the region multiplies
/// this by about 340.
const MASKED_FORMS_KNOWN_REGION: u64 = 1_000 * 11;

/// PBKDF2-HMAC-SHA256 with 160 rounds, 8 bytes: the old name digest's work, for the anchor
/// (aws-lc's, native code: as fast as the old index's own in a release build).
fn old_digest(password: &[u8], salt: &[u8]) -> [u8; 8] {
    let mut out = [0; 8];
    let rounds = std::num::NonZeroU32::new(160).expect("160");
    aws_lc_rs::pbkdf2::derive(aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA256, rounds, salt, password, &mut out);
    out
}

#[test]
fn labelling_a_published_row_with_a_name_dictionary_costs_a_million_times_what_it_did() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    ok(run("certsync", &["demo", "w"], dir));
    // What any mirror serves: the published full lookup file, sealed to the fleet — not even
    // its header reads.
    let targets = dir.join("w/repo/targets");
    let published = std::fs::read_dir(&targets)
        .expect("targets")
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("lookup."))
        })
        .expect("a published lookup file");
    let sealed = std::fs::read(&published).expect("read");
    assert!(fleet::is_sealed(&sealed));
    assert!(LookupFile::open(&published).is_err(), "a mirror reads no row");
    // An enrolled appliance's key (the demo kiosk's) opens it: its header and its rows.
    let key = certkiosk_tests::granted_key(&targets, 1, &dir.join("w/fleet.key"));
    let clear = dir.join("lookup.clear.jsonl.gz");
    let out = std::fs::File::create(&clear).expect("create");
    fleet::open(&[key], sealed.as_slice(), out).expect("opens");
    let file = LookupFile::open(&clear).expect("lookup file");
    let (params, salts) = file.params().expect("params");
    let kdf = params.cost();
    let mut reader = file.reader().expect("rows");
    let mut rows: Vec<LookupEntry> = Vec::new();
    while let Some(row) = reader.next_record().expect("row") {
        rows.push(row);
    }
    assert!(rows.len() >= 10, "{}", rows.len());
    let salt_of = |row: &LookupEntry| -> Salt {
        salts
            .iter()
            .find(|(v, _)| *v == row.salt_version)
            .map(|(_, s)| *s)
            .expect("the row's salt is listed")
    };

    // The attack works when its guesses hold the truth: the demo's 王䶮 is found among a few
    // hundred guesses that include her name and masked ID number (the authority's own record
    // says what they are; the attacker would not know).
    let authority = rusqlite::Connection::open(dir.join("w/authority.sqlite")).expect("authority");
    let (number, masked): (String, String) = authority
        .query_row(
            "SELECT management_number, masked_id FROM certificates WHERE holder_name = '王䶮'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("王䶮");
    let target = rows.iter().find(|r| r.management_number == number).expect("her row");
    let names: Vec<String> = SURNAMES
        .chars()
        .take(20)
        .flat_map(|s| GIVEN.chars().take(10).map(move |g| format!("{s}{g}")))
        .chain(["王䶮".to_owned()])
        .collect();
    let forms = [masked.replace(|c: char| c.is_ascii_digit(), "0"), masked.clone()];
    let started = Instant::now();
    let mut guesses = 0u64;
    let mut found = None;
    'search: for name in &names {
        for form in &forms {
            guesses += 1;
            if holder_digest(kdf, &salt_of(target), &target.management_number, name, form) == target.digest {
                found = Some(name.clone());
                break 'search;
            }
        }
    }
    let per_guess = started.elapsed().as_secs_f64() / guesses as f64;
    assert_eq!(
        found.as_deref(),
        Some("王䶮"),
        "the attack is real: with the truth among its guesses it names the row"
    );

    // The same attack on the old index: one PBKDF2 per name, the masked ID not involved.
    let started = Instant::now();
    let old_guesses = 20_000u64;
    for i in 0..old_guesses {
        std::hint::black_box(old_digest(format!("王{i}").as_bytes(), number.as_bytes()));
    }
    let old_per_guess = started.elapsed().as_secs_f64() / old_guesses as f64;

    let names = dictionary_size() as f64;
    let old_row = names * old_per_guess;
    let new_row = names * MASKED_FORMS_KNOWN_REGION as f64 * per_guess;
    let factor = new_row / old_row;
    println!(
        "dictionary of {names} names; one guess: {:.1} ms now (Argon2id {} KiB, {} passes), {:.1} µs before; \
         one row: {:.0} CPU-s before, {:.2e} CPU-s now ({:.1} CPU-years), {factor:.1e} × — the whole index of {} rows: {:.1e} CPU-years",
        per_guess * 1e3,
        kdf.memory_kib,
        kdf.passes,
        old_per_guess * 1e6,
        old_row,
        new_row,
        new_row / 3.15e7,
        rows.len(),
        new_row * rows.len() as f64 / 3.15e7
    );
    assert!(factor >= 1e6, "labelling a row is only {factor:.1e} times dearer");
    // Each guess is one row's: the number is in the salt, so no guess serves two rows.
    let other = rows
        .iter()
        .find(|r| r.management_number != number)
        .expect("another row");
    assert_ne!(
        holder_digest(kdf, &salt_of(other), &other.management_number, "王䶮", &masked),
        other.digest
    );
}
