//! When to fetch a source next, and what its health looks like. Pure: `now` is passed in, the
//! jitter is derived from the source id (same id, same spread; different ids, different phases),
//! nothing here sleeps or touches the network.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::error::FetchError;
use crate::hints::delta;

/// Validated scheduling settings.
#[derive(Debug, Clone)]
pub struct ScheduleSpec {
    /// The normal time between two fetches of one source.
    pub interval: Duration,
    /// Spread of the interval, as a fraction (0.1 = ±10 %), so sources added together drift apart.
    pub jitter: f64,
    /// Never poll more often than this, whatever Cache-Control or `ttl` say.
    pub min_interval: Duration,
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    /// Consecutive failures after which a source is paused until someone resumes it.
    pub pause_after: u32,
    /// How many fetches in a row must see the same permanent redirect before it is applied.
    pub redirect_confirmations: u32,
}

impl Default for ScheduleSpec {
    fn default() -> ScheduleSpec {
        ScheduleSpec {
            interval: Duration::from_secs(3600),
            jitter: 0.1,
            min_interval: Duration::from_secs(15 * 60),
            backoff_base: Duration::from_secs(5 * 60),
            backoff_cap: Duration::from_secs(24 * 3600),
            pause_after: 10,
            redirect_confirmations: 3,
        }
    }
}

/// What we observed about one source: plain data, stored and shown as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceStatus {
    pub last_attempt: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    pub consecutive_failures: u32,
    pub last_error_code: Option<String>,
    pub last_error_message: Option<String>,
    pub http_status: Option<u16>,
    pub next_due: Option<DateTime<Utc>>,
    /// Set after `pause_after` failures; only [`SourceStatus::resume`] clears it.
    pub paused: bool,
    /// A permanent redirect seen on the latest fetches, and how many fetches in a row saw it.
    pub redirect_to: Option<String>,
    pub redirect_seen: u32,
}

/// One failed fetch, from whichever layer failed.
#[derive(Debug, Clone)]
pub struct Failure<'a> {
    pub code: &'a str,
    pub message: String,
    pub http_status: Option<u16>,
    /// The server's own "not before", already capped.
    pub retry_at: Option<DateTime<Utc>>,
}

/// What the caller must do after recording a fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    None,
    /// The permanent redirect repeated often enough: store this as the source URL.
    MoveTo(Url),
    /// The source has just been paused.
    Paused,
}

impl SourceStatus {
    /// Whether the source should be fetched at `now`.
    pub fn is_due(&self, now: DateTime<Utc>) -> bool {
        !self.paused && self.next_due.is_none_or(|due| due <= now)
    }

    /// A fetch succeeded (200, 304 or unchanged). `fresh_until` is the server's own hint
    /// (Cache-Control, Expires, RSS ttl), already capped.
    pub fn record_success(
        &mut self,
        spec: &ScheduleSpec,
        source_id: &str,
        now: DateTime<Utc>,
        http_status: u16,
        fresh_until: Option<DateTime<Utc>>,
        permanent_redirect: Option<&Url>,
    ) -> Change {
        self.last_attempt = Some(now);
        self.last_success = Some(now);
        self.consecutive_failures = 0;
        self.last_error_code = None;
        self.last_error_message = None;
        self.http_status = Some(http_status);
        self.next_due = Some(next_after_success(spec, source_id, now, fresh_until));
        self.track_redirect(spec, permanent_redirect)
    }

    /// A fetch failed. Offerings are not touched by this (a failure never removes anything).
    pub fn record_failure(
        &mut self,
        spec: &ScheduleSpec,
        source_id: &str,
        now: DateTime<Utc>,
        error: &FetchError,
    ) -> Change {
        self.record_failure_code(
            spec,
            source_id,
            now,
            Failure {
                code: error.code(),
                message: error.to_string(),
                http_status: error.status(),
                retry_at: error.retry_at(),
            },
        )
    }

    /// A failure that is not a [`FetchError`] (the document could not be parsed), counted and
    /// backed off exactly like one.
    pub fn record_failure_code(
        &mut self,
        spec: &ScheduleSpec,
        source_id: &str,
        now: DateTime<Utc>,
        failure: Failure<'_>,
    ) -> Change {
        self.last_attempt = Some(now);
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        self.last_error_code = Some(failure.code.to_owned());
        self.last_error_message = Some(failure.message);
        self.http_status = failure.http_status;
        self.next_due = Some(backoff(
            spec,
            source_id,
            self.consecutive_failures,
            now,
            failure.retry_at,
        ));
        if !self.paused && self.consecutive_failures >= spec.pause_after {
            self.paused = true;
            return Change::Paused;
        }
        Change::None
    }

    /// Lift a pause (by a provider or an operator): due at once, failures forgiven so the
    /// next failure backs off from the start instead of pausing again immediately.
    pub fn resume(&mut self, now: DateTime<Utc>) {
        self.paused = false;
        self.consecutive_failures = 0;
        self.next_due = Some(now);
    }

    fn track_redirect(&mut self, spec: &ScheduleSpec, target: Option<&Url>) -> Change {
        let Some(target) = target else {
            self.redirect_to = None;
            self.redirect_seen = 0;
            return Change::None;
        };
        if self.redirect_to.as_deref() == Some(target.as_str()) {
            self.redirect_seen += 1;
        } else {
            self.redirect_to = Some(target.to_string());
            self.redirect_seen = 1;
        }
        if self.redirect_seen >= spec.redirect_confirmations {
            self.redirect_to = None;
            self.redirect_seen = 0;
            return Change::MoveTo(target.clone());
        }
        Change::None
    }
}

/// Next due time after a success: the interval with jitter, later if the server asked, never
/// sooner than the minimum interval.
pub fn next_after_success(
    spec: &ScheduleSpec,
    source_id: &str,
    now: DateTime<Utc>,
    fresh_until: Option<DateTime<Utc>>,
) -> DateTime<Utc> {
    let base = jittered(spec.interval, spec.jitter, seed(source_id, 0));
    let due = now + delta(base.max(spec.min_interval));
    match fresh_until {
        Some(hint) => due.max(hint),
        None => due,
    }
}

/// Next due time after the `failures`-th consecutive failure: base × 2^(n-1), capped, jittered
/// (±10 % seeded by the source id and n), or the server's Retry-After if that is later.
pub fn backoff(
    spec: &ScheduleSpec,
    source_id: &str,
    failures: u32,
    now: DateTime<Utc>,
    retry_at: Option<DateTime<Utc>>,
) -> DateTime<Utc> {
    let exp = failures.saturating_sub(1).min(31);
    let raw = spec
        .backoff_base
        .checked_mul(1u32 << exp)
        .unwrap_or(spec.backoff_cap)
        .min(spec.backoff_cap);
    let wait = jittered(raw, 0.1, seed(source_id, failures)).min(spec.backoff_cap);
    let due = now + delta(wait);
    match retry_at {
        Some(at) => due.max(at),
        None => due,
    }
}

/// `d` scaled by a factor in [1 - spread, 1 + spread] drawn from `seed`.
pub fn jittered(d: Duration, spread: f64, seed: u64) -> Duration {
    // 53 bits of the seed as a uniform number in [0, 1).
    let unit = (seed >> 11) as f64 / (1u64 << 53) as f64;
    let factor = 1.0 + spread.clamp(0.0, 1.0) * (2.0 * unit - 1.0);
    d.mul_f64(factor)
}

/// A stable 64-bit seed from a source id and a salt (FNV-1a, then a splitmix finaliser):
/// stable across processes and Rust versions, unlike `DefaultHasher`.
pub fn seed(source_id: &str, salt: u32) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in source_id.bytes().chain(salt.to_le_bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeDelta, TimeZone};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap()
    }

    fn fail(status: u16, retry_at: Option<DateTime<Utc>>) -> FetchError {
        FetchError::HttpStatus { status, retry_at }
    }

    #[test]
    fn jitter_is_stable_per_source_and_spreads_sources_apart() {
        let spec = ScheduleSpec::default();
        let a1 = next_after_success(&spec, "a", now(), None);
        let a2 = next_after_success(&spec, "a", now(), None);
        assert_eq!(a1, a2);
        let dues: std::collections::HashSet<_> = (0..50)
            .map(|i| next_after_success(&spec, &i.to_string(), now(), None))
            .collect();
        assert!(dues.len() > 40, "sources spread out");
        for d in dues {
            assert!(d >= now() + TimeDelta::minutes(54) && d <= now() + TimeDelta::minutes(66));
        }
    }

    #[test]
    fn server_hints_delay_but_never_hasten_the_next_fetch() {
        let spec = ScheduleSpec::default();
        let later = now() + TimeDelta::hours(5);
        assert_eq!(next_after_success(&spec, "a", now(), Some(later)), later);
        let sooner = now() + TimeDelta::minutes(1);
        assert!(
            next_after_success(&spec, "a", now(), Some(sooner)) > now() + TimeDelta::minutes(50)
        );
    }

    #[test]
    fn backoff_doubles_is_capped_at_a_day_and_yields_to_a_later_retry_after() {
        let spec = ScheduleSpec::default();
        let wait = |n| (backoff(&spec, "s", n, now(), None) - now()).num_seconds();
        for (n, base) in [(1, 300), (2, 600), (3, 1200), (4, 2400)] {
            let w = wait(n);
            assert!(w >= base * 9 / 10 && w <= base * 11 / 10, "n={n} w={w}");
        }
        assert!(wait(20) <= 86_400 && wait(20) >= 86_400 * 9 / 10);
        assert!(wait(1000) <= 86_400);
        let retry = now() + TimeDelta::hours(3);
        assert_eq!(backoff(&spec, "s", 1, now(), Some(retry)), retry);
        assert!(
            backoff(&spec, "s", 12, now(), Some(now() + TimeDelta::seconds(5)))
                > now() + TimeDelta::hours(20)
        );
    }

    #[test]
    fn e1_a_failure_counts_sets_the_error_and_a_success_resets_it() {
        let spec = ScheduleSpec::default();
        let mut s = SourceStatus::default();
        assert!(s.is_due(now()));
        s.record_failure(
            &spec,
            "s",
            now(),
            &fail(503, Some(now() + TimeDelta::seconds(120))),
        );
        assert_eq!(s.consecutive_failures, 1);
        assert_eq!(s.last_error_code.as_deref(), Some("http_status"));
        assert_eq!(s.http_status, Some(503));
        assert!(s.next_due.unwrap() >= now() + TimeDelta::seconds(270));
        assert!(!s.is_due(now()));
        s.record_success(&spec, "s", now(), 200, None, None);
        assert_eq!(s.consecutive_failures, 0);
        assert_eq!(s.last_error_code, None);
        assert_eq!(s.last_success, Some(now()));
    }

    #[test]
    fn e2_ten_failures_pause_visibly_until_resumed() {
        let spec = ScheduleSpec::default();
        let mut s = SourceStatus::default();
        let mut t = now();
        for i in 1..=10 {
            let change = s.record_failure(&spec, "s", t, &fail(500, None));
            assert_eq!(change == Change::Paused, i == 10, "failure {i}");
            t = s.next_due.unwrap();
        }
        assert!(s.paused);
        assert!(
            !s.is_due(t + TimeDelta::days(365)),
            "paused is not due, ever"
        );
        assert_eq!(s.last_error_code.as_deref(), Some("http_status"));
        s.resume(t);
        assert!(s.is_due(t));
        assert_eq!(s.consecutive_failures, 0);
    }

    #[test]
    fn a_permanent_redirect_applies_only_after_it_repeats() {
        let spec = ScheduleSpec::default();
        let mut s = SourceStatus::default();
        let to = Url::parse("https://new.example/feed").unwrap();
        let other = Url::parse("https://other.example/feed").unwrap();
        assert_eq!(
            s.record_success(&spec, "s", now(), 200, None, Some(&to)),
            Change::None
        );
        assert_eq!(
            s.record_success(&spec, "s", now(), 200, None, Some(&to)),
            Change::None
        );
        assert_eq!(s.redirect_seen, 2);
        // A different target, or none, starts over: only a stable move is applied.
        assert_eq!(
            s.record_success(&spec, "s", now(), 200, None, Some(&other)),
            Change::None
        );
        assert_eq!(s.redirect_seen, 1);
        assert_eq!(
            s.record_success(&spec, "s", now(), 200, None, None),
            Change::None
        );
        assert_eq!(s.redirect_to, None);
        for _ in 0..2 {
            s.record_success(&spec, "s", now(), 200, None, Some(&to));
        }
        assert_eq!(
            s.record_success(&spec, "s", now(), 200, None, Some(&to)),
            Change::MoveTo(to)
        );
    }
}
