//! The service configuration: raw TOML + `COALESCE_*` environment (figment) with unknown keys
//! rejected, validated once at start into a [`ServeSpec`]. Nothing after start-up reads the
//! environment or re-checks a setting.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub admin_token: Option<String>,
    /// When set, `/metrics` needs `Authorization: Bearer <metrics_token>`
    /// (COALESCE_METRICS_TOKEN).
    pub metrics_token: Option<String>,
    pub server: ServerConfig,
    pub data: DataConfig,
    pub index: IndexSettings,
    pub limits: LimitsConfig,
    /// The same `[crawl]` section `coalesce crawl` reads.
    pub crawl: coalesce_crawl::CrawlConfig,
    pub log: LogConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub listen: String,
    /// The URL clients reach the service at (links in feeds, subscription URLs); defaults to
    /// `http://<listen>`.
    pub public_url: Option<String>,
    /// The host name calendar UIDs are built from: never the request's Host header, or every
    /// event would be re-keyed when the service is reached under another name.
    pub uid_domain: String,
    pub header_read_timeout_secs: u64,
    /// Connections served at once; 0 sizes it to the open-file limit (at most 10,000).
    pub max_connections: usize,
    /// Connections one client address (IPv6: /64) may hold at once.
    pub max_connections_per_address: usize,
    /// The header deadline of connections accepted while three quarters of the slots are
    /// taken: the idle and the slow are shed first.
    pub pressured_header_timeout_secs: u64,
    pub shutdown_grace_secs: u64,
    pub trusted_proxies: Vec<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: "127.0.0.1:8080".into(),
            public_url: None,
            uid_domain: "coalesce.invalid".into(),
            header_read_timeout_secs: 10,
            max_connections: 0,
            max_connections_per_address: 64,
            pressured_header_timeout_secs: 2,
            shutdown_grace_secs: 10,
            trusted_proxies: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DataConfig {
    pub dir: PathBuf,
}

impl Default for DataConfig {
    fn default() -> Self {
        DataConfig { dir: "data".into() }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IndexSettings {
    /// How often the search index catches up with the store's change log.
    pub sync_interval_ms: u64,
    /// Threads one search may use (0: two per core, at most eight).
    pub search_threads: usize,
}

impl Default for IndexSettings {
    fn default() -> Self {
        IndexSettings {
            sync_interval_ms: 2000,
            search_threads: 0,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    pub requests_per_minute: u32,
    pub burst: u32,
    pub body_limit_bytes: usize,
    pub max_batch: usize,
    pub max_url_len: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            requests_per_minute: 600,
            burst: 100,
            body_limit_bytes: 64 * 1024,
            max_batch: 50,
            max_url_len: 2048,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    pub format: String,
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: "text".into(),
            level: "info".into(),
        }
    }
}

/// Validated settings: what `serve` runs on.
#[derive(Debug, Clone)]
pub struct ServeSpec {
    pub admin_token: Option<String>,
    pub metrics_token: Option<String>,
    pub listen: SocketAddr,
    pub public_url: Option<String>,
    pub uid_domain: String,
    pub header_read_timeout: Duration,
    pub connections: crate::admit::Limits,
    pub shutdown_grace: Duration,
    pub trusted_proxies: Vec<IpAddr>,
    pub data_dir: PathBuf,
    pub index_sync: Duration,
    pub search_threads: usize,
    pub per_minute: NonZeroU32,
    pub burst: NonZeroU32,
    pub body_limit: usize,
    pub max_batch: usize,
    pub max_url_len: usize,
    pub crawl: coalesce_crawl::CrawlSpec,
    pub log_json: bool,
    pub log_level: String,
}

fn search_threads(n: usize) -> Result<usize> {
    match n {
        0 => Ok(coalesce_index::default_search_threads()),
        1..=64 => Ok(n),
        _ => bail!("index.search_threads: expected 0 (two per core) to 64, got {n}"),
    }
}

fn index_sync(ms: u64) -> Result<Duration> {
    if !(50..=600_000).contains(&ms) {
        bail!("index.sync_interval_ms: expected 50..=600000 milliseconds, got {ms}");
    }
    Ok(Duration::from_millis(ms))
}

/// Defaults, then the file (when given), then `COALESCE_*` variables.
pub fn load(path: Option<&Path>) -> Result<Config> {
    let mut fig = Figment::from(Serialized::defaults(Config::default()));
    if let Some(p) = path {
        if !p.exists() {
            bail!("config file {} does not exist", p.display());
        }
        fig = fig.merge(Toml::file(p));
    }
    // COALESCE_CONFIG names the file itself (a command-line default), not a setting.
    fig = fig.merge(Env::prefixed("COALESCE_").ignore(&["config"]).split("__"));
    fig.extract::<Config>().map_err(|e| {
        // figment's message names the key and where it came from; keep every error.
        let all: Vec<String> = e.into_iter().map(|e| e.to_string()).collect();
        anyhow::anyhow!("invalid configuration: {}", all.join("; "))
    })
}

impl Config {
    pub fn validate(self) -> Result<ServeSpec> {
        let listen: SocketAddr = self.server.listen.parse().with_context(|| {
            format!(
                "server.listen: expected ADDRESS:PORT such as 127.0.0.1:8080, got {:?}",
                self.server.listen
            )
        })?;
        let trusted_proxies = self
            .server
            .trusted_proxies
            .iter()
            .map(|p| {
                p.parse::<IpAddr>().with_context(|| {
                    format!("server.trusted_proxies: expected an ip address, got {p:?}")
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let secs = |name: &str, v: u64, min: u64, max: u64| -> Result<Duration> {
            if v < min || v > max {
                bail!("{name}: expected {min}..={max} seconds, got {v}");
            }
            Ok(Duration::from_secs(v))
        };
        let nonzero = |name: &str, v: u32| {
            NonZeroU32::new(v).with_context(|| format!("{name}: must be at least 1"))
        };
        let (cap, hard_cap) = crate::admit::connection_caps(self.server.max_connections);
        if self.server.max_connections_per_address == 0 {
            bail!("server.max_connections_per_address: must be at least 1");
        }
        if self.limits.body_limit_bytes < 1024 {
            bail!(
                "limits.body_limit_bytes: expected at least 1024, got {}",
                self.limits.body_limit_bytes
            );
        }
        if self.limits.max_batch == 0 {
            bail!("limits.max_batch must be at least 1");
        }
        let crawl = self.crawl.validate()?;
        let log_json = match self.log.format.as_str() {
            "text" => false,
            "json" => true,
            other => bail!("log.format: expected \"text\" or \"json\", got {other:?}"),
        };
        // An empty variable (compose passes one through when unset) means "not given".
        let admin_token = self.admin_token.filter(|t| !t.is_empty());
        let metrics_token = self.metrics_token.filter(|t| !t.is_empty());
        if metrics_token.as_ref().is_some_and(|t| t.len() < 16) {
            bail!("metrics_token (COALESCE_METRICS_TOKEN): must be at least 16 characters");
        }
        if let Some(t) = &admin_token
            && t.len() < 16
        {
            bail!("admin_token (COALESCE_ADMIN_TOKEN): must be at least 16 characters");
        }
        if let Some(u) = &self.server.public_url
            && !(u.starts_with("http://") || u.starts_with("https://"))
        {
            bail!("server.public_url: expected an http(s) URL, got {u:?}");
        }
        // Feed links, calendar URLs and subscriptions are built from it: reachable from other
        // machines, the default (http://<listen>) would hand out http://0.0.0.0:8080/... links.
        if self.server.public_url.is_none() && !listen.ip().is_loopback() {
            bail!(
                "server.public_url (COALESCE_SERVER__PUBLIC_URL): required when server.listen \
                 ({listen}) is reachable from other machines; set it to the URL clients use, \
                 such as https://events.example.org"
            );
        }
        if self.server.uid_domain.trim().is_empty()
            || self.server.uid_domain.contains(['/', ' ', '@'])
        {
            bail!(
                "server.uid_domain: expected a host name such as events.example.org, got {:?}",
                self.server.uid_domain
            );
        }
        Ok(ServeSpec {
            public_url: self.server.public_url.clone(),
            uid_domain: self.server.uid_domain.clone(),
            admin_token,
            metrics_token,
            listen,
            header_read_timeout: secs(
                "server.header_read_timeout_secs",
                self.server.header_read_timeout_secs,
                1,
                300,
            )?,
            connections: crate::admit::Limits {
                cap,
                hard_cap,
                per_address: self.server.max_connections_per_address,
                pressured_header_timeout: secs(
                    "server.pressured_header_timeout_secs",
                    self.server.pressured_header_timeout_secs,
                    1,
                    300,
                )?,
            },
            shutdown_grace: secs(
                "server.shutdown_grace_secs",
                self.server.shutdown_grace_secs,
                0,
                600,
            )?,
            trusted_proxies,
            data_dir: self.data.dir,
            index_sync: index_sync(self.index.sync_interval_ms)?,
            search_threads: search_threads(self.index.search_threads)?,
            per_minute: nonzero(
                "limits.requests_per_minute",
                self.limits.requests_per_minute,
            )?,
            burst: nonzero("limits.burst", self.limits.burst)?,
            body_limit: self.limits.body_limit_bytes,
            max_batch: self.limits.max_batch,
            max_url_len: self.limits.max_url_len,
            crawl,
            log_json,
            log_level: self.log.level,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_config_file_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/coalesce.toml");
        let spec = load(Some(&path)).unwrap().validate().unwrap();
        assert_eq!(spec.body_limit, 65536);
        // Its [crawl] section is the crawler's own: what it says reaches the runner.
        assert_eq!(spec.crawl.per_host_delay, Duration::from_millis(1000));
        assert_eq!(spec.crawl.tick, Duration::from_secs(5));
        assert_eq!(spec.crawl.schedule.interval, Duration::from_secs(3600));
        assert_eq!(spec.crawl.fetch.deadline, Duration::from_secs(30));
    }

    #[test]
    fn listening_beyond_loopback_needs_the_public_url() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(&p, "[server]\nlisten = \"0.0.0.0:8080\"\n").unwrap();
        let err = load(Some(&p)).unwrap().validate().unwrap_err().to_string();
        assert!(err.contains("server.public_url"), "{err}");
        std::fs::write(
            &p,
            "[server]\nlisten = \"0.0.0.0:8080\"\npublic_url = \"https://events.example.org\"\n",
        )
        .unwrap();
        let spec = load(Some(&p)).unwrap().validate().unwrap();
        assert_eq!(
            spec.public_url.as_deref(),
            Some("https://events.example.org")
        );
        std::fs::write(&p, "[server]\nlisten = \"[::1]:8080\"\n").unwrap();
        assert!(
            load(Some(&p)).unwrap().validate().is_ok(),
            "loopback needs none"
        );
    }

    #[test]
    fn crawl_settings_serve_could_not_set_before_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(
            &p,
            "[crawl]\ncontact_url = \"mailto:ops@example.org\"\nper_host_delay_ms = 250\ntimeout_secs = 12\n",
        )
        .unwrap();
        let spec = load(Some(&p)).unwrap().validate().unwrap();
        assert_eq!(spec.crawl.per_host_delay, Duration::from_millis(250));
        assert_eq!(spec.crawl.fetch.deadline, Duration::from_secs(12));
        assert!(
            spec.crawl
                .fetch
                .user_agent
                .contains("mailto:ops@example.org")
        );
    }

    #[test]
    fn unknown_keys_are_rejected_with_their_name() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(&p, "[server]\nlisten = \"127.0.0.1:1\"\nlisten_port = 3\n").unwrap();
        let err = load(Some(&p)).unwrap_err().to_string();
        assert!(err.contains("listen_port"), "{err}");
    }

    #[test]
    fn index_sync_interval_is_bounded_with_a_clear_message() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(&p, "[index]\nsync_interval_ms = 5\n").unwrap();
        let err = load(Some(&p)).unwrap().validate().unwrap_err().to_string();
        assert!(err.contains("index.sync_interval_ms"), "{err}");
        std::fs::write(&p, "[index]\nsync_interval_ms = 3000\n").unwrap();
        let spec = load(Some(&p)).unwrap().validate().unwrap();
        assert_eq!(spec.index_sync, Duration::from_millis(3000));
    }

    #[test]
    fn search_threads_default_to_the_cores_and_are_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(&p, "[index]\nsearch_threads = 65\n").unwrap();
        let err = load(Some(&p)).unwrap().validate().unwrap_err().to_string();
        assert!(err.contains("index.search_threads"), "{err}");
        std::fs::write(&p, "[index]\nsearch_threads = 1\n").unwrap();
        assert_eq!(
            load(Some(&p)).unwrap().validate().unwrap().search_threads,
            1
        );
        std::fs::write(&p, "[index]\n").unwrap();
        let n = load(Some(&p)).unwrap().validate().unwrap().search_threads;
        assert!((1..=8).contains(&n), "{n}");
    }
}
