//! Applying a 2,000-item feed: the first apply (all inserts) and an unchanged re-apply (the
//! common case of every poll). Target: each under 1 s on the 2-core reference machine.

// Bench code: a failed unwrap aborts the measurement, which is what we want.
#![allow(clippy::unwrap_used)]

use chrono::{Duration, TimeZone, Utc};
use coalesce_core::{Cost, KeyKind, Occurrence, Offering, Sector, Status};
use coalesce_store::{FetchResult, NewSource, Snapshot, SourceId, Store, StoreOptions};
use criterion::{Criterion, criterion_group, criterion_main};
use tokio::runtime::Runtime;

const ITEMS: usize = 2_000;

fn feed() -> Vec<Offering> {
    let base = Utc.with_ymd_and_hms(2026, 5, 1, 15, 0, 0).unwrap();
    (0..ITEMS)
        .map(|i| {
            let start = (base + Duration::hours(i as i64 * 5)).fixed_offset();
            Offering {
                source_key: format!("tag:example.org,2026:event/{i}"),
                key_kind: KeyKind::Guid,
                title: format!("Caring for photographic collections, part {i}"),
                summary: Some("A practical session on housing, handling and storage.".into()),
                description_html: Some(format!(
                    "<p>Session {i}: housing, handling and storage of photographs.</p>"
                )),
                language: Some("en".into()),
                occurrences: vec![
                    Occurrence {
                        start,
                        end: Some(start + Duration::minutes(90)),
                        all_day: false,
                        cancelled: false,
                        date_source: coalesce_core::DateSource::Structured,
                        recurrence_id: None,
                    },
                    Occurrence {
                        start: start + Duration::days(7),
                        end: Some(start + Duration::days(7) + Duration::minutes(90)),
                        all_day: false,
                        cancelled: false,
                        date_source: coalesce_core::DateSource::Structured,
                        recurrence_id: None,
                    },
                ],
                recurring: false,
                timezone: Some("America/New_York".into()),
                modality: Some(coalesce_core::Modality::Online),
                location: None,
                online_url: None,
                url: Some(format!("https://example.org/events/{i}")),
                registration_url: Some(format!("https://example.org/events/{i}/register")),
                image_url: None,
                cost: Cost {
                    free: Some(true),
                    ..Cost::default()
                },
                credits: Vec::new(),
                sectors: vec![Sector::Archives, Sector::Museums],
                audience_level: None,
                topics: vec!["preservation".into()],
                categories: vec!["Preservation".into()],
                organizer: Some("Example Center".into()),
                status: Status::Scheduled,
                source_sequence: 0,
                updated_at: None,
                published_at: None,
            }
        })
        .collect()
}

async fn fresh(dir: &std::path::Path, n: usize) -> (Store, SourceId) {
    let store = Store::open_sqlite(&dir.join(format!("b{n}.db")), StoreOptions::default())
        .await
        .unwrap();
    let now = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
    let p = store.ensure_provider("bench", None, now).await.unwrap();
    let src = store
        .upsert_source(
            &NewSource {
                provider_id: p.id,
                name: "events".into(),
                url: "https://example.org/events.xml".into(),
                kind: None,
                settings: serde_json::json!({}),
            },
            now,
        )
        .await
        .unwrap();
    (store, src)
}

fn bench(c: &mut Criterion) {
    let rt = Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let items = FetchResult::Fetched(Snapshot::new(feed(), 0));
    let now = Utc.with_ymd_and_hms(2026, 3, 1, 13, 0, 0).unwrap();
    let mut g = c.benchmark_group("apply_2000");
    g.sample_size(10);

    let mut n = 0;
    g.bench_function("first_apply", |b| {
        b.iter_custom(|iters| {
            let mut total = std::time::Duration::ZERO;
            for _ in 0..iters {
                n += 1;
                let (store, src) = rt.block_on(fresh(dir.path(), n));
                let t = std::time::Instant::now();
                rt.block_on(store.apply(src, &items, now)).unwrap();
                total += t.elapsed();
                rt.block_on(store.close());
            }
            total
        })
    });

    let (store, src) = rt.block_on(fresh(dir.path(), 0));
    rt.block_on(store.apply(src, &items, now)).unwrap();
    g.bench_function("unchanged_reapply", |b| {
        b.iter(|| {
            let s = rt.block_on(store.apply(src, &items, now)).unwrap();
            assert_eq!(s.unchanged, ITEMS as u64);
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
