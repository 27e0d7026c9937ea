//! The router in-process (`oneshot`, no socket) over a temp-dir SQLite store filled from the
//! demo fixture sites (rendered for a fixed day) and a RAM index synced from the store's change
//! log. The clock is fixed; nothing leaves the process.

// Test helpers outside #[test] functions unwrap too; a panic is the failure report here.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use coalesce_api::openapi::{ROUTES, document};
use coalesce_api::{ApiConfig, AppState, Clock, IndexSlot, router};
use coalesce_core::Vocabulary;
use coalesce_core::dedup::{self, DedupConfig, DedupItem, Fingerprint};
use coalesce_core::demo_sites::fill_dates as render;
use coalesce_index::store_sync::catch_up;
use coalesce_index::{CatalogIndex, IndexConfig, Synonyms};
use coalesce_ingest::{ParseHints, parse};
use coalesce_store::{
    Cluster, ClusterId, ClusterMember, FetchResult, NewSource, OfferingFilter, OfferingId,
    Snapshot, Store, StoreOptions,
};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

const SITES: &[(&str, &str, &str, &str)] = &[
    (
        "mpla",
        "Mountain Plains Library Association",
        "library-association/events.xml",
        "mpla.example.org",
    ),
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
        "sle",
        "State Library of Examplia",
        "state-library/learning.atom",
        "statelibrary.example.gov",
    ),
    (
        "tclc",
        "Tri-County Library Consortium",
        "consortium/calendar.ics",
        "tclc.example.org",
    ),
    (
        "nis",
        "Northern iSchool",
        "ischool/courses.html",
        "ischool.example.edu",
    ),
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
}

fn now() -> DateTime<Utc> {
    Utc.from_utc_datetime(&today().and_hms_opt(12, 30, 0).unwrap())
}

struct App {
    router: Router,
    store: Store,
    index: Arc<CatalogIndex>,
    _dir: tempfile::TempDir,
}

async fn fill(store: &Store) {
    let at = Utc.from_utc_datetime(&today().and_hms_opt(12, 0, 0).unwrap());
    for (slug, name, file, domain) in SITES {
        let text = std::fs::read_to_string(root().join("fixtures/sites").join(file)).unwrap();
        let mut hints = ParseHints::new(at);
        hints.base_url = url::Url::parse(&format!("https://{domain}/")).ok();
        let parsed = parse(render(&text, today()).as_bytes(), &hints).unwrap();
        let provider = store.ensure_provider(slug, Some(name), at).await.unwrap();
        let source = store
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
        store
            .apply(
                source,
                &FetchResult::Fetched(Snapshot::new(parsed.offerings, 0)),
                at,
            )
            .await
            .unwrap();
    }
    recluster(store, at).await;
}

/// What `coalesce import` does after a file: cluster the whole catalog and store it.
async fn recluster(store: &Store, at: DateTime<Utc>) {
    let live = store.offerings(&OfferingFilter::default()).await.unwrap();
    let sources = store.sources().await.unwrap();
    let domains: BTreeMap<_, Vec<String>> = sources
        .iter()
        .map(|s| {
            let host = url::Url::parse(&s.url)
                .unwrap()
                .host_str()
                .unwrap()
                .to_string();
            (s.id, vec![host])
        })
        .collect();
    let fps: Vec<Fingerprint> = live
        .iter()
        .map(|o| {
            let source_id = o.source_id.to_string();
            Fingerprint::from_item(&DedupItem {
                id: &o.id.0,
                source_id: &source_id,
                provider: &o.provider,
                provider_domains: &domains[&o.source_id],
                offering: &o.offering,
            })
        })
        .collect();
    let found = dedup::cluster(fps, &DedupConfig::default()).unwrap();
    let clusters: Vec<Cluster> = found
        .iter()
        .map(|c| Cluster {
            id: ClusterId(c.id.clone()),
            canonical: OfferingId(c.canonical.clone()),
            members: c
                .members
                .iter()
                .map(|m| ClusterMember {
                    offering_id: OfferingId(m.id.clone()),
                    explanation: serde_json::json!({}),
                })
                .collect(),
            explanation: serde_json::json!({}),
        })
        .collect();
    let affected: Vec<OfferingId> = live.iter().map(|o| o.id.clone()).collect();
    store
        .replace_clusters(&affected, &clusters, at)
        .await
        .unwrap();
}

fn index_config() -> IndexConfig {
    IndexConfig::new(
        b"a test cursor key of enough bytes".to_vec(),
        Synonyms::from_vocabulary(&Vocabulary::builtin()),
    )
    .unwrap()
}

async fn app() -> App {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_data_dir(dir.path(), StoreOptions::default())
        .await
        .unwrap();
    fill(&store).await;
    let index = Arc::new(CatalogIndex::in_ram(index_config()).unwrap());
    let applied = catch_up(&store, &index, 7).await.unwrap();
    assert!(applied > 0);
    let state = AppState::new(
        store.clone(),
        IndexSlot::ready(Arc::clone(&index)),
        ApiConfig::new("https://coalesce.example.org/", "coalesce.example.org"),
        Clock::fixed(now()),
    );
    App {
        router: router(state),
        store,
        index,
        _dir: dir,
    }
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
    fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or("")
            .to_string()
    }
}

async fn get_with(router: &Router, uri: &str, headers: &[(&str, &str)]) -> Answer {
    let mut req = Request::get(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = router
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
        body: String::from_utf8(body.to_vec()).unwrap(),
    }
}

async fn get(router: &Router, uri: &str) -> Answer {
    get_with(router, uri, &[]).await
}

fn ids(v: &Value) -> Vec<String> {
    v["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn search_filters_and_facet_counts_agree_with_filtered_totals() {
    let app = app().await;
    let all = get(&app.router, "/api/v1/offerings?limit=100").await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    let v = all.json();
    let total = v["total"].as_u64().unwrap();
    assert!(total >= 10, "{total}");
    assert_eq!(ids(&v).len() as u64, total);
    for (facet, param) in [
        ("modality", "modality"),
        ("sector", "sector"),
        ("provider", "provider"),
        ("topic", "topic"),
    ] {
        for f in v["facets"][facet].as_array().unwrap() {
            let value = f["value"].as_str().unwrap();
            let one = get(
                &app.router,
                &format!("/api/v1/offerings?{param}={value}&limit=1"),
            )
            .await;
            assert_eq!(one.status, StatusCode::OK, "{}", one.body);
            assert_eq!(one.json()["total"], f["count"], "{facet}={value}");
        }
    }
    // Two filters narrow; repeated values widen.
    let museums = get(&app.router, "/api/v1/offerings?sector=museums&free=true")
        .await
        .json();
    for h in museums["hits"].as_array().unwrap() {
        assert!(
            h["sectors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s == "museums")
        );
        assert_eq!(h["cost"]["free"], true);
    }
    let either = get(&app.router, "/api/v1/offerings?provider=sle&provider=nis")
        .await
        .json();
    let sle = get(&app.router, "/api/v1/offerings?provider=sle")
        .await
        .json();
    assert!(either["total"].as_u64() > sle["total"].as_u64());
}

#[tokio::test]
async fn a_misspelled_word_still_finds_the_offering() {
    let app = app().await;
    let v = get(&app.router, "/api/v1/offerings?q=copyrigth")
        .await
        .json();
    let titles: Vec<&str> = v["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["title"].as_str().unwrap())
        .collect();
    assert!(titles.iter().any(|t| t.contains("Copyright")), "{titles:?}");
}

#[tokio::test]
async fn co_marketed_offering_is_one_hit_with_its_other_providers() {
    let app = app().await;
    let v = get(&app.router, "/api/v1/offerings?q=%22copyright+basics%22")
        .await
        .json();
    let hits = v["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 1, "{v:#}");
    let also: HashSet<&str> = hits[0]["also_offered_by"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["provider_name"].as_str().unwrap())
        .collect();
    assert_eq!(also.len(), 3, "{also:?}");
    assert!(also.contains("Society of Regional Archivists"));
    // The detail names every member and its provider.
    let id = hits[0]["id"].as_str().unwrap();
    let d = get(&app.router, &format!("/api/v1/offerings/{id}")).await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.body);
    let d = d.json();
    assert_eq!(d["cluster"]["members"].as_array().unwrap().len(), 4);
    assert_eq!(d["cluster"]["canonical_id"], id);
    assert_eq!(d["provider_name"], "Mountain Plains Library Association");

    // Who it is for: every sector any copy is for, in the detail, the hit and the filters,
    // whichever provider's copy stands for the offering.
    let mut own: Vec<Vec<String>> = Vec::new();
    for m in d["cluster"]["members"].as_array().unwrap() {
        let stored = app
            .store
            .offering(&OfferingId(m["offering_id"].as_str().unwrap().to_owned()))
            .await
            .unwrap()
            .unwrap();
        own.push(
            stored
                .offering
                .sectors
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect(),
        );
    }
    let mut union: Vec<String> = own.iter().flatten().cloned().collect();
    union.sort();
    union.dedup();
    assert!(
        own.iter().any(|o| *o != union),
        "the fixture's copies differ in sectors: {own:?}"
    );
    let shown: Vec<String> = d["offering"]["sectors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(shown, union);
    assert_eq!(
        hits[0]["sectors"], d["offering"]["sectors"],
        "{:#}",
        hits[0]
    );
    for sector in &union {
        let v = get(
            &app.router,
            &format!("/api/v1/offerings?q=%22copyright+basics%22&sector={sector}"),
        )
        .await
        .json();
        assert_eq!(v["hits"].as_array().unwrap().len(), 1, "{sector}: {v:#}");
    }
}

#[tokio::test]
async fn cursor_paging_visits_every_hit_exactly_once() {
    let app = app().await;
    let total = get(&app.router, "/api/v1/offerings?limit=1").await.json()["total"]
        .as_u64()
        .unwrap();
    let mut seen = Vec::new();
    let mut uri = "/api/v1/offerings?limit=3".to_string();
    for _ in 0..100 {
        let v = get(&app.router, &uri).await.json();
        seen.extend(ids(&v));
        match v["next_cursor"].as_str() {
            Some(c) => uri = format!("/api/v1/offerings?limit=3&cursor={c}"),
            None => break,
        }
    }
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len());
    assert_eq!(seen.len() as u64, total);
    // offset walks the same order.
    let page = get(&app.router, "/api/v1/offerings?limit=3&offset=3")
        .await
        .json();
    assert_eq!(ids(&page), seen[3..6].to_vec());
}

#[tokio::test]
async fn an_overlong_query_names_the_limit_a_shorter_one_would_meet() {
    let app = app().await;
    for n in [300, 5000] {
        let a = get(
            &app.router,
            &format!("/api/v1/offerings?q={}", "a".repeat(n)),
        )
        .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{n}");
        assert!(
            a.body.contains("at most 256 are allowed"),
            "{n}: {}",
            a.body
        );
    }
}

#[tokio::test]
async fn hostile_queries_answer_400_and_the_router_keeps_serving() {
    let app = app().await;
    let deep = format!("{}a{}", "(".repeat(5000), ")".repeat(5000));
    let enc: String = url::form_urlencoded::byte_serialize(deep.as_bytes()).collect();
    let cases: Vec<(String, &str)> = vec![
        (format!("q={enc}"), "invalid_query"),
        ("q=((((((((((a))))))))))".into(), "invalid_query"),
        ("q=%22unbalanced".into(), "ok"),
        ("q=title:/.*/".into(), "ok"),
        ("q=%00".into(), "bad_parameter"),
        ("q=%FF%FE".into(), "ok"),
        ("offset=99999999".into(), "use_cursor"),
        ("page=NaN".into(), "bad_parameter"),
        ("limit=-5".into(), "ok"),
        ("cursor=Z2FyYmFnZQ".into(), "invalid_cursor"),
        (format!("cursor={}", "ab".repeat(33)), "invalid_cursor"),
        ("from=yesterday".into(), "bad_parameter"),
        ("from=2027-01-01&to=2026-01-01".into(), "bad_parameter"),
        ("sector=zoos".into(), "bad_parameter"),
        ("sort=random".into(), "bad_parameter"),
    ];
    for (q, want) in &cases {
        let a = get(&app.router, &format!("/api/v1/offerings?{q}")).await;
        let q: String = q.chars().take(60).collect();
        if *want == "ok" {
            assert_eq!(a.status, StatusCode::OK, "{q}: {}", a.body);
        } else {
            assert_eq!(a.status, StatusCode::BAD_REQUEST, "{q}: {}", a.body);
            assert_eq!(a.code(), *want, "{q}");
            assert!(!a.json()["error"]["message"].as_str().unwrap().is_empty());
        }
    }
    let big = get(&app.router, "/api/v1/offerings?limit=1000000")
        .await
        .json();
    assert!(big["hits"].as_array().unwrap().len() <= 100);
    // A cursor from one query replayed on another is refused, not paged.
    let c = get(&app.router, "/api/v1/offerings?limit=1").await.json()["next_cursor"]
        .as_str()
        .unwrap()
        .to_string();
    let other = get(
        &app.router,
        &format!("/api/v1/offerings?limit=1&sector=museums&cursor={c}"),
    )
    .await;
    assert_eq!(other.code(), "invalid_cursor");
    // Still serving.
    assert_eq!(
        get(&app.router, "/api/v1/offerings").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn errors_have_one_shape_and_the_right_status() {
    let app = app().await;
    let nf = get(&app.router, "/api/v1/offerings/nope").await;
    assert_eq!(nf.status, StatusCode::NOT_FOUND);
    assert_eq!(nf.code(), "not_found");
    let route = get(&app.router, "/nowhere").await;
    assert_eq!(route.status, StatusCode::NOT_FOUND);
    assert_eq!(route.code(), "not_found");
    let post = app
        .router
        .clone()
        .oneshot(
            Request::post("/api/v1/offerings")
                .body(Body::from("{}"))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
    let huge = "x".repeat(20_000);
    let h = get_with(&app.router, "/api/v1/topics", &[("x-padding", &huge)]).await;
    assert_eq!(h.status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    assert_eq!(h.code(), "headers_too_large");

    // No index yet: 503 index_unavailable, the store-only routes still answer.
    let state = AppState::new(
        app.store.clone(),
        IndexSlot::empty(),
        ApiConfig::new("https://coalesce.example.org", "coalesce.example.org"),
        Clock::fixed(now()),
    );
    let cold = router(state.clone());
    let a = get(&cold, "/api/v1/offerings?q=copyright").await;
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(a.code(), "index_unavailable");
    assert!(a.headers.contains_key(header::RETRY_AFTER));
    state.index.set(Arc::clone(&app.index));
    assert_eq!(
        get(&cold, "/api/v1/offerings?q=copyright").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn topics_and_providers_list_counts() {
    let app = app().await;
    let t = get(&app.router, "/api/v1/topics").await.json();
    let topics = t["topics"].as_array().unwrap();
    assert_eq!(topics.len(), Vocabulary::builtin().topics().len());
    assert!(
        topics
            .iter()
            .any(|x| x["upcoming_offerings"].as_u64().unwrap() > 0)
    );
    let p = get(&app.router, "/api/v1/providers").await.json();
    let providers = p["providers"].as_array().unwrap();
    assert_eq!(providers.len(), SITES.len());
    let mpla = providers.iter().find(|x| x["id"] == "mpla").unwrap();
    assert_eq!(mpla["name"], "Mountain Plains Library Association");
    assert!(mpla["upcoming_offerings"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn openapi_document_lists_exactly_the_routed_paths() {
    let app = app().await;
    let doc = get(&app.router, "/openapi.json").await.json();
    assert_eq!(doc["openapi"], "3.1.0");
    let documented: HashSet<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    // The public table and the management operations (tested against their router in
    // tests/manage.rs), nothing else.
    let table: HashSet<&str> = ROUTES
        .iter()
        .map(|r| r.path)
        .chain(coalesce_api::openapi::MANAGE_ROUTES.iter().map(|o| o.path))
        .collect();
    assert_eq!(documented, table);
    assert_eq!(document(ROUTES), doc);
    // Every documented path is routed: it answers something other than the no-route 404.
    let dated = get(&app.router, "/api/v1/offerings?limit=1&on_demand=false")
        .await
        .json();
    let id = dated["hits"][0]["id"].as_str().unwrap().to_string();
    for r in ROUTES {
        let path = r.path.replace("{id}", &id);
        let a = get(&app.router, &path).await;
        assert_eq!(a.status, StatusCode::OK, "{path}: {}", a.body);
        for p in doc["paths"][r.path]["get"]["parameters"]
            .as_array()
            .unwrap()
        {
            assert!(p["name"].is_string() && p["schema"].is_object(), "{path}");
        }
    }
}

#[tokio::test]
async fn calendar_answers_304_to_its_etag_and_to_if_modified_since() {
    let app = app().await;
    let first = get(&app.router, "/calendar.ics").await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert!(
        first.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/calendar")
    );
    assert!(
        first.headers[header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .contains("max-age")
    );
    let tag = first.headers[header::ETAG].to_str().unwrap().to_string();
    let lm = first.headers[header::LAST_MODIFIED]
        .to_str()
        .unwrap()
        .to_string();
    let again = get_with(&app.router, "/calendar.ics", &[("if-none-match", &tag)]).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());
    assert_eq!(again.headers[header::ETAG].to_str().unwrap(), tag);
    let since = get_with(&app.router, "/calendar.ics", &[("if-modified-since", &lm)]).await;
    assert_eq!(since.status, StatusCode::NOT_MODIFIED);
    let stale = get_with(
        &app.router,
        "/calendar.ics",
        &[("if-none-match", "\"other\"")],
    )
    .await;
    assert_eq!(stale.status, StatusCode::OK);
    assert_eq!(stale.body, first.body, "same clock, same bytes");

    let body = &first.body;
    assert!(body.contains("X-WR-CALNAME:coalesce: all offerings"));
    assert!(
        body.contains("STATUS:CANCELLED"),
        "cancelled offerings stay in the feed"
    );
    // The co-marketed webinar (four providers) appears once.
    let copies = body
        .lines()
        .filter(|l| l.starts_with("SUMMARY:") && l.to_lowercase().contains("copyright basics"))
        .count();
    assert_eq!(copies, 1, "{body}");
    // A filtered calendar says what it is.
    let free = get(&app.router, "/calendar.ics?free=true&modality=online").await;
    assert!(
        free.body
            .contains("X-WR-CALNAME:coalesce: free online offerings"),
        "{}",
        free.body
    );
    assert_ne!(free.headers[header::ETAG], first.headers[header::ETAG]);
    // Caps are parameters within limits.
    let one = get(&app.router, "/calendar.ics?max_events=1").await;
    assert_eq!(one.body.matches("BEGIN:VEVENT").count(), 1);
    assert_eq!(one.headers["x-calendar-events"], "1");
    assert_eq!(
        get(&app.router, "/calendar.ics?limit=5").await.status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn feeds_and_single_offering_ics() {
    let app = app().await;
    let atom = get(&app.router, "/feed.atom?sector=libraries").await;
    assert_eq!(atom.status, StatusCode::OK);
    assert!(atom.body.contains("<feed"));
    let json = get(&app.router, "/feed.json").await;
    assert_eq!(json.json()["version"], "https://jsonfeed.org/version/1.1");
    let tag = json.headers[header::ETAG].to_str().unwrap().to_string();
    assert_eq!(
        get_with(&app.router, "/feed.json", &[("if-none-match", &tag)])
            .await
            .status,
        StatusCode::NOT_MODIFIED
    );

    let dated = get(&app.router, "/api/v1/offerings?q=%22copyright+basics%22")
        .await
        .json();
    let id = dated["hits"][0]["id"].as_str().unwrap();
    let ics = get(&app.router, &format!("/api/v1/offerings/{id}.ics")).await;
    assert_eq!(ics.status, StatusCode::OK, "{}", ics.body);
    assert_eq!(ics.body.matches("BEGIN:VEVENT").count(), 1);
    // Another member of the cluster gives the same event (the same UID), not a second one.
    let d = get(&app.router, &format!("/api/v1/offerings/{id}"))
        .await
        .json();
    let other = d["cluster"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["offering_id"] != id)
        .unwrap()["offering_id"]
        .as_str()
        .unwrap()
        .to_string();
    let ics2 = get(&app.router, &format!("/api/v1/offerings/{other}.ics")).await;
    let uid = |b: &str| {
        b.lines()
            .find(|l| l.starts_with("UID:"))
            .unwrap()
            .to_string()
    };
    assert_eq!(uid(&ics.body), uid(&ics2.body));
    let undated = get(&app.router, "/api/v1/offerings?modality=self_paced&limit=1")
        .await
        .json();
    let sid = undated["hits"][0]["id"].as_str().unwrap();
    let none = get(&app.router, &format!("/api/v1/offerings/{sid}.ics")).await;
    assert_eq!(none.status, StatusCode::NOT_FOUND, "{}", none.body);
}

#[tokio::test]
async fn subscriptions_give_the_urls_and_webcal_of_the_same_search() {
    let app = app().await;
    let s = get(
        &app.router,
        "/api/v1/subscriptions?free=true&sector=museums&q=collections",
    )
    .await;
    assert_eq!(s.status, StatusCode::OK, "{}", s.body);
    let v = s.json();
    let cal = v["calendar"]["url"].as_str().unwrap();
    assert_eq!(
        cal,
        "https://coalesce.example.org/calendar.ics?q=collections&sector=museums&free=true"
    );
    assert_eq!(
        v["calendar"]["webcal"],
        "webcal://coalesce.example.org/calendar.ics?q=collections&sector=museums&free=true"
    );
    assert!(
        v["atom"]["url"]
            .as_str()
            .unwrap()
            .starts_with("https://coalesce.example.org/feed.atom?")
    );
    assert!(v["description"].as_str().unwrap().contains("free only"));
    // The URL given works.
    let path = cal.strip_prefix("https://coalesce.example.org").unwrap();
    assert_eq!(get(&app.router, path).await.status, StatusCode::OK);
    assert_eq!(
        get(&app.router, "/api/v1/subscriptions?cursor=x")
            .await
            .code(),
        "bad_parameter"
    );
}

#[tokio::test]
async fn catch_up_follows_edits_and_removals() {
    let app = app().await;
    let before = app.index.watermark().unwrap().unwrap();
    assert_eq!(before, app.store.watermark().await.unwrap() as u64);
    // The archivists' calendar comes back without its items three times, once their sessions
    // are over: removal (K = 3; an upcoming item that goes missing stays until it is over).
    let sra = app.store.provider_by_name("sra").await.unwrap().unwrap();
    let source = app
        .store
        .source_by_name(sra.id, "main")
        .await
        .unwrap()
        .unwrap();
    let count = |v: Value| v["total"].as_u64().unwrap();
    let had = count(
        get(&app.router, "/api/v1/offerings?provider=sra")
            .await
            .json(),
    );
    assert!(had > 0);
    let keep: Vec<_> = app
        .store
        .offerings(&OfferingFilter {
            source_id: Some(source.id),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .take(1)
        .map(|o| o.offering)
        .collect();
    for i in 0..4 {
        let at = now() + Duration::days(3650) + Duration::hours(i);
        app.store
            .apply(
                source.id,
                &FetchResult::Fetched(Snapshot::new(keep.clone(), 0)),
                at,
            )
            .await
            .unwrap();
    }
    assert!(catch_up(&app.store, &app.index, 100).await.unwrap() > 0);
    let after = count(
        get(&app.router, "/api/v1/offerings?provider=sra")
            .await
            .json(),
    );
    assert!(after < had, "{after} < {had}");
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

#[tokio::test]
async fn calendar_route_round_trips_through_python_to_the_search_api_occurrences() {
    if !python_ok() {
        return;
    }
    let app = app().await;
    let (from, to) = ("2026-11-01", "2027-06-01");
    let window = format!("from={from}&to={to}");
    let cal = get(&app.router, &format!("/calendar.ics?{window}")).await;
    assert_eq!(cal.status, StatusCode::OK);
    let atom = get(&app.router, &format!("/feed.atom?{window}")).await;
    let dir = tempfile::tempdir().unwrap();
    let ics_path = dir.path().join("c.ics");
    let atom_path = dir.path().join("f.atom");
    std::fs::write(&ics_path, &cal.body).unwrap();
    std::fs::write(&atom_path, &atom.body).unwrap();
    let out = Command::new("python3")
        .arg(root().join("crates/api/tests/roundtrip.py"))
        .arg("--ics")
        .arg(&ics_path)
        .arg("--atom")
        .arg(&atom_path)
        .args(["--from", "2026-01-01", "--to", "2028-01-01"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["atom"]["bozo"], false, "{}", v["atom"]["bozo_exception"]);
    let mut got: Vec<(String, String)> = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["all_day"] == false)
        .map(|e| {
            (
                e["start"].as_str().unwrap().to_string(),
                e["end"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    got.sort();

    // What the search API reports for the same filters: every hit, every session in the window.
    let lo = Utc.from_utc_datetime(
        &NaiveDate::parse_from_str(from, "%Y-%m-%d")
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap(),
    );
    let hi = Utc.from_utc_datetime(
        &NaiveDate::parse_from_str(to, "%Y-%m-%d")
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap(),
    );
    let mut want: Vec<(String, String)> = Vec::new();
    let mut uri = format!("/api/v1/offerings?{window}&sort=start&on_demand=false&limit=100");
    loop {
        let page = get(&app.router, &uri).await.json();
        for id in ids(&page) {
            let d = get(&app.router, &format!("/api/v1/offerings/{id}"))
                .await
                .json();
            for occ in d["offering"]["occurrences"].as_array().unwrap() {
                if occ["all_day"] == true {
                    continue;
                }
                let s: DateTime<Utc> = occ["start"].as_str().unwrap().parse().unwrap();
                let e: DateTime<Utc> = occ["end"].as_str().map_or(s, |e| e.parse().unwrap());
                if e >= lo && s < hi {
                    let f = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
                    want.push((f(s), f(e)));
                }
            }
        }
        match page["next_cursor"].as_str() {
            Some(c) => {
                uri = format!(
                    "/api/v1/offerings?{window}&sort=start&on_demand=false&limit=100&cursor={c}"
                )
            }
            None => break,
        }
    }
    want.sort();
    assert!(!want.is_empty());
    assert_eq!(got, want);
}

/// What schemathesis found against the OpenAPI document.
#[tokio::test]
async fn an_empty_cursor_is_the_first_page_and_descriptions_read_well() {
    let app = app().await;
    let first = get(&app.router, "/api/v1/offerings?limit=2").await;
    let empty = get(&app.router, "/api/v1/offerings?limit=2&cursor=").await;
    assert_eq!(empty.status, StatusCode::OK, "{}", empty.body);
    assert_eq!(ids(&empty.json()), ids(&first.json()));
    for credits in ["any", "true", "ceu"] {
        let atom = get(&app.router, &format!("/feed.atom?credits={credits}")).await;
        assert_eq!(atom.status, StatusCode::OK);
        assert!(!atom.body.contains("with with"), "{}", atom.body);
        assert!(atom.body.contains("credits"), "{}", atom.body);
    }
}

/// A subscription URL is only handed out for a search the calendar and feeds then serve.
#[tokio::test]
async fn subscriptions_refuse_what_the_calendar_would_refuse() {
    let app = app().await;
    let long = "a".repeat(300);
    for bad in [
        format!("/api/v1/subscriptions?q={long}"),
        "/api/v1/subscriptions?from=2020-01-01T00:00:00Z&to=2030-01-01T00:00:00Z".to_owned(),
        "/api/v1/subscriptions?from=2027-02-01T00:00:00Z&to=2027-01-01T00:00:00Z".to_owned(),
    ] {
        let s = get(&app.router, &bad).await;
        assert_eq!(s.status, StatusCode::BAD_REQUEST, "{bad}: {}", s.body);
        // And the calendar agrees.
        let cal = bad.replace("/api/v1/subscriptions", "/calendar.ics");
        assert_eq!(
            get(&app.router, &cal).await.status,
            StatusCode::BAD_REQUEST,
            "{cal}"
        );
    }
    let ok = get(&app.router, "/api/v1/subscriptions?q=preservation").await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
}
