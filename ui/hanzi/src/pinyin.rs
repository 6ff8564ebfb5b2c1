//! Characters by toneless pinyin syllable, with tone, "rare only" and stroke filters.

use crate::block::Block;
use crate::table;

/// The syllables that some character reads, sorted, that start with `prefix` (all of them for
/// `""`). A syllable is toneless lower-case ASCII with ü written v: `"yan"`, `"lv"`, `"nve"`.
pub fn syllables_with_prefix(prefix: &str) -> Vec<&'static str> {
    table::syllables().filter(|s| s.starts_with(prefix)).collect()
}

/// What the pinyin grid shows: the candidates for one syllable, narrowed by the filters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PinyinQuery<'a> {
    /// Toneless, as [`syllables_with_prefix`] gives it.
    pub syllable: &'a str,
    /// 1..=5, 5 being the neutral tone; `None` for any.
    pub tone: Option<u8>,
    /// Leave out the URO (U+4E00–9FFF): only Ext A–H and the few unified ideographs elsewhere.
    pub rare_only: bool,
    /// Total strokes (kTotalStrokes).
    pub strokes: Option<u8>,
}

impl PinyinQuery<'_> {
    fn admits(&self, entry: table::PinyinEntry) -> bool {
        self.tone.is_none_or(|tone| entry.has_tone(tone))
            && !(self.rare_only && Block::of(entry.code_point) == Block::Uro)
            && self
                .strokes
                .is_none_or(|strokes| table::total_strokes(entry.code_point) == Some(strokes))
    }
}

/// The candidates for a query, in display order (see the crate docs); each character once,
/// whatever the number of its tones. Empty for a syllable no character reads.
pub fn by_pinyin(query: &PinyinQuery) -> Vec<char> {
    let Some(candidates) = table::candidates(query.syllable) else {
        return Vec::new();
    };
    candidates
        .filter(|&entry| query.admits(entry))
        .filter_map(|entry| char::from_u32(entry.code_point))
        .collect()
}

/// A character's readings as (toneless syllable, tone): 䶮 → `[("yan", 3)]`. Its kMandarin
/// readings come first, in their order, then those only dictionaries give (kTGHZ2013,
/// kHanyuPinyin, kXHC1983, kHanyuPinlu); a syllable's tones in ascending order.
pub fn readings(c: char) -> Vec<(&'static str, u8)> {
    table::readings(u32::from(c))
        .flat_map(|(syllable, entry)| entry.tones().map(move |tone| (syllable, tone)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syllables_are_toneless_ascii_and_sorted() {
        let all = syllables_with_prefix("");
        assert!(
            all.iter()
                .all(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase())),
            "{all:?}"
        );
        assert!(all.is_sorted(), "not sorted");
    }

    #[test]
    fn a_prefix_narrows_the_syllables() {
        assert_eq!(syllables_with_prefix("biang"), ["biang"]);
        assert!(syllables_with_prefix("q").iter().all(|s| s.starts_with('q')));
        assert!(syllables_with_prefix("xyz").is_empty());
    }

    #[test]
    fn a_tone_outside_one_to_five_admits_nothing() {
        for tone in [0, 6, u8::MAX] {
            assert!(
                by_pinyin(&PinyinQuery {
                    syllable: "yan",
                    tone: Some(tone),
                    ..Default::default()
                })
                .is_empty()
            );
        }
    }
}
