//! The index as the kiosk's picker uses it, checked on the demo world's rare names (research
//! note A.2) and on the rules the crate docs state.

use hanzi::{
    Block, CodeError, PinyinQuery, Radical, block, by_pinyin, by_radical, parse_code_point, radicals, readings,
    residuals, syllables_with_prefix, total_strokes,
};

const YAN: char = '\u{4DAE}'; // 䶮, Ext A
const XIAN: char = '\u{2B36F}'; // 𫍯, Ext C
const XIAO: char = '\u{217E3}'; // 𡟣, Ext B
const DI: char = '\u{2CC56}'; // 𬱖, Ext E
const BIANG: char = '\u{30EDD}'; // 𰻝, Ext G
const MOU: char = '\u{201D4}'; // 𠇔, Ext B, no Mandarin reading

/// The unified ideographs inside the CJK Compatibility Ideographs block (Unicode's own list,
/// stable since 3.2).
const UNIFIED_AMONG_COMPATIBILITY: [u32; 12] = [
    0xFA0E, 0xFA0F, 0xFA11, 0xFA13, 0xFA14, 0xFA1F, 0xFA21, 0xFA23, 0xFA24, 0xFA27, 0xFA28, 0xFA29,
];

fn query(syllable: &str) -> PinyinQuery<'_> {
    PinyinQuery {
        syllable,
        ..Default::default()
    }
}

fn position(candidates: &[char], c: char) -> Option<usize> {
    candidates.iter().position(|&x| x == c)
}

fn radical(number: u8, simplified: bool) -> Radical {
    let found = radicals()
        .iter()
        .find(|r| r.number == number && r.simplified == simplified);
    *found.unwrap_or_else(|| panic!("no radical {number} (simplified: {simplified})"))
}

/// Every character the radical picker offers, with its radical and residual.
fn all_by_radical() -> impl Iterator<Item = (Radical, i8, char)> {
    radicals().iter().flat_map(|&r| {
        residuals(r)
            .into_iter()
            .flat_map(move |residual| by_radical(r, residual).into_iter().map(move |c| (r, residual, c)))
    })
}

/// Every character the pinyin picker offers, with its syllable.
fn all_by_pinyin() -> impl Iterator<Item = (&'static str, char)> {
    syllables_with_prefix("")
        .into_iter()
        .flat_map(|s| by_pinyin(&query(s)).into_iter().map(move |c| (s, c)))
}

fn is_in_compatibility_blocks(c: char) -> bool {
    matches!(u32::from(c), 0xF900..=0xFAFF | 0x2F800..=0x2FA1F)
}

#[test]
fn yan_finds_the_rare_yan_and_its_filters_bring_it_forward() {
    let plain = by_pinyin(&query("yan"));
    assert!(plain.contains(&YAN));
    let yan3 = by_pinyin(&PinyinQuery {
        tone: Some(3),
        ..query("yan")
    });
    assert!(
        position(&yan3, YAN).is_some_and(|p| p < 40),
        "䶮 at {:?} of yan3",
        position(&yan3, YAN)
    );
    let rare = by_pinyin(&PinyinQuery {
        rare_only: true,
        ..query("yan")
    });
    assert!(
        position(&rare, YAN).is_some_and(|p| p < 5),
        "䶮 at {:?} of rare-only yan",
        position(&rare, YAN)
    );
    // Each filter narrows the plain list.
    assert!(yan3.len() < plain.len() && rare.len() < plain.len());
}

#[test]
fn the_demo_names_are_under_their_readings() {
    for (c, syllable, tone) in [
        (YAN, "yan", 3),
        (XIAN, "xian", 2),
        (XIAO, "xiao", 1),
        (DI, "di", 2),
        (BIANG, "biang", 2),
    ] {
        let toned = by_pinyin(&PinyinQuery {
            tone: Some(tone),
            ..query(syllable)
        });
        assert!(toned.contains(&c), "U+{:X} not under {syllable}{tone}", u32::from(c));
        assert_eq!(readings(c), [(syllable, tone)], "U+{:X}", u32::from(c));
        let other_tone = if tone == 1 { 2 } else { 1 };
        assert!(
            !by_pinyin(&PinyinQuery {
                tone: Some(other_tone),
                ..query(syllable)
            })
            .contains(&c)
        );
    }
}

#[test]
fn a_character_without_a_reading_is_found_by_radical_only() {
    assert!(readings(MOU).is_empty());
    assert!(all_by_pinyin().all(|(_, c)| c != MOU), "𠇔 is in a pinyin list");
    assert!(by_radical(radical(9, false), 4).contains(&MOU));
    assert!(by_radical(radical(212, true), 4).contains(&YAN));
    assert!(
        !by_radical(radical(212, false), 4).contains(&YAN),
        "䶮 is under 龙, not 龍"
    );
}

#[test]
fn no_compatibility_ideograph_is_offered() {
    let offered = all_by_pinyin()
        .map(|(_, c)| c)
        .chain(all_by_radical().map(|(_, _, c)| c));
    let mut in_compatibility_blocks: Vec<u32> = offered
        .filter(|&c| is_in_compatibility_blocks(c))
        .map(u32::from)
        .collect();
    in_compatibility_blocks.sort_unstable();
    in_compatibility_blocks.dedup();
    let offered_wrongly = in_compatibility_blocks
        .iter()
        .filter(|c| !UNIFIED_AMONG_COMPATIBILITY.contains(c));
    let first: Vec<String> = offered_wrongly.clone().take(5).map(|c| format!("U+{c:X}")).collect();
    assert!(
        first.is_empty(),
        "{} compatibility ideographs offered: {first:?}…",
        offered_wrongly.count()
    );
    assert_eq!(in_compatibility_blocks, UNIFIED_AMONG_COMPATIBILITY);
    // U+FA0E has a radical in the data (29.11): it is unified and offered.
    assert!(all_by_radical().any(|(_, _, c)| c == '\u{FA0E}'));
    assert_eq!(block('\u{FA0E}'), Some(Block::Other));
    // U+FA18 (→ 礼) and U+2F835 (→ 灰) have a kMandarin reading, and are left out all the same.
    for c in ['\u{FA18}', '\u{2F835}', '\u{F900}'] {
        assert!(readings(c).is_empty() && total_strokes(c).is_none() && block(c).is_none());
    }
}

#[test]
fn the_radicals_are_the_214_and_their_simplified_forms() {
    let all = radicals();
    assert_eq!(all.len(), 240);
    assert_eq!(all.iter().filter(|r| r.simplified).count(), 26);
    let person = radical(9, false);
    assert_eq!((person.glyph, person.strokes), ('人', 2));
    assert_eq!(radical(212, true).glyph, '龙');
    assert_eq!(radical(212, false).glyph, '龍');
    assert!(
        all.windows(2)
            .all(|w| (w[0].strokes, w[0].number, w[0].simplified) < (w[1].strokes, w[1].number, w[1].simplified))
    );
    for &r in all {
        assert!(!residuals(r).is_empty(), "{r:?} has no residual");
        assert_eq!(total_strokes(r.glyph), Some(r.strokes), "{r:?}");
    }
}

#[test]
fn residuals_include_negative_ones() {
    // 王 is 玉 (96) with −1 stroke.
    let jade = radical(96, false);
    assert!(residuals(jade).contains(&-1));
    assert!(by_radical(jade, -1).contains(&'王'));
}

#[test]
fn a_character_with_several_radicals_is_under_each() {
    // U+20063: kRSUnicode 2.3 169.-4.
    let c = '\u{20063}';
    assert!(by_radical(radical(2, false), 3).contains(&c));
    assert!(by_radical(radical(169, false), -4).contains(&c));
}

#[test]
fn by_radical_lists_common_characters_first() {
    // 人 + 4: 伙 and 件 (通用规范汉字表) before the Ext A 㐸 (U+3438), which is lower by code point.
    let chars = by_radical(radical(9, false), 4);
    assert!(position(&chars, '件') < position(&chars, '\u{3438}'));
    assert!(position(&chars, '伙') < position(&chars, '\u{3438}'));
    assert!(position(&chars, '\u{3438}') < position(&chars, MOU));
}

#[test]
fn syllables_complete_a_prefix() {
    let ya = syllables_with_prefix("ya");
    assert!(ya.contains(&"yan") && ya.contains(&"yang"), "{ya:?}");
    assert!(ya.iter().all(|s| s.starts_with("ya")));
    for syllable in ["lv", "nve", "biang", "n", "m", "ng"] {
        assert_eq!(syllables_with_prefix(syllable).first(), Some(&syllable), "{syllable}");
    }
    let all = syllables_with_prefix("");
    assert!((400..450).contains(&all.len()), "{} syllables", all.len());
}

#[test]
fn plain_yan_begins_with_common_characters() {
    let yan = by_pinyin(&query("yan"));
    assert!(yan[..5].contains(&'眼') && yan[..5].contains(&'研'), "{:?}", &yan[..5]);
    // The simplified form before its traditional one, though both have usage counts.
    assert!(position(&yan, '验') < position(&yan, '驗'));
    assert!(position(&yan, '严') < position(&yan, '嚴'));
    // After the URO come the rare characters outside the 通用规范汉字表: Ext A, then the later
    // blocks, which is code point order.
    let tail = yan
        .iter()
        .rposition(|&c| block(c) == Some(Block::Uro))
        .map_or(&yan[..], |last| &yan[last + 1..]);
    assert!(tail.len() > 100 && tail.is_sorted(), "{tail:?}");
    assert_eq!(tail.first().copied().and_then(block), Some(Block::ExtA));
    // A character is listed once, though 燕 reads yān and yàn.
    assert_eq!(yan.iter().filter(|&&c| c == '燕').count(), 1);
}

#[test]
fn filters_keep_only_what_they_name() {
    let yan3 = by_pinyin(&PinyinQuery {
        tone: Some(3),
        ..query("yan")
    });
    assert!(yan3.iter().all(|&c| readings(c).contains(&("yan", 3))));
    let rare = by_pinyin(&PinyinQuery {
        rare_only: true,
        ..query("yan")
    });
    assert!(rare.iter().all(|&c| block(c) != Some(Block::Uro)));
    assert!(rare.iter().any(|&c| block(c) == Some(Block::ExtA)) && rare.iter().any(|&c| block(c) == Some(Block::ExtB)));
    let nine = by_pinyin(&PinyinQuery {
        strokes: Some(9),
        ..query("yan")
    });
    assert!(nine.contains(&YAN));
    assert!(nine.iter().all(|&c| total_strokes(c) == Some(9)));
    assert!(by_pinyin(&query("yyy")).is_empty());
}

#[test]
fn readings_put_the_mainland_reading_first() {
    // kMandarin "wàn mò"; 的 reads de (kMandarin), and dí, dì in the dictionaries.
    assert_eq!(readings('万'), [("wan", 4), ("mo", 4)]);
    assert_eq!(readings('的').first(), Some(&("de", 5)));
    // 女: nǚ, and rǔ in the dictionaries only; ü is v.
    let nv = readings('女');
    assert_eq!(nv.first(), Some(&("nv", 3)));
    assert!(nv.contains(&("ru", 3)), "{nv:?}");
}

#[test]
fn strokes_and_blocks() {
    assert_eq!(total_strokes(YAN), Some(9));
    assert_eq!(total_strokes(MOU), Some(6));
    assert_eq!(
        total_strokes('范'),
        Some(8),
        "kTotalStrokes 8 9: the first, mainland count"
    );
    assert_eq!(total_strokes('A'), None);
    let blocks = [
        ('万', Block::Uro),
        (YAN, Block::ExtA),
        (MOU, Block::ExtB),
        (XIAN, Block::ExtC),
        (DI, Block::ExtE),
    ];
    for (c, expected) in blocks
        .into_iter()
        .chain([(BIANG, Block::ExtG), ('\u{31350}', Block::ExtH)])
    {
        assert_eq!(block(c), Some(expected), "U+{:X}", u32::from(c));
    }
    assert_eq!(block('·'), None);
    assert_eq!(Block::ExtA.label(), "Ext A");
    assert_eq!(Block::Uro.label(), "URO");
}

#[test]
fn code_points_in_the_forms_staff_type() {
    for (text, expected) in [
        ("4DAE", YAN),
        ("U+4DAE", YAN),
        ("u+201d4", MOU),
        ("  U+201D4 ", MOU),
        ("\u{3000}30edd", BIANG),
        ("00004E07", '万'),
        ("FA0E", '\u{FA0E}'),
        ("B7", '·'),
        ("U+00B7", '·'),
    ] {
        assert_eq!(parse_code_point(text), Ok(expected), "{text:?}");
    }
}

#[test]
fn code_points_refused_with_a_reason() {
    for (text, expected, message) in [
        ("", CodeError::Empty, "no code point given"),
        ("   ", CodeError::Empty, "no code point given"),
        ("4DAG", CodeError::NotHexadecimal, "not hexadecimal"),
        ("U+", CodeError::NotHexadecimal, "not hexadecimal"),
        ("+4E00", CodeError::NotHexadecimal, "not hexadecimal"),
        ("U+U+4E00", CodeError::NotHexadecimal, "not hexadecimal"),
        ("䶮", CodeError::NotHexadecimal, "not hexadecimal"),
        ("110000", CodeError::OutOfRange, "beyond U+10FFFF, the last code point"),
        (
            "123456789ABC",
            CodeError::OutOfRange,
            "beyond U+10FFFF, the last code point",
        ),
        (
            "D800",
            CodeError::Surrogate { code_point: 0xD800 },
            "U+D800 is a surrogate, not a character",
        ),
        (
            "41",
            CodeError::NotIdeograph { code_point: 0x41 },
            "U+0041 is not a CJK ideograph of Unicode ",
        ),
        (
            "2F08",
            CodeError::NotIdeograph { code_point: 0x2F08 },
            "U+2F08 is not a CJK ideograph of Unicode ",
        ),
        (
            "FA6E",
            CodeError::NotIdeograph { code_point: 0xFA6E },
            "U+FA6E is not a CJK ideograph of Unicode ",
        ),
        (
            "F900",
            CodeError::Compatibility {
                code_point: 0xF900,
                unified: '豈',
            },
            "U+F900 is a compatibility ideograph: NFC changes it, use the unified one, U+8C48 豈",
        ),
        (
            "u+2F835",
            CodeError::Compatibility {
                code_point: 0x2F835,
                unified: '灰',
            },
            "U+2F835 is a compatibility ideograph: NFC changes it, use the unified one, U+7070 灰",
        ),
    ] {
        let error = parse_code_point(text).expect_err(text);
        assert_eq!(error, expected, "{text:?}");
        assert!(error.to_string().starts_with(message), "{text:?}: {error}");
    }
}
