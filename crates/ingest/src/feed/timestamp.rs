//! The timestamp parser for `pubDate`, `updated`, `dc:date` and friends (our reader's dates, and
//! feed-rs's for JSON Feed).
//!
//! Feeds mostly write RFC 2822 (RSS) or RFC 3339 (Atom), and those two are tried first, as
//! chrono reads them. What is left is the breakage seen in real feeds: long weekday or month
//! names, "Month D, YYYY" order, `UTC` or `Z` as a zone word, `+hhmm` offsets in ISO dates,
//! one-digit hours, hour 24, and bare dates. Those are repaired token by token (no regex: this
//! runs once per item) and read again; anything still unreadable goes to [`crate::dates`], which
//! knows the looser formats pages use. A `None` leaves the field empty: the item is kept.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveTime, Utc};

/// The instant `text` names, or `None`.
pub(super) fn parse(text: &str) -> Option<DateTime<Utc>> {
    parse_fixed(text).map(|t| t.with_timezone(&Utc))
}

/// The instant `text` names with the offset it was written in (the wall-clock time matters
/// when a publisher puts the event start in `pubDate`).
pub(super) fn parse_fixed(text: &str) -> Option<DateTime<FixedOffset>> {
    let trimmed = text.trim();
    if trimmed.is_empty() || trimmed.len() > 64 {
        return None;
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(trimmed) {
        return Some(t);
    }
    if let Ok(t) = DateTime::parse_from_rfc2822(trimmed) {
        return Some(t);
    }
    repaired_rfc2822(trimmed)
        .or_else(|| repaired_iso(trimmed).map(|t| t.fixed_offset()))
        .or_else(|| crate::dates::parse_when(trimmed, None).map(|w| w.at))
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// The three-letter month a word names ("January", "Sept", "dec"), if any.
fn month(word: &str) -> Option<&'static str> {
    let lower = word.trim_end_matches(['.', ',']).to_ascii_lowercase();
    let short = lower.get(..3)?;
    let i = MONTHS.iter().position(|m| *m == short)?;
    const NAMES: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    Some(NAMES[i])
}

fn is_weekday(word: &str) -> bool {
    let lower = word.trim_end_matches([',', '.']).to_ascii_lowercase();
    ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .any(|d| lower.starts_with(d))
        && lower.chars().all(|c| c.is_ascii_alphabetic())
}

/// RFC 2822 with the usual breakage mended: rebuilt as `D Mon YYYY HH:MM:SS +zzzz`.
fn repaired_rfc2822(text: &str) -> Option<DateTime<FixedOffset>> {
    let mut words: Vec<&str> = text.split_whitespace().collect();
    if words.first().is_some_and(|w| is_weekday(w)) {
        words.remove(0);
    }
    if words.len() < 4 {
        return None;
    }
    // Day and month in either order: "4 January 2027" or "January 4, 2027".
    let (day, mon) = match (month(words[0]), month(words[1])) {
        (Some(m), None) => (words[1].trim_end_matches(','), m),
        (None, Some(m)) => (words[0], m),
        _ => return None,
    };
    let day: u32 = day.parse().ok()?;
    let year: i32 = words[2].trim_end_matches(',').parse().ok()?;
    let mon_index =
        u32::try_from(MONTHS.iter().position(|m| m.eq_ignore_ascii_case(mon))?).ok()? + 1;
    let date = NaiveDate::from_ymd_opt(year, mon_index, day)?;
    let (time, next_day) = clock(words[3])?;
    let zone = words.get(4).copied().unwrap_or("+0000");
    let offset = match zone.to_ascii_uppercase().as_str() {
        "UTC" | "GMT" | "UT" | "Z" | "-0000" => "+0000".to_string(),
        z if z.len() == 5 && (z.starts_with('+') || z.starts_with('-')) => z.to_string(),
        z if z.len() == 6 && z.as_bytes()[3] == b':' => z.replace(':', ""),
        // Event plugins write the site's own abbreviation, which RFC 2822 does not list (it
        // knows only the US mainland ones). Only abbreviations with one meaning in North
        // America and the UK are read; an unknown word leaves the date unread.
        z => abbreviation_offset(z)?.to_string(),
    };
    let date = if next_day { date.succ_opt()? } else { date };
    let rebuilt = format!(
        "{} {} {} {} {offset}",
        date.format("%d"),
        date.format("%b"),
        date.format("%Y"),
        time.format("%H:%M:%S")
    );
    DateTime::parse_from_rfc2822(&rebuilt).ok()
}

/// The fixed offset of a zone abbreviation written in a feed date.
fn abbreviation_offset(zone: &str) -> Option<&'static str> {
    Some(match zone {
        "EST" => "-0500",
        "EDT" => "-0400",
        "CST" => "-0600",
        "CDT" => "-0500",
        "MST" => "-0700",
        "MDT" => "-0600",
        "PST" => "-0800",
        "PDT" => "-0700",
        "AST" => "-0400",
        "ADT" => "-0300",
        "NST" => "-0330",
        "NDT" => "-0230",
        "AKST" => "-0900",
        "AKDT" => "-0800",
        "HST" => "-1000",
        "BST" => "+0100",
        _ => return None,
    })
}

/// `H:MM`, `HH:MM` or `HH:MM:SS`; hour 24 means midnight of the next day.
fn clock(word: &str) -> Option<(NaiveTime, bool)> {
    let mut parts = word.split(':');
    let h: u32 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let s: u32 = parts.next().map_or(Some(0), |s| s.parse().ok())?;
    if parts.next().is_some() {
        return None;
    }
    if h == 24 && m == 0 && s == 0 {
        return Some((NaiveTime::MIN, true));
    }
    Some((NaiveTime::from_hms_opt(h, m, s)?, false))
}

/// ISO 8601 forms RFC 3339 rejects: `+hhmm` offsets, a space instead of `T`, a date alone
/// (midnight UTC).
fn repaired_iso(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Some(d.and_time(NaiveTime::MIN).and_utc());
    }
    let mut s = text.replacen(' ', "T", 1);
    // "+0500" at the end -> "+05:00".
    let b = s.as_bytes();
    if b.len() > 5 {
        let tail = &b[b.len() - 5..];
        if matches!(tail[0], b'+' | b'-') && tail[1..].iter().all(u8::is_ascii_digit) {
            s.insert(s.len() - 2, ':');
        }
    }
    DateTime::parse_from_rfc3339(&s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
        .or_else(|| {
            // Hour 24 in ISO form.
            let (date, rest) = s.split_once("T24:00:00")?;
            let d = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
            let next = (d + Duration::days(1))
                .format("%Y-%m-%dT00:00:00")
                .to_string();
            DateTime::parse_from_rfc3339(&format!("{next}{rest}"))
                .ok()
                .map(|t| t.with_timezone(&Utc))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_table() {
        let cases: &[(&str, Option<&str>)] = &[
            (
                "Mon, 04 Jan 2027 10:00:00 -0500",
                Some("2027-01-04T15:00:00Z"),
            ),
            (
                " Tue, 05 Jan 2027 23:59:59 +0000 ",
                Some("2027-01-05T23:59:59Z"),
            ),
            (
                "Sat, 09 Jan 2027 10:00:00 GMT",
                Some("2027-01-09T10:00:00Z"),
            ),
            (
                "Fri, 08 Jan 2027 10:00:00 UTC",
                Some("2027-01-08T10:00:00Z"),
            ),
            (
                "Sunday, 10 January 2027 10:00:00 +0100",
                Some("2027-01-10T09:00:00Z"),
            ),
            (
                "January 11, 2027 9:30:00 -0600",
                Some("2027-01-11T15:30:00Z"),
            ),
            (
                "Thu, 07 Jan 2027 24:00:00 -0500",
                Some("2027-01-08T05:00:00Z"),
            ),
            ("2027-01-01T00:00:00Z", Some("2027-01-01T00:00:00Z")),
            (
                "2027-01-01T10:00:00.123+05:30",
                Some("2027-01-01T04:30:00.123Z"),
            ),
            ("2027-01-01 10:00:00-05:00", Some("2027-01-01T15:00:00Z")),
            ("2027-01-01T10:00:00-0500", Some("2027-01-01T15:00:00Z")),
            ("2027-01-01", Some("2027-01-01T00:00:00Z")),
            // Event plugins write the site's zone word and no seconds.
            ("Wed, 20 Jan 2027 19:00 AST", Some("2027-01-20T23:00:00Z")),
            ("Wed, 14 Apr 2027 13:00 ADT", Some("2027-04-14T16:00:00Z")),
            ("Mon, 14 Jun 2027 00:00 AKDT", Some("2027-06-14T08:00:00Z")),
            ("Mon, 14 Jun 2027 00:00 XYZ", None),
            ("Wed, 31 Feb 2027 10:00:00 -0500", None),
            ("2027-13-01T00:00:00Z", None),
            ("garbage", None),
            ("", None),
        ];
        for (input, want) in cases {
            let got = parse(input).map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true));
            assert_eq!(got.as_deref(), *want, "{input:?}");
        }
    }
}
