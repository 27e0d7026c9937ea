//! Any search as a subscription: `/calendar.ics`, `/feed.atom`, `/feed.json`, one offering as
//! `.ics`, and `/api/v1/subscriptions` (the URLs of all of them for a search).
//!
//! Entries come from the index (the same filters and clusters as the JSON search, canonical
//! members only) and their bodies from the store (the system of record, with its `sequence` and
//! `updated_at` that become SEQUENCE and LAST-MODIFIED). Bodies are written by the pure writers
//! in [`crate::feeds`]; their ETag is a hash of the bytes, so it changes exactly when the bytes
//! do. The clock is floored to the hour before it shapes a feed, so repeated polls within an
//! hour get the same bytes and a 304.

use std::collections::{HashMap, HashSet};

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, DurationRound, Utc};
use coalesce_core::Offering;
use coalesce_index::{MAX_LIMIT, SearchHit, SortOrder};
use coalesce_store::{OfferingId, StoredOffering};
use serde_json::json;

use crate::error::ApiError;
use crate::feeds::{
    CalendarLimits, FeedEntry, FeedMeta, etag, write_atom, write_calendar, write_json_feed,
    write_offering_ics,
};
use crate::params::{Accept, Filters, Params};
use crate::routes::{ClusterView, cluster_view, provider_names, run_search};
use crate::state::AppState;

/// Default calendar window: a week back (so this week's sessions stay visible) to a year ahead.
pub const WINDOW_BACK_DAYS: i64 = 7;
pub const WINDOW_AHEAD_DAYS: i64 = 365;
/// Longest window a request may ask for.
pub const MAX_WINDOW_DAYS: i64 = 3 * 366;
/// Entries of an Atom or JSON feed: default and most.
pub const FEED_DEFAULT_ENTRIES: usize = 50;
pub const FEED_MAX_ENTRIES: usize = 500;

/// One offering ready for a writer, owning what the [`FeedEntry`] borrows.
struct Owned {
    /// The offering id its UIDs are made of.
    id: String,
    sequence: i64,
    updated_at: DateTime<Utc>,
    offering: Offering,
    provider: String,
    also: Vec<String>,
    topic_labels: Vec<String>,
    detail_url: String,
}

impl Owned {
    fn entry(&self) -> FeedEntry<'_> {
        FeedEntry {
            id: &self.id,
            offering: &self.offering,
            provider: &self.provider,
            sequence: u32::try_from(self.sequence).unwrap_or(u32::MAX),
            updated_at: self.updated_at,
            also_offered_by: self.also.clone(),
            topic_labels: self.topic_labels.clone(),
            detail_url: self.detail_url.clone(),
        }
    }
}

/// The vocabulary's labels of `topics` (an id it does not know stays as it is).
fn topic_labels(state: &AppState, topics: &[String]) -> Vec<String> {
    topics
        .iter()
        .map(|t| {
            state
                .vocabulary
                .topic(t)
                .map_or_else(|| t.clone(), |x| x.label.clone())
        })
        .collect()
}

fn hour_floor(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(Duration::hours(1)).unwrap_or(t)
}

/// Keeps the sessions that overlap `[from, to)`; an offering's undated state is left alone.
fn in_window(o: &Offering, from: DateTime<Utc>, to: Option<DateTime<Utc>>) -> Offering {
    let mut o = o.clone();
    o.occurrences.retain(|occ| {
        let end = occ.end.unwrap_or(occ.start);
        end >= from && to.is_none_or(|to| occ.start < to)
    });
    o
}

/// Walks the search for `filters` page by page (sorted by start) and loads the store records of
/// the hits, until `max_hits` hits or `max_sessions` sessions in the window are collected.
async fn collect(
    state: &AppState,
    filters: &Filters,
    now: DateTime<Utc>,
    dated_only: bool,
    max_hits: usize,
    max_sessions: usize,
) -> Result<Vec<Owned>, ApiError> {
    let names = provider_names(state).await?;
    let shown = |p: &str| names.get(p).cloned().unwrap_or_else(|| p.to_string());
    let from = filters.from.unwrap_or(now);
    let mut req = filters.request(now);
    req.sort = Some(SortOrder::Start);
    if dated_only {
        req.include_on_demand = false;
    }
    let mut out: Vec<Owned> = Vec::new();
    let mut sessions = 0usize;
    let mut seen: HashSet<String> = HashSet::new();
    loop {
        req.limit = MAX_LIMIT.min(max_hits - out.len()).max(1);
        let page = run_search(state, req.clone()).await?;
        let ids: Vec<OfferingId> = page.hits.iter().map(|h| OfferingId(h.id.clone())).collect();
        let mut records: HashMap<OfferingId, StoredOffering> = state
            .store
            .offerings_by_ids(&ids)
            .await?
            .into_iter()
            .map(|o| (o.id.clone(), o))
            .collect();
        for hit in &page.hits {
            // The index may trail the store by one catch-up: trust the store's removal.
            let Some(stored) = records.remove(&OfferingId(hit.id.clone())) else {
                continue;
            };
            if stored.removed_at.is_some() || !seen.insert(hit.id.clone()) {
                continue;
            }
            let offering = in_window(&stored.offering, from, filters.to);
            if dated_only && offering.occurrences.is_empty() {
                continue;
            }
            sessions += offering.occurrences.len();
            out.push(owned(state, stored, offering, hit, &shown));
        }
        match page.next_cursor {
            Some(c) if out.len() < max_hits && sessions < max_sessions => req.cursor = Some(c),
            _ => return Ok(out),
        }
    }
}

fn owned(
    state: &AppState,
    stored: StoredOffering,
    offering: Offering,
    hit: &SearchHit,
    shown: &dyn Fn(&str) -> String,
) -> Owned {
    let topic_labels = topic_labels(state, &offering.topics);
    let mut also: Vec<String> = Vec::new();
    for a in &hit.also_offered_by {
        if !also.contains(&a.provider_name) && a.provider_id != stored.provider {
            also.push(a.provider_name.clone());
        }
    }
    Owned {
        detail_url: format!(
            "{}/api/v1/offerings/{}",
            state.config.public_base_url, stored.id
        ),
        provider: shown(&stored.provider),
        id: stored.id.0,
        sequence: stored.sequence,
        updated_at: stored.updated_at,
        offering,
        also,
        topic_labels,
    }
}

/// How long a withdrawn offering stays in calendars as cancelled.
pub const WITHDRAWN_DAYS: i64 = 30;

/// Offerings taken down (or whose source was deleted) in the last [`WITHDRAWN_DAYS`] while
/// they were upcoming, as cancelled entries with SEQUENCE one above what subscribers last got:
/// a calendar client then marks its copy cancelled instead of leaving it (clients keep events
/// that merely vanish from a subscription, or drop them without a word). Matched against the
/// calendar's filters in memory ([`tombstone_matches`]); one that is live again is skipped.
async fn withdrawn(
    state: &AppState,
    filters: &Filters,
    now: DateTime<Utc>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Owned>, ApiError> {
    let stones = state
        .store
        .calendar_tombstones(now - Duration::days(WITHDRAWN_DAYS))
        .await?;
    if stones.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<OfferingId> = stones.iter().map(|t| t.offering_id.clone()).collect();
    let live: HashSet<OfferingId> = state
        .store
        .offerings_by_ids(&ids)
        .await?
        .into_iter()
        .filter(|o| o.removed_at.is_none())
        .map(|o| o.id)
        .collect();
    let names = provider_names(state).await?;
    let mut out = Vec::new();
    for t in stones {
        if live.contains(&t.offering_id) || !tombstone_matches(filters, &t.provider, &t.offering) {
            continue;
        }
        let mut offering = in_window(&t.offering, from, Some(to));
        if offering.occurrences.is_empty() {
            continue;
        }
        offering.status = coalesce_core::Status::Cancelled;
        out.push(Owned {
            detail_url: format!(
                "{}/api/v1/offerings/{}",
                state.config.public_base_url, t.offering_id
            ),
            provider: names
                .get(&t.provider)
                .cloned()
                .unwrap_or_else(|| t.provider.clone()),
            topic_labels: topic_labels(state, &offering.topics),
            also: Vec::new(),
            id: t.offering_id.0,
            sequence: t.sequence.saturating_add(1),
            updated_at: t.removed_at,
            offering,
        });
    }
    Ok(out)
}

/// Whether a withdrawn offering belongs to a calendar with these filters. The index no longer
/// has it, so this is the search's filters on the stored record: providers, topics, sectors,
/// modalities, free and credits exactly; the words of `q` as prefixes of the folded title and
/// text (stemming approximated by the first five letters). Statuses are not applied: the entry
/// is cancelled, which is exactly what a subscriber of scheduled events must learn.
fn tombstone_matches(f: &Filters, provider: &str, o: &Offering) -> bool {
    use coalesce_core::normalize::fold_for_match;
    if !f.providers.is_empty() && !f.providers.iter().any(|p| p == provider) {
        return false;
    }
    if !f.topics.is_empty() && !f.topics.iter().any(|t| o.topics.contains(t)) {
        return false;
    }
    if !f.sectors.is_empty() && !f.sectors.iter().any(|s| o.sectors.contains(s)) {
        return false;
    }
    if !f.modalities.is_empty() && !o.modality.is_some_and(|m| f.modalities.contains(&m)) {
        return false;
    }
    if let Some(free) = f.free
        && o.cost.free != Some(free)
    {
        return false;
    }
    if f.credits.is_some() && o.credits.is_empty() {
        return false;
    }
    if let Some(q) = &f.q {
        let text = fold_for_match(&format!(
            "{} {} {}",
            o.title,
            o.summary.as_deref().unwrap_or(""),
            o.description_html.as_deref().unwrap_or("")
        ));
        let words: Vec<&str> = text.split(' ').collect();
        let query = fold_for_match(q);
        for term in query.split(' ').filter(|w| w.len() >= 3) {
            if ["and", "not"].contains(&term) {
                continue;
            }
            let stem: String = term.chars().take(5).collect();
            if !words.iter().any(|w| w.starts_with(&stem)) {
                return false;
            }
        }
    }
    true
}

/// The newest change anywhere in the catalog: a removal or a filter change moves no entry's own
/// date, so Last-Modified must not rest on entries alone.
async fn catalog_changed_at(state: &AppState) -> Result<Option<DateTime<Utc>>, ApiError> {
    let wm = state.store.watermark().await?;
    if wm <= 0 {
        return Ok(None);
    }
    Ok(state
        .store
        .changes_since(wm - 1, 1)
        .await?
        .first()
        .map(|c| c.at))
}

/// True when the client's copy is current (RFC 9110: If-None-Match wins over If-Modified-Since).
fn not_modified(headers: &HeaderMap, tag: &str, last_modified: DateTime<Utc>) -> bool {
    if let Some(inm) = headers.get(header::IF_NONE_MATCH) {
        let Ok(inm) = inm.to_str() else { return false };
        return inm
            .split(',')
            .map(str::trim)
            .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == tag);
    }
    if let Some(ims) = headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok())
    {
        let ims: DateTime<Utc> = ims.into();
        return last_modified.timestamp() <= ims.timestamp();
    }
    false
}

/// A cacheable feed answer: 200 with the body, or 304 when the client has these bytes.
fn conditional(
    state: &AppState,
    headers: &HeaderMap,
    body: String,
    content_type: &'static str,
    last_modified: DateTime<Utc>,
    extra: &[(&'static str, String)],
) -> Response {
    let tag = etag(body.as_bytes());
    let status = if not_modified(headers, &tag, last_modified) {
        StatusCode::NOT_MODIFIED
    } else {
        StatusCode::OK
    };
    let mut res = if status == StatusCode::OK {
        (status, body).into_response()
    } else {
        status.into_response()
    };
    let h = res.headers_mut();
    let lm = httpdate::fmt_http_date(std::time::SystemTime::from(last_modified));
    let cache = format!("public, max-age={}", state.config.feed_max_age.as_secs());
    for (name, value) in [
        (header::ETAG, tag),
        (header::LAST_MODIFIED, lm),
        (header::CACHE_CONTROL, cache),
        (header::CONTENT_TYPE, content_type.to_string()),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    }
    for (name, value) in extra {
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(*name, v);
        }
    }
    res
}

fn self_url(state: &AppState, path: &str, filters: &Filters) -> String {
    let qs = filters.query_string();
    if qs.is_empty() {
        format!("{}{path}", state.config.public_base_url)
    } else {
        format!("{}{path}?{qs}", state.config.public_base_url)
    }
}

/// The window a calendar of `filters` covers at `now`: the filters' own, else from a while
/// back to a while ahead; refused when empty or longer than [`MAX_WINDOW_DAYS`].
fn calendar_window(
    filters: &Filters,
    now: DateTime<Utc>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), ApiError> {
    let from = filters
        .from
        .unwrap_or(now - Duration::days(WINDOW_BACK_DAYS));
    let to = filters
        .to
        .unwrap_or(from.max(now) + Duration::days(WINDOW_AHEAD_DAYS));
    if to <= from {
        return Err(ApiError::bad("to must be after from"));
    }
    if to - from > Duration::days(MAX_WINDOW_DAYS) {
        return Err(ApiError::bad(format!(
            "the calendar window is at most {MAX_WINDOW_DAYS} days"
        )));
    }
    Ok((from, to))
}

pub(crate) async fn calendar(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let params = Params::parse(query.as_deref(), Accept::Feed, &state.vocabulary)?;
    if params.paging.limit.is_some() {
        return Err(ApiError::bad("the calendar takes max_events, not limit"));
    }
    let now = hour_floor(state.clock.now());
    let mut filters = params.filters.clone();
    let (from, to) = calendar_window(&filters, now)?;
    filters.from = Some(from);
    filters.to = Some(to);
    let defaults = state.config.calendar_limits;
    let limits = CalendarLimits::clamped(
        params.feed.max_events.unwrap_or(defaults.max_events),
        params
            .feed
            .max_kb
            .map_or(defaults.max_bytes, |kb| kb.saturating_mul(1024)),
    );
    let mut owned = collect(
        &state,
        &filters,
        now,
        true,
        limits.max_events,
        limits.max_events,
    )
    .await?;
    owned.extend(withdrawn(&state, &filters, now, from, to).await?);
    let entries: Vec<FeedEntry<'_>> = owned.iter().map(Owned::entry).collect();
    let meta = FeedMeta {
        name: params.filters.title(&state.vocabulary),
        description: params.filters.describe(&state.vocabulary),
        self_url: self_url(&state, "/calendar.ics", &params.filters),
        home_url: self_url(&state, "/api/v1/offerings", &params.filters),
        uid_domain: state.config.uid_domain.clone(),
        refresh: state.config.feed_refresh,
        generated_at: now,
    };
    let cal = write_calendar(&meta, &entries, &limits);
    let last_modified = [
        cal.last_modified,
        catalog_changed_at(&state).await?,
        Some(now),
    ]
    .into_iter()
    .flatten()
    .max()
    .unwrap_or(now);
    Ok(conditional(
        &state,
        &headers,
        cal.body,
        "text/calendar; charset=utf-8",
        last_modified,
        &[
            ("x-calendar-events", cal.events.to_string()),
            ("x-calendar-omitted-events", cal.omitted.to_string()),
        ],
    ))
}

async fn feed(
    state: AppState,
    query: Option<String>,
    headers: HeaderMap,
    atom: bool,
) -> Result<Response, ApiError> {
    let params = Params::parse(query.as_deref(), Accept::Feed, &state.vocabulary)?;
    let now = hour_floor(state.clock.now());
    let max = params
        .paging
        .limit
        .filter(|n| *n > 0)
        .unwrap_or(FEED_DEFAULT_ENTRIES)
        .min(FEED_MAX_ENTRIES);
    let owned = collect(&state, &params.filters, now, false, max, usize::MAX).await?;
    let entries: Vec<FeedEntry<'_>> = owned.iter().map(Owned::entry).collect();
    let path = if atom { "/feed.atom" } else { "/feed.json" };
    let meta = FeedMeta {
        name: params.filters.title(&state.vocabulary),
        description: params.filters.describe(&state.vocabulary),
        self_url: self_url(&state, path, &params.filters),
        home_url: self_url(&state, "/api/v1/offerings", &params.filters),
        uid_domain: state.config.uid_domain.clone(),
        refresh: state.config.feed_refresh,
        generated_at: now,
    };
    let (body, ctype) = if atom {
        (
            write_atom(&meta, &entries),
            "application/atom+xml; charset=utf-8",
        )
    } else {
        (write_json_feed(&meta, &entries), "application/feed+json")
    };
    let newest = owned.iter().map(|o| o.updated_at).max();
    let last_modified = [newest, catalog_changed_at(&state).await?, Some(now)]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(now);
    Ok(conditional(
        &state,
        &headers,
        body,
        ctype,
        last_modified,
        &[],
    ))
}

pub(crate) async fn feed_atom(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    feed(state, query, headers, true).await
}

pub(crate) async fn feed_json(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    feed(state, query, headers, false).await
}

/// "Add to my calendar" for one offering. A co-marketed copy answers with its cluster's
/// canonical record, so importing either copy gives the same UIDs as the subscribed calendar
/// and never a second event.
pub(crate) async fn offering_ics(state: &AppState, id: &str) -> Result<Response, ApiError> {
    let not_found = || ApiError::NotFound(format!("no offering with id {id:?}"));
    let mut stored = state
        .store
        .offering(&OfferingId(id.to_string()))
        .await?
        .filter(|o| o.removed_at.is_none())
        .ok_or_else(not_found)?;
    let mut also: Vec<String> = Vec::new();
    let names = provider_names(state).await?;
    let shown = |p: &str| names.get(p).cloned().unwrap_or_else(|| p.to_string());
    if let Some(cid) = stored.cluster_id.clone()
        && let Some(ClusterView {
            cluster: c,
            members,
            canonical,
        }) = cluster_view(state, &cid).await?
    {
        if let Some(canon) = canonical.and_then(|cid| members.get(&cid))
            && canon.id != stored.id
        {
            stored = canon.clone();
        }
        for m in c.members.iter().filter_map(|m| members.get(&m.offering_id)) {
            let name = shown(&m.provider);
            if m.id != stored.id
                && m.removed_at.is_none()
                && m.provider != stored.provider
                && !also.contains(&name)
            {
                also.push(name);
            }
        }
    }
    let owned = Owned {
        detail_url: format!(
            "{}/api/v1/offerings/{}",
            state.config.public_base_url, stored.id
        ),
        provider: shown(&stored.provider),
        topic_labels: topic_labels(state, &stored.offering.topics),
        also,
        id: stored.id.0.clone(),
        sequence: stored.sequence,
        updated_at: stored.updated_at,
        offering: stored.offering,
    };
    let body = write_offering_ics(&owned.entry(), &state.config.uid_domain).ok_or_else(|| {
        ApiError::NotFound(format!(
            "offering {id:?} has no dated sessions to add to a calendar"
        ))
    })?;
    let mut res = (StatusCode::OK, body).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/calendar; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{}.ics\"",
        owned
            .id
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect::<String>()
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    Ok(res)
}

/// `GET /api/v1/subscriptions?<filters>`: where to subscribe to this search.
pub(crate) async fn subscriptions(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let params = Params::parse(query.as_deref(), Accept::Filters, &state.vocabulary)?;
    let f = &params.filters;
    // Never hand out URLs that would answer 400: the query must parse as search parses it,
    // and the window must be one the calendar serves.
    if let Some(q) = f.q.as_deref() {
        coalesce_index::query::parse(q)?;
    }
    calendar_window(f, hour_floor(state.clock.now()))?;
    let https = |path: &str| self_url(&state, path, f);
    let webcal = |url: &str| {
        url.strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
            .map(|rest| format!("webcal://{rest}"))
    };
    let cal = https("/calendar.ics");
    let body = json!({
        "name": f.title(&state.vocabulary),
        "description": f.describe(&state.vocabulary),
        "query": f.query_string(),
        "calendar": { "url": cal, "webcal": webcal(&cal) },
        "atom": { "url": https("/feed.atom") },
        "json_feed": { "url": https("/feed.json") },
        "search": https("/api/v1/offerings"),
    });
    let mut res = (StatusCode::OK, body.to_string()).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(res)
}
