//! Pinyin's tone marks, in one place for the index's build script (which reads Unihan's toned
//! readings, `build.rs` includes this file) and for the lookup form (which shows a toneless
//! syllable with its mark).

/// The vowels that carry pinyin's tone mark, each with its marked letters for tones 1–4, by
/// the toneless letter (ü is v).
pub const MARKED_VOWELS: [(char, [char; 4]); 6] = [
    ('a', ['ā', 'á', 'ǎ', 'à']),
    ('e', ['ē', 'é', 'ě', 'è']),
    ('i', ['ī', 'í', 'ǐ', 'ì']),
    ('o', ['ō', 'ó', 'ǒ', 'ò']),
    ('u', ['ū', 'ú', 'ǔ', 'ù']),
    ('v', ['ǖ', 'ǘ', 'ǚ', 'ǜ']),
];

/// The other marked letters in readings: ê (written e: ê̄ ế ê̌ ề are the interjection 欸, also
/// ei), and the syllables m and n. `-` where Unicode has no precomposed letter (those are
/// written with a combining mark).
pub const OTHER_MARKED: [(char, [char; 4]); 3] = [
    ('e', ['-', 'ế', '-', 'ề']),
    ('m', ['-', 'ḿ', '-', '-']),
    ('n', ['-', 'ń', 'ň', 'ǹ']),
];

/// Combining tone marks, tones 1–4.
pub const COMBINING_TONES: [char; 4] = ['\u{304}', '\u{301}', '\u{30C}', '\u{300}'];
