//! The router and the search-side handlers: `/api/v1/offerings`, `/api/v1/offerings/{id}`,
//! `/api/v1/topics`, `/api/v1/providers`. Handlers parse, call the index or the store, and let
//! [`ApiError`] pick the status.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use coalesce_core::Sector;
use coalesce_index::store_sync::effective_canonical;
use coalesce_index::{CatalogIndex, MAX_LIMIT, SearchRequest, SearchResponse};
use coalesce_store::{OfferingId, StoredOffering};
use serde_json::json;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{Any, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;

use crate::error::{ApiError, error_body};
use crate::openapi::ROUTES;
use crate::params::{Accept, Params, clamp_limit};
use crate::state::AppState;

/// The whole router of this crate with its shared layers.
pub fn router(state: AppState) -> Router {
    router_with(state, Router::new())
}

/// This crate's routes merged with `extra` (the provider and source management routes, health,
/// metrics), all behind the same layers: one error shape, one CORS policy, one set of limits.
pub fn router_with(state: AppState, extra: Router<AppState>) -> Router {
    let config = Arc::clone(&state.config);
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([axum::http::Method::GET, axum::http::Method::HEAD])
        .expose_headers([header::ETAG, header::LAST_MODIFIED]);
    routes()
        .merge(extra)
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), header_limit))
        .layer(RequestBodyLimitLayer::new(config.max_body_bytes))
        .layer(CompressionLayer::new())
        .layer(cors)
        .with_state(state)
}

/// The routes of the route table ([`ROUTES`], which the OpenAPI document is written from), so
/// the document and the router cannot disagree.
pub fn routes() -> Router<AppState> {
    ROUTES
        .iter()
        .filter_map(|r| r.handler.map(|h| (r.path, h)))
        .fold(Router::new(), |router, (path, h)| router.route(path, h()))
}

async fn no_route() -> ApiError {
    ApiError::NotFound("no such route".into())
}

async fn method_not_allowed() -> Response {
    let mut res = (
        StatusCode::METHOD_NOT_ALLOWED,
        error_body("method_not_allowed", "this route only answers get"),
    )
        .into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

/// Longest request target accepted. Large enough that a hostile 5,000-deep query still reaches
/// the query checks and gets its explanatory 400; small enough to bound what is parsed.
const MAX_URI_BYTES: usize = 64 * 1024;

/// Refuses oversized request headers with 431 (and targets with 414) before any handler runs.
/// (The server's own header cap and read timeout are set where the listener is built, in
/// `serve`.)
async fn header_limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let uri = req.uri().path().len() + req.uri().query().map_or(0, str::len);
    if uri > MAX_URI_BYTES {
        let mut res = (
            StatusCode::URI_TOO_LONG,
            error_body(
                "uri_too_long",
                &format!("request target is {uri} bytes, at most {MAX_URI_BYTES} are accepted"),
            ),
        )
            .into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        return res;
    }
    let size: usize = req
        .headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum();
    if size > state.config.max_header_bytes {
        let mut res = (
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            error_body(
                "headers_too_large",
                &format!(
                    "request headers are {size} bytes, at most {} are accepted",
                    state.config.max_header_bytes
                ),
            ),
        )
            .into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        return res;
    }
    next.run(req).await
}

/// Runs one search off the async threads, under the configured deadline. A panic inside tantivy
/// becomes a 500 for this request, never a dead process.
pub(crate) async fn run_search(
    state: &AppState,
    req: SearchRequest,
) -> Result<SearchResponse, ApiError> {
    let index = state.index.get()?;
    let task = tokio::task::spawn_blocking(move || index.search(&req));
    // The index stops its own collector at its deadline; this one also covers time spent
    // waiting for a blocking thread.
    let limit = state.config.search_deadline + std::time::Duration::from_millis(500);
    match tokio::time::timeout(limit, task).await {
        Err(_) => Err(ApiError::Timeout),
        Ok(Err(join)) => Err(ApiError::Internal {
            code: "search_panicked",
            detail: join.to_string(),
        }),
        Ok(Ok(r)) => r.map_err(ApiError::from),
    }
}

fn json_response(value: &impl serde::Serialize, cache: &'static str) -> Response {
    match serde_json::to_string(value) {
        Ok(body) => {
            let mut res = (StatusCode::OK, body).into_response();
            let h = res.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
            res
        }
        Err(e) => ApiError::Internal {
            code: "encode_failed",
            detail: e.to_string(),
        }
        .into_response(),
    }
}

pub(crate) async fn search(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let params = Params::parse(query.as_deref(), Accept::Search, &state.vocabulary)?;
    let now = state.clock.now();
    let mut req = params.filters.request(now);
    req.sort = params.paging.sort;
    req.cursor = params.paging.cursor.clone();
    let limit = clamp_limit(params.paging.limit);
    // Offsets (at most MAX_OFFSET) are walked with the cursor in pages of at most MAX_LIMIT, so
    // the final page carries a valid cursor for the rest.
    let mut skip = usize::try_from(params.paging.offset).unwrap_or(usize::MAX);
    while skip > 0 {
        let step = skip.min(MAX_LIMIT);
        let mut r = req.clone();
        r.limit = step;
        let page = run_search(&state, r).await?;
        match page.next_cursor {
            Some(c) => req.cursor = Some(c),
            None => {
                // The offset is past the end: an empty page with the true totals.
                let mut r = req.clone();
                r.limit = 1;
                let mut last = run_search(&state, r).await?;
                last.hits.clear();
                last.next_cursor = None;
                return Ok(json_response(&last, "public, max-age=60"));
            }
        }
        skip -= step;
    }
    req.limit = limit;
    let res = run_search(&state, req).await?;
    Ok(json_response(&res, "public, max-age=60"))
}

/// `GET /api/v1/offerings/{id}` and, for ids ending in `.ics`, `/api/v1/offerings/{id}.ics`
/// (the router cannot match a suffix after a parameter).
pub(crate) async fn offering(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    if let Some(id) = id.strip_suffix(".ics") {
        return crate::calendar::offering_ics(&state, id).await;
    }
    let stored = state
        .store
        .offering(&OfferingId(id.clone()))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no offering with id {id:?}")))?;
    let names = provider_names(&state).await?;
    let shown = |p: &str| names.get(p).cloned().unwrap_or_else(|| p.to_string());
    let base = &state.config.public_base_url;
    let mut stored = stored;
    let cluster = match &stored.cluster_id {
        None => serde_json::Value::Null,
        Some(cid) => match cluster_view(&state, cid).await? {
            None => serde_json::Value::Null,
            Some(ClusterView {
                cluster: c,
                members,
                canonical,
            }) => {
                // Shown as the catalog knows the offering: for every sector a live copy is for
                // (the same sectors search filters and facets use).
                let sectors = Sector::union(
                    std::iter::once(&stored.offering).chain(
                        members
                            .values()
                            .filter(|m| m.removed_at.is_none())
                            .map(|m| &m.offering),
                    ),
                );
                let list: Vec<serde_json::Value> = c
                    .members
                    .iter()
                    .filter_map(|m| members.get(&m.offering_id))
                    .map(|m| {
                        json!({
                            "offering_id": m.id,
                            "provider_id": m.provider,
                            "provider_name": shown(&m.provider),
                            "title": m.offering.title,
                            "url": m.offering.url,
                            "registration_url": m.offering.registration_url,
                            "is_canonical": canonical.as_ref() == Some(&m.id),
                            "removed": m.removed_at.is_some(),
                            "detail_url": format!("{base}/api/v1/offerings/{}", m.id),
                        })
                    })
                    .collect();
                stored.offering.sectors = sectors;
                json!({
                    "id": c.id,
                    "canonical_id": canonical,
                    "members": list,
                    "explanation": c.explanation,
                })
            }
        },
    };
    let has_dates = !stored.offering.occurrences.is_empty();
    let body = json!({
        "id": stored.id,
        "provider_id": stored.provider,
        "provider_name": shown(&stored.provider),
        "source_id": stored.source_id,
        "sequence": stored.sequence,
        "updated_at": stored.updated_at,
        "first_seen": stored.first_seen,
        "last_seen": stored.last_seen,
        "removed_at": stored.removed_at,
        "offering": stored.offering,
        "cluster": cluster,
        "ics_url": has_dates.then(|| format!("{base}/api/v1/offerings/{}.ics", stored.id)),
    });
    Ok(json_response(&body, "public, max-age=60"))
}

pub(crate) async fn provider_names(state: &AppState) -> Result<HashMap<String, String>, ApiError> {
    Ok(state
        .store
        .providers()
        .await?
        .into_iter()
        .map(|p| {
            let shown = p.display_name.clone().unwrap_or_else(|| p.name.clone());
            (p.name, shown)
        })
        .collect())
}

/// Upcoming offerings (the default search with no filters) for the facet counts.
async fn upcoming_facets(
    state: &AppState,
) -> Result<(Arc<CatalogIndex>, SearchResponse), ApiError> {
    let index = state.index.get()?;
    let mut req = SearchRequest::new(state.clock.now());
    req.limit = 1;
    let res = run_search(state, req).await?;
    Ok((index, res))
}

/// A duplicate cluster with its members' stored records and the member that stands for it
/// now (the canonical, or the first live member when the canonical is gone).
pub(crate) struct ClusterView {
    pub cluster: coalesce_store::Cluster,
    pub members: HashMap<OfferingId, StoredOffering>,
    pub canonical: Option<OfferingId>,
}

/// The cluster `id` as [`ClusterView`]; `None` when it no longer exists.
pub(crate) async fn cluster_view(
    state: &AppState,
    id: &coalesce_store::ClusterId,
) -> Result<Option<ClusterView>, ApiError> {
    let Some(cluster) = state.store.cluster(id).await? else {
        return Ok(None);
    };
    let ids: Vec<OfferingId> = cluster
        .members
        .iter()
        .map(|m| m.offering_id.clone())
        .collect();
    let members: HashMap<OfferingId, StoredOffering> = state
        .store
        .offerings_by_ids(&ids)
        .await?
        .into_iter()
        .map(|o| (o.id.clone(), o))
        .collect();
    let canonical = effective_canonical(&cluster, |id| {
        members.get(id).is_some_and(|m| m.removed_at.is_none())
    });
    Ok(Some(ClusterView {
        cluster,
        members,
        canonical,
    }))
}

pub(crate) async fn topics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let (_, res) = upcoming_facets(&state).await?;
    let counts: HashMap<&str, u64> = res
        .facets
        .topic
        .iter()
        .map(|f| (f.value.as_str(), f.count))
        .collect();
    let topics: Vec<serde_json::Value> = state
        .vocabulary
        .topics()
        .iter()
        .map(|t| {
            json!({
                "id": t.id,
                "label": t.label,
                "upcoming_offerings": counts.get(t.id.as_str()).copied().unwrap_or(0),
            })
        })
        .collect();
    Ok(json_response(
        &json!({ "topics": topics }),
        "public, max-age=300",
    ))
}

pub(crate) async fn providers(State(state): State<AppState>) -> Result<Response, ApiError> {
    let (_, res) = upcoming_facets(&state).await?;
    let counts: HashMap<&str, u64> = res
        .facets
        .provider
        .iter()
        .map(|f| (f.value.as_str(), f.count))
        .collect();
    // The facet lists the busiest providers only; count the rest one by one.
    let mut out = Vec::new();
    for p in state.store.providers().await? {
        let count = match counts.get(p.name.as_str()) {
            Some(c) => *c,
            None if res.facets.provider.len() < coalesce_index::FACET_LIMIT => 0,
            None => {
                let mut req = SearchRequest::new(state.clock.now());
                req.providers = vec![p.name.clone()];
                req.limit = 1;
                run_search(&state, req).await?.total
            }
        };
        out.push(json!({
            "id": p.name,
            "name": p.display_name.clone().unwrap_or_else(|| p.name.clone()),
            "sectors": p.sectors,
            "audience": p.audience,
            "upcoming_offerings": count,
        }));
    }
    Ok(json_response(
        &json!({ "providers": out }),
        "public, max-age=300",
    ))
}
