//! Clusters kept current round by round (`Reclusterer`) end where a full recompute from the
//! store would: the demo sites applied one provider at a time, then one provider's feed
//! shrunk until its items are removed.

use std::collections::BTreeSet;
use std::path::PathBuf;

use chrono::{NaiveDate, TimeZone, Utc};
use coalesce_core::demo_sites::fill_dates as render;
use coalesce_crawl::Reclusterer;
use coalesce_ingest::{ParseHints, parse};
use coalesce_store::{FetchResult, NewSource, Snapshot, Store, StoreOptions};

async fn groups(store: &Store) -> BTreeSet<Vec<String>> {
    store
        .clusters()
        .await
        .expect("clusters")
        .into_iter()
        .map(|c| {
            let mut m: Vec<String> = c.members.into_iter().map(|m| m.offering_id.0).collect();
            m.sort();
            m
        })
        .collect()
}

/// Updates `live` with `changed` (and whatever the change log holds), then checks that a full
/// recompute from the store finds the same clusters.
async fn update_and_compare(
    store: &Store,
    live: &mut Reclusterer,
    changed: &[coalesce_store::OfferingId],
    at: chrono::DateTime<Utc>,
    when: &str,
) {
    live.update(store, changed, at)
        .await
        .expect("incremental update");
    let incremental = groups(store).await;
    coalesce_crawl::recluster(store, at)
        .await
        .expect("full recompute");
    assert_eq!(incremental, groups(store).await, "{when}");
}

#[tokio::test(flavor = "current_thread")]
async fn incremental_clusters_equal_a_full_recompute_round_after_round() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open_data_dir(dir.path(), StoreOptions::default())
        .await
        .expect("store");
    let today = NaiveDate::from_ymd_opt(2026, 11, 21).expect("date");
    let now = Utc.from_utc_datetime(&today.and_hms_opt(12, 0, 0).expect("time"));
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/sites");
    let sites = [
        (
            "mpla",
            "library-association/events.xml",
            "https://mpla.example.org/ce/feed/",
        ),
        (
            "sra",
            "archivists-society/calendar.ics",
            "https://regionalarchivists.example.org/cal.ics",
        ),
        (
            "hma",
            "museum-alliance/events.html",
            "https://heritagemuseums.example.org/events/",
        ),
        (
            "state",
            "state-library/learning.atom",
            "https://statelibrary.example.gov/ce/learning.atom",
        ),
        (
            "tclc",
            "consortium/calendar.ics",
            "https://tclc.example.org/cal.ics",
        ),
    ];
    let mut live = Reclusterer::default();
    let mut sources = Vec::new();
    for (name, file, url) in sites {
        let provider = store
            .ensure_provider(name, None, now)
            .await
            .expect("provider");
        let source = store
            .upsert_source(
                &NewSource {
                    provider_id: provider.id,
                    name: "events".into(),
                    url: url.into(),
                    kind: None,
                    settings: serde_json::json!({}),
                },
                now,
            )
            .await
            .expect("source");
        let text = std::fs::read_to_string(root.join(file)).expect("fixture");
        let mut hints = ParseHints::new(now);
        hints.base_url = url::Url::parse(url).ok();
        let parsed = parse(render(&text, today).as_bytes(), &hints).expect("parses");
        let applied = store
            .apply(
                source,
                &FetchResult::Fetched(Snapshot::new(parsed.offerings, 0)),
                now,
            )
            .await
            .expect("apply");
        sources.push(source);
        update_and_compare(
            &store,
            &mut live,
            &applied.changed,
            now,
            &format!("after adding {name}"),
        )
        .await;
    }
    assert_eq!(
        groups(&store)
            .await
            .iter()
            .map(Vec::len)
            .collect::<Vec<_>>(),
        vec![4, 2]
    );

    // The consortium's feed drops its copy of the webinar. The session is still ahead, so K
    // healthy absences keep it (HOSTILE E4); the provider then takes it down, and the cluster
    // shrinks, incrementally as from scratch.
    let tclc = sources[4];
    for round in 1..=4 {
        let at = now + chrono::Duration::hours(round);
        let keep = parse(
            render(
                &std::fs::read_to_string(root.join("consortium/calendar.ics")).expect("fixture"),
                today,
            )
            .as_bytes(),
            &ParseHints::new(at),
        )
        .expect("parses")
        .offerings
        .into_iter()
        .filter(|o| !o.title.to_lowercase().contains("copyright"))
        .collect();
        let applied = store
            .apply(tclc, &FetchResult::Fetched(Snapshot::new(keep, 0)), at)
            .await
            .expect("apply");
        update_and_compare(
            &store,
            &mut live,
            &applied.changed,
            at,
            &format!("after shrink round {round}"),
        )
        .await;
    }
    let sizes = |g: BTreeSet<Vec<String>>| g.iter().map(Vec::len).collect::<Vec<_>>();
    assert_eq!(
        sizes(groups(&store).await),
        vec![4, 2],
        "an upcoming copy stays"
    );
    let at = now + chrono::Duration::hours(5);
    let copy = store
        .offerings(&coalesce_store::OfferingFilter {
            source_id: Some(tclc),
            ..Default::default()
        })
        .await
        .expect("offerings")
        .into_iter()
        .find(|o| o.offering.title.to_lowercase().contains("copyright"))
        .expect("the consortium's copy is still live")
        .id;
    assert!(
        store
            .remove_offering(tclc, &copy, at)
            .await
            .expect("remove")
    );
    // Nobody tells the reclusterer (the API took the copy down, not the crawl): it finds the
    // removal in the store's change log.
    update_and_compare(&store, &mut live, &[], at, "after the take-down").await;
    assert_eq!(sizes(groups(&store).await), vec![3, 2]);

    // A provider deletes its source: its offerings leave their clusters the same way.
    let at = now + chrono::Duration::hours(6);
    let removed = store.delete_source(sources[0], at).await.expect("delete");
    assert!(removed > 0);
    update_and_compare(&store, &mut live, &[], at, "after the source was deleted").await;
    assert!(
        sizes(groups(&store).await).iter().all(|&n| n < 4),
        "the library association's copy left its cluster"
    );
}
