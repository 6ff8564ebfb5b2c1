//! Holder names as they are compared (docs/design.md §8, issue 8): exactly by code point, never
//! Unicode-normalised — NFC would rewrite CJK compatibility ideographs (U+F900…) into other
//! characters, and a rare character (生僻字) must match only itself. The one deliberate
//! equivalence is the separator of minority names, typed in several look-alike ways.

/// The middle-dot look-alikes people type in minority names (阿依古丽·买买提), all taken as
/// U+00B7 MIDDLE DOT: U+2022 BULLET, U+FF0E FULLWIDTH FULL STOP, U+30FB KATAKANA MIDDLE DOT.
pub const MIDDLE_DOT_VARIANTS: [char; 3] = ['\u{2022}', '\u{FF0E}', '\u{30FB}'];

/// A name as it is compared and digested: the middle-dot variants mapped to U+00B7, every other
/// code point as it is.
pub fn canonical_name(name: &str) -> String {
    name.chars()
        .map(|c| if MIDDLE_DOT_VARIANTS.contains(&c) { '\u{B7}' } else { c })
        .collect()
}

/// Whether `c` may stand in a holder's name the authority issues (issue 16): the documented
/// allow-list, so that nothing invisible changes how a name reads.
///
/// * Han ideographs of every block: CJK Unified Ideographs and Extensions A to I
///   (U+3400–U+4DBF, U+4E00–U+9FFF, U+20000–U+2A6DF, U+2A700–U+2EE5F, U+30000–U+323AF) and the
///   compatibility ideographs (U+F900–U+FAFF, U+2F800–U+2FA1F), and U+3007 〇;
/// * the middle dot U+00B7 and its look-alikes ([`MIDDLE_DOT_VARIANTS`]), the space, and the
///   hyphen and apostrophe of names written in Latin letters;
/// * the letters (and their combining marks) of the scripts minority names are written in:
///   Latin (Basic Latin and Latin-1 to Extended-B), Arabic as Uyghur, Kazakh and Kyrgyz use it
///   (U+0620–U+065F, U+0670–U+06D3, U+06D5), Tibetan (U+0F00–U+0FDA, with the tsheg), Mongolian
///   and Todo (U+1820–U+18AA), Yi (U+A000–U+A4C6) and Lisu (U+A4D0–U+A4FF).
///
/// Controls, bidi and zero-width characters, digits and punctuation other than the above are
/// not names.
pub fn is_name_char(c: char) -> bool {
    matches!(c,
        '\u{3400}'..='\u{4dbf}' | '\u{4e00}'..='\u{9fff}' | '\u{f900}'..='\u{faff}'
        | '\u{20000}'..='\u{2a6df}' | '\u{2a700}'..='\u{2ee5f}' | '\u{2f800}'..='\u{2fa1f}'
        | '\u{30000}'..='\u{323af}' | '\u{3007}'
        | '\u{b7}' | ' ' | '-' | '\''
        | 'A'..='Z' | 'a'..='z'
        | '\u{c0}'..='\u{d6}' | '\u{d8}'..='\u{f6}' | '\u{f8}'..='\u{24f}'
        | '\u{620}'..='\u{65f}' | '\u{670}'..='\u{6d3}' | '\u{6d5}'
        | '\u{f00}'..='\u{fda}'
        | '\u{1820}'..='\u{18aa}'
        | '\u{a000}'..='\u{a4c6}' | '\u{a4d0}'..='\u{a4ff}')
        || MIDDLE_DOT_VARIANTS.contains(&c)
}

/// The first character of `name` that [`is_name_char`] refuses, with its position (counted
/// in characters from 0).
pub fn first_refused(name: &str) -> Option<(usize, char)> {
    name.chars().enumerate().find(|(_, c)| !is_name_char(*c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_every_script_in_use_are_allowed_and_nothing_invisible_is() {
        for name in [
            "王伟明",
            "刘𰻝𰻝",
            "王䶮",
            "陈𬱖",
            "赵𡟣",
            "\u{FA10}田",
            "阿依古丽·买买提",
            "阿依古丽\u{30FB}买买提",
            "ئابدۇرېھىم",
            "བཀྲ་ཤིས་",
            "ᠪᠠᠲᠦ",
            "ꆈꌠ",
            "Zhang San",
            "O'Brien-Smith",
            "José Núñez",
        ] {
            assert_eq!(first_refused(name), None, "{name}");
        }
        for (name, at, c) in [
            ("王\u{202E}伟明", 1, '\u{202E}'),
            ("张三\u{200B}", 2, '\u{200B}'),
            ("张三\n", 2, '\n'),
            ("张\u{1b}[31m三", 1, '\u{1b}'),
            ("李\u{2066}四", 1, '\u{2066}'),
            ("王\u{FEFF}五", 1, '\u{FEFF}'),
            ("王\u{061C}五", 1, '\u{061C}'),
            ("王\u{180E}五", 1, '\u{180E}'),
            ("王5", 1, '5'),
            ("王<b>", 1, '<'),
        ] {
            assert_eq!(first_refused(name), Some((at, c)), "{name:?}");
        }
        // No character the escape module hides is a name character.
        for c in (0..=0x10FFFF)
            .filter_map(char::from_u32)
            .filter(|c| crate::escape::is_hidden(*c))
        {
            assert!(!is_name_char(c), "U+{:04X}", u32::from(c));
        }
    }

    #[test]
    fn every_middle_dot_variant_is_the_middle_dot() {
        let want = "阿依古丽\u{B7}买买提";
        for dot in ["\u{B7}", "\u{2022}", "\u{FF0E}", "\u{30FB}"] {
            assert_eq!(canonical_name(&format!("阿依古丽{dot}买买提")), want, "{dot:?}");
        }
    }

    #[test]
    fn nothing_else_is_changed_not_even_by_normalisation() {
        // Rare characters from Ext A, B, C, E, G, unchanged.
        for name in ["王䶮", "李𠇔", "陈𬱖", "张𫍯", "赵𡟣", "刘𰻝𰻝"] {
            assert_eq!(canonical_name(name), name);
        }
        // U+FA10 is a compatibility ideograph whose NFC form is U+585A 塚: they stay different.
        assert_ne!(canonical_name("\u{FA10}"), canonical_name("\u{585A}"));
        // A decomposed sequence stays decomposed, a hyphen stays a hyphen.
        assert_eq!(canonical_name("e\u{301}-x"), "e\u{301}-x");
    }
}
