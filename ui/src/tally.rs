//! The day's tally, in memory only: how many were checked, valid and refused since midnight
//! (Beijing time), whether a certificate was already checked today — kept as a keyed hash of
//! its management number, the key drawn afresh each start, never a name or a number — and
//! the last outcomes, without names, for the admin screen. Pure on a given time.

use certkiosk_verify::verdict::Colour;
use certkiosk_verify::{Verdict, VerdictCode};
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use std::collections::hash_map::Entry;
use std::collections::hash_map::RandomState;
use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasher;

/// How many outcomes the admin screen lists.
pub const RECENT: usize = 20;

/// One outcome as the admin screen lists it: when, and what; no one's name or number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub at: Timestamp,
    pub verdict: VerdictCode,
    /// The colour shown (a valid result with a caution is amber).
    pub colour: Colour,
}

/// The day's counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub checked: u32,
    pub valid: u32,
    /// Red verdicts: revoked, annotation expired, cancelled or missing, forged.
    pub refused: u32,
}

#[derive(Debug)]
pub struct Tally {
    key: RandomState,
    day: Option<Date>,
    counts: Counts,
    /// Keyed hash of a management number → when it was first checked today.
    seen: HashMap<u64, Timestamp>,
    recent: VecDeque<Outcome>,
}

impl Default for Tally {
    fn default() -> Self {
        Tally {
            key: RandomState::new(),
            day: None,
            counts: Counts::default(),
            seen: HashMap::new(),
            recent: VecDeque::new(),
        }
    }
}

fn day_of(t: Timestamp) -> Date {
    t.to_zoned(TimeZone::get("Asia/Shanghai").unwrap_or(TimeZone::UTC))
        .date()
}

impl Tally {
    /// Counts `v`, checked at `at`; returns when its certificate was first checked today, if
    /// it was (a certificate passed back down the queue, a person at the gate twice).
    pub fn record(&mut self, v: &Verdict, at: Timestamp) -> Option<Timestamp> {
        self.roll(at);
        self.counts.checked += 1;
        match v.colour() {
            _ if v.verdict == VerdictCode::Valid => self.counts.valid += 1,
            Colour::Red => self.counts.refused += 1,
            _ => {}
        }
        if self.recent.len() == RECENT {
            self.recent.pop_back();
        }
        self.recent.push_front(Outcome {
            at,
            verdict: v.verdict,
            colour: v.colour(),
        });
        let number = &v.certificate.as_ref()?.management_number;
        match self.seen.entry(self.key.hash_one(number)) {
            Entry::Occupied(first) => Some(*first.get()),
            Entry::Vacant(slot) => {
                slot.insert(at);
                None
            }
        }
    }

    /// Today's counts as of `now` (zero after midnight).
    pub fn counts(&mut self, now: Timestamp) -> Counts {
        self.roll(now);
        self.counts
    }

    /// The last outcomes, newest first (yesterday's too: the list is for the administrator).
    pub fn recent(&self) -> impl Iterator<Item = &Outcome> {
        self.recent.iter()
    }

    /// A new day starts the counts and the memory of certificates afresh.
    fn roll(&mut self, now: Timestamp) {
        let today = day_of(now);
        if self.day != Some(today) {
            self.day = Some(today);
            self.counts = Counts::default();
            self.seen.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(code: VerdictCode, number: Option<&str>) -> Verdict {
        let mut v = certkiosk_verify::unreadable(String::new(), "2026-01-01T00:00:00Z".parse().expect("t"));
        v.verdict = code;
        v.certificate = number.map(|n| crate::present::test_certificate(n, "王䶮"));
        v
    }

    fn at(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    #[test]
    fn the_day_is_counted_and_a_second_check_is_said_with_the_first_time() {
        let mut t = Tally::default();
        // 08:14 and later, Beijing time.
        let first = at("2026-11-25T00:14:00Z");
        assert_eq!(t.record(&verdict(VerdictCode::Valid, Some("A1")), first), None);
        assert_eq!(
            t.record(&verdict(VerdictCode::Revoked, Some("B2")), at("2026-11-25T00:20:00Z")),
            None
        );
        assert_eq!(
            t.record(&verdict(VerdictCode::Unreadable, None), at("2026-11-25T00:21:00Z")),
            None
        );
        assert_eq!(
            t.record(&verdict(VerdictCode::Valid, Some("A1")), at("2026-11-25T03:00:00Z")),
            Some(first),
            "the same certificate again: when it was first checked"
        );
        assert_eq!(
            t.counts(at("2026-11-25T09:00:00Z")),
            Counts {
                checked: 4,
                valid: 2,
                refused: 1
            }
        );
        let recent: Vec<_> = t.recent().map(|o| o.verdict).collect();
        assert_eq!(
            recent,
            [
                VerdictCode::Valid,
                VerdictCode::Unreadable,
                VerdictCode::Revoked,
                VerdictCode::Valid
            ],
            "newest first"
        );
        // Midnight in Beijing is 16:00 UTC: a new day, nothing remembered.
        assert_eq!(t.counts(at("2026-11-25T16:00:00Z")), Counts::default());
        assert_eq!(
            t.record(&verdict(VerdictCode::Valid, Some("A1")), at("2026-11-25T16:05:00Z")),
            None
        );
        assert_eq!(t.recent().count(), 5, "the list outlives the day");
    }

    #[test]
    fn the_list_keeps_the_last_twenty() {
        let mut t = Tally::default();
        let start = at("2026-11-25T00:00:00Z");
        for i in 0..30 {
            let when = start.checked_add(jiff::SignedDuration::from_secs(i)).expect("t");
            t.record(&verdict(VerdictCode::Valid, Some(&format!("N{i}"))), when);
        }
        assert_eq!(t.recent().count(), RECENT);
        assert_eq!(
            t.recent().next().map(|o| o.at.as_second()),
            Some(start.as_second() + 29)
        );
    }
}
