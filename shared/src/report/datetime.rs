//! RFC 3339 date-times as reporters really send them.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, SecondsFormat, Utc};

/// How a date-time was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Read {
    /// RFC 3339 with `Z` or `+00:00`.
    Utc,
    /// RFC 3339 with another offset, converted to UTC.
    Offset,
    /// No offset: read as UTC (Microsoft has sent these).
    NoOffset,
    /// A bare date: read as midnight UTC.
    DateOnly,
}

/// Parses a report date-time, tolerating a missing offset or a bare date.
pub(crate) fn parse(s: &str) -> Option<(DateTime<Utc>, Read)> {
    let s = s.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        let how = if dt.offset().local_minus_utc() == 0 {
            Read::Utc
        } else {
            Read::Offset
        };
        return Some((dt.with_timezone(&Utc), how));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dt%H:%M:%S%.f",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some((n.and_utc(), Read::NoOffset));
        }
    }
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    Some((d.and_hms_opt(0, 0, 0)?.and_utc(), Read::DateOnly))
}

/// The UTC date, `YYYY-MM-DD` (years outside 0..=9999 keep their sign and digits).
pub(crate) fn day(dt: &DateTime<Utc>) -> String {
    format!("{:04}-{:02}-{:02}", dt.year(), dt.month(), dt.day())
}

/// Formats as RFC 3339 UTC with `Z`, with fractional seconds only when present.
pub(crate) fn format(dt: &DateTime<Utc>) -> String {
    dt.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn rfc8460_4_3_date_time_forms() {
        let cases = [
            ("2016-04-01T00:00:00Z", "2016-04-01T00:00:00Z", Read::Utc),
            ("2016-04-01t00:00:00z", "2016-04-01T00:00:00Z", Read::Utc),
            ("2016-04-01T00:00:00+00:00", "2016-04-01T00:00:00Z", Read::Utc),
            ("2016-04-01T02:00:00+02:00", "2016-04-01T00:00:00Z", Read::Offset),
            ("2016-03-31T19:00:00-05:00", "2016-04-01T00:00:00Z", Read::Offset),
            ("2016-04-01T00:00:00", "2016-04-01T00:00:00Z", Read::NoOffset),
            ("2016-04-01T00:00:00.5Z", "2016-04-01T00:00:00.500Z", Read::Utc),
            ("2016-04-01", "2016-04-01T00:00:00Z", Read::DateOnly),
        ];
        for (input, want, how) in cases {
            let (dt, got_how) = parse(input).unwrap();
            assert_eq!((format(&dt).as_str(), got_how), (want, how), "{input}");
        }
        for bad in ["", "yesterday", "2016-13-01T00:00:00Z", "1459468800"] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }
}
