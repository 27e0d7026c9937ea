//! Request limits: body size (before any parsing), batch size, URL length, and per-client rate
//! limits (governor, keyed by client address; IPv6 by its /64, since one host owns a whole
//! /64; `X-Forwarded-For` only when the peer is a configured trusted proxy).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRequest, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use coalesce_store::ProviderId;
use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use serde::de::DeserializeOwned;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::ManageState;
use super::error::ManageError;

/// Validated rate-limit settings.
#[derive(Debug, Clone)]
pub struct RateSpec {
    /// Sustained requests per minute per client.
    pub per_minute: NonZeroU32,
    /// How many may come at once before the sustained rate applies.
    pub burst: NonZeroU32,
    /// Peers whose `X-Forwarded-For` is believed. Empty: the header is ignored.
    pub trusted_proxies: Vec<IpAddr>,
}

pub(crate) struct Limiter {
    limiter: RateLimiter<IpAddr, DefaultKeyedStateStore<IpAddr>, DefaultClock>,
    clock: DefaultClock,
    spec: RateSpec,
    seen: AtomicU64,
}

impl Limiter {
    pub(crate) fn new(spec: RateSpec) -> Limiter {
        let quota = Quota::per_minute(spec.per_minute).allow_burst(spec.burst);
        let clock = DefaultClock::default();
        Limiter {
            limiter: RateLimiter::new(quota, DefaultKeyedStateStore::default(), clock.clone()),
            clock,
            spec,
            seen: AtomicU64::new(0),
        }
    }

    /// `Err(wait)` when the client is over its budget.
    fn check(&self, client: IpAddr) -> Result<(), Duration> {
        // Forget idle clients now and then, so a scan of many addresses cannot grow the map
        // without bound.
        if self.seen.fetch_add(1, Ordering::Relaxed) % 1024 == 1023 {
            self.limiter.retain_recent();
        }
        self.limiter
            .check_key(&client)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

/// The address a client is keyed by; IPv6 cut to its /64. The peer, unless the peer is a
/// trusted proxy: then `X-Forwarded-For` is read from the right (each proxy appends the
/// address it saw) past the trusted proxies, and the first address not trusted is the client.
/// Entries further left were written by the client itself and are never believed.
pub fn client_key(peer: Option<IpAddr>, forwarded: Option<&str>, trusted: &[IpAddr]) -> IpAddr {
    let peer = peer.unwrap_or(IpAddr::from([127, 0, 0, 1]));
    let mut ip = peer;
    if trusted.contains(&peer)
        && let Some(list) = forwarded
    {
        for entry in list.rsplit(',') {
            match entry.trim().parse::<IpAddr>() {
                Ok(hop) => {
                    ip = hop;
                    if !trusted.contains(&hop) {
                        break;
                    }
                }
                // Garbage where an address should be: stop at the last address we trust.
                Err(_) => break,
            }
        }
    }
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
        v4 => v4,
    }
}

/// Middleware: 429 with `Retry-After` once a client spends its budget.
pub async fn rate_limit(
    State(state): State<ManageState>,
    request: Request,
    next: Next,
) -> Response {
    // Probes of liveness and readiness are never refused: an orchestrator that is rate-limited
    // would restart a healthy service.
    if matches!(request.uri().path(), "/healthz" | "/readyz") {
        return next.run(request).await;
    }
    let limiter = &state.inner.limiter;
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let forwarded = request
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok());
    let key = client_key(peer, forwarded, &limiter.spec.trusted_proxies);
    match limiter.check(key) {
        Ok(()) => next.run(request).await,
        Err(wait) => {
            state.inner.metrics.count_rate_limited();
            let mut response = ManageError::RateLimited { retry_after: wait }.into_response();
            if let Ok(v) = HeaderValue::from_str(&limiter.spec.per_minute.to_string()) {
                response.headers_mut().insert("x-ratelimit-limit", v);
            }
            response
                .headers_mut()
                .insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
            response
        }
    }
}

/// Reads the whole body under the configured cap; 413 past it (checked on Content-Length
/// first, then while reading, so a lying or absent header changes nothing).
pub async fn read_body(request: Request, limit: usize) -> Result<bytes::Bytes, ManageError> {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ManageError::BodyTooLarge { limit });
    }
    axum::body::to_bytes(request.into_body(), limit)
        .await
        .map_err(|_| ManageError::BodyTooLarge { limit })
}

/// A JSON body under the body cap. serde_json's own recursion limit turns absurd nesting into
/// a 400 rather than a stack overflow.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<ManageState> for JsonBody<T> {
    type Rejection = ManageError;

    async fn from_request(req: Request, state: &ManageState) -> Result<Self, ManageError> {
        let bytes = read_body(req, state.inner.spec.body_limit).await?;
        // An empty body reads as `null`, so optional bodies may be left out.
        let bytes: &[u8] = if bytes.trim_ascii().is_empty() {
            b"null"
        } else {
            &bytes
        };
        serde_json::from_slice(bytes)
            .map(JsonBody)
            .map_err(|e| ManageError::InvalidJson(e.to_string()))
    }
}

/// A raw body (OPML) under the body cap.
pub struct RawBody(pub bytes::Bytes);

impl FromRequest<ManageState> for RawBody {
    type Rejection = ManageError;

    async fn from_request(req: Request, state: &ManageState) -> Result<Self, ManageError> {
        read_body(req, state.inner.spec.body_limit)
            .await
            .map(RawBody)
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn fetch_slots_bound_each_provider_and_the_whole() {
        let slots = super::FetchSlots::new(3, 2);
        let a = coalesce_store::ProviderId(1);
        let b = coalesce_store::ProviderId(2);
        let a1 = slots.take(a).unwrap();
        let _a2 = slots.take(a).unwrap();
        let err = slots.take(a).unwrap_err();
        assert_eq!(err.code(), "too_many_fetches");
        assert_eq!(err.status(), axum::http::StatusCode::TOO_MANY_REQUESTS);
        let _b1 = slots.take(b).unwrap();
        // Three at once in all, whoever asks.
        assert_eq!(slots.take(b).unwrap_err().code(), "too_many_fetches");
        drop(a1);
        assert!(slots.take(b).is_ok());
    }
    use super::*;

    #[test]
    fn forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy() {
        let peer: IpAddr = "10.0.0.5".parse().unwrap();
        let spoofed = Some("1.2.3.4");
        assert_eq!(client_key(Some(peer), spoofed, &[]), peer);
        assert_eq!(
            client_key(Some(peer), spoofed, &[peer]),
            "1.2.3.4".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn forwarded_for_is_read_from_the_right_past_trusted_proxies() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let edge = ip("10.0.0.5");
        let inner = ip("10.0.0.6");
        let trusted = [edge, inner];
        // The client forged the left entry; the proxy appended what it saw.
        assert_eq!(
            client_key(Some(edge), Some("9.9.9.9, 203.0.113.7"), &trusted),
            ip("203.0.113.7")
        );
        // Two proxies in a row: the first untrusted hop from the right.
        assert_eq!(
            client_key(Some(edge), Some("9.9.9.9, 203.0.113.7, 10.0.0.6"), &trusted),
            ip("203.0.113.7")
        );
        // Garbage stops the walk at the last trusted hop rather than believing what is left.
        assert_eq!(
            client_key(Some(edge), Some("203.0.113.7, not-an-ip"), &trusted),
            edge
        );
        assert_eq!(client_key(Some(edge), None, &trusted), edge);
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_slash_64() {
        let a = client_key(Some("2001:db8:1:2::1".parse().unwrap()), None, &[]);
        let b = client_key(Some("2001:db8:1:2:ffff::9".parse().unwrap()), None, &[]);
        let c = client_key(Some("2001:db8:1:3::1".parse().unwrap()), None, &[]);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}

/// How long a caller refused a preview or discovery slot is asked to wait.
const FETCH_RETRY_AFTER: Duration = Duration::from_secs(5);

/// Bounds the fetch-and-parse work the API starts for providers (preview, discover): each
/// holds a whole document and its parse in memory, so a burst of them is what could exhaust
/// the server (HOSTILE D4). A global and a per-provider count, taken without waiting.
pub(crate) struct FetchSlots {
    global: Arc<Semaphore>,
    per_provider: usize,
    providers: Mutex<HashMap<ProviderId, Arc<Semaphore>>>,
}

/// One preview or discovery's place; released when dropped.
#[derive(Debug)]
pub(crate) struct FetchSlot {
    _global: OwnedSemaphorePermit,
    _provider: OwnedSemaphorePermit,
}

impl FetchSlots {
    pub(crate) fn new(global: usize, per_provider: usize) -> FetchSlots {
        FetchSlots {
            global: Arc::new(Semaphore::new(global.max(1))),
            per_provider: per_provider.max(1),
            providers: Mutex::default(),
        }
    }

    pub(crate) fn take(&self, provider: ProviderId) -> Result<FetchSlot, ManageError> {
        let busy = || ManageError::TooManyFetches {
            retry_after: FETCH_RETRY_AFTER,
        };
        let mine = {
            let mut map = self.providers.lock().map_err(|_| busy())?;
            Arc::clone(
                map.entry(provider)
                    .or_insert_with(|| Arc::new(Semaphore::new(self.per_provider))),
            )
        };
        let provider = mine.try_acquire_owned().map_err(|_| busy())?;
        let global = Arc::clone(&self.global)
            .try_acquire_owned()
            .map_err(|_| busy())?;
        Ok(FetchSlot {
            _global: global,
            _provider: provider,
        })
    }
}
