#![allow(clippy::unwrap_used)]
//! The management routes in process (router `oneshot`, SQLite in a temp folder): auth that
//! leaks nothing (HOSTILE D1), ownership, body and batch limits (D5), rate limits (D2), the
//! address policy at registration.

use std::num::NonZeroU32;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use coalesce_api::manage::auth::digest;
use coalesce_api::manage::{ManageSpec, ManageState, RateSpec};
use coalesce_api::{management_router, with_service_layers};
use coalesce_crawl::{FetchConfig, Fetcher};
use coalesce_store::{Store, StoreOptions};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

const ADMIN: &str = "admin-secret-for-tests";

async fn app(per_minute: u32) -> (Router, tempfile::TempDir) {
    let (state, router, dir) = service(per_minute, |_| {}, coalesce_api::Clock::system()).await;
    drop(state);
    (router, dir)
}

/// A ready management service on a fresh store: its state, its router with the service
/// layers, and the folder holding the store. `tweak` adjusts the spec.
async fn service(
    per_minute: u32,
    tweak: impl FnOnce(&mut ManageSpec),
    clock: coalesce_api::Clock,
) -> (ManageState, Router, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_data_dir(dir.path(), StoreOptions::default())
        .await
        .unwrap();
    let fetcher = Arc::new(Fetcher::new(FetchConfig::new("https://example.org/contact")).unwrap());
    let rate = RateSpec {
        per_minute: NonZeroU32::new(per_minute).unwrap(),
        burst: NonZeroU32::new(per_minute).unwrap(),
        trusted_proxies: Vec::new(),
    };
    let mut spec = ManageSpec::new(digest(ADMIN), rate);
    tweak(&mut spec);
    let state = ManageState::with_clock(store, fetcher, spec, clock);
    state.set_ready(true);
    let router = with_service_layers(management_router(state.clone()), state.clone());
    (state, router, dir)
}

async fn call(
    app: &Router,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let body = match body {
        Some(v) => Body::from(v.to_string()),
        None => Body::empty(),
    };
    let resp = app.clone().oneshot(req.body(body).unwrap()).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn provider_with_key(app: &Router, name: &str) -> String {
    let (s, _) = call(
        app,
        "POST",
        "/api/v1/admin/providers",
        Some(ADMIN),
        Some(json!({"name": name})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, v) = call(
        app,
        "POST",
        &format!("/api/v1/admin/providers/{name}/keys"),
        Some(ADMIN),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    v["key"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn auth_failures_are_401_403_404_with_one_body_shape_and_query_keys_are_refused() {
    let (app, _dir) = app(10_000).await;
    let (s, _) = call(
        &app,
        "POST",
        "/api/v1/admin/providers",
        Some("wrong"),
        Some(json!({"name": "x"})),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    let a = provider_with_key(&app, "alpha").await;
    let b = provider_with_key(&app, "beta").await;
    assert!(a.starts_with("clsc_") && a.len() >= 5 + 32);

    // A registration that the address policy refuses: 4xx blocked_address.
    let (s, v) = call(
        &app,
        "POST",
        "/api/v1/sources",
        Some(&a),
        Some(json!({"name": "lan", "url": "http://10.0.0.1/feed"})),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"]["code"], "blocked_address");

    let (s, v) = call(
        &app,
        "POST",
        "/api/v1/sources",
        Some(&a),
        Some(json!({"name": "events", "url": "https://example.org/feed"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_i64().unwrap();

    let missing = call(&app, "GET", "/api/v1/sources", None, None).await;
    let wrong = call(
        &app,
        "GET",
        "/api/v1/sources",
        Some("clsc_notakeynotakeynotakeynotakeynotakey0000"),
        None,
    )
    .await;
    assert_eq!(missing.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        missing, wrong,
        "missing and wrong keys must be indistinguishable"
    );

    let other = call(
        &app,
        "GET",
        &format!("/api/v1/sources/{id}"),
        Some(&b),
        None,
    )
    .await;
    assert_eq!(other.0, StatusCode::FORBIDDEN);
    let (s, _) = call(
        &app,
        "DELETE",
        &format!("/api/v1/sources/{id}"),
        Some(&b),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = call(&app, "GET", "/api/v1/sources/999999", Some(&b), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(v["error"]["code"], "not_found");
    let (_, listed) = call(&app, "GET", "/api/v1/sources", Some(&b), None).await;
    assert_eq!(listed, json!([]));

    let (s, v) = call(
        &app,
        "GET",
        &format!("/api/v1/sources?api_key={a}"),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"]["code"], "key_in_query");
    assert!(!v.to_string().contains(&a));

    // The owner sees it, with status and a scorecard.
    let (s, v) = call(
        &app,
        "GET",
        &format!("/api/v1/sources/{id}"),
        Some(&a),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["status"]["status"], "never");
    let (s, v) = call(
        &app,
        "GET",
        &format!("/api/v1/sources/{id}/scorecard"),
        Some(&a),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["offerings"], 0);

    // Revoked keys stop working, with the same 401.
    let (_, k) = call(
        &app,
        "POST",
        "/api/v1/admin/providers/alpha/keys",
        Some(ADMIN),
        Some(json!({"label": "ci"})),
    )
    .await;
    let key_id = k["id"].as_i64().unwrap();
    let second = k["key"].as_str().unwrap().to_owned();
    assert_eq!(
        call(&app, "GET", "/api/v1/sources", Some(&second), None)
            .await
            .0,
        StatusCode::OK
    );
    let (s, _) = call(
        &app,
        "DELETE",
        &format!("/api/v1/admin/keys/{key_id}"),
        Some(ADMIN),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(
        call(&app, "GET", "/api/v1/sources", Some(&second), None).await,
        missing
    );

    let (s, _) = call(
        &app,
        "DELETE",
        &format!("/api/v1/sources/{id}"),
        Some(&a),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(
        call(
            &app,
            "GET",
            &format!("/api/v1/sources/{id}"),
            Some(&a),
            None
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn bodies_batches_and_urls_are_bounded() {
    let (app, _dir) = app(10_000).await;
    let key = provider_with_key(&app, "alpha").await;
    let big = json!({"name": "x", "url": format!("https://example.org/{}", "a".repeat(70_000))});
    let (s, v) = call(&app, "POST", "/api/v1/sources", Some(&key), Some(big)).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(v["error"]["code"], "body_too_large");

    let long = json!({"name": "x", "url": format!("https://example.org/{}", "a".repeat(3000))});
    let (s, v) = call(&app, "POST", "/api/v1/sources", Some(&key), Some(long)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"]["code"], "url_too_long");

    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let req = Request::post("/api/v1/sources")
        .header("authorization", format!("Bearer {key}"))
        .body(Body::from(deep))
        .unwrap();
    assert_eq!(
        app.clone().oneshot(req).await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );

    let many: Vec<Value> = (0..51)
        .map(|i| json!({"name": format!("s{i}"), "url": format!("https://example.org/{i}")}))
        .collect();
    let (s, v) = call(
        &app,
        "POST",
        "/api/v1/sources/batch",
        Some(&key),
        Some(json!({"sources": many})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"]["code"], "batch_too_large");

    let (s, v) = call(
        &app,
        "POST",
        "/api/v1/sources",
        Some(&key),
        Some(json!({"name": "x", "url": "https://example.org/", "surprise": 1})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
}

#[tokio::test]
async fn a_client_over_its_budget_gets_429_with_retry_after() {
    let (app, _dir) = app(5).await;
    let mut last = None;
    for _ in 0..8 {
        let resp = app
            .clone()
            .oneshot(Request::get("/api/v1/sources").body(Body::empty()).unwrap())
            .await
            .unwrap();
        last = Some(resp);
    }
    let resp = last.unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(resp.headers().contains_key("retry-after"));
    // The probes stay answered for the same client: an orchestrator must not restart a
    // healthy service because its checks were rate-limited.
    for path in ["/healthz", "/readyz"] {
        for _ in 0..8 {
            let (s, _) = call(&app, "GET", path, None, None).await;
            assert_eq!(s, StatusCode::OK, "{path}");
        }
    }
}

#[tokio::test]
async fn readyz_names_each_background_loop_that_is_not_working() {
    let (state, app, _dir) = service(1000, |_| {}, coalesce_api::Clock::system()).await;
    state.set_loop_health("index", Some("opening".into()));
    state.set_loop_health("crawl", None);
    let (s, v) = call(&app, "GET", "/readyz", None, None).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(v["error"]["code"], "not_ready");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(message.contains("index: opening"), "{message}");
    assert!(!message.contains("crawl"), "{message}");
    state.set_loop_health("index", None);
    let (s, _) = call(&app, "GET", "/readyz", None, None).await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn metrics_expose_request_latency_and_catalog_gauges() {
    let (app, _dir) = app(10_000).await;
    call(&app, "GET", "/healthz", None, None).await;
    let resp = app
        .clone()
        .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let text = String::from_utf8(
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    assert!(
        text.contains("coalesce_http_request_duration_seconds_bucket{route=\"/healthz\""),
        "{text}"
    );
    assert!(text.contains("coalesce_offerings 0"));
}

#[tokio::test]
async fn a_provider_lists_makes_and_revokes_only_its_own_keys() {
    let (app, _dir) = app(10_000).await;
    let a = provider_with_key(&app, "alpha").await;
    let b = provider_with_key(&app, "beta").await;

    // Rotation without the operator: a second key, shown once, then the first one revoked.
    let (s, made) = call(
        &app,
        "POST",
        "/api/v1/keys",
        Some(&a),
        Some(json!({"label": "rotated"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let a2 = made["key"].as_str().unwrap().to_owned();
    assert!(a2.len() >= 32, "{made}");
    assert_eq!(made["provider"], "alpha");
    let (s, list) = call(&app, "GET", "/api/v1/keys", Some(&a2), None).await;
    assert_eq!(s, StatusCode::OK);
    let keys = list.as_array().unwrap();
    assert_eq!(keys.len(), 2, "{list}");
    assert_eq!(keys[0]["label"], "rotated");
    // Neither secrets nor digests are ever listed.
    let text = list.to_string();
    assert!(!text.contains(&a) && !text.contains(&a2), "{text}");
    assert!(
        keys.iter()
            .all(|k| k.get("digest").is_none() && k.get("key").is_none())
    );
    let first_id = keys[1]["id"].as_i64().unwrap();

    // Beta cannot see alpha's keys nor revoke them: 404, same as an unknown id.
    let (_, beta_list) = call(&app, "GET", "/api/v1/keys", Some(&b), None).await;
    assert_eq!(beta_list.as_array().unwrap().len(), 1);
    let (s, body) = call(
        &app,
        "DELETE",
        &format!("/api/v1/keys/{first_id}"),
        Some(&b),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let unknown = call(&app, "DELETE", "/api/v1/keys/99999", Some(&b), None).await;
    assert_eq!((s, body), unknown);
    assert_eq!(
        call(&app, "GET", "/api/v1/sources", Some(&a), None).await.0,
        StatusCode::OK
    );

    // Alpha revokes its first key: it stops working at once, the new one keeps working.
    let (s, _) = call(
        &app,
        "DELETE",
        &format!("/api/v1/keys/{first_id}"),
        Some(&a2),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(
        call(&app, "GET", "/api/v1/sources", Some(&a), None).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        call(&app, "GET", "/api/v1/sources", Some(&a2), None)
            .await
            .0,
        StatusCode::OK
    );
    let (_, list) = call(&app, "GET", "/api/v1/keys", Some(&a2), None).await;
    assert!(list[1]["revoked_at"].is_string(), "{list}");
    // A second revoke of the same key is a 404, not a silent success.
    assert_eq!(
        call(
            &app,
            "DELETE",
            &format!("/api/v1/keys/{first_id}"),
            Some(&a2),
            None
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    // Without a key: 401.
    assert_eq!(
        call(&app, "GET", "/api/v1/keys", None, None).await.0,
        StatusCode::UNAUTHORIZED
    );
    // Bad input: an oversized label is refused with the one error shape and makes no key;
    // an id that is not a number is simply unknown.
    let (s, body) = call(
        &app,
        "POST",
        "/api/v1/keys",
        Some(&a2),
        Some(json!({"label": "x".repeat(101)})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]["message"].as_str().unwrap().contains("label"),
        "{body}"
    );
    let (_, list) = call(&app, "GET", "/api/v1/keys", Some(&a2), None).await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(
        call(&app, "DELETE", "/api/v1/keys/not-a-number", Some(&a2), None)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn providers_declare_sectors_and_audience_and_sources_may_override_them() {
    let (app, _dir) = app(10_000).await;
    // Created with its declared sectors (sorted, no repeats) and audience.
    let (s, v) = call(
        &app,
        "POST",
        "/api/v1/admin/providers",
        Some(ADMIN),
        Some(
            json!({"name": "ihma", "sectors": ["museums", "archives", "museums"],
                    "audience": "collections staff"}),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["sectors"], json!(["archives", "museums"]));
    assert_eq!(v["audience"], "collections staff");

    // An unknown sector is refused with the one error shape and a stable code, and nothing
    // is created.
    let (s, v) = call(
        &app,
        "POST",
        "/api/v1/admin/providers",
        Some(ADMIN),
        Some(json!({"name": "zoo", "sectors": ["zoos"]})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"]["code"], "unknown_sector");
    assert!(v["error"]["message"].as_str().unwrap().contains("zoos"));

    // PATCH changes only what it names; null clears the audience; unknown ones 404.
    let (s, v) = call(
        &app,
        "PATCH",
        "/api/v1/admin/providers/ihma",
        Some(ADMIN),
        Some(json!({"sectors": ["museums"]})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["sectors"], json!(["museums"]));
    assert_eq!(v["audience"], "collections staff");
    let (s, v) = call(
        &app,
        "PATCH",
        "/api/v1/admin/providers/ihma",
        Some(ADMIN),
        Some(json!({"audience": null})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["sectors"].clone(), v["audience"].clone()),
        (json!(["museums"]), Value::Null)
    );
    let (s, v) = call(
        &app,
        "PATCH",
        "/api/v1/admin/providers/ihma",
        Some(ADMIN),
        Some(json!({"sectors": ["museum"]})),
    )
    .await;
    assert_eq!(
        (s, v["error"]["code"].clone()),
        (StatusCode::BAD_REQUEST, json!("unknown_sector"))
    );
    let (s, _) = call(
        &app,
        "PATCH",
        "/api/v1/admin/providers/nobody",
        Some(ADMIN),
        Some(json!({"sectors": []})),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // The admin list shows them.
    let (s, v) = call(&app, "GET", "/api/v1/admin/providers", Some(ADMIN), None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v[0]["sectors"], json!(["museums"]));

    // A source overrides them; an unknown sector there is refused too.
    let (_, key) = call(
        &app,
        "POST",
        "/api/v1/admin/providers/ihma/keys",
        Some(ADMIN),
        None,
    )
    .await;
    let key = key["key"].as_str().unwrap().to_owned();
    let (s, v) = call(
        &app,
        "POST",
        "/api/v1/sources",
        Some(&key),
        Some(
            json!({"name": "library-days", "url": "https://example.org/feed",
                    "sectors": ["libraries"], "audience": "librarians"}),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["sectors"], json!(["libraries"]));
    assert_eq!(v["audience"], "librarians");
    let (s, v) = call(
        &app,
        "POST",
        "/api/v1/sources",
        Some(&key),
        Some(json!({"name": "odd", "url": "https://example.org/odd", "sectors": ["parks"]})),
    )
    .await;
    assert_eq!(
        (s, v["error"]["code"].clone()),
        (StatusCode::BAD_REQUEST, json!("unknown_sector"))
    );
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let (app, _dir) = app(1000).await;
    for path in ["/healthz", "/api/v1/sources", "/no/such/path"] {
        let resp = app
            .clone()
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let h = resp.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert!(h.contains_key("referrer-policy"), "{path}");
        assert!(
            h["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("default-src 'none'"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn discover_and_preview_refusals_by_address_policy_are_422() {
    let (app, _dir) = app(1000).await;
    let key = provider_with_key(&app, "alpha").await;
    // `localhost` passes the syntactic check and is refused once resolved: the refusal is the
    // request's fault, as at registration, not a failing remote site.
    for path in ["/api/v1/sources/discover", "/api/v1/sources/preview"] {
        let (s, v) = call(
            &app,
            "POST",
            path,
            Some(&key),
            Some(json!({"url": "http://localhost:9/feed"})),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {v}");
        assert_eq!(v["error"]["code"], "blocked_address", "{path}: {v}");
    }
}

#[tokio::test]
async fn an_overlong_display_name_is_refused() {
    let (app, _dir) = app(1000).await;
    let (s, v) = call(
        &app,
        "POST",
        "/api/v1/admin/providers",
        Some(ADMIN),
        Some(json!({"name": "wordy", "display_name": "x".repeat(201)})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("display_name")
    );
    let (s, v) = call(
        &app,
        "POST",
        "/api/v1/admin/providers",
        Some(ADMIN),
        Some(json!({"name": "wordy", "display_name": "x".repeat(200)})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
}

#[tokio::test]
async fn a_wrong_method_gets_the_one_error_shape() {
    let (app, _dir) = app(1000).await;
    let (s, v) = call(&app, "DELETE", "/healthz", None, None).await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(v["error"]["code"], "method_not_allowed", "{v}");
    let (s, v) = call(&app, "PUT", "/api/v1/sources", Some(ADMIN), None).await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(v["error"]["code"], "method_not_allowed", "{v}");
}

#[tokio::test]
async fn every_metric_has_a_help_text() {
    let (app, _dir) = app(1000).await;
    call(&app, "GET", "/healthz", None, None).await;
    let resp = app
        .clone()
        .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let text = String::from_utf8(
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    for line in text.lines().filter(|l| l.starts_with("# TYPE ")) {
        let name = line.split(' ').nth(2).unwrap();
        assert!(
            text.contains(&format!("# HELP {name} ")),
            "{name} has no help: {text}"
        );
    }
}

#[tokio::test]
async fn a_source_kind_is_stored_by_the_name_the_crawler_reads() {
    let (app, _dir) = app(1000).await;
    let key = provider_with_key(&app, "alpha").await;
    let (s, v) = call(
        &app,
        "POST",
        "/api/v1/sources",
        Some(&key),
        Some(json!({"name": "j", "url": "https://example.org/feed.json", "kind": "json_feed"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["kind"], "jsonfeed", "{v}");
    assert!(coalesce_ingest::Kind::parse(v["kind"].as_str().unwrap()).is_some());
    let id = v["id"].as_i64().unwrap();
    let (s, v) = call(
        &app,
        "PATCH",
        &format!("/api/v1/sources/{id}"),
        Some(&key),
        Some(json!({"kind": "auto"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v["kind"].is_null(), "{v}");
}

#[tokio::test]
async fn keys_show_their_last_use_and_can_be_made_to_expire() {
    let (app, _dir) = app(1000).await;
    let key = provider_with_key(&app, "alpha").await;
    let (s, v) = call(&app, "GET", "/api/v1/keys", Some(&key), None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // The call just made with it is its last use.
    assert!(v[0]["last_used_at"].is_string(), "{v}");
    let (s, v) = call(
        &app,
        "POST",
        "/api/v1/keys",
        Some(&key),
        Some(json!({"label": "contractor", "expires_in_days": 30})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert!(v["expires_at"].is_string(), "{v}");
    let (s, v) = call(
        &app,
        "POST",
        "/api/v1/keys",
        Some(&key),
        Some(json!({"expires_in_days": 0})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expires_in_days")
    );
}

/// The documented management operations are the served ones: each answers (401 without
/// credentials where it needs them), none falls through to 404 or 405; and the document marks
/// them as needing the bearer scheme.
#[tokio::test]
async fn every_documented_management_operation_is_served() {
    use coalesce_api::openapi::{Auth, MANAGE_ROUTES};
    let (app, _dir) = app(100_000).await;
    for op in MANAGE_ROUTES {
        let path = op
            .path
            .replace("{name}", "someone")
            .replace("{id}", "1")
            .replace("{offering}", "o1");
        let method = op.method.to_ascii_uppercase();
        let body = op.body.map(|_| json!({}));
        let (s, v) = call(&app, &method, &path, None, body).await;
        match op.auth {
            Auth::Public => assert!(
                s.is_success() || s == StatusCode::SERVICE_UNAVAILABLE,
                "{method} {path}: {s} {v}"
            ),
            Auth::Admin | Auth::Provider => {
                assert_eq!(s, StatusCode::UNAUTHORIZED, "{method} {path}: {v}")
            }
        }
    }
    let doc = coalesce_api::openapi::document(coalesce_api::openapi::ROUTES);
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let create = &doc["paths"]["/api/v1/sources"]["post"];
    assert_eq!(create["security"][0]["bearer"], json!([]), "{create}");
    assert!(create["responses"]["429"]["headers"]["Retry-After"].is_object());
    assert!(doc["paths"]["/api/v1/offerings"]["get"]["responses"]["429"].is_object());
}

#[tokio::test]
async fn metrics_can_be_kept_for_a_token_holder() {
    let token = |spec: &mut ManageSpec| {
        spec.metrics_token_digest = Some(digest("metrics-scraper-secret"));
    };
    let (_state, app, _dir) = service(1000, token, coalesce_api::Clock::system()).await;
    let (s, v) = call(&app, "GET", "/metrics", None, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{v}");
    let (s, _) = call(&app, "GET", "/metrics", Some("wrong-token-value"), None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let resp = app
        .clone()
        .oneshot(
            Request::get("/metrics")
                .header("authorization", "Bearer metrics-scraper-secret")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    // The probes stay open.
    let (s, _) = call(&app, "GET", "/healthz", None, None).await;
    assert_eq!(s, StatusCode::OK);
}

/// Management handlers read the one clock: a key made to expire in a day stops working when
/// that clock says a day has passed.
#[tokio::test]
async fn an_expiring_key_stops_at_its_time_on_the_service_clock() {
    use std::sync::atomic::{AtomicI64, Ordering};
    let hours = Arc::new(AtomicI64::new(0));
    let start = chrono::DateTime::parse_from_rfc3339("2027-01-04T09:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let clock = {
        let hours = Arc::clone(&hours);
        coalesce_api::Clock::from_fn(move || {
            start + chrono::TimeDelta::hours(hours.load(Ordering::SeqCst))
        })
    };
    let (_state, app, _dir) = service(1000, |_| {}, clock).await;
    call(
        &app,
        "POST",
        "/api/v1/admin/providers",
        Some(ADMIN),
        Some(json!({"name": "alpha"})),
    )
    .await;
    let (s, v) = call(
        &app,
        "POST",
        "/api/v1/admin/providers/alpha/keys",
        Some(ADMIN),
        Some(json!({"expires_in_days": 1})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["expires_at"], "2027-01-05T09:00:00Z");
    let key = v["key"].as_str().unwrap().to_owned();
    hours.store(23, Ordering::SeqCst);
    assert_eq!(
        call(&app, "GET", "/api/v1/keys", Some(&key), None).await.0,
        StatusCode::OK
    );
    hours.store(24, Ordering::SeqCst);
    assert_eq!(
        call(&app, "GET", "/api/v1/keys", Some(&key), None).await.0,
        StatusCode::UNAUTHORIZED
    );
}

/// Every string the admin and provider APIs store has a cap: one character past it is a 400
/// naming the field, the cap itself is taken (HOSTILE D5).
#[tokio::test]
async fn every_stored_string_is_capped_and_the_cap_itself_is_accepted() {
    let (app, _dir) = app(10_000).await;
    let key = provider_with_key(&app, "alpha").await;
    let src = |name: String, extra: Value| {
        let mut v = json!({"name": name, "url": "https://example.org/feed.xml"});
        if let (Some(m), Some(e)) = (v.as_object_mut(), extra.as_object()) {
            m.extend(e.clone());
        }
        v
    };
    let a = |n: usize| "a".repeat(n);
    // (what, method, path, admin?, body over the cap, body at the cap or None, field named)
    type Case = (
        &'static str,
        &'static str,
        &'static str,
        bool,
        Value,
        Option<Value>,
        &'static str,
    );
    let cases: Vec<Case> = vec![
        (
            "provider name",
            "POST",
            "/api/v1/admin/providers",
            true,
            json!({"name": a(65)}),
            Some(json!({"name": a(64)})),
            "provider name",
        ),
        (
            "display name",
            "POST",
            "/api/v1/admin/providers",
            true,
            json!({"name": "dn1", "display_name": "é".repeat(201)}),
            Some(json!({"name": "dn2", "display_name": "é".repeat(200)})),
            "display_name",
        ),
        (
            "provider audience",
            "POST",
            "/api/v1/admin/providers",
            true,
            json!({"name": "au1", "audience": a(201)}),
            Some(json!({"name": "au2", "audience": a(200)})),
            "audience",
        ),
        (
            "provider audience (patch)",
            "PATCH",
            "/api/v1/admin/providers/alpha",
            true,
            json!({"audience": a(201)}),
            Some(json!({"audience": a(200)})),
            "audience",
        ),
        (
            "key label",
            "POST",
            "/api/v1/admin/providers/alpha/keys",
            true,
            json!({"label": a(101)}),
            Some(json!({"label": a(100)})),
            "label",
        ),
        (
            "source name",
            "POST",
            "/api/v1/sources",
            false,
            src(a(101), json!({})),
            Some(src(a(100), json!({}))),
            "name",
        ),
        (
            "source audience",
            "POST",
            "/api/v1/sources",
            false,
            src("s-aud".into(), json!({"audience": a(201)})),
            Some(src("s-aud".into(), json!({"audience": a(200)}))),
            "audience",
        ),
        (
            "source timezone",
            "POST",
            "/api/v1/sources",
            false,
            src("s-tz".into(), json!({"timezone": a(5000)})),
            None,
            "zone",
        ),
        (
            "source kind",
            "POST",
            "/api/v1/sources",
            false,
            src("s-kind".into(), json!({"kind": a(5000)})),
            None,
            "kind",
        ),
        (
            "source url",
            "POST",
            "/api/v1/sources",
            false,
            src(
                "s-url".into(),
                json!({"url": format!("https://example.org/{}", a(2100))}),
            ),
            None,
            "url",
        ),
    ];
    for (what, method, path, admin, over, at, field) in cases {
        let token = if admin { ADMIN } else { key.as_str() };
        let (s, v) = call(&app, method, path, Some(token), Some(over)).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{what} past its cap: {v}");
        let said = v["error"]["message"].as_str().unwrap_or_default();
        assert!(
            said.contains(field),
            "{what}: the error should name {field:?}: {v}"
        );
        if let Some(body) = at {
            let (s, v) = call(&app, method, path, Some(token), Some(body)).await;
            assert!(s.is_success(), "{what} at its cap is refused: {s} {v}");
        }
    }
}
