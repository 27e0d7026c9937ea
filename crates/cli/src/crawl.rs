//! `coalesce crawl` and `coalesce sources add|list|resume`: thin adapters over
//! `coalesce_crawl::Crawler` and the store. The crawl settings are the `[crawl]` section of the
//! config file, validated once by `CrawlConfig::validate`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use chrono::Utc;
use coalesce_crawl::{
    CancellationToken, CrawlSpec, CrawlSummary, Crawler, Fetcher, Progress, Selection,
};
use coalesce_store::{NewSource, SourceId};
use indicatif::{ProgressBar, ProgressStyle};

use crate::catalog::{DataDirArg, open_dir, open_existing, runtime};
use crate::{KindArg, parse_instant};

#[derive(Debug, clap::Args)]
pub struct ConfigArg {
    /// The configuration file `serve` reads; its `[crawl]` section sets the crawler
    /// (contact_url, concurrency, per_host_delay_ms, timeout_secs, max_body_bytes, allow, ...)
    /// and `[data] dir` the data folder. `COALESCE_*` variables override it, as for `serve`.
    #[arg(long, env = "COALESCE_CONFIG")]
    config: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct CrawlArgs {
    #[command(flatten)]
    config: ConfigArg,
    #[command(flatten)]
    data: DataDirArg,
    /// Fetch every enabled, unpaused source once, due or not.
    #[arg(long, conflicts_with = "source")]
    once: bool,
    /// Fetch only this source (an id from `coalesce sources list`), due or not.
    #[arg(long)]
    source: Option<i64>,
    /// Print the summary as one JSON object on stdout.
    #[arg(long)]
    json: bool,
    /// Pretend the crawl happens at this instant (YYYY-MM-DD or RFC 3339); for tests.
    #[arg(long, hide = true)]
    now: Option<String>,
}

#[derive(Debug, clap::Subcommand)]
pub enum SourcesCommand {
    /// Register a feed, calendar or page URL for a provider. The URL must pass the crawler's
    /// address policy (no loopback, private, link-local or metadata addresses).
    Add(AddArgs),
    /// List the sources with their fetch status.
    List(ListArgs),
    /// Lift a pause after repeated failures: the source is due at once, failures forgiven.
    Resume(ResumeArgs),
}

#[derive(Debug, clap::Args)]
pub struct AddArgs {
    url: String,
    /// The provider (created if new).
    #[arg(long)]
    provider: String,
    /// The source's name within the provider; the URL by default. Adding the same name again
    /// updates the source.
    #[arg(long)]
    name: Option<String>,
    #[arg(long, value_enum, default_value_t = KindArg::Auto)]
    kind: KindArg,
    /// The source's zone for floating times (IANA name).
    #[arg(long)]
    timezone: Option<String>,
    #[command(flatten)]
    config: ConfigArg,
    #[command(flatten)]
    data: DataDirArg,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    data: DataDirArg,
    /// One JSON object per source.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
pub struct ResumeArgs {
    id: i64,
    #[command(flatten)]
    data: DataDirArg,
}

/// The configuration `serve` reads (defaults, the file, `COALESCE_*` variables), for its
/// `[crawl]` section, validated, and its data folder.
pub fn load_spec(path: Option<&Path>) -> Result<(CrawlSpec, PathBuf)> {
    let config = crate::config::load(path)?;
    let spec = config
        .crawl
        .validate()
        .context("invalid [crawl] settings")?;
    Ok((spec, config.data.dir))
}

pub fn run_crawl(args: CrawlArgs) -> Result<ExitCode> {
    let (spec, data_dir) = load_spec(args.config.config.as_deref())?;
    let data_dir = args.data.or_config(Some(&data_dir));
    let now = match &args.now {
        Some(s) => parse_instant(s)?,
        None => Utc::now(),
    };
    let selection = match (args.once, args.source) {
        (_, Some(id)) => Selection::One(SourceId(id)),
        (true, None) => Selection::All,
        (false, None) => Selection::Due,
    };
    runtime()?.block_on(async {
        let store = open_dir(&data_dir).await?;
        let crawler = Crawler::new(store.clone(), spec)?;
        let cancel = CancellationToken::new();
        let stop = cancel.clone();
        // Ctrl-C stops claiming sources and drops fetches in flight; nothing is counted failed.
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                stop.cancel();
            }
        });
        let bar = progress_bar();
        // Each source whose fetch failed, named, for the closing lines and the exit status.
        let failed: std::sync::Mutex<Vec<String>> = std::sync::Mutex::default();
        let on_progress = |p: &Progress| {
            if let Some(bar) = &bar {
                bar.set_length(p.total as u64);
                bar.set_position(p.done as u64);
                bar.set_message(format!("{} {}", p.source, p.report.outcome));
            }
            if !FETCH_OUTCOMES_OK.contains(&p.report.outcome.as_str())
                && let Ok(mut f) = failed.lock()
            {
                let why = p.report.message.as_deref().unwrap_or("");
                f.push(format!(
                    "{} (source {}): {} {why}",
                    p.source, p.source_id.0, p.report.outcome
                ));
            }
        };
        let result = crawler.run(selection, now, &cancel, &on_progress).await;
        if let Some(bar) = &bar {
            bar.finish_and_clear();
        }
        store.close().await;
        let summary = result.context("crawl stopped")?;
        if args.json {
            println!("{}", serde_json::to_string(&summary)?);
        } else {
            print_summary(&summary);
        }
        let failed = failed.into_inner().unwrap_or_default();
        for f in &failed {
            eprintln!("failed: {}", f.trim_end());
        }
        // 2: the crawl ran, but some source failed (scripts and cron can tell).
        Ok(if failed.is_empty() && summary.failed_total() == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(2)
        })
    })
}

/// Fetch outcomes that are not failures.
const FETCH_OUTCOMES_OK: &[&str] = &["fetched", "not_modified", "unchanged"];

/// A bar on a terminal only: logs and pipes get the closing summary alone.
fn progress_bar() -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(0);
    let style = ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed} {wide_msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.enable_steady_tick(Duration::from_millis(200));
    Some(bar)
}

fn counts(map: &std::collections::BTreeMap<String, usize>) -> String {
    map.iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn print_summary(s: &CrawlSummary) {
    println!(
        "crawled {} source(s): {} fetched, {} not modified (304), {} unchanged (same bytes), {} failed",
        s.sources,
        s.fetched,
        s.not_modified,
        s.unchanged,
        s.failed_total()
    );
    let o = &s.offerings;
    println!(
        "offerings: {} new, {} updated, {} unchanged, {} restored, {} removed",
        o.new, o.updated, o.unchanged, o.restored, o.removed
    );
    if !s.failed.is_empty() {
        println!("failed by code: {}", counts(&s.failed));
    }
    if !s.skipped.is_empty() {
        println!("skipped: {}", counts(&s.skipped));
    }
    if !s.anomalies.is_empty() {
        println!(
            "anomalies (nothing removed for them): {}",
            counts(&s.anomalies)
        );
    }
    if s.cancelled > 0 {
        println!(
            "stopped early: {} fetch(es) not finished, not recorded",
            s.cancelled
        );
    }
    for id in &s.paused {
        println!(
            "paused after repeated failures: source {id} (`coalesce sources resume {id}` lifts it)"
        );
    }
    for id in &s.moved {
        println!("source {id} now uses its permanent redirect target");
    }
    if s.reclustered > 0 {
        println!(
            "duplicate clusters: {} offerings joined, left or moved",
            s.reclustered
        );
    }
}

pub fn run_sources(cmd: SourcesCommand) -> Result<ExitCode> {
    match cmd {
        SourcesCommand::Add(args) => add(args),
        SourcesCommand::List(args) => list(args),
        SourcesCommand::Resume(args) => resume(args),
    }
}

fn add(args: AddArgs) -> Result<ExitCode> {
    let (spec, data_dir) = load_spec(args.config.config.as_deref())?;
    let data_dir = args.data.or_config(Some(&data_dir));
    let fetcher = Fetcher::new(spec.fetch).context("cannot set up the http client")?;
    let url = coalesce_crawl::check_url(&fetcher, &args.url)
        .with_context(|| format!("refusing to register {}", args.url))?;
    if let Some(tz) = &args.timezone
        && coalesce_ingest::tz::resolve(tz).is_none()
    {
        bail!("unknown time zone {tz:?} (expected an IANA name such as America/Chicago)");
    }
    let now = Utc::now();
    runtime()?.block_on(async {
        let store = open_dir(&data_dir).await?;
        let provider = store
            .ensure_provider(&args.provider, None, now)
            .await
            .context("cannot register the provider")?;
        let mut settings = serde_json::Map::new();
        if let Some(tz) = &args.timezone {
            settings.insert("timezone".into(), tz.clone().into());
        }
        let name = args.name.clone().unwrap_or_else(|| url.to_string());
        let id = store
            .upsert_source(
                &NewSource {
                    provider_id: provider.id,
                    name: name.clone(),
                    url: url.to_string(),
                    kind: args.kind.kind().map(|k| k.as_str().to_owned()),
                    settings: settings.into(),
                },
                now,
            )
            .await
            .context("cannot register the source")?;
        store.close().await;
        if name == url.as_str() {
            println!("source {id}: {} {url}", args.provider);
        } else {
            println!("source {id}: {}/{name} {url}", args.provider);
        }
        Ok(ExitCode::SUCCESS)
    })
}

fn list(args: ListArgs) -> Result<ExitCode> {
    runtime()?.block_on(async {
        let store = open_existing(&args.data).await?;
        let sources = store.sources().await.context("cannot list sources")?;
        store.close().await;
        for s in &sources {
            if args.json {
                println!("{}", serde_json::to_string(s)?);
                continue;
            }
            let st = &s.status;
            let state = if st.paused {
                "paused".to_owned()
            } else {
                st.status.clone()
            };
            let mut line = format!(
                "{:>4} {}/{} [{state}] {} offerings",
                s.id.0, s.provider, s.name, st.offerings_count
            );
            if st.consecutive_failures > 0 {
                line.push_str(&format!(
                    ", {} failure(s) in a row, last: {} ({})",
                    st.consecutive_failures,
                    st.last_error_code.as_deref().unwrap_or("?"),
                    st.last_error_message.as_deref().unwrap_or("")
                ));
            }
            if let Some(due) = st.next_due_at.filter(|_| !st.paused) {
                line.push_str(&format!(", next {}", due.format("%Y-%m-%d %H:%M UTC")));
            }
            if let Some(to) = &st.redirect_to {
                line.push_str(&format!(
                    ", moved permanently to {to} (seen {}x)",
                    st.redirect_seen
                ));
            }
            line.push_str(&format!("\n     {}", s.url));
            println!("{line}");
        }
        Ok(ExitCode::SUCCESS)
    })
}

fn resume(args: ResumeArgs) -> Result<ExitCode> {
    runtime()?.block_on(async {
        let store = open_existing(&args.data).await?;
        let id = SourceId(args.id);
        let was_paused = store
            .source(id)
            .await?
            .with_context(|| format!("no source with id {}", args.id))?
            .status
            .paused;
        store
            .resume_source(id, Utc::now())
            .await
            .with_context(|| format!("cannot resume source {}", args.id))?;
        store.close().await;
        if was_paused {
            println!("source {id} resumed: due now, failures forgiven");
        } else {
            println!("source {id} was not paused; it is due now");
        }
        Ok(ExitCode::SUCCESS)
    })
}
