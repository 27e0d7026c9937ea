//! Operator routes: providers and their API keys. Only the admin token opens them.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use coalesce_core::Sector;
use coalesce_store::{ApiKeyId, Provider, ProviderPatch};
use serde::{Deserialize, Serialize};

use super::ManageState;
use super::auth::{Admin, generate_key};
use super::error::ManageError;
use super::limits::JsonBody;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewProvider {
    /// Short, stable, `[a-z0-9-]` (used in URLs and as the provider facet).
    pub name: String,
    pub display_name: Option<String>,
    /// The sectors the provider serves (`archives`, `libraries`, `museums`): what its
    /// offerings are for when their text names none.
    #[serde(default)]
    pub sectors: Vec<String>,
    /// Its default audience, for offerings that state none.
    pub audience: Option<String>,
}

/// `PATCH /api/v1/admin/providers/{name}`: a field left out stays as it is; `"audience": null`
/// clears the audience.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderUpdate {
    pub sectors: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    pub audience: Option<Option<String>>,
}

/// Tells a field sent as `null` (`Some(None)`) from one left out (`None`).
fn present<'de, D>(d: D) -> Result<Option<Option<String>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    Option::<String>::deserialize(d).map(Some)
}

#[derive(Debug, Serialize)]
pub struct ProviderView {
    pub id: i64,
    pub name: String,
    pub display_name: Option<String>,
    pub sectors: Vec<Sector>,
    pub audience: Option<String>,
    pub created_at: chrono::DateTime<Utc>,
}

impl From<Provider> for ProviderView {
    fn from(p: Provider) -> ProviderView {
        ProviderView {
            id: p.id.0,
            name: p.name,
            display_name: p.display_name,
            sectors: p.sectors,
            audience: p.audience,
            created_at: p.created_at,
        }
    }
}

/// Longest display name of a provider.
const MAX_DISPLAY_NAME: usize = 200;

/// Longest default audience a provider or source may declare.
const MAX_AUDIENCE: usize = 200;

/// Sector names as a client sends them, checked: an unknown name is a 400 (`unknown_sector`),
/// never silently dropped.
pub(crate) fn check_sectors(names: &[String]) -> Result<Vec<Sector>, ManageError> {
    let mut out = Vec::with_capacity(names.len());
    for n in names {
        let s = Sector::parse(&n.trim().to_ascii_lowercase())
            .ok_or_else(|| ManageError::UnknownSector(n.clone()))?;
        out.push(s);
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// A declared audience: trimmed, empty means none, bounded.
pub(crate) fn check_audience(audience: Option<&str>) -> Result<Option<String>, ManageError> {
    let a = audience.map(str::trim).filter(|a| !a.is_empty());
    if a.is_some_and(|a| a.chars().count() > MAX_AUDIENCE) {
        return Err(ManageError::Invalid(format!(
            "audience must be at most {MAX_AUDIENCE} characters"
        )));
    }
    Ok(a.map(str::to_owned))
}

fn check_name(name: &str) -> Result<(), ManageError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(ManageError::Invalid(format!(
            "provider name must be 1-64 characters of a-z, 0-9 and '-', got {name:?}"
        )))
    }
}

pub async fn create_provider(
    _: Admin,
    State(state): State<ManageState>,
    JsonBody(body): JsonBody<NewProvider>,
) -> Result<Response, ManageError> {
    check_name(&body.name)?;
    let display_name = body
        .display_name
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty());
    if display_name.is_some_and(|d| d.chars().count() > MAX_DISPLAY_NAME) {
        return Err(ManageError::Invalid(format!(
            "display_name must be at most {MAX_DISPLAY_NAME} characters"
        )));
    }
    let patch = ProviderPatch {
        sectors: Some(check_sectors(&body.sectors)?),
        audience: Some(check_audience(body.audience.as_deref())?),
    };
    let store = state.store();
    if store.provider_by_name(&body.name).await?.is_some() {
        return Err(ManageError::Conflict(format!(
            "a provider named {:?} exists",
            body.name
        )));
    }
    let p = store
        .ensure_provider(&body.name, display_name, state.now())
        .await?;
    let p = store.update_provider(&p.name, &patch).await?.unwrap_or(p);
    tracing::info!(provider = %p.name, "provider created");
    Ok((StatusCode::CREATED, Json(ProviderView::from(p))).into_response())
}

/// Changes a provider's declared sectors or audience. Its sources parse their next document
/// again (even an unchanged one), so existing offerings carry the change after the next fetch.
pub async fn update_provider(
    _: Admin,
    State(state): State<ManageState>,
    Path(name): Path<String>,
    JsonBody(body): JsonBody<ProviderUpdate>,
) -> Result<Json<ProviderView>, ManageError> {
    let patch = ProviderPatch {
        sectors: body.sectors.as_deref().map(check_sectors).transpose()?,
        audience: body
            .audience
            .map(|a| check_audience(a.as_deref()))
            .transpose()?,
    };
    let p = state
        .store()
        .update_provider(&name, &patch)
        .await?
        .ok_or(ManageError::NotFound)?;
    tracing::info!(provider = %p.name, "provider updated");
    // The sources are due again so the change shows without waiting for their next turn.
    let store = state.store();
    let now = state.now();
    for s in store.sources().await? {
        if s.provider_id == p.id {
            store.request_refresh(s.id, now).await?;
        }
    }
    state.inner.refresh.notify_one();
    Ok(Json(ProviderView::from(p)))
}

pub async fn list_providers(
    _: Admin,
    State(state): State<ManageState>,
) -> Result<Json<Vec<ProviderView>>, ManageError> {
    let list = state.store().providers().await?;
    Ok(Json(list.into_iter().map(ProviderView::from).collect()))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    pub label: Option<String>,
    /// Days until the key stops working (1 to 3650); without it the key works until revoked.
    pub expires_in_days: Option<u32>,
}

#[derive(Debug, Serialize)]
pub struct CreatedKey {
    pub id: i64,
    pub provider: String,
    /// Shown this once; only its digest is stored.
    pub key: String,
    pub label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<chrono::DateTime<Utc>>,
}

pub async fn create_key(
    _: Admin,
    State(state): State<ManageState>,
    Path(name): Path<String>,
    JsonBody(body): JsonBody<Option<NewKey>>,
) -> Result<Response, ManageError> {
    let store = state.store();
    let provider = store
        .provider_by_name(&name)
        .await?
        .ok_or(ManageError::NotFound)?;
    issue_key(
        store,
        provider,
        body.unwrap_or_default(),
        "operator",
        state.now(),
    )
    .await
}

/// Longest label a key may carry.
const MAX_LABEL: usize = 100;

/// Longest lifetime a key may be given, in days (ten years).
const MAX_KEY_DAYS: u32 = 3650;

/// Makes a key for `provider` and answers 201 with it, shown this once; `by` says who asked,
/// for the log (the key itself is never logged).
pub(crate) async fn issue_key(
    store: &coalesce_store::Store,
    provider: Provider,
    NewKey {
        label,
        expires_in_days,
    }: NewKey,
    by: &'static str,
    now: chrono::DateTime<Utc>,
) -> Result<Response, ManageError> {
    let expires_at = match expires_in_days {
        None => None,
        Some(d @ 1..=MAX_KEY_DAYS) => Some(now + chrono::TimeDelta::days(i64::from(d))),
        Some(d) => {
            return Err(ManageError::Invalid(format!(
                "expires_in_days must be 1 to {MAX_KEY_DAYS}, got {d}"
            )));
        }
    };
    if label
        .as_ref()
        .is_some_and(|l| l.chars().count() > MAX_LABEL)
    {
        return Err(ManageError::Invalid(format!(
            "label must be at most {MAX_LABEL} characters"
        )));
    }
    let key = generate_key()?;
    let id = store
        .add_api_key(provider.id, &key, label.as_deref(), expires_at, now)
        .await?;
    tracing::info!(provider = %provider.name, key_id = id.0, by, "api key created");
    Ok((
        StatusCode::CREATED,
        Json(CreatedKey {
            id: id.0,
            provider: provider.name,
            key,
            label,
            expires_at,
        }),
    )
        .into_response())
}

pub async fn revoke_key(
    _: Admin,
    State(state): State<ManageState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ManageError> {
    let id: i64 = id.parse().map_err(|_| ManageError::NotFound)?;
    if state
        .store()
        .revoke_api_key(ApiKeyId(id), state.now())
        .await?
    {
        tracing::info!(key_id = id, "api key revoked");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ManageError::NotFound)
    }
}
