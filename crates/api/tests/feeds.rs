//! Behaviour of the output writers: injection (HOSTILE C6), cancellations, edits, determinism,
//! time zones, caps, and round trips through our own parser, Python's icalendar +
//! recurring-ical-events + feedparser, and khal. External tools are optional: a test that needs
//! one prints why it skipped.

// Helpers outside #[test] fns panic on a broken fixture by design, like the tests themselves.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, Utc};
use coalesce_api::feeds::{
    Calendar, CalendarLimits, FeedEntry, FeedMeta, event_uid, write_atom, write_calendar,
    write_json_feed, write_offering_ics,
};
use coalesce_core::{Cost, KeyKind, Modality, Occurrence, Offering, Status};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn at(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

fn utc(s: &str) -> DateTime<Utc> {
    at(s).with_timezone(&Utc)
}

fn meta() -> FeedMeta {
    FeedMeta {
        name: "coalesce: free workshops on preservation".into(),
        description: "Offerings matching topic=preservation, free=true".into(),
        self_url: "https://coalesce.example/calendar.ics?topic=preservation&free=true".into(),
        home_url: "https://coalesce.example/api/v1/offerings?topic=preservation&free=true".into(),
        uid_domain: "coalesce.example".into(),
        refresh: Duration::from_secs(12 * 3600),
        generated_at: utc("2026-09-15T08:00:00Z"),
    }
}

fn occ(start: &str, end: &str) -> Occurrence {
    Occurrence {
        start: at(start),
        end: Some(at(end)),
        all_day: false,
        cancelled: false,
        date_source: coalesce_core::DateSource::Structured,
        recurrence_id: None,
    }
}

fn offering(title: &str, tz: Option<&str>, occurrences: Vec<Occurrence>) -> Offering {
    Offering {
        source_key: format!("key:{title}"),
        key_kind: KeyKind::Guid,
        title: title.into(),
        summary: Some("A hands-on session.".into()),
        description_html: None,
        language: Some("en".into()),
        recurring: occurrences.len() > 1,
        occurrences,
        timezone: tz.map(str::to_owned),
        modality: Some(Modality::Online),
        location: None,
        online_url: None,
        url: Some("https://provider.example/e/1".into()),
        registration_url: Some("https://provider.example/register/1".into()),
        image_url: None,
        cost: Cost {
            free: Some(true),
            ..Cost::default()
        },
        credits: vec![],
        sectors: vec![],
        audience_level: None,
        topics: vec!["preservation".into()],
        categories: vec![],
        organizer: None,
        status: Status::Scheduled,
        source_sequence: 0,
        updated_at: None,
        published_at: None,
    }
}

fn entry<'a>(id: &'a str, o: &'a Offering, sequence: u32, updated: &str) -> FeedEntry<'a> {
    FeedEntry {
        id,
        offering: o,
        provider: "Society of Archivists",
        sequence,
        updated_at: utc(updated),
        also_offered_by: vec![],
        topic_labels: vec!["Preservation".into()],
        detail_url: format!("https://coalesce.example/offerings/{id}"),
    }
}

fn hostile() -> Offering {
    let text = std::fs::read_to_string(root().join("fixtures/calendar/hostile_c6_injection.json"))
        .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn write(entries: &[FeedEntry<'_>]) -> Calendar {
    write_calendar(&meta(), entries, &CalendarLimits::default())
}

/// Physical lines without their CRLF; fails on a bare LF or CR.
fn physical_lines(body: &str) -> Vec<&str> {
    assert!(body.ends_with("\r\n"));
    let lines: Vec<&str> = body[..body.len() - 2].split("\r\n").collect();
    for l in &lines {
        assert!(
            !l.contains('\n') && !l.contains('\r'),
            "bare line break in {l:?}"
        );
    }
    lines
}

/// Logical lines (unfolded).
fn logical_lines(body: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for l in physical_lines(body) {
        match l.strip_prefix(' ') {
            Some(rest) => out.last_mut().unwrap().push_str(rest),
            None => out.push(l.to_owned()),
        }
    }
    out
}

fn prop<'a>(lines: &'a [String], name: &str) -> Vec<&'a str> {
    lines
        .iter()
        .filter_map(|l| {
            let (head, value) = l.split_once(':')?;
            (head == name || head.starts_with(&format!("{name};"))).then_some(value)
        })
        .collect()
}

fn tmp_file(name: &str, body: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("coalesce-api-feeds-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    path
}

#[test]
fn c6_injected_title_yields_exactly_one_vevent_per_occurrence() {
    let o = hostile();
    let cal = write(&[entry("c6", &o, 1, "2026-09-01T12:00:00Z")]);
    let lines = logical_lines(&cal.body);
    assert_eq!(
        prop(&lines, "BEGIN")
            .iter()
            .filter(|v| **v == "VEVENT")
            .count(),
        2
    );
    assert_eq!(
        prop(&lines, "END")
            .iter()
            .filter(|v| **v == "VEVENT")
            .count(),
        2
    );
    assert_eq!(
        prop(&lines, "END")
            .iter()
            .filter(|v| **v == "VCALENDAR")
            .count(),
        1
    );
    assert!(prop(&lines, "ATTENDEE").is_empty(), "{}", cal.body);
    assert_eq!(prop(&lines, "SUMMARY").len(), 2);
    assert_eq!(
        prop(&lines, "SUMMARY")[0],
        "Hi\\nATTENDEE:MAILTO:evil@x\\nEND:VEVENT\\nBEGIN:VEVENT\\nSUMMARY:forged"
    );
    // A DTSTART hidden in the summary stays inside DESCRIPTION.
    assert_eq!(
        prop(&lines, "DTSTART").len(),
        2 + 1,
        "two events + the zone's one onset"
    );
    // The link with CRLF is refused rather than written.
    assert!(!cal.body.contains("register"));
}

#[test]
fn c6_location_separators_are_escaped() {
    let o = hostile();
    let cal = write(&[entry("c6", &o, 1, "2026-09-01T12:00:00Z")]);
    let lines = logical_lines(&cal.body);
    assert_eq!(
        prop(&lines, "LOCATION")[0],
        "a\\,b\\;c\\\\d\\, 1 Main St\\nEND:VCALENDAR"
    );
    assert_eq!(prop(&lines, "GEO")[0], "40.712800;-74.006000");
}

#[test]
fn c6_long_emoji_title_is_folded_at_75_octets_without_splitting_utf8() {
    let title: String = "📚🗄️🏛️".chars().cycle().take(300).collect();
    let o = offering(
        &title,
        Some("Europe/Berlin"),
        vec![occ(
            "2026-10-01T10:00:00+02:00",
            "2026-10-01T11:00:00+02:00",
        )],
    );
    let cal = write(&[entry("emoji", &o, 0, "2026-09-01T12:00:00Z")]);
    for l in physical_lines(&cal.body) {
        assert!(l.len() <= 75, "{} octets: {l}", l.len());
    }
    let lines = logical_lines(&cal.body);
    assert_eq!(prop(&lines, "SUMMARY")[0], title);
}

#[test]
fn golden_output_for_the_c6_fixture_is_reviewed() {
    let o = hostile();
    let cal = write(&[entry("c6", &o, 1, "2026-09-01T12:00:00Z")]);
    let path = root().join("fixtures/calendar/hostile_c6_injection.ics");
    if std::env::var_os("COALESCE_BLESS").is_some() || !path.exists() {
        std::fs::write(&path, &cal.body).unwrap();
    }
    let want = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        cal.body, want,
        "output changed; review and bless with COALESCE_BLESS=1"
    );
}

#[test]
fn output_reparses_with_our_own_ical_parser() {
    let o = hostile();
    let emoji: String = "📚".repeat(300);
    let o2 = offering(
        &emoji,
        Some("Europe/Berlin"),
        vec![occ(
            "2026-10-01T10:00:00+02:00",
            "2026-10-01T11:00:00+02:00",
        )],
    );
    let cal = write(&[
        entry("c6", &o, 1, "2026-09-01T12:00:00Z"),
        entry("emoji", &o2, 0, "2026-09-01T12:00:00Z"),
    ]);
    let mut hints = coalesce_ingest::ParseHints::new(utc("2026-09-15T08:00:00Z"));
    hints.kind = Some(coalesce_ingest::Kind::Ics);
    let parsed = coalesce_ingest::parse(cal.body.as_bytes(), &hints).unwrap();
    assert_eq!(parsed.offerings.len(), 3, "{:?}", parsed.warnings);
    let starts: Vec<i64> = parsed
        .offerings
        .iter()
        .flat_map(|o| o.occurrences.iter().map(|x| x.start.timestamp()))
        .collect();
    assert!(starts.contains(&at("2026-11-03T14:00:00-05:00").timestamp()));
    assert!(starts.contains(&at("2026-10-01T10:00:00+02:00").timestamp()));
    assert!(
        parsed
            .offerings
            .iter()
            .any(|p| p.title.chars().filter(|c| *c == '📚').count() == 300)
    );
}

#[test]
fn cancelled_offering_stays_in_the_feed_marked_cancelled() {
    let mut o = offering(
        "Digitization 101",
        Some("America/Chicago"),
        vec![occ(
            "2026-10-05T09:00:00-05:00",
            "2026-10-05T10:00:00-05:00",
        )],
    );
    o.status = Status::Cancelled;
    let cal = write(&[entry("d101", &o, 3, "2026-09-10T00:00:00Z")]);
    let lines = logical_lines(&cal.body);
    assert_eq!(prop(&lines, "STATUS"), ["CANCELLED"]);
    assert_eq!(prop(&lines, "SUMMARY"), ["Cancelled: Digitization 101"]);
    // [0] is the calendar's own DESCRIPTION.
    assert!(prop(&lines, "DESCRIPTION")[1].starts_with("CANCELLED.\\n"));
}

#[test]
fn cancelled_session_marks_only_that_vevent() {
    let mut o = offering(
        "Weekly metadata clinic",
        Some("America/Chicago"),
        vec![
            occ("2026-10-05T09:00:00-05:00", "2026-10-05T10:00:00-05:00"),
            occ("2026-10-12T09:00:00-05:00", "2026-10-12T10:00:00-05:00"),
        ],
    );
    o.occurrences[1].cancelled = true;
    let cal = write(&[entry("clinic", &o, 2, "2026-09-10T00:00:00Z")]);
    let lines = logical_lines(&cal.body);
    assert_eq!(prop(&lines, "STATUS"), ["CONFIRMED", "CANCELLED"]);
    assert_eq!(
        prop(&lines, "SUMMARY")[1],
        "Cancelled: Weekly metadata clinic"
    );
}

#[test]
fn edited_offering_keeps_its_uid_and_raises_sequence() {
    let before = offering(
        "Born-digital triage",
        Some("Europe/London"),
        vec![occ(
            "2026-10-20T14:00:00+01:00",
            "2026-10-20T15:00:00+01:00",
        )],
    );
    let mut after = before.clone();
    after.occurrences = vec![occ(
        "2026-10-22T16:00:00+01:00",
        "2026-10-22T17:00:00+01:00",
    )];
    after.title = "Born-digital triage (rescheduled)".into();
    let a = logical_lines(&write(&[entry("bdt", &before, 1, "2026-09-01T00:00:00Z")]).body);
    let b = logical_lines(&write(&[entry("bdt", &after, 2, "2026-09-12T00:00:00Z")]).body);
    assert_eq!(prop(&a, "UID"), prop(&b, "UID"));
    assert_eq!(prop(&a, "UID"), ["bdt@coalesce.example"]);
    assert_eq!(prop(&a, "SEQUENCE"), ["1"]);
    assert_eq!(prop(&b, "SEQUENCE"), ["2"]);
    assert_eq!(prop(&b, "LAST-MODIFIED"), ["20260912T000000Z"]);
    assert_eq!(prop(&b, "DTSTAMP"), ["20260912T000000Z"]);
    assert_eq!(prop(&b, "DTSTART;TZID=Europe/London"), ["20261022T160000"]);
}

#[test]
fn series_sessions_have_uids_that_survive_the_window_sliding() {
    let full = offering(
        "Monthly reading group",
        Some("Europe/Berlin"),
        vec![
            occ("2026-10-01T18:00:00+02:00", "2026-10-01T19:00:00+02:00"),
            occ("2026-11-05T18:00:00+01:00", "2026-11-05T19:00:00+01:00"),
        ],
    );
    let mut later = full.clone();
    later.occurrences.remove(0);
    let e = entry("mrg", &full, 0, "2026-09-01T00:00:00Z");
    let uid = event_uid(&e, &full.occurrences[1], "coalesce.example");
    assert_eq!(uid, "mrg-20261105T170000Z@coalesce.example");
    let lines = logical_lines(&write(&[entry("mrg", &later, 0, "2026-09-01T00:00:00Z")]).body);
    assert_eq!(prop(&lines, "UID"), [uid.as_str()]);
}

#[test]
fn same_input_gives_same_bytes_whatever_the_entry_order() {
    let a = offering(
        "A",
        Some("Europe/Berlin"),
        vec![occ(
            "2026-10-01T10:00:00+02:00",
            "2026-10-01T11:00:00+02:00",
        )],
    );
    let b = offering(
        "B",
        Some("America/New_York"),
        vec![occ(
            "2026-10-01T10:00:00-04:00",
            "2026-10-01T11:00:00-04:00",
        )],
    );
    let c = hostile();
    let ea = entry("a", &a, 0, "2026-09-01T00:00:00Z");
    let eb = entry("b", &b, 0, "2026-09-02T00:00:00Z");
    let ec = entry("c", &c, 0, "2026-09-03T00:00:00Z");
    let one = write(&[ea.clone(), eb.clone(), ec.clone()]);
    let two = write(&[ec, ea, eb]);
    assert_eq!(one, two);
    assert_eq!(
        coalesce_api::feeds::etag(one.body.as_bytes()),
        coalesce_api::feeds::etag(two.body.as_bytes())
    );
    assert_eq!(one.last_modified, Some(utc("2026-09-03T00:00:00Z")));
}

#[test]
fn calendar_header_names_the_filter_and_asks_for_refresh() {
    let cal = write(&[]);
    let lines = logical_lines(&cal.body);
    assert_eq!(
        &lines[..5],
        [
            "BEGIN:VCALENDAR",
            "PRODID:-//coalesce//coalesce 0.1.0//EN",
            "VERSION:2.0",
            "CALSCALE:GREGORIAN",
            "METHOD:PUBLISH"
        ]
    );
    assert_eq!(
        prop(&lines, "X-WR-CALNAME"),
        ["coalesce: free workshops on preservation"]
    );
    assert_eq!(
        prop(&lines, "X-WR-CALDESC"),
        ["Offerings matching topic=preservation\\, free=true"]
    );
    assert_eq!(prop(&lines, "REFRESH-INTERVAL"), ["PT12H"]);
    assert_eq!(prop(&lines, "X-PUBLISHED-TTL"), ["PT12H"]);
}

#[test]
fn series_across_a_dst_change_keeps_its_local_time() {
    // 14:00 in New York before and after 1 November 2026 (EDT -> EST).
    let o = offering(
        "Tuesday preservation hour",
        Some("America/New_York"),
        vec![
            occ("2026-10-27T14:00:00-04:00", "2026-10-27T15:00:00-04:00"),
            occ("2026-11-03T14:00:00-05:00", "2026-11-03T15:00:00-05:00"),
        ],
    );
    let cal = write(&[entry("tph", &o, 0, "2026-09-01T00:00:00Z")]);
    let lines = logical_lines(&cal.body);
    let starts = prop(&lines, "DTSTART;TZID=America/New_York");
    assert_eq!(starts, ["20261027T140000", "20261103T140000"]);
    let vtz = cal.body.split("BEGIN:VEVENT").next().unwrap();
    assert!(
        vtz.contains(
            "BEGIN:DAYLIGHT\r\nDTSTART:20260308T020000\r\nTZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400"
        ),
        "{vtz}"
    );
    assert!(
        vtz.contains(
            "BEGIN:STANDARD\r\nDTSTART:20261101T020000\r\nTZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500"
        ),
        "{vtz}"
    );
}

#[test]
fn all_day_sessions_are_dates_and_unknown_zones_are_utc() {
    let mut o = offering(
        "Archives week",
        Some("Not/AZone"),
        vec![Occurrence {
            start: at("2026-10-05T00:00:00+02:00"),
            end: Some(at("2026-10-08T00:00:00+02:00")),
            all_day: true,
            cancelled: false,
            date_source: coalesce_core::DateSource::Structured,
            recurrence_id: None,
        }],
    );
    o.occurrences.push(occ(
        "2026-10-06T10:00:00+02:00",
        "2026-10-06T11:00:00+02:00",
    ));
    let cal = write(&[entry("aw", &o, 0, "2026-09-01T00:00:00Z")]);
    let lines = logical_lines(&cal.body);
    assert_eq!(prop(&lines, "DTSTART;VALUE=DATE"), ["20261005"]);
    assert_eq!(prop(&lines, "DTEND;VALUE=DATE"), ["20261008"]);
    assert_eq!(prop(&lines, "DTSTART"), ["20261005", "20261006T080000Z"]);
    assert!(!cal.body.contains("VTIMEZONE"));
}

#[test]
fn byte_cap_keeps_the_soonest_events_and_says_so() {
    let offerings: Vec<Offering> = (0..200)
        .map(|i| {
            let day = 1 + i % 28;
            let month = 10 + (i / 28) % 3;
            let start = format!("2026-{month:02}-{day:02}T{:02}:00:00+02:00", 8 + i / 84);
            let end = format!("2026-{month:02}-{day:02}T{:02}:30:00+02:00", 8 + i / 84);
            offering(
                &format!("Session {i}"),
                Some("Europe/Berlin"),
                vec![occ(&start, &end)],
            )
        })
        .collect();
    let ids: Vec<String> = (0..200).map(|i| format!("o{i}")).collect();
    // One event already over: it goes after every upcoming one in priority.
    let past = offering(
        "Last week",
        Some("Europe/Berlin"),
        vec![occ(
            "2026-09-08T10:00:00+02:00",
            "2026-09-08T11:00:00+02:00",
        )],
    );
    let mut entries: Vec<FeedEntry<'_>> = offerings
        .iter()
        .zip(&ids)
        .map(|(o, id)| entry(id, o, 0, "2026-09-01T00:00:00Z"))
        .collect();
    entries.push(entry("past", &past, 0, "2026-09-01T00:00:00Z"));
    let limits = CalendarLimits {
        max_events: 1000,
        max_bytes: 40_000,
    };
    let cal = write_calendar(&meta(), &entries, &limits);
    assert!(cal.body.len() <= 40_000, "{}", cal.body.len());
    assert!(cal.events > 10 && cal.omitted > 0);
    assert_eq!(cal.events + cal.omitted, 201);
    let all = write(&entries);
    let all_lines = logical_lines(&all.body);
    let all_starts: Vec<&str> = prop(&all_lines, "DTSTART;TZID=Europe/Berlin")
        .into_iter()
        .skip(1)
        .collect();
    let lines = logical_lines(&cal.body);
    let kept: Vec<&str> = prop(&lines, "DTSTART;TZID=Europe/Berlin");
    assert!(
        !kept.contains(&"20260908T100000"),
        "the past event goes first"
    );
    assert_eq!(
        kept,
        all_starts[..cal.events],
        "the soonest upcoming events are kept, in order"
    );
    assert!(
        prop(&lines, "X-WR-CALDESC")[0]
            .contains(&format!("Showing the {} soonest of 201 events", cal.events))
    );

    let few = write_calendar(
        &meta(),
        &entries,
        &CalendarLimits {
            max_events: 5,
            max_bytes: 1_000_000,
        },
    );
    assert_eq!((few.events, few.omitted), (5, 196));
}

#[test]
fn single_offering_ics_uses_the_calendar_uids() {
    let o = hostile();
    let e = entry("c6", &o, 1, "2026-09-01T12:00:00Z");
    let one = write_offering_ics(&e, "coalesce.example").unwrap();
    let lines = logical_lines(&one);
    let cal_lines = logical_lines(&write(std::slice::from_ref(&e)).body);
    assert_eq!(prop(&lines, "UID"), prop(&cal_lines, "UID"));
    assert!(prop(&lines, "REFRESH-INTERVAL").is_empty());
    let undated = offering("Self-paced course", None, vec![]);
    assert_eq!(
        write_offering_ics(
            &entry("sp", &undated, 0, "2026-09-01T00:00:00Z"),
            "coalesce.example"
        ),
        None
    );
}

#[test]
fn atom_and_json_feed_escape_text_and_carry_stable_ids() {
    let o = hostile();
    let mut with_controls = offering("Bell\u{7}<b>bold</b> & co", None, vec![]);
    with_controls.summary = Some("nul\u{0} and esc\u{1b} gone".into());
    let mut e2 = entry("ctl", &with_controls, 0, "2026-09-02T00:00:00Z");
    e2.also_offered_by = vec!["Museum Guild".into()];
    let entries = [entry("c6", &o, 1, "2026-09-01T12:00:00Z"), e2];
    let atom = write_atom(&meta(), &entries);
    assert!(
        atom.contains("<title>Bell&lt;b&gt;bold&lt;/b&gt; &amp; co</title>"),
        "{atom}"
    );
    assert!(atom.contains("<id>tag:coalesce.example,2026:offering/c6</id>"));
    assert!(atom.contains("<updated>2026-09-02T00:00:00Z</updated>"));
    assert!(atom.contains("Also offered by: Museum Guild"));
    // HTML content: sessions as a list items, markup from providers still escaped twice over.
    assert!(
        atom.contains("<content type=\"html\">&lt;p&gt;When:&lt;/p&gt;&lt;ul&gt;&lt;li&gt;"),
        "{atom}"
    );
    assert!(!atom.contains("<content type=\"text\">"));
    assert!(!atom.chars().any(|c| c.is_control() && c != '\n'));
    // Our own feed parser (the ingest crate's RSS/Atom reader) reads it back.
    let mut hints = coalesce_ingest::ParseHints::new(utc("2026-09-15T08:00:00Z"));
    hints.content_type = Some("application/atom+xml".into());
    let parsed = coalesce_ingest::parse(atom.as_bytes(), &hints).unwrap();
    assert_eq!(parsed.offerings.len(), 2);

    let json = write_json_feed(&meta(), &entries);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["version"], "https://jsonfeed.org/version/1.1");
    assert_eq!(
        v["home_page_url"],
        "https://coalesce.example/api/v1/offerings?topic=preservation&free=true"
    );
    assert_eq!(v["items"][0]["id"], "tag:coalesce.example,2026:offering/c6");
    assert_eq!(
        v["items"][0]["_coalesce"]["occurrences"][1]["start"],
        "2026-11-10T14:00:00-05:00"
    );
    assert_eq!(v["items"][1]["summary"], "nul and esc gone");
    assert_eq!(
        v["items"][1]["_coalesce"]["also_offered_by"][0],
        "Museum Guild"
    );
    assert_eq!(write_json_feed(&meta(), &entries), json, "deterministic");
}

/// The entries of the external round trips: the C6 fixture, a DST-crossing series, an all-day
/// course, a cancelled session and a long emoji title.
fn roundtrip_offerings() -> Vec<Offering> {
    let mut series = offering(
        "Tuesday preservation hour",
        Some("America/New_York"),
        vec![
            occ("2026-10-27T14:00:00-04:00", "2026-10-27T15:00:00-04:00"),
            occ("2026-11-03T14:00:00-05:00", "2026-11-03T15:00:00-05:00"),
            occ("2026-11-10T14:00:00-05:00", "2026-11-10T15:00:00-05:00"),
        ],
    );
    series.occurrences[2].cancelled = true;
    let all_day = offering(
        "Archives week",
        Some("Europe/Berlin"),
        vec![Occurrence {
            start: at("2026-10-05T00:00:00+02:00"),
            end: Some(at("2026-10-08T00:00:00+02:00")),
            all_day: true,
            cancelled: false,
            date_source: coalesce_core::DateSource::Structured,
            recurrence_id: None,
        }],
    );
    let emoji = offering(
        &"📚🏛️".repeat(100),
        Some("Australia/Sydney"),
        vec![occ(
            "2026-10-04T09:00:00+11:00",
            "2026-10-04T10:00:00+11:00",
        )],
    );
    vec![hostile(), series, all_day, emoji]
}

fn python_ok() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import icalendar, recurring_ical_events, feedparser"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!(
            "SKIPPED: python3 with icalendar, recurring-ical-events and feedparser not available (pip install icalendar recurring-ical-events feedparser)"
        );
    }
    ok
}

#[test]
fn python_icalendar_and_feedparser_read_the_same_instants() {
    if !python_ok() {
        return;
    }
    let offerings = roundtrip_offerings();
    let ids = ["c6", "tph", "aw", "emoji"];
    let entries: Vec<FeedEntry<'_>> = offerings
        .iter()
        .zip(ids)
        .map(|(o, id)| entry(id, o, 1, "2026-09-01T00:00:00Z"))
        .collect();
    let cal = write(&entries);
    let ics = tmp_file("roundtrip.ics", &cal.body);
    let atom = tmp_file("roundtrip.atom", &write_atom(&meta(), &entries));
    let out = Command::new("python3")
        .arg(root().join("crates/api/tests/roundtrip.py"))
        .args([
            "--ics".as_ref(),
            ics.as_os_str(),
            "--atom".as_ref(),
            atom.as_os_str(),
        ])
        .args(["--from", "2026-01-01", "--to", "2028-01-01"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();

    // What we meant: every occurrence as (uid, UTC start, UTC end) or dates for all-day.
    let mut want: Vec<(String, String, String)> = Vec::new();
    for e in &entries {
        for o in &e.offering.occurrences {
            let uid = event_uid(e, o, "coalesce.example");
            if o.all_day {
                want.push((
                    uid,
                    o.start.date_naive().to_string(),
                    o.end.unwrap().date_naive().to_string(),
                ));
            } else {
                let f = |t: DateTime<FixedOffset>| {
                    t.with_timezone(&Utc)
                        .format("%Y-%m-%dT%H:%M:%SZ")
                        .to_string()
                };
                want.push((uid, f(o.start), f(o.end.unwrap())));
            }
        }
    }
    want.sort_by(|a, b| (&a.1, &a.0).cmp(&(&b.1, &b.0)));
    let got: Vec<(String, String, String)> = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["uid"].as_str().unwrap().to_owned(),
                e["start"].as_str().unwrap().to_owned(),
                e["end"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(got, want);
    let events = v["events"].as_array().unwrap();
    assert!(events.iter().any(|e| {
        e["summary"]
            .as_str()
            .unwrap()
            .starts_with("Hi\nATTENDEE:MAILTO:evil@x\nEND:VEVENT")
    }));
    assert!(
        events
            .iter()
            .any(|e| e["location"] == "a,b;c\\d, 1 Main St\nEND:VCALENDAR")
    );
    assert!(events.iter().any(|e| e["summary"] == "📚🏛️".repeat(100)));
    assert_eq!(
        events.iter().filter(|e| e["status"] == "CANCELLED").count(),
        1
    );

    assert_eq!(v["atom"]["bozo"], false, "{}", v["atom"]["bozo_exception"]);
    assert_eq!(v["atom"]["entries"], 4);
    assert_eq!(v["atom"]["ids"][0], "tag:coalesce.example,2026:offering/c6");
}

#[test]
fn khal_imports_the_calendar() {
    let Ok(version) = Command::new("khal").arg("--version").output() else {
        eprintln!("SKIPPED: khal not installed (apt-get install -y khal)");
        return;
    };
    assert!(version.status.success());
    let offerings = roundtrip_offerings();
    let ids = ["c6", "tph", "aw", "emoji"];
    let entries: Vec<FeedEntry<'_>> = offerings
        .iter()
        .zip(ids)
        .map(|(o, id)| entry(id, o, 1, "2026-09-01T00:00:00Z"))
        .collect();
    let cal = write(&entries);
    let ics = tmp_file("khal.ics", &cal.body);
    let dir = ics.parent().unwrap().join("khal");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("cal")).unwrap();
    let config = format!(
        "[calendars]\n[[feed]]\npath = {cal}\n[sqlite]\npath = {db}\n[locale]\ntimeformat = %H:%M\ndateformat = %Y-%m-%d\nlongdateformat = %Y-%m-%d\ndatetimeformat = %Y-%m-%d %H:%M\nlongdatetimeformat = %Y-%m-%d %H:%M\ndefault_timezone = America/New_York\nlocal_timezone = America/New_York\n[default]\ndefault_calendar = feed\n",
        cal = dir.join("cal").display(),
        db = dir.join("khal.db").display()
    );
    let cfg = dir.join("config");
    std::fs::write(&cfg, config).unwrap();
    let run = |args: &[&str]| {
        let out = Command::new("khal")
            .arg("-c")
            .arg(&cfg)
            .args(args)
            .env("TZ", "America/New_York")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "khal {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    run(&["import", "--batch", ics.to_str().unwrap()]);
    // One file per VEVENT in the vdir: 2 + 3 + 1 + 1.
    let files = std::fs::read_dir(dir.join("cal")).unwrap().count();
    assert_eq!(files, 7);
    let listed = run(&["list", "--format", "{start} {title}", "2026-10-26", "14d"]);
    // Local 14:00 on both sides of the DST change.
    assert!(
        listed.contains("2026-10-27 14:00 Tuesday preservation hour"),
        "{listed}"
    );
    assert!(
        listed.contains("2026-11-03 14:00 Tuesday preservation hour"),
        "{listed}"
    );
}

/// Issue 16: a session the source moves with a RECURRENCE-ID override keeps its calendar UID
/// (keyed by the start the series first gave it); the sessions around it keep theirs too.
#[test]
fn a_moved_series_session_keeps_its_uid() {
    let series = |override_block: &str| {
        format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n\
BEGIN:VEVENT\r\nUID:lab@archives.example\r\nDTSTAMP:20260901T000000Z\r\n\
DTSTART;TZID=America/Chicago:20261006T140000\r\nDTEND;TZID=America/Chicago:20261006T150000\r\n\
RRULE:FREQ=WEEKLY;COUNT=3\r\nSUMMARY:Digitization lab\r\nEND:VEVENT\r\n{override_block}END:VCALENDAR\r\n"
        )
    };
    let moved = "BEGIN:VEVENT\r\nUID:lab@archives.example\r\nDTSTAMP:20260902T000000Z\r\n\
RECURRENCE-ID;TZID=America/Chicago:20261013T140000\r\n\
DTSTART;TZID=America/Chicago:20261014T160000\r\nDTEND;TZID=America/Chicago:20261014T170000\r\n\
SUMMARY:Digitization lab\r\nEND:VEVENT\r\n";
    let mut hints = coalesce_ingest::ParseHints::new(utc("2026-09-15T08:00:00Z"));
    hints.kind = Some(coalesce_ingest::Kind::Ics);
    let uids = |doc: String| {
        let parsed = coalesce_ingest::parse(doc.as_bytes(), &hints).unwrap();
        let o = parsed.offerings[0].clone();
        let lines = logical_lines(&write(&[entry("lab", &o, 1, "2026-09-15T00:00:00Z")]).body);
        let starts: Vec<String> = prop(&lines, "DTSTART;TZID=America/Chicago")
            .into_iter()
            .map(str::to_string)
            .collect();
        let uids: Vec<String> = prop(&lines, "UID")
            .into_iter()
            .map(str::to_string)
            .collect();
        (uids, starts)
    };
    let (before, before_starts) = uids(series(""));
    let (after, after_starts) = uids(series(moved));
    assert_eq!(
        after_starts,
        ["20261006T140000", "20261014T160000", "20261020T140000"]
    );
    assert_ne!(before_starts, after_starts);
    assert_eq!(before, after);
    assert_eq!(after[1], "lab-20261013T190000Z@coalesce.example");
}
