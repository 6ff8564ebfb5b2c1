//! The Unicode blocks of CJK unified ideographs, for labels and the "rare only" filter.

use std::ops::RangeInclusive;

use crate::table;

/// The block of a CJK unified ideograph.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Block {
    /// CJK Unified Ideographs, U+4E00–9FFF: the common characters.
    Uro,
    ExtA,
    ExtB,
    ExtC,
    ExtD,
    ExtE,
    ExtF,
    ExtG,
    ExtH,
    /// Outside the blocks above: the 12 unified ideographs among the compatibility ones
    /// (U+FA0E–FA29), and any block a later Unicode version adds.
    Other,
}

/// The block ranges, from Blocks.txt (Unicode 15.0). Build.rs has the first two too.
const BLOCKS: [(RangeInclusive<u32>, Block); 9] = [
    (0x4E00..=0x9FFF, Block::Uro),
    (0x3400..=0x4DBF, Block::ExtA),
    (0x20000..=0x2A6DF, Block::ExtB),
    (0x2A700..=0x2B73F, Block::ExtC),
    (0x2B740..=0x2B81F, Block::ExtD),
    (0x2B820..=0x2CEAF, Block::ExtE),
    (0x2CEB0..=0x2EBEF, Block::ExtF),
    (0x30000..=0x3134F, Block::ExtG),
    (0x31350..=0x323AF, Block::ExtH),
];

impl Block {
    /// "URO", "Ext A" … "Ext H", "Other".
    pub fn label(self) -> &'static str {
        match self {
            Block::Uro => "URO",
            Block::ExtA => "Ext A",
            Block::ExtB => "Ext B",
            Block::ExtC => "Ext C",
            Block::ExtD => "Ext D",
            Block::ExtE => "Ext E",
            Block::ExtF => "Ext F",
            Block::ExtG => "Ext G",
            Block::ExtH => "Ext H",
            Block::Other => "Other",
        }
    }

    /// The block `code_point` falls in, indexed or not.
    pub(crate) fn of(code_point: u32) -> Block {
        BLOCKS
            .iter()
            .find(|(range, _)| range.contains(&code_point))
            .map_or(Block::Other, |&(_, block)| block)
    }
}

/// The block of an indexed ideograph; `None` for anything else, compatibility ideographs included.
pub fn block(c: char) -> Option<Block> {
    table::is_indexed(u32::from(c)).then(|| Block::of(u32::from(c)))
}
