//! The font chain for names with rare characters (生僻字). Slint asks for its sans-serif
//! family and falls through, per character, to the first font in the chain that has it:
//! Noto Sans CJK SC (mainland forms of common characters), then HanaMinA and HanaMinB (Ext A–F),
//! then BabelStone Han (much of Ext G and H). Noto alone lacks e.g. 𡟣 (U+217E3).
//!
//! The fonts are system fonts (Debian packages, found through fontconfig), so they are mapped,
//! not read into the heap: only the pages of glyphs drawn count against the kiosk's memory.
//! [`Coverage`] says which ideographs none of them has, so the manual lookup offers none.

use slint::fontique_011::fontique::{FallbackKey, FontInfo, GenericFamily, Script};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

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

/// The ideographs the chain can draw, so that the manual lookup offers no character that would
/// show as a box. Measured once from the character maps of the chain's faces (as Slint's own
/// font collection has them), on a thread of its own: the first frame does not wait for it.
#[derive(Clone)]
pub struct Coverage(Arc<OnceLock<Missing>>);

impl std::fmt::Debug for Coverage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Coverage")
            .field("measured", &self.0.get().is_some())
            .finish_non_exhaustive()
    }
}

/// One bit per code point below [`Missing::END`]: set where no face of the chain has a glyph.
struct Missing {
    bits: Vec<u64>,
}

impl Missing {
    /// Past the last CJK block (Ext H ends at U+323AF).
    const END: u32 = 0x32400;

    fn none() -> Missing {
        Missing {
            bits: vec![0; (Self::END as usize).div_ceil(64)],
        }
    }

    /// Asks every face about every indexed ideograph and the middle dot.
    fn of(faces: &[FontInfo]) -> Missing {
        let blobs: Vec<_> = faces
            .iter()
            .filter_map(|f| Some((f.load(None)?, f.charmap_index())))
            .collect();
        let charmaps: Vec<_> = blobs
            .iter()
            .filter_map(|(blob, index)| index.charmap(blob.data()))
            .collect();
        let mut missing = Missing::none();
        if charmaps.is_empty() {
            // No face of the chain at all (reported at start): filtering would leave nothing.
            return missing;
        }
        let wanted = (0..Self::END)
            .filter_map(char::from_u32)
            .filter(|&c| c == '\u{B7}' || hanzi::block(c).is_some());
        for c in wanted {
            if !charmaps.iter().any(|charmap| charmap.map(c).is_some()) {
                let i = u32::from(c) as usize;
                missing.bits[i / 64] |= 1 << (i % 64);
            }
        }
        missing
    }

    fn lacks(&self, c: char) -> bool {
        let i = u32::from(c) as usize;
        self.bits.get(i / 64).is_some_and(|word| word & (1 << (i % 64)) != 0)
    }

    fn count(&self) -> u32 {
        self.bits.iter().map(|w| w.count_ones()).sum()
    }
}

impl Coverage {
    /// Starts measuring the chain as Slint's font collection has it. Call on the UI thread
    /// after [`install_chain`].
    pub fn measure_chain() -> Coverage {
        let mut collection = slint::fontique_011::shared_collection();
        let faces: Vec<FontInfo> = CHAIN
            .iter()
            .filter_map(|name| collection.family_by_name(name))
            .flat_map(|family| family.fonts().to_vec())
            .collect();
        Coverage::measure(faces)
    }

    /// Measures `faces` on a thread (or here, if no thread can be started).
    pub fn measure(faces: Vec<FontInfo>) -> Coverage {
        let cell = Arc::new(OnceLock::new());
        let out = cell.clone();
        let work = move || {
            let started = Instant::now();
            let missing = Missing::of(&faces);
            tracing::info!(
                faces = faces.len(),
                ideographs_without_glyph = missing.count(),
                took_ms = started.elapsed().as_millis() as u64,
                "font coverage of the lookup's characters measured"
            );
            let _ = out.set(missing);
        };
        let spawned = std::thread::Builder::new().name("font-coverage".into()).spawn(work);
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "cannot start the font-coverage thread; nothing is left out");
            let _ = cell.set(Missing::none());
        }
        Coverage(cell)
    }

    /// Every character counts as drawable.
    pub fn everything() -> Coverage {
        Coverage(Arc::new(OnceLock::from(Missing::none())))
    }

    /// Whether some face of the chain has a glyph for `c` (an ideograph or the middle dot;
    /// anything else counts as drawn). Waits for the measurement if it is still running.
    pub fn draws(&self, c: char) -> bool {
        !self.0.wait().lacks(c)
    }

    /// How many indexed ideographs no face draws (waits like [`Coverage::draws`]).
    pub fn lacking(&self) -> u32 {
        self.0.wait().count()
    }
}
