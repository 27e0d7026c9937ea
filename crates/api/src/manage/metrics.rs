//! Prometheus text exposition, written by hand: a few counters and one histogram do not need
//! a metrics framework. Gauges that the store already knows (sources by state, offerings) are
//! read from it at scrape time, so they can never drift.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use super::ManageState;

/// Upper bounds of the request-latency buckets, in seconds.
const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Counters shared by the HTTP layer and the crawl loop.
#[derive(Default)]
pub struct Metrics {
    fetches: Mutex<BTreeMap<String, u64>>,
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
    rate_limited: AtomicU64,
}

impl Metrics {
    /// One finished fetch, by outcome (`fresh`, `not_modified`, `unchanged`, a failure code,
    /// or `cancelled` for fetches stopped by a shutdown, which are not failures).
    pub fn count_fetch(&self, outcome: &str) {
        if let Ok(mut m) = self.fetches.lock() {
            *m.entry(outcome.to_owned()).or_default() += 1;
        }
    }

    pub fn count_rate_limited(&self) {
        self.rate_limited.fetch_add(1, Ordering::Relaxed);
    }

    fn observe(&self, route: &str, status: u16, took: Duration) {
        if let Ok(mut m) = self.requests.lock() {
            *m.entry((route.to_owned(), status)).or_default() += 1;
        }
        if let Ok(mut m) = self.latency.lock() {
            let h = m.entry(route.to_owned()).or_default();
            let secs = took.as_secs_f64();
            for (i, le) in BUCKETS.iter().enumerate() {
                if secs <= *le {
                    h.counts[i] += 1;
                }
            }
            h.count += 1;
            h.sum += secs;
        }
    }

    /// The counters in Prometheus text format (the store-backed gauges are added by the
    /// handler).
    pub fn render(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "# HELP coalesce_fetches_total Source fetches by outcome (fetched, not_modified, unchanged or the failure code)."
        );
        let _ = writeln!(out, "# TYPE coalesce_fetches_total counter");
        if let Ok(m) = self.fetches.lock() {
            for (outcome, n) in m.iter() {
                let _ = writeln!(
                    out,
                    "coalesce_fetches_total{{outcome=\"{}\"}} {n}",
                    esc(outcome)
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP coalesce_http_requests_total HTTP requests answered, by route and status."
        );
        let _ = writeln!(out, "# TYPE coalesce_http_requests_total counter");
        if let Ok(m) = self.requests.lock() {
            for ((route, status), n) in m.iter() {
                let _ = writeln!(
                    out,
                    "coalesce_http_requests_total{{route=\"{}\",status=\"{status}\"}} {n}",
                    esc(route)
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP coalesce_http_request_duration_seconds Time to answer an HTTP request, by route."
        );
        let _ = writeln!(
            out,
            "# TYPE coalesce_http_request_duration_seconds histogram"
        );
        if let Ok(m) = self.latency.lock() {
            for (route, h) in m.iter() {
                let route = esc(route);
                for (le, n) in BUCKETS.iter().zip(h.counts) {
                    let _ = writeln!(
                        out,
                        "coalesce_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{le}\"}} {n}"
                    );
                }
                let _ = writeln!(
                    out,
                    "coalesce_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                    h.count
                );
                let _ = writeln!(
                    out,
                    "coalesce_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                    h.sum
                );
                let _ = writeln!(
                    out,
                    "coalesce_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                    h.count
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP coalesce_rate_limited_total Requests refused by the per-client rate limit."
        );
        let _ = writeln!(out, "# TYPE coalesce_rate_limited_total counter");
        let _ = writeln!(
            out,
            "coalesce_rate_limited_total {}",
            self.rate_limited.load(Ordering::Relaxed)
        );
    }
}

/// Label values are our own route templates and codes, but escape anyway.
fn esc(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Middleware: latency per route template (never the raw path, whose ids would explode the
/// label set) and one structured log line per request, without the query string, which may
/// hold what someone mistook for a place to put a key.
pub async fn observe(State(state): State<ManageState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let took = started.elapsed();
    let status = response.status().as_u16();
    state.inner.metrics.observe(&route, status, took);
    tracing::info!(
        target: "coalesce::http",
        %method,
        path,
        route,
        status,
        ms = took.as_millis() as u64,
        "request"
    );
    response
}
