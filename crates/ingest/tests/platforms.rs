//! Issue 23: the calendar platforms libraries, archives and museums run, read from their own
//! feed elements. One fixture per platform and quirk under `fixtures/platforms/`; each case
//! pins start and end instants, zone, all-day, location, audience and identity.

use std::path::PathBuf;

use chrono::{DateTime, TimeZone, Utc};
use coalesce_core::{KeyKind, Modality, Offering, Status};
use coalesce_ingest::{Kind, ParseHints, Parsed, WarningCode, Window, parse};

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

/// A page of an events API fetched from `url` by a source configured with `zone`.
fn read_api(rel: &str, zone: &str, url: &str) -> Parsed {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/platforms")
        .join(rel);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let mut h = hints(zone);
    h.base_url = Some(url.parse().expect("base url"));
    parse(&bytes, &h).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// (code, item) of every warning, sorted.
fn warning_codes(p: &Parsed) -> Vec<(WarningCode, Option<usize>)> {
    let mut w: Vec<_> = p.warnings.iter().map(|w| (w.code, w.item)).collect();
    w.sort();
    w
}

const TEC_PAGE: &str = "https://riverbend.example.org/wp-json/tribe/events/v1/events?page=1";
const LOCALIST_PAGE: &str = "https://events.lakeshore.example.edu/api/2/events?days=180&pp=10";

#[test]
fn tec_rest_events_are_placed_in_their_own_zone_with_whole_days_exclusive_issue_23() {
    let p = read_api(
        "tec_rest_page_with_malformed_events.json",
        "America/Chicago",
        TEC_PAGE,
    );
    let z = "America/Chicago";
    assert_eq!(p.kind, Kind::JsonFeed);
    assert_eq!(p.platform, Some("the-events-calendar"));
    let timed = |s: &'static str, e: &'static str| (s, Some(e), false, "structured");
    let mut undated = want(
        "riverbend.example.org?id=1204",
        KeyKind::Guid,
        ("", None, false, "structured"),
        z,
        None,
        None,
    );
    undated.occurrences.clear();
    undated.zone = None;
    assert_eq!(
        all_seen(&p),
        vec![
            want(
                "riverbend.example.org?id=1201",
                KeyKind::Guid,
                timed("2027-03-02T14:00:00-06:00", "2027-03-02T15:30:00-06:00"),
                z,
                Some("Riverbend History Center"),
                None,
            ),
            // 00:00:00-23:59:59 over two days: whole days, ending at the midnight after.
            want(
                "riverbend.example.org?id=1202",
                KeyKind::Guid,
                (
                    "2027-04-10T00:00:00-05:00",
                    Some("2027-04-12T00:00:00-05:00"),
                    true,
                    "structured"
                ),
                z,
                Some("Riverbend History Center"),
                None,
            ),
            // After the DST change.
            want(
                "riverbend.example.org?id=1203",
                KeyKind::Guid,
                timed("2027-03-16T10:00:00-05:00", "2027-03-16T12:00:00-05:00"),
                z,
                Some("Carnegie Reading Room"),
                None,
            ),
            // No dates at all: listed, with a warning.
            undated,
            // `venue: []`.
            want(
                "riverbend.example.org?id=1206",
                KeyKind::Guid,
                timed("2027-03-23T13:00:00-05:00", "2027-03-23T14:00:00-05:00"),
                z,
                None,
                None,
            ),
            // No global_id: the id; the event's own zone, not the source's.
            want(
                "1207",
                KeyKind::Guid,
                timed("2027-05-04T18:30:00-04:00", "2027-05-04T20:00:00-04:00"),
                "America/New_York",
                Some("Smith & Jones Map Room"),
                None,
            ),
        ]
    );
    let [timed, whole, free, _, webinar, maps] = &p.offerings[..] else {
        panic!("six offerings");
    };
    let loc = timed.location.as_ref().expect("venue");
    assert_eq!(loc.address.as_deref(), Some("400 Front Street, 52001"));
    assert_eq!(loc.locality.as_deref(), Some("Riverbend"));
    assert_eq!(loc.region.as_deref(), Some("IA"));
    assert_eq!(loc.country.as_deref(), Some("United States"));
    assert!(loc.geo.is_some());
    assert_eq!(timed.modality, Some(Modality::InPerson));
    assert_eq!(
        timed.url.as_deref(),
        Some("https://riverbend.example.org/event/caring-for-family-papers/")
    );
    // `website` is the sign-up page; a site's home page is not.
    assert_eq!(
        timed.registration_url.as_deref(),
        Some("https://riverbend.example.org/register/family-papers")
    );
    assert_eq!(whole.registration_url, None);
    assert_eq!(
        webinar.registration_url.as_deref(),
        Some("https://us02web.zoom.us/webinar/register/WN_riverbend1206")
    );
    assert_eq!(webinar.modality, Some(Modality::Online));
    assert_eq!(
        (
            timed.cost.free,
            timed.cost.min_amount,
            timed.cost.currency.as_deref()
        ),
        (Some(false), Some(25.0), Some("USD"))
    );
    assert_eq!(whole.cost.free, None);
    assert_eq!(free.cost.free, Some(true));
    assert_eq!(
        (maps.cost.min_amount, maps.cost.max_amount),
        (Some(10.0), Some(15.0))
    );
    assert_eq!(maps.cost.text.as_deref(), Some("$10 – $15"));
    // HTML entities of WordPress titles and terms are decoded.
    assert_eq!(
        maps.title,
        "Maps & Atlases: Reading \u{201c}Old\u{201d} Surveys"
    );
    assert_eq!(maps.categories, ["Maps & Cartography"]);
    // Categories and tags are the provider's own; topics come through the vocabulary.
    assert_eq!(
        timed.categories,
        ["Workshop", "Preservation", "family history"]
    );
    assert!(
        timed.topics.iter().any(|t| t == "preservation"),
        "{:?}",
        timed.topics
    );
    assert_eq!(
        timed.organizer.as_deref(),
        Some("Riverbend County Archives")
    );
    assert_eq!(free.organizer.as_deref(), Some("Riverbend Public Library"));
    assert_eq!(
        p.next_page.as_ref().map(|u| u.as_str()),
        Some("https://riverbend.example.org/wp-json/tribe/events/v1/events?page=2")
    );
}

#[test]
fn tec_malformed_events_in_the_middle_are_warnings_and_the_rest_is_read() {
    let p = read_api(
        "tec_rest_page_with_malformed_events.json",
        "America/Chicago",
        TEC_PAGE,
    );
    // 8 events: one without dates (kept, undated), one of the wrong types and one that is
    // not an object (skipped).
    assert_eq!(p.offerings.len(), 6);
    assert_eq!(
        warning_codes(&p),
        vec![
            (WarningCode::BadItem, Some(4)),
            (WarningCode::BadItem, Some(5)),
            (WarningCode::BadDate, Some(3)),
        ]
    );
}

#[test]
fn localist_instances_are_one_offering_with_its_sessions_issue_23() {
    let p = read_api(
        "localist_api_instances_experience_and_cancelled.json",
        "America/Chicago",
        LOCALIST_PAGE,
    );
    let z = "America/Chicago";
    assert_eq!(p.kind, Kind::JsonFeed);
    assert_eq!(p.platform, Some("localist"));
    let s = |a: &str, b: Option<&str>, all_day: bool| {
        (a.to_string(), b.map(str::to_string), all_day, "structured")
    };
    let seen_of = |key: &str, occurrences, location: Option<&str>, audience: Option<&str>| Seen {
        key: key.to_string(),
        key_kind: KeyKind::Guid,
        occurrences,
        zone: Some(z.to_string()),
        location: location.map(str::to_string),
        audience: audience.map(str::to_string),
    };
    assert_eq!(
        all_seen(&p),
        vec![
            // Three sessions, the last after the DST change.
            seen_of(
                "40101",
                vec![
                    s(
                        "2027-03-04T18:00:00-06:00",
                        Some("2027-03-04T20:00:00-06:00"),
                        false
                    ),
                    s(
                        "2027-03-11T18:00:00-06:00",
                        Some("2027-03-11T20:00:00-06:00"),
                        false
                    ),
                    s(
                        "2027-03-18T18:00:00-05:00",
                        Some("2027-03-18T20:00:00-05:00"),
                        false
                    ),
                ],
                Some("Room 110, Founders Library"),
                Some("Students, Faculty/Staff"),
            ),
            // A null end.
            seen_of(
                "40102",
                vec![s("2027-03-09T12:00:00-06:00", None, false)],
                None,
                Some("Public"),
            ),
            // Two of its three instances are unreadable: the third is kept.
            seen_of(
                "40103",
                vec![s(
                    "2027-04-06T16:00:00-05:00",
                    Some("2027-04-06T17:00:00-05:00"),
                    false
                )],
                Some("University Archives Gallery"),
                Some("Public, Alumni"),
            ),
            // All day, 00:00-23:59 over two days: the midnight after the last.
            seen_of(
                "40105",
                vec![s(
                    "2027-04-24T00:00:00-05:00",
                    Some("2027-04-26T00:00:00-05:00"),
                    true
                )],
                Some("Main Quad"),
                None,
            ),
        ]
    );
    let [studio, virt, hybrid, cancelled] = &p.offerings[..] else {
        panic!("four offerings");
    };
    assert_eq!(studio.modality, Some(Modality::InPerson));
    assert_eq!(virt.modality, Some(Modality::Online));
    assert_eq!(hybrid.modality, Some(Modality::Hybrid));
    assert_eq!(cancelled.modality, Some(Modality::InPerson));
    assert_eq!(
        virt.online_url.as_deref(),
        Some("https://lakeshore.zoom.us/j/5550101")
    );
    assert_eq!(
        hybrid.online_url.as_deref(),
        Some("https://lakeshore.zoom.us/j/5550103")
    );
    assert_eq!(studio.online_url, None);
    assert_eq!(
        studio.registration_url.as_deref(),
        Some("https://lakeshore.example.edu/tickets/coptic-binding")
    );
    assert_eq!(
        hybrid.registration_url.as_deref(),
        Some(
            "https://events.lakeshore.example.edu/event/exhibit_talk_lake_shipping_ledgers/register"
        )
    );
    assert_eq!(
        studio.url.as_deref(),
        Some("https://events.lakeshore.example.edu/event/book_arts_studio_coptic_binding")
    );
    assert_eq!(
        (
            studio.cost.free,
            studio.cost.min_amount,
            studio.cost.currency.as_deref()
        ),
        (Some(false), Some(40.0), Some("USD"))
    );
    assert_eq!(virt.cost.free, Some(true));
    assert_eq!(hybrid.cost.free, Some(true));
    let loc = studio.location.as_ref().expect("location");
    assert_eq!(loc.address.as_deref(), Some("200 Lake Street, 60201"));
    assert_eq!(
        (
            loc.locality.as_deref(),
            loc.region.as_deref(),
            loc.country.as_deref()
        ),
        (Some("Evanston"), Some("IL"), Some("US"))
    );
    assert!(loc.geo.is_some());
    assert_eq!(studio.categories, ["Workshop", "book arts", "bookbinding"]);
    assert_eq!(studio.status, Status::Scheduled);
    assert_eq!(cancelled.status, Status::Cancelled);
    // page 1 of 3: the same query, the next page.
    assert_eq!(
        p.next_page.as_ref().map(|u| u.as_str()),
        Some("https://events.lakeshore.example.edu/api/2/events?days=180&pp=10&page=2")
    );
}

#[test]
fn localist_malformed_events_and_instances_are_warnings_and_the_rest_is_read() {
    let p = read_api(
        "localist_api_instances_experience_and_cancelled.json",
        "America/Chicago",
        LOCALIST_PAGE,
    );
    assert_eq!(p.offerings.len(), 4);
    assert_eq!(
        warning_codes(&p),
        vec![
            (WarningCode::BadItem, Some(3)),
            (WarningCode::BadItem, Some(4)),
            (WarningCode::BadDate, Some(2)),
            (WarningCode::BadDate, Some(2)),
        ]
    );
}

/// A one-event page of either API, with `extra` top-level members.
fn page(platform: &str, extra: &str) -> Vec<u8> {
    let events = match platform {
        "tec" => {
            r#"[{"id": 1, "title": "T", "start_date": "2027-03-02 14:00:00", "timezone": "America/Chicago"}]"#
        }
        _ => {
            r#"[{"event": {"id": 1, "title": "L", "event_instances": [{"event_instance": {"start": "2027-03-02T14:00:00-06:00"}}]}}]"#
        }
    };
    format!(r#"{{"events": {events}{extra}}}"#).into_bytes()
}

fn parse_page(doc: &[u8], base: Option<&str>, content_type: Option<&str>) -> Parsed {
    let mut h = hints("America/Chicago");
    h.base_url = base.map(|b| b.parse().expect("base"));
    h.content_type = content_type.map(str::to_string);
    parse(doc, &h).expect("parse")
}

#[test]
fn next_page_is_reported_only_when_there_is_one_on_the_same_site() {
    let tec = "https://riverbend.example.org/wp-json/tribe/events/v1/events";
    let localist = "https://events.lakeshore.example.edu/api/2/events?page=2&pp=5";
    type Case<'a> = (
        &'a str,
        &'a str,
        &'a str,
        Option<&'a str>,
        Option<&'a str>,
        bool,
    );
    let cases: &[Case<'_>] = &[
        (
            "tec relative next",
            "tec",
            r#", "next_rest_url": "/wp-json/tribe/events/v1/events?page=2""#,
            Some(tec),
            Some("https://riverbend.example.org/wp-json/tribe/events/v1/events?page=2"),
            false,
        ),
        (
            "tec last page",
            "tec",
            r#", "total_pages": 1"#,
            Some(tec),
            None,
            false,
        ),
        (
            "tec next on another site",
            "tec",
            r#", "next_rest_url": "https://elsewhere.example.com/events?page=2""#,
            Some(tec),
            None,
            true,
        ),
        (
            "tec www prefix is the same site",
            "tec",
            r#", "next_rest_url": "https://www.riverbend.example.org/wp-json/tribe/events/v1/events?page=2""#,
            Some(tec),
            Some("https://www.riverbend.example.org/wp-json/tribe/events/v1/events?page=2"),
            false,
        ),
        (
            "tec next without a base",
            "tec",
            r#", "next_rest_url": "https://riverbend.example.org/e?page=2""#,
            None,
            Some("https://riverbend.example.org/e?page=2"),
            false,
        ),
        (
            "tec next is not http",
            "tec",
            r#", "next_rest_url": "javascript:alert(1)""#,
            Some(tec),
            None,
            true,
        ),
        (
            "localist replaces the page parameter",
            "localist",
            r#", "page": {"current": 2, "size": 5, "total": 4}"#,
            Some(localist),
            Some("https://events.lakeshore.example.edu/api/2/events?pp=5&page=3"),
            false,
        ),
        (
            "localist last page",
            "localist",
            r#", "page": {"current": 4, "size": 5, "total": 4}"#,
            Some(localist),
            None,
            false,
        ),
        (
            "localist without a base url",
            "localist",
            r#", "page": {"current": 1, "size": 5, "total": 4}"#,
            None,
            None,
            false,
        ),
    ];
    for (name, platform, extra, base, want, warned) in cases {
        let p = parse_page(&page(platform, extra), *base, None);
        assert_eq!(p.next_page.as_ref().map(|u| u.as_str()), *want, "{name}");
        assert_eq!(p.offerings.len(), 1, "{name}");
        assert_eq!(
            p.warnings.iter().any(|w| w.code == WarningCode::UnsafeUrl),
            *warned,
            "{name}: {:?}",
            p.warnings
        );
    }
}

#[test]
fn event_apis_are_recognised_with_or_without_a_json_content_type() {
    for ct in [None, Some("application/json; charset=utf-8")] {
        let tec = parse_page(&page("tec", ""), None, ct);
        assert_eq!(tec.platform, Some("the-events-calendar"), "{ct:?}");
        assert_eq!(tec.kind, Kind::JsonFeed);
        let localist = parse_page(&page("localist", ""), None, ct);
        assert_eq!(localist.platform, Some("localist"), "{ct:?}");
    }
    // A JSON Feed is still a JSON Feed.
    let feed = br#"{"version": "https://jsonfeed.org/version/1.1", "title": "F",
        "items": [{"id": "a", "title": "A", "content_text": "x"}]}"#;
    let p = parse_page(feed, None, None);
    assert_eq!(
        (p.kind, p.platform, p.offerings.len()),
        (Kind::JsonFeed, None, 1)
    );
}

#[test]
fn event_api_nesting_is_bounded_before_serde() {
    let deep = format!(
        r#"{{"events": [{{"start_date": "2027-03-02 14:00:00", "venue": {}1{}}}]}}"#,
        "[".repeat(100),
        "]".repeat(100)
    );
    let err = parse(deep.as_bytes(), &hints("America/Chicago")).expect_err("too deep");
    assert_eq!(err.code(), "too_deep");
}

#[test]
fn event_api_dates_at_the_edges_of_the_calendar_are_warnings_not_panics() {
    let docs = [
        r#"{"events": [{"start_date": "262143-12-31 23:59:59", "utc_start_date": "-262143-01-01 00:00:00", "end_date": "262143-12-31 23:59:59", "all_day": true}]}"#,
        r#"{"events": [{"start_date": "9999-12-31 23:59:59", "utc_start_date": "0000-01-01 00:00:00"}]}"#,
        r#"{"events": [{"start_date": "2027-03-14 02:30:00", "timezone": "America/Chicago", "all_day": true, "end_date": "2027-03-01 00:00:00"}]}"#,
        r#"{"events": [{"start_date": "2027-03-02 14:00:00", "timezone": "Mars/Olympus_Mons"}]}"#,
        r#"{"events": [{"event": {"event_instances": [{"event_instance": {"start": "9999-12-31T23:59:59-23:59", "end": "0001-01-01T00:00:00+23:59", "all_day": true}}]}}], "page": {"current": 18446744073709551615, "total": 18446744073709551615}}"#,
        r#"{"events": [{"event": {"event_instances": [{"event_instance": {"start": "2027-03-14", "all_day": false}}, null, 5, []]}}]}"#,
    ];
    for doc in docs {
        let mut h = hints("America/Chicago");
        h.base_url = Some(
            "https://x.example.org/api/2/events?page=1"
                .parse()
                .expect("url"),
        );
        let p = parse(doc.as_bytes(), &h).unwrap_or_else(|e| panic!("{doc}: {e}"));
        assert_eq!(p.offerings.len(), 1, "{doc}");
    }
}
