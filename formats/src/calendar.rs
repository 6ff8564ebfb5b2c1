//! Civil dates as the authority means them.
//!
//! Every date on a certificate (approval, e-certificate issue, annotation validity) is a civil
//! date in China's time zone, `Asia/Shanghai` (UTC+8, no daylight saving since 1991). A date
//! travels in a credential as the number of days since 1970-01-01 (the day count of RFC 8943),
//! which is compact in CBOR and independent of any time zone.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan, Zoned};
use std::sync::OnceLock;

/// The day the ministry's electronic certificates started (人社部 e-certificates, 2021-12-17).
/// Certificates whose e-certificate was issued on or after this day must be annotated before use.
pub const ANNOTATION_ERA_START: Date = jiff::civil::date(2021, 12, 17);

const EPOCH: Date = jiff::civil::date(1970, 1, 1);

/// The `Asia/Shanghai` time zone, from jiff's bundled database so an appliance without
/// tzdata still knows it.
pub fn china() -> &'static TimeZone {
    static TZ: OnceLock<TimeZone> = OnceLock::new();
    TZ.get_or_init(|| TimeZone::get("Asia/Shanghai").unwrap_or_else(|_| TimeZone::fixed(jiff::tz::offset(8))))
}

/// The civil date in China at instant `t`.
pub fn date_in_china(t: Timestamp) -> Date {
    t.to_zoned(china().clone()).date()
}

/// The first instant of civil date `d` in China (00:00 Asia/Shanghai).
pub fn start_of_day(d: Date) -> Timestamp {
    d.to_zoned(china().clone())
        .map(|z: Zoned| z.timestamp())
        .unwrap_or(Timestamp::MIN)
}

/// Days since 1970-01-01 (RFC 8943) for `d`.
pub fn to_day_number(d: Date) -> i64 {
    i64::from(EPOCH.until(d).map(|s| s.get_days()).unwrap_or(0))
}

/// The date `n` days after 1970-01-01, if it is a representable date.
pub fn from_day_number(n: i64) -> Option<Date> {
    if !(-700_000..=2_900_000).contains(&n) {
        return None;
    }
    EPOCH.checked_add(n.days()).ok()
}

/// Whole days from `from` to `to` (negative when `to` is earlier).
pub fn days_between(from: Date, to: Date) -> i64 {
    to_day_number(to) - to_day_number(from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn midnight_in_shanghai_is_four_pm_utc_the_day_before() {
        let t: Timestamp = "2024-03-14T16:00:00Z".parse().expect("timestamp");
        assert_eq!(date_in_china(t), jiff::civil::date(2024, 3, 15));
        let just_before: Timestamp = "2024-03-14T15:59:59Z".parse().expect("timestamp");
        assert_eq!(date_in_china(just_before), jiff::civil::date(2024, 3, 14));
        assert_eq!(start_of_day(jiff::civil::date(2024, 3, 15)), t);
    }

    #[test]
    fn day_numbers_round_trip() {
        for d in [
            EPOCH,
            ANNOTATION_ERA_START,
            jiff::civil::date(2099, 12, 31),
            jiff::civil::date(1950, 1, 1),
        ] {
            assert_eq!(from_day_number(to_day_number(d)), Some(d));
        }
        assert_eq!(to_day_number(ANNOTATION_ERA_START), 18_978);
        assert_eq!(from_day_number(i64::MAX), None);
    }
}
