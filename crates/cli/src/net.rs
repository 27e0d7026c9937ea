//! Subcommands that reach the network, always through `coalesce_crawl::Fetcher` (the SSRF
//! guard, limits and robots.txt apply to the command line exactly as to the crawler).

use std::sync::Arc;

use anyhow::{Context, Result};
use chrono::Utc;
use coalesce_crawl::{FetchConfig, Fetcher};

/// Network options shared by `parse URL` and `discover`.
#[derive(Debug, Clone, clap::Args)]
pub struct NetArgs {
    /// Allow this exact host:port even if it is loopback or private (tests, the demo).
    #[arg(long = "allow", value_name = "HOST:PORT")]
    pub allow: Vec<String>,
    /// Where operators of the sites we fetch can learn about us (sent in the User-Agent).
    #[arg(long, default_value = "https://github.com/coalesce/coalesce")]
    pub contact: String,
    /// Ignore robots.txt (for a one-off look at a page; the crawler always honours it).
    #[arg(long)]
    pub ignore_robots: bool,
}

impl NetArgs {
    pub fn fetcher(&self) -> Result<Arc<Fetcher>> {
        let mut config = FetchConfig::new(&self.contact);
        config.allow = self.allow.clone();
        config.respect_robots = !self.ignore_robots;
        Ok(Arc::new(
            Fetcher::new(config).context("cannot set up the http client")?,
        ))
    }
}

/// A URL argument: http(s) only, and through the same policy as registration.
pub fn is_url(s: &str) -> bool {
    let lower = s.get(..8).unwrap_or(s).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// What a fetch for `parse URL` gives the parser besides the bytes.
pub struct Fetched {
    pub bytes: Vec<u8>,
    pub final_url: url::Url,
    pub content_type: Option<String>,
}

pub fn fetch_once(net: &NetArgs, url: &str) -> Result<Fetched> {
    let url = url::Url::parse(url).with_context(|| format!("invalid url {url:?}"))?;
    let fetcher = net.fetcher()?;
    fetcher
        .check_url(&url)
        .with_context(|| format!("refusing to fetch {url}"))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let response = runtime
        .block_on(fetcher.get(&url, Utc::now()))
        .with_context(|| format!("cannot fetch {url}"))?;
    Ok(Fetched {
        bytes: response.body.to_vec(),
        final_url: response.final_url,
        content_type: response.content_type,
    })
}

#[derive(Debug, clap::Args)]
pub struct DiscoverArgs {
    /// A homepage (http or https).
    pub url: String,
    #[command(flatten)]
    pub net: NetArgs,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run_discover(args: DiscoverArgs) -> Result<std::process::ExitCode> {
    let page = fetch_once(&args.net, &args.url)?;
    let found = coalesce_crawl::discover(&page.bytes, &page.final_url);
    if args.json {
        println!("{}", serde_json::to_string(&found)?);
        return Ok(std::process::ExitCode::SUCCESS);
    }
    for link in &found.links {
        let title = link.title.as_deref().unwrap_or("");
        println!(
            "{:<10} {:<16} {} {title}",
            format!("{:?}", link.kind).to_lowercase(),
            link.via,
            link.url
        );
    }
    if let Some(platform) = found.platform {
        println!("calendar platform: {platform} (its own feed is listed first)");
    }
    println!(
        "{} feed or calendar link(s); schema.org events on the page: {}",
        found.links.len(),
        if found.schema_org_events { "yes" } else { "no" }
    );
    Ok(std::process::ExitCode::SUCCESS)
}
