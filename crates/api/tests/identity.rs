//! Identity a calendar subscriber can rely on (issue 16), seen the way a calendar client sees it:
//! `/calendar.ics` read by Python's `icalendar` (through `roundtrip.py`) before and after a
//! change. In-process: a temp-dir SQLite store filled from the demo fixture sites, the crawl's
//! own `Reclusterer`, a RAM index following the store. Skips when Python's modules are missing.

// Test helpers outside #[test] functions unwrap too; a panic is the failure report here.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use coalesce_api::{ApiConfig, AppState, Clock, IndexSlot, router};
use coalesce_core::Vocabulary;
use coalesce_core::demo_sites::fill_dates as render;
use coalesce_crawl::Reclusterer;
use coalesce_index::store_sync::catch_up;
use coalesce_index::{CatalogIndex, IndexConfig, Synonyms};
use coalesce_ingest::{ParseHints, parse};
use coalesce_store::{
    FetchResult, NewSource, OfferingFilter, Snapshot, SourceId, Store, StoreOptions,
};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
}

fn now() -> DateTime<Utc> {
    Utc.from_utc_datetime(&today().and_hms_opt(12, 30, 0).unwrap())
}

struct World {
    store: Store,
    index: Arc<CatalogIndex>,
    recluster: Reclusterer,
    _dir: tempfile::TempDir,
}

impl World {
    async fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_data_dir(dir.path(), StoreOptions::default())
            .await
            .unwrap();
        let config = IndexConfig::new(
            b"a test cursor key of enough bytes".to_vec(),
            Synonyms::from_vocabulary(&Vocabulary::builtin()),
        )
        .unwrap();
        World {
            store,
            index: Arc::new(CatalogIndex::in_ram(config).unwrap()),
            recluster: Reclusterer::default(),
            _dir: dir,
        }
    }

    /// Registers a provider's source and applies its fixture, as a crawl would.
    async fn register(&self, slug: &str, name: &str, file: &str, domain: &str) -> SourceId {
        let at = now() - Duration::minutes(30);
        let text = std::fs::read_to_string(root().join("fixtures/sites").join(file)).unwrap();
        let mut hints = ParseHints::new(at);
        hints.base_url = url::Url::parse(&format!("https://{domain}/")).ok();
        let parsed = parse(render(&text, today()).as_bytes(), &hints).unwrap();
        let provider = self
            .store
            .ensure_provider(slug, Some(name), at)
            .await
            .unwrap();
        let source = self
            .store
            .upsert_source(
                &NewSource {
                    provider_id: provider.id,
                    name: "main".into(),
                    url: format!("https://{domain}/{file}"),
                    kind: None,
                    settings: serde_json::json!({}),
                },
                at,
            )
            .await
            .unwrap();
        self.store
            .apply(
                source,
                &FetchResult::Fetched(Snapshot::new(parsed.offerings, 0)),
                at,
            )
            .await
            .unwrap();
        source
    }

    /// What `serve` does after every round: clusters follow the store, the index follows both.
    async fn settle(&mut self) {
        self.recluster
            .update(&self.store, &[], now())
            .await
            .unwrap();
        catch_up(&self.store, &self.index, 100).await.unwrap();
    }

    fn router(&self, at: DateTime<Utc>) -> Router {
        router(AppState::new(
            self.store.clone(),
            IndexSlot::ready(Arc::clone(&self.index)),
            ApiConfig::new("https://coalesce.example.org/", "coalesce.example.org"),
            Clock::fixed(at),
        ))
    }
}

fn python_ok() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import icalendar, recurring_ical_events, feedparser"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!(
            "SKIPPED: python3 with icalendar, recurring-ical-events and feedparser not available"
        );
    }
    ok
}

/// The subscribed calendar as a client reads it: events by UID.
async fn client_view(router: &Router) -> BTreeMap<String, Value> {
    let res = router
        .clone()
        .oneshot(Request::get("/calendar.ics").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body = res.into_body().collect().await.unwrap().to_bytes();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.ics");
    std::fs::write(&path, &body).unwrap();
    let out = Command::new("python3")
        .arg(root().join("crates/api/tests/roundtrip.py"))
        .arg("--ics")
        .arg(&path)
        .args(["--from", "2026-01-01", "--to", "2028-12-31"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["uid"].as_str().unwrap().to_string(), e.clone()))
        .collect()
}

fn offered_by(event: &Value) -> String {
    event["description"]
        .as_str()
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("Offered by: "))
        .unwrap_or("")
        .to_string()
}

#[tokio::test]
async fn a_co_marketed_copy_registered_later_leaves_the_calendar_uids_and_attribution() {
    if !python_ok() {
        return;
    }
    let mut w = World::new().await;
    w.register(
        "mpla",
        "Mountain Plains Library Association",
        "library-association/events.xml",
        "mpla.example.org",
    )
    .await;
    w.settle().await;
    let before = client_view(&w.router(now())).await;
    let webinar = |view: &BTreeMap<String, Value>| -> Vec<(String, Value)> {
        view.iter()
            .filter(|(_, e)| {
                e["summary"]
                    .as_str()
                    .unwrap()
                    .to_lowercase()
                    .contains("copyright basics")
            })
            .map(|(u, e)| (u.clone(), e.clone()))
            .collect()
    };
    let first = webinar(&before);
    assert_eq!(first.len(), 1, "{before:#?}");
    assert_eq!(
        offered_by(&first[0].1),
        "Mountain Plains Library Association"
    );

    // The same webinar registered by its originator (its registration page is on their site)
    // and by two more co-marketers.
    for (slug, name, file, domain) in [
        (
            "sra",
            "Society of Regional Archivists",
            "archivists-society/calendar.ics",
            "regionalarchivists.example.org",
        ),
        (
            "hma",
            "Heritage Museum Alliance",
            "museum-alliance/events.html",
            "heritagemuseums.example.org",
        ),
        (
            "tclc",
            "Tri-County Library Consortium",
            "consortium/calendar.ics",
            "tclc.example.org",
        ),
    ] {
        w.register(slug, name, file, domain).await;
    }
    w.settle().await;
    let after = client_view(&w.router(now())).await;

    // Every event the subscriber had is still there under the same UID, same attribution.
    for (uid, e) in &before {
        let now_e = after
            .get(uid)
            .unwrap_or_else(|| panic!("{uid} vanished: {after:#?}"));
        assert_eq!(offered_by(now_e), offered_by(e), "{uid}");
        assert_eq!(now_e["summary"], e["summary"], "{uid}");
    }
    // The webinar is still one event, now naming the others.
    let joined = webinar(&after);
    assert_eq!(joined.len(), 1, "{joined:#?}");
    assert_eq!(joined[0].0, first[0].0);
    assert!(
        joined[0].1["description"]
            .as_str()
            .unwrap()
            .contains("Also offered by: "),
        "{joined:#?}"
    );
}

#[tokio::test]
async fn a_withdrawn_upcoming_offering_stays_cancelled_for_thirty_days() {
    if !python_ok() {
        return;
    }
    let mut w = World::new().await;
    let mpla = w
        .register(
            "mpla",
            "Mountain Plains Library Association",
            "library-association/events.xml",
            "mpla.example.org",
        )
        .await;
    let hma = w
        .register(
            "hma",
            "Heritage Museum Alliance",
            "museum-alliance/events.html",
            "heritagemuseums.example.org",
        )
        .await;
    w.settle().await;
    let before = client_view(&w.router(now())).await;

    // An upcoming offering of its own that mpla takes down.
    let live = w
        .store
        .offerings(&OfferingFilter {
            source_id: Some(mpla),
            ..OfferingFilter::default()
        })
        .await
        .unwrap();
    let taken = live
        .iter()
        .find(|o| {
            o.cluster_id.is_none()
                && !o.offering.occurrences.is_empty()
                && o.offering.occurrences.iter().all(|x| x.start > now())
                && o.offering.status == coalesce_core::Status::Scheduled
        })
        .expect("an upcoming offering on its own");
    let uids: Vec<&String> = before
        .keys()
        .filter(|u| u.starts_with(&taken.id.0))
        .collect();
    assert!(!uids.is_empty(), "{before:#?}");
    assert!(
        w.store
            .remove_offering(mpla, &taken.id, now())
            .await
            .unwrap()
    );
    // hma's whole source is deleted: its upcoming offerings go the same way.
    let hma_uids: Vec<String> = {
        let theirs = w
            .store
            .offerings(&OfferingFilter {
                source_id: Some(hma),
                ..OfferingFilter::default()
            })
            .await
            .unwrap();
        before
            .iter()
            .filter(|(u, e)| {
                e["status"] == "CONFIRMED"
                    && theirs
                        .iter()
                        .any(|o| o.cluster_id.is_none() && u.starts_with(&o.id.0))
            })
            .map(|(u, _)| u.clone())
            .collect()
    };
    assert!(!hma_uids.is_empty());
    w.store.delete_source(hma, now()).await.unwrap();
    w.settle().await;

    let after = client_view(&w.router(now())).await;
    for uid in uids.iter().copied().chain(hma_uids.iter()) {
        let (was, is) = (&before[uid], after.get(uid).expect("still in the calendar"));
        assert_eq!(is["status"], "CANCELLED", "{uid}: {is}");
        assert!(
            is["sequence"].as_i64().unwrap() > was["sequence"].as_i64().unwrap(),
            "{uid}: SEQUENCE must go up so clients apply the change: {was} -> {is}"
        );
        assert_eq!(is["start"], was["start"], "{uid}");
    }
    // Nothing else changed.
    for (uid, e) in &before {
        if !uids.contains(&uid) && !hma_uids.contains(uid) {
            assert_eq!(after.get(uid).map(|x| &x["status"]), Some(&e["status"]));
        }
    }

    // A month later the cancelled entries are gone.
    let later = client_view(&w.router(now() + Duration::days(31))).await;
    for uid in uids.iter().copied().chain(hma_uids.iter()) {
        assert!(!later.contains_key(uid), "{uid} should have expired");
    }
}
