//! Untrusted text on its way out: a holder's name, a QR code's text, a path on a stick, a
//! reason a server gave. Where it goes decides how it is escaped, never whether (issue 16):
//!
//! * [`line`] for one line of text — a terminal, a log, systemd's status: every character in
//!   [`is_hidden`] becomes `\u{XXXX}` (hexadecimal, as in Rust) and a backslash becomes `\\`,
//!   so the line stays one line, shows what is there, and can be undone exactly
//!   (`docs/design.md` §5 documents it for scripts reading `certd decode`);
//! * [`visible`] for a person reading a screen: each hidden character is shown as `⟨U+XXXX⟩`;
//! * [`json`] for JSON: serde's escaping, and the hidden characters as `\uXXXX` too, so a JSON
//!   line read by a terminal or a careless log viewer cannot reorder or hide anything — and any
//!   JSON parser reads back the exact string.
//!
//! Han characters of every block (生僻字 included), Latin, Tibetan, Uyghur and the rest pass
//! unchanged: only controls and invisible formatting are hidden.

use serde::Serialize;
use std::borrow::Cow;
use std::fmt::Write as _;

/// A character that can change how text around it reads, or hide itself: C0 and C1 controls
/// and DEL (line breaks and terminal escapes), bidirectional controls (U+061C, U+200E/F,
/// U+202A–U+202E, U+2066–U+2069), zero-width and other invisible format characters (U+00AD,
/// U+034F, U+115F, U+1160, U+180E, U+200B–U+200D, U+2060–U+2064, U+206A–U+206F, U+3164,
/// U+FEFF, U+FFA0, U+FFF9–U+FFFB), the line and paragraph separators U+2028/2029, and tags
/// (U+E0000–U+E007F).
pub fn is_hidden(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{ad}' | '\u{34f}' | '\u{61c}' | '\u{115f}' | '\u{1160}' | '\u{180e}'
        | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{206f}'
        | '\u{3164}' | '\u{feff}' | '\u{ffa0}' | '\u{fff9}'..='\u{fffb}'
        | '\u{e0000}'..='\u{e007f}')
}

/// `text` as one line: hidden characters as `\u{XXXX}`, a backslash as `\\`.
pub fn line(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c == '\\' || is_hidden(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            c if is_hidden(c) => {
                let _ = write!(out, "\\u{{{:04x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// `text` for a person's eyes: each hidden character shown as `⟨U+XXXX⟩`.
pub fn visible(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_hidden) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_hidden(c) {
            let _ = write!(out, "⟨U+{:04X}⟩", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `value` as compact JSON with every hidden character escaped as `\uXXXX` (UTF-16 pairs
/// beyond the BMP), which serde_json leaves raw above U+001F.
pub fn json<T: Serialize + ?Sized>(value: &T) -> String {
    let mut bytes = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut bytes, HiddenEscaped);
    if value.serialize(&mut ser).is_err() {
        return "null".into();
    }
    // The formatter writes only what serde_json gives it and ASCII escapes: valid UTF-8.
    String::from_utf8(bytes).unwrap_or_else(|_| "null".into())
}

struct HiddenEscaped;

impl serde_json::ser::Formatter for HiddenEscaped {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if is_hidden(c) {
                writer.write_all(&fragment.as_bytes()[start..i])?;
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    write!(writer, "\\u{unit:04x}")?;
                }
                start = i + c.len_utf8();
            }
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a script reading `certd decode` does: `\\` and `\u{…}` back to characters.
    fn unescape(text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(i) = rest.find('\\') {
            out.push_str(&rest[..i]);
            rest = &rest[i + 1..];
            if let Some(after) = rest.strip_prefix('\\') {
                out.push('\\');
                rest = after;
            } else {
                let end = rest.find('}').expect("closing brace");
                let code = u32::from_str_radix(&rest[2..end], 16).expect("hex");
                out.push(char::from_u32(code).expect("a character"));
                rest = &rest[end + 1..];
            }
        }
        out + rest
    }

    const HOSTILE: &str =
        "王\u{202e}伟明\n张三\u{200b} a\\b \u{1b}[31mred\u{9b} \u{2028}x\u{feff}\u{e0041}\r\tWATCHDOG=trigger";

    #[test]
    fn a_line_stays_one_line_shows_every_hidden_character_and_undoes_exactly() {
        let escaped = line(HOSTILE);
        assert!(!escaped.chars().any(is_hidden), "{escaped}");
        assert_eq!(escaped.lines().count(), 1);
        assert!(
            escaped.starts_with("王\\u{202e}伟明\\u{000a}张三\\u{200b} a\\\\b \\u{001b}[31m"),
            "{escaped}"
        );
        assert_eq!(unescape(&escaped), HOSTILE);
    }

    #[test]
    fn names_and_scripts_pass_unchanged() {
        for text in [
            "刘𰻝𰻝",
            "𠀀𪜀𫝀𫠠𬺰𰀀𱍐 䶵 丽",
            "阿卜杜·热合曼",
            "欧阳·娜娜",
            "ئابدۇرېھىم",
            "བཀྲ་ཤིས་",
            "ᠮᠣᠩᠭᠣᠯ",
            "ꆈꌠ",
            "Zhang San, O'Brien-Smith",
            "café",
        ] {
            assert!(matches!(line(text), Cow::Borrowed(_)), "{text}");
            assert!(matches!(visible(text), Cow::Borrowed(_)), "{text}");
            assert_eq!(json(text), serde_json::to_string(text).expect("json"), "{text}");
        }
    }

    #[test]
    fn a_screen_shows_hidden_characters_by_their_code() {
        assert_eq!(visible("王\u{202e}伟明"), "王⟨U+202E⟩伟明");
        assert_eq!(visible("张三\u{200b}"), "张三⟨U+200B⟩");
        assert_eq!(visible("x\u{e0041}"), "x⟨U+E0041⟩");
    }

    #[test]
    fn json_escapes_what_serde_leaves_raw_and_reads_back_exactly() {
        let value = serde_json::json!({ "name": HOSTILE, "n": 3 });
        let text = json(&value);
        assert!(!text.chars().any(is_hidden), "{text}");
        assert!(
            text.contains("\\u202e") && text.contains("\\u2028") && text.contains("\\udb40\\udc41"),
            "{text}"
        );
        let back: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(back, value);
    }
}
