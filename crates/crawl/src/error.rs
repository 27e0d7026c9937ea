//! One error enum for a fetch, with stable codes that the store, logs, the CLI summary and the
//! API reuse.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// Why a fetch failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("blocked address {target}: {reason}")]
    BlockedAddress { target: String, reason: String },
    #[error("scheme {scheme} is not allowed: expected http or https")]
    BadScheme { scheme: String },
    #[error("bad url {url}: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("redirect from https to http refused: {location}")]
    RedirectDowngrade { location: String },
    #[error("more than {limit} redirects")]
    TooManyRedirects { limit: usize },
    #[error("body larger than the limit of {limit} bytes")]
    BodyTooLarge { limit: u64 },
    #[error("no complete response within {0:?}")]
    Timeout(Duration),
    #[error("http status {status}")]
    HttpStatus {
        status: u16,
        /// From `Retry-After`, already capped: do not ask again before this.
        retry_at: Option<DateTime<Utc>>,
    },
    #[error("304 not modified although no validators were sent")]
    UnexpectedNotModified,
    #[error("empty body with status {status}")]
    EmptyBody { status: u16 },
    #[error("cannot resolve {host}: {reason}")]
    Dns { host: String, reason: String },
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("tls failure: {0}")]
    Tls(String),
    #[error("response body ended early: {0}")]
    TruncatedBody(String),
    #[error("cannot decode the response body: {0}")]
    Decode(String),
    #[error("robots.txt of {origin} disallows {path}")]
    RobotsDisallowed { origin: String, path: String },
    #[error("cannot build the http client: {0}")]
    Client(String),
    #[error("request failed: {0}")]
    Request(String),
}

impl FetchError {
    /// A stable, machine-readable name for the kind of failure.
    pub fn code(&self) -> &'static str {
        match self {
            FetchError::BlockedAddress { .. } => "blocked_address",
            FetchError::BadScheme { .. } => "bad_scheme",
            FetchError::BadUrl { .. } => "bad_url",
            FetchError::RedirectDowngrade { .. } => "redirect_downgrade",
            FetchError::TooManyRedirects { .. } => "too_many_redirects",
            FetchError::BodyTooLarge { .. } => "body_too_large",
            FetchError::Timeout(_) => "timeout",
            FetchError::HttpStatus { .. } => "http_status",
            FetchError::UnexpectedNotModified => "unexpected_not_modified",
            FetchError::EmptyBody { .. } => "empty_body",
            FetchError::Dns { .. } => "dns",
            FetchError::Connect(_) => "connect",
            FetchError::Tls(_) => "tls",
            FetchError::TruncatedBody(_) => "truncated_body",
            FetchError::Decode(_) => "decode",
            FetchError::RobotsDisallowed { .. } => "robots_disallowed",
            FetchError::Client(_) => "client",
            FetchError::Request(_) => "request",
        }
    }

    /// The HTTP status, when the server answered with an error status.
    pub fn status(&self) -> Option<u16> {
        match self {
            FetchError::HttpStatus { status, .. } | FetchError::EmptyBody { status } => {
                Some(*status)
            }
            _ => None,
        }
    }

    /// The server's own "not before" (Retry-After), if it gave one.
    pub fn retry_at(&self) -> Option<DateTime<Utc>> {
        match self {
            FetchError::HttpStatus { retry_at, .. } => *retry_at,
            _ => None,
        }
    }

    /// Failures that say the source is gone or refused by policy rather than down for a while:
    /// retrying soon will not help (they still back off, they are never dropped silently).
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            FetchError::BlockedAddress { .. }
                | FetchError::BadScheme { .. }
                | FetchError::BadUrl { .. }
                | FetchError::RobotsDisallowed { .. }
                | FetchError::HttpStatus {
                    status: 404 | 410,
                    ..
                }
        )
    }
}
