//! Characters by radical and residual strokes (kRSUnicode).

use crate::table;

/// One of the 240 radicals kRSUnicode uses: the 214 Kangxi radicals and the 26 simplified
/// forms (`'`) of some of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Radical {
    /// The Kangxi radical number, 1..=214.
    pub number: u8,
    /// The simplified form: 212' is 龙, 212 is 龍.
    pub simplified: bool,
    /// The unified ideograph that is the radical (CJKRadicals.txt's third field): 人, not ⼈.
    pub glyph: char,
    /// The radical's own stroke count: the glyph's kTotalStrokes.
    pub strokes: u8,
}

/// All radicals, ordered by (strokes, number, simplified), as the picker groups them.
pub fn radicals() -> &'static [Radical] {
    &table::RADICALS
}

/// The residual stroke counts (strokes beyond the radical) that occur with `radical`,
/// ascending; negative ones too (王 is 玉 −1). Only `number` and `simplified` are looked at.
pub fn residuals(radical: Radical) -> Vec<i8> {
    table::buckets(radical).map(|(residual, _)| residual).collect()
}

/// The characters with `radical` and `residual` strokes: those of the 通用规范汉字表
/// (kTGHZ2013) first, then the others, each by code point. A character with several
/// kRSUnicode values is under each.
pub fn by_radical(radical: Radical, residual: i8) -> Vec<char> {
    let Some((_, range)) = table::buckets(radical).find(|&(r, _)| r == residual) else {
        return Vec::new();
    };
    table::bucket_characters(range).filter_map(char::from_u32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn residuals_are_ascending_and_distinct() {
        for &radical in radicals() {
            let residuals = residuals(radical);
            assert!(residuals.windows(2).all(|w| w[0] < w[1]), "{radical:?}: {residuals:?}");
        }
    }

    #[test]
    fn an_unknown_radical_has_nothing() {
        let made_up = Radical {
            number: 215,
            simplified: false,
            glyph: '?',
            strokes: 1,
        };
        assert!(residuals(made_up).is_empty());
        assert!(by_radical(made_up, 0).is_empty());
    }

    #[test]
    fn the_glyph_and_strokes_of_the_argument_do_not_matter() {
        let person = Radical {
            number: 9,
            simplified: false,
            glyph: 'x',
            strokes: 0,
        };
        assert_eq!(residuals(person).first(), Some(&0));
    }
}
