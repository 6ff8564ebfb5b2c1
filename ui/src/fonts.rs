//! The font chain for names with rare characters (生僻字). Slint asks for its sans-serif
//! family and falls through, per character, to the first font in the chain that has it:
//! Noto Sans CJK SC (mainland forms of common characters), then HanaMinA and HanaMinB (Ext A–F),
//! then BabelStone Han (much of Ext G and H). Noto alone lacks e.g. 𡟣 (U+217E3).
//!
//! The fonts are system fonts (Debian packages, found through fontconfig), so they are mapped,
//! not read into the heap: only the pages of glyphs drawn count against the kiosk's memory.

use slint::fontique_011::fontique::{FallbackKey, GenericFamily, Script};

/// The chain, in order. `tests/font_coverage.rs` proves it covers every name of the demo world.
pub const CHAIN: [&str; 4] = ["Noto Sans CJK SC", "HanaMinA", "HanaMinB", "BabelStone Han"];

/// Makes the chain Slint's sans-serif and system-UI families, and the fallback for Han script.
/// Needs the platform to exist (call it after the first component is created). Returns the
/// families not found, which the caller reports.
pub fn install_chain() -> Vec<&'static str> {
    let mut collection = slint::fontique_011::shared_collection();
    let mut missing = Vec::new();
    let mut ids = Vec::new();
    for name in CHAIN {
        match collection.family_id(name) {
            Some(id) => ids.push(id),
            None => missing.push(name),
        }
    }
    if !ids.is_empty() {
        collection.set_generic_families(GenericFamily::SansSerif, ids.iter().copied());
        collection.set_generic_families(GenericFamily::SystemUi, ids.iter().copied());
        for script in [*b"Hani", *b"Bopo"] {
            collection.append_fallbacks(FallbackKey::new(Script::from_bytes(script), None), ids.iter().copied());
        }
    }
    missing
}
