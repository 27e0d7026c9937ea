//! What every handler shares: the store, the index (which may still be building), the validated
//! configuration and the clock.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use coalesce_core::Vocabulary;
use coalesce_index::CatalogIndex;
use coalesce_store::Store;

use crate::error::ApiError;
use crate::feeds::CalendarLimits;

/// The validated settings of the HTTP layer (the binary builds it from its config once).
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Absolute base URL the service is reached at (`https://coalesce.example.org`), no trailing
    /// slash. Subscription URLs and feed self links are built from it, never from the Host header.
    pub public_base_url: String,
    /// The right-hand side of every iCalendar UID; must never change for a deployment.
    pub uid_domain: String,
    /// How long a search may run before it is answered 503 `search_timeout`.
    pub search_deadline: Duration,
    /// Default caps of `/calendar.ics`; requests may adjust them within [`CalendarLimits::CEILING`].
    pub calendar_limits: CalendarLimits,
    /// The refresh hint written into calendars and feeds.
    pub feed_refresh: Duration,
    /// `Cache-Control: max-age` of calendars and feeds.
    pub feed_max_age: Duration,
    /// Largest request body accepted by these routes (they are all GET).
    pub max_body_bytes: usize,
    /// Largest total size of the request headers.
    pub max_header_bytes: usize,
}

impl ApiConfig {
    /// Defaults for everything but the two deployment-specific values.
    pub fn new(public_base_url: &str, uid_domain: &str) -> ApiConfig {
        ApiConfig {
            public_base_url: public_base_url.trim_end_matches('/').to_string(),
            uid_domain: uid_domain.to_string(),
            search_deadline: Duration::from_secs(2),
            calendar_limits: CalendarLimits::default(),
            feed_refresh: Duration::from_secs(6 * 3600),
            feed_max_age: Duration::from_secs(900),
            max_body_bytes: 64 * 1024,
            max_header_bytes: 16 * 1024,
        }
    }
}

/// Where "now" comes from: the wall clock in the service, a fixed instant in tests.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>);

impl Clock {
    pub fn system() -> Clock {
        Clock(Arc::new(Utc::now))
    }

    pub fn fixed(at: DateTime<Utc>) -> Clock {
        Clock(Arc::new(move || at))
    }

    pub fn from_fn(f: impl Fn() -> DateTime<Utc> + Send + Sync + 'static) -> Clock {
        Clock(Arc::new(f))
    }

    pub fn now(&self) -> DateTime<Utc> {
        (self.0)()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Clock")
    }
}

/// The search index as the service holds it: absent while it is first built (the routes answer
/// 503 `index_unavailable` meanwhile), then swapped in once.
#[derive(Debug, Clone, Default)]
pub struct IndexSlot(Arc<RwLock<Option<Arc<CatalogIndex>>>>);

impl IndexSlot {
    pub fn empty() -> IndexSlot {
        IndexSlot::default()
    }

    pub fn ready(index: Arc<CatalogIndex>) -> IndexSlot {
        IndexSlot(Arc::new(RwLock::new(Some(index))))
    }

    /// Installs (or replaces) the index every following request uses.
    pub fn set(&self, index: Arc<CatalogIndex>) {
        // A poisoned lock only means a writer panicked mid-assignment of an Arc: the value is
        // still a whole Option, so keep going with it.
        let mut slot = self.0.write().unwrap_or_else(|e| e.into_inner());
        *slot = Some(index);
    }

    pub fn get(&self) -> Result<Arc<CatalogIndex>, ApiError> {
        let slot = self.0.read().unwrap_or_else(|e| e.into_inner());
        slot.clone().ok_or(ApiError::IndexUnavailable)
    }
}

/// Everything a handler needs. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Store,
    pub index: IndexSlot,
    pub config: Arc<ApiConfig>,
    pub vocabulary: Arc<Vocabulary>,
    pub clock: Clock,
}

impl AppState {
    pub fn new(store: Store, index: IndexSlot, config: ApiConfig, clock: Clock) -> AppState {
        AppState {
            store,
            index,
            config: Arc::new(config),
            vocabulary: Arc::new(Vocabulary::builtin()),
            clock,
        }
    }
}
