//! Entering a character by its code point (U+4DAE), for those that no reading or radical finds.

use crate::table;

/// Why a typed code point is not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("no code point given")]
    Empty,
    #[error("not hexadecimal")]
    NotHexadecimal,
    #[error("beyond U+10FFFF, the last code point")]
    OutOfRange,
    #[error("U+{code_point:04X} is a surrogate, not a character")]
    Surrogate { code_point: u32 },
    #[error("U+{code_point:04X} is not a CJK ideograph of Unicode {}", table::VERSION)]
    NotIdeograph { code_point: u32 },
    #[error(
        "U+{code_point:04X} is a compatibility ideograph: NFC changes it, use the unified one, U+{:04X} {unified}",
        u32::from(*unified)
    )]
    Compatibility { code_point: u32, unified: char },
}

/// A code point as staff type it: `4DAE`, `U+4DAE` or `u+201d4`, spaces around allowed.
/// Accepts the indexed CJK unified ideographs (any block) and U+00B7 · (the middle dot of
/// minority names).
pub fn parse_code_point(text: &str) -> Result<char, CodeError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(CodeError::Empty);
    }
    let hex = text
        .strip_prefix("U+")
        .or_else(|| text.strip_prefix("u+"))
        .unwrap_or(text);
    // from_str_radix alone would take a leading '+'.
    if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(CodeError::NotHexadecimal);
    }
    // Only overflow is left to fail.
    let code_point = u32::from_str_radix(hex, 16).map_err(|_| CodeError::OutOfRange)?;
    let Some(c) = char::from_u32(code_point) else {
        return Err(if code_point > 0x10FFFF {
            CodeError::OutOfRange
        } else {
            CodeError::Surrogate { code_point }
        });
    };
    if c == '\u{B7}' || table::is_indexed(code_point) {
        return Ok(c);
    }
    match table::unified_for(code_point) {
        Some(unified) => Err(CodeError::Compatibility { code_point, unified }),
        None => Err(CodeError::NotIdeograph { code_point }),
    }
}
