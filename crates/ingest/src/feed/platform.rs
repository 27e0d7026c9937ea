//! The calendar platforms libraries, archives and museums run, read from their own RSS
//! elements (issue 23): what each writes that the event modules do not say.
//!
//! - LibCal (`xmlns:libcal="https://libcal.com/rss_xmlns.php"`): the day in `libcal:date`, wall
//!   times in `libcal:start`/`libcal:end` (the library's zone, i.e. the source's;
//!   `00:00:00`-`23:59:59` is a whole day, which the finishing stage already reads as one),
//!   the room in `libcal:location`, the building in `libcal:campus`, `libcal:audience`, and
//!   `libcal:eventid`.
//! - Trumba: `xCal:dtstart`/`xCal:dtend` as instants, `x-trumba:localstart`/`localend` as the
//!   calendar's wall clock (together they give the offset), `x-microsoft:cdo-alldayevent`,
//!   `x-trumba:customfield name="..."` and `x-trumba:weblink`.
//!
//! The item's dates become strings the event-module path reads ([`Times`]), so start, end and
//! whole days are decided in one place for every format.

use std::borrow::Cow;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Utc};

use super::reader::EventData;
use crate::draft::Draft;

/// The start and end an item's event elements name, as the event-module path reads them.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Times<'a> {
    /// Lent from the item when written whole (every event-module feed): no copy per item.
    pub start: Option<Cow<'a, str>>,
    pub end: Option<Cow<'a, str>>,
    /// Instants written in UTC are the platform's machine form: shown in the source's zone.
    pub utc_in_zone: bool,
}

/// The start and end of `ev`, a platform's elements combined where it splits them.
pub(super) fn times<'a>(ev: &'a EventData, platform: Option<&str>) -> Times<'a> {
    if let Some(day) = ev.date.as_deref().and_then(date_of) {
        return libcal_times(day, ev);
    }
    if platform == Some("trumba") {
        return trumba_times(ev);
    }
    Times {
        start: ev.start.as_deref().map(Cow::Borrowed),
        end: ev.end.as_deref().map(Cow::Borrowed),
        utc_in_zone: false,
    }
}

/// `libcal:date` and the wall times beside it. Without a start the day is a whole day; an end
/// before the start is on the next day.
fn libcal_times(day: NaiveDate, ev: &EventData) -> Times<'_> {
    let start_time = ev.start.as_deref().and_then(time_of);
    let Some(start) = start_time else {
        // A start written with its own date (or none at all) is read as written.
        let start = match ev.start.as_deref() {
            Some(s) if !s.trim().is_empty() => Cow::Borrowed(s),
            _ => Cow::Owned(day.format("%Y-%m-%d").to_string()),
        };
        // An end time alone without a start time says nothing on its own.
        let end = ev.end.as_deref().filter(|e| time_of(e).is_none());
        return Times {
            start: Some(start),
            end: end.map(Cow::Borrowed),
            utc_in_zone: false,
        };
    };
    let end = ev.end.as_deref().map(|e| match time_of(e) {
        Some(t) => {
            let on = if t < start {
                day.succ_opt().unwrap_or(day)
            } else {
                day
            };
            Cow::Owned(wall(on.and_time(t)))
        }
        None => Cow::Borrowed(e),
    });
    Times {
        start: Some(Cow::Owned(wall(day.and_time(start)))),
        end,
        utc_in_zone: false,
    }
}

/// Trumba's instants and wall times: the wall time with the offset the two imply, so the
/// start shows the calendar's clock and can be placed in the source's zone; a whole day on
/// the wall-clock day.
fn trumba_times(ev: &EventData) -> Times<'_> {
    let local_start = ev.local_start.as_deref().and_then(local_of);
    let local_end = ev.local_end.as_deref().and_then(local_of);
    let all_day = ev
        .all_day
        .as_deref()
        .is_some_and(|a| a.trim().eq_ignore_ascii_case("true") || a.trim() == "1");
    if all_day && let Some(start) = local_start {
        let first = start.date();
        // The wall-clock end of a whole day is the midnight after it (exclusive) or a time on
        // the last day.
        let last = local_end.map(|e| {
            if e.time() == NaiveTime::MIN && e.date() > first {
                e.date().pred_opt().unwrap_or(first)
            } else {
                e.date()
            }
        });
        return Times {
            start: Some(Cow::Owned(first.format("%Y-%m-%d").to_string())),
            end: last
                .filter(|l| *l > first)
                .map(|l| Cow::Owned(l.format("%Y-%m-%d").to_string())),
            utc_in_zone: false,
        };
    }
    let with_offset = |local: Option<NaiveDateTime>, instant: Option<&str>| -> Option<String> {
        let local = local?;
        let Some(at) = instant.and_then(instant_of) else {
            // Only the wall clock: read in the source's zone.
            return Some(wall(local));
        };
        let secs = (local - at.naive_utc()).num_seconds();
        let offset = i32::try_from(secs)
            .ok()
            .filter(|s| s % 60 == 0)
            .and_then(FixedOffset::east_opt)?;
        Some(at.with_timezone(&offset).to_rfc3339())
    };
    match with_offset(local_start, ev.start.as_deref()) {
        Some(start) => Times {
            start: Some(Cow::Owned(start)),
            end: with_offset(local_end, ev.end.as_deref())
                .map(Cow::Owned)
                .or_else(|| ev.end.as_deref().map(Cow::Borrowed)),
            utc_in_zone: true,
        },
        None => Times {
            start: ev.start.as_deref().map(Cow::Borrowed),
            end: ev.end.as_deref().map(Cow::Borrowed),
            utc_in_zone: true,
        },
    }
}

fn wall(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// A day: `2027-03-02` as LibCal writes it, else any date-only form the date reader knows.
fn date_of(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .ok()
        .or_else(|| {
            crate::dates::parse_when(s, None)
                .filter(|w| w.all_day)
                .map(|w| w.at.date_naive())
        })
}

/// A time of day alone: `14:00:00`, `14:00`, `2:00 pm`.
fn time_of(s: &str) -> Option<NaiveTime> {
    let s = s.trim();
    if s.is_empty() || s.len() > 16 {
        return None;
    }
    ["%H:%M:%S", "%H:%M", "%I:%M %p", "%I:%M%p", "%I:%M:%S %p"]
        .iter()
        .find_map(|f| NaiveTime::parse_from_str(s, f).ok())
}

/// A wall-clock date-time without offset (`2027-03-02T14:00:00`).
fn local_of(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .or_else(|| date_of(s).map(|d| d.and_time(NaiveTime::MIN)))
}

/// An instant written with its offset or `Z`.
fn instant_of(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    DateTime::parse_from_rfc3339(s)
        .ok()
        .or_else(|| DateTime::parse_from_str(s, "%Y%m%dT%H%M%S%#z").ok())
        .or_else(|| {
            let naive = s.strip_suffix('Z')?;
            NaiveDateTime::parse_from_str(naive, "%Y%m%dT%H%M%S")
                .ok()
                .map(|n| n.and_utc().fixed_offset())
        })
        .map(|t| t.with_timezone(&Utc))
}

/// What a platform's own fields add to the draft: LibCal's place, audience and event id,
/// Trumba's custom fields and event page.
pub(super) fn apply_fields(d: &mut Draft, ev: &EventData) {
    // The room (`location`, already the location text) within its building: "Room 204,
    // Main Library"; a campus alone is the place.
    if let Some(campus) = ev
        .campus
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        let room = ev
            .location
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty());
        d.location_text = Some(match room {
            Some(r) if !r.eq_ignore_ascii_case(campus) => format!("{r}, {campus}"),
            _ => campus.to_string(),
        });
    }
    if let Some(a) = ev.audience.as_deref().filter(|a| !a.trim().is_empty()) {
        d.audience = Some(a.to_string());
    }
    // The event id keys an item only without a guid of its own, so keys already given stay.
    if d.guid.as_deref().is_none_or(|g| g.trim().is_empty())
        && let Some(id) = ev.event_id.as_deref().filter(|i| !i.trim().is_empty())
    {
        d.guid = Some(id.trim().to_string());
    }
    for (name, value) in &ev.custom {
        custom_field(d, name, value);
    }
    if let Some(page) = ev.web_link.as_deref().filter(|w| !w.trim().is_empty()) {
        // The platform's own event view still informs modality.
        if let Some(old) = d.url.take() {
            d.other_urls.push(old);
        }
        d.url = Some(page.trim().to_string());
        d.base_is_url = false;
    }
}

/// A Trumba custom field, mapped where its name says what it holds.
fn custom_field(d: &mut Draft, name: &str, value: &str) {
    let value = value.trim();
    if value.is_empty() {
        return;
    }
    let name = name.to_ascii_lowercase();
    let says = |words: &[&str]| words.iter().any(|w| name.contains(w));
    if says(&["cost", "price", "fee", "admission", "ticket"]) {
        d.cost_text.get_or_insert_with(|| plain(value));
    } else if says(&["registration", "register", "rsvp", "sign up", "signup"]) {
        // "Required" and the like say nothing a field holds; only a link is kept.
        if let Some(url) = link_in(value) {
            d.registration_url.get_or_insert(url);
        }
    } else if says(&["audience", "intended for", "open to", "who should attend"]) {
        d.audience.get_or_insert_with(|| plain(value));
    } else if says(&["event type", "type of event", "category", "categories"]) {
        for kind in plain(value).split([',', ';']) {
            let kind = kind.trim();
            if !kind.is_empty() && d.categories.len() < 64 {
                d.categories.push(kind.to_string());
            }
        }
    } else if says(&["credit", "ceu", "contact hours"]) {
        d.credits_text.get_or_insert_with(|| plain(value));
    }
}

/// Custom field values are often HTML (a link, a line break).
fn plain(value: &str) -> String {
    if value.contains(['<', '&']) {
        crate::sanitize::html_to_text(value, 16)
    } else {
        coalesce_core::normalize::squash_whitespace(value)
    }
}

/// The value itself when it is a link, else the first `href` in it.
fn link_in(value: &str) -> Option<String> {
    let is_http = |s: &str| {
        let l = s.get(..8).unwrap_or(s).to_ascii_lowercase();
        l.starts_with("http://") || l.starts_with("https://")
    };
    if is_http(value) && !value.contains(char::is_whitespace) {
        return Some(value.to_string());
    }
    let at = value.find("href=")? + 5;
    let rest = &value[at..];
    let quote = rest.chars().next().filter(|q| *q == '"' || *q == '\'')?;
    let rest = &rest[1..];
    let href = &rest[..rest.find(quote)?];
    let href = htmlize::unescape(href).into_owned();
    is_http(&href).then_some(href)
}

/// A category that is only a day, as Trumba writes one per item ("2027/03/02 (Tue)"): the
/// date is in the item's own fields, and a date is no topic.
pub(super) fn is_date_category(c: &str) -> bool {
    let c = c.trim();
    if !c.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        return false;
    }
    let day = c.split_once(' ').map_or(c, |(d, rest)| {
        let rest = rest.trim();
        if rest.starts_with('(') && rest.ends_with(')') && rest.len() <= 12 {
            d
        } else {
            ""
        }
    });
    ["%Y/%m/%d", "%Y-%m-%d", "%m/%d/%Y"]
        .iter()
        .any(|f| NaiveDate::parse_from_str(day, f).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn libcal(date: &str, start: Option<&str>, end: Option<&str>) -> EventData {
        EventData {
            date: Some(date.into()),
            start: start.map(Into::into),
            end: end.map(Into::into),
            ..EventData::default()
        }
    }

    #[test]
    fn libcal_date_and_times_become_wall_clock_date_times() {
        type Case<'a> = (&'a str, EventData, Option<&'a str>, Option<&'a str>);
        let cases: &[Case<'_>] = &[
            (
                "timed",
                libcal("2027-03-02", Some("14:00:00"), Some("15:30:00")),
                Some("2027-03-02T14:00:00"),
                Some("2027-03-02T15:30:00"),
            ),
            (
                "missing end",
                libcal("2027-03-02", Some("09:30"), None),
                Some("2027-03-02T09:30:00"),
                None,
            ),
            (
                "past midnight",
                libcal("2027-03-02", Some("22:00:00"), Some("01:00:00")),
                Some("2027-03-02T22:00:00"),
                Some("2027-03-03T01:00:00"),
            ),
            (
                "no time at all",
                libcal("2027-03-02", None, None),
                Some("2027-03-02"),
                None,
            ),
            (
                "an end time without a start time",
                libcal("2027-03-02", None, Some("15:00:00")),
                Some("2027-03-02"),
                None,
            ),
            (
                "a day written in words",
                libcal("March 2, 2027", Some("14:00:00"), None),
                Some("2027-03-02T14:00:00"),
                None,
            ),
            (
                "twelve-hour clock",
                libcal("2027-03-02", Some("2:00 pm"), Some("3:00 PM")),
                Some("2027-03-02T14:00:00"),
                Some("2027-03-02T15:00:00"),
            ),
        ];
        for (name, ev, start, end) in cases {
            let t = times(ev, Some("libcal"));
            assert_eq!(t.start.as_deref(), *start, "{name}");
            assert_eq!(t.end.as_deref(), *end, "{name}");
            assert!(!t.utc_in_zone, "{name}");
        }
    }

    #[test]
    fn trumba_wall_clock_and_instant_give_the_offset() {
        let ev = EventData {
            start: Some("2027-03-02T19:00:00Z".into()),
            end: Some("2027-03-02T20:30:00Z".into()),
            local_start: Some("2027-03-02T14:00:00".into()),
            local_end: Some("2027-03-02T15:30:00".into()),
            ..EventData::default()
        };
        let t = times(&ev, Some("trumba"));
        assert_eq!(t.start.as_deref(), Some("2027-03-02T14:00:00-05:00"));
        assert_eq!(t.end.as_deref(), Some("2027-03-02T15:30:00-05:00"));

        let whole = EventData {
            start: Some("2027-04-10T05:00:00Z".into()),
            local_start: Some("2027-04-10T00:00:00".into()),
            local_end: Some("2027-04-12T00:00:00".into()),
            all_day: Some("true".into()),
            ..EventData::default()
        };
        let t = times(&whole, Some("trumba"));
        assert_eq!(t.start.as_deref(), Some("2027-04-10"));
        assert_eq!(t.end.as_deref(), Some("2027-04-11"));
    }

    #[test]
    fn only_date_categories_are_dates() {
        for (c, want) in [
            ("2027/03/02 (Tue)", true),
            ("2027-03-02", true),
            ("03/02/2027", true),
            ("2027 Workshops", false),
            ("Archives", false),
            ("2027/03/02 and more words", false),
            ("", false),
        ] {
            assert_eq!(is_date_category(c), want, "{c}");
        }
    }

    #[test]
    fn custom_field_links_are_found_in_markup() {
        assert_eq!(
            link_in("<a href=\"https://r.example.edu/s?a=1&amp;b=2\">Register</a>").as_deref(),
            Some("https://r.example.edu/s?a=1&b=2")
        );
        assert_eq!(
            link_in("https://r.example.edu/x").as_deref(),
            Some("https://r.example.edu/x")
        );
        assert_eq!(link_in("Required"), None);
    }
}
