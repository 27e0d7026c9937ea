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
