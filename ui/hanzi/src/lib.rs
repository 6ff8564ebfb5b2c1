//! The offline character index the kiosk uses to let staff enter rare characters (生僻字) in a
//! holder's name: by pinyin, by radical and residual strokes, or by code point.
//!
//! # Data
//! build.rs generates the index at build time from Debian 12's `unicode-data` (Unicode
//! [`UNICODE_VERSION`]), in `$UNIHAN_DIR` (default `/usr/share/unicode`); nothing is typed in
//! by hand, and nothing is read at run time:
//! - `Unihan_Readings.txt.bz2`: the pinyin of kMandarin, kTGHZ2013, kHanyuPinyin, kXHC1983 and
//!   kHanyuPinlu (all five, merged: the dictionaries add readings kMandarin lacks), membership
//!   of the 通用规范汉字表 (kTGHZ2013), and kHanyuPinlu's usage counts;
//! - `Unihan_IRGSources.txt.bz2`: kRSUnicode, kTotalStrokes (the first value where there are
//!   two), kIRG_GSource (`G0-` = GB 2312) and kCompatibilityVariant;
//! - `CJKRadicals.txt`: radical number → the unified ideograph that is the radical.
//!
//! A toneless syllable is lower-case ASCII with ü written `v` (`lv`, `nve`). ê (the interjection
//! 欸) is written `e`; m, n and ng (呣, 嗯) are syllables of their own.
//!
//! # Order
//! [`by_pinyin`] lists a syllable's candidates as research note A.3 proposes, common mainland
//! characters first:
//! 1. characters of the 通用规范汉字表 with a kHanyuPinlu count for this syllable, by count,
//!    highest first;
//! 2. the table's other characters, GB 2312 first, each part by code point;
//! 3. the rest of the URO: those with a kHanyuPinlu count (mostly traditional forms, 驗) by
//!    count, then by code point;
//! 4. Ext A, by code point;
//! 5. the rest (Ext B–H and the unified ideographs in U+FA0E–FA29), by code point.
//!
//! One order serves every query of a syllable: tone, "rare only" and strokes filter it. As the
//! dictionaries' readings are merged in, a tone also keeps characters whose dictionary-only
//! reading has it (广, read guǎng, is under yan3 through kHanyuPinyin's yǎn). Ext A–H
//! characters of the 通用规范汉字表 (䶮, 𫍯, 𬱖) are in the first two groups. [`by_radical`] lists
//! the table's characters first, then the others, each by code point.
//!
//! # Compatibility ideographs are left out
//! The 1,002 compatibility ideographs (those with kCompatibilityVariant, in U+F900–FAFF and
//! U+2F800–2FA1F) are in no list, and [`parse_code_point`] refuses them, naming their unified
//! ideograph. NFC rewrites each of them into that unified ideograph, and names are compared by
//! code point (`certkiosk_formats::names`): a name typed with one would look right, yet differ from a
//! record written in NFC or with the unified character, and never match. The 12 unified
//! ideographs inside U+FA0E–FA29 (no kCompatibilityVariant) are in.
//!
//! # Sizes (Unicode 15.0, Debian 12)
//! 97,058 ideographs (URO, Ext A–H and the 12), 41,419 of them with a reading (20,518 in Ext
//! A–H); 425 syllables with 50,033 (character, syllable) candidates; 240 radicals with 4,741
//! (radical, residual) buckets holding 97,132 entries. Embedded: 664 kB of binary tables
//! (3 bytes per candidate and per bucket entry, 2 per reading index, 1 per ideograph for its
//! strokes, 4 per bucket, 6 per compatibility ideograph) and about 10 kB of Rust tables.
//! Running build.rs takes about 1.3 s (2-core machine, debug build).

mod block;
mod code_point;
mod pinyin;
mod radical;
mod table;
pub mod tones;

pub use block::{Block, block};
pub use code_point::{CodeError, parse_code_point};
pub use pinyin::{PinyinQuery, by_pinyin, readings, syllables_with_prefix};
pub use radical::{Radical, by_radical, radicals, residuals};

/// The Unicode version of the Unihan data the index was built from, e.g. "15.0.0".
pub const UNICODE_VERSION: &str = table::VERSION;

/// The total strokes of an indexed ideograph (kTotalStrokes, the mainland count).
pub fn total_strokes(c: char) -> Option<u8> {
    table::total_strokes(u32::from(c))
}
