//! Calendar-writing benchmark and its corpus (`bench/calendar_compare.py` drives both sides).
//!
//!     cargo run --release -p coalesce-api --example calbench -- dump FILE   # corpus as JSON
//!     cargo run --release -p coalesce-api --example calbench -- time [ROUNDS]
//!
//! The corpus: 10,000 events from 4,000 offerings (2,500 one-off webinars, 1,500 weekly series
//! of 5 sessions crossing the autumn DST change) in 8 zones, with the text a real feed carries
//! (summary, location with commas, links, topics, some multibyte titles). `time` writes the whole
//! calendar with the caps lifted to the ceiling and prints the median of ROUNDS as JSON.

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use coalesce_api::feeds::{CalendarLimits, FeedEntry, FeedMeta, write_calendar};
use coalesce_core::{Cost, Geo, KeyKind, Location, Modality, Occurrence, Offering, Status};

const ZONES: [&str; 8] = [
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Europe/London",
    "Europe/Berlin",
    "Australia/Sydney",
    "Asia/Tokyo",
    "America/Toronto",
];
const TOPICS: [&str; 6] = [
    "Preservation",
    "Digitization",
    "Metadata",
    "Collections care",
    "Oral history",
    "Copyright",
];

struct Corpus {
    ids: Vec<String>,
    offerings: Vec<Offering>,
    providers: Vec<String>,
    labels: Vec<Vec<String>>,
}

fn corpus() -> Corpus {
    let base = Utc
        .with_ymd_and_hms(2026, 9, 1, 0, 0, 0)
        .single()
        .unwrap_or_default();
    let mut c = Corpus {
        ids: vec![],
        offerings: vec![],
        providers: vec![],
        labels: vec![],
    };
    for i in 0..4_000usize {
        let zone_name = ZONES[i % ZONES.len()];
        let tz: Tz = zone_name.parse().unwrap_or(Tz::UTC);
        let sessions = if i < 2_500 { 1 } else { 5 };
        let day = base + chrono::Duration::days((i % 120) as i64);
        let local = day.with_timezone(&tz).date_naive();
        let occurrences = (0..sessions)
            .filter_map(|k| {
                let d = local + chrono::Duration::weeks(k);
                let start = tz
                    .from_local_datetime(&d.and_hms_opt(9 + (i % 8) as u32, 0, 0)?)
                    .earliest()?;
                let end = start + chrono::Duration::minutes(90);
                Some(Occurrence {
                    start: start.fixed_offset(),
                    end: Some(end.fixed_offset()),
                    all_day: false,
                    cancelled: i % 97 == 0 && k == 1,
                    date_source: coalesce_core::DateSource::Structured,
                    recurrence_id: None,
                })
            })
            .collect::<Vec<_>>();
        let title = if i % 10 == 0 {
            format!("Préservation numérique — atelier {i} 📚")
        } else {
            format!("Caring for photographic collections, part {i}")
        };
        c.offerings.push(Offering {
            source_key: format!("urn:bench:{i}"),
            key_kind: KeyKind::Guid,
            title,
            summary: Some(format!(
                "A practical session for archivists, librarians and museum staff on handling, \
                 housing and digitizing fragile materials; bring your questions ({i})."
            )),
            description_html: None,
            language: Some("en".into()),
            recurring: sessions > 1,
            occurrences,
            timezone: Some(zone_name.into()),
            modality: Some(if i % 3 == 0 {
                Modality::InPerson
            } else {
                Modality::Online
            }),
            location: (i % 3 == 0).then(|| Location {
                name: Some(format!("Reading Room {}, State Archives", i % 7)),
                address: Some("100 Archive Way, Suite 2".into()),
                locality: Some("Springfield".into()),
                region: None,
                country: Some("US".into()),
                geo: Geo::new(39.78, -89.65),
            }),
            online_url: None,
            url: Some(format!("https://provider{}.example/events/{i}", i % 50)),
            registration_url: Some(format!(
                "https://provider{}.example/register?id={i}",
                i % 50
            )),
            image_url: None,
            cost: Cost {
                free: Some(i % 2 == 0),
                text: (i % 2 == 1).then(|| "$25 members / $50 non-members".to_owned()),
                ..Cost::default()
            },
            credits: vec![],
            sectors: vec![],
            audience_level: None,
            topics: vec![],
            categories: vec![],
            organizer: None,
            status: if i % 211 == 0 {
                Status::Cancelled
            } else {
                Status::Scheduled
            },
            source_sequence: 0,
            updated_at: None,
            published_at: None,
        });
        c.ids.push(format!("off{i:05}"));
        c.providers.push(format!("Provider {}", i % 50));
        c.labels.push(vec![
            TOPICS[i % TOPICS.len()].to_owned(),
            TOPICS[(i / 7) % TOPICS.len()].to_owned(),
        ]);
    }
    c
}

fn entries(c: &Corpus) -> Vec<FeedEntry<'_>> {
    let updated: DateTime<Utc> = Utc
        .with_ymd_and_hms(2026, 8, 20, 12, 0, 0)
        .single()
        .unwrap_or_default();
    (0..c.offerings.len())
        .map(|i| FeedEntry {
            id: &c.ids[i],
            offering: &c.offerings[i],
            provider: &c.providers[i],
            sequence: (i % 4) as u32,
            updated_at: updated,
            also_offered_by: if i % 10 == 0 {
                vec!["Museum Guild".into()]
            } else {
                vec![]
            },
            topic_labels: c.labels[i].clone(),
            detail_url: format!("https://coalesce.example/offerings/{}", c.ids[i]),
        })
        .collect()
}

fn meta() -> FeedMeta {
    FeedMeta {
        name: "coalesce: everything".into(),
        description: "All offerings".into(),
        self_url: "https://coalesce.example/calendar.ics".into(),
        home_url: "https://coalesce.example/api/v1/offerings".into(),
        uid_domain: "coalesce.example".into(),
        refresh: Duration::from_secs(12 * 3600),
        generated_at: Utc
            .with_ymd_and_hms(2026, 8, 31, 0, 0, 0)
            .single()
            .unwrap_or_default(),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let c = corpus();
    let entries = entries(&c);
    match args.first().map(String::as_str) {
        Some("dump") => {
            // What Python needs to build the same events: the entries' fields as plain JSON.
            let items: Vec<serde_json::Value> = entries
                .iter()
                .map(|e| {
                    serde_json::json!({
                        "id": e.id,
                        "offering": e.offering,
                        "provider": e.provider,
                        "sequence": e.sequence,
                        "updated_at": e.updated_at,
                        "also_offered_by": e.also_offered_by,
                        "topic_labels": e.topic_labels,
                        "detail_url": e.detail_url,
                    })
                })
                .collect();
            let path = args.get(1).ok_or("usage: calbench dump FILE")?;
            std::fs::write(path, serde_json::to_string(&items)?)?;
        }
        Some("time") | None => {
            let rounds: usize = args.get(1).map(|s| s.parse()).transpose()?.unwrap_or(7);
            let limits = CalendarLimits::CEILING;
            let mut times = Vec::new();
            let mut out = None;
            for _ in 0..rounds.max(1) {
                let t = Instant::now();
                let cal = write_calendar(&meta(), &entries, &limits);
                times.push(t.elapsed().as_secs_f64());
                out = Some(cal);
            }
            times.sort_by(f64::total_cmp);
            let cal = out.ok_or("no round ran")?;
            println!(
                "{}",
                serde_json::json!({
                    "events": cal.events,
                    "omitted": cal.omitted,
                    "bytes": cal.body.len(),
                    "median_secs": times[times.len() / 2],
                })
            );
        }
        Some(other) => return Err(format!("unknown command {other}").into()),
    }
    Ok(())
}
