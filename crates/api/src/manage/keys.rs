//! A provider's own API keys: list them, make another (to rotate without the operator), and
//! revoke one, e.g. a key that leaked. Another provider's key answers 404, exactly like a key
//! that does not exist, so ids leak nothing.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use coalesce_store::{ApiKey, ApiKeyId};

use super::ManageState;
use super::admin::{NewKey, issue_key};
use super::auth::Caller;
use super::error::ManageError;
use super::limits::JsonBody;

/// The caller's keys, newest first, revoked ones included; never a secret.
pub async fn list(
    caller: Caller,
    State(state): State<ManageState>,
) -> Result<Json<Vec<ApiKey>>, ManageError> {
    Ok(Json(state.store().api_keys(caller.0).await?))
}

/// Another key for the caller, shown this once.
pub async fn create(
    caller: Caller,
    State(state): State<ManageState>,
    JsonBody(body): JsonBody<Option<NewKey>>,
) -> Result<Response, ManageError> {
    let body = body.unwrap_or_default();
    let store = state.store();
    let provider = store
        .providers()
        .await?
        .into_iter()
        .find(|p| p.id == caller.0)
        .ok_or(ManageError::NotFound)?;
    issue_key(store, provider, body, "provider", state.now()).await
}

/// Revokes one of the caller's keys, the one in use included (it stops working at once).
pub async fn revoke(
    caller: Caller,
    State(state): State<ManageState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ManageError> {
    let id: i64 = id.parse().map_err(|_| ManageError::NotFound)?;
    if state
        .store()
        .revoke_own_api_key(caller.0, ApiKeyId(id), state.now())
        .await?
    {
        tracing::info!(key_id = id, "api key revoked by its provider");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ManageError::NotFound)
    }
}
