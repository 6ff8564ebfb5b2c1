//! The keyboard-wedge barcode scanner: a USB device that types the QR text and Enter within
//! milliseconds. Keys reach us one at a time from the scan screen; this tells a scanner's burst
//! from stray typing and hands over whole lines.

use std::time::{Duration, Instant};

/// A scanner types far faster than this between two keys; a person does not.
pub const MAX_GAP: Duration = Duration::from_millis(50);
/// Longest line kept: a credential is a few hundred characters.
pub const MAX_LINE: usize = 4096;

#[derive(Debug, Default)]
pub struct Wedge {
    line: String,
    last_key: Option<Instant>,
    /// The line so far came too slowly or grew too long: it is dropped at Enter.
    spoiled: bool,
}

impl Wedge {
    /// One key's text at `now`. Returns the line when Enter ends a burst fast enough to be a
    /// scanner's; anything typed slowly, and anything after a pause, is dropped.
    pub fn key(&mut self, text: &str, now: Instant) -> Option<String> {
        let gap = self.last_key.map(|last| now.saturating_duration_since(last));
        self.last_key = Some(now);
        if gap.is_some_and(|g| g > MAX_GAP) {
            // A pause: whatever came before it was not part of this burst.
            self.line.clear();
            self.spoiled = false;
        }
        if text == "\n" || text == "\r" {
            let line = std::mem::take(&mut self.line);
            let spoiled = std::mem::replace(&mut self.spoiled, false);
            let line = line.trim();
            return (!spoiled && !line.is_empty()).then(|| line.to_owned());
        }
        // Only printable text: arrows, function keys and the like arrive as private-use chars.
        if text
            .chars()
            .all(|c| !c.is_control() && !('\u{e000}'..='\u{f8ff}').contains(&c))
        {
            self.line.push_str(text);
            if self.line.len() > MAX_LINE {
                self.line.clear();
                self.spoiled = true;
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn burst(wedge: &mut Wedge, text: &str, start: Instant, gap: Duration) -> Option<String> {
        let mut t = start;
        let mut out = None;
        for c in text.chars() {
            out = wedge.key(&c.to_string(), t);
            t += gap;
        }
        out.or_else(|| wedge.key("\n", t))
    }

    #[test]
    fn a_scanner_burst_gives_the_line() {
        let mut w = Wedge::default();
        let got = burst(&mut w, "CK1:ABC 123", Instant::now(), Duration::from_millis(2));
        assert_eq!(got.as_deref(), Some("CK1:ABC 123"));
    }

    #[test]
    fn slow_typing_and_a_pause_are_not_a_scan() {
        let mut w = Wedge::default();
        assert_eq!(
            burst(&mut w, "CK1:ABC", Instant::now(), Duration::from_millis(300)),
            None
        );
        // Half a line, a pause, then a whole burst: only the burst counts.
        let t = Instant::now();
        w.key("x", t);
        w.key("y", t + Duration::from_millis(1));
        let got = burst(&mut w, "CK1:Z", t + Duration::from_secs(2), Duration::from_millis(1));
        assert_eq!(got.as_deref(), Some("CK1:Z"));
    }

    #[test]
    fn an_endless_line_is_dropped_whole() {
        let mut w = Wedge::default();
        let long = "A".repeat(MAX_LINE + 10);
        assert_eq!(burst(&mut w, &long, Instant::now(), Duration::from_micros(10)), None);
        assert_eq!(
            burst(&mut w, "CK1:OK", Instant::now(), Duration::from_micros(10)).as_deref(),
            Some("CK1:OK")
        );
    }

    #[test]
    fn control_keys_are_ignored() {
        let mut w = Wedge::default();
        let t = Instant::now();
        w.key("\u{f700}", t);
        w.key("\t", t);
        assert_eq!(
            burst(&mut w, "CK1:Q", t, Duration::from_millis(1)).as_deref(),
            Some("CK1:Q")
        );
    }
}
