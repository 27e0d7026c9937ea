//! Reading the date-times providers write in feeds and pages: ISO 8601 / RFC 3339 with or
//! without offset, date-only values, RFC 2822, and a few common variants.

use chrono::{DateTime, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use chrono_tz::Tz;

pub mod text;

/// A point in time as written: with its offset, or local to `zone`, or a whole day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct When {
    pub at: DateTime<FixedOffset>,
    /// Only a date was given.
    pub all_day: bool,
    /// No offset was given: the value was read in the fallback zone.
    pub floating: bool,
}

/// Parses `s`; values without offset are read in `zone` (UTC when `None`).
pub fn parse_when(s: &str, zone: Option<Tz>) -> Option<When> {
    let s = s.trim();
    if s.is_empty() || s.len() > 64 {
        return None;
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(When {
            at: dt,
            all_day: false,
            floating: false,
        });
    }
    if let Ok(dt) = DateTime::parse_from_rfc2822(s) {
        return Some(When {
            at: dt,
            all_day: false,
            floating: false,
        });
    }
    // ISO variants with an offset but no seconds, or a space separator, or a "+0500" offset.
    for fmt in [
        "%Y-%m-%dT%H:%M%:z",
        "%Y-%m-%dT%H:%M%z",
        "%Y-%m-%dT%H:%M:%S%z",
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%:z",
        "%Y-%m-%d %H:%M:%S%z",
        "%Y-%m-%d %H:%M%:z",
    ] {
        if let Ok(dt) = DateTime::parse_from_str(s, fmt) {
            return Some(When {
                at: dt,
                all_day: false,
                floating: false,
            });
        }
    }
    let normalized = s.strip_suffix('Z').map(|x| (x, true));
    if let Some((local, true)) = normalized {
        for fmt in [
            "%Y-%m-%dT%H:%M",
            "%Y-%m-%d %H:%M",
            "%Y-%m-%d %H:%M:%S",
            "%Y%m%dT%H%M%S",
        ] {
            if let Ok(n) = NaiveDateTime::parse_from_str(local, fmt) {
                return Some(When {
                    at: n.and_utc().fixed_offset(),
                    all_day: false,
                    floating: false,
                });
            }
        }
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y%m%dT%H%M%S",
        "%m/%d/%Y %I:%M %p",
        "%m/%d/%Y %H:%M",
        "%B %d, %Y %I:%M %p",
        "%b %d, %Y %I:%M %p",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(When {
                at: localize(n, zone)?,
                all_day: false,
                floating: true,
            });
        }
    }
    for fmt in [
        "%Y-%m-%d",
        "%Y%m%d",
        "%m/%d/%Y",
        "%B %d, %Y",
        "%b %d, %Y",
        "%d %B %Y",
    ] {
        if let Ok(d) = NaiveDate::parse_from_str(s, fmt) {
            return Some(When {
                at: localize(d.and_time(NaiveTime::MIN), zone)?,
                all_day: true,
                floating: true,
            });
        }
    }
    None
}

/// The instant a wall-clock time names in `zone`. In a DST gap the time is moved forward by
/// the gap (as RFC 5545 says); in a fold the earlier instant is used.
pub fn localize(n: NaiveDateTime, zone: Option<Tz>) -> Option<DateTime<FixedOffset>> {
    let Some(zone) = zone else {
        return Some(n.and_utc().fixed_offset());
    };
    match zone.from_local_datetime(&n) {
        LocalResult::Single(t) => Some(t.fixed_offset()),
        LocalResult::Ambiguous(a, _) => Some(a.fixed_offset()),
        LocalResult::None => {
            let later = n + chrono::Duration::hours(1);
            match zone.from_local_datetime(&later) {
                LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => Some(t.fixed_offset()),
                LocalResult::None => None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_table() {
        let ny: Tz = "America/New_York".parse().expect("zone");
        // (input, zone, Some((rfc3339, all_day, floating)))
        type Case<'a> = (&'a str, Option<Tz>, Option<(&'a str, bool, bool)>);
        let cases: &[Case<'_>] = &[
            (
                "2026-03-05T14:00:00-05:00",
                None,
                Some(("2026-03-05T14:00:00-05:00", false, false)),
            ),
            (
                "2026-03-05T19:00:00Z",
                Some(ny),
                Some(("2026-03-05T19:00:00+00:00", false, false)),
            ),
            (
                "2026-03-05T14:00",
                Some(ny),
                Some(("2026-03-05T14:00:00-05:00", false, true)),
            ),
            (
                "2026-07-05 14:00:00",
                Some(ny),
                Some(("2026-07-05T14:00:00-04:00", false, true)),
            ),
            (
                "2026-03-05",
                Some(ny),
                Some(("2026-03-05T00:00:00-05:00", true, true)),
            ),
            (
                "2026-03-05T14:00-0500",
                None,
                Some(("2026-03-05T14:00:00-05:00", false, false)),
            ),
            (
                "Thu, 05 Mar 2026 14:00:00 -0500",
                None,
                Some(("2026-03-05T14:00:00-05:00", false, false)),
            ),
            // 02:30 does not exist on 2026-03-08 in New York: moved forward by the gap.
            (
                "2026-03-08T02:30:00",
                Some(ny),
                Some(("2026-03-08T03:30:00-04:00", false, true)),
            ),
            ("next Tuesday", None, None),
            ("2026-13-45", None, None),
        ];
        for (input, zone, want) in cases {
            let got = parse_when(input, *zone).map(|w| (w.at.to_rfc3339(), w.all_day, w.floating));
            let want = want.map(|(a, b, c)| (a.to_string(), b, c));
            assert_eq!(got, want, "{input}");
        }
    }
}
