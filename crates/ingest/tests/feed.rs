//! RSS / Atom / JSON Feed adapter: one fixture per trap under `fixtures/{rss,atom,jsonfeed}`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use coalesce_ingest::{Kind, ParseHints, Parsed, WarningCode, Window, parse};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 2, 1, 12, 0, 0)
        .single()
        .expect("fixed now")
}

fn hints() -> ParseHints {
    let mut h = ParseHints::new(now());
    h.window = Window {
        from: Utc
            .with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
            .single()
            .expect("from"),
        to: Utc
            .with_ymd_and_hms(2028, 1, 1, 0, 0, 0)
            .single()
            .expect("to"),
    };
    h
}

fn fixture(rel: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn read(rel: &str) -> Parsed {
    read_with(rel, &hints())
}

fn read_with(rel: &str, h: &ParseHints) -> Parsed {
    parse(&fixture(rel), h).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn titles(p: &Parsed) -> Vec<&str> {
    p.offerings.iter().map(|o| o.title.as_str()).collect()
}

fn has_warning(p: &Parsed, code: WarningCode) -> bool {
    p.warnings.iter().any(|w| w.code == code)
}

#[test]
fn rss2_event_module_gives_occurrences_location_and_organizer() {
    let mut h = hints();
    h.timezone = Some("America/New_York".parse().expect("zone"));
    let p = read_with("rss/rss2_event_module.xml", &h);
    assert_eq!(p.kind, Kind::Rss);
    assert_eq!(p.title.as_deref(), Some("State Archives Workshops"));
    assert_eq!(
        titles(&p),
        [
            "Digital Preservation Basics",
            "Caring for Photographs",
            "Records Retention Day"
        ]
    );

    let first = &p.offerings[0];
    assert_eq!(first.source_key, "evt-101");
    assert_eq!(first.occurrences.len(), 1);
    assert_eq!(
        first.occurrences[0].start.to_rfc3339(),
        "2026-03-05T14:00:00-05:00"
    );
    assert_eq!(
        first.occurrences[0].end.map(|e| e.to_rfc3339()).as_deref(),
        Some("2026-03-05T16:00:00-05:00")
    );
    assert_eq!(
        first.location.as_ref().and_then(|l| l.name.as_deref()),
        Some("Reading Room B, 100 Main St, Albany")
    );
    assert_eq!(
        first.organizer.as_deref(),
        Some("State Archives Education Office")
    );
    assert!(
        first.categories.iter().any(|c| c == "workshop"),
        "{:?}",
        first.categories
    );
    assert!(first.categories.iter().any(|c| c == "Digital Preservation"));
    assert_eq!(first.language.as_deref(), Some("en-us"));

    // xCal floating time read in the source's zone; a join link as location is the online url.
    let second = &p.offerings[1];
    assert_eq!(
        second.occurrences[0].start.to_rfc3339(),
        "2026-04-10T09:30:00-04:00"
    );
    assert_eq!(second.timezone.as_deref(), Some("America/New_York"));
    assert_eq!(
        second.online_url.as_deref(),
        Some("https://meet.example.org/j/123")
    );

    // Date-only event: all day, the end date is inclusive so the occurrence ends the midnight after.
    let third = &p.offerings[2].occurrences[0];
    assert!(third.all_day);
    assert_eq!(third.start.to_rfc3339(), "2026-05-01T00:00:00-04:00");
    assert_eq!(
        third.end.map(|e| e.to_rfc3339()).as_deref(),
        Some("2026-05-03T00:00:00-04:00")
    );
}

#[test]
fn rss1_rdf_items_are_read() {
    let p = read("rss/rss1_rdf.xml");
    assert_eq!(titles(&p), ["Cataloging with RDA", "Metadata for Museums"]);
    assert_eq!(
        p.offerings[0].url.as_deref(),
        Some("https://library.example.net/c/1")
    );
    assert_eq!(p.offerings[1].organizer.as_deref(), Some("Jane Doe"));
    assert!(p.offerings[0].published_at.is_some());
}

#[test]
fn rss091_latin1_feed_is_read() {
    let p = read("rss/rss091.xml");
    assert_eq!(p.encoding, "windows-1252");
    assert_eq!(titles(&p), ["Exhibit Labels Workshop"]);
    assert_eq!(p.title.as_deref(), Some("Museum News 0.91"));
}

#[test]
fn rss_without_version_is_repaired_and_read() {
    let p = read("rss/rss_without_version.xml");
    assert_eq!(titles(&p), ["First", "Second"]);
    assert!(has_warning(&p, WarningCode::Repaired));
}

#[test]
fn atom10_resolves_xml_base_and_reads_html_titles_as_text() {
    let p = read("atom/atom10_xml_base_html_title.xml");
    assert_eq!(p.kind, Kind::Atom);
    assert_eq!(p.title.as_deref(), Some("Archives & Records Learning"));
    let o = &p.offerings[0];
    assert_eq!(o.title, "Appraisal & Selection online");
    assert_eq!(o.source_key, "tag:archives.example.org,2026:course-7");
    assert_eq!(
        o.url.as_deref(),
        Some("https://archives.example.org/courses/appraisal")
    );
    let html = o.description_html.as_deref().unwrap_or_default();
    assert!(
        html.contains("href=\"https://archives.example.org/courses/syllabus\""),
        "{html}"
    );
    assert_eq!(o.summary.as_deref(), Some("A six-week course."));
    assert_eq!(o.organizer.as_deref(), Some("Education Office"));
    assert_eq!(o.categories, ["Appraisal"]);
    assert_eq!(
        o.published_at.map(|d| d.to_rfc3339()).as_deref(),
        Some("2026-01-20T10:00:00+00:00")
    );
}

#[test]
fn atom03_is_read_as_atom() {
    let p = read("atom/atom03.xml");
    assert_eq!(titles(&p), ["Preservation Week Webinar", "Second Entry"]);
    assert_eq!(
        p.offerings[0].url.as_deref(),
        Some("https://old.example.org/pw")
    );
    assert!(
        p.offerings[0]
            .description_html
            .as_deref()
            .unwrap_or_default()
            .contains("Free webinar.")
    );
}

#[test]
fn json_feed_11_items_with_html_text_and_image() {
    let p = read("jsonfeed/jsonfeed11.json");
    assert_eq!(p.kind, Kind::JsonFeed);
    assert_eq!(p.title.as_deref(), Some("Museum Education JSON"));
    assert_eq!(titles(&p), ["Collections Care 101", "Text Only"]);
    let first = &p.offerings[0];
    assert_eq!(
        first.image_url.as_deref(),
        Some("https://museum.example.org/img/care.jpg")
    );
    assert_eq!(first.organizer.as_deref(), Some("Registrar's Office"));
    assert_eq!(first.categories, ["collections", "conservation"]);
    assert_eq!(
        p.offerings[1].description_html.as_deref(),
        Some("<p>Plain text line one.</p><p>Second paragraph.</p>")
    );
}

#[test]
fn json_feed_nested_deeper_than_the_limit_is_refused_without_recursing() {
    let body = format!(
        "{{\"version\": \"https://jsonfeed.org/version/1.1\", \"title\": \"t\", \"items\": [{{\"id\": \"1\", \"x\": {}1{}}}]}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let mut h = hints();
    h.kind = Some(Kind::JsonFeed);
    let err = parse(body.as_bytes(), &h).expect_err("too deep");
    assert_eq!(err.code(), "too_deep");
}

#[test]
fn windows1251_body_served_as_utf8_keeps_every_item_with_replacement_characters() {
    let mut h = hints();
    h.content_type = Some("application/rss+xml; charset=utf-8".into());
    let p = read_with("rss/windows1251_served_as_utf8.xml", &h);
    assert_eq!(p.offerings.len(), 2);
    assert!(p.offerings.iter().all(|o| o.title.contains('\u{FFFD}')));
    assert_eq!(p.offerings[1].url.as_deref(), Some("https://example.ru/2"));
    assert!(has_warning(&p, WarningCode::LossyDecode));
}

#[test]
fn latin1_bytes_under_utf8_declaration_damage_only_their_title() {
    let p = read("rss/latin1_under_utf8_declaration.xml");
    assert_eq!(titles(&p), ["Atelier caf\u{FFFD}", "Clean title"]);
    assert_eq!(p.title.as_deref(), Some("Bibliothèque"));
    assert!(has_warning(&p, WarningCode::LossyDecode));
}

#[test]
fn billion_laughs_is_not_expanded() {
    let t0 = Instant::now();
    let p = read("rss/billion_laughs.xml");
    assert!(
        t0.elapsed() < Duration::from_secs(2),
        "took {:?}",
        t0.elapsed()
    );
    assert_eq!(p.offerings.len(), 1);
    assert_eq!(p.offerings[0].title, "&lol9;");
    assert!(
        !p.offerings[0]
            .description_html
            .as_deref()
            .unwrap_or_default()
            .contains("lollol")
    );
}

#[test]
fn external_entities_are_kept_literal_and_never_read() {
    let p = read("rss/xxe.xml");
    let o = &p.offerings[0];
    assert_eq!(o.title, "Hello &xxe;");
    assert!(
        !format!("{o:?}").contains("root:"),
        "no /etc/passwd content"
    );
    assert!(
        o.description_html
            .as_deref()
            .unwrap_or_default()
            .contains("&amp;net;")
    );
}

#[test]
fn item_flood_is_capped_with_a_warning() {
    let mut body = String::from("<rss version=\"2.0\"><channel><title>flood</title>");
    for i in 0..100_000 {
        body.push_str(&format!(
            "<item><title>t{i}</title><guid>g{i}</guid></item>"
        ));
    }
    body.push_str("</channel></rss>");
    let p = parse(body.as_bytes(), &hints()).expect("flood parses");
    assert_eq!(p.offerings.len(), 2_000);
    assert_eq!(p.offerings[1_999].title, "t1999");
    assert!(has_warning(&p, WarningCode::TooManyItems));
}

#[test]
fn a_million_nested_elements_neither_overflow_the_stack_nor_stall() {
    let handle = std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(|| {
            let n = 1_000_000;
            let mut body = String::with_capacity(n * 11 + 200);
            body.push_str("<rss version=\"2.0\"><channel><title>deep</title><item><title>deep item</title><description>");
            body.push_str(&"<div>".repeat(n));
            body.push_str(&"</div>".repeat(n));
            body.push_str("</description></item></channel></rss>");
            let t0 = Instant::now();
            let result = parse(body.as_bytes(), &hints()).map(|p| p.offerings.len());
            (result.map_err(|e| e.to_string()), t0.elapsed())
        })
        .expect("spawn");
    let (result, took) = handle.join().expect("no stack overflow or panic");
    assert!(took < Duration::from_secs(20), "took {took:?}");
    // A clean error or at most the one item: never a crash.
    if let Ok(n) = result {
        assert!(n <= 1);
    }
}

#[test]
fn xss_in_feed_fields_never_reaches_the_output() {
    let p = read("rss/xss_in_title_and_description.xml");
    assert_eq!(p.offerings.len(), 1);
    let all = format!("{:?} {:?}", p.title, p.offerings).to_lowercase();
    for bad in [
        "<script",
        "javascript:",
        "onerror=",
        "onclick=",
        "onload=",
        "onmouseover=",
    ] {
        assert!(!all.contains(bad), "{bad} in {all}");
    }
    assert!(p.offerings[0].title.contains("Webinar"));
    assert!(p.offerings[0].url.is_none());
    assert!(has_warning(&p, WarningCode::UnsafeUrl));
}

#[test]
fn relative_links_resolve_against_the_feed_link() {
    let p = read("rss/relative_links.xml");
    let o = &p.offerings[0];
    assert_eq!(
        o.url.as_deref(),
        Some("https://museum.example.org/programs/conservation-talk")
    );
    let html = o.description_html.as_deref().unwrap_or_default();
    assert!(
        html.contains("href=\"https://museum.example.org/register\""),
        "{html}"
    );
    assert!(
        html.contains("src=\"https://museum.example.org/img/talk.png\""),
        "{html}"
    );
}

#[test]
fn item_without_title_gets_one_from_its_text() {
    let p = read("rss/item_without_title.xml");
    assert_eq!(p.offerings.len(), 1);
    assert!(
        p.offerings[0]
            .title
            .starts_with("An introduction to oral history")
    );
    assert!(has_warning(&p, WarningCode::MissingTitle));
}

#[test]
fn a_broken_item_does_not_take_the_good_ones_down() {
    let p = read("rss/broken_item_among_good.xml");
    assert_eq!(titles(&p), ["Good One", "Broken Two", "Good Three"]);
    assert_eq!(p.offerings[2].url.as_deref(), Some("https://example.org/3"));
    assert_eq!(
        p.offerings[1].url.as_deref(),
        Some("https://example.org/2?a=1&b=2")
    );
    assert!(has_warning(&p, WarningCode::Repaired));
    assert!(
        p.warnings
            .iter()
            .any(|w| w.code == WarningCode::BadItem && w.item == Some(1))
    );
}

#[test]
fn repeated_guids_collapse_copies_and_rekey_different_items() {
    let p = read("rss/repeated_guids.xml");
    assert_eq!(titles(&p), ["Same", "Different item, same guid"]);
    assert_eq!(p.offerings[0].source_key, "dup");
    assert_ne!(p.offerings[1].source_key, "dup");
    assert_eq!(
        p.warnings
            .iter()
            .filter(|w| w.code == WarningCode::DuplicateGuid)
            .count(),
        2
    );
}

#[test]
fn unterminated_item_at_the_end_of_a_truncated_feed_is_recovered() {
    let body = "<rss version=\"2.0\"><channel><title>cut</title>\
                <item><title>Whole</title><link>https://example.org/1</link></item>\
                <item><title>Cut off</title><link>https://example.org/2</link>";
    let p = parse(body.as_bytes(), &hints()).expect("recovered");
    assert_eq!(titles(&p), ["Whole", "Cut off"]);
}

#[test]
fn atom_xhtml_content_and_titles_keep_their_markup_and_resolve_against_xml_base() {
    let p = read("atom/atom10_xhtml_content.xml");
    assert_eq!(p.kind, Kind::Atom);
    assert_eq!(p.title.as_deref(), Some("Conservation Studio"));
    assert_eq!(titles(&p), ["Paper repair basics", "Less <than> obvious"]);
    let first = &p.offerings[0];
    assert_eq!(
        first.url.as_deref(),
        Some("https://studio.example.org/talks/2026/paper-repair")
    );
    let html = first.description_html.as_deref().unwrap_or_default();
    assert!(html.contains("<p>Hands-on."), "{html}");
    assert!(
        !html.contains("<div"),
        "the xhtml wrapper is dropped: {html}"
    );
    assert!(
        html.contains("src=\"https://studio.example.org/talks/2026/img/tools.jpg\""),
        "{html}"
    );
    assert_eq!(
        first.registration_url.as_deref(),
        Some("https://studio.example.org/talks/register?t=1&u=2")
    );
    assert_eq!(first.language.as_deref(), Some("en-GB"));
    assert_eq!(
        first.updated_at.map(|d| d.to_rfc3339()).as_deref(),
        Some("2026-02-03T08:00:00+00:00")
    );
    // type="text" content is text: its escaped markup is shown, not interpreted.
    let second = &p.offerings[1];
    let html = second.description_html.as_deref().unwrap_or_default();
    assert!(html.contains("&lt;tag&gt;"), "{html}");
}

#[test]
fn entities_cdata_and_unescaped_html_are_read_like_feedparser() {
    let p = read("rss/entities_cdata_and_naked_html.xml");
    assert_eq!(p.title.as_deref(), Some("Café Library — Programs"));
    assert_eq!(titles(&p), ["Book & paper – care — été", "Naked markup"]);
    let first = p.offerings[0]
        .description_html
        .as_deref()
        .unwrap_or_default();
    assert!(first.contains("<b>two</b> books &amp; a pencil"), "{first}");
    let second = &p.offerings[1];
    // A guid that is a permalink is the link when there is no <link>.
    assert_eq!(second.url.as_deref(), Some("https://cafe.example.org/p/2"));
    // content:encoded is the description; the description (unescaped HTML) the summary.
    let html = second.description_html.as_deref().unwrap_or_default();
    assert!(html.contains("<i>item two</i>"), "{html}");
    assert_eq!(
        second.summary.as_deref(),
        Some("Unescaped sign up link & text.")
    );
}

#[test]
fn a_broken_item_in_the_middle_keeps_the_items_after_it_and_their_events() {
    let p = read("rss/broken_middle_item_with_events.xml");
    // The item nothing could be read from is kept, as feedparser keeps it, and named so.
    assert_eq!(titles(&p), ["First", "Second", "Untitled", "Third"]);
    assert!(has_warning(&p, WarningCode::Repaired));
    for item in [1, 2] {
        assert!(
            p.warnings
                .iter()
                .any(|w| w.code == WarningCode::BadItem && w.item == Some(item)),
            "{:?}",
            p.warnings
        );
    }
    let second = p.offerings[1]
        .description_html
        .as_deref()
        .unwrap_or_default();
    assert!(second.contains("section"), "{second}");
    let third = &p.offerings[3];
    assert_eq!(third.url.as_deref(), Some("https://training.example.org/3"));
    assert_eq!(
        third.occurrences[0].start.to_rfc3339(),
        "2026-06-03T10:00:00+00:00"
    );
    assert_eq!(
        third.location.as_ref().and_then(|l| l.name.as_deref()),
        Some("Hall 3")
    );
}

#[test]
fn prefixed_rss_root_and_rss090_are_read() {
    let p = read("rss/prefixed_root_guid_link.xml");
    assert_eq!(p.title.as_deref(), Some("Prefixed"));
    assert_eq!(titles(&p), ["Permalink guid"]);
    assert_eq!(
        p.offerings[0].url.as_deref(),
        Some("https://prefixed.example.org/items/9")
    );
    assert!(has_warning(&p, WarningCode::Repaired));

    let p = read("rss/rss090.xml");
    assert_eq!(p.title.as_deref(), Some("Netscape Era Library"));
    assert_eq!(titles(&p), ["Microfilm Workshop"]);
    assert_eq!(
        p.offerings[0].url.as_deref(),
        Some("https://old-library.example.org/microfilm")
    );
}

/// Issue 16: the hints a crawl in December 2026 gives, with the source's zone.
fn december(zone: &str) -> ParseHints {
    let mut h = hints();
    h.now = Utc
        .with_ymd_and_hms(2026, 12, 15, 12, 0, 0)
        .single()
        .expect("now");
    h.timezone = Some(zone.parse().expect("zone"));
    h
}

/// (start, end, all_day, date_source) of an offering's first occurrence, and its zone.
type When = (
    Option<(String, Option<String>, bool, &'static str)>,
    Option<String>,
);

fn when_of(p: &Parsed) -> Vec<When> {
    p.offerings
        .iter()
        .map(|o| {
            (
                o.occurrences.first().map(|x| {
                    (
                        x.start.to_rfc3339(),
                        x.end.map(|e| e.to_rfc3339()),
                        x.all_day,
                        x.date_source.as_str(),
                    )
                }),
                o.timezone.clone(),
            )
        })
        .collect()
}

fn occ(start: &str, end: Option<&str>, all_day: bool, source: &'static str, zone: &str) -> When {
    (
        Some((start.to_string(), end.map(str::to_string), all_day, source)),
        Some(zone.to_string()),
    )
}

#[test]
fn events_plugin_feed_gives_pubdate_as_start_when_its_text_has_no_time() {
    // Issue 16: pubDates after the feed's own build date are event starts.
    let p = read_with(
        "rss/events_plugin_pubdate_is_start.xml",
        &december("America/Halifax"),
    );
    let z = "America/Halifax";
    assert_eq!(
        when_of(&p),
        vec![
            occ(
                "2027-02-04T14:00:00-04:00",
                Some("2027-02-04T15:30:00-04:00"),
                false,
                "text",
                z
            ),
            occ("2027-05-11T10:30:00-03:00", None, false, "published", z),
            occ(
                "2027-08-03T00:00:00-03:00",
                Some("2027-08-06T00:00:00-03:00"),
                true,
                "text",
                z
            ),
            occ(
                "2027-10-13T13:00:00-03:00",
                Some("2027-10-13T14:00:00-03:00"),
                false,
                "text",
                z
            ),
        ]
    );
}

#[test]
fn a_source_may_turn_the_pubdate_convention_off() {
    let mut h = december("America/Halifax");
    h.dates = coalesce_ingest::DatesConvention::PublishedIsNotStart;
    let p = read_with("rss/events_plugin_pubdate_is_start.xml", &h);
    assert!(p.offerings[1].occurrences.is_empty());
    // The text still says when the others are.
    assert_eq!(p.offerings[0].occurrences.len(), 1);
}

#[test]
fn news_posts_never_get_their_pubdate_as_start() {
    let p = read_with(
        "rss/news_pubdate_is_not_start.xml",
        &december("America/Anchorage"),
    );
    let z = "America/Anchorage";
    let none = (None, None);
    assert_eq!(
        when_of(&p),
        vec![
            occ(
                "2027-03-09T13:00:00-09:00",
                Some("2027-03-09T14:30:00-09:00"),
                false,
                "text",
                z
            ),
            // "register by March 1" is a deadline; the When line is the session.
            occ(
                "2027-03-09T13:00:00-09:00",
                Some("2027-03-09T14:30:00-09:00"),
                false,
                "text",
                z
            ),
            none,
            occ(
                "2027-04-21T12:00:00-08:00",
                Some("2027-04-21T13:00:00-08:00"),
                false,
                "text",
                z
            ),
        ]
    );
}

#[test]
fn libcal_times_without_a_zone_take_the_sources_and_all_day_is_a_whole_day() {
    let p = read_with(
        "rss/libcal_time_only_in_text.xml",
        &december("America/Chicago"),
    );
    let z = "America/Chicago";
    assert_eq!(
        when_of(&p),
        vec![
            occ(
                "2027-02-18T13:30:00-06:00",
                Some("2027-02-18T15:00:00-06:00"),
                false,
                "text",
                z
            ),
            occ(
                "2027-07-10T00:00:00-05:00",
                Some("2027-07-11T00:00:00-05:00"),
                true,
                "text",
                z
            ),
            // A news post's "Starting January 4" is not an event.
            (None, None),
        ]
    );
}

#[test]
fn json_feed_live_sessions_dated_in_text_beside_self_paced_recordings() {
    let p = read_with(
        "jsonfeed/live_dates_in_text_beside_self_paced.json",
        &december("America/Toronto"),
    );
    assert_eq!(
        when_of(&p),
        vec![
            occ(
                "2027-03-16T13:00:00-04:00",
                Some("2027-03-16T14:30:00-04:00"),
                false,
                "text",
                "America/Toronto"
            ),
            (None, None),
        ]
    );
}

#[test]
fn event_module_times_with_an_offset_are_placed_in_the_sources_zone() {
    let p = read_with("rss/rss2_event_module.xml", &december("America/New_York"));
    assert!(
        p.offerings
            .iter()
            .filter(|o| !o.occurrences.is_empty())
            .all(|o| o.timezone.as_deref() == Some("America/New_York")
                && o.occurrences
                    .iter()
                    .all(|x| x.date_source.as_str() == "structured"))
    );
}
