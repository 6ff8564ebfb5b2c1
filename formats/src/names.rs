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

#[cfg(test)]
mod tests {
    use super::*;

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
