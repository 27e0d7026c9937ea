//! iCalendar time values: DATE, DATE-TIME (UTC, zoned, floating), DURATION and PERIOD, and the
//! zone a TZID names.

use std::collections::HashMap;

use chrono::{
    DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone,
};
use chrono_tz::Tz;

use super::reader::{Prop, Tree};

/// A start or end as written, read into wall-clock time in a known zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    /// Wall-clock time in `zone` (midnight for dates).
    pub local: NaiveDateTime,
    pub zone: Tz,
    /// A DATE value: a whole day.
    pub date_only: bool,
    /// The value named its zone (UTC `Z` or a TZID) instead of floating.
    pub anchored: bool,
}

impl Stamp {
    pub fn instant(&self) -> Option<DateTime<FixedOffset>> {
        crate::dates::localize(self.local, Some(self.zone))
    }
}

/// Why a value's zone is not the one it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ZoneNote {
    /// A TZID that named no zone; the fallback was used.
    Unknown { tzid: String, used: &'static str },
    /// A floating time read in UTC for lack of any calendar or source zone.
    FloatingUtc,
}

/// Resolves TZIDs and floating times for one calendar, caching per TZID.
pub(crate) struct Zones<'t> {
    tree: &'t Tree<'t>,
    /// The calendar's X-WR-TIMEZONE, else the source's zone.
    pub floating: Option<Tz>,
    /// True when `floating` came from the calendar itself (X-WR-TIMEZONE).
    pub calendar_zone: bool,
    cache: HashMap<String, (Tz, bool)>,
    /// VTIMEZONE components by TZID.
    vtimezones: HashMap<String, usize>,
}

impl<'t> Zones<'t> {
    pub fn new(tree: &'t Tree, x_wr_timezone: Option<Tz>, source: Option<Tz>) -> Zones<'t> {
        let mut vtimezones = HashMap::new();
        for (i, c) in tree.components.iter().enumerate() {
            if c.name == "VTIMEZONE"
                && let Some(id) = c.prop("TZID")
            {
                vtimezones.entry(id.value.trim().to_string()).or_insert(i);
            }
        }
        Zones {
            tree,
            floating: x_wr_timezone.or(source),
            calendar_zone: x_wr_timezone.is_some(),
            cache: HashMap::new(),
            vtimezones,
        }
    }

    /// The zone a TZID names: IANA, Windows or vendor-prefixed names, then the VTIMEZONE block's
    /// own hints (X-LIC-LOCATION, its offsets), then the calendar or source zone, then UTC.
    /// The flag is false when the TZID itself could not be resolved.
    fn tzid(&mut self, tzid: &str) -> (Tz, Option<&'static str>) {
        let key = tzid.trim().to_string();
        if let Some(&(tz, known)) = self.cache.get(&key) {
            return (
                tz,
                (!known).then(|| fallback_label(self.floating, self.calendar_zone)),
            );
        }
        let found = crate::tz::resolve(&key).or_else(|| self.vtimezone_zone(&key));
        let (tz, known) = match found {
            Some(tz) => (tz, true),
            None => (self.floating.unwrap_or(Tz::UTC), false),
        };
        self.cache.insert(key, (tz, known));
        (
            tz,
            (!known).then(|| fallback_label(self.floating, self.calendar_zone)),
        )
    }

    fn vtimezone_zone(&self, tzid: &str) -> Option<Tz> {
        let comp = self.tree.components.get(*self.vtimezones.get(tzid)?)?;
        if let Some(loc) = comp
            .prop("X-LIC-LOCATION")
            .and_then(|p| crate::tz::resolve(&p.value))
        {
            return Some(loc);
        }
        let mut standard = None;
        let mut daylight = None;
        for &child in &comp.children {
            let Some(c) = self.tree.components.get(child) else {
                continue;
            };
            let offset = c.prop("TZOFFSETTO").and_then(|p| parse_offset(&p.value));
            match c.name.as_str() {
                "STANDARD" => standard = standard.or(offset),
                "DAYLIGHT" => daylight = daylight.or(offset),
                _ => {}
            }
        }
        zone_for_offsets(standard?, daylight)
    }

    /// Reads a DATE / DATE-TIME property (DTSTART, DTEND, RECURRENCE-ID, EXDATE item, ...).
    pub fn stamp(&mut self, prop: &Prop, raw: &str) -> Option<(Stamp, Option<ZoneNote>)> {
        let value = parse_value(raw, prop.param("VALUE"))?;
        Some(match value {
            Raw::Date(d) => {
                let zone = self.floating.unwrap_or(Tz::UTC);
                (
                    Stamp {
                        local: d.and_time(NaiveTime::MIN),
                        zone,
                        date_only: true,
                        anchored: false,
                    },
                    None,
                )
            }
            Raw::Utc(n) => {
                // Google writes UTC times and means them in X-WR-TIMEZONE: read them there, so a
                // weekly rule keeps its wall-clock time across DST as the calendar shows it.
                let zone = if self.calendar_zone {
                    self.floating.unwrap_or(Tz::UTC)
                } else {
                    Tz::UTC
                };
                let local = zone.from_utc_datetime(&n).naive_local();
                (
                    Stamp {
                        local,
                        zone,
                        date_only: false,
                        anchored: true,
                    },
                    None,
                )
            }
            Raw::Local(n) => match prop.param("TZID").map(str::trim).filter(|t| !t.is_empty()) {
                Some(tzid) => {
                    let (zone, fallback) = self.tzid(tzid);
                    let note = fallback.map(|used| ZoneNote::Unknown {
                        tzid: tzid.chars().take(80).collect(),
                        used,
                    });
                    (
                        Stamp {
                            local: n,
                            zone,
                            date_only: false,
                            anchored: true,
                        },
                        note,
                    )
                }
                None => {
                    let note = self.floating.is_none().then_some(ZoneNote::FloatingUtc);
                    let zone = self.floating.unwrap_or(Tz::UTC);
                    (
                        Stamp {
                            local: n,
                            zone,
                            date_only: false,
                            anchored: false,
                        },
                        note,
                    )
                }
            },
        })
    }
}

fn fallback_label(floating: Option<Tz>, calendar_zone: bool) -> &'static str {
    match (floating, calendar_zone) {
        (Some(_), true) => "the calendar's x-wr-timezone",
        (Some(_), false) => "the source's zone",
        (None, _) => "utc",
    }
}

/// A value as written, before any zone is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Raw {
    Date(NaiveDate),
    Utc(NaiveDateTime),
    Local(NaiveDateTime),
}

/// `20200101`, `20200101T100000`, `20200101T100000Z`; tolerant of missing seconds, ISO dashes
/// and colons, and surrounding blanks.
pub(crate) fn parse_value(raw: &str, value_param: Option<&str>) -> Option<Raw> {
    // Most values are written without dashes or colons: read in place, not copied.
    let trimmed = raw.trim();
    let cleaned: String;
    let s = if trimmed.bytes().any(|b| b == b'-' || b == b':') {
        cleaned = trimmed.chars().filter(|c| *c != '-' && *c != ':').collect();
        cleaned.as_str()
    } else {
        trimmed
    };
    if s.len() > 32 {
        return None;
    }
    let (s, utc) = match s.strip_suffix(['Z', 'z']) {
        Some(rest) => (rest, true),
        None => (s, false),
    };
    let (date, time) = match s.bytes().position(|b| b == b'T' || b == b't') {
        Some(at) => (&s[..at], Some(&s[at + 1..])),
        None => (s, None),
    };
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let d = date_of_digits(date)?;
    let is_date = value_param.is_some_and(|v| v.eq_ignore_ascii_case("DATE"));
    let Some(time) = time.filter(|_| !is_date) else {
        return Some(Raw::Date(d));
    };
    let time = time.find('.').map_or(time, |dot| &time[..dot]);
    if !time.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let t = match time.len() {
        6 => time_of_digits(time).or_else(|| {
            // 235960 (a leap second) and 240000 are seen in the wild.
            let h: u32 = time[..2].parse().ok()?;
            let m: u32 = time[2..4].parse().ok()?;
            (h <= 24 && m < 60)
                .then(|| NaiveTime::from_hms_opt(h.min(23), m, 59))
                .flatten()
        })?,
        4 => time_of_digits(time)?,
        _ => return None,
    };
    let n = d.and_time(t);
    Some(if utc { Raw::Utc(n) } else { Raw::Local(n) })
}

/// The number the ASCII digits `s` spell (at most a few).
fn digits(s: &str) -> u32 {
    s.bytes()
        .fold(0, |n, b| n * 10 + u32::from(b.wrapping_sub(b'0')))
}

/// `NaiveDate::parse_from_str(s, "%Y%m%d")` for eight ASCII digits, read directly: chrono's
/// format parser was the largest single cost of reading an event's times. An impossible date
/// is `None` either way.
fn date_of_digits(s: &str) -> Option<NaiveDate> {
    let d = s
        .get(..8)
        .filter(|_| s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()));
    match d {
        Some(d) => NaiveDate::from_ymd_opt(
            i32::try_from(digits(&d[..4])).ok()?,
            digits(&d[4..6]),
            digits(&d[6..8]),
        ),
        None => NaiveDate::parse_from_str(s, "%Y%m%d").ok(),
    }
}

/// `NaiveTime::parse_from_str(s, "%H%M%S")` (six digits) or `"%H%M"` (four) for ASCII digits,
/// read directly when the time is an ordinary one; anything else (a leap second, an hour of
/// 24) is left to chrono, which has its own rules for those.
fn time_of_digits(s: &str) -> Option<NaiveTime> {
    let ordinary = (s.len() == 6 || s.len() == 4) && s.bytes().all(|b| b.is_ascii_digit());
    if ordinary {
        let (h, m) = (digits(&s[..2]), digits(&s[2..4]));
        let sec = if s.len() == 6 { digits(&s[4..6]) } else { 0 };
        if h < 24 && m < 60 && sec < 60 {
            return NaiveTime::from_hms_opt(h, m, sec);
        }
    }
    let format = if s.len() == 4 { "%H%M" } else { "%H%M%S" };
    NaiveTime::parse_from_str(s, format).ok()
}

/// `+0100`, `-0530`, `+013000`.
pub(crate) fn parse_offset(s: &str) -> Option<FixedOffset> {
    let s = s.trim();
    let (sign, digits) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => (1, s),
    };
    if !(digits.len() == 4 || digits.len() == 6) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let h: i32 = digits[..2].parse().ok()?;
    let m: i32 = digits[2..4].parse().ok()?;
    let sec: i32 = if digits.len() == 6 {
        digits[4..].parse().ok()?
    } else {
        0
    };
    if h > 23 || m > 59 || sec > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60 + sec))
}

/// An IANA zone with these standard and daylight offsets (checked in January and July), so a
/// custom VTIMEZONE ("Customized Time Zone", "GMT +1") still gets real DST rules.
fn zone_for_offsets(standard: FixedOffset, daylight: Option<FixedOffset>) -> Option<Tz> {
    const PREFERRED: &[Tz] = &[
        Tz::Europe__Berlin,
        Tz::Europe__London,
        Tz::America__New_York,
        Tz::America__Chicago,
        Tz::America__Denver,
        Tz::America__Los_Angeles,
        Tz::America__Phoenix,
        Tz::Australia__Sydney,
        Tz::Europe__Helsinki,
        Tz::Europe__Moscow,
        Tz::Asia__Kolkata,
        Tz::Asia__Tokyo,
        Tz::Asia__Shanghai,
        Tz::Pacific__Auckland,
        Tz::America__Sao_Paulo,
        Tz::UTC,
    ];
    let want_std = standard.local_minus_utc();
    let want_dst = daylight.map_or(want_std, |d| d.local_minus_utc());
    let offsets = |tz: &Tz| -> Option<(i32, i32)> {
        let jan = NaiveDate::from_ymd_opt(2024, 1, 15)?.and_hms_opt(12, 0, 0)?;
        let jul = NaiveDate::from_ymd_opt(2024, 7, 15)?.and_hms_opt(12, 0, 0)?;
        let a = tz.offset_from_utc_datetime(&jan).fix().local_minus_utc();
        let b = tz.offset_from_utc_datetime(&jul).fix().local_minus_utc();
        Some((a.min(b), a.max(b)))
    };
    let want = (want_std.min(want_dst), want_std.max(want_dst));
    if let Some(tz) = PREFERRED.iter().find(|tz| offsets(tz) == Some(want)) {
        return Some(*tz);
    }
    if let Some(tz) = chrono_tz::TZ_VARIANTS
        .iter()
        .find(|tz| offsets(tz) == Some(want))
    {
        return Some(*tz);
    }
    // Whole hours without DST: the Etc/GMT zones (whose names have the sign inverted).
    if want.0 == want.1 && want.0 % 3600 == 0 {
        let h = -want.0 / 3600;
        let name = if h == 0 {
            "Etc/GMT".to_string()
        } else {
            format!("Etc/GMT{h:+}")
        };
        return name.parse().ok();
    }
    None
}

/// A DURATION (`P1D`, `PT1H30M`, `-P2W`), exact; `None` when unreadable.
pub(crate) fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let (neg, s) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let s = s.strip_prefix(['P', 'p'])?;
    let mut total: i64 = 0;
    let mut num: Option<i64> = None;
    let mut in_time = false;
    let mut any = false;
    for c in s.chars() {
        match c.to_ascii_uppercase() {
            d @ '0'..='9' => {
                let digit = i64::from(d as u8 - b'0');
                num = Some(num.unwrap_or(0).checked_mul(10)?.checked_add(digit)?);
                if num.unwrap_or(0) > 1_000_000_000 {
                    return None;
                }
            }
            'T' => in_time = true,
            unit => {
                let n = num.take()?;
                let secs = match (unit, in_time) {
                    ('W', false) => n * 7 * 86_400,
                    ('D', false) => n * 86_400,
                    ('H', true) => n * 3_600,
                    ('M', true) => n * 60,
                    ('S', true) => n,
                    _ => return None,
                };
                total = total.checked_add(secs)?;
                any = true;
            }
        }
    }
    if !any || num.is_some() {
        return None;
    }
    let d = Duration::try_seconds(total)?;
    Some(if neg { -d } else { d })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `parse_value` as it was before it read values in place and digits directly.
    fn parse_value_reference(raw: &str, value_param: Option<&str>) -> Option<Raw> {
        let s: String = raw
            .trim()
            .chars()
            .filter(|c| *c != '-' && *c != ':')
            .collect();
        if s.len() > 32 {
            return None;
        }
        let (s, utc) = match s.strip_suffix(['Z', 'z']) {
            Some(rest) => (rest, true),
            None => (s.as_str(), false),
        };
        let (date, time) = match s.split_once(['T', 't']) {
            Some((d, t)) => (d, Some(t)),
            None => (s, None),
        };
        if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let d = NaiveDate::parse_from_str(date, "%Y%m%d").ok()?;
        let is_date = value_param.is_some_and(|v| v.eq_ignore_ascii_case("DATE"));
        let Some(time) = time.filter(|_| !is_date) else {
            return Some(Raw::Date(d));
        };
        let time = time.split('.').next().unwrap_or(time);
        if !time.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let t = match time.len() {
            6 => NaiveTime::parse_from_str(time, "%H%M%S").ok().or_else(|| {
                let h: u32 = time[..2].parse().ok()?;
                let m: u32 = time[2..4].parse().ok()?;
                (h <= 24 && m < 60)
                    .then(|| NaiveTime::from_hms_opt(h.min(23), m, 59))
                    .flatten()
            })?,
            4 => NaiveTime::parse_from_str(time, "%H%M").ok()?,
            _ => return None,
        };
        let n = d.and_time(t);
        Some(if utc { Raw::Utc(n) } else { Raw::Local(n) })
    }

    proptest::proptest! {
        #[test]
        fn values_read_in_place_equal_the_reference(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "2027", "0115", "0230", "13", "1300", "130000", "235960", "240000", "T", "t",
                    "Z", "z", "-", ":", " ", ".5", "x", "é", "1", "00",
                ]),
                0..8,
            ),
            date_param in proptest::sample::select(vec![None, Some("DATE"), Some("date-time")]),
        ) {
            let raw = parts.concat();
            proptest::prop_assert_eq!(
                parse_value(&raw, date_param),
                parse_value_reference(&raw, date_param),
                "{:?}",
                raw
            );
        }

        #[test]
        fn digits_read_directly_equal_chrono(
            date in proptest::collection::vec(proptest::sample::select(vec![
                '0', '1', '2', '3', '5', '9',
            ]), 8),
            time in proptest::collection::vec(proptest::sample::select(vec![
                '0', '1', '2', '3', '4', '5', '6', '9',
            ]), 0..7),
        ) {
            let date: String = date.into_iter().collect();
            proptest::prop_assert_eq!(
                super::date_of_digits(&date),
                NaiveDate::parse_from_str(&date, "%Y%m%d").ok(),
                "{}",
                date
            );
            let time: String = time.into_iter().collect();
            let format = if time.len() == 4 { "%H%M" } else { "%H%M%S" };
            proptest::prop_assert_eq!(
                super::time_of_digits(&time),
                NaiveTime::parse_from_str(&time, format).ok(),
                "{}",
                time
            );
        }
    }

    #[test]
    fn date_digits_cover_the_calendar() {
        for y in ["0000", "0001", "1970", "2024", "2100", "9999"] {
            for m in 0..=13 {
                for d in 0..=32 {
                    let s = format!("{y}{m:02}{d:02}");
                    assert_eq!(
                        super::date_of_digits(&s),
                        NaiveDate::parse_from_str(&s, "%Y%m%d").ok(),
                        "{s}"
                    );
                }
            }
        }
        for h in 0..=25 {
            for m in [0, 1, 30, 59, 60, 99] {
                for sec in [0, 59, 60, 61, 99] {
                    let s = format!("{h:02}{m:02}{sec:02}");
                    assert_eq!(
                        super::time_of_digits(&s),
                        NaiveTime::parse_from_str(&s, "%H%M%S").ok(),
                        "{s}"
                    );
                }
                let s = format!("{h:02}{m:02}");
                assert_eq!(
                    super::time_of_digits(&s),
                    NaiveTime::parse_from_str(&s, "%H%M").ok(),
                    "{s}"
                );
            }
        }
    }

    #[test]
    fn values_table() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).expect("date");
        let cases: &[(&str, Option<&str>, Option<Raw>)] = &[
            ("20200101", None, Some(Raw::Date(d(2020, 1, 1)))),
            (
                "20200101T100000",
                None,
                d(2020, 1, 1).and_hms_opt(10, 0, 0).map(Raw::Local),
            ),
            (
                "20200101T100000Z",
                None,
                d(2020, 1, 1).and_hms_opt(10, 0, 0).map(Raw::Utc),
            ),
            (
                " 20240812T223000Z",
                None,
                d(2024, 8, 12).and_hms_opt(22, 30, 0).map(Raw::Utc),
            ),
            (
                "19970901T1300Z",
                None,
                d(1997, 9, 1).and_hms_opt(13, 0, 0).map(Raw::Utc),
            ),
            (
                "20200101T100000",
                Some("DATE"),
                Some(Raw::Date(d(2020, 1, 1))),
            ),
            (
                "2020-01-01T10:00:00",
                None,
                d(2020, 1, 1).and_hms_opt(10, 0, 0).map(Raw::Local),
            ),
            ("20240230T100000Z", None, None),
            ("1990000Z", None, None),
            ("-0011130T100000", None, None),
        ];
        for (raw, param, want) in cases {
            assert_eq!(parse_value(raw, *param), *want, "{raw}");
        }
    }

    #[test]
    fn durations_table() {
        let cases = [
            ("PT1H", Some(3_600)),
            ("P1D", Some(86_400)),
            ("P1W", Some(604_800)),
            ("-PT15M", Some(-900)),
            ("P1DT2H3M4S", Some(93_784)),
            ("PT", None),
            ("P1H", None),
            ("garbage", None),
        ];
        for (s, want) in cases {
            assert_eq!(parse_duration(s).map(|d| d.num_seconds()), want, "{s}");
        }
    }

    #[test]
    fn custom_vtimezone_offsets_find_a_zone_with_the_same_rules() {
        let cet = FixedOffset::east_opt(3600).expect("offset");
        let cest = FixedOffset::east_opt(7200).expect("offset");
        assert_eq!(zone_for_offsets(cet, Some(cest)), Some(Tz::Europe__Berlin));
        let ist = FixedOffset::east_opt(19_800).expect("offset");
        assert_eq!(zone_for_offsets(ist, None), Some(Tz::Asia__Kolkata));
    }
}
