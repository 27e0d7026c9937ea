//! What a response says about when to ask again: Cache-Control max-age, Expires, Retry-After.
//! Pure: the caller passes `now` and the cap.

use std::time::{Duration, SystemTime};

use chrono::{DateTime, TimeDelta, Utc};
use http::HeaderMap;
use http::header::{CACHE_CONTROL, EXPIRES};

/// `Retry-After` as seconds or an HTTP-date, turned into an instant no later than `now + cap`.
/// A date in the past means "now"; anything unreadable means no hint.
pub fn retry_after(value: &str, now: DateTime<Utc>, cap: Duration) -> Option<DateTime<Utc>> {
    let value = value.trim();
    let at = if let Ok(secs) = value.parse::<u64>() {
        now + delta(Duration::from_secs(secs.min(cap.as_secs())))
    } else {
        http_date(value)?
    };
    Some(clamp(at, now, cap))
}

/// How long the response may be considered fresh: `max-age` wins over `Expires`; `no-store` and
/// `no-cache` give no hint. The result is capped so a provider cannot push a feed away for a year.
pub fn fresh_until(
    headers: &HeaderMap,
    now: DateTime<Utc>,
    cap: Duration,
) -> Option<DateTime<Utc>> {
    for value in headers.get_all(CACHE_CONTROL) {
        let Ok(value) = value.to_str() else { continue };
        for directive in value.split(',') {
            let directive = directive.trim().to_ascii_lowercase();
            if directive == "no-store" || directive == "no-cache" {
                return None;
            }
            if let Some(secs) = directive.strip_prefix("max-age=") {
                let secs = secs.trim_matches('"').parse::<u64>().ok()?;
                return Some(clamp(
                    now + delta(Duration::from_secs(secs.min(cap.as_secs()))),
                    now,
                    cap,
                ));
            }
        }
    }
    let at = http_date(headers.get(EXPIRES)?.to_str().ok()?)?;
    (at > now).then(|| clamp(at, now, cap))
}

/// An RSS `<ttl>` (minutes) as a hint, for callers that have read it from the parsed feed.
pub fn ttl_until(minutes: u32, now: DateTime<Utc>, cap: Duration) -> DateTime<Utc> {
    clamp(
        now + delta(Duration::from_secs(u64::from(minutes) * 60)),
        now,
        cap,
    )
}

fn http_date(value: &str) -> Option<DateTime<Utc>> {
    let t: SystemTime = httpdate::parse_http_date(value).ok()?;
    Some(DateTime::<Utc>::from(t))
}

fn clamp(at: DateTime<Utc>, now: DateTime<Utc>, cap: Duration) -> DateTime<Utc> {
    at.max(now).min(now + delta(cap))
}

pub(crate) fn delta(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use http::HeaderValue;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap()
    }
    const DAY: Duration = Duration::from_secs(86_400);

    #[test]
    fn retry_after_reads_seconds_and_http_dates_and_is_capped() {
        assert_eq!(
            retry_after("120", now(), DAY),
            Some(now() + TimeDelta::seconds(120))
        );
        assert_eq!(
            retry_after("Sat, 21 Nov 2026 13:00:00 GMT", now(), DAY),
            Some(now() + TimeDelta::hours(1))
        );
        assert_eq!(
            retry_after("99999999999", now(), DAY),
            Some(now() + TimeDelta::days(1))
        );
        assert_eq!(
            retry_after("Fri, 20 Nov 2026 13:00:00 GMT", now(), DAY),
            Some(now()),
            "a date in the past means now"
        );
        assert_eq!(retry_after("soon", now(), DAY), None);
    }

    #[test]
    fn max_age_wins_over_expires_and_no_cache_gives_no_hint() {
        let mut h = HeaderMap::new();
        h.insert(
            EXPIRES,
            HeaderValue::from_static("Sat, 21 Nov 2026 18:00:00 GMT"),
        );
        assert_eq!(
            fresh_until(&h, now(), DAY),
            Some(now() + TimeDelta::hours(6))
        );
        h.insert(
            CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=600"),
        );
        assert_eq!(
            fresh_until(&h, now(), DAY),
            Some(now() + TimeDelta::minutes(10))
        );
        h.insert(CACHE_CONTROL, HeaderValue::from_static("max-age=31536000"));
        assert_eq!(
            fresh_until(&h, now(), DAY),
            Some(now() + TimeDelta::days(1))
        );
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        assert_eq!(fresh_until(&h, now(), DAY), None);
    }

    #[test]
    fn rss_ttl_is_minutes_and_capped() {
        assert_eq!(ttl_until(60, now(), DAY), now() + TimeDelta::hours(1));
        assert_eq!(ttl_until(100_000, now(), DAY), now() + TimeDelta::days(1));
    }
}
