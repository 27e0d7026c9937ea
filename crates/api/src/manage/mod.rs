//! Provider and source management, health and metrics: the routes a provider (or the operator)
//! calls, as opposed to the public search and calendar routes.
//!
//! - The admin token (its SHA-256 digest in [`ManageSpec`]) creates providers and their API
//!   keys; a key is shown once and stored only as a digest ([`auth`]).
//! - A provider manages its own keys ([`keys`]: list, make another, revoke) and only its own
//!   sources ([`sources`]): register (address policy checked
//!   first), list, patch, delete, refresh, preview (fetch through the guarded [`Fetcher`] and
//!   parse, storing nothing), discovery, OPML in and out, status with recent fetch history,
//!   and a data-quality scorecard ([`score`]).
//! - [`limits`]: body cap, batch and URL caps, per-client rate limits; [`metrics`]: request
//!   latency and the Prometheus scrape; [`health`]: `/healthz`, `/readyz`.
//!
//! The crawl loop lives outside (the binary wires it); it records each fetch in the store's
//! fetch history (read here for the status page), counts outcomes through
//! [`ManageState::count_fetch`], and learns of refresh requests through
//! [`ManageState::refresh_requested`].

pub mod admin;
pub mod auth;
pub mod error;
pub mod health;
pub mod keys;
pub mod limits;
pub mod metrics;
pub mod opml;
pub mod score;
pub mod sources;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use axum::Router;
use axum::routing::{delete, get, post};
use coalesce_crawl::Fetcher;
use coalesce_store::{FetchLog, SourceId, Store};
use tokio::sync::Notify;

pub use error::ManageError;
pub use limits::RateSpec;
pub use metrics::Metrics;

/// Validated settings of the management routes.
#[derive(Debug, Clone)]
pub struct ManageSpec {
    pub admin_token_digest: [u8; 32],
    /// Largest request body, in bytes (HOSTILE D5: 64 KiB).
    pub body_limit: usize,
    /// Most URLs in one batch or OPML import.
    pub max_batch: usize,
    pub max_url_len: usize,
    pub rate: RateSpec,
    /// Fetch history entries shown per source on its status page.
    pub history_len: usize,
    /// Previews and discoveries (a fetch and a parse each) running at once, over all
    /// providers and per provider; past either a caller gets 429 with `Retry-After`.
    pub fetches_at_once: usize,
    pub fetches_per_provider: usize,
    /// When set, `/metrics` answers only `Authorization: Bearer <token>` (its SHA-256 here).
    pub metrics_token_digest: Option<[u8; 32]>,
}

impl ManageSpec {
    /// The limits HOSTILE.md asks for, with `admin_token_digest` and a rate.
    pub fn new(admin_token_digest: [u8; 32], rate: RateSpec) -> ManageSpec {
        ManageSpec {
            admin_token_digest,
            body_limit: 64 * 1024,
            max_batch: 50,
            max_url_len: 2048,
            rate,
            history_len: 20,
            // A preview holds its document (up to the 10 MiB body cap) and what it parses
            // into; four at once keep a burst of them within a few hundred MiB.
            fetches_at_once: 4,
            fetches_per_provider: 2,
            metrics_token_digest: None,
        }
    }
}

/// Shared by every handler; cheap to clone.
#[derive(Clone)]
pub struct ManageState {
    inner: Arc<Inner>,
}

struct Inner {
    clock: crate::Clock,
    store: Store,
    fetcher: Arc<Fetcher>,
    spec: ManageSpec,
    limiter: limits::Limiter,
    metrics: Arc<Metrics>,
    refresh: Notify,
    ready: AtomicBool,
    /// Background loops by name, with why each is not working (`None`: working).
    loops: std::sync::Mutex<std::collections::BTreeMap<&'static str, Option<String>>>,
    fetch_slots: limits::FetchSlots,
}

impl ManageState {
    pub fn new(store: Store, fetcher: Arc<Fetcher>, spec: ManageSpec) -> ManageState {
        ManageState::with_clock(store, fetcher, spec, crate::Clock::system())
    }

    /// As [`ManageState::new`], with the clock every handler reads (tests move it).
    pub fn with_clock(
        store: Store,
        fetcher: Arc<Fetcher>,
        spec: ManageSpec,
        clock: crate::Clock,
    ) -> ManageState {
        ManageState {
            inner: Arc::new(Inner {
                clock,
                store,
                fetcher,
                limiter: limits::Limiter::new(spec.rate.clone()),
                fetch_slots: limits::FetchSlots::new(
                    spec.fetches_at_once,
                    spec.fetches_per_provider,
                ),
                spec,
                metrics: Arc::new(Metrics::default()),
                refresh: Notify::new(),
                ready: AtomicBool::new(false),
                loops: std::sync::Mutex::default(),
            }),
        }
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The time as the management handlers see it: the one clock, never `Utc::now()`.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.inner.clock.now()
    }

    pub fn metrics(&self) -> Arc<Metrics> {
        Arc::clone(&self.inner.metrics)
    }

    /// `/readyz` answers 200 only while this is set: set after start-up, cleared on shutdown so
    /// load balancers stop sending before the listener closes.
    pub fn set_ready(&self, ready: bool) {
        self.inner
            .ready
            .store(ready, std::sync::atomic::Ordering::Relaxed);
    }

    /// A background loop (crawl, index) says how it is doing: `None` when working, else why
    /// not. `/readyz` answers 503 naming every loop that is not working.
    pub fn set_loop_health(&self, name: &'static str, problem: Option<String>) {
        if let Ok(mut loops) = self.inner.loops.lock() {
            loops.insert(name, problem);
        }
    }

    /// The loops that are not working, as `name: why`.
    pub(crate) fn loop_problems(&self) -> Vec<String> {
        self.inner.loops.lock().map_or_else(
            |_| vec!["loop health unreadable".to_owned()],
            |loops| {
                loops
                    .iter()
                    .filter_map(|(name, p)| p.as_ref().map(|p| format!("{name}: {p}")))
                    .collect()
            },
        )
    }

    /// A place for one preview or discovery of `provider`, held until dropped.
    pub(crate) fn fetch_slot(
        &self,
        provider: coalesce_store::ProviderId,
    ) -> Result<limits::FetchSlot, ManageError> {
        self.inner.fetch_slots.take(provider)
    }

    /// The crawl loop reports each fetch's outcome here for the metrics; the fetch history
    /// itself is in the store, written by the crawler.
    pub fn count_fetch(&self, outcome: &str) {
        self.inner.metrics.count_fetch(outcome);
    }

    /// Resolves when a provider asked for a refresh (the source's due time is already set to
    /// now); the crawl loop waits on this beside its timer.
    pub async fn refresh_requested(&self) {
        self.inner.refresh.notified().await;
    }

    /// The source's recent fetches, newest first.
    pub(crate) async fn history(&self, source: SourceId) -> Result<Vec<FetchLog>, ManageError> {
        let n = u32::try_from(self.inner.spec.history_len).unwrap_or(u32::MAX);
        Ok(self.inner.store.fetch_history(source, n).await?)
    }
}

/// The management routes (admin, sources, health, metrics) with the body cap. Merge it with the
/// search router, then wrap the whole with [`with_service_layers`].
pub fn management_router(state: ManageState) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route(
            "/api/v1/admin/providers",
            post(admin::create_provider).get(admin::list_providers),
        )
        .route(
            "/api/v1/admin/providers/{name}",
            axum::routing::patch(admin::update_provider),
        )
        .route(
            "/api/v1/admin/providers/{name}/keys",
            post(admin::create_key),
        )
        .route("/api/v1/admin/keys/{id}", delete(admin::revoke_key))
        .route("/api/v1/keys", get(keys::list).post(keys::create))
        .route("/api/v1/keys/{id}", delete(keys::revoke))
        .route("/api/v1/sources", post(sources::create).get(sources::list))
        .route("/api/v1/sources/batch", post(sources::create_batch))
        .route("/api/v1/sources/preview", post(sources::preview))
        .route("/api/v1/sources/discover", post(sources::discover))
        .route("/api/v1/sources/opml", get(opml::export).post(opml::import))
        .route(
            "/api/v1/sources/{id}",
            get(sources::show)
                .patch(sources::update)
                .delete(sources::remove),
        )
        .route("/api/v1/sources/{id}/refresh", post(sources::refresh))
        .route(
            "/api/v1/sources/{id}/offerings/{offering}",
            delete(sources::remove_offering),
        )
        .route("/api/v1/sources/{id}/scorecard", get(score::scorecard))
        .with_state(state)
}

/// What wraps every route of the service, search included: per-client rate limits, then the
/// request log and latency metrics, a JSON 404 / 405 for unknown paths and methods, and the
/// security headers
/// (a route that needs another policy sets its own; these only fill in what is missing).
pub fn with_service_layers(router: Router, state: ManageState) -> Router {
    use axum::http::HeaderName;
    use tower_http::set_header::SetResponseHeaderLayer;
    let header = |name: &'static str, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static(name),
            axum::http::HeaderValue::from_static(value),
        )
    };
    router
        .fallback(|| async { ManageError::NotFound })
        .method_not_allowed_fallback(|| async { ManageError::MethodNotAllowed })
        // Browsers must take a body for what its Content-Type says, never sniff JSON or a feed
        // into HTML, and nothing we serve is meant to run scripts or be framed by default.
        .layer(header("x-content-type-options", "nosniff"))
        .layer(header("referrer-policy", "strict-origin-when-cross-origin"))
        .layer(header(
            "content-security-policy",
            "default-src 'none'; frame-ancestors 'none'",
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            limits::rate_limit,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state,
            metrics::observe,
        ))
}
