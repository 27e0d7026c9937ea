//! The one error enum of the management routes and its mapping to a status and a body.
//!
//! Every answer has the same shape, `{"error": {"code": "...", "message": "..."}}`. Messages of
//! 401/403/404 are constants so they leak nothing (not whether a key exists, was revoked or
//! belongs to someone else); 5xx say nothing internal and the detail goes to the log.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use coalesce_crawl::FetchError;
use coalesce_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ManageError {
    #[error("a valid api key is required in the authorization header")]
    Unauthorized,
    #[error("api keys are accepted only in the authorization header, never in the url")]
    KeyInQuery,
    #[error("this resource belongs to another provider")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("request body larger than {limit} bytes")]
    BodyTooLarge { limit: usize },
    #[error("invalid json: {0}")]
    InvalidJson(String),
    #[error("{0}")]
    Invalid(String),
    #[error("unknown sector {0:?}: expected archives, libraries or museums")]
    UnknownSector(String),
    #[error("at most {limit} urls per request, got {got}")]
    BatchTooLarge { limit: usize, got: usize },
    #[error("url longer than {limit} characters")]
    UrlTooLong { limit: usize },
    #[error("{0}")]
    Conflict(String),
    #[error("method not allowed on this path")]
    MethodNotAllowed,
    #[error("too many requests")]
    RateLimited { retry_after: Duration },
    #[error("too many previews or discoveries running; try again shortly")]
    TooManyFetches { retry_after: Duration },
    /// The URL is refused by the address policy (or a fetch hop was).
    #[error("{0}")]
    Refused(FetchError),
    /// Fetching for a preview or discovery failed.
    #[error("{0}")]
    Fetch(FetchError),
    /// The document was fetched but cannot be read at all.
    #[error("{message}")]
    Unreadable { code: &'static str, message: String },
    #[error("the service is not ready: {0}")]
    NotReady(String),
    #[error("internal error")]
    Store(#[from] StoreError),
    #[error("internal error")]
    Internal(String),
}

impl ManageError {
    /// Stable codes, shared with logs and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            ManageError::Unauthorized => "unauthorized",
            ManageError::KeyInQuery => "key_in_query",
            ManageError::Forbidden => "forbidden",
            ManageError::NotFound => "not_found",
            ManageError::MethodNotAllowed => "method_not_allowed",
            ManageError::BodyTooLarge { .. } => "body_too_large",
            ManageError::InvalidJson(_) => "invalid_json",
            ManageError::Invalid(_) => "invalid_request",
            ManageError::UnknownSector(_) => "unknown_sector",
            ManageError::BatchTooLarge { .. } => "batch_too_large",
            ManageError::UrlTooLong { .. } => "url_too_long",
            ManageError::Conflict(_) => "conflict",
            ManageError::RateLimited { .. } => "rate_limited",
            ManageError::TooManyFetches { .. } => "too_many_fetches",
            ManageError::Refused(e) | ManageError::Fetch(e) => e.code(),
            ManageError::Unreadable { code, .. } => code,
            ManageError::NotReady(_) => "not_ready",
            ManageError::Store(_) | ManageError::Internal(_) => "internal",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ManageError::Unauthorized => StatusCode::UNAUTHORIZED,
            ManageError::KeyInQuery => StatusCode::BAD_REQUEST,
            ManageError::Forbidden => StatusCode::FORBIDDEN,
            ManageError::NotFound => StatusCode::NOT_FOUND,
            ManageError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ManageError::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ManageError::InvalidJson(_)
            | ManageError::Invalid(_)
            | ManageError::UnknownSector(_)
            | ManageError::BatchTooLarge { .. }
            | ManageError::UrlTooLong { .. } => StatusCode::BAD_REQUEST,
            ManageError::Conflict(_) => StatusCode::CONFLICT,
            ManageError::RateLimited { .. } | ManageError::TooManyFetches { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            ManageError::Refused(_) | ManageError::Unreadable { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ManageError::Fetch(_) => StatusCode::BAD_GATEWAY,
            ManageError::NotReady(_) => StatusCode::SERVICE_UNAVAILABLE,
            ManageError::Store(_) | ManageError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// `{"error": {"code", "message"}}` with `status`: the one body shape of every error.
pub fn error_body(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({"error": {"code": code, "message": message}});
    (status, axum::Json(body)).into_response()
}

impl IntoResponse for ManageError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            // The detail stays in the log; the client learns only that it was our fault.
            match &self {
                ManageError::Store(e) => {
                    tracing::error!(code = e.code(), error = %e, "store failure")
                }
                ManageError::Internal(e) => tracing::error!(error = %e, "internal failure"),
                _ => {}
            }
        }
        let mut response = error_body(status, self.code(), &self.to_string());
        if let ManageError::RateLimited { retry_after }
        | ManageError::TooManyFetches { retry_after } = &self
        {
            let secs = retry_after.as_secs().max(1);
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}
