//! `parse` never panics, whatever the bytes: arbitrary input, and arbitrary input behind each
//! format's opening so the fuzzing reaches the adapters rather than stopping at sniffing.

use chrono::{TimeZone, Utc};
use coalesce_ingest::{ParseHints, parse};
use proptest::prelude::*;

fn hints() -> ParseHints {
    let now = Utc
        .with_ymd_and_hms(2026, 11, 21, 12, 0, 0)
        .single()
        .expect("valid instant");
    ParseHints::new(now)
}

const PREFIXES: &[&str] = &[
    "",
    "<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel><item><title>",
    "<feed xmlns=\"http://www.w3.org/2005/Atom\"><entry><title type=\"html\">",
    "{\"version\":\"https://jsonfeed.org/version/1.1\",\"items\":[{\"id\":",
    "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;TZID=",
    "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nRRULE:FREQ=",
    "<!DOCTYPE html><html><body><script type=\"application/ld+json\">{\"@type\":\"Event\",",
    "<html><div itemscope itemtype=\"https://schema.org/Event\"><span itemprop=\"",
    // Issue 23: the calendar platforms' own elements.
    "<rss xmlns:libcal=\"https://libcal.com/rss_xmlns.php\"><channel><item><libcal:date>2027-03-02</libcal:date><libcal:start>",
    "<rss xmlns:x-trumba=\"http://schemas.trumba.com/rss/x-trumba\"><channel><item><x-trumba:localstart>2027-03-02T14:00:00</x-trumba:localstart><x-trumba:customfield name=\"",
    "<rss><channel><item><description><![CDATA[<abbr class=\"dtstart\" title=\"",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn parse_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse(&bytes, &hints());
    }

    #[test]
    fn parse_never_panics_behind_a_format_opening(
        prefix in proptest::sample::select(PREFIXES),
        body in "[ -~\\r\\n\\t<>&;:\"'{}\\[\\]éü€]{0,512}",
    ) {
        let doc = format!("{prefix}{body}");
        let _ = parse(doc.as_bytes(), &hints());
    }
}

/// Any JSON value a platform might put where a date, flag, place or price belongs: date-like
/// text at the edges of the calendar, numbers, flags, null, lists and objects.
fn field() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::{Value, json};
    prop_oneof![
        "-?[0-9]{1,6}-[0-9]{1,2}-[0-9]{1,2}([ T][0-9]{1,2}:[0-9]{1,2}(:[0-9]{1,2})?)?([+-][0-9]{2}:[0-9]{2}|Z)?"
            .prop_map(Value::String),
        "[ -~]{0,24}".prop_map(Value::String),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|n| json!(n)),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
        Just(json!([])),
        Just(json!({"venue": "V", "city": 5, "name": "N"})),
        Just(json!("America/Chicago")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Issue 23: The Events Calendar's and Localist's event APIs, every field of any type.
    #[test]
    fn event_api_fields_of_any_type_never_panic(
        f in proptest::collection::vec(field(), 12),
    ) {
        let tec = serde_json::json!({"events": [{
            "id": f[0], "title": "T", "start_date": f[1], "end_date": f[2],
            "utc_start_date": f[3], "utc_end_date": f[4], "timezone": f[5], "all_day": f[6],
            "venue": f[7], "cost": f[8], "cost_details": {"values": [f[9]]}, "organizer": f[10],
        }], "next_rest_url": f[11]});
        let localist = serde_json::json!({"events": [{"event": {
            "id": f[0], "title": "L", "ticket_cost": f[8], "free": f[6], "geo": f[7],
            "experience": f[5], "event_instances": [
                {"event_instance": {"start": f[1], "end": f[2], "all_day": f[6]}},
                {"event_instance": {"start": f[3], "end": f[4], "all_day": true}},
            ],
        }}], "page": {"current": f[9], "total": f[10]}});
        let mut h = hints();
        h.base_url = "https://x.example.org/events?page=1".parse().ok();
        h.timezone = "America/Chicago".parse().ok();
        for doc in [tec, localist] {
            let bytes = serde_json::to_vec(&doc).unwrap_or_default();
            if let Ok(p) = parse(&bytes, &h) {
                for o in &p.offerings {
                    let _ = serde_json::to_string(o);
                }
            }
        }
    }
}

#[test]
fn empty_and_whitespace_documents_are_errors_not_panics() {
    for doc in ["", "   \n\t"] {
        let err = parse(doc.as_bytes(), &hints()).expect_err("empty input is unreadable");
        assert_eq!(err.code(), "empty_document");
    }
}

#[test]
fn unknown_format_is_a_clear_error() {
    let err = parse(b"just some words", &hints()).expect_err("not a feed");
    assert_eq!(err.code(), "unknown_format");
    assert!(err.to_string().contains("cannot tell the format"));
}

#[test]
fn oversized_window_is_rejected() {
    let mut h = hints();
    h.window.to = h.window.from + chrono::Duration::days(100 * 366);
    let err = parse(b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", &h).expect_err("window too long");
    assert_eq!(err.code(), "bad_window");
}
