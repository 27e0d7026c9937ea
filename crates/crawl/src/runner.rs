//! One crawl round over the store: pick sources, fetch them politely, parse what is new off the
//! async threads, and write each source's result and schedule in one transaction. A failure of
//! one source is recorded on that source and never removes its offerings; only a store error
//! stops the round.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use coalesce_core::dedup::DedupError;
use coalesce_core::{Sector, Vocabulary};
use coalesce_ingest::{HtmlRules, Kind, ParseHints, Parsed};
use coalesce_store::{
    ApplySummary, FetchFailure, FetchLog, FetchResult, Schedule, Snapshot, Source, SourceId, Store,
    StoreError,
};
use serde::Serialize;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::config::CrawlSpec;
use crate::error::FetchError;
use crate::fetch::{FetchResponse, Fetcher, Outcome, Validators};
use crate::gate::HostGate;
use crate::hints;
use crate::run::{Job, fetch_all_until};
use crate::schedule::{self, Change, Failure};

/// Fetch history entries kept per source (its status page shows them).
pub const FETCH_HISTORY_KEPT: u32 = 20;

/// Which sources a round takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    /// Enabled, unpaused sources whose next due time has come.
    Due,
    /// Every enabled, unpaused source, due or not (`coalesce crawl --once`).
    All,
    /// This one source, due or not (a paused one is reported, not fetched).
    One(SourceId),
}

/// One source finished; handed to the progress callback.
#[derive(Debug, Clone, Serialize)]
pub struct Progress {
    pub done: usize,
    pub total: usize,
    pub source_id: SourceId,
    /// `provider/name`.
    pub source: String,
    /// What this source's fetch did, as its history records it (`report.outcome` is
    /// `fetched`, `not_modified`, `unchanged`, or the failure's code).
    pub report: FetchLog,
}

/// Offering counts over all sources of a round.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OfferingCounts {
    pub new: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub restored: u64,
    pub removed: u64,
}

/// What a round did, truthfully: every picked source lands in exactly one of `fetched`,
/// `not_modified`, `unchanged`, `failed`, `skipped` or `cancelled`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CrawlSummary {
    pub sources: usize,
    /// New content, parsed and applied.
    pub fetched: usize,
    /// 304 Not Modified.
    pub not_modified: usize,
    /// 200 with the bytes we already hold (a server ignoring conditional requests).
    pub unchanged: usize,
    /// Failures by stable code (`http_status`, `timeout`, `malformed_document`, ...).
    pub failed: BTreeMap<String, usize>,
    /// Sources not fetched, by reason (`paused`, `not_http`).
    pub skipped: BTreeMap<String, usize>,
    /// Fetches stopped by shutdown: not failures, nothing recorded.
    pub cancelled: usize,
    pub offerings: OfferingCounts,
    /// Anomalies other than plain failures (`empty_fetch`, `shrunken_fetch`, ...), by code.
    pub anomalies: BTreeMap<String, usize>,
    /// Sources paused by this round (after too many failures in a row).
    pub paused: Vec<SourceId>,
    /// Sources whose URL changed after a confirmed permanent redirect.
    pub moved: Vec<SourceId>,
    /// Offerings that joined, left or moved between duplicate clusters.
    pub reclustered: u64,
}

impl CrawlSummary {
    pub fn failed_total(&self) -> usize {
        self.failed.values().sum()
    }
}

/// Why a round stopped. A source's own failure is never one of these: it is recorded on the
/// source.
#[derive(Debug, thiserror::Error)]
pub enum CrawlError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("cannot set up the http client: {0}")]
    Client(FetchError),
    #[error("cannot compute duplicate clusters: {0}")]
    Dedup(#[from] DedupError),
}

impl CrawlError {
    pub fn code(&self) -> &'static str {
        match self {
            CrawlError::Store(e) => e.code(),
            CrawlError::Client(e) => e.code(),
            CrawlError::Dedup(e) => e.code(),
        }
    }
}

/// The crawler: the store, one guarded fetcher and one host gate for the life of the process
/// (so politeness holds across rounds). Cheap to share behind an `Arc`.
pub struct Crawler {
    store: Store,
    fetcher: Arc<Fetcher>,
    gate: Arc<HostGate>,
    spec: CrawlSpec,
    vocabulary: Arc<Vocabulary>,
    /// Clusters follow changes block by block across rounds (one round at a time holds it).
    dedup: tokio::sync::Mutex<crate::catalog::Reclusterer>,
}

impl Crawler {
    pub fn new(store: Store, spec: CrawlSpec) -> Result<Crawler, CrawlError> {
        let fetcher = Fetcher::new(spec.fetch.clone()).map_err(CrawlError::Client)?;
        Ok(Crawler::with_fetcher(store, spec, Arc::new(fetcher)))
    }

    /// With a fetcher built elsewhere (tests inject a fake resolver and a dial filter). Its
    /// own config wins over `spec.fetch`.
    pub fn with_fetcher(store: Store, spec: CrawlSpec, fetcher: Arc<Fetcher>) -> Crawler {
        let gate = Arc::new(HostGate::new(spec.concurrency, spec.per_host_delay));
        Crawler {
            store,
            fetcher,
            gate,
            spec,
            vocabulary: Arc::new(Vocabulary::builtin()),
            dedup: tokio::sync::Mutex::new(crate::catalog::Reclusterer::default()),
        }
    }

    /// The topic vocabulary parsing tags offerings with (the built-in one by default).
    pub fn set_vocabulary(&mut self, vocabulary: Arc<Vocabulary>) {
        self.vocabulary = vocabulary;
    }

    pub fn fetcher(&self) -> &Arc<Fetcher> {
        &self.fetcher
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The registration-time check of a source URL: parsed, http(s), and an address the
    /// crawler may fetch. No network.
    pub fn check_url(&self, url: &str) -> Result<Url, FetchError> {
        check_url(&self.fetcher, url)
    }

    /// One round. `now` is the round's clock (each fetch is stamped `now` + elapsed time);
    /// `cancel` stops it early without counting the stopped fetches as failures; `progress`
    /// hears about each source as it is settled.
    pub async fn run(
        &self,
        selection: Selection,
        now: DateTime<Utc>,
        cancel: &CancellationToken,
        progress: &(dyn Fn(&Progress) + Send + Sync),
    ) -> Result<CrawlSummary, CrawlError> {
        let sources = self.pick(selection, now).await?;
        let mut summary = CrawlSummary {
            sources: sources.len(),
            ..CrawlSummary::default()
        };
        let mut jobs = Vec::with_capacity(sources.len());
        let mut pending: HashMap<String, Source> = HashMap::with_capacity(sources.len());
        let mut changed: Vec<coalesce_store::OfferingId> = Vec::new();
        let total = sources.len();
        let mut done = 0;
        for source in sources {
            if source.status.paused {
                *summary.skipped.entry("paused".to_owned()).or_default() += 1;
                continue;
            }
            let url = match Url::parse(&source.url) {
                Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(u),
                // Imported files (`file:`) are sources without a fetchable URL, not failures.
                Ok(u) if u.scheme() == "file" => {
                    *summary.skipped.entry("not_http".to_owned()).or_default() += 1;
                    continue;
                }
                Ok(u) => Err(FetchError::BadScheme {
                    scheme: u.scheme().to_owned(),
                }),
                Err(e) => Err(FetchError::BadUrl {
                    url: source.url.clone(),
                    reason: e.to_string(),
                }),
            };
            let url = match url {
                Ok(u) => u,
                // Recorded on the source like any failed fetch, without a request.
                Err(e) => {
                    done += 1;
                    let settled = self.settle(&source, now, Err(e), &mut summary).await;
                    record(settled, &source, &mut summary, &mut changed, |report| {
                        progress(&progress_of(done, total, &source, report));
                    });
                    continue;
                }
            };
            let st = &source.status;
            jobs.push(Job {
                id: source.id.0.to_string(),
                url,
                validators: Validators {
                    etag: st.etag.clone(),
                    last_modified: st.last_modified.clone(),
                    content_hash: st.content_hash.clone(),
                },
            });
            pending.insert(source.id.0.to_string(), source);
        }

        let mut results = fetch_all_until(
            Arc::clone(&self.fetcher),
            Arc::clone(&self.gate),
            jobs,
            now,
            cancel.child_token(),
        );
        loop {
            let next = tokio::select! {
                biased;
                () = cancel.cancelled() => None,
                d = results.recv() => d,
            };
            let Some(d) = next else { break };
            let Some(source) = pending.remove(&d.job.id) else {
                continue;
            };
            done += 1;
            let settled = self.settle(&source, d.at, d.result, &mut summary).await;
            record(settled, &source, &mut summary, &mut changed, |report| {
                progress(&progress_of(done, total, &source, report));
            });
        }
        summary.cancelled = pending.len();
        if summary.cancelled > 0 {
            tracing::info!(
                cancelled = summary.cancelled,
                "crawl stopped; unfinished fetches not recorded"
            );
        }
        // Clusters follow the offerings even on shutdown: the applied changes are committed.
        // Every round, even one that fetched nothing new: offerings also change outside the
        // crawl (take-downs, deleted sources), and the reclusterer finds those in the store.
        summary.reclustered = self
            .dedup
            .lock()
            .await
            .update(&self.store, &changed, now)
            .await?;
        Ok(summary)
    }

    async fn pick(
        &self,
        selection: Selection,
        now: DateTime<Utc>,
    ) -> Result<Vec<Source>, CrawlError> {
        match selection {
            Selection::One(id) => match self.store.source(id).await? {
                Some(s) => Ok(vec![s]),
                None => Err(StoreError::UnknownSource(id).into()),
            },
            Selection::All => {
                let mut all = self.store.sources().await?;
                all.retain(|s| s.enabled);
                all.truncate(self.spec.max_sources_per_run as usize);
                Ok(all)
            }
            Selection::Due => {
                let due = self
                    .store
                    .due_sources(now, self.spec.max_sources_per_run)
                    .await?;
                let wanted: HashSet<SourceId> = due.iter().copied().collect();
                let mut by_id: HashMap<SourceId, Source> = self
                    .store
                    .sources()
                    .await?
                    .into_iter()
                    .filter(|s| wanted.contains(&s.id))
                    .map(|s| (s.id, s))
                    .collect();
                // Most overdue first, as the store ordered them.
                Ok(due.iter().filter_map(|id| by_id.remove(id)).collect())
            }
        }
    }

    /// Records one source's fetch: result and schedule in one transaction, then the entry of
    /// its fetch history. Returns the offerings that changed (their clusters need a look) and
    /// that history entry.
    async fn settle(
        &self,
        source: &Source,
        at: DateTime<Utc>,
        result: Result<FetchResponse, FetchError>,
        summary: &mut CrawlSummary,
    ) -> Result<(Vec<coalesce_store::OfferingId>, FetchLog), CrawlError> {
        let key = source.id.0.to_string();
        let mut report = FetchLog {
            at,
            ..FetchLog::default()
        };
        let spec = &self.spec.schedule;
        let mut status = schedule_status(&source.status);
        let (fetch_result, change, outcome) = match result {
            Err(e) => {
                tracing::info!(source = %key, code = e.code(), error = %e, "fetch failed");
                *summary.failed.entry(e.code().to_owned()).or_default() += 1;
                let change = status.record_failure(spec, &key, at, &e);
                let failure = FetchFailure {
                    code: e.code().to_owned(),
                    message: e.to_string(),
                    http_status: e.status(),
                };
                report.http_status = e.status();
                report.message = Some(e.to_string());
                (FetchResult::Failed(failure), change, e.code().to_owned())
            }
            Ok(resp) if resp.outcome != Outcome::Fresh => {
                let outcome = if resp.outcome == Outcome::NotModified {
                    summary.not_modified += 1;
                    "not_modified"
                } else {
                    summary.unchanged += 1;
                    "unchanged"
                };
                let change = status.record_success(
                    spec,
                    &key,
                    at,
                    resp.status,
                    resp.fresh_until,
                    resp.permanent_redirect.as_ref(),
                );
                let result = FetchResult::NotModified {
                    http_status: Some(resp.status),
                };
                report.http_status = Some(resp.status);
                (result, change, outcome.to_owned())
            }
            Ok(resp) => match self.parse(source, &resp, at).await {
                Ok((parsed, pages)) => {
                    summary.fetched += 1;
                    let ttl = parsed
                        .ttl
                        .map(|m| hints::ttl_until(m, at, self.fetcher.config().max_hint));
                    let change = status.record_success(
                        spec,
                        &key,
                        at,
                        resp.status,
                        resp.fresh_until.max(ttl),
                        resp.permanent_redirect.as_ref(),
                    );
                    let warnings = parsed.warnings.len();
                    for w in &parsed.warnings {
                        *report
                            .warnings
                            .entry(w.code.as_str().to_owned())
                            .or_default() += 1;
                    }
                    report.http_status = Some(resp.status);
                    report.offerings = parsed.offerings.len() as u64;
                    let snapshot = Snapshot {
                        platform: parsed.platform.map(str::to_owned),
                        offerings: parsed.offerings,
                        warnings,
                        http_status: Some(resp.status),
                        // The first page's validators say nothing about the others: a
                        // paged source is fetched fresh every time.
                        etag: resp.validators.etag.filter(|_| pages == 1),
                        last_modified: resp.validators.last_modified.filter(|_| pages == 1),
                        content_hash: resp.validators.content_hash.filter(|_| pages == 1),
                    };
                    (FetchResult::Fetched(snapshot), change, "fetched".to_owned())
                }
                Err((code, message)) => {
                    tracing::info!(source = %key, code, error = %message, "document unreadable");
                    *summary.failed.entry(code.to_owned()).or_default() += 1;
                    let change = status.record_failure_code(
                        spec,
                        &key,
                        at,
                        Failure {
                            code,
                            message: message.clone(),
                            http_status: Some(resp.status),
                            retry_at: None,
                        },
                    );
                    report.http_status = Some(resp.status);
                    report.message = Some(message.clone());
                    let failure = FetchFailure {
                        code: code.to_owned(),
                        message,
                        http_status: Some(resp.status),
                    };
                    (FetchResult::Failed(failure), change, code.to_owned())
                }
            },
        };
        let plan = Schedule {
            next_due_at: status.next_due,
            pause: change == Change::Paused,
            redirect_to: status.redirect_to.clone(),
            redirect_seen: status.redirect_seen,
            move_to: match &change {
                Change::MoveTo(url) => Some(url.to_string()),
                _ => None,
            },
        };
        let applied = self
            .store
            .apply_scheduled(source.id, &fetch_result, &plan, at)
            .await?;
        match change {
            Change::Paused => {
                tracing::warn!(source = %key, failures = status.consecutive_failures, "source paused");
                summary.paused.push(source.id);
            }
            Change::MoveTo(url) => {
                tracing::info!(source = %key, to = %url, "permanent redirect confirmed");
                summary.moved.push(source.id);
            }
            Change::None => {}
        }
        count(summary, &applied);
        report.new = applied.new;
        report.updated = applied.updated;
        report.removed = applied.removed;
        report.outcome = outcome;
        // The history is for people; losing one entry must not fail the round.
        if let Err(e) = self
            .store
            .record_fetch(source.id, &report, FETCH_HISTORY_KEPT)
            .await
        {
            tracing::warn!(source = %key, code = e.code(), error = %e, "fetch history not recorded");
        }
        Ok((applied.changed, report))
    }

    /// Parses off the async threads with the source's own settings; the base URL is where the
    /// document really came from (after redirects).
    async fn parse(
        &self,
        source: &Source,
        resp: &FetchResponse,
        now: DateTime<Utc>,
    ) -> Result<(Parsed, usize), (&'static str, String)> {
        let mut parsed = self.parse_page(source, resp, now).await?;
        // An events API that pages (The Events Calendar's REST API, Localist) is read to its
        // end, politely, as one document: a page left out would look like removed events.
        // Any page failing fails the whole fetch, so nothing is removed for it.
        let mut pages = 1;
        while let Some(next) = parsed.next_page.take() {
            if pages >= MAX_PAGES {
                return Err((
                    "too_many_pages",
                    format!("the source pages past {MAX_PAGES} pages; nothing was applied"),
                ));
            }
            pages += 1;
            let host = next.host_str().unwrap_or_default().to_owned();
            let permit = self
                .gate
                .acquire(&host, self.fetcher.robots_delay(&next))
                .await
                .map_err(|_| ("cancelled", "the crawl is stopping".to_owned()))?;
            let page = self.fetcher.get(&next, now).await;
            drop(permit);
            let page = page.map_err(|e| (e.code(), format!("page {pages} ({next}): {e}")))?;
            let more = self.parse_page(source, &page, now).await?;
            parsed.offerings.extend(more.offerings);
            parsed.warnings.extend(more.warnings);
            parsed.next_page = more.next_page;
        }
        Ok((parsed, pages))
    }

    /// Parses one fetched document with the source's settings.
    async fn parse_page(
        &self,
        source: &Source,
        resp: &FetchResponse,
        now: DateTime<Utc>,
    ) -> Result<Parsed, (&'static str, String)> {
        let mut hints = ParseHints::new(now);
        hints.kind = source.kind.as_deref().and_then(Kind::parse);
        hints.content_type = resp.content_type.clone();
        hints.base_url = Some(resp.final_url.clone());
        hints.vocabulary = Arc::clone(&self.vocabulary);
        let settings = &source.settings;
        if let Some(tz) = settings.get("timezone").and_then(|v| v.as_str()) {
            hints.timezone = coalesce_ingest::tz::resolve(tz);
        }
        if let Some(dates) = settings.get("dates").and_then(|v| v.as_str()) {
            hints.dates = coalesce_ingest::DatesConvention::parse(dates).unwrap_or_default();
        }
        (hints.sectors, hints.audience) = publisher_defaults(
            settings,
            &source.provider_sectors,
            source.provider_audience.as_deref(),
        );
        if let Some(rules) = settings.get("html_rules").filter(|v| !v.is_null()) {
            let rules = serde_json::from_value::<HtmlRules>(rules.clone()).map_err(|e| {
                (
                    "bad_source_settings",
                    format!("html_rules in the source settings are not readable: {e}"),
                )
            })?;
            hints.html_rules = Some(rules);
        }
        let body = resp.body.clone();
        match tokio::task::spawn_blocking(move || coalesce_ingest::parse(&body, &hints)).await {
            Ok(Ok(parsed)) => Ok(parsed),
            Ok(Err(e)) => Err((e.code(), e.to_string())),
            Err(e) => Err(("parse_panicked", format!("the parser stopped: {e}"))),
        }
    }
}

/// Who a source's offerings are for when their text does not say: the source's own `sectors`
/// and `audience` settings override its provider's declared ones, field by field. Unknown
/// sector names in stored settings are skipped (the API refuses them on the way in).
pub fn publisher_defaults(
    settings: &serde_json::Value,
    provider_sectors: &[Sector],
    provider_audience: Option<&str>,
) -> (Vec<Sector>, Option<String>) {
    let sectors = match settings.get("sectors").and_then(|v| v.as_array()) {
        Some(list) => {
            let mut s: Vec<Sector> = list
                .iter()
                .filter_map(|v| v.as_str().and_then(Sector::parse))
                .collect();
            s.sort();
            s.dedup();
            s
        }
        None => provider_sectors.to_vec(),
    };
    let audience = match settings.get("audience") {
        Some(v) => v
            .as_str()
            .map(str::to_owned)
            .filter(|a| !a.trim().is_empty()),
        None => provider_audience.map(str::to_owned),
    };
    (sectors, audience)
}

/// The registration-time check: parsed, http(s), and an address `fetcher` may reach.
pub fn check_url(fetcher: &Fetcher, url: &str) -> Result<Url, FetchError> {
    let parsed = Url::parse(url.trim()).map_err(|e| FetchError::BadUrl {
        url: url.to_owned(),
        reason: e.to_string(),
    })?;
    fetcher.check_url(&parsed)?;
    Ok(parsed)
}

fn count(summary: &mut CrawlSummary, applied: &ApplySummary) {
    let o = &mut summary.offerings;
    o.new += applied.new;
    o.updated += applied.updated;
    o.unchanged += applied.unchanged;
    o.restored += applied.restored;
    o.removed += applied.removed;
    if let Some(a) = &applied.anomaly
        && a.code() != "fetch_failed"
    {
        *summary.anomalies.entry(a.code().to_owned()).or_default() += 1;
    }
}

/// The scheduling view of what the store holds about a source.
fn schedule_status(s: &coalesce_store::SourceStatus) -> schedule::SourceStatus {
    schedule::SourceStatus {
        last_attempt: s.last_attempt_at,
        last_success: s.last_success_at,
        consecutive_failures: u32::try_from(s.consecutive_failures).unwrap_or(u32::MAX),
        last_error_code: s.last_error_code.clone(),
        last_error_message: s.last_error_message.clone(),
        http_status: s.http_status.and_then(|h| u16::try_from(h).ok()),
        next_due: s.next_due_at,
        paused: s.paused,
        redirect_to: s.redirect_to.clone(),
        redirect_seen: u32::try_from(s.redirect_seen).unwrap_or(0),
    }
}

/// Most pages one paged source (an events API) is read to; past it the fetch fails.
const MAX_PAGES: usize = 50;

/// Takes one settled fetch into the round: its changed offerings to recluster and its history
/// entry to `report`; a fetch that could not be recorded goes to [`unsettled`].
fn record(
    settled: Result<(Vec<coalesce_store::OfferingId>, FetchLog), CrawlError>,
    source: &Source,
    summary: &mut CrawlSummary,
    changed: &mut Vec<coalesce_store::OfferingId>,
    report: impl FnOnce(FetchLog),
) {
    match settled {
        Ok((source_changed, log)) => {
            changed.extend(source_changed);
            report(log);
        }
        Err(e) => unsettled(source, &e, summary),
    }
}

fn progress_of(done: usize, total: usize, source: &Source, report: FetchLog) -> Progress {
    Progress {
        done,
        total,
        source_id: source.id,
        source: format!("{}/{}", source.provider, source.name),
        report,
    }
}

/// A fetch whose result could not be recorded. One source never fails the round: a source
/// deleted while its fetch ran is skipped (its result has nowhere to go), and a store failure
/// for one source is counted under its code while the others are still applied.
fn unsettled(source: &Source, e: &CrawlError, summary: &mut CrawlSummary) {
    let key = source.id.0;
    if matches!(e, CrawlError::Store(StoreError::UnknownSource(_))) {
        tracing::info!(
            source = key,
            "source deleted during the round; its fetch is dropped"
        );
        *summary.skipped.entry("deleted".to_owned()).or_default() += 1;
    } else {
        tracing::error!(source = key, code = e.code(), error = %e, "fetch result not recorded");
        *summary.failed.entry(e.code().to_owned()).or_default() += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_settings_override_the_provider_defaults_field_by_field() {
        let cases = [
            (
                "provider defaults",
                serde_json::json!({"timezone": "America/Halifax"}),
                vec![Sector::Archives],
                Some("archivists"),
            ),
            (
                "own sectors, provider audience",
                serde_json::json!({"sectors": ["museums", "libraries", "museums", "zoos"]}),
                vec![Sector::Libraries, Sector::Museums],
                Some("archivists"),
            ),
            (
                "own audience cleared",
                serde_json::json!({"audience": null}),
                vec![Sector::Archives],
                None,
            ),
            (
                "no sectors on purpose",
                serde_json::json!({"sectors": [], "audience": "board members"}),
                vec![],
                Some("board members"),
            ),
        ];
        for (name, settings, sectors, audience) in cases {
            let (s, a) = publisher_defaults(&settings, &[Sector::Archives], Some("archivists"));
            assert_eq!(s, sectors, "{name}");
            assert_eq!(a.as_deref(), audience, "{name}");
        }
    }
}
