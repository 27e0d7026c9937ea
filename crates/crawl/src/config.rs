//! The `[crawl]` section of the config file: raw [`CrawlConfig`] (serde, unknown keys refused),
//! checked once into [`CrawlSpec`]. `coalesce serve` and `coalesce crawl` read the same
//! section of the same file with the same struct.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::fetch::FetchConfig;
use crate::policy::AddressPolicy;
use crate::schedule::ScheduleSpec;

/// The crawl settings as written. Every field has a default, so an absent section is valid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CrawlConfig {
    /// Where operators of the sites we fetch learn who we are; sent in the User-Agent.
    pub contact_url: String,
    /// Requests in flight at once, over all hosts.
    pub concurrency: usize,
    /// Minimum pause between two requests to one host (robots.txt crawl-delay wins if longer).
    pub per_host_delay_ms: u64,
    pub connect_timeout_secs: u64,
    /// For a whole fetch: robots.txt, every redirect and the body.
    pub timeout_secs: u64,
    /// Decompressed body cap.
    pub max_body_bytes: u64,
    /// Exact `host:port` entries allowed although loopback or private (tests, the demo).
    /// Empty by default: nothing local is ever fetched unless listed here.
    pub allow: Vec<String>,
    pub respect_robots: bool,
    /// Normal time between two fetches of one source.
    pub interval_minutes: u64,
    /// Never fetch one source more often than this, whatever the server's hints say.
    pub min_interval_minutes: u64,
    /// Consecutive failures after which a source is paused until resumed.
    pub pause_after: u32,
    /// Fetches in a row that must see the same permanent redirect before the URL changes.
    pub redirect_confirmations: u32,
    /// Most sources one run picks up.
    pub max_sources_per_run: u32,
    /// How often `serve` looks for due sources (a provider's refresh wakes it at once).
    pub tick_secs: u64,
}

impl Default for CrawlConfig {
    fn default() -> CrawlConfig {
        let fetch = FetchConfig::new(DEFAULT_CONTACT);
        let schedule = ScheduleSpec::default();
        CrawlConfig {
            contact_url: DEFAULT_CONTACT.to_owned(),
            concurrency: 8,
            per_host_delay_ms: 1000,
            connect_timeout_secs: fetch.connect_timeout.as_secs(),
            timeout_secs: fetch.deadline.as_secs(),
            max_body_bytes: fetch.max_body_bytes,
            allow: Vec::new(),
            respect_robots: true,
            interval_minutes: schedule.interval.as_secs() / 60,
            min_interval_minutes: schedule.min_interval.as_secs() / 60,
            pause_after: schedule.pause_after,
            redirect_confirmations: schedule.redirect_confirmations,
            max_sources_per_run: 10_000,
            tick_secs: 5,
        }
    }
}

const DEFAULT_CONTACT: &str = "https://github.com/coalesce/coalesce";

/// Validated crawl settings: what the runner uses.
#[derive(Debug, Clone)]
pub struct CrawlSpec {
    pub fetch: FetchConfig,
    pub concurrency: usize,
    pub per_host_delay: Duration,
    pub schedule: ScheduleSpec,
    pub max_sources_per_run: u32,
    pub tick: Duration,
}

/// A crawl setting that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("invalid crawl config: {field}: {reason}")]
pub struct ConfigError {
    pub field: &'static str,
    pub reason: String,
}

impl ConfigError {
    pub fn code(&self) -> &'static str {
        "invalid_crawl_config"
    }
}

fn bad(field: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        field,
        reason: reason.into(),
    }
}

impl CrawlConfig {
    /// Checks every field once; after this nothing re-reads or re-checks the settings.
    pub fn validate(&self) -> Result<CrawlSpec, ConfigError> {
        let contact = Url::parse(&self.contact_url)
            .map_err(|e| bad("contact_url", format!("expected an absolute url: {e}")))?;
        if !matches!(contact.scheme(), "http" | "https" | "mailto") {
            return Err(bad(
                "contact_url",
                format!("expected http, https or mailto, got {}", contact.scheme()),
            ));
        }
        if self.concurrency == 0 || self.concurrency > 1024 {
            return Err(bad(
                "concurrency",
                format!("expected 1 to 1024, got {}", self.concurrency),
            ));
        }
        if self.timeout_secs == 0 || self.timeout_secs > 600 {
            return Err(bad(
                "timeout_secs",
                format!("expected 1 to 600, got {}", self.timeout_secs),
            ));
        }
        if self.connect_timeout_secs == 0 || self.connect_timeout_secs > self.timeout_secs {
            return Err(bad(
                "connect_timeout_secs",
                format!(
                    "expected 1 to timeout_secs ({}), got {}",
                    self.timeout_secs, self.connect_timeout_secs
                ),
            ));
        }
        if self.max_body_bytes < 1024 {
            return Err(bad(
                "max_body_bytes",
                format!("expected at least 1024, got {}", self.max_body_bytes),
            ));
        }
        if self.interval_minutes == 0 {
            return Err(bad("interval_minutes", "expected at least 1"));
        }
        if self.min_interval_minutes > self.interval_minutes {
            return Err(bad(
                "min_interval_minutes",
                format!(
                    "expected at most interval_minutes ({}), got {}",
                    self.interval_minutes, self.min_interval_minutes
                ),
            ));
        }
        if self.tick_secs == 0 || self.tick_secs > 3600 {
            return Err(bad(
                "tick_secs",
                format!("expected 1 to 3600, got {}", self.tick_secs),
            ));
        }
        if self.pause_after == 0 {
            return Err(bad("pause_after", "expected at least 1"));
        }
        if self.redirect_confirmations == 0 {
            return Err(bad("redirect_confirmations", "expected at least 1"));
        }
        // The allow-list's own parser says what is wrong with an entry.
        AddressPolicy::new(&self.allow).map_err(|e| bad("allow", e.to_string()))?;

        let mut fetch = FetchConfig::new(contact.as_str());
        fetch.connect_timeout = Duration::from_secs(self.connect_timeout_secs);
        fetch.deadline = Duration::from_secs(self.timeout_secs);
        fetch.max_body_bytes = self.max_body_bytes;
        fetch.allow = self.allow.clone();
        fetch.respect_robots = self.respect_robots;
        let schedule = ScheduleSpec {
            interval: Duration::from_secs(self.interval_minutes * 60),
            min_interval: Duration::from_secs(self.min_interval_minutes * 60),
            pause_after: self.pause_after,
            redirect_confirmations: self.redirect_confirmations,
            ..ScheduleSpec::default()
        };
        Ok(CrawlSpec {
            fetch,
            concurrency: self.concurrency,
            per_host_delay: Duration::from_millis(self.per_host_delay_ms),
            schedule,
            max_sources_per_run: self.max_sources_per_run.max(1),
            tick: Duration::from_secs(self.tick_secs),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate_and_allow_nothing_local() {
        let spec = CrawlConfig::default().validate().unwrap();
        assert!(spec.fetch.allow.is_empty());
        assert_eq!(spec.schedule.pause_after, 10);
        assert!(spec.fetch.user_agent.contains(DEFAULT_CONTACT));
    }

    #[test]
    fn bad_values_name_the_field() {
        let cases: [(&str, CrawlConfig); 4] = [
            (
                "concurrency",
                CrawlConfig {
                    concurrency: 0,
                    ..CrawlConfig::default()
                },
            ),
            (
                "contact_url",
                CrawlConfig {
                    contact_url: "not a url".into(),
                    ..CrawlConfig::default()
                },
            ),
            (
                "connect_timeout_secs",
                CrawlConfig {
                    connect_timeout_secs: 99,
                    timeout_secs: 5,
                    ..CrawlConfig::default()
                },
            ),
            (
                "allow",
                CrawlConfig {
                    allow: vec!["no port".into()],
                    ..CrawlConfig::default()
                },
            ),
        ];
        for (field, config) in cases {
            let err = config.validate().unwrap_err();
            assert_eq!(err.field, field, "{err}");
        }
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = serde_json::from_str::<CrawlConfig>(r#"{"concurency": 4}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{err}");
    }
}
