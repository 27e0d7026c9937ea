//! A provider's sources: register, list, show (status and recent fetches), patch, delete,
//! refresh, preview, discovery and batch registration. Every route checks ownership through
//! [`owned`]: another provider's source is a 403, an unknown one a 404.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use coalesce_ingest::{DatesConvention, Kind, ParseHints, Window};
use coalesce_store::{FetchLog, NewSource, Source, SourceId, SourceStatus};
use serde::{Deserialize, Serialize};
use url::Url;

use super::ManageState;
use super::auth::Caller;
use super::error::ManageError;
use super::limits::JsonBody;

/// Offerings shown in a preview; the counts cover all of them.
const PREVIEW_OFFERINGS: usize = 100;
const MAX_NAME_LEN: usize = 100;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceInput {
    /// Unique among the provider's sources.
    pub name: String,
    pub url: String,
    /// `rss`, `atom`, `jsonfeed`, `ics` or `html`; sniffed when absent.
    pub kind: Option<String>,
    /// IANA zone for floating times.
    pub timezone: Option<String>,
    /// What the feed's publication dates mean: `auto`, `published_is_start` or
    /// `published_is_not_start`.
    pub dates: Option<String>,
    pub enabled: Option<bool>,
    /// Overrides the provider's declared sectors for this source (e.g. a museum association's
    /// feed made for libraries).
    pub sectors: Option<Vec<String>>,
    /// Overrides the provider's default audience for this source.
    pub audience: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourcePatch {
    pub url: Option<String>,
    pub kind: Option<String>,
    pub timezone: Option<String>,
    pub dates: Option<String>,
    pub enabled: Option<bool>,
    pub sectors: Option<Vec<String>>,
    pub audience: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct SourceView {
    pub id: i64,
    pub provider: String,
    pub name: String,
    pub url: String,
    pub kind: Option<String>,
    pub timezone: Option<String>,
    /// The `dates` setting, when the source has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dates: Option<String>,
    /// The source's own sectors, when it overrides its provider's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sectors: Option<Vec<String>>,
    /// The source's own audience, when it overrides its provider's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub status: SourceStatus,
}

impl From<Source> for SourceView {
    fn from(s: Source) -> SourceView {
        SourceView {
            id: s.id.0,
            timezone: s
                .settings
                .get("timezone")
                .and_then(|v| v.as_str())
                .map(str::to_owned),
            dates: s
                .settings
                .get("dates")
                .and_then(|v| v.as_str())
                .map(str::to_owned),
            sectors: s
                .settings
                .get("sectors")
                .and_then(|v| v.as_array())
                .map(|list| {
                    list.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                }),
            audience: s
                .settings
                .get("audience")
                .and_then(|v| v.as_str())
                .map(str::to_owned),
            provider: s.provider,
            name: s.name,
            url: s.url,
            kind: s.kind,
            enabled: s.enabled,
            created_at: s.created_at,
            updated_at: s.updated_at,
            status: s.status,
        }
    }
}

/// The source with `id` if it belongs to `caller`.
pub(crate) async fn owned(
    state: &ManageState,
    caller: Caller,
    id: &str,
) -> Result<Source, ManageError> {
    let id: i64 = id.parse().map_err(|_| ManageError::NotFound)?;
    let source = state
        .store()
        .source(SourceId(id))
        .await?
        .ok_or(ManageError::NotFound)?;
    if source.provider_id != caller.0 {
        return Err(ManageError::Forbidden);
    }
    Ok(source)
}

/// A URL a provider gives us: parsed, bounded, and allowed by the address policy (so a
/// source pointing at our own network is refused at registration, not at first fetch).
pub(crate) fn check_url(state: &ManageState, raw: &str) -> Result<Url, ManageError> {
    let limit = state.inner.spec.max_url_len;
    if raw.len() > limit {
        return Err(ManageError::UrlTooLong { limit });
    }
    let url = Url::parse(raw.trim())
        .map_err(|e| ManageError::Invalid(format!("invalid url {raw:?}: {e}")))?;
    state
        .inner
        .fetcher
        .check_url(&url)
        .map_err(ManageError::Refused)?;
    Ok(url)
}

fn parse_kind(kind: Option<&str>) -> Result<Option<Kind>, ManageError> {
    Ok(match kind {
        None | Some("auto") => None,
        Some("rss") => Some(Kind::Rss),
        Some("atom") => Some(Kind::Atom),
        Some("jsonfeed") | Some("json_feed") => Some(Kind::JsonFeed),
        Some("ics") => Some(Kind::Ics),
        Some("html") => Some(Kind::Html),
        Some(other) => {
            return Err(ManageError::Invalid(format!(
                "kind must be rss, atom, jsonfeed, ics or html, got {other:?}"
            )));
        }
    })
}

fn check_timezone(tz: Option<&str>) -> Result<(), ManageError> {
    match tz {
        Some(t) if coalesce_ingest::tz::resolve(t).is_none() => Err(ManageError::Invalid(format!(
            "unknown time zone {t:?}: expected an IANA name such as America/Chicago"
        ))),
        _ => Ok(()),
    }
}

fn check_dates(dates: Option<&str>) -> Result<(), ManageError> {
    match dates {
        Some(d) if DatesConvention::parse(d).is_none() => Err(ManageError::Invalid(format!(
            "dates must be one of {}, got {d:?}",
            DatesConvention::NAMES.join(", ")
        ))),
        _ => Ok(()),
    }
}

fn settings(timezone: Option<&str>, dates: Option<&str>) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    if let Some(tz) = timezone {
        m.insert("timezone".into(), tz.into());
    }
    if let Some(d) = dates {
        m.insert("dates".into(), d.trim().into());
    }
    m.into()
}

/// Writes the checked sector and audience overrides into `settings` (an empty list is an
/// override too: "this source's offerings are for no sector in particular").
fn set_publisher_overrides(
    settings: &mut serde_json::Value,
    sectors: Option<&[String]>,
    audience: Option<&str>,
) -> Result<(), ManageError> {
    let sectors = sectors.map(super::admin::check_sectors).transpose()?;
    let audience = audience
        .map(|a| super::admin::check_audience(Some(a)))
        .transpose()?;
    if let Some(map) = settings.as_object_mut() {
        if let Some(list) = sectors {
            let ids: Vec<&str> = list.iter().map(|s| s.as_str()).collect();
            map.insert("sectors".into(), ids.into());
        }
        match audience {
            Some(Some(a)) => {
                map.insert("audience".into(), a.into());
            }
            Some(None) => {
                map.remove("audience");
            }
            None => {}
        }
    }
    Ok(())
}

/// Registers one source for `caller`; shared by the single, batch and OPML routes.
pub(crate) async fn register(
    state: &ManageState,
    caller: Caller,
    input: &SourceInput,
) -> Result<Source, ManageError> {
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_LEN {
        return Err(ManageError::Invalid(format!(
            "name must be 1-{MAX_NAME_LEN} characters"
        )));
    }
    let url = check_url(state, &input.url)?;
    // Stored by its one name, so the crawler reads the kind it was given (`json_feed` was
    // accepted here and then not understood by the crawler, which silently sniffed instead).
    let kind = parse_kind(input.kind.as_deref())?.map(|k| k.as_str().to_owned());
    check_timezone(input.timezone.as_deref())?;
    check_dates(input.dates.as_deref())?;
    let mut source_settings = settings(input.timezone.as_deref(), input.dates.as_deref());
    set_publisher_overrides(
        &mut source_settings,
        input.sectors.as_deref(),
        input.audience.as_deref(),
    )?;
    let store = state.store();
    if store.source_by_name(caller.0, name).await?.is_some() {
        return Err(ManageError::Conflict(format!(
            "you already have a source named {name:?}"
        )));
    }
    let now = state.now();
    let id = store
        .upsert_source(
            &NewSource {
                provider_id: caller.0,
                name: name.to_owned(),
                url: url.to_string(),
                kind,
                settings: source_settings,
            },
            now,
        )
        .await?;
    if input.enabled == Some(false) {
        store.set_source_enabled(id, false, now).await?;
    }
    store.request_refresh(id, now).await?;
    state.inner.refresh.notify_one();
    tracing::info!(source = id.0, provider = caller.0.0, "source registered");
    store.source(id).await?.ok_or(ManageError::NotFound)
}

pub async fn create(
    caller: Caller,
    State(state): State<ManageState>,
    JsonBody(input): JsonBody<SourceInput>,
) -> Result<Response, ManageError> {
    let source = register(&state, caller, &input).await?;
    Ok((StatusCode::CREATED, Json(SourceView::from(source))).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Batch {
    pub sources: Vec<SourceInput>,
}

/// One line of a batch answer: the source, or why it was not registered.
#[derive(Debug, Serialize)]
pub struct BatchItem {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<serde_json::Value>,
}

pub(crate) async fn register_all(
    state: &ManageState,
    caller: Caller,
    inputs: &[SourceInput],
) -> Result<Vec<BatchItem>, ManageError> {
    let limit = state.inner.spec.max_batch;
    if inputs.len() > limit {
        return Err(ManageError::BatchTooLarge {
            limit,
            got: inputs.len(),
        });
    }
    let mut out = Vec::with_capacity(inputs.len());
    for input in inputs {
        let item = match register(state, caller, input).await {
            Ok(s) => BatchItem {
                name: input.name.clone(),
                source: Some(s.into()),
                error: None,
            },
            Err(e) if e.status().is_client_error() => BatchItem {
                name: input.name.clone(),
                source: None,
                error: Some(serde_json::json!({"code": e.code(), "message": e.to_string()})),
            },
            Err(e) => return Err(e),
        };
        out.push(item);
    }
    Ok(out)
}

pub async fn create_batch(
    caller: Caller,
    State(state): State<ManageState>,
    JsonBody(batch): JsonBody<Batch>,
) -> Result<Json<Vec<BatchItem>>, ManageError> {
    register_all(&state, caller, &batch.sources).await.map(Json)
}

pub async fn list(
    caller: Caller,
    State(state): State<ManageState>,
) -> Result<Json<Vec<SourceView>>, ManageError> {
    let all = state.store().sources().await?;
    Ok(Json(
        all.into_iter()
            .filter(|s| s.provider_id == caller.0)
            .map(SourceView::from)
            .collect(),
    ))
}

#[derive(Debug, Serialize)]
pub struct SourceDetail {
    #[serde(flatten)]
    pub source: SourceView,
    /// The latest fetches, newest first (kept in the store: survives restarts).
    pub history: Vec<FetchLog>,
    pub scorecard_url: String,
}

pub async fn show(
    caller: Caller,
    State(state): State<ManageState>,
    Path(id): Path<String>,
) -> Result<Json<SourceDetail>, ManageError> {
    let source = owned(&state, caller, &id).await?;
    let history = state.history(source.id).await?;
    Ok(Json(SourceDetail {
        scorecard_url: format!("/api/v1/sources/{}/scorecard", source.id.0),
        source: source.into(),
        history,
    }))
}

pub async fn update(
    caller: Caller,
    State(state): State<ManageState>,
    Path(id): Path<String>,
    JsonBody(patch): JsonBody<SourcePatch>,
) -> Result<Json<SourceView>, ManageError> {
    let source = owned(&state, caller, &id).await?;
    let url = match &patch.url {
        Some(u) => check_url(&state, u)?.to_string(),
        None => source.url.clone(),
    };
    let new_kind = parse_kind(patch.kind.as_deref())?.map(|k| k.as_str().to_owned());
    check_timezone(patch.timezone.as_deref())?;
    check_dates(patch.dates.as_deref())?;
    let mut settings = source.settings.clone();
    if let (Some(tz), Some(map)) = (&patch.timezone, settings.as_object_mut()) {
        map.insert("timezone".into(), tz.clone().into());
    }
    if let (Some(d), Some(map)) = (&patch.dates, settings.as_object_mut()) {
        map.insert("dates".into(), d.trim().into());
    }
    set_publisher_overrides(
        &mut settings,
        patch.sectors.as_deref(),
        patch.audience.as_deref(),
    )?;
    let kind = match &patch.kind {
        Some(_) => new_kind,
        None => source.kind.clone(),
    };
    let now = state.now();
    let store = state.store();
    store
        .upsert_source(
            &NewSource {
                provider_id: caller.0,
                name: source.name.clone(),
                url,
                kind,
                settings,
            },
            now,
        )
        .await?;
    if let Some(enabled) = patch.enabled {
        store.set_source_enabled(source.id, enabled, now).await?;
    }
    let updated = store
        .source(source.id)
        .await?
        .ok_or(ManageError::NotFound)?;
    Ok(Json(updated.into()))
}

pub async fn remove(
    caller: Caller,
    State(state): State<ManageState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ManageError> {
    let source = owned(&state, caller, &id).await?;
    let removed = state.store().delete_source(source.id, state.now()).await?;
    tracing::info!(source = source.id.0, removed, "source deleted");
    // A crawl round now, so that duplicate clusters let go of the removed offerings soon.
    state.inner.refresh.notify_one();
    Ok(StatusCode::NO_CONTENT)
}

/// Takes one offering of the source down now (HOSTILE E4: an upcoming item that left the
/// feed otherwise stays listed until its sessions are over). A feed that still lists it brings
/// it back on the next fetch: the feed stays the source of truth.
pub async fn remove_offering(
    caller: Caller,
    State(state): State<ManageState>,
    Path((id, offering)): Path<(String, String)>,
) -> Result<StatusCode, ManageError> {
    let source = owned(&state, caller, &id).await?;
    let oid = coalesce_store::OfferingId(offering);
    if state
        .store()
        .remove_offering(source.id, &oid, state.now())
        .await?
    {
        tracing::info!(source = source.id.0, offering = %oid, "offering removed by its provider");
        // A crawl round now: its copies elsewhere take over its duplicate cluster.
        state.inner.refresh.notify_one();
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ManageError::NotFound)
    }
}

pub async fn refresh(
    caller: Caller,
    State(state): State<ManageState>,
    Path(id): Path<String>,
) -> Result<Response, ManageError> {
    let source = owned(&state, caller, &id).await?;
    state
        .store()
        .request_refresh(source.id, state.now())
        .await?;
    state.inner.refresh.notify_one();
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({"queued": true, "status_url": format!("/api/v1/sources/{}", source.id.0)})),
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreviewInput {
    pub url: String,
    pub kind: Option<String>,
    pub timezone: Option<String>,
    pub dates: Option<String>,
    /// As a source would override them; the caller's declared ones otherwise.
    pub sectors: Option<Vec<String>>,
    pub audience: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Preview {
    pub url: String,
    pub final_url: String,
    pub kind: Kind,
    /// The calendar platform the document was read as (`libcal`, `localist`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<&'static str>,
    /// A paged events API's next page: a registered source reads every page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page: Option<String>,
    pub title: Option<String>,
    pub encoding: &'static str,
    pub offerings_count: usize,
    /// At most the first 100.
    pub offerings: Vec<coalesce_core::Offering>,
    pub warnings: Vec<PreviewWarning>,
    pub warnings_by_kind: BTreeMap<String, usize>,
}

#[derive(Debug, Serialize)]
pub struct PreviewWarning {
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<usize>,
}

/// Fetch through the guarded client and parse, storing nothing: what a registration would
/// import, with the warnings a provider can act on.
pub async fn preview(
    caller: Caller,
    State(state): State<ManageState>,
    JsonBody(input): JsonBody<PreviewInput>,
) -> Result<Json<Preview>, ManageError> {
    let url = check_url(&state, &input.url)?;
    let kind = parse_kind(input.kind.as_deref())?;
    check_timezone(input.timezone.as_deref())?;
    check_dates(input.dates.as_deref())?;
    let mut overrides = serde_json::Value::Object(serde_json::Map::new());
    set_publisher_overrides(
        &mut overrides,
        input.sectors.as_deref(),
        input.audience.as_deref(),
    )?;
    // What a registered source would parse with: the provider's defaults under the overrides.
    let provider = state
        .store()
        .providers()
        .await?
        .into_iter()
        .find(|p| p.id == caller.0)
        .ok_or(ManageError::Forbidden)?;
    let _slot = state.fetch_slot(caller.0)?;
    let now = state.now();
    let response = state
        .inner
        .fetcher
        .get(&url, now)
        .await
        .map_err(fetch_refusal)?;
    let mut hints = ParseHints::new(now);
    hints.kind = kind;
    hints.base_url = Some(response.final_url.clone());
    hints.content_type = response.content_type.clone();
    hints.timezone = input
        .timezone
        .as_deref()
        .and_then(coalesce_ingest::tz::resolve);
    hints.window = Window::around(now);
    hints.dates = input
        .dates
        .as_deref()
        .and_then(DatesConvention::parse)
        .unwrap_or_default();
    (hints.sectors, hints.audience) = coalesce_crawl::publisher_defaults(
        &overrides,
        &provider.sectors,
        provider.audience.as_deref(),
    );
    // Shares the fetched bytes (no copy); parsing is CPU work: off the async workers.
    let body = response.body.clone();
    let parsed = tokio::task::spawn_blocking(move || coalesce_ingest::parse(&body, &hints))
        .await
        .map_err(|e| ManageError::Internal(format!("parse task failed: {e}")))?
        .map_err(|e| ManageError::Unreadable {
            code: e.code(),
            message: e.to_string(),
        })?;
    let mut by_kind = BTreeMap::new();
    for w in &parsed.warnings {
        *by_kind.entry(w.code.as_str().to_owned()).or_default() += 1;
    }
    let count = parsed.offerings.len();
    Ok(Json(Preview {
        url: url.to_string(),
        final_url: response.final_url.to_string(),
        kind: parsed.kind,
        platform: parsed.platform,
        next_page: parsed.next_page.as_ref().map(ToString::to_string),
        title: parsed.title,
        encoding: parsed.encoding,
        offerings_count: count,
        offerings: parsed
            .offerings
            .into_iter()
            .take(PREVIEW_OFFERINGS)
            .collect(),
        warnings: parsed
            .warnings
            .into_iter()
            .map(|w| PreviewWarning {
                code: w.code.as_str(),
                message: w.message,
                item: w.item,
            })
            .collect(),
        warnings_by_kind: by_kind,
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscoverInput {
    pub url: String,
}

/// Feed and calendar links (and whether the page carries schema.org events itself) on a
/// provider's homepage, so it can register the right URLs.
pub async fn discover(
    caller: Caller,
    State(state): State<ManageState>,
    JsonBody(input): JsonBody<DiscoverInput>,
) -> Result<Json<coalesce_crawl::Discovery>, ManageError> {
    let url = check_url(&state, &input.url)?;
    let _slot = state.fetch_slot(caller.0)?;
    let response = state
        .inner
        .fetcher
        .get(&url, state.now())
        .await
        .map_err(fetch_refusal)?;
    Ok(Json(coalesce_crawl::discover(
        &response.body,
        &response.final_url,
    )))
}

/// A fetch for a preview or a discovery that failed: our own address policy refusing it is the
/// request's fault (422, like the same refusal at registration); anything else is the remote
/// site's (502).
fn fetch_refusal(e: coalesce_crawl::FetchError) -> ManageError {
    use coalesce_crawl::FetchError as F;
    match e {
        F::BlockedAddress { .. }
        | F::BadScheme { .. }
        | F::BadUrl { .. }
        | F::RedirectDowngrade { .. } => ManageError::Refused(e),
        _ => ManageError::Fetch(e),
    }
}
