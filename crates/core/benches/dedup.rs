//! Clustering throughput on 100,000 synthetic offerings (`cargo bench -p coalesce-core --bench
//! dedup`). The corpus imitates the real distribution: a few hundred providers, most offerings at
//! a handful of popular hours on weekdays (so time blocks are crowded), monthly series that repeat
//! a title, about one offering in ten co-marketed by one to three other providers with a title
//! variant, a time written in another zone and a tracked registration link, and some self-paced
//! courses without dates.

use chrono::{DateTime, Duration, FixedOffset, TimeZone, Utc};
use coalesce_core::dedup::{DedupConfig, DedupIndex, DedupItem, Fingerprint, cluster};
use coalesce_core::{Cost, KeyKind, Occurrence, Offering, Status};
use criterion::{Criterion, criterion_group, criterion_main};

const N: usize = 100_000;
const PROVIDERS: usize = 400;

/// A small deterministic generator (xorshift) so every run clusters the same corpus.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, xs: &'a [&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

const SUBJECTS: &[&str] = &[
    "Digital Preservation",
    "Copyright",
    "Linked Data",
    "Oral History",
    "Collections Care",
    "Grant Writing",
    "Web Archiving",
    "Storytime",
    "Readers' Advisory",
    "Exhibit Design",
    "Volunteer Management",
    "Metadata",
    "Records Management",
    "Community Engagement",
    "Disaster Planning",
    "Book Repair",
    "Accessibility",
    "Teen Services",
    "Data Literacy",
    "Photograph Conservation",
    "Archival Description",
    "Fundraising",
    "Strategic Planning",
    "Cataloging",
    "Museum Education",
];
const ANGLES: &[&str] = &[
    "Basics",
    "for Small Libraries",
    "in Practice",
    "for Museums",
    "Fundamentals",
    "Beyond the Basics",
    "for Archivists",
    "on a Budget",
    "Case Studies",
    "for Rural Libraries",
    "Toolkit",
    "Roundtable",
];
const WORDS: &[&str] = &[
    "collections",
    "learn",
    "staff",
    "practical",
    "session",
    "patrons",
    "community",
    "workflow",
    "policy",
    "examples",
    "tools",
    "participants",
    "questions",
    "planning",
    "digital",
    "history",
    "records",
    "visitors",
    "funding",
    "access",
    "standards",
    "metadata",
    "preservation",
    "outreach",
    "training",
    "budget",
    "partners",
    "library",
    "museum",
    "archive",
];

fn instant(day: i64, minutes_utc: i64) -> DateTime<Utc> {
    let base = Utc
        .with_ymd_and_hms(2026, 1, 5, 0, 0, 0)
        .single()
        .expect("valid base date");
    base + Duration::days(day) + Duration::minutes(minutes_utc)
}

fn offering(
    title: String,
    start: Option<DateTime<FixedOffset>>,
    reg: String,
    desc: String,
) -> Offering {
    Offering {
        source_key: String::new(),
        key_kind: KeyKind::Guid,
        title,
        summary: None,
        description_html: Some(desc),
        language: None,
        occurrences: start
            .map(|s| Occurrence {
                start: s,
                end: Some(s + Duration::minutes(60)),
                all_day: false,
                cancelled: false,
                date_source: coalesce_core::DateSource::Structured,
                recurrence_id: None,
            })
            .into_iter()
            .collect(),
        recurring: false,
        timezone: None,
        modality: None,
        location: None,
        online_url: None,
        url: None,
        registration_url: Some(reg),
        image_url: None,
        cost: Cost::default(),
        credits: vec![],
        sectors: vec![],
        audience_level: None,
        topics: vec![],
        categories: vec![],
        organizer: None,
        status: Status::Scheduled,
        source_sequence: 0,
        updated_at: None,
        published_at: None,
    }
}

struct Record {
    id: String,
    provider: usize,
    offering: Offering,
}

fn corpus() -> Vec<Record> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let zones = [-4 * 3600, -5 * 3600, -6 * 3600, -7 * 3600, 0];
    // Popular slots in UTC minutes (11, 13, 14 and 15 o'clock Eastern); the rest spread over
    // the working day.
    let popular = [15 * 60, 17 * 60, 18 * 60, 19 * 60];
    let mut out = Vec::with_capacity(N);
    let mut next_id = 0usize;
    while out.len() < N {
        let provider = rng.below(PROVIDERS);
        let title = format!("{} {}", rng.pick(SUBJECTS), rng.pick(ANGLES));
        let desc: Vec<&str> = (0..60).map(|_| rng.pick(WORDS)).collect();
        let desc = desc.join(" ");
        let reg = format!("https://p{provider}.example.org/events/{next_id}");
        let weekday_day = (rng.below(52) * 7 + rng.below(5)) as i64;
        let minutes = if rng.below(2) == 0 {
            popular[rng.below(popular.len())]
        } else {
            13 * 60 + 30 * rng.below(16) as i64
        };
        let kind = rng.below(100);
        // 5% self-paced, 15% monthly series of 3-6 dates, the rest one-off sessions.
        let dates: Vec<Option<i64>> = if kind < 5 {
            vec![None]
        } else if kind < 20 {
            (0..3 + rng.below(4) as i64)
                .map(|k| Some(weekday_day % 28 + 28 * k))
                .collect()
        } else {
            vec![Some(weekday_day)]
        };
        for day in dates {
            let zone = FixedOffset::east_opt(zones[rng.below(zones.len())]).expect("offset");
            let start = day.map(|d| instant(d, minutes).with_timezone(&zone));
            out.push(Record {
                id: format!("o{next_id:07}"),
                provider,
                offering: offering(title.clone(), start, reg.clone(), desc.clone()),
            });
            next_id += 1;
            // About one in ten is co-marketed by one to three other providers.
            if rng.below(10) == 0 {
                for c in 0..1 + rng.below(3) {
                    let other = (provider + 1 + rng.below(PROVIDERS - 1)) % PROVIDERS;
                    let zone =
                        FixedOffset::east_opt(zones[rng.below(zones.len())]).expect("offset");
                    let variant = match c {
                        0 => format!("Webinar: {title}"),
                        1 => title.to_lowercase(),
                        _ => format!("{title} (Online)"),
                    };
                    out.push(Record {
                        id: format!("o{next_id:07}"),
                        provider: other,
                        offering: offering(
                            variant,
                            start.map(|s| s.with_timezone(&zone)),
                            format!("{reg}?utm_source=p{other}&utm_medium=email"),
                            format!("Co-hosted with a partner. {desc}"),
                        ),
                    });
                    next_id += 1;
                }
            }
        }
    }
    out.truncate(N);
    out
}

fn fingerprints(records: &[Record]) -> Vec<Fingerprint> {
    records
        .iter()
        .map(|r| {
            let provider = format!("p{}", r.provider);
            let domains = vec![format!("p{}.example.org", r.provider)];
            Fingerprint::from_item(&DedupItem {
                id: &r.id,
                source_id: &provider,
                provider: &provider,
                provider_domains: &domains,
                offering: &r.offering,
            })
        })
        .collect()
}

fn bench_dedup(c: &mut Criterion) {
    let records = corpus();
    let fps = fingerprints(&records);
    let cfg = DedupConfig::default();
    let clusters = cluster(fps.clone(), &cfg).expect("synthetic corpus clusters");
    let members: usize = clusters.iter().map(|c| c.members.len()).sum();
    println!(
        "corpus: {} offerings, {} clusters holding {} members",
        fps.len(),
        clusters.len(),
        members
    );
    let mut group = c.benchmark_group("dedup");
    group.sample_size(10);
    group.bench_function("cluster_100k", |b| {
        // The input is cloned outside the timing: the store hands over owned fingerprints.
        b.iter_batched(
            || fps.clone(),
            |input| cluster(input, &cfg).expect("clusters"),
            criterion::BatchSize::LargeInput,
        )
    });
    group.bench_function("fingerprint_100k", |b| b.iter(|| fingerprints(&records)));
    // What the store pays after applying one 2,000-item feed to an index of 100k.
    let index = DedupIndex::build(fps.clone(), cfg.clone()).expect("index");
    let changed: Vec<Fingerprint> = fps.iter().step_by(50).take(2_000).cloned().collect();
    group.bench_function("apply_2k_to_100k", |b| {
        b.iter_batched(
            || index.clone(),
            |mut idx| idx.apply(changed.clone(), &[]).expect("apply"),
            criterion::BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, bench_dedup);
criterion_main!(benches);
