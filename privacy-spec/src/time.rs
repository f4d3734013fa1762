//! Times as the guidelines file and the runtime write them: RFC 3339 with an offset, or a bare
//! date (midnight UTC), read and written through `jiff`.

use std::fmt;

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;

/// The earliest publish time guidelines can give, in milliseconds since the Unix epoch: the start
/// of year 1, UTC.
pub const MIN_PUBLISHED_MILLIS: i64 = -62_135_596_800_000;

/// The latest publish time guidelines can give, in milliseconds since the Unix epoch: the end of
/// year 9997, UTC, which leaves room for any effect delay inside the calendar's range.
pub const MAX_PUBLISHED_MILLIS: i64 = 253_339_228_799_999;

/// Milliseconds since the Unix epoch of an RFC 3339 time (`2023-07-11T08:00:00Z`,
/// `2023-07-11T16:00:00+08:00`, fractional seconds allowed) or a bare date (`2023-07-11`,
/// midnight UTC). `None` for anything else, a time without its offset among them.
pub fn parse_millis(s: &str) -> Option<i64> {
    if let Ok(t) = s.parse::<jiff::Timestamp>() {
        // Whole milliseconds, rounded down on both sides of the epoch.
        return i64::try_from(t.as_nanosecond().div_euclid(1_000_000)).ok();
    }
    // A date alone: jiff would also read the date out of a time without an offset, which must
    // not pass as midnight.
    if s.contains(['T', 't', ' ', ':']) {
        return None;
    }
    let date: Date = s.parse().ok()?;
    TimeZone::UTC.to_timestamp(date.to_datetime(jiff::civil::Time::midnight())).ok().map(|t| t.as_millisecond())
}

/// Milliseconds since the Unix epoch of a UTC calendar time; `None` if a field is out of range.
pub fn civil_millis(year: i64, month: u32, day: u32, hour: u32, minute: u32, second: u32) -> Option<i64> {
    let dt = DateTime::new(
        i16::try_from(year).ok()?,
        i8::try_from(month).ok()?,
        i8::try_from(day).ok()?,
        i8::try_from(hour).ok()?,
        i8::try_from(minute).ok()?,
        i8::try_from(second).ok()?,
        0,
    )
    .ok()?;
    TimeZone::UTC.to_timestamp(dt).ok().map(|t| t.as_millisecond())
}

/// Writes `millis` as RFC 3339 in UTC (`2023-07-11T08:00:00Z`, with `.250` when there are
/// milliseconds). A time outside the calendar range is written as `unix-ms:<millis>`.
pub fn write_millis(f: &mut impl fmt::Write, millis: i64) -> fmt::Result {
    let Ok(t) = jiff::Timestamp::from_millisecond(millis) else {
        return write!(f, "unix-ms:{millis}");
    };
    let d = TimeZone::UTC.to_datetime(t);
    let year = d.year();
    if (0..=9999).contains(&year) {
        write!(f, "{year:04}")?;
    } else {
        write!(f, "{year:+07}")?;
    }
    write!(f, "-{:02}-{:02}T{:02}:{:02}:{:02}", d.month(), d.day(), d.hour(), d.minute(), d.second())?;
    let ms = millis.rem_euclid(1000);
    if ms != 0 {
        write!(f, ".{ms:03}")?;
    }
    f.write_str("Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(ms: i64) -> String {
        let mut s = String::new();
        write_millis(&mut s, ms).unwrap();
        s
    }

    #[test]
    fn reads_and_writes_rfc3339() {
        let t = parse_millis("2023-07-11T08:00:00Z").unwrap();
        assert_eq!(t, 1_689_062_400_000);
        assert_eq!(parse_millis("2023-07-11T16:00:00+08:00"), Some(t));
        assert_eq!(parse_millis("2023-07-11"), civil_millis(2023, 7, 11, 0, 0, 0));
        assert_eq!(show(t), "2023-07-11T08:00:00Z");
        assert_eq!(show(parse_millis("2024-02-29T00:00:00.25Z").unwrap()), "2024-02-29T00:00:00.250Z");
        assert_eq!(show(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(parse_millis("1969-12-31T23:59:59.9995Z"), Some(-1));
        assert_eq!(parse_millis("1970-01-01T00:00:00.0005Z"), Some(0));
        assert_eq!(show(i64::MAX), format!("unix-ms:{}", i64::MAX));
        assert_eq!(parse_millis("0001-01-01T00:00:00Z"), Some(MIN_PUBLISHED_MILLIS));
        assert_eq!(parse_millis("9997-12-31T23:59:59.999Z"), Some(MAX_PUBLISHED_MILLIS));
        assert_eq!(show(MIN_PUBLISHED_MILLIS), "0001-01-01T00:00:00Z");
        // The latest publish time plus the longest effect delay is still a calendar time.
        let latest = MAX_PUBLISHED_MILLIS + i64::try_from(crate::rules::MAX_EFFECT_DELAY_SECONDS * 1000).unwrap();
        assert_eq!(parse_millis(&show(latest)), Some(latest));
    }

    #[test]
    fn rejects_what_is_not_a_time() {
        for s in [
            "2023-13-01",
            "2023-02-30",
            "2023-07-11T25:00:00Z",
            "yesterday",
            "2023-07-11T08:00",
            "2023-07-11 08:00:00",
            "300000000-01-01T00:00:00Z",
            "",
        ] {
            assert_eq!(parse_millis(s), None, "{s}");
        }
        assert_eq!(civil_millis(2023, 2, 29, 0, 0, 0), None);
        assert_eq!(civil_millis(300_000_000, 1, 1, 0, 0, 0), None);
    }
}
