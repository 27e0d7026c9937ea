//! Issue 23: the calendar platforms libraries, archives and museums run, read from their own
//! feed elements. One fixture per platform and quirk under `fixtures/platforms/`; each case
//! pins start and end instants, zone, all-day, location, audience and identity.

use std::path::PathBuf;

use chrono::{DateTime, TimeZone, Utc};
use coalesce_core::{KeyKind, Offering};
use coalesce_ingest::{ParseHints, Parsed, Window, parse};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 5, 12, 0, 0)
        .single()
        .expect("fixed now")
}

/// The hints a crawl of a source configured with `zone` gives.
fn hints(zone: &str) -> ParseHints {
    let mut h = ParseHints::new(now());
    h.window = Window {
        from: Utc
            .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .expect("from"),
        to: Utc
            .with_ymd_and_hms(2028, 1, 1, 0, 0, 0)
            .single()
            .expect("to"),
    };
    h.timezone = Some(zone.parse().expect("zone"));
    h
}

fn read(rel: &str, zone: &str) -> Parsed {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/platforms")
        .join(rel);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    parse(&bytes, &hints(zone)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// What each case pins about one offering.
#[derive(Debug, PartialEq)]
struct Seen {
    key: String,
    key_kind: KeyKind,
    /// (start, end, all_day, date_source) of every occurrence.
    occurrences: Vec<(String, Option<String>, bool, &'static str)>,
    zone: Option<String>,
    location: Option<String>,
    audience: Option<String>,
}

fn seen(o: &Offering) -> Seen {
    Seen {
        key: o.source_key.clone(),
        key_kind: o.key_kind,
        occurrences: o
            .occurrences
            .iter()
            .map(|x| {
                (
                    x.start.to_rfc3339(),
                    x.end.map(|e| e.to_rfc3339()),
                    x.all_day,
                    x.date_source.as_str(),
                )
            })
            .collect(),
        zone: o.timezone.clone(),
        location: o.location.as_ref().and_then(|l| l.name.clone()),
        audience: o.audience_level.clone(),
    }
}

fn want(
    key: &str,
    key_kind: KeyKind,
    occurrence: (&str, Option<&str>, bool, &'static str),
    zone: &str,
    location: Option<&str>,
    audience: Option<&str>,
) -> Seen {
    let (start, end, all_day, source) = occurrence;
    Seen {
        key: key.to_string(),
        key_kind,
        occurrences: vec![(start.to_string(), end.map(str::to_string), all_day, source)],
        zone: Some(zone.to_string()),
        location: location.map(str::to_string),
        audience: audience.map(str::to_string),
    }
}

fn all_seen(p: &Parsed) -> Vec<Seen> {
    p.offerings.iter().map(seen).collect()
}

#[test]
fn libcal_date_and_wall_times_are_one_start_in_the_sources_zone_issue_23() {
    let p = read("libcal_rss_timed_and_all_day.xml", "America/Chicago");
    let z = "America/Chicago";
    assert_eq!(p.platform, Some("libcal"));
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    assert_eq!(
        all_seen(&p),
        vec![
            want(
                "https://riverbend.libcal.example/event/9101",
                KeyKind::Guid,
                (
                    "2027-03-02T14:00:00-06:00",
                    Some("2027-03-02T15:30:00-06:00"),
                    false,
                    "structured"
                ),
                z,
                Some("Room 204, Main Library"),
                Some("Library Staff"),
            ),
            // 00:00:00-23:59:59 is a whole day; after the DST change; no guid: the event id.
            want(
                "9102",
                KeyKind::Guid,
                (
                    "2027-03-19T00:00:00-05:00",
                    Some("2027-03-20T00:00:00-05:00"),
                    true,
                    "structured"
                ),
                z,
                Some("Auditorium, Main Library"),
                Some("Library Staff, Volunteers"),
            ),
        ]
    );
}

#[test]
fn libcal_without_end_campus_without_room_past_midnight_and_without_time() {
    let p = read(
        "libcal_rss_missing_end_and_campus_without_room.xml",
        "America/Los_Angeles",
    );
    let z = "America/Los_Angeles";
    assert_eq!(p.platform, Some("libcal"));
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    assert_eq!(
        all_seen(&p),
        vec![
            want(
                "libcal-5501",
                KeyKind::Guid,
                ("2027-02-10T10:30:00-08:00", None, false, "structured"),
                z,
                Some("Research Commons"),
                Some("Faculty/Staff"),
            ),
            want(
                "libcal-5502",
                KeyKind::Guid,
                (
                    "2027-02-12T13:00:00-08:00",
                    Some("2027-02-12T16:00:00-08:00"),
                    false,
                    "structured"
                ),
                z,
                Some("West Campus"),
                Some("Public"),
            ),
            want(
                "libcal-5503",
                KeyKind::Guid,
                (
                    "2027-02-15T22:00:00-08:00",
                    Some("2027-02-16T01:00:00-08:00"),
                    false,
                    "structured"
                ),
                z,
                Some("Digital Scholarship Lab, Main Campus"),
                None,
            ),
            want(
                "libcal-5504",
                KeyKind::Guid,
                (
                    "2027-02-20T00:00:00-08:00",
                    Some("2027-02-21T00:00:00-08:00"),
                    true,
                    "structured"
                ),
                z,
                Some("Main Campus"),
                None,
            ),
        ]
    );
}

#[test]
fn libcal_times_follow_the_sources_zone_not_the_machines() {
    // The same feed for a library in another zone: the wall times stay, the instants move.
    let p = read("libcal_rss_timed_and_all_day.xml", "Europe/Berlin");
    let first = &p.offerings[0];
    assert_eq!(
        first.occurrences[0].start.to_rfc3339(),
        "2027-03-02T14:00:00+01:00"
    );
    assert_eq!(first.timezone.as_deref(), Some("Europe/Berlin"));
}

#[test]
fn trumba_wall_clock_custom_fields_weblink_and_day_categories() {
    let p = read("trumba_rss_custom_fields.xml", "America/New_York");
    let z = "America/New_York";
    assert_eq!(p.platform, Some("trumba"));
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    assert_eq!(
        all_seen(&p),
        vec![
            want(
                "http://uid.trumba.com/event/771001",
                KeyKind::Guid,
                (
                    "2027-03-02T14:00:00-05:00",
                    Some("2027-03-02T15:30:00-05:00"),
                    false,
                    "structured"
                ),
                z,
                Some("Special Collections Reading Room, Founders Hall"),
                Some("Public, Alumni"),
            ),
            // A whole day ends at the midnight after it: two days, Saturday and Sunday.
            want(
                "http://uid.trumba.com/event/771002",
                KeyKind::Guid,
                (
                    "2027-04-10T00:00:00-04:00",
                    Some("2027-04-12T00:00:00-04:00"),
                    true,
                    "structured"
                ),
                z,
                Some("Library Commons"),
                Some("Faculty, Graduate Students"),
            ),
            // Only the UTC instants: shown in the source's zone.
            want(
                "http://uid.trumba.com/event/771003",
                KeyKind::Guid,
                (
                    "2027-03-18T18:00:00-04:00",
                    Some("2027-03-18T20:00:00-04:00"),
                    false,
                    "structured"
                ),
                z,
                Some("Map Library"),
                None,
            ),
        ]
    );
    let [first, second, third] = &p.offerings[..] else {
        panic!("three offerings");
    };
    // The weblink is the event's page; the Trumba view is not.
    assert_eq!(
        first.url.as_deref(),
        Some("https://library.hillcrest.example.edu/events/family-papers")
    );
    assert_eq!(
        first.registration_url.as_deref(),
        Some("https://hillcrest.example.edu/register?e=771001&src=rss")
    );
    assert_eq!(first.cost.free, Some(true));
    // The day category is not kept; the event type is a category.
    assert_eq!(first.categories, ["Special Collections", "Workshop"]);
    assert_eq!(second.categories, ["Conference"]);
    assert!(third.categories.is_empty());
    assert_eq!(
        second.url.as_deref(),
        Some("https://dh.hillcrest.example.edu/unconference-2027")
    );
    assert_eq!(second.cost.free, Some(false));
    assert_eq!(second.cost.min_amount, Some(25.0));
    assert!(
        third
            .url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://www.trumba.com/calendars/"))
    );
}

#[test]
fn hcalendar_in_descriptions_beats_the_words_with_and_without_dtend() {
    let p = read("hcalendar_in_item_descriptions.xml", "America/Chicago");
    let z = "America/Chicago";
    assert_eq!(p.platform, Some("hcalendar"));
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    let key = |n: &str| format!("https://events.prairie-state.example.edu/libraries/{n}/");
    assert_eq!(
        all_seen(&p),
        vec![
            want(
                &key("2027/03/02/61001"),
                KeyKind::Guid,
                (
                    "2027-03-02T14:00:00-06:00",
                    Some("2027-03-02T15:30:00-06:00"),
                    false,
                    "structured"
                ),
                z,
                Some("Love Library North, Room 221"),
                None,
            ),
            want(
                &key("2027/04/06/61002"),
                KeyKind::Guid,
                ("2027-04-06T10:00:00-05:00", None, false, "structured"),
                z,
                Some("Archives & Special Collections"),
                None,
            ),
            want(
                &key("2027/04/26/61003"),
                KeyKind::Guid,
                (
                    "2027-04-26T00:00:00-05:00",
                    Some("2027-04-27T00:00:00-05:00"),
                    true,
                    "structured"
                ),
                z,
                None,
                None,
            ),
            // "Moved from March 9" in the words; the dtstart says March 10.
            want(
                &key("2027/03/10/61004"),
                KeyKind::Guid,
                (
                    "2027-03-10T13:00:00-06:00",
                    Some("2027-03-10T14:00:00-06:00"),
                    false,
                    "structured"
                ),
                z,
                p.offerings[3]
                    .location
                    .as_ref()
                    .and_then(|l| l.name.as_deref()),
                None,
            ),
            // No hCalendar: the words are still read.
            want(
                &key("2027/03/11/61005"),
                KeyKind::Guid,
                (
                    "2027-03-11T15:00:00-06:00",
                    Some("2027-03-11T16:00:00-06:00"),
                    false,
                    "text"
                ),
                z,
                None,
                None,
            ),
        ]
    );
}

#[test]
fn feeds_of_no_platform_name_none() {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/rss/rss2_event_module.xml");
    let bytes = std::fs::read(&path).expect("fixture");
    let p = parse(&bytes, &hints("America/New_York")).expect("parse");
    assert_eq!(p.platform, None);
}
