//! The guarded HTTP client: one `fetch` per source, bounded in time, size and hops.

use std::collections::HashMap;
use std::error::Error as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use chrono::{DateTime, Utc};
use http::header::{
    ACCEPT, CONTENT_TYPE, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED, LOCATION,
    RETRY_AFTER,
};
use http::{HeaderMap, HeaderValue, StatusCode};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use url::{Host, Url};

use crate::error::FetchError;
use crate::hints;
use crate::policy::AddressPolicy;
use crate::resolve::{
    BlockedByResolver, DialFilter, GuardedResolver, ResolveFailed, SystemResolver,
};

/// Raw fetch settings, as read from config.
#[derive(Debug, Clone)]
pub struct FetchConfig {
    /// Sent on every request; names us and says where to complain.
    pub user_agent: String,
    /// The token robots.txt groups are matched against.
    pub robots_agent: String,
    pub connect_timeout: Duration,
    /// For the whole fetch: robots.txt, every hop, and the body.
    pub deadline: Duration,
    /// Counted after decompression.
    pub max_body_bytes: u64,
    /// Requests per fetch, the first one included (robots.txt not counted).
    pub max_hops: usize,
    /// Exact `host:port` entries that may be loopback or private (tests, the demo).
    pub allow: Vec<String>,
    pub allow_documentation_ranges: bool,
    pub allow_https_downgrade: bool,
    pub respect_robots: bool,
    pub robots_ttl: Duration,
    /// Upper bound on any "not before" a server can impose (Retry-After, max-age, Expires).
    pub max_hint: Duration,
}

impl FetchConfig {
    /// Defaults from ../shared/HOSTILE.md with a User-Agent naming `contact_url`.
    pub fn new(contact_url: &str) -> FetchConfig {
        FetchConfig {
            user_agent: format!(
                "coalesce/{} (+{contact_url}; continuing-education catalog)",
                env!("CARGO_PKG_VERSION")
            ),
            robots_agent: "coalesce".to_owned(),
            connect_timeout: Duration::from_secs(10),
            deadline: Duration::from_secs(30),
            max_body_bytes: 10 * 1024 * 1024,
            max_hops: 5,
            allow: Vec::new(),
            allow_documentation_ranges: false,
            allow_https_downgrade: false,
            respect_robots: true,
            robots_ttl: Duration::from_secs(24 * 3600),
            max_hint: Duration::from_secs(24 * 3600),
        }
    }
}

/// What the previous successful fetch left behind, sent back exactly as received.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// SHA-256 of the body, hex: catches servers that ignore conditional requests.
    pub content_hash: Option<String>,
}

/// How a successful fetch turned out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// New content in `body`.
    Fresh,
    /// 304: the server says nothing changed.
    NotModified,
    /// 200 with the same bytes as last time: nothing to parse.
    Unchanged,
}

#[derive(Debug, Clone)]
pub struct FetchResponse {
    pub outcome: Outcome,
    /// Empty unless `outcome` is `Fresh`.
    pub body: Bytes,
    pub final_url: Url,
    pub status: u16,
    pub content_type: Option<String>,
    pub validators: Validators,
    /// From Cache-Control / Expires, capped: no need to ask before this.
    pub fresh_until: Option<DateTime<Utc>>,
    /// Set when every hop was a 301/308: the target they lead to. Recorded by the caller,
    /// never applied to the stored URL on its own.
    pub permanent_redirect: Option<Url>,
    pub remote_addr: Option<SocketAddr>,
    /// Requests made for this fetch (robots.txt not counted).
    pub hops: usize,
}

/// The guarded client. Cheap to share (`Arc` inside reqwest); one per process.
pub struct Fetcher {
    client: reqwest::Client,
    policy: Arc<AddressPolicy>,
    config: FetchConfig,
    dial_filter: Option<DialFilter>,
    robots: Mutex<HashMap<String, RobotsEntry>>,
}

struct RobotsEntry {
    expires: DateTime<Utc>,
    /// None: everything allowed (no robots.txt, or a 4xx for it).
    robot: Option<Arc<texting_robots::Robot>>,
}

const ROBOTS_MAX_BYTES: u64 = 512 * 1024;

impl Fetcher {
    /// A fetcher resolving names with the operating system.
    pub fn new(config: FetchConfig) -> Result<Fetcher, FetchError> {
        Fetcher::with_resolver(config, Arc::new(SystemResolver), None)
    }

    /// A fetcher over another resolver (tests inject a fake one) and an optional last check
    /// on every address before it is dialled.
    pub fn with_resolver(
        config: FetchConfig,
        resolver: Arc<dyn reqwest::dns::Resolve>,
        dial_filter: Option<DialFilter>,
    ) -> Result<Fetcher, FetchError> {
        let mut policy = AddressPolicy::new(&config.allow)?;
        policy.allow_documentation = config.allow_documentation_ranges;
        let policy = Arc::new(policy);
        // reqwest is built without its aws-lc default; ring is the process-wide provider.
        // An Err means one is installed already, which is what we want.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            // Environment proxies would route around the address checks.
            .no_proxy()
            // Redirects are followed by hand in `fetch` so each hop is checked, counted, and
            // permanent ones are reported instead of silently becoming the source URL.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.connect_timeout)
            .timeout(config.deadline)
            .user_agent(config.user_agent.clone())
            .dns_resolver(GuardedResolver::new(
                resolver,
                Arc::clone(&policy),
                dial_filter.clone(),
            ))
            .build()
            .map_err(|e| FetchError::Client(chain(&e)))?;
        Ok(Fetcher {
            client,
            policy,
            config,
            dial_filter,
            robots: Mutex::new(HashMap::new()),
        })
    }

    pub fn config(&self) -> &FetchConfig {
        &self.config
    }

    pub fn policy(&self) -> &AddressPolicy {
        &self.policy
    }

    /// The registration-time check: would this URL be fetched at all? No network.
    pub fn check_url(&self, url: &Url) -> Result<(), FetchError> {
        self.check_target(url)
    }

    /// Fetch `url` conditionally. The whole operation (robots.txt, hops, body) is bounded by
    /// the deadline.
    pub async fn fetch(
        &self,
        url: &Url,
        previous: &Validators,
        now: DateTime<Utc>,
    ) -> Result<FetchResponse, FetchError> {
        let deadline = self.config.deadline;
        match tokio::time::timeout(deadline, self.fetch_inner(url, previous, now, true)).await {
            Ok(r) => r,
            Err(_) => Err(FetchError::Timeout(deadline)),
        }
    }

    /// Fetch without conditions or change detection (previews, `coalesce parse URL`).
    pub async fn get(&self, url: &Url, now: DateTime<Utc>) -> Result<FetchResponse, FetchError> {
        self.fetch(url, &Validators::default(), now).await
    }

    /// The crawl-delay robots.txt asks of `url`'s origin, once it has been read.
    pub fn robots_delay(&self, url: &Url) -> Option<Duration> {
        let robots = self.robots.lock().ok()?;
        let delay = robots.get(&origin(url))?.robot.as_ref()?.delay?;
        Duration::try_from_secs_f32(delay).ok()
    }

    async fn fetch_inner(
        &self,
        url: &Url,
        previous: &Validators,
        now: DateTime<Utc>,
        check_robots: bool,
    ) -> Result<FetchResponse, FetchError> {
        let mut current = url.clone();
        let mut permanent_redirect: Option<Url> = None;
        let mut all_permanent = true;
        for hop in 1..=self.config.max_hops {
            self.check_target(&current)?;
            if check_robots && self.config.respect_robots {
                self.check_robots(&current, now).await?;
            }
            let mut request = self.client.get(current.clone()).header(
                ACCEPT,
                "application/rss+xml, application/atom+xml, application/feed+json, text/calendar, application/xml;q=0.9, text/html;q=0.8, */*;q=0.5",
            );
            request = add_validator(request, IF_NONE_MATCH, previous.etag.as_deref());
            request = add_validator(
                request,
                IF_MODIFIED_SINCE,
                previous.last_modified.as_deref(),
            );
            let response = request
                .send()
                .await
                .map_err(|e| classify(&e, self.config.deadline))?;
            self.check_remote(&current, response.remote_addr())?;
            let status = response.status();
            if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
                let next = redirect_target(&current, response.headers())?;
                check_hop(&current, &next, self.config.allow_https_downgrade)?;
                let permanent = matches!(status.as_u16(), 301 | 308);
                all_permanent &= permanent;
                permanent_redirect = all_permanent.then(|| next.clone());
                tracing::debug!(from = %current, to = %next, status = status.as_u16(), "redirect");
                current = next;
                continue;
            }
            let mut done = self
                .finish(
                    response,
                    current.clone(),
                    previous,
                    now,
                    self.config.max_body_bytes,
                )
                .await?;
            done.permanent_redirect = permanent_redirect;
            done.hops = hop;
            return Ok(done);
        }
        Err(FetchError::TooManyRedirects {
            limit: self.config.max_hops,
        })
    }

    async fn finish(
        &self,
        mut response: reqwest::Response,
        final_url: Url,
        previous: &Validators,
        now: DateTime<Utc>,
        cap: u64,
    ) -> Result<FetchResponse, FetchError> {
        let status = response.status();
        let headers = response.headers().clone();
        let header = |name| {
            headers
                .get(name)
                // UTF-8 rather than `to_str` (visible ASCII only): validators go back byte for byte.
                .and_then(|v: &HeaderValue| String::from_utf8(v.as_bytes().to_vec()).ok())
        };
        let mut validators = Validators {
            etag: header(ETAG),
            last_modified: header(LAST_MODIFIED),
            content_hash: previous.content_hash.clone(),
        };
        let mut done = FetchResponse {
            outcome: Outcome::NotModified,
            body: Bytes::new(),
            final_url,
            status: status.as_u16(),
            content_type: header(CONTENT_TYPE),
            validators: Validators::default(),
            fresh_until: hints::fresh_until(&headers, now, self.config.max_hint),
            permanent_redirect: None,
            remote_addr: response.remote_addr(),
            hops: 0,
        };
        if status == StatusCode::NOT_MODIFIED {
            if previous.etag.is_none() && previous.last_modified.is_none() {
                return Err(FetchError::UnexpectedNotModified);
            }
            // A 304 may omit validators; the old ones still describe what we hold.
            validators.etag = validators.etag.or_else(|| previous.etag.clone());
            validators.last_modified = validators
                .last_modified
                .or_else(|| previous.last_modified.clone());
            done.validators = validators;
            return Ok(done);
        }
        if !status.is_success() {
            let retry_at =
                header(RETRY_AFTER).and_then(|v| hints::retry_after(&v, now, self.config.max_hint));
            return Err(FetchError::HttpStatus {
                status: status.as_u16(),
                retry_at,
            });
        }
        // An honest length over the cap is refused before reading a byte of the body.
        if response.content_length().is_some_and(|len| len > cap) {
            return Err(FetchError::BodyTooLarge { limit: cap });
        }
        let mut body = BytesMut::new();
        // `chunk()` yields decompressed bytes, so the cap bounds what a gzip bomb inflates to.
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| classify(&e, self.config.deadline))?
        {
            if body.len() as u64 + chunk.len() as u64 > cap {
                return Err(FetchError::BodyTooLarge { limit: cap });
            }
            body.extend_from_slice(&chunk);
        }
        if body.is_empty() {
            return Err(FetchError::EmptyBody {
                status: status.as_u16(),
            });
        }
        let hash = hex(&Sha256::digest(&body));
        done.outcome = if previous.content_hash.as_deref() == Some(hash.as_str()) {
            Outcome::Unchanged
        } else {
            done.body = body.freeze();
            Outcome::Fresh
        };
        validators.content_hash = Some(hash);
        done.validators = validators;
        Ok(done)
    }

    fn check_target(&self, url: &Url) -> Result<(), FetchError> {
        self.policy.check_url(url)?;
        // IP literals never reach the resolver, so the dial filter is applied here for them.
        if let (Some(filter), Some(ip)) = (&self.dial_filter, literal_ip(url)) {
            let addr = SocketAddr::new(ip, url.port_or_known_default().unwrap_or(0));
            if !filter(addr) {
                return Err(FetchError::BlockedAddress {
                    target: addr.to_string(),
                    reason: "refused by the dial filter".to_owned(),
                });
            }
        }
        Ok(())
    }

    /// Defence in depth: the peer we actually talked to must pass the same rules.
    fn check_remote(&self, url: &Url, remote: Option<SocketAddr>) -> Result<(), FetchError> {
        let Some(remote) = remote else { return Ok(()) };
        let (Some(host), Some(port)) = (url.host(), url.port_or_known_default()) else {
            return Ok(());
        };
        let verdict = match &host {
            Host::Domain(name) => self.policy.check_resolved(name, remote.ip()),
            _ if self.policy.is_allowed(&host, port) => Ok(()),
            _ => self.policy.check_ip(remote.ip()),
        };
        verdict.map_err(|reason| FetchError::BlockedAddress {
            target: remote.to_string(),
            reason: reason.to_owned(),
        })
    }

    async fn check_robots(&self, url: &Url, now: DateTime<Utc>) -> Result<(), FetchError> {
        let key = origin(url);
        let cached = self.robots.lock().ok().and_then(|m| {
            m.get(&key)
                .filter(|e| e.expires > now)
                .map(|e| e.robot.clone())
        });
        let robot = match cached {
            Some(robot) => robot,
            None => {
                let robot = self.load_robots(url, now).await?;
                if let Ok(mut m) = self.robots.lock() {
                    m.insert(
                        key.clone(),
                        RobotsEntry {
                            expires: now + hints::delta(self.config.robots_ttl),
                            robot: robot.clone(),
                        },
                    );
                }
                robot
            }
        };
        match robot {
            Some(robot) if !robot.allowed(url.as_str()) => Err(FetchError::RobotsDisallowed {
                origin: key,
                path: url.path().to_owned(),
            }),
            _ => Ok(()),
        }
    }

    /// RFC 9309: a 4xx (or an empty file) means no restrictions; an unreachable robots.txt is
    /// the host being unreachable, reported as that error.
    async fn load_robots(
        &self,
        url: &Url,
        now: DateTime<Utc>,
    ) -> Result<Option<Arc<texting_robots::Robot>>, FetchError> {
        let mut robots_url = url.clone();
        robots_url.set_path("/robots.txt");
        robots_url.set_query(None);
        robots_url.set_fragment(None);
        let fetched = Box::pin(self.fetch_robots(&robots_url, now)).await;
        match fetched {
            Ok(body) => Ok(texting_robots::Robot::new(&self.config.robots_agent, &body)
                .ok()
                .map(Arc::new)),
            Err(FetchError::HttpStatus { status, .. }) if (400..500).contains(&status) => Ok(None),
            Err(FetchError::EmptyBody { .. }) => Ok(None),
            Err(FetchError::BodyTooLarge { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn fetch_robots(&self, url: &Url, now: DateTime<Utc>) -> Result<Bytes, FetchError> {
        let mut current = url.clone();
        for _ in 0..self.config.max_hops {
            self.check_target(&current)?;
            let response = self
                .client
                .get(current.clone())
                .send()
                .await
                .map_err(|e| classify(&e, self.config.deadline))?;
            self.check_remote(&current, response.remote_addr())?;
            if response.status().is_redirection() {
                current = redirect_target(&current, response.headers())?;
                continue;
            }
            let done = self
                .finish(
                    response,
                    current,
                    &Validators::default(),
                    now,
                    ROBOTS_MAX_BYTES,
                )
                .await?;
            return Ok(done.body);
        }
        Err(FetchError::TooManyRedirects {
            limit: self.config.max_hops,
        })
    }
}

fn add_validator(
    request: reqwest::RequestBuilder,
    name: http::header::HeaderName,
    value: Option<&str>,
) -> reqwest::RequestBuilder {
    match value.and_then(|v| HeaderValue::from_str(v).ok()) {
        Some(v) => request.header(name, v),
        None => request,
    }
}

fn redirect_target(current: &Url, headers: &HeaderMap) -> Result<Url, FetchError> {
    let location = headers
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| FetchError::BadUrl {
            url: current.to_string(),
            reason: "redirect without a readable location".to_owned(),
        })?;
    current.join(location).map_err(|e| FetchError::BadUrl {
        url: location.to_owned(),
        reason: e.to_string(),
    })
}

/// A redirect may not leave https for plain http (unless allowed): the feed would then travel
/// unprotected, and a man in the middle could feed us anything. Schemes and hosts of the
/// target are checked like any URL before the hop is requested.
pub fn check_hop(from: &Url, to: &Url, allow_downgrade: bool) -> Result<(), FetchError> {
    if from.scheme() == "https" && to.scheme() == "http" && !allow_downgrade {
        return Err(FetchError::RedirectDowngrade {
            location: to.to_string(),
        });
    }
    Ok(())
}

fn literal_ip(url: &Url) -> Option<std::net::IpAddr> {
    match url.host()? {
        Host::Ipv4(ip) => Some(ip.into()),
        Host::Ipv6(ip) => Some(ip.into()),
        Host::Domain(_) => None,
    }
}

/// `scheme://host:port`, the unit robots.txt and politeness apply to.
pub fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The error text with its causes, which reqwest keeps in `source()`.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Whether `e` is a rustls error, possibly inside (nested) io::Errors.
fn is_tls(mut e: &(dyn std::error::Error + 'static)) -> bool {
    loop {
        if e.is::<rustls::Error>() {
            return true;
        }
        match e
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
        {
            Some(inner) => e = inner,
            None => return false,
        }
    }
}

/// Map reqwest's error to ours, looking through the cause chain for our resolver's verdicts.
fn classify(e: &reqwest::Error, deadline: Duration) -> FetchError {
    if e.is_timeout() {
        return FetchError::Timeout(deadline);
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = e.source();
    while let Some(s) = source {
        if let Some(b) = s.downcast_ref::<BlockedByResolver>() {
            return FetchError::BlockedAddress {
                target: format!("{} ({})", b.host, b.ip),
                reason: b.reason.clone(),
            };
        }
        if let Some(r) = s.downcast_ref::<ResolveFailed>() {
            return FetchError::Dns {
                host: r.host.clone(),
                reason: r.reason.clone(),
            };
        }
        // rustls errors usually arrive inside an io::Error, whose `source()` skips them.
        if is_tls(s) {
            return FetchError::Tls(chain(e));
        }
        // The decompression layer reports body failures as decode errors wrapping the real
        // cause: a deadline or a connection that ended early, not bad compression.
        if let Some(inner) = s.downcast_ref::<reqwest::Error>() {
            if inner.is_timeout() {
                return FetchError::Timeout(deadline);
            }
            if inner.is_body() {
                return FetchError::TruncatedBody(chain(e));
            }
        }
        source = s.source();
    }
    if e.is_timeout() {
        return FetchError::Timeout(deadline);
    }
    if e.is_connect() {
        return FetchError::Connect(chain(e));
    }
    if e.is_decode() {
        let text = chain(e);
        tracing::debug!(error = %text, "decode error");
        return FetchError::Decode(text);
    }
    if e.is_body() {
        return FetchError::TruncatedBody(chain(e));
    }
    FetchError::Request(chain(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a10_https_to_http_redirects_are_refused_unless_allowed() {
        let from = Url::parse("https://a.example/feed").unwrap();
        let down = Url::parse("http://a.example/feed").unwrap();
        let up = Url::parse("https://b.example/feed").unwrap();
        assert_eq!(
            check_hop(&from, &down, false).unwrap_err().code(),
            "redirect_downgrade"
        );
        assert!(check_hop(&from, &down, true).is_ok());
        assert!(check_hop(&from, &up, false).is_ok());
        assert!(check_hop(&down, &from, false).is_ok(), "upgrades are fine");
    }
}
