//! `coalesce serve`: the API (search + management), the crawl scheduler and index sync in one
//! process, with a header-read timeout and a connection cap on the listener (HOSTILE D6) and a
//! graceful shutdown on SIGTERM (E10).
//!
//! The HTTP server is hyper-util driven by hand rather than `axum::serve`, because that one
//! installs no header-read timeout: a client trickling one header byte at a time would hold
//! a connection forever.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use axum::Router;
use axum::extract::ConnectInfo;
use chrono::Utc;
use coalesce_api::manage::{ManageSpec, ManageState, RateSpec, auth};
use coalesce_api::{ApiConfig, AppState, Clock, IndexSlot};
use coalesce_crawl::{Crawler, Fetcher, Progress, Selection};
use coalesce_store::{Store, StoreOptions};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

use crate::admit::{Admission, Verdict};
use crate::config::{self, ServeSpec};
use crate::supervise::{FIRST_BACKOFF, Health, MAX_BACKOFF, supervise};

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The configuration file (TOML); `COALESCE_*` variables override it.
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
}

pub fn run_serve(args: ServeArgs) -> Result<std::process::ExitCode> {
    let spec = config::load(args.config.as_deref())?.validate()?;
    init_logs(&spec);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let service = Service::start(spec).await?;
        let shutdown = CancellationToken::new();
        let on_signal = shutdown.clone();
        tokio::spawn(async move {
            wait_for_signal().await;
            on_signal.cancel();
        });
        service.run(shutdown).await
    })?;
    Ok(std::process::ExitCode::SUCCESS)
}

pub fn init_logs(spec: &ServeSpec) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&spec.log_level));
    // Colours only for a person at a terminal: log collectors get plain text (or JSON).
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    // A second initialisation (the demo after a failed start) is harmless: keep the first.
    let _ = if spec.log_json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// A started service: listener bound, store open, admin token known.
pub struct Service {
    pub spec: ServeSpec,
    pub addr: SocketAddr,
    listener: TcpListener,
    store: Store,
    fetcher: Arc<Fetcher>,
    manage: ManageState,
    router: Router,
    index: IndexSlot,
}

/// Tells whether the search index has caught up with the store (see [`Service::sync_probe`]).
#[derive(Clone)]
pub struct SyncProbe {
    store: Store,
    index: IndexSlot,
}

impl SyncProbe {
    /// True once the index has committed everything the store held when this was asked.
    pub async fn caught_up(&self) -> bool {
        let Ok(store) = self.store.watermark().await else {
            return false;
        };
        let Ok(index) = self.index.get() else {
            return false;
        };
        index
            .watermark()
            .ok()
            .flatten()
            .is_some_and(|w| i64::try_from(w).is_ok_and(|w| w >= store))
    }
}

impl Service {
    /// A handle that outlives [`Service::run`]'s taking of the service, for callers that must
    /// wait until search shows what was stored (the demo, before it says what to try).
    pub fn sync_probe(&self) -> SyncProbe {
        SyncProbe {
            store: self.store.clone(),
            index: self.index.clone(),
        }
    }

    pub async fn start(spec: ServeSpec) -> Result<Service> {
        // The port first: a start that fails on a taken address must not have made (and
        // printed) a one-time admin token that is then lost.
        let listener = TcpListener::bind(spec.listen)
            .await
            .with_context(|| format!("cannot listen on {}", spec.listen))?;
        let store = Store::open_data_dir(&spec.data_dir, StoreOptions::default())
            .await
            .with_context(|| format!("cannot open the data folder {}", spec.data_dir.display()))?;
        let admin_digest = admin_token_digest(&spec)?;
        let fetcher = Arc::new(
            Fetcher::new(spec.crawl.fetch.clone()).context("cannot set up the http client")?,
        );
        let rate = RateSpec {
            per_minute: spec.per_minute,
            burst: spec.burst,
            trusted_proxies: spec.trusted_proxies.clone(),
        };
        let mut manage_spec = ManageSpec::new(admin_digest, rate);
        manage_spec.body_limit = spec.body_limit;
        manage_spec.max_batch = spec.max_batch;
        manage_spec.max_url_len = spec.max_url_len;
        manage_spec.metrics_token_digest = spec.metrics_token.as_deref().map(auth::digest);
        let manage = ManageState::new(store.clone(), Arc::clone(&fetcher), manage_spec);
        let addr = listener.local_addr()?;
        // Search answers 503 until the index is open; opening may mean a rebuild from the store,
        // which runs in the background while the management API already serves (E7).
        let index = IndexSlot::empty();
        let public_url = spec
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{addr}"));
        let app = AppState::new(
            store.clone(),
            index.clone(),
            ApiConfig::new(&public_url, &spec.uid_domain),
            Clock::system(),
        );
        let router = coalesce_api::with_service_layers(
            coalesce_api::router(app).merge(coalesce_api::management_router(manage.clone())),
            manage.clone(),
        );
        Ok(Service {
            spec,
            addr,
            listener,
            store,
            fetcher,
            manage,
            router,
            index,
        })
    }

    /// Serves until `shutdown` fires, then drains: readiness off, no new connections,
    /// in-flight requests get the grace period, fetches are cancelled (not counted as
    /// failures), the store is closed cleanly.
    pub async fn run(self, shutdown: CancellationToken) -> Result<()> {
        let Service {
            spec,
            addr,
            listener,
            store,
            fetcher,
            manage,
            router,
            index,
        } = self;
        tracing::info!(%addr, data = %spec.data_dir.display(), "coalesce is serving");
        // Both loops are supervised: a panic is reported on /readyz and the loop restarted.
        let crawl_cancel = shutdown.child_token();
        let crawler = Arc::new(Crawler::with_fetcher(
            store.clone(),
            spec.crawl.clone(),
            fetcher,
        ));
        let crawler = tokio::spawn(supervise(
            "crawl",
            manage.clone(),
            crawl_cancel.clone(),
            FIRST_BACKOFF,
            {
                let (manage, cancel, tick) =
                    (manage.clone(), crawl_cancel.clone(), spec.crawl.tick);
                move || crawl_loop(Arc::clone(&crawler), manage.clone(), tick, cancel.clone())
            },
        ));
        let sync_cancel = shutdown.child_token();
        // Not ready until the index is open (search answers 503 until then).
        manage.set_loop_health("index", Some("opening the search index".into()));
        let syncer = tokio::spawn(supervise(
            "index",
            manage.clone(),
            sync_cancel.clone(),
            FIRST_BACKOFF,
            {
                let loop_spec = IndexLoop {
                    store: store.clone(),
                    data_dir: spec.data_dir.clone(),
                    slot: index.clone(),
                    every: spec.index_sync,
                    search_threads: spec.search_threads,
                    health: manage.clone(),
                };
                let cancel = sync_cancel.clone();
                move || index_loop(loop_spec.clone(), cancel.clone())
            },
        ));
        manage.set_ready(true);

        // Every connection task; drained on shutdown within the grace period.
        let tracker = TaskTracker::new();
        // Bumped to ask every open connection to close once idle (graceful: a request in
        // flight finishes first), when slots run short: idle keep-alive clients are shed first.
        let (shed_tx, _) = tokio::sync::watch::channel(0u64);
        let mut last_shed: Option<tokio::time::Instant> = None;
        let admission = Admission::new(spec.connections);
        let limits = spec.connections;
        let slots = Arc::new(Semaphore::new(limits.hard_cap));
        tracing::info!(
            cap = limits.cap,
            hard_cap = limits.hard_cap,
            per_address = limits.per_address,
            "connection limits"
        );
        let builder = |header_timeout: Duration| {
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .keep_alive(true);
            http
        };
        let http = builder(spec.header_read_timeout);
        // Under pressure a connection must send its request head quickly (and again between
        // keep-alive requests) or give its slot to someone who will.
        let pressured_http = builder(
            spec.header_read_timeout
                .min(spec.connections.pressured_header_timeout),
        );
        loop {
            // The hard cap (the open-file limit): wait for a free slot before accepting, so
            // excess connections queue in the kernel instead of failing with EMFILE.
            // All slots taken for a while: ask the idle to leave.
            let permit = loop {
                tokio::select! {
                    _ = shutdown.cancelled() => break None,
                    p = Arc::clone(&slots).acquire_owned() => {
                        break Some(p.context("connection slots closed")?);
                    }
                    () = tokio::time::sleep(SHED_EVERY) => shed_idle(&shed_tx, &mut last_shed),
                }
            };
            let Some(permit) = permit else { break };
            let (stream, peer) = tokio::select! {
                _ = shutdown.cancelled() => break,
                accepted = listener.accept() => match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let open = limits.hard_cap - slots.available_permits();
            let (verdict, ticket) = admission.admit(peer.ip(), open);
            let pressured = match verdict {
                Verdict::Serve { pressured, shed } => {
                    if shed {
                        shed_idle(&shed_tx, &mut last_shed);
                    }
                    pressured
                }
                // Closed at once: one address may not hold more than its share of the slots.
                Verdict::TooManyFromAddress => {
                    drop(stream);
                    continue;
                }
            };
            let router = router.clone();
            let svc = tower::service_fn(move |mut req: hyper::Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                router.clone().oneshot(req)
            });
            let builder = if pressured { &pressured_http } else { &http };
            let conn =
                builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(svc));
            let mut shed = shed_tx.subscribe();
            let stop = shutdown.clone();
            let accepted = tokio::time::Instant::now();
            tracker.spawn(async move {
                let mut conn = std::pin::pin!(conn);
                let mut closing = false;
                loop {
                    tokio::select! {
                        _ = conn.as_mut() => break,
                        () = stop.cancelled(), if !closing => {
                            conn.as_mut().graceful_shutdown();
                            closing = true;
                        }
                        // A connection just accepted gets the time to send its request.
                        Ok(()) = shed.changed(), if !closing && accepted.elapsed() >= SHED_MIN_AGE => {
                            conn.as_mut().graceful_shutdown();
                            closing = true;
                        }
                    }
                }
                drop(ticket);
                drop(permit);
            });
        }

        tracing::info!("shutting down: draining requests, cancelling fetches");
        manage.set_ready(false);
        drop(listener);
        crawl_cancel.cancel();
        tracker.close();
        if tokio::time::timeout(spec.shutdown_grace, tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!("some connections did not finish within the grace period");
        }
        let _ = crawler.await;
        // The last catch-up commits what the final crawl wrote, so the next start has nothing
        // to recover (E10).
        sync_cancel.cancel();
        let _ = syncer.await;
        store.close().await;
        tracing::info!("stopped cleanly");
        Ok(())
    }
}

/// Under pressure the idle connections are asked to leave at most this often.
const SHED_EVERY: Duration = Duration::from_millis(100);
/// A connection younger than this is never shed: it gets the time to send its request.
const SHED_MIN_AGE: Duration = Duration::from_millis(250);

/// Asks every open connection older than [`SHED_MIN_AGE`] to close once idle (a request in
/// flight finishes first), at most every [`SHED_EVERY`].
fn shed_idle(shed: &tokio::sync::watch::Sender<u64>, last: &mut Option<tokio::time::Instant>) {
    if last.is_none_or(|t| t.elapsed() >= SHED_EVERY) {
        *last = Some(tokio::time::Instant::now());
        shed.send_modify(|g| *g += 1);
    }
}

/// What the index loop needs; cloned for each (re)start by the supervisor.
#[derive(Clone)]
struct IndexLoop {
    store: Store,
    data_dir: PathBuf,
    slot: IndexSlot,
    every: Duration,
    search_threads: usize,
    health: ManageState,
}

/// Opens (or rebuilds) the index in the data folder, retrying with a growing delay while it
/// cannot, hands it to the search routes, then keeps it caught up with the store's change log
/// every `every` until cancelled, with one last catch-up after. Its health goes to `/readyz`.
async fn index_loop(l: IndexLoop, cancel: CancellationToken) {
    let mut retry = FIRST_BACKOFF;
    let index = loop {
        let opened = match index_config(&l.data_dir) {
            Ok(mut c) => {
                c.search_threads = l.search_threads;
                coalesce_index::store_sync::open_synced(&l.data_dir.join("index"), c, &l.store)
                    .await
                    .map_err(|e| format!("{} ({})", e.code(), e))
            }
            Err(e) => Err(format!("cannot configure the index: {e:#}")),
        };
        match opened {
            Ok((index, opened)) => {
                tracing::info!(?opened, "search index ready");
                break index;
            }
            Err(problem) => {
                tracing::error!(error = %problem, ?retry, "cannot open the search index; retrying");
                l.health
                    .report("index", Some(format!("cannot open: {problem}")));
            }
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(retry) => {}
        }
        retry = (retry * 2).min(MAX_BACKOFF);
    };
    l.slot.set(Arc::clone(&index));
    l.health.report("index", None);
    loop {
        let stop = tokio::select! {
            _ = cancel.cancelled() => true,
            _ = tokio::time::sleep(l.every) => false,
        };
        match coalesce_index::store_sync::catch_up(
            &l.store,
            &index,
            coalesce_index::store_sync::DEFAULT_PAGE,
        )
        .await
        {
            Ok(_) => l.health.report("index", None),
            Err(e) => {
                tracing::warn!(error = %e, code = e.code(), "index catch-up failed; retrying");
                l.health
                    .report("index", Some(format!("catch-up failed: {}", e.code())));
            }
        }
        if stop {
            break;
        }
    }
}

/// The index settings: the built-in vocabulary's synonyms and a cursor key kept in the data
/// folder, so cursors handed out stay valid across restarts.
fn index_config(data_dir: &Path) -> Result<coalesce_index::IndexConfig> {
    let path = data_dir.join("cursor.key");
    let key = match std::fs::read(&path) {
        Ok(k) if k.len() >= 32 => k,
        _ => {
            let mut k = vec![0u8; 32];
            getrandom::fill(&mut k)
                .map_err(|e| anyhow::anyhow!("no randomness for the cursor key: {e}"))?;
            write_private(&path, &k)?;
            k
        }
    };
    let synonyms = coalesce_index::Synonyms::from_vocabulary(&coalesce_core::Vocabulary::builtin());
    coalesce_index::IndexConfig::new(key, synonyms).context("invalid index configuration")
}

/// The admin token's digest: from the configuration, else from the data folder, else a new
/// token is made, printed once and only its digest kept.
fn admin_token_digest(spec: &ServeSpec) -> Result<[u8; 32]> {
    if let Some(t) = &spec.admin_token {
        return Ok(auth::digest(t));
    }
    let path = spec.data_dir.join("admin_token.sha256");
    if let Ok(hex) = std::fs::read_to_string(&path) {
        return parse_hex(hex.trim())
            .with_context(|| format!("{} is not a sha-256 hex digest", path.display()));
    }
    let token = format!(
        "adm_{}",
        auth::random_chars(40).map_err(|e| anyhow::anyhow!("{e}"))?
    );
    let digest = auth::digest(&token);
    write_digest(&path, &digest)?;
    // Printed once, on purpose: it is not stored anywhere.
    eprintln!(
        "admin token (shown once, only its digest is kept in {}):\n  {token}",
        path.display()
    );
    Ok(digest)
}

fn write_digest(path: &Path, digest: &[u8; 32]) -> Result<()> {
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    write_private(path, (hex + "\n").as_bytes())
}

/// Writes a secret-bearing file readable by the service's user only (0600).
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .and_then(|mut f| f.write_all(bytes))
        .with_context(|| format!("cannot write {}", path.display()))
}

fn parse_hex(s: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    if s.len() != 64 {
        return None;
    }
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(s.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    Some(out)
}

/// The crawl runner `coalesce crawl` uses, driven by the service's tick and by providers'
/// refresh requests; each source's fetch lands in its store history and in the metrics.
async fn crawl_loop(
    crawler: Arc<Crawler>,
    manage: ManageState,
    tick: Duration,
    cancel: CancellationToken,
) {
    loop {
        // The crawler writes each fetch into the store's history; the metrics count outcomes.
        let record = |p: &Progress| manage.count_fetch(&p.report.outcome);
        let round = crawler
            .run(Selection::Due, Utc::now(), &cancel, &record)
            .await;
        match &round {
            Ok(summary) if summary.sources > 0 => tracing::info!(
                sources = summary.sources,
                fetched = summary.fetched,
                not_modified = summary.not_modified,
                failed = summary.failed.values().sum::<usize>(),
                new = summary.offerings.new,
                updated = summary.offerings.updated,
                removed = summary.offerings.removed,
                "crawl round"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(code = e.code(), error = %e, "crawl round failed"),
        }
        let problem = round.err().map(|e| format!("round failed: {}", e.code()));
        manage.set_loop_health("crawl", problem);
        // Keeps the write-ahead log from growing without bound between rounds (HOSTILE E9).
        if let Err(e) = manage.store().checkpoint().await {
            tracing::warn!(code = e.code(), error = %e, "checkpoint failed");
        }
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = tokio::time::sleep(tick) => {}
            _ = manage.refresh_requested() => {}
        }
    }
}
