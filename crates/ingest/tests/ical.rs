//! iCalendar adapter: one fixture per trap under `fixtures/ics/`, asserting instants.

use std::path::PathBuf;
use std::time::Instant;

use chrono::{DateTime, TimeZone, Utc};
use coalesce_core::{Offering, Status};
use coalesce_ingest::{Kind, ParseError, ParseHints, Parsed, Warning, WarningCode, Window, parse};

fn hints() -> ParseHints {
    let now = Utc
        .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("now");
    let mut h = ParseHints::new(now);
    h.window = Window {
        from: Utc
            .with_ymd_and_hms(2025, 12, 1, 0, 0, 0)
            .single()
            .expect("from"),
        to: Utc
            .with_ymd_and_hms(2027, 6, 1, 0, 0, 0)
            .single()
            .expect("to"),
    };
    h
}

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/ics")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn read(name: &str) -> Parsed {
    let parsed = parse(&fixture(name), &hints()).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(parsed.kind, Kind::Ics, "{name}");
    parsed
}

fn by_key<'a>(p: &'a Parsed, key: &str) -> &'a Offering {
    p.offerings
        .iter()
        .find(|o| o.source_key == key)
        .unwrap_or_else(|| {
            panic!(
                "no offering {key}; have {:?}",
                p.offerings
                    .iter()
                    .map(|o| &o.source_key)
                    .collect::<Vec<_>>()
            )
        })
}

/// Starts and ends as RFC 3339 text, so a wrong offset fails as loudly as a wrong instant.
fn times(o: &Offering) -> Vec<(String, String)> {
    o.occurrences
        .iter()
        .map(|x| {
            (
                x.start.to_rfc3339(),
                x.end.map(|e| e.to_rfc3339()).unwrap_or_default(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

fn has_warning(p: &Parsed, code: WarningCode) -> bool {
    p.warnings.iter().any(|w: &Warning| w.code == code)
}

#[test]
fn windows_tzid_is_read_in_its_iana_zone_with_all_fields() {
    let p = read("windows_tzid.ics");
    assert_eq!(p.title.as_deref(), Some("Archives Workshops"));
    let o = by_key(&p, "windows-tzid@fixtures");
    // 2026-03-10 is after the US switch to daylight time: -04:00.
    assert_eq!(
        times(o),
        pairs(&[("2026-03-10T14:00:00-04:00", "2026-03-10T15:30:00-04:00")])
    );
    assert_eq!(o.timezone.as_deref(), Some("America/New_York"));
    assert_eq!(o.title, "Digitization basics");
    assert_eq!(o.categories, ["Digitization", "Preservation", "Workshop"]);
    assert_eq!(o.organizer.as_deref(), Some("Mid-Atlantic Archives, Inc."));
    assert_eq!(
        o.url.as_deref(),
        Some("https://example.org/events/digitization")
    );
    let loc = o.location.as_ref().expect("location");
    assert_eq!(loc.name.as_deref(), Some("Room 2, Main Library"));
    let geo = loc.geo.expect("geo");
    assert!((geo.lat - 39.2904).abs() < 1e-9 && (geo.lon + 76.6122).abs() < 1e-9);
    assert!(
        o.description_html
            .as_deref()
            .is_some_and(|h| h.contains("<b>laptop</b>"))
    );
    assert_eq!(
        o.updated_at.map(|t| t.to_rfc3339()).as_deref(),
        Some("2026-02-01T12:00:00+00:00")
    );
    assert_eq!(
        o.published_at.map(|t| t.to_rfc3339()).as_deref(),
        Some("2026-01-01T12:00:00+00:00")
    );
    // VTODO is not an offering; the CLASS:PRIVATE event still is.
    assert_eq!(p.offerings.len(), 3);
}

#[test]
fn unknown_tzid_uses_the_vtimezone_offsets_or_falls_back_with_a_warning() {
    let p = read("windows_tzid.ics");
    let custom = by_key(&p, "custom-vtimezone@fixtures");
    assert_eq!(
        times(custom),
        pairs(&[("2026-07-15T10:00:00+02:00", "2026-07-15T11:00:00+02:00")])
    );
    let unknown = by_key(&p, "unknown-tzid@fixtures");
    assert_eq!(
        unknown.occurrences[0].start.to_rfc3339(),
        "2026-07-15T10:00:00+00:00"
    );
    assert_eq!(unknown.timezone.as_deref(), Some("UTC"));
    assert!(
        p.warnings
            .iter()
            .any(|w| w.code == WarningCode::UnknownTimezone && w.message.contains("Mars"))
    );
}

#[test]
fn vendor_prefixed_tzids_resolve_to_the_iana_tail() {
    let p = read("vendor_prefixed_tzid.ics");
    let chicago = by_key(&p, "vendor-tzid@fixtures");
    // DURATION gives the end.
    assert_eq!(
        times(chicago),
        pairs(&[("2026-01-15T09:00:00-06:00", "2026-01-15T11:00:00-06:00")])
    );
    assert_eq!(chicago.timezone.as_deref(), Some("America/Chicago"));
    let berlin = by_key(&p, "citadel-tzid@fixtures");
    assert_eq!(
        berlin.occurrences[0].start.to_rfc3339(),
        "2026-01-15T09:00:00+01:00"
    );
    assert!(!has_warning(&p, WarningCode::UnknownTimezone));
}

#[test]
fn floating_times_are_read_in_x_wr_timezone() {
    let p = read("floating_x_wr_timezone.ics");
    let o = by_key(&p, "floating@fixtures");
    assert_eq!(
        times(o),
        pairs(&[("2026-07-01T10:00:00+02:00", "2026-07-01T11:30:00+02:00")])
    );
    assert_eq!(o.timezone.as_deref(), Some("Europe/Berlin"));
    assert!(!has_warning(&p, WarningCode::FloatingTime));
    // UTC times in a calendar with X-WR-TIMEZONE keep their wall-clock time across DST.
    let s = by_key(&p, "utc-in-calendar-zone@fixtures");
    let starts: Vec<String> = s.occurrences.iter().map(|x| x.start.to_rfc3339()).collect();
    assert_eq!(
        starts,
        [
            "2026-03-17T10:00:00+01:00",
            "2026-03-24T10:00:00+01:00",
            "2026-03-31T10:00:00+02:00"
        ]
    );
}

#[test]
fn floating_time_without_any_zone_is_utc_with_a_warning_or_the_source_zone() {
    let text = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:f\r\nSUMMARY:x\r\nDTSTART:20260701T100000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let p = parse(text.as_bytes(), &hints()).expect("parse");
    assert_eq!(
        p.offerings[0].occurrences[0].start.to_rfc3339(),
        "2026-07-01T10:00:00+00:00"
    );
    assert!(has_warning(&p, WarningCode::FloatingTime));

    let mut h = hints();
    h.timezone = Some(chrono_tz::America::Denver);
    let p = parse(text.as_bytes(), &h).expect("parse");
    assert_eq!(
        p.offerings[0].occurrences[0].start.to_rfc3339(),
        "2026-07-01T10:00:00-06:00"
    );
    assert!(!has_warning(&p, WarningCode::FloatingTime));
}

#[test]
fn all_day_events_span_whole_local_days_with_exclusive_end() {
    let p = read("all_day_multi_day.ics");
    let conf = by_key(&p, "all-day-multi@fixtures");
    assert_eq!(
        times(conf),
        pairs(&[("2026-04-20T00:00:00-04:00", "2026-04-23T00:00:00-04:00")])
    );
    assert!(conf.occurrences[0].all_day);
    let open = by_key(&p, "all-day-no-end@fixtures");
    assert_eq!(
        times(open),
        pairs(&[("2026-05-01T00:00:00-04:00", "2026-05-02T00:00:00-04:00")])
    );
    // A DATE-TIME without DTEND or DURATION lasts no time at all.
    let deadline = by_key(&p, "timed-no-end@fixtures");
    assert_eq!(
        times(deadline),
        pairs(&[("2026-05-02T17:00:00-04:00", "2026-05-02T17:00:00-04:00")])
    );
    assert!(!deadline.occurrences[0].all_day);
}

#[test]
fn weekly_series_applies_exdate_and_moves_the_overridden_instance_across_dst() {
    let p = read("weekly_exdate_moved_instance.ics");
    assert_eq!(p.offerings.len(), 1, "one offering per uid");
    let o = &p.offerings[0];
    assert!(o.recurring);
    assert_eq!(o.title, "Cataloguing clinic");
    assert_eq!(
        times(o),
        pairs(&[
            ("2026-03-03T10:00:00+01:00", "2026-03-03T11:00:00+01:00"),
            ("2026-03-10T10:00:00+01:00", "2026-03-10T11:00:00+01:00"),
            // 03-17 is excluded; 03-24 moved to 03-26 15:00.
            ("2026-03-26T15:00:00+01:00", "2026-03-26T16:30:00+01:00"),
            // Europe switched to summer time on 03-29: still 10:00 local.
            ("2026-03-31T10:00:00+02:00", "2026-03-31T11:00:00+02:00"),
            ("2026-04-07T10:00:00+02:00", "2026-04-07T11:00:00+02:00"),
        ])
    );
}

#[test]
fn cancelled_override_marks_only_that_occurrence() {
    let p = read("cancelled_occurrence.ics");
    let o = &p.offerings[0];
    let flags: Vec<(String, bool)> = o
        .occurrences
        .iter()
        .map(|x| (x.start.to_rfc3339(), x.cancelled))
        .collect();
    assert_eq!(
        flags,
        [
            ("2026-06-01T13:00:00+00:00".to_string(), false),
            ("2026-06-02T13:00:00+00:00".to_string(), true),
            ("2026-06-03T13:00:00+00:00".to_string(), false),
        ]
    );
    assert_eq!(o.status, Status::Scheduled);
}

#[test]
fn cancelled_event_is_cancelled_and_tentative_stays_scheduled() {
    let p = read("cancelled_event.ics");
    let c = by_key(&p, "cancelled@fixtures");
    assert_eq!(c.status, Status::Cancelled);
    assert_eq!(c.source_sequence, 3);
    assert_eq!(
        times(c),
        pairs(&[("2026-06-10T13:00:00+00:00", "2026-06-10T15:00:00+00:00")])
    );
    assert_eq!(by_key(&p, "tentative@fixtures").status, Status::Scheduled);
}

#[test]
fn highest_sequence_of_a_repeated_uid_wins() {
    let p = read("sequence_updates.ics");
    assert_eq!(p.offerings.len(), 1);
    let o = &p.offerings[0];
    assert_eq!(o.source_sequence, 2);
    assert_eq!(o.title, "Metadata workshop (new time)");
    assert_eq!(
        o.occurrences[0].start.to_rfc3339(),
        "2026-09-10T15:00:00+00:00"
    );
}

#[test]
fn folds_that_split_multibyte_characters_are_rejoined_before_decoding() {
    let p = read("folded_multibyte.ics");
    let o = &p.offerings[0];
    assert_eq!(
        o.title,
        "Ateliers d’été : numérisation, conservation préventive et archives orales — ★ Édition 2026"
    );
    assert!(
        !has_warning(&p, WarningCode::LossyDecode),
        "{:?}",
        p.warnings
    );
}

#[test]
fn missing_end_vcalendar_is_repaired_and_keeps_every_event() {
    let p = read("missing_end_vcalendar.ics");
    let keys: Vec<&str> = p.offerings.iter().map(|o| o.source_key.as_str()).collect();
    assert_eq!(keys, ["first@fixtures", "second@fixtures"]);
    assert_eq!(
        by_key(&p, "second@fixtures").occurrences[0]
            .start
            .to_rfc3339(),
        "2026-09-02T09:00:00+00:00"
    );
    assert!(has_warning(&p, WarningCode::Repaired));
}

#[test]
fn garbage_line_and_a_broken_event_do_not_drop_the_others() {
    let p = read("garbage_line.ics");
    assert!(has_warning(&p, WarningCode::Repaired));
    assert!(has_warning(&p, WarningCode::BadDate));
    assert_eq!(
        by_key(&p, "before@fixtures").occurrences[0]
            .start
            .to_rfc3339(),
        "2026-09-01T09:00:00+00:00"
    );
    assert_eq!(
        by_key(&p, "after@fixtures").occurrences[0]
            .start
            .to_rfc3339(),
        "2026-09-02T09:00:00+00:00"
    );
    assert!(by_key(&p, "broken@fixtures").occurrences.is_empty());
}

#[test]
fn byte_order_mark_is_ignored() {
    let p = read("bom.ics");
    assert_eq!(p.offerings.len(), 1);
    assert_eq!(p.offerings[0].title, "Behind a byte order mark");
    assert_eq!(
        p.offerings[0].occurrences[0].start.to_rfc3339(),
        "2026-09-03T09:00:00+00:00"
    );
}

/// HOSTILE.md B11: every rule finishes quickly and keeps at least its first occurrence.
#[test]
fn rrule_bombs_are_bounded_b11() {
    let bytes = fixture("rrule_bombs.ics");
    let started = Instant::now();
    let p = parse(&bytes, &hints()).expect("parse");
    // Debug build on a shared machine: generous, but far below what an unbounded rule costs.
    assert!(
        started.elapsed().as_millis() < 2_000,
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(p.offerings.len(), 6);
    for o in &p.offerings {
        assert!(!o.occurrences.is_empty(), "{}", o.title);
        assert!(o.occurrences.len() <= 1_000, "{}", o.title);
        assert_eq!(
            o.occurrences[0].start.to_rfc3339(),
            if o.source_key.starts_with("bomb-huge") {
                "2025-12-01T09:00:00+00:00"
            } else {
                "2026-01-01T09:00:00+00:00"
            },
            "{}",
            o.title
        );
    }
    for key in [
        "bomb-secondly@fixtures",
        "bomb-interval-zero@fixtures",
        "bomb-every-second-of-the-year@fixtures",
        "bomb-minutely-both@fixtures",
    ] {
        assert_eq!(by_key(&p, key).occurrences.len(), 1, "{key}");
    }
    assert!(has_warning(&p, WarningCode::RecurrenceCapped));
    assert!(has_warning(&p, WarningCode::BadRecurrence));
    // COUNT=4294967295 from 1970, daily: only the window's days.
    let huge = by_key(&p, "bomb-huge-count@fixtures");
    let days = (hints().window.to - hints().window.from).num_days();
    assert_eq!(huge.occurrences.len() as i64, days);
}

#[test]
fn each_rrule_bomb_alone_finishes_under_100_ms_b11() {
    let text = String::from_utf8(fixture("rrule_bombs.ics")).expect("utf-8");
    let events: Vec<&str> = text.split("BEGIN:VEVENT").skip(1).collect();
    for event in events {
        let one = format!(
            "BEGIN:VCALENDAR\r\nBEGIN:VEVENT{}",
            event.split("END:VEVENT").next().unwrap_or_default()
        ) + "END:VEVENT\r\nEND:VCALENDAR\r\n";
        // Warm once (lazy statics), then measure.
        let _ = parse(one.as_bytes(), &hints());
        let started = Instant::now();
        let p = parse(one.as_bytes(), &hints()).expect("parse");
        let ms = started.elapsed().as_millis();
        assert!(ms < 100, "{} took {ms} ms", p.offerings[0].title);
    }
}

/// HOSTILE.md B12: 10,000 nested BEGIN:VEVENT fail cleanly, even on a small stack.
#[test]
fn ten_thousand_nested_begins_are_rejected_cleanly_b12() {
    let mut text = String::from("BEGIN:VCALENDAR\r\n");
    for _ in 0..10_000 {
        text.push_str("BEGIN:VEVENT\r\n");
    }
    for _ in 0..10_000 {
        text.push_str("END:VEVENT\r\n");
    }
    text.push_str("END:VCALENDAR\r\n");
    let handle = std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(move || parse(text.as_bytes(), &hints()).map(|p| p.offerings.len()))
        .expect("thread");
    let result = handle.join().expect("no stack overflow or panic");
    assert!(
        matches!(result, Err(ParseError::TooDeep { limit: 8 })),
        "{result:?}"
    );
}

#[test]
fn component_flood_is_capped() {
    let mut text = String::from("BEGIN:VCALENDAR\r\n");
    for i in 0..3_000 {
        text.push_str(&format!(
            "BEGIN:VEVENT\r\nUID:{i}\r\nSUMMARY:s{i}\r\nDTSTART:20260101T090000Z\r\nEND:VEVENT\r\n"
        ));
    }
    text.push_str("END:VCALENDAR\r\n");
    let mut h = hints();
    h.limits.max_ical_components = 1_001;
    let p = parse(text.as_bytes(), &h).expect("parse");
    assert_eq!(p.offerings.len(), 1_000);
    assert!(has_warning(&p, WarningCode::TooManyItems));
}

#[test]
fn dst_gap_instance_moves_forward_and_fold_instance_appears_once() {
    let p = read("dst_gap.ics");
    let gap = by_key(&p, "dst-gap@fixtures");
    assert_eq!(
        times(gap),
        pairs(&[
            ("2026-03-07T02:30:00-05:00", "2026-03-07T03:30:00-05:00"),
            // 02:30 does not exist on 2026-03-08 in New York: moved forward by the gap.
            ("2026-03-08T03:30:00-04:00", "2026-03-08T04:30:00-04:00"),
            ("2026-03-09T02:30:00-04:00", "2026-03-09T03:30:00-04:00"),
        ])
    );
    let fold = by_key(&p, "dst-fold@fixtures");
    let starts: Vec<String> = fold
        .occurrences
        .iter()
        .map(|x| x.start.to_rfc3339())
        .collect();
    // 01:30 happens twice on 2026-11-01: the earlier instant, once.
    assert_eq!(
        starts,
        [
            "2026-10-31T01:30:00-04:00",
            "2026-11-01T01:30:00-04:00",
            "2026-11-02T01:30:00-05:00"
        ]
    );
}

#[test]
fn series_is_expanded_only_inside_the_window() {
    let text = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:w\r\nSUMMARY:x\r\nDTSTART:20200106T090000Z\r\nRRULE:FREQ=WEEKLY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let p = parse(text.as_bytes(), &hints()).expect("parse");
    let o = &p.offerings[0];
    let w = hints().window;
    assert!(
        o.occurrences
            .iter()
            .all(|x| w.contains(x.start.with_timezone(&Utc)))
    );
    let first: DateTime<Utc> = o.occurrences[0].start.with_timezone(&Utc);
    assert_eq!(first.to_rfc3339(), "2025-12-01T09:00:00+00:00");
    // Mondays from 2025-12-01 through 2027-05-31.
    assert_eq!(o.occurrences.len(), 79);
}

fn daily_series(events: usize) -> String {
    let mut s = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n");
    for i in 0..events {
        s.push_str(&format!(
            "BEGIN:VEVENT\r\nUID:daily-{i}\r\nDTSTART:20200101T150000Z\r\nDTEND:20200101T160000Z\r\nSUMMARY:Daily drop-in {i}\r\nRRULE:FREQ=DAILY\r\nEND:VEVENT\r\n"
        ));
    }
    s.push_str("END:VCALENDAR\r\n");
    s
}

#[test]
fn occurrence_cap_scales_with_the_window_so_a_daily_series_is_complete() {
    let mut h = hints();
    h.window = Window {
        from: Utc
            .with_ymd_and_hms(2020, 1, 1, 0, 0, 0)
            .single()
            .expect("valid"),
        to: Utc
            .with_ymd_and_hms(2030, 1, 1, 0, 0, 0)
            .single()
            .expect("valid"),
    };
    let p = parse(daily_series(1).as_bytes(), &h).expect("readable");
    // Every day of 2020-2029: 3,653 sessions, more than the 1,000 allowed in a 2-year window.
    assert_eq!(p.offerings[0].occurrences.len(), 3_653);
    assert!(!has_warning(&p, WarningCode::RecurrenceCapped));
}

#[test]
fn a_document_wide_budget_bounds_occurrences_across_events() {
    let mut h = hints();
    h.limits.max_total_occurrences = 1_500;
    h.window = Window {
        from: Utc
            .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .expect("valid"),
        to: Utc
            .with_ymd_and_hms(2028, 1, 1, 0, 0, 0)
            .single()
            .expect("valid"),
    };
    let p = parse(daily_series(3).as_bytes(), &h).expect("readable");
    let counts: Vec<usize> = p.offerings.iter().map(|o| o.occurrences.len()).collect();
    assert_eq!(counts, vec![730, 730, 40]);
    assert!(has_warning(&p, WarningCode::RecurrenceCapped));
}

/// Issue 16: HTML written straight into DESCRIPTION is read as HTML, so its links (often the
/// only registration link) are seen; X-ALT-DESC still wins; text with stray brackets stays text.
#[test]
fn html_in_description_is_read_as_html_and_its_link_found() {
    let p = read("html_in_description.ics");
    let quilts = by_key(&p, "html-description@museums.example");
    assert_eq!(
        quilts.registration_url.as_deref(),
        Some("https://museums.example/events/quilts/")
    );
    let html = quilts.description_html.as_deref().unwrap_or_default();
    assert!(html.contains("<strong>Cost:</strong>"), "{html}");
    assert!(!html.contains("&lt;p&gt;"), "{html}");
    assert_eq!(
        quilts.summary.as_deref(),
        Some("Fold, roll and store textiles. Cost: Free Register online")
    );
    let labels = by_key(&p, "alt-desc-wins@museums.example");
    assert_eq!(
        labels.registration_url.as_deref(),
        Some("https://museums.example/events/labels/register")
    );
    let budgets = by_key(&p, "plain-angle-brackets@museums.example");
    assert!(
        budgets
            .summary
            .as_deref()
            .is_some_and(|s| s.contains("<5000") && s.contains("<info@museums.example>")),
        "{:?}",
        budgets.summary
    );
}

/// Issue 16: Outlook's all-day flag on a midnight start, and 00:00 to 23:59, are whole days
/// with the exclusive end; a midnight start without either stays timed.
#[test]
fn all_day_written_as_times_is_all_day() {
    let p = read("all_day_written_as_times.ics");
    let days = by_key(&p, "outlook-all-day-flag");
    assert!(days.occurrences[0].all_day);
    assert_eq!(
        times(days),
        pairs(&[("2026-05-19T00:00:00-04:00", "2026-05-21T00:00:00-04:00")])
    );
    let assembly = by_key(&p, "midnight-to-last-minute");
    assert!(assembly.occurrences[0].all_day);
    assert_eq!(
        times(assembly),
        pairs(&[("2026-09-28T00:00:00-08:00", "2026-10-01T00:00:00-08:00")])
    );
    let night = by_key(&p, "midnight-without-flag");
    assert!(!night.occurrences[0].all_day);
    assert_eq!(
        times(night),
        pairs(&[("2026-10-03T00:00:00-08:00", "2026-10-03T02:00:00-08:00")])
    );
}
