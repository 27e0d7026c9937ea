//! The `coalesce` binary: configuration, wiring and subcommands. Logic lives in the library
//! crates; this file only adapts the command line to them.

mod admit;
mod catalog;
mod config;
mod crawl;
mod demo;
mod serve;

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, NaiveDate, Utc};
use clap::{Parser, Subcommand, ValueEnum};
use coalesce_ingest::{Kind, ParseHints, Window};

mod net;
mod reindex;
mod supervise;

/// mimalloc, not glibc malloc: parsing makes dozens of small allocations per item, which
/// mimalloc serves in fewer instructions (bench/README.md has the figures).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "coalesce",
    version,
    about = "CE/PD offerings of archives, libraries and museums, gathered into one catalog and calendar"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Read a feed, calendar or page from a file and print its offerings as JSON Lines.
    ///
    /// Warnings go to stderr. Exits 0 when the document was read (even if some items were
    /// skipped), 1 with a one-line error when it could not be read.
    Parse(ParseArgs),
    /// Fetch a homepage and list the feed and calendar links it offers, and whether it carries
    /// schema.org events itself.
    Discover(net::DiscoverArgs),
    /// Load a local feed, calendar or page as a provider's source into the store.
    ///
    /// The same steps as a crawl: parse, then apply in one transaction. Importing the same file
    /// again changes nothing; a shrunken or empty file removes nothing.
    Import(catalog::ImportArgs),
    /// Fetch the sources that are due (all of them with --once, one with --source), parse
    /// and store what changed; a progress bar on a terminal and a summary at the end.
    Crawl(crawl::CrawlArgs),
    /// Register, list and resume the sources the crawler fetches.
    #[command(subcommand)]
    Sources(crawl::SourcesCommand),
    /// Inspect the offerings in the store.
    #[command(subcommand)]
    Offerings(catalog::OfferingsCommand),
    /// Inspect duplicate clusters.
    #[command(subcommand)]
    Clusters(catalog::ClustersCommand),
    /// Write a synthetic catalog of CE/PD offerings as JSON Lines (one index document per line:
    /// store id, provider, duplicate cluster and the offering), for benches and load tests.
    Generate(GenerateArgs),
    /// Rebuild the search index (`<data-dir>/index`) from the store.
    Reindex(reindex::ReindexArgs),
    /// Run the service: search and management API, crawl scheduler and index sync.
    Serve(serve::ServeArgs),
    /// Start the service on a fresh data folder with six fixture provider sites on loopback,
    /// register them through the provider API, crawl them and print URLs to try.
    Demo(demo::DemoArgs),
}

#[derive(Debug, clap::Args)]
struct GenerateArgs {
    /// How many offerings (co-marketed duplicates included).
    #[arg(long)]
    offerings: usize,
    /// The file to write (standard output when absent).
    #[arg(long)]
    out: Option<PathBuf>,
    /// The same seed and --now give the same catalog.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Dates are spread around this day (YYYY-MM-DD or RFC 3339); default today.
    #[arg(long)]
    now: Option<String>,
}

#[derive(Debug, clap::Args)]
struct ParseArgs {
    /// The file to read (`-` for standard input), or an http(s) URL to fetch through the
    /// crawler's guarded client.
    path: PathBuf,
    /// The format; `auto` sniffs it from the content.
    #[arg(long, value_enum, default_value_t = KindArg::Auto)]
    kind: KindArg,
    /// The URL the document was fetched from: relative links resolve against it.
    #[arg(long)]
    base_url: Option<url::Url>,
    /// The zone for floating times (IANA name such as America/Chicago).
    #[arg(long)]
    timezone: Option<String>,
    /// What the feed's publication dates mean; `auto` detects an events plugin's feed.
    #[arg(long, value_enum, default_value_t = DatesArg::Auto)]
    dates: DatesArg,
    /// The publisher's declared sectors (archives, libraries, museums; comma-separated): what
    /// an item is for when its own text names no sector.
    #[arg(long, value_delimiter = ',')]
    sectors: Vec<String>,
    /// Start of the window for recurring events (YYYY-MM-DD or RFC 3339); default 30 days ago.
    #[arg(long)]
    from: Option<String>,
    /// End of the window (exclusive); default two years from now.
    #[arg(long)]
    to: Option<String>,
    /// Print the warnings and a summary as one JSON object on stderr instead of text lines.
    #[arg(long)]
    json_warnings: bool,
    #[command(flatten)]
    net: net::NetArgs,
}

/// The source's `dates` setting on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum DatesArg {
    Auto,
    /// Each item's publication date is its event's start (The Events Calendar and similar).
    #[value(name = "published_is_start")]
    PublishedIsStart,
    /// Publication dates are never event starts.
    #[value(name = "published_is_not_start")]
    PublishedIsNotStart,
}

impl DatesArg {
    fn convention(self) -> coalesce_ingest::DatesConvention {
        use coalesce_ingest::DatesConvention as D;
        match self {
            DatesArg::Auto => D::Auto,
            DatesArg::PublishedIsStart => D::PublishedIsStart,
            DatesArg::PublishedIsNotStart => D::PublishedIsNotStart,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum KindArg {
    Auto,
    Rss,
    Atom,
    Jsonfeed,
    Ics,
    Html,
}

impl KindArg {
    fn kind(self) -> Option<Kind> {
        match self {
            KindArg::Auto => None,
            KindArg::Rss => Some(Kind::Rss),
            KindArg::Atom => Some(Kind::Atom),
            KindArg::Jsonfeed => Some(Kind::JsonFeed),
            KindArg::Ics => Some(Kind::Ics),
            KindArg::Html => Some(Kind::Html),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Parse(args) => run_parse(args),
        Command::Discover(args) => net::run_discover(args),
        Command::Import(args) => catalog::run_import(args),
        Command::Crawl(args) => crawl::run_crawl(args),
        Command::Sources(cmd) => crawl::run_sources(cmd),
        Command::Offerings(cmd) => catalog::run_offerings(cmd),
        Command::Clusters(cmd) => catalog::run_clusters(cmd),
        Command::Generate(args) => run_generate(args),
        Command::Reindex(args) => reindex::run_reindex(args),
        Command::Serve(args) => serve::run_serve(args),
        Command::Demo(args) => demo::run_demo(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            // One line: the chain of causes joined, as a user reads it.
            let mut msg = err.to_string();
            for cause in err.chain().skip(1) {
                msg.push_str(": ");
                msg.push_str(&cause.to_string());
            }
            eprintln!("error: {msg}");
            ExitCode::FAILURE
        }
    }
}

/// Sector names from the command line; an unknown one is an error, never dropped.
pub(crate) fn parse_sectors(names: &[String]) -> Result<Vec<coalesce_core::Sector>> {
    let mut out = Vec::with_capacity(names.len());
    for n in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        match coalesce_core::Sector::parse(&n.to_ascii_lowercase()) {
            Some(s) => out.push(s),
            None => bail!("unknown sector {n:?} (expected archives, libraries or museums)"),
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn run_parse(mut args: ParseArgs) -> Result<ExitCode> {
    let mut content_type = None;
    let bytes = if let Some(url) = args.path.to_str().filter(|p| net::is_url(p)) {
        let fetched = net::fetch_once(&args.net, url)?;
        args.base_url = args.base_url.or(Some(fetched.final_url));
        content_type = fetched.content_type;
        fetched.bytes
    } else if args.path.as_os_str() == "-" {
        let mut buf = Vec::new();
        io::Read::read_to_end(&mut io::stdin(), &mut buf).context("cannot read standard input")?;
        buf
    } else {
        std::fs::read(&args.path).with_context(|| format!("cannot read {}", args.path.display()))?
    };
    let now = Utc::now();
    let mut hints = ParseHints::new(now);
    hints.kind = args.kind.kind();
    hints.base_url = args.base_url;
    hints.content_type = content_type;
    hints.dates = args.dates.convention();
    hints.sectors = parse_sectors(&args.sectors)?;
    if let Some(tz) = &args.timezone {
        hints.timezone = Some(coalesce_ingest::tz::resolve(tz).with_context(|| {
            format!("unknown time zone {tz:?} (expected an IANA name such as America/Chicago)")
        })?);
    }
    let default = Window::around(now);
    hints.window = Window {
        from: args
            .from
            .as_deref()
            .map(parse_instant)
            .transpose()?
            .unwrap_or(default.from),
        to: args
            .to
            .as_deref()
            .map(parse_instant)
            .transpose()?
            .unwrap_or(default.to),
    };
    let parsed = coalesce_ingest::parse(&bytes, &hints)
        .with_context(|| format!("cannot read {}", args.path.display()))?;

    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    for offering in &parsed.offerings {
        serde_json::to_writer(&mut out, offering)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;

    if args.json_warnings {
        let summary = serde_json::json!({
            "kind": parsed.kind,
            "title": parsed.title,
            "encoding": parsed.encoding,
            "platform": parsed.platform,
            "next_page": parsed.next_page.as_ref().map(|u| u.as_str()),
            "offerings": parsed.offerings.len(),
            "warnings": parsed.warnings,
        });
        eprintln!("{summary}");
    } else {
        for w in &parsed.warnings {
            eprintln!("warning: {w}");
        }
        let platform = parsed
            .platform
            .map(|p| format!(", platform {p}"))
            .unwrap_or_default();
        eprintln!(
            "read {} document ({}{platform}): {} offerings, {} warnings",
            parsed.kind,
            parsed.encoding,
            parsed.offerings.len(),
            parsed.warnings.len()
        );
        // Paged event APIs: `parse` reads one page; say where the next one is.
        if let Some(next) = &parsed.next_page {
            eprintln!("next page (not read): {next}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn run_generate(args: GenerateArgs) -> Result<ExitCode> {
    let now = match args.now.as_deref() {
        Some(s) => parse_instant(s)?,
        // Midnight of today, so two runs on one day agree.
        None => Utc::now()
            .date_naive()
            .and_time(chrono::NaiveTime::MIN)
            .and_utc(),
    };
    let spec = coalesce_index::generate::GenerateSpec {
        offerings: args.offerings,
        seed: args.seed,
        now,
    };
    let sink: Box<dyn Write> = match &args.out {
        Some(p) => Box::new(
            std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        ),
        None => Box::new(io::stdout().lock()),
    };
    let mut out = BufWriter::new(sink);
    for d in coalesce_index::generate::generate(&spec) {
        serde_json::to_writer(&mut out, &d)?;
        out.write_all(b"\n")?;
    }
    out.flush().context("cannot write the catalog")?;
    Ok(ExitCode::SUCCESS)
}

/// `YYYY-MM-DD` (midnight UTC) or RFC 3339.
fn parse_instant(s: &str) -> Result<DateTime<Utc>> {
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    match DateTime::parse_from_rfc3339(s) {
        Ok(dt) => Ok(dt.with_timezone(&Utc)),
        Err(_) => bail!("invalid date {s:?} (expected YYYY-MM-DD or RFC 3339)"),
    }
}
