//! The tables build.rs generates from Unihan, and the decoding of their binary forms.
//!
//! The small tables are Rust (`tables.rs` in OUT_DIR: `VERSION`, `RUNS`, `SYLLABLES`,
//! `RADICALS`, `RADICAL_BUCKETS`). The large ones are little-endian byte arrays, embedded as
//! they are and read in place:
//!
//! | file | entry | content |
//! |---|---|---|
//! | `strokes.bin` | u8 | total strokes, by ordinal (the rank among the indexed code points) |
//! | `pinyin.bin` | u24: code point \| tone set << 18 | each syllable's candidates, in display order |
//! | `readings.bin` | u16 | indexes into `pinyin.bin`, by (code point, preference) |
//! | `radicals.bin` | u24 code point | each (radical, residual) bucket's characters, in order |
//! | `buckets.bin` | i8 residual, u24 end | the buckets, by radical in `RADICALS` order, then residual |
//! | `compatibility.bin` | u24, u24 | (compatibility ideograph, its unified one), by code point |

use std::ops::Range;

use crate::Radical;

include!(concat!(env!("OUT_DIR"), "/tables.rs"));

static STROKES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/strokes.bin"));
static PINYIN: &[[u8; 3]] = include_bytes!(concat!(env!("OUT_DIR"), "/pinyin.bin")).as_chunks().0;
static READINGS: &[[u8; 2]] = include_bytes!(concat!(env!("OUT_DIR"), "/readings.bin")).as_chunks().0;
static RADICAL_ENTRIES: &[[u8; 3]] = include_bytes!(concat!(env!("OUT_DIR"), "/radicals.bin")).as_chunks().0;
static BUCKETS: &[[u8; 4]] = include_bytes!(concat!(env!("OUT_DIR"), "/buckets.bin")).as_chunks().0;
static COMPATIBILITY: &[[u8; 6]] = include_bytes!(concat!(env!("OUT_DIR"), "/compatibility.bin"))
    .as_chunks()
    .0;

const CODE_POINT_BITS: u32 = 18;
const CODE_POINT_MASK: u32 = (1 << CODE_POINT_BITS) - 1;

fn u24([low, middle, high]: [u8; 3]) -> u32 {
    u32::from_le_bytes([low, middle, high, 0])
}

/// The rank of `code_point` among the indexed ideographs, if it is one.
fn ordinal(code_point: u32) -> Option<usize> {
    let after = RUNS.partition_point(|&(first, _, _)| first <= code_point);
    let &(first, len, ordinal) = RUNS.get(after.checked_sub(1)?)?;
    (code_point - first < len).then(|| (ordinal + code_point - first) as usize)
}

pub(crate) fn is_indexed(code_point: u32) -> bool {
    ordinal(code_point).is_some()
}

pub(crate) fn total_strokes(code_point: u32) -> Option<u8> {
    STROKES.get(ordinal(code_point)?).copied()
}

/// The unified ideograph NFC turns `code_point` into, if it is a compatibility ideograph.
pub(crate) fn unified_for(code_point: u32) -> Option<char> {
    let index = COMPATIBILITY
        .binary_search_by_key(&code_point, |&[c0, c1, c2, ..]| u24([c0, c1, c2]))
        .ok()?;
    let [.., u0, u1, u2] = COMPATIBILITY[index];
    char::from_u32(u24([u0, u1, u2]))
}

/// One character of a syllable's candidates.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PinyinEntry {
    pub(crate) code_point: u32,
    /// Bit t-1 set for tone t.
    pub(crate) tones: u8,
}

impl PinyinEntry {
    fn at(index: usize) -> PinyinEntry {
        let value = u24(PINYIN[index]);
        PinyinEntry {
            code_point: value & CODE_POINT_MASK,
            tones: (value >> CODE_POINT_BITS) as u8,
        }
    }

    pub(crate) fn has_tone(self, tone: u8) -> bool {
        (1..=5).contains(&tone) && self.tones & (1 << (tone - 1)) != 0
    }

    pub(crate) fn tones(self) -> impl Iterator<Item = u8> {
        (1..=5).filter(move |&tone| self.has_tone(tone))
    }
}

/// The syllables, sorted.
pub(crate) fn syllables() -> impl ExactSizeIterator<Item = &'static str> {
    SYLLABLES.iter().map(|&(syllable, _)| syllable)
}

/// The entries of syllable `index` (in SYLLABLES).
fn syllable_range(index: usize) -> Range<usize> {
    let start = index.checked_sub(1).map_or(0, |previous| SYLLABLES[previous].1);
    start as usize..SYLLABLES[index].1 as usize
}

/// A syllable's candidates, in display order; `None` if no character reads it.
pub(crate) fn candidates(syllable: &str) -> Option<impl Iterator<Item = PinyinEntry>> {
    let index = SYLLABLES.binary_search_by(|&(s, _)| s.cmp(syllable)).ok()?;
    Some(syllable_range(index).map(PinyinEntry::at))
}

/// A character's readings: (syllable, entry), its preferred reading first.
pub(crate) fn readings(code_point: u32) -> impl Iterator<Item = (&'static str, PinyinEntry)> {
    let entry = |&index: &[u8; 2]| usize::from(u16::from_le_bytes(index));
    let start = READINGS.partition_point(|i| PinyinEntry::at(entry(i)).code_point < code_point);
    let end = READINGS.partition_point(|i| PinyinEntry::at(entry(i)).code_point <= code_point);
    READINGS[start..end].iter().map(entry).map(|index| {
        let syllable = SYLLABLES.partition_point(|&(_, end)| end as usize <= index);
        (SYLLABLES[syllable].0, PinyinEntry::at(index))
    })
}

/// The position of `radical` in RADICALS, matched by number and simplified flag.
fn radical_index(radical: Radical) -> Option<usize> {
    RADICALS
        .iter()
        .position(|r| r.number == radical.number && r.simplified == radical.simplified)
}

/// A radical's buckets: (residual, range in RADICAL_ENTRIES), residual ascending.
pub(crate) fn buckets(radical: Radical) -> impl Iterator<Item = (i8, Range<usize>)> {
    let buckets = radical_index(radical).map_or(0..0, |index| {
        let start = index.checked_sub(1).map_or(0, |previous| RADICAL_BUCKETS[previous]);
        usize::from(start)..usize::from(RADICAL_BUCKETS[index])
    });
    let end = |bucket: usize| {
        let [_, low, middle, high] = BUCKETS[bucket];
        u24([low, middle, high]) as usize
    };
    buckets.map(move |bucket| {
        let residual = i8::from_le_bytes([BUCKETS[bucket][0]]);
        (residual, bucket.checked_sub(1).map_or(0, end)..end(bucket))
    })
}

/// The characters of a bucket, in order.
pub(crate) fn bucket_characters(range: Range<usize>) -> impl Iterator<Item = u32> {
    RADICAL_ENTRIES[range].iter().copied().map(u24)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_tables_stay_under_one_megabyte() {
        let bytes = STROKES.len()
            + size_of_val(PINYIN)
            + size_of_val(READINGS)
            + size_of_val(RADICAL_ENTRIES)
            + size_of_val(BUCKETS)
            + size_of_val(COMPATIBILITY);
        assert!(bytes < 1_000_000, "{bytes} bytes");
        // And they hold something: a broken build would give empty files.
        assert!(bytes > 400_000, "{bytes} bytes");
    }

    #[test]
    fn ordinals_count_through_the_runs() {
        assert_eq!(ordinal(0x3400), Some(0));
        assert_eq!(ordinal(0x33FF), None);
        let (first, len, base) = RUNS[1];
        assert_eq!(ordinal(first), Some(base as usize));
        assert_eq!(ordinal(first + len - 1), Some((base + len - 1) as usize));
        assert_eq!(
            STROKES.len(),
            RUNS.iter().map(|&(_, len, _)| len as usize).sum::<usize>()
        );
    }

    #[test]
    fn every_pinyin_entry_has_one_reading_entry() {
        assert_eq!(READINGS.len(), PINYIN.len());
        assert_eq!(SYLLABLES.last().map(|&(_, end)| end as usize), Some(PINYIN.len()));
    }

    #[test]
    fn compatibility_ideographs_map_to_their_unified_ones() {
        assert_eq!(unified_for(0xF900), Some('\u{8C48}'));
        assert_eq!(unified_for(0xFA0E), None);
        assert_eq!(unified_for(0x4E00), None);
    }
}
