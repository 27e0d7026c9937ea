//! `coalesce demo`: the whole loop on one machine. Serves the six fixture provider sites
//! (`fixtures/sites/`, dates filled in relative to today, UTC) on 127.0.0.1, starts the
//! service on a fresh data folder with exactly those addresses allow-listed for the crawler,
//! onboards each provider through the HTTP API a real provider uses (admin token → provider →
//! API key → sources), waits for the first crawl and prints what to try.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, Utc};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::serve::{Service, init_logs};
use coalesce_core::demo_sites::fill_dates as render;

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Where the service listens.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Keep the data here instead of a temporary folder removed at exit.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// The fixture sites folder.
    #[arg(long, default_value = "fixtures/sites")]
    pub sites: PathBuf,
    /// Register, crawl, print, then stop instead of serving until Ctrl-C.
    #[arg(long)]
    pub exit: bool,
}

/// One fixture provider: its folder, display name and the documents it publishes.
struct Site {
    dir: &'static str,
    provider: &'static str,
    display: &'static str,
    file: &'static str,
    kind: &'static str,
    timezone: Option<&'static str>,
}

const SITES: &[Site] = &[
    Site {
        dir: "library-association",
        provider: "mpla",
        display: "Mountain Plains Library Association",
        file: "events.xml",
        kind: "rss",
        timezone: Some("America/Chicago"),
    },
    Site {
        dir: "archivists-society",
        provider: "regional-archivists",
        display: "Society of Regional Archivists",
        file: "calendar.ics",
        kind: "ics",
        timezone: None,
    },
    Site {
        dir: "museum-alliance",
        provider: "heritage-museums",
        display: "Heritage Museum Alliance",
        file: "events.html",
        kind: "html",
        timezone: Some("America/New_York"),
    },
    Site {
        dir: "state-library",
        provider: "examplia-state-library",
        display: "State Library of Examplia",
        file: "learning.atom",
        kind: "atom",
        timezone: Some("America/Denver"),
    },
    Site {
        dir: "consortium",
        provider: "tri-county",
        display: "Tri-County Library Consortium",
        file: "calendar.ics",
        kind: "ics",
        timezone: None,
    },
    Site {
        dir: "ischool",
        provider: "northern-ischool",
        display: "Northern iSchool Continuing Education",
        file: "courses.html",
        kind: "html",
        timezone: Some("America/Chicago"),
    },
];

fn content_type(file: &str) -> &'static str {
    match file.rsplit('.').next() {
        Some("xml") => "application/rss+xml; charset=utf-8",
        Some("atom") => "application/atom+xml; charset=utf-8",
        Some("ics") => "text/calendar; charset=utf-8",
        Some("json") => "application/feed+json",
        _ => "text/html; charset=utf-8",
    }
}

/// The rendered fixture documents by `site/file`.
type Pages = Arc<BTreeMap<String, String>>;

async fn page(
    State(pages): State<Pages>,
    UrlPath((site, file)): UrlPath<(String, String)>,
) -> Response {
    match pages.get(&format!("{site}/{file}")) {
        Some(body) => ([(header::CONTENT_TYPE, content_type(&file))], body.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// A homepage per site advertising its feed, so discovery has something to find.
async fn home(State(pages): State<Pages>, UrlPath(site): UrlPath<String>) -> Response {
    let links: String = pages
        .keys()
        .filter_map(|k| k.strip_prefix(&format!("{site}/")))
        .map(|f| {
            format!(
                "<link rel=\"alternate\" type=\"{}\" href=\"{f}\">",
                content_type(f).split(';').next().unwrap_or("")
            )
        })
        .collect();
    if links.is_empty() {
        return StatusCode::NOT_FOUND.into_response();
    }
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        format!("<!doctype html><html><head>{links}</head><body></body></html>"),
    )
        .into_response()
}

/// Serves every `fixtures/sites/<site>/<file>` at `http://ADDR/<site>/<file>` until `stop`.
pub async fn serve_sites(
    dir: &Path,
    today: NaiveDate,
    stop: CancellationToken,
) -> Result<SocketAddr> {
    let mut pages = BTreeMap::new();
    for site in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let site = site?;
        if !site.file_type()?.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(site.path())? {
            let file = file?;
            let text = std::fs::read_to_string(file.path())
                .with_context(|| format!("cannot read {}", file.path().display()))?;
            pages.insert(
                format!(
                    "{}/{}",
                    site.file_name().to_string_lossy(),
                    file.file_name().to_string_lossy()
                ),
                render(&text, today),
            );
        }
    }
    let app = Router::new()
        .route("/{site}/", axum::routing::get(home))
        .route("/{site}/{file}", axum::routing::get(page))
        .with_state(Arc::new(pages));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(stop.cancelled_owned())
            .await;
    });
    Ok(addr)
}

pub fn run_demo(args: DemoArgs) -> Result<std::process::ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(demo(args))?;
    Ok(std::process::ExitCode::SUCCESS)
}

async fn demo(args: DemoArgs) -> Result<()> {
    if !args.sites.is_dir() {
        bail!(
            "fixture sites not found at {} (run the demo from the repository root, or pass --sites)",
            args.sites.display()
        );
    }
    let temp;
    let data_dir = match &args.data {
        Some(d) => d.clone(),
        None => {
            temp = tempfile::tempdir().context("cannot create a temporary data folder")?;
            temp.path().to_path_buf()
        }
    };
    let stop = CancellationToken::new();
    let sites_addr = serve_sites(&args.sites, Utc::now().date_naive(), stop.clone()).await?;
    let admin = format!(
        "adm_{}",
        coalesce_api::manage::auth::random_chars(40).map_err(|e| anyhow::anyhow!("{e}"))?
    );

    let mut config = Config {
        admin_token: Some(admin.clone()),
        ..Config::default()
    };
    config.server.listen = args.listen.clone();
    config.data.dir = data_dir.clone();
    config.crawl.allow = vec![sites_addr.to_string()];
    // Fixture sites have no robots.txt worth asking for, and the demo is quieter without.
    config.crawl.respect_robots = false;
    config.log.level = "warn".into();
    let spec = config.validate()?;
    init_logs(&spec);
    let service = Service::start(spec).await?;
    let base = format!("http://{}", service.addr);
    let probe = service.sync_probe();
    let running = tokio::spawn(service.run(stop.clone()));

    println!(
        "coalesce demo: service on {base}, data in {}, fixture sites on http://{sites_addr}",
        data_dir.display()
    );
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .context("cannot build the http client")?;
    let api = Api {
        client,
        base: base.clone(),
    };
    let mut keys = Vec::new();
    let mut source_ids = Vec::new();
    for site in SITES {
        api.call(
            "POST",
            "/api/v1/admin/providers",
            &admin,
            Some(json!({"name": site.provider, "display_name": site.display})),
        )
        .await?;
        let key = api
            .call(
                "POST",
                &format!("/api/v1/admin/providers/{}/keys", site.provider),
                &admin,
                Some(json!({"label": "demo"})),
            )
            .await?;
        let key = key["key"]
            .as_str()
            .context("no key in the answer")?
            .to_owned();
        let mut body = json!({"name": site.dir, "url": format!("http://{sites_addr}/{}/{}", site.dir, site.file), "kind": site.kind});
        if let Some(tz) = site.timezone {
            body["timezone"] = tz.into();
        }
        let source = api
            .call("POST", "/api/v1/sources", &key, Some(body))
            .await?;
        let id = source["id"]
            .as_i64()
            .context("no source id in the answer")?;
        println!(
            "  registered {:<24} source {id}  {}",
            site.provider, site.display
        );
        keys.push(key);
        source_ids.push(id);
    }

    // Wait for the first crawl of every source.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut total;
    loop {
        let mut pending = 0;
        total = 0;
        for (key, id) in keys.iter().zip(&source_ids) {
            let s = api
                .call("GET", &format!("/api/v1/sources/{id}"), key, None)
                .await?;
            if s["status"]["status"] == "never" {
                pending += 1;
            }
            total += s["status"]["offerings_count"].as_i64().unwrap_or(0);
        }
        if pending == 0 || tokio::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // The index follows the store every few seconds: the URLs printed next should show the
    // crawl's result (co-marketed copies already one hit), not the moment before.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !probe.caught_up().await && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!("crawled {} sources: {total} offerings\n", source_ids.len());
    let first_key = keys.first().cloned().unwrap_or_default();
    let first_id = source_ids.first().copied().unwrap_or_default();
    println!("Try:");
    println!("  search:        curl '{base}/api/v1/offerings?q=copyright'");
    println!(
        "  calendar:      curl '{base}/calendar.ics?topic=preservation&free=true'   (subscribe to this URL)"
    );
    println!(
        "  source status: curl -H 'Authorization: Bearer {first_key}' {base}/api/v1/sources/{first_id}"
    );
    println!(
        "  scorecard:     curl -H 'Authorization: Bearer {first_key}' {base}/api/v1/sources/{first_id}/scorecard"
    );
    println!("  metrics:       curl {base}/metrics");
    println!("  onboard a provider (admin token for this run: {admin}):");
    println!(
        "    curl -X POST -H 'Authorization: Bearer {admin}' -H 'content-type: application/json' \\"
    );
    println!("         -d '{{\"name\":\"my-library\"}}' {base}/api/v1/admin/providers");
    println!(
        "    curl -X POST -H 'Authorization: Bearer {admin}' {base}/api/v1/admin/providers/my-library/keys"
    );

    // The README's commands use these names; paste the line into a shell.
    println!("\nFor the README's commands, in your shell:");
    println!(
        "  export B={base} ADMIN={admin} KEY={first_key} SOURCE={first_id} SITES=http://{sites_addr}"
    );

    if !args.exit {
        println!("\nserving until Ctrl-C");
        let _ = tokio::signal::ctrl_c().await;
    }
    stop.cancel();
    running.await.context("the service task failed")??;
    Ok(())
}

struct Api {
    client: reqwest::Client,
    base: String,
}

impl Api {
    async fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Result<Value> {
        let method = reqwest::Method::from_bytes(method.as_bytes())?;
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("authorization", format!("Bearer {token}"));
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let resp = req
            .send()
            .await
            .with_context(|| format!("cannot call {path}"))?;
        let status = resp.status();
        let text = resp.text().await?;
        if !status.is_success() {
            bail!("{path} answered {status}: {text}");
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}
