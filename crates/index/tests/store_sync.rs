//! The index follows the store: a missing index is rebuilt from it, an existing one resumes from
//! its committed watermark, and removals in the store disappear from search.

// Test helpers outside #[test] functions unwrap too; a panic is the failure report here.
#![allow(clippy::unwrap_used)]

use chrono::{TimeZone, Utc};
use coalesce_core::Vocabulary;
use coalesce_index::generate::{GenerateSpec, generate};
use coalesce_index::store_sync::{catch_up, open_synced};
use coalesce_index::{IndexConfig, Opened, SearchRequest, Synonyms};
use coalesce_store::{FetchResult, NewSource, Snapshot, Store, StoreOptions};

fn config() -> IndexConfig {
    IndexConfig::new(
        b"sixteen bytes at least".to_vec(),
        Synonyms::from_vocabulary(&Vocabulary::builtin()),
    )
    .unwrap()
}

#[tokio::test]
async fn missing_index_is_rebuilt_then_resumed_from_its_watermark() {
    let dir = tempfile::tempdir().unwrap();
    let now = Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap();
    let store = Store::open_data_dir(dir.path(), StoreOptions::default())
        .await
        .unwrap();
    let provider = store.ensure_provider("p", Some("P"), now).await.unwrap();
    let source = store
        .upsert_source(
            &NewSource {
                provider_id: provider.id,
                name: "s".into(),
                url: "https://p.example.org/feed".into(),
                kind: None,
                settings: serde_json::json!({}),
            },
            now,
        )
        .await
        .unwrap();
    let offerings: Vec<_> = generate(&GenerateSpec {
        offerings: 30,
        seed: 7,
        now,
    })
    .map(|d| d.offering)
    .collect();
    let apply = |list: Vec<coalesce_core::Offering>, at| {
        let store = store.clone();
        async move {
            store
                .apply(source, &FetchResult::Fetched(Snapshot::new(list, 0)), at)
                .await
                .unwrap()
        }
    };
    apply(offerings.clone(), now).await;
    let path = dir.path().join("index");

    let (index, how) = open_synced(&path, config(), &store).await.unwrap();
    assert!(
        matches!(how, Opened::Rebuilt { documents, .. } if documents > 0),
        "{how:?}"
    );
    let live = |idx: &coalesce_index::CatalogIndex| {
        let mut r = SearchRequest::new(now);
        r.from = Some(now - chrono::Duration::days(3650));
        r.limit = 1;
        idx.search(&r).unwrap().total
    };
    let before = live(&index);
    assert!(before > 0);
    drop(index);

    // Five items vanish from the source for three healthy fetches in a row (K = 3): removed.
    for h in 1..=3 {
        apply(offerings[..25].to_vec(), now + chrono::Duration::hours(h)).await;
    }
    let (index, how) = open_synced(&path, config(), &store).await.unwrap();
    assert!(matches!(how, Opened::Existing { .. }), "{how:?}");
    assert_eq!(
        index.watermark().unwrap(),
        Some(store.watermark().await.unwrap() as u64)
    );
    assert!(live(&index) < before, "removals reach the index");
    assert_eq!(
        catch_up(&store, &index, 10).await.unwrap(),
        0,
        "nothing left"
    );
}
