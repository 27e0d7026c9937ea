//! The one error type of the HTTP layer and its one mapping to a status and the JSON shape
//! `{"error": {"code", "message"}}`. Codes are stable: clients and logs key on them.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use coalesce_index::IndexError;
use coalesce_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A query parameter is malformed, unknown or out of range.
    #[error("{0}")]
    BadParameter(String),
    /// The query text cannot be searched (too long, too deep, bad syntax).
    #[error("{0}")]
    InvalidQuery(String),
    #[error("{0}")]
    InvalidCursor(String),
    /// Deep offset paging is refused: the cursor pages any depth at constant cost.
    #[error("offset {0} is larger than 1000; use cursor to page further")]
    UseCursor(u64),
    #[error("{0}")]
    NotFound(String),
    /// The index is being built or cannot be read; the store is fine.
    #[error("the search index is not available yet; try again shortly")]
    IndexUnavailable,
    #[error("the search took too long; narrow it and try again")]
    Timeout,
    /// Anything else. The detail goes to the log, never to the client.
    #[error("internal error")]
    Internal { code: &'static str, detail: String },
}

impl ApiError {
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadParameter(_) => "bad_parameter",
            ApiError::InvalidQuery(_) => "invalid_query",
            ApiError::InvalidCursor(_) => "invalid_cursor",
            ApiError::UseCursor(_) => "use_cursor",
            ApiError::NotFound(_) => "not_found",
            ApiError::IndexUnavailable => "index_unavailable",
            ApiError::Timeout => "search_timeout",
            ApiError::Internal { .. } => "internal",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadParameter(_)
            | ApiError::InvalidQuery(_)
            | ApiError::InvalidCursor(_)
            | ApiError::UseCursor(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::IndexUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Timeout => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn bad(message: impl Into<String>) -> ApiError {
        ApiError::BadParameter(message.into())
    }
}

impl From<IndexError> for ApiError {
    fn from(e: IndexError) -> Self {
        match e {
            IndexError::InvalidQuery(m) => ApiError::InvalidQuery(m),
            IndexError::InvalidCursor(m) => ApiError::InvalidCursor(m),
            IndexError::Timeout(_) => ApiError::Timeout,
            IndexError::Unavailable(m) => {
                tracing::warn!(code = "index_unavailable", detail = %m, "index unavailable");
                ApiError::IndexUnavailable
            }
            IndexError::Locked => ApiError::IndexUnavailable,
            other => ApiError::Internal {
                code: other.code(),
                detail: other.to_string(),
            },
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::Internal {
            code: e.code(),
            detail: e.to_string(),
        }
    }
}

/// The body of every error answer.
pub fn error_body(code: &str, message: &str) -> String {
    serde_json::json!({ "error": { "code": code, "message": message } }).to_string()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal { code, detail } = &self {
            tracing::error!(code = *code, detail = %detail, "request failed");
        }
        let body = error_body(self.code(), &self.to_string());
        let mut res = (self.status(), body).into_response();
        let h = res.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if matches!(self, ApiError::IndexUnavailable | ApiError::Timeout) {
            h.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        res
    }
}
