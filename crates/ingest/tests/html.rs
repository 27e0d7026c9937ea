//! HTML pages: one fixture per trap under fixtures/html/, read through the whole pipeline.

use chrono::{DateTime, TimeZone, Utc};
use coalesce_core::{Modality, Status};
use coalesce_ingest::{HtmlRules, Kind, ParseError, ParseHints, Parsed, WarningCode, parse};
use url::Url;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 10, 12, 0, 0)
        .single()
        .unwrap_or_default()
}

fn hints() -> ParseHints {
    let mut h = ParseHints::new(now());
    h.kind = Some(Kind::Html);
    h
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/../../fixtures/html/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {path}: {e}"))
}

fn read(name: &str) -> Parsed {
    read_with(name, &hints())
}

fn read_with(name: &str, hints: &ParseHints) -> Parsed {
    parse(&fixture(name), hints).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn titles(p: &Parsed) -> Vec<&str> {
    p.offerings.iter().map(|o| o.title.as_str()).collect()
}

fn has_warning(p: &Parsed, code: WarningCode) -> bool {
    p.warnings.iter().any(|w| w.code == code)
}

/// Runs `f` on a thread with a 2 MiB stack, as a blocking worker would have.
fn small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("no stack overflow or panic")
}

#[test]
fn graph_with_prefixed_event_subtypes_yields_each_event() {
    let p = read("jsonld_graph_event_subtype.html");
    assert_eq!(p.title.as_deref(), Some("Workshops | County Archives"));
    assert_eq!(
        titles(&p),
        ["Preservation 101 for Small Archives", "Vendor Day"]
    );
    let o = &p.offerings[0];
    assert_eq!(
        o.occurrences[0].start.to_rfc3339(),
        "2026-04-14T10:00:00-04:00"
    );
    assert_eq!(
        o.occurrences[0].end.map(|e| e.to_rfc3339()).as_deref(),
        Some("2026-04-14T12:00:00-04:00")
    );
    assert_eq!(
        o.source_key,
        "https://archives.example.org/events/preservation-101#event"
    );
    assert_eq!(o.organizer.as_deref(), Some("County Archives"));
    assert_eq!(o.language.as_deref(), Some("en"));
    assert_eq!(o.categories, ["preservation", "digitization"]);
    let loc = o.location.as_ref().expect("location");
    assert_eq!(loc.name.as_deref(), Some("Reading Room"));
    assert_eq!(loc.locality.as_deref(), Some("Springfield"));
    assert_eq!(loc.country.as_deref(), Some("US"));
    // Date-only: all day, the end date inclusive in schema.org, exclusive in the model.
    let day = &p.offerings[1].occurrences[0];
    assert!(day.all_day);
    assert_eq!(
        day.end.map(|e| e.to_rfc3339()).as_deref(),
        Some("2026-05-04T00:00:00+00:00")
    );
}

#[test]
fn top_level_array_yields_every_event() {
    let p = read("jsonld_array_of_events.html");
    assert_eq!(
        titles(&p),
        [
            "Oral History Basics",
            "Metadata Clinic",
            "Copyright for Librarians"
        ]
    );
}

/// Issue 16: a learner signs up for one run of a course, so each `hasCourseInstance` is an
/// offering of its own (it used to be one offering with every run as an occurrence).
#[test]
fn course_instances_are_one_offering_each_sharing_the_course_text() {
    let p = read("jsonld_course_instances.html");
    assert_eq!(
        titles(&p),
        ["Digital Asset Management", "Digital Asset Management"]
    );
    for o in &p.offerings {
        assert_eq!(o.occurrences.len(), 1);
        assert!(o.occurrences[0].all_day);
        assert_eq!(o.modality, Some(Modality::Online));
        assert_eq!(o.organizer.as_deref(), Some("Museum Learning Network"));
        assert_eq!(o.cost.min_amount, Some(150.0));
        assert_eq!(
            o.summary.as_deref(),
            Some("A six-week course for museum staff.")
        );
    }
    assert_eq!(
        p.offerings[0].online_url.as_deref(),
        Some("https://learn.example.org/classroom/dam")
    );
    // Neither run has an id or a page of its own: keyed apart by their starts, not merged.
    assert_ne!(p.offerings[0].source_key, p.offerings[1].source_key);
}

#[test]
fn event_series_becomes_its_sub_events_with_inherited_place() {
    let p = read("jsonld_event_series_subevents.html");
    assert_eq!(titles(&p), ["Textiles", "Paper", "Photographs"]);
    for o in &p.offerings {
        assert_eq!(o.organizer.as_deref(), Some("City Museum"));
        assert_eq!(
            o.location.as_ref().and_then(|l| l.name.as_deref()),
            Some("Auditorium")
        );
        assert_eq!(o.occurrences.len(), 1);
    }
}

#[test]
fn virtual_location_and_mixed_mode_make_a_hybrid_offering() {
    let p = read("jsonld_virtual_location_mixed.html");
    let o = &p.offerings[0];
    assert_eq!(o.modality, Some(Modality::Hybrid));
    assert_eq!(
        o.online_url.as_deref(),
        Some("https://meet.example.net/catalogers")
    );
    assert_eq!(
        o.location.as_ref().and_then(|l| l.name.as_deref()),
        Some("Main Library")
    );
}

#[test]
fn offers_give_price_range_registration_and_free() {
    let p = read("jsonld_offers_member_prices.html");
    let grants = &p.offerings[0];
    assert_eq!(
        (grants.cost.min_amount, grants.cost.max_amount),
        (Some(25.0), Some(50.0))
    );
    assert_eq!(grants.cost.currency.as_deref(), Some("USD"));
    assert_eq!(
        grants.registration_url.as_deref(),
        Some("https://assoc.example.org/register/grants")
    );
    assert_eq!(p.offerings[1].cost.free, Some(true));
    let summit = &p.offerings[2];
    assert_eq!(
        (summit.cost.min_amount, summit.cost.max_amount),
        (Some(99.0), Some(249.0))
    );
}

#[test]
fn event_status_maps_to_offering_status() {
    let p = read("jsonld_event_cancelled.html");
    let statuses: Vec<Status> = p.offerings.iter().map(|o| o.status).collect();
    assert_eq!(
        statuses,
        [Status::Cancelled, Status::Postponed, Status::Scheduled]
    );
    assert_eq!(p.offerings[0].modality, Some(Modality::Online));
}

#[test]
fn broken_block_is_a_warning_and_repairable_blocks_are_read() {
    let p = read("jsonld_broken_block_beside_good.html");
    assert_eq!(titles(&p), ["The Archivist's Toolkit", "Good Block"]);
    assert!(has_warning(&p, WarningCode::BadJsonLd), "{:?}", p.warnings);
    assert_eq!(p.offerings[0].summary.as_deref(), Some("Line one line two"));
}

#[test]
fn script_end_inside_json_string_ends_the_block_and_nothing_is_fetched() {
    // `@context` points at a loopback port with nothing listening: a fetch would fail loudly
    // or hang; reading must not even try.
    let p = read("jsonld_script_end_in_string.html");
    assert_eq!(titles(&p), ["After The Trap"]);
    assert!(has_warning(&p, WarningCode::BadJsonLd));
}

#[test]
fn microdata_event_with_nested_place_and_offer() {
    let mut h = hints();
    h.base_url = Url::parse("https://history.example.org/calendar/").ok();
    let p = read_with("microdata_event.html", &h);
    assert_eq!(p.offerings.len(), 1, "{:?}", titles(&p));
    let o = &p.offerings[0];
    assert_eq!(o.title, "Genealogy Drop-in");
    assert_eq!(o.source_key, "https://history.example.org/e/42");
    assert_eq!(
        o.url.as_deref(),
        Some("https://history.example.org/events/42")
    );
    assert_eq!(
        o.occurrences[0].start.to_rfc3339(),
        "2026-08-20T18:30:00-05:00"
    );
    assert_eq!(
        o.occurrences[0].end.map(|e| e.to_rfc3339()).as_deref(),
        Some("2026-08-20T20:00:00-05:00")
    );
    let loc = o.location.as_ref().expect("location");
    assert_eq!(loc.name.as_deref(), Some("Carnegie Room"));
    assert_eq!(loc.address.as_deref(), Some("5 Elm St"));
    assert_eq!(loc.locality.as_deref(), Some("Dayton"));
    assert_eq!(o.cost.free, Some(true));
}

fn plain_page_rules() -> HtmlRules {
    HtmlRules {
        item: "li.event".into(),
        title: "h3".into(),
        start: Some(".when".into()),
        end: None,
        url: Some("h3 a".into()),
        description: Some(".about".into()),
        location: Some(".where".into()),
        cost: Some(".fee".into()),
    }
}

#[test]
fn css_rules_read_a_plain_page_in_the_source_zone() {
    let mut h = hints();
    h.base_url = Url::parse("https://museum.example.com/calendar").ok();
    h.timezone = "America/Chicago".parse().ok();
    h.html_rules = Some(plain_page_rules());
    let p = read_with("css_rules_plain_page.html", &h);
    assert_eq!(titles(&p), ["Scanning Photographs", "Open Day"]);
    let scan = &p.offerings[0];
    assert_eq!(
        scan.occurrences[0].start.to_rfc3339(),
        "2026-03-12T10:00:00-05:00"
    );
    assert_eq!(scan.timezone.as_deref(), Some("America/Chicago"));
    assert_eq!(
        scan.url.as_deref(),
        Some("https://museum.example.com/cal/scanning")
    );
    assert_eq!(
        scan.location.as_ref().and_then(|l| l.name.as_deref()),
        Some("Room B")
    );
    assert_eq!(scan.cost.min_amount, Some(15.0));
    assert!(
        scan.description_html
            .as_deref()
            .is_some_and(|d| d.contains("<em>scanning</em>"))
    );
    let open = &p.offerings[1];
    assert!(open.occurrences[0].all_day);
    assert_eq!(open.cost.free, Some(true));
}

#[test]
fn invalid_item_selector_is_a_parse_error_and_bad_field_a_warning() {
    let mut h = hints();
    h.html_rules = Some(HtmlRules {
        item: "li[".into(),
        ..plain_page_rules()
    });
    let err = parse(&fixture("css_rules_plain_page.html"), &h).err();
    assert!(matches!(err, Some(ParseError::Malformed { .. })), "{err:?}");

    h.html_rules = Some(HtmlRules {
        cost: Some("..fee".into()),
        ..plain_page_rules()
    });
    let p = read_with("css_rules_plain_page.html", &h);
    assert_eq!(p.offerings.len(), 2);
    assert!(
        p.warnings
            .iter()
            .any(|w| w.message.contains("cost selector")),
        "{:?}",
        p.warnings
    );
}

#[test]
fn relative_links_resolve_against_base_href() {
    let mut h = hints();
    h.base_url = Url::parse("https://cdn.example.net/mirror/page.html").ok();
    let p = read_with("base_href_relative_links.html", &h);
    let o = &p.offerings[0];
    assert_eq!(
        o.url.as_deref(),
        Some("https://www.library.example.edu/programs/zines/workshop")
    );
    assert_eq!(
        o.image_url.as_deref(),
        Some("https://www.library.example.edu/img/zine.png")
    );
    assert_eq!(
        o.registration_url.as_deref(),
        Some("https://www.library.example.edu/programs/register?id=7")
    );
    let desc = o.description_html.as_deref().unwrap_or_default();
    assert!(
        desc.contains(r#"href="https://www.library.example.edu/about""#),
        "{desc}"
    );
}

#[test]
fn script_and_javascript_strings_never_come_out() {
    let p = read("xss_strings_in_fields.html");
    let o = &p.offerings[0];
    let json = serde_json::to_string(o).expect("serializes");
    let lower = json.to_ascii_lowercase();
    for bad in [
        "<script",
        "javascript:",
        "vbscript:",
        "onerror",
        "onclick",
        "data:text",
    ] {
        assert!(!lower.contains(bad), "{bad} in {json}");
    }
    assert!(o.title.contains("Safe Title"), "{}", o.title);
    assert!(o.url.is_none() && o.image_url.is_none() && o.online_url.is_none());
    assert!(has_warning(&p, WarningCode::UnsafeUrl));
}

const EVENT_BLOCK: &str = r#"<script type="application/ld+json">{"@context":"https://schema.org","@type":"Event","name":"After The Deep Part","startDate":"2026-02-01T10:00:00Z"}</script>"#;

#[test]
fn deep_nesting_before_a_json_ld_event_is_gated_not_a_stall_b8() {
    let closed = small_stack(|| {
        let page = format!(
            "<html><body>{}{}{EVENT_BLOCK}</body></html>",
            "<div>".repeat(100_000),
            "</div>".repeat(100_000)
        );
        let started = std::time::Instant::now();
        let p = parse(page.as_bytes(), &hints());
        (
            p.map(|p| (titles(&p).join("|"), has_warning(&p, WarningCode::TooDeep)))
                .ok(),
            started.elapsed(),
        )
    });
    assert_eq!(closed.0, Some(("After The Deep Part".to_string(), true)));
    assert!(
        closed.1 < std::time::Duration::from_secs(5),
        "took {:?}",
        closed.1
    );

    // Never closed: the script sits 100,000 levels down and must still be read.
    let unclosed = small_stack(|| {
        let page = format!("<html><body>{}{EVENT_BLOCK}", "<div>".repeat(100_000));
        parse(page.as_bytes(), &hints())
            .map(|p| p.offerings.len())
            .ok()
    });
    assert_eq!(unclosed, Some(1));

    // jsoup's deep stack: 25,000 nested <dl><dd> without html/body.
    let dl = small_stack(|| {
        let page: String = (0..25_000).map(|i| format!("{i}<dl><dd>")).collect();
        parse(page.as_bytes(), &hints())
            .map(|p| p.offerings.len())
            .ok()
    });
    assert_eq!(dl, Some(0));
}

#[test]
fn json_depth_bomb_is_refused_before_serde_b13() {
    let got = small_stack(|| {
        let bomb = "[".repeat(20_000) + "1" + &"]".repeat(20_000);
        let page = format!(
            r#"<html><head><script type="application/ld+json">{bomb}</script>{EVENT_BLOCK}</head></html>"#
        );
        parse(page.as_bytes(), &hints())
            .map(|p| (p.offerings.len(), has_warning(&p, WarningCode::BadJsonLd)))
            .ok()
    });
    assert_eq!(got, Some((1, true)));
}

#[test]
fn event_flood_in_graph_is_capped() {
    let mut h = hints();
    h.limits.max_items = 50;
    let events: Vec<String> = (0..5_000)
        .map(|i| format!(r#"{{"@type":"Event","name":"E{i}","startDate":"2026-03-01T10:00:00Z","url":"https://x.example/{i}"}}"#))
        .collect();
    let page = format!(
        r#"<script type="application/ld+json">{{"@graph":[{}]}}</script>"#,
        events.join(",")
    );
    let p = parse(page.as_bytes(), &h).expect("parses");
    assert_eq!(p.offerings.len(), 50);
    assert!(has_warning(&p, WarningCode::TooManyItems));
}

#[test]
fn sessions_sharing_a_page_url_get_distinct_stable_keys() {
    let page = r#"<script type="application/ld+json">[
      {"@type":"Event","name":"Board Meeting","startDate":"2026-03-01T10:00:00Z","url":"https://x.example/board"},
      {"@type":"Event","name":"Board Meeting","startDate":"2026-04-01T10:00:00Z","url":"https://x.example/board"}]</script>"#;
    let p = parse(page.as_bytes(), &hints()).expect("parses");
    let keys: Vec<&str> = p.offerings.iter().map(|o| o.source_key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "https://x.example/board#2026-03-01T10:00:00+00:00",
            "https://x.example/board#2026-04-01T10:00:00+00:00"
        ]
    );
    assert!(!has_warning(&p, WarningCode::DuplicateGuid));
}

fn rfc(t: Option<chrono::DateTime<chrono::FixedOffset>>) -> Option<String> {
    t.map(|t| t.to_rfc3339())
}

/// Issue 16: an ItemList of Courses yields one offering per run; runs are keyed by their own
/// page as written; a dateless online run is self-paced and takes the course's id.
#[test]
fn course_runs_have_own_identity_dates_mode_and_price() {
    let mut h = hints();
    h.base_url = Url::parse("https://learn.heritage.example/courses/").ok();
    let p = read_with("jsonld_course_runs_relative_ids_and_self_paced.html", &h);
    let keys: Vec<&str> = p.offerings.iter().map(|o| o.source_key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "/courses/exhibits/?run=spring",
            "/courses/exhibits/?run=workshop",
            "/courses/exhibits/?run=fall",
            "https://learn.heritage.example/courses/records/#course",
        ]
    );
    let [spring, workshop, fall, records] = &p.offerings[..] else {
        panic!("four offerings, not {}", p.offerings.len());
    };
    assert_eq!(spring.title, "Exhibit Planning");
    assert_eq!(
        spring.url.as_deref(),
        Some("https://learn.heritage.example/courses/exhibits/?run=spring")
    );
    assert_eq!(spring.modality, Some(Modality::Online));
    assert_eq!(spring.occurrences.len(), 1);
    assert!(spring.occurrences[0].all_day);
    // endDate 2027-04-09 is the last day: the exclusive end is the day after.
    assert_eq!(
        rfc(spring.occurrences[0].end).as_deref().map(|s| &s[..10]),
        Some("2027-04-10")
    );
    assert_eq!(spring.cost.min_amount, Some(200.0));
    assert_eq!(
        spring.registration_url.as_deref(),
        Some("https://learn.heritage.example/courses/exhibits/enroll?run=spring")
    );
    assert_eq!(workshop.modality, Some(Modality::InPerson));
    assert!(!workshop.occurrences[0].all_day);
    assert_eq!(
        workshop.occurrences[0].start.to_rfc3339(),
        "2027-06-15T09:00:00-06:00"
    );
    assert_eq!(workshop.cost.min_amount, Some(90.0));
    assert_eq!(fall.modality, Some(Modality::Hybrid));
    assert_eq!(records.title, "Records Retention Basics");
    assert!(records.occurrences.is_empty());
    assert_eq!(records.modality, Some(Modality::SelfPaced));
    assert_eq!(
        records.registration_url.as_deref(),
        Some("https://learn.heritage.example/courses/records/enroll")
    );
}

/// Issue 16: a series is a container whether its sessions are nested in it or point back to it
/// from another block, even when the series carries dates of its own; SEO nodes are no offerings.
#[test]
fn event_series_with_dates_is_a_container_for_nested_and_pointing_sessions() {
    let p = read("jsonld_series_container_and_all_day_clock_times.html");
    assert_eq!(
        titles(&p),
        [
            "Collections Care 1: Agents of Deterioration",
            "Collections Care 2: Housing Objects",
            "Curator Talk: Quilts",
            "Annual Meeting",
            "Open Day",
            "Staff Retreat",
            "Museum Night",
        ]
    );
    let talk = &p.offerings[2];
    assert_eq!(talk.occurrences.len(), 1);
    assert!(!talk.occurrences[0].all_day);
    // Sessions listed beside their series take what they leave unsaid from it.
    for session in &p.offerings[..2] {
        assert_eq!(
            session.organizer.as_deref(),
            Some("Coastal Museums Network")
        );
        assert_eq!(session.modality, Some(Modality::Online));
        assert_eq!(session.cost.min_amount, Some(15.0));
        assert_eq!(
            session.registration_url.as_deref(),
            Some("https://museums.example/care/register")
        );
    }
}

/// Issue 16: 00:00 to 23:59(:59) local is whole days; date-only ends are inclusive in
/// schema.org and exclusive in the model; a multi-day event is one occurrence.
#[test]
fn midnight_to_last_minute_is_all_day_with_exclusive_end() {
    let p = read("jsonld_series_container_and_all_day_clock_times.html");
    let by_title = |t: &str| {
        p.offerings
            .iter()
            .find(|o| o.title == t)
            .unwrap_or_else(|| panic!("no {t}"))
    };
    // (title, all_day, start, end)
    let cases = [
        (
            "Annual Meeting",
            true,
            "2027-10-20T00:00:00-10:00",
            "2027-10-23T00:00:00-10:00",
        ),
        (
            "Open Day",
            true,
            "2027-11-06T00:00:00-10:00",
            "2027-11-07T00:00:00-10:00",
        ),
        (
            "Staff Retreat",
            true,
            "2027-10-06T00:00:00+00:00",
            "2027-10-09T00:00:00+00:00",
        ),
        (
            "Museum Night",
            false,
            "2027-08-14T18:00:00-10:00",
            "2027-08-14T23:59:00-10:00",
        ),
    ];
    for (title, all_day, start, end) in cases {
        let o = by_title(title);
        assert_eq!(o.occurrences.len(), 1, "{title}");
        let occ = &o.occurrences[0];
        assert_eq!(occ.all_day, all_day, "{title}");
        assert_eq!(occ.start.to_rfc3339(), start, "{title}");
        assert_eq!(rfc(occ.end).as_deref(), Some(end), "{title}");
    }
    // A room and a stream: both ways to attend.
    assert_eq!(by_title("Museum Night").modality, Some(Modality::Hybrid));
    assert_eq!(
        by_title("Annual Meeting").modality,
        Some(Modality::InPerson)
    );
}

/// Issue 16: microformats2 h-events are offerings: identity is the resolved u-url, times
/// without seconds, value-class parts, a date-only range with an inclusive last day, and the
/// relative sign-up link beside the details link.
#[test]
fn mf2_h_events_are_read_with_resolved_identity_and_registration() {
    let mut h = hints();
    h.base_url = Url::parse("https://archives.example/events/").ok();
    let p = read_with("mf2_h_event_value_class_and_date_only.html", &h);
    assert_eq!(
        titles(&p),
        [
            "Reading Old Handwriting",
            "Regional Archives Conference",
            "Scanning Lab Open House"
        ]
    );
    let [talk, conference, open_house] = &p.offerings[..] else {
        panic!("three offerings");
    };
    assert_eq!(
        talk.source_key,
        "https://archives.example/events/old-handwriting/"
    );
    assert_eq!(
        talk.occurrences[0].start.to_rfc3339(),
        "2027-02-10T18:30:00-05:00"
    );
    assert_eq!(
        rfc(talk.occurrences[0].end).as_deref(),
        Some("2027-02-10T20:00:00-05:00")
    );
    assert_eq!(
        talk.registration_url.as_deref(),
        Some("https://archives.example/events/old-handwriting/register")
    );
    assert_eq!(talk.modality, Some(Modality::Online));

    assert_eq!(conference.occurrences.len(), 1);
    let span = &conference.occurrences[0];
    assert!(span.all_day);
    assert_eq!(&span.start.to_rfc3339()[..10], "2027-09-23");
    assert_eq!(
        rfc(span.end).as_deref().map(|e| &e[..10]),
        Some("2027-09-25")
    );
    let place = conference.location.as_ref().expect("place");
    assert_eq!(place.name.as_deref(), Some("Riverside Hall"));
    assert_eq!(place.locality.as_deref(), Some("Dayton"));
    assert_eq!(conference.modality, Some(Modality::InPerson));
    assert!(
        conference
            .registration_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://tickets.example/archives-2027"))
    );

    assert_eq!(
        open_house.source_key,
        "https://archives.example/events/open-house"
    );
    assert_eq!(
        open_house.occurrences[0].start.to_rfc3339(),
        "2027-04-03T10:00:00-04:00"
    );
    assert_eq!(
        rfc(open_house.occurrences[0].end).as_deref(),
        Some("2027-04-03T13:30:00-04:00")
    );
    assert_eq!(
        open_house.summary.as_deref(),
        Some("Try the overhead scanner.")
    );
}

/// A page with the same events in JSON-LD and in h-event lists each once (the schema.org copy).
#[test]
fn mf2_is_not_read_beside_schema_org_events() {
    let page = br#"<html><head><script type="application/ld+json">
{"@context":"https://schema.org","@type":"Event","name":"Talk","startDate":"2027-02-10T18:30:00-05:00"}
</script></head><body><div class="h-event"><span class="p-name">Talk</span>
<time class="dt-start" datetime="2027-02-10T18:30-05:00">6:30</time></div></body></html>"#;
    let p = parse(page, &hints()).expect("page");
    assert_eq!(titles(&p), ["Talk"]);
}

/// Issue 16: a time written with an offset is in the source's zone when the zone has that
/// offset at that instant; a copy in another zone's offset says nothing about the zone.
#[test]
fn offset_agreeing_with_the_source_zone_names_that_zone() {
    let page = br#"<html><head><script type="application/ld+json">
[{"@context":"https://schema.org","@type":"Event","@id":"a","name":"Summer talk","startDate":"2027-07-13T14:00-04:00"},
 {"@context":"https://schema.org","@type":"Event","@id":"b","name":"Winter talk","startDate":"2027-01-13T14:00-05:00"},
 {"@context":"https://schema.org","@type":"Event","@id":"c","name":"London copy","startDate":"2027-03-24T17:00:00+00:00"}]
</script></head><body></body></html>"#;
    let mut h = hints();
    h.timezone = "America/Indiana/Indianapolis".parse().ok();
    let p = parse(page, &h).expect("page");
    let zones: Vec<Option<&str>> = p.offerings.iter().map(|o| o.timezone.as_deref()).collect();
    assert_eq!(
        zones,
        [
            Some("America/Indiana/Indianapolis"),
            Some("America/Indiana/Indianapolis"),
            None
        ]
    );
}
