//! Fuzz the writer against the reader: whatever iCalendar the parser accepts, the calendar we
//! write from its offerings must parse again, with every event we wrote read back as a session
//! starting at the same instant.
#![no_main]

use chrono::{TimeZone, Utc};
use coalesce_api::feeds::{CalendarLimits, FeedEntry, FeedMeta, write_calendar};
use coalesce_ingest::{Kind, ParseHints, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(now) = Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).single() else {
        return;
    };
    let mut hints = ParseHints::new(now);
    hints.kind = Some(Kind::Ics);
    let Ok(parsed) = parse(data, &hints) else {
        return;
    };
    let ids: Vec<String> = (0..parsed.offerings.len()).map(|i| format!("o{i}")).collect();
    let entries: Vec<FeedEntry<'_>> = parsed
        .offerings
        .iter()
        .zip(&ids)
        .map(|(offering, id)| FeedEntry {
            id,
            offering,
            provider: "Fuzz Provider",
            sequence: 0,
            updated_at: now,
            also_offered_by: Vec::new(),
            topic_labels: Vec::new(),
            detail_url: format!("http://127.0.0.1/offerings/{id}"),
        })
        .collect();
    let meta = FeedMeta {
        name: "fuzz".into(),
        description: "round trip".into(),
        self_url: "http://127.0.0.1/calendar.ics".into(),
        home_url: "http://127.0.0.1/".into(),
        uid_domain: "127.0.0.1".into(),
        refresh: std::time::Duration::from_secs(3600),
        generated_at: now,
    };
    let cal = write_calendar(&meta, &entries, &CalendarLimits::default());
    let again = match parse(cal.body.as_bytes(), &hints) {
        Ok(p) => p,
        Err(e) => panic!("our own calendar does not parse: {e}\n{}", cal.body),
    };
    let written = cal.body.matches("BEGIN:VEVENT").count();
    let mut starts_read: Vec<i64> = again
        .offerings
        .iter()
        .flat_map(|o| o.occurrences.iter().map(|s| s.start.timestamp()))
        .collect();
    assert_eq!(
        starts_read.len(),
        written,
        "events written and sessions read back differ\n{}",
        cal.body
    );
    if cal.omitted == 0 {
        let mut starts_in: Vec<i64> = parsed
            .offerings
            .iter()
            .flat_map(|o| o.occurrences.iter().map(|s| s.start.timestamp()))
            .collect();
        starts_in.sort_unstable();
        starts_read.sort_unstable();
        assert_eq!(starts_in, starts_read, "session starts moved\n{}", cal.body);
    }
});
