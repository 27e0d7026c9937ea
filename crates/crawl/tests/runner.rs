//! The crawl runner against fixture servers on 127.0.0.1 and a SQLite store in a temp folder
//! (rows E1-E5 of ../shared/HOSTILE.md): what a round records, and that no failure removes an
//! offering. Every fetcher has a fake resolver and a loopback-only dial filter; `now` is
//! injected, so schedules are asserted exactly.

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use coalesce_crawl::{
    CancellationToken, CrawlConfig, CrawlSummary, Crawler, FetchConfig, Selection,
};
use coalesce_store::{NewSource, OfferingFilter, SourceId, Store, StoreOptions};
use support::*;

fn feed(items: usize) -> String {
    let mut s = String::from(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Workshops</title>\
         <link>http://example.org/</link><description>d</description>",
    );
    for i in 0..items {
        s.push_str(&format!(
            "<item><guid>w{i}</guid><title>Preservation workshop {i}</title>\
             <link>http://example.org/w{i}</link><description>Hands-on session {i} on \
             caring for paper collections.</description></item>"
        ));
    }
    s.push_str("</channel></rss>");
    s
}

struct World {
    _dir: tempfile::TempDir,
    store: Store,
    crawler: Crawler,
}

async fn world(allow: &[String], tweak: impl FnOnce(&mut FetchConfig)) -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_data_dir(dir.path(), StoreOptions::default())
        .await
        .unwrap();
    let mut fetch = config(allow);
    tweak(&mut fetch);
    let mut spec = CrawlConfig::default().validate().unwrap();
    spec.per_host_delay = Duration::ZERO;
    spec.fetch = fetch.clone();
    let (fetcher, _refused) = fetcher_with(fetch, FakeResolver::default());
    let crawler = Crawler::with_fetcher(store.clone(), spec, Arc::new(fetcher));
    World {
        _dir: dir,
        store,
        crawler,
    }
}

impl World {
    async fn register(&self, url: &str) -> SourceId {
        let p = self
            .store
            .ensure_provider("nedcc", None, now())
            .await
            .unwrap();
        self.store
            .upsert_source(
                &NewSource {
                    provider_id: p.id,
                    name: url.to_owned(),
                    url: url.to_owned(),
                    kind: None,
                    settings: serde_json::json!({}),
                },
                now(),
            )
            .await
            .unwrap()
    }

    async fn run(&self, selection: Selection, at: DateTime<Utc>) -> CrawlSummary {
        self.crawler
            .run(selection, at, &CancellationToken::new(), &|_| {})
            .await
            .unwrap()
    }

    async fn live_titles(&self, src: SourceId) -> Vec<String> {
        let mut t: Vec<String> = self
            .store
            .offerings(&OfferingFilter {
                source_id: Some(src),
                ..OfferingFilter::default()
            })
            .await
            .unwrap()
            .into_iter()
            .filter(|o| o.removed_at.is_none())
            .map(|o| o.offering.title)
            .collect();
        t.sort();
        t
    }

    async fn status(&self, src: SourceId) -> coalesce_store::SourceStatus {
        self.store.source(src).await.unwrap().unwrap().status
    }
}

fn hours(h: i64) -> DateTime<Utc> {
    now() + TimeDelta::hours(h)
}

#[tokio::test]
async fn e5_a_source_served_200_then_304_gets_its_validators_back() {
    let fx = Fixture::start(|req| {
        if req.header("if-none-match") == Some("\"v1\"") {
            return Reply::Full(304, vec![], Vec::new());
        }
        Reply::Full(
            200,
            vec![
                ("etag".into(), "\"v1\"".into()),
                ("content-type".into(), "application/rss+xml".into()),
            ],
            feed(3).into_bytes(),
        )
    })
    .await;
    let w = world(&[fx.authority()], |_| {}).await;
    let src = w.register(fx.url("/feed.xml").as_str()).await;

    let first = w.run(Selection::Due, now()).await;
    assert_eq!((first.sources, first.fetched), (1, 1));
    assert_eq!(first.offerings.new, 3);
    let st = w.status(src).await;
    assert_eq!(st.etag.as_deref(), Some("\"v1\""));
    assert_eq!(st.status, "ok");
    assert_eq!(st.offerings_count, 3);
    let due = st.next_due_at.unwrap();
    assert!(due >= now() + TimeDelta::minutes(54), "{due}");
    // Not due yet: a round of due sources does nothing.
    assert_eq!(w.run(Selection::Due, now()).await.sources, 0);

    let mark = w.store.watermark().await.unwrap();
    let second = w.run(Selection::Due, due).await;
    assert_eq!(
        (second.sources, second.not_modified, second.fetched),
        (1, 1, 0)
    );
    assert_eq!(fx.requests()[1].header("if-none-match"), Some("\"v1\""));
    assert_eq!(
        w.store.watermark().await.unwrap(),
        mark,
        "a 304 writes nothing"
    );
    let st = w.status(src).await;
    assert_eq!(
        (st.status.as_str(), st.http_status),
        ("not_modified", Some(304))
    );
    assert_eq!(w.live_titles(src).await.len(), 3);
}

#[tokio::test]
async fn e1_each_failure_keeps_the_offerings_and_backs_off() {
    let mode = Arc::new(AtomicUsize::new(0));
    let m = Arc::clone(&mode);
    let fx = Fixture::start(move |_| match m.load(Ordering::SeqCst) {
        0 => ok(&feed(3)),
        1 => status(500, &[]),
        2 => status(503, &[("retry-after", "7200")]),
        3 => Reply::Silent,
        4 => Reply::Full(200, vec![], vec![b' '; 20_000]),
        _ => status(302, &[("location", "http://127.0.0.1:1/feed.xml")]),
    })
    .await;
    let w = world(&[fx.authority()], |c| {
        c.deadline = Duration::from_secs(1);
        c.connect_timeout = Duration::from_secs(1);
        c.max_body_bytes = 8 * 1024;
    })
    .await;
    let src = w.register(fx.url("/feed.xml").as_str()).await;
    w.run(Selection::Due, now()).await;
    let before = w.live_titles(src).await;
    assert_eq!(before.len(), 3);
    let mark = w.store.watermark().await.unwrap();

    let expected = [
        (1, "http_status", Some(500)),
        (2, "http_status", Some(503)),
        (3, "timeout", None),
        (4, "body_too_large", None),
        (5, "blocked_address", None),
    ];
    for (n, code, http) in expected {
        mode.store(n, Ordering::SeqCst);
        let at = hours(n as i64);
        let sum = w.run(Selection::One(src), at).await;
        assert_eq!(sum.failed.get(code), Some(&1), "step {n}: {sum:?}");
        assert_eq!(sum.offerings.removed, 0);
        assert_eq!(
            w.live_titles(src).await,
            before,
            "step {n} kept every offering"
        );
        assert_eq!(
            w.store.watermark().await.unwrap(),
            mark,
            "step {n} wrote no change"
        );
        let st = w.status(src).await;
        assert_eq!(st.status, "failed");
        assert_eq!(st.consecutive_failures, n as i64);
        assert_eq!(st.last_error_code.as_deref(), Some(code));
        assert!(st.last_error_message.is_some());
        assert_eq!(st.http_status, http.map(i64::from));
        assert!(!st.paused);
        let attempt = st.last_attempt_at.unwrap();
        assert!(attempt >= at && attempt < at + TimeDelta::seconds(5));
        // base 5 min × 2^(n-1), ±10 %; the 503 asked for two hours, which is later.
        let backoff = 300 * (1i64 << (n - 1));
        let wait = (st.next_due_at.unwrap() - attempt).num_seconds();
        if n == 2 {
            assert!((7195..=7200).contains(&wait), "retry-after wins: {wait}");
        } else {
            assert!(
                wait >= backoff * 9 / 10 - 1 && wait <= backoff * 11 / 10 + 1,
                "step {n}: {wait}"
            );
        }
    }
    // Recovery resets the count.
    mode.store(0, Ordering::SeqCst);
    let sum = w.run(Selection::One(src), hours(10)).await;
    // The same bytes as the last success: recognised by the hash, nothing to parse.
    assert_eq!(sum.unchanged, 1, "{sum:?}");
    let st = w.status(src).await;
    // The last error stays as history; the status and the count say the source is healthy.
    assert_eq!(
        (st.status.as_str(), st.consecutive_failures),
        ("not_modified", 0)
    );
    assert!(st.next_due_at.unwrap() >= hours(10) + TimeDelta::minutes(54));
}

#[tokio::test]
async fn e2_ten_failures_pause_the_source_and_resume_lifts_it() {
    let failing = Arc::new(AtomicUsize::new(0));
    let f = Arc::clone(&failing);
    let fx = Fixture::start(move |_| {
        if f.load(Ordering::SeqCst) == 1 {
            status(500, &[])
        } else {
            ok(&feed(2))
        }
    })
    .await;
    let w = world(&[fx.authority()], |_| {}).await;
    let src = w.register(fx.url("/feed.xml").as_str()).await;
    w.run(Selection::Due, now()).await;
    failing.store(1, Ordering::SeqCst);
    let mut at = now();
    for i in 1..=10 {
        at = w.status(src).await.next_due_at.unwrap();
        let sum = w.run(Selection::Due, at).await;
        assert_eq!(sum.failed.get("http_status"), Some(&1), "failure {i}");
        assert_eq!(sum.paused == vec![src], i == 10, "failure {i}");
    }
    let st = w.status(src).await;
    assert!(st.paused && st.paused_at.is_some());
    assert_eq!(st.consecutive_failures, 10);
    assert_eq!(
        w.live_titles(src).await.len(),
        2,
        "a pause keeps every offering"
    );
    let far = at + TimeDelta::days(365);
    assert_eq!(
        w.run(Selection::Due, far).await.sources,
        0,
        "paused is never due"
    );
    let asked = w.run(Selection::One(src), far).await;
    assert_eq!(asked.skipped.get("paused"), Some(&1));
    assert_eq!(fx.hits("/feed.xml"), 11);

    failing.store(0, Ordering::SeqCst);
    w.store.resume_source(src, far).await.unwrap();
    let sum = w.run(Selection::Due, far).await;
    assert_eq!(sum.unchanged, 1, "{sum:?}");
    let st = w.status(src).await;
    assert!(!st.paused);
    assert_eq!(st.consecutive_failures, 0);
}

#[tokio::test]
async fn e3_a_truncated_body_is_a_failure_not_a_removal() {
    let cut = Arc::new(AtomicUsize::new(0));
    let c = Arc::clone(&cut);
    let fx = Fixture::start(move |_| {
        let body = feed(3);
        if c.load(Ordering::SeqCst) == 0 {
            return ok(&body);
        }
        // The length promises the whole feed; the connection closes after half of it.
        let half = &body[..body.len() / 2];
        let mut raw =
            format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len()).into_bytes();
        raw.extend_from_slice(half.as_bytes());
        Reply::Raw(raw)
    })
    .await;
    let w = world(&[fx.authority()], |_| {}).await;
    let src = w.register(fx.url("/feed.xml").as_str()).await;
    w.run(Selection::Due, now()).await;
    cut.store(1, Ordering::SeqCst);
    for h in 1..=4 {
        let sum = w.run(Selection::One(src), hours(h)).await;
        assert_eq!(sum.failed.get("truncated_body"), Some(&1), "{sum:?}");
        assert_eq!(sum.offerings.removed, 0);
    }
    assert_eq!(w.live_titles(src).await.len(), 3);
    assert_eq!(
        w.status(src).await.last_error_code.as_deref(),
        Some("truncated_body")
    );
}

#[tokio::test]
async fn e4_an_empty_body_and_a_zero_item_feed_remove_nothing() {
    let mode = Arc::new(AtomicUsize::new(0));
    let m = Arc::clone(&mode);
    let polls = AtomicUsize::new(0);
    let fx = Fixture::start(move |_| match m.load(Ordering::SeqCst) {
        0 => ok(&feed(4)),
        1 => Reply::Full(200, vec![], Vec::new()),
        // New bytes each time (a build stamp), so every round really parses an empty feed.
        _ => ok(&feed(0).replace(
            "<title>Workshops</title>",
            &format!(
                "<title>Workshops {}</title>",
                polls.fetch_add(1, Ordering::SeqCst)
            ),
        )),
    })
    .await;
    let w = world(&[fx.authority()], |_| {}).await;
    let src = w.register(fx.url("/feed.xml").as_str()).await;
    w.run(Selection::Due, now()).await;

    mode.store(1, Ordering::SeqCst);
    let sum = w.run(Selection::One(src), hours(1)).await;
    assert_eq!(sum.failed.get("empty_body"), Some(&1));
    assert_eq!(w.live_titles(src).await.len(), 4);

    mode.store(2, Ordering::SeqCst);
    for h in 2..=6 {
        let sum = w.run(Selection::One(src), hours(h)).await;
        assert_eq!(sum.fetched, 1);
        assert_eq!(sum.anomalies.get("empty_fetch"), Some(&1), "{sum:?}");
        assert_eq!(sum.offerings.removed, 0);
    }
    assert_eq!(w.live_titles(src).await.len(), 4);
    let st = w.status(src).await;
    assert_eq!(st.last_anomaly_code.as_deref(), Some("empty_fetch"));
}

#[tokio::test]
async fn e5_a_server_ignoring_conditional_headers_is_short_circuited_by_the_hash() {
    let n = Arc::new(AtomicUsize::new(0));
    let c = Arc::clone(&n);
    let fx = Fixture::start(move |_| {
        // A fresh ETag every time for the same bytes, and If-None-Match ignored.
        let i = c.fetch_add(1, Ordering::SeqCst);
        Reply::Full(
            200,
            vec![("etag".into(), format!("\"e{i}\""))],
            feed(3).into_bytes(),
        )
    })
    .await;
    let w = world(&[fx.authority()], |_| {}).await;
    let src = w.register(fx.url("/feed.xml").as_str()).await;
    w.run(Selection::Due, now()).await;
    let mark = w.store.watermark().await.unwrap();
    for h in 1..=3 {
        let sum = w.run(Selection::All, hours(h)).await;
        assert_eq!((sum.unchanged, sum.fetched), (1, 0), "{sum:?}");
        assert_eq!(sum.offerings, Default::default());
    }
    assert_eq!(
        w.store.watermark().await.unwrap(),
        mark,
        "nothing re-indexed"
    );
    assert!(fx.requests()[1].header("if-none-match").is_some());
    assert_eq!(w.live_titles(src).await.len(), 3, "no duplicates either");
}

#[tokio::test]
async fn fetches_cancelled_by_shutdown_are_not_failures() {
    let fx = Fixture::start(|_| Reply::Silent).await;
    let w = world(&[fx.authority()], |_| {}).await;
    let src = w.register(fx.url("/feed.xml").as_str()).await;
    let cancel = CancellationToken::new();
    let stop = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        stop.cancel();
    });
    let started = std::time::Instant::now();
    let sum = w
        .crawler
        .run(Selection::Due, now(), &cancel, &|_| {})
        .await
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "stopped promptly"
    );
    assert_eq!((sum.cancelled, sum.failed_total()), (1, 0), "{sum:?}");
    let st = w.status(src).await;
    assert_eq!((st.consecutive_failures, st.last_attempt_at), (0, None));
    assert_eq!(st.status, "never");
}

#[tokio::test]
async fn metadata_and_decimal_addresses_are_refused_at_registration_and_crawl() {
    let w = world(&[], |_| {}).await;
    for url in ["http://169.254.169.254/", "http://2130706433/"] {
        let err = w.crawler.check_url(url).unwrap_err();
        assert_eq!(err.code(), "blocked_address", "{url}: {err}");
        // A row put in the store behind the API's back is still never fetched.
        let src = w.register(url).await;
        let sum = w.run(Selection::One(src), now()).await;
        assert_eq!(sum.failed.get("blocked_address"), Some(&1), "{url}");
        let st = w.status(src).await;
        assert_eq!(st.last_error_code.as_deref(), Some("blocked_address"));
    }
    assert_eq!(
        w.crawler.check_url("ftp://a.example/").unwrap_err().code(),
        "bad_scheme"
    );
}

#[tokio::test]
async fn a_permanent_redirect_moves_the_source_only_after_it_repeats() {
    let fx = Fixture::start(|req| match req.path.as_str() {
        "/old.xml" => status(301, &[("location", "/new.xml")]),
        _ => ok(&feed(1)),
    })
    .await;
    let w = world(&[fx.authority()], |_| {}).await;
    let old = fx.url("/old.xml");
    let src = w.register(old.as_str()).await;
    for h in 0..2 {
        let sum = w.run(Selection::All, hours(h)).await;
        assert!(sum.moved.is_empty());
        let s = w.store.source(src).await.unwrap().unwrap();
        assert_eq!(s.url, old.as_str());
        assert_eq!(s.status.redirect_seen, h + 1);
    }
    let sum = w.run(Selection::All, hours(2)).await;
    assert_eq!(sum.moved, vec![src]);
    let s = w.store.source(src).await.unwrap().unwrap();
    assert_eq!(s.url, fx.url("/new.xml").as_str());
    assert_eq!(s.status.redirect_to, None);
}

#[tokio::test]
async fn a_source_deleted_mid_round_is_skipped_and_the_rest_applied() {
    let slow =
        Fixture::start(|_| Reply::Delayed(Duration::from_millis(800), Box::new(ok(&feed(2)))))
            .await;
    let fast = Fixture::start(|_| ok(&feed(3))).await;
    let w = Arc::new(world(&[slow.authority(), fast.authority()], |_| {}).await);
    let doomed = w.register(slow.url("/slow.xml").as_str()).await;
    let kept = w.register(fast.url("/fast.xml").as_str()).await;
    let round = {
        let w = Arc::clone(&w);
        tokio::spawn(async move {
            w.crawler
                .run(Selection::Due, now(), &CancellationToken::new(), &|_| {})
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    w.store.delete_source(doomed, now()).await.unwrap();
    let sum = round
        .await
        .unwrap()
        .expect("the round survives a deleted source");
    // Both were fetched; only the kept source's offerings were applied.
    assert_eq!((sum.fetched, sum.offerings.new), (2, 3), "{sum:?}");
    assert_eq!(sum.skipped.get("deleted"), Some(&1), "{sum:?}");
    assert_eq!(sum.failed_total(), 0, "{sum:?}");
    assert_eq!(w.live_titles(kept).await.len(), 3);
    assert!(w.store.source(doomed).await.unwrap().is_none());
}

/// One page of The Events Calendar's REST API: `n` events from `first`, and the next page's
/// URL when there is one.
fn tec_page(first: usize, n: usize, next: Option<String>) -> String {
    let events: Vec<serde_json::Value> = (first..first + n)
        .map(|i| {
            serde_json::json!({
                "id": i,
                "url": format!("https://museum.example/event/{i}/"),
                "title": format!("Collections care clinic {i}"),
                "description": "<p>Hands-on.</p>",
                "all_day": false,
                "start_date": "2027-03-16 10:00:00",
                "end_date": "2027-03-16 12:00:00",
                "utc_start_date": "2027-03-16 15:00:00",
                "utc_end_date": "2027-03-16 17:00:00",
                "timezone": "America/Chicago",
                "cost": "Free"
            })
        })
        .collect();
    let mut doc = serde_json::json!({ "events": events, "total": 5, "total_pages": 2 });
    if let Some(next) = next {
        doc["next_rest_url"] = next.into();
    }
    doc.to_string()
}

#[tokio::test]
async fn a_paged_events_api_is_read_to_its_last_page_and_a_failed_page_removes_nothing() {
    let broken = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let fail = Arc::clone(&broken);
    let fx = Fixture::start(move |req| {
        if req.path.contains("page=2") {
            if fail.load(Ordering::SeqCst) {
                status(500, &[])
            } else {
                Reply::Full(
                    200,
                    vec![("content-type".into(), "application/json".into())],
                    tec_page(3, 2, None).into_bytes(),
                )
            }
        } else {
            let host = req.header("host").unwrap_or_default().to_owned();
            let next = format!("http://{host}/wp-json/tribe/events/v1/events?page=2");
            Reply::Full(
                200,
                vec![("content-type".into(), "application/json".into())],
                tec_page(0, 3, Some(next)).into_bytes(),
            )
        }
    })
    .await;
    let w = world(&[fx.authority()], |_| {}).await;
    let src = w
        .register(fx.url("/wp-json/tribe/events/v1/events").as_str())
        .await;
    let sum = w.run(Selection::All, hours(0)).await;
    assert_eq!((sum.fetched, sum.failed_total()), (1, 0), "{sum:?}");
    assert_eq!(w.live_titles(src).await.len(), 5, "both pages were read");
    // The provider sees its feed was understood as what it is.
    assert_eq!(
        w.status(src).await.platform.as_deref(),
        Some("the-events-calendar")
    );

    broken.store(true, Ordering::SeqCst);
    let sum = w.run(Selection::All, hours(2)).await;
    assert_eq!(sum.failed.get("http_status"), Some(&1), "{sum:?}");
    assert_eq!(
        w.live_titles(src).await.len(),
        5,
        "a failed page fails the fetch and removes nothing"
    );
}
