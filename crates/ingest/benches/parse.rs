//! Parse throughput per format, in MB/s and items/s (`cargo bench -p coalesce-ingest`).
//! Inputs come from `corpus.rs`, the same generator `examples/benchkit.rs` writes to disk for
//! the comparison with Python's feedparser and icalendar (`bench/compare.py`).

use chrono::{TimeZone, Utc};
use coalesce_ingest::{ParseHints, Window, parse};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

mod corpus;

/// The allocator the `coalesce` binary runs with, so the figures are the service's.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn hints() -> ParseHints {
    let now = Utc
        .with_ymd_and_hms(2026, 11, 21, 12, 0, 0)
        .single()
        .expect("valid instant");
    let mut h = ParseHints::new(now);
    h.window = Window {
        from: now,
        to: now + chrono::Duration::days(730),
    };
    // Measure every item of the generated documents, not just the default 2,000.
    h.limits.max_items = usize::MAX;
    h
}

fn bench_formats(c: &mut Criterion) {
    let hints = hints();
    let cases = [
        ("rss", corpus::rss(1_000), 1_000usize),
        ("atom", corpus::atom(1_000), 1_000),
        (
            "ics_recurring",
            corpus::ics(2_000),
            corpus::ics_occurrences(2_000),
        ),
        ("html_jsonld", corpus::html(200), 200),
    ];
    let mut group = c.benchmark_group("parse");
    group.sample_size(20);
    for (name, doc, items) in &cases {
        // Fail loudly if a generator and the parser disagree, rather than timing an error path.
        let parsed = parse(doc.as_bytes(), &hints).expect("synthetic document parses");
        assert!(!parsed.offerings.is_empty(), "{name}: no offerings");
        group.throughput(Throughput::ElementsAndBytes {
            elements: *items as u64,
            bytes: doc.len() as u64,
        });
        group.bench_function(*name, |b| {
            b.iter(|| parse(std::hint::black_box(doc.as_bytes()), &hints))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_formats);
criterion_main!(benches);
