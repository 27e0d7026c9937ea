//! `coalesce import`, `coalesce offerings list`, `coalesce clusters explain`: the store from the
//! command line. Import goes through the same steps the crawler takes after a fetch (parse, turn
//! the result or the failure into a `FetchResult`, apply it in one transaction), so a provider who
//! sends a file gets exactly the rules a polled feed gets.

use std::collections::BTreeMap;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use chrono::Utc;
use coalesce_ingest::ParseHints;
use coalesce_store::{
    Cluster, ClusterId, NewSource, OfferingFilter, OfferingId, Store, StoreOptions, StoredOffering,
};

use crate::{DatesArg, KindArg, parse_instant};

/// Where the store lives unless `--data-dir` says otherwise.
const DEFAULT_DATA_DIR: &str = "data";

#[derive(Debug, clap::Args)]
pub struct DataDirArg {
    /// The data folder holding the store (`coalesce.db`): `COALESCE_DATA__DIR` (the variable
    /// `serve` reads too), else `[data] dir` of `--config` where the command takes one, else
    /// ./data.
    #[arg(long, env = "COALESCE_DATA__DIR")]
    pub data_dir: Option<PathBuf>,
}

impl DataDirArg {
    /// The folder to use when the configuration file names none.
    pub fn or_default(&self) -> PathBuf {
        self.or_config(None)
    }

    /// The folder given here, else the configuration's, else ./data.
    pub fn or_config(&self, config: Option<&Path>) -> PathBuf {
        self.data_dir
            .clone()
            .or_else(|| config.map(Path::to_path_buf))
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR))
    }
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The feed, calendar or page to load.
    path: PathBuf,
    /// The provider the file belongs to (created if new).
    #[arg(long)]
    provider: String,
    /// The source within the provider; the file name (without extension) by default. Importing
    /// again under the same name updates that source's offerings.
    #[arg(long)]
    source_name: Option<String>,
    #[command(flatten)]
    data: DataDirArg,
    /// The format; `auto` sniffs it from the content.
    #[arg(long, value_enum, default_value_t = KindArg::Auto)]
    kind: KindArg,
    /// The URL the document came from: relative links resolve against it.
    #[arg(long)]
    base_url: Option<url::Url>,
    /// The source's zone for floating times (IANA name); kept in the source's settings.
    #[arg(long)]
    timezone: Option<String>,
    /// What the feed's publication dates mean; kept in the source's settings.
    #[arg(long, value_enum, default_value_t = DatesArg::Auto)]
    dates: DatesArg,
    /// The sectors this source's offerings are for when their text names none (archives,
    /// libraries, museums; comma-separated); kept in the source's settings. The provider's
    /// declared sectors apply otherwise.
    #[arg(long, value_delimiter = ',')]
    sectors: Vec<String>,
    /// Pretend the import happens at this instant (YYYY-MM-DD or RFC 3339); for tests and replays.
    #[arg(long, hide = true)]
    now: Option<String>,
    /// Print the summary as one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Subcommand)]
pub enum OfferingsCommand {
    /// List the offerings in the store, one line each (or JSON Lines with --json).
    List(ListArgs),
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    data: DataDirArg,
    /// Show each duplicate cluster once, with the other providers that offer it.
    #[arg(long)]
    cluster: bool,
    /// Include offerings removed from their source (tombstones).
    #[arg(long)]
    include_removed: bool,
    /// Only this provider's offerings.
    #[arg(long)]
    provider: Option<String>,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Subcommand)]
pub enum ClustersCommand {
    /// Show why the offerings of a cluster were grouped (a cluster id or a member's offering id).
    Explain(ExplainArgs),
}

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    id: String,
    #[command(flatten)]
    data: DataDirArg,
    #[arg(long)]
    json: bool,
}

pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

pub async fn open(data: &DataDirArg) -> Result<Store> {
    open_dir(&data.or_default()).await
}

/// Opens an existing store only: commands that read (and `resume`) must not leave a new, empty
/// data folder behind when pointed at the wrong place.
pub async fn open_existing(data: &DataDirArg) -> Result<Store> {
    let dir = data.or_default();
    if !dir.join("coalesce.db").is_file() {
        bail!(
            "no store in {} (import a file, add a source or run `coalesce serve` there first, \
             or pass --data-dir / COALESCE_DATA__DIR)",
            dir.display()
        );
    }
    open_dir(&dir).await
}

pub async fn open_dir(dir: &Path) -> Result<Store> {
    Store::open_data_dir(dir, StoreOptions::default())
        .await
        .with_context(|| format!("cannot open the store in {}", dir.display()))
}

pub fn run_import(args: ImportArgs) -> Result<ExitCode> {
    let bytes = std::fs::read(&args.path)
        .with_context(|| format!("cannot read {}", args.path.display()))?;
    let now = match &args.now {
        Some(s) => parse_instant(s)?,
        None => Utc::now(),
    };
    let source_name = match &args.source_name {
        Some(n) => n.clone(),
        None => args
            .path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .filter(|s| !s.is_empty())
            .context("cannot derive a source name from the path; pass --source-name")?,
    };
    let mut hints = ParseHints::new(now);
    hints.kind = args.kind.kind();
    hints.base_url = args.base_url.clone();
    hints.dates = args.dates.convention();
    if let Some(tz) = &args.timezone {
        hints.timezone = Some(coalesce_ingest::tz::resolve(tz).with_context(|| {
            format!("unknown time zone {tz:?} (expected an IANA name such as America/Chicago)")
        })?);
    }
    let sectors = crate::parse_sectors(&args.sectors)?;

    runtime()?.block_on(async {
        let store = open(&args.data).await?;
        let provider = store
            .ensure_provider(&args.provider, None, now)
            .await
            .context("cannot register the provider")?;
        let mut settings = serde_json::Map::new();
        if let Some(tz) = &args.timezone {
            settings.insert("timezone".into(), tz.clone().into());
        }
        if !matches!(args.dates, DatesArg::Auto) {
            settings.insert("dates".into(), hints.dates.as_str().into());
        }
        if !args.sectors.is_empty() {
            let ids: Vec<&str> = sectors.iter().map(|s| s.as_str()).collect();
            settings.insert("sectors".into(), ids.into());
        }
        let settings = serde_json::Value::from(settings);
        // Parsed with what the crawler would use: the provider's declared sectors and
        // audience under the source's own.
        (hints.sectors, hints.audience) = coalesce_crawl::publisher_defaults(
            &settings,
            &provider.sectors,
            provider.audience.as_deref(),
        );
        let parsed = coalesce_ingest::parse(&bytes, &hints);
        let kind = parsed.as_ref().ok().map(|p| p.kind.as_str().to_string());
        let parse_error = parsed.as_ref().err().map(ToString::to_string);
        let result = coalesce_crawl::fetch_result(parsed, &bytes);
        let source = store
            .upsert_source(
                &NewSource {
                    provider_id: provider.id,
                    name: source_name.clone(),
                    url: file_url(&args.path),
                    kind,
                    settings,
                },
                now,
            )
            .await
            .context("cannot register the source")?;
        let summary = store
            .apply(source, &result, now)
            .await
            .context("cannot apply the import")?;
        let moved = if summary.changed.is_empty() {
            0
        } else {
            recluster(&store, now).await?
        };
        store.close().await;

        if args.json {
            let out = serde_json::json!({
                "provider": args.provider,
                "source": source_name,
                "source_id": source,
                "summary": summary,
            });
            println!("{out}");
        } else {
            if parse_error.is_none() {
                let mut line = format!(
                    "{}/{}: {} new, {} updated, {} unchanged, {} restored, {} removed",
                    args.provider,
                    source_name,
                    summary.new,
                    summary.updated,
                    summary.unchanged,
                    summary.restored,
                    summary.removed
                );
                if summary.absent > 0 {
                    line.push_str(&format!(
                        ", {} missing from this file but kept until they stay missing",
                        summary.absent
                    ));
                }
                println!("{line}");
                if moved > 0 {
                    println!("duplicate clusters: {moved} offerings joined, left or moved");
                }
            }
            if summary.duplicate_keys > 0 {
                eprintln!(
                    "warning: {} items repeated a key already in the file; the last one was kept",
                    summary.duplicate_keys
                );
            }
            if let Some(a) = &summary.anomaly {
                eprintln!("warning: {} ({})", a, a.code());
            }
        }
        match parse_error {
            // The failure is recorded on the source; the command still says it failed.
            Some(e) => bail!("cannot read {}: {e}", args.path.display()),
            None => Ok(ExitCode::SUCCESS),
        }
    })
}

/// The same cluster refresh the crawler runs after a round.
pub(crate) async fn recluster(store: &Store, now: chrono::DateTime<Utc>) -> Result<u64> {
    coalesce_crawl::recluster(store, now)
        .await
        .context("cannot refresh duplicate clusters")
}

fn file_url(path: &Path) -> String {
    let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    url::Url::from_file_path(&abs)
        .map(String::from)
        .unwrap_or_else(|()| format!("file://{}", abs.display()))
}

pub fn run_offerings(cmd: OfferingsCommand) -> Result<ExitCode> {
    let OfferingsCommand::List(args) = cmd;
    runtime()?.block_on(async {
        let store = open_existing(&args.data).await?;
        let mut rows = store
            .offerings(&OfferingFilter {
                include_removed: args.include_removed,
                ..OfferingFilter::default()
            })
            .await
            .context("cannot list offerings")?;
        if let Some(p) = &args.provider {
            rows.retain(|o| &o.provider == p);
        }
        // Chronological, as a learner scans a catalog; undated ones last.
        rows.sort_by(|a, b| {
            let key = |o: &StoredOffering| o.offering.occurrences.first().map(|x| x.start);
            (key(a).is_none(), key(a), &a.offering.title, &a.id).cmp(&(
                key(b).is_none(),
                key(b),
                &b.offering.title,
                &b.id,
            ))
        });
        let stdout = io::stdout();
        let mut out = BufWriter::new(stdout.lock());
        if !args.cluster {
            for o in &rows {
                if args.json {
                    serde_json::to_writer(&mut out, o)?;
                    writeln!(out)?;
                } else {
                    writeln!(out, "{}", line(o))?;
                }
            }
        } else {
            let clusters: BTreeMap<ClusterId, Cluster> = store
                .clusters()
                .await
                .context("cannot read clusters")?
                .into_iter()
                .map(|c| (c.id.clone(), c))
                .collect();
            let by_id: BTreeMap<&OfferingId, &StoredOffering> =
                rows.iter().map(|o| (&o.id, o)).collect();
            for o in &rows {
                let cluster = o.cluster_id.as_ref().and_then(|c| clusters.get(c));
                let Some(c) = cluster else {
                    if args.json {
                        serde_json::to_writer(&mut out, &serde_json::json!({"offering": o}))?;
                        writeln!(out)?;
                    } else {
                        writeln!(out, "{}", line(o))?;
                    }
                    continue;
                };
                // A cluster is shown once, at its canonical member (or its first listed one
                // when the canonical member is filtered out).
                let shown = if by_id.contains_key(&c.canonical) {
                    c.canonical == o.id
                } else {
                    c.members.iter().find(|m| by_id.contains_key(&m.offering_id))
                        .is_some_and(|m| m.offering_id == o.id)
                };
                if !shown {
                    continue;
                }
                let others: Vec<&StoredOffering> = c
                    .members
                    .iter()
                    .filter(|m| m.offering_id != o.id)
                    .filter_map(|m| by_id.get(&m.offering_id).copied())
                    .collect();
                if args.json {
                    let also: Vec<_> = others
                        .iter()
                        .map(|x| serde_json::json!({"id": x.id, "provider": x.provider}))
                        .collect();
                    serde_json::to_writer(
                        &mut out,
                        &serde_json::json!({"offering": o, "cluster_id": c.id, "also_offered_by": also}),
                    )?;
                    writeln!(out)?;
                } else {
                    writeln!(out, "{}", line(o))?;
                    let also: Vec<String> = others
                        .iter()
                        .map(|x| format!("{} ({})", x.provider, x.id))
                        .collect();
                    writeln!(out, "    also offered by: {}  [cluster {}]", also.join(", "), c.id)?;
                }
            }
        }
        out.flush()?;
        store.close().await;
        Ok(ExitCode::SUCCESS)
    })
}

fn line(o: &StoredOffering) -> String {
    let when = o
        .offering
        .occurrences
        .first()
        .map(|x| x.start.to_rfc3339())
        .unwrap_or_else(|| "(no date)".into());
    let removed = if o.removed_at.is_some() {
        "  [removed]"
    } else {
        ""
    };
    format!(
        "{}  {:<25}  {}  {}{}",
        o.id, when, o.provider, o.offering.title, removed
    )
}

pub fn run_clusters(cmd: ClustersCommand) -> Result<ExitCode> {
    let ClustersCommand::Explain(args) = cmd;
    runtime()?.block_on(async {
        let store = open_existing(&args.data).await?;
        let mut cluster = store
            .cluster(&ClusterId(args.id.clone()))
            .await
            .context("cannot read the cluster")?;
        if cluster.is_none() {
            // Accept a member's offering id too: that is what `offerings list` prints.
            if let Some(o) = store.offering(&OfferingId(args.id.clone())).await? {
                match &o.cluster_id {
                    Some(c) => cluster = store.cluster(c).await?,
                    None => bail!("offering {} is in no cluster", args.id),
                }
            }
        }
        let Some(c) = cluster else {
            bail!("no cluster or offering with id {}", args.id);
        };
        let ids: Vec<OfferingId> = c.members.iter().map(|m| m.offering_id.clone()).collect();
        let members: BTreeMap<OfferingId, StoredOffering> = store
            .offerings_by_ids(&ids)
            .await?
            .into_iter()
            .map(|o| (o.id.clone(), o))
            .collect();
        store.close().await;
        if args.json {
            let detail: Vec<_> = c
                .members
                .iter()
                .map(|m| {
                    serde_json::json!({
                        "offering_id": m.offering_id,
                        "canonical": m.offering_id == c.canonical,
                        "offering": members.get(&m.offering_id),
                        "explanation": m.explanation,
                    })
                })
                .collect();
            println!(
                "{}",
                serde_json::json!({"id": c.id, "canonical": c.canonical,
                    "explanation": c.explanation, "members": detail})
            );
            return Ok(ExitCode::SUCCESS);
        }
        println!("cluster {} ({} members)", c.id, c.members.len());
        for m in &c.members {
            let mark = if m.offering_id == c.canonical {
                "canonical"
            } else {
                "member"
            };
            match members.get(&m.offering_id) {
                Some(o) => println!("- {mark}: {}", line(o)),
                None => println!("- {mark}: {} (no longer in the store)", m.offering_id),
            }
        }
        // Dedup writes its own readable explanation; fall back to the raw signals otherwise.
        match c.explanation.get("text").and_then(|t| t.as_str()) {
            Some(text) => {
                println!("why:");
                for l in text.lines() {
                    println!("  {l}");
                }
            }
            None => {
                println!("why: {}", c.explanation);
                for m in &c.members {
                    println!("  {} joined because: {}", m.offering_id, m.explanation);
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
