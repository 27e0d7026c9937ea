//! One error enum for the crate; `code()` is what logs, metrics and the API reuse.

/// What can go wrong when indexing or searching.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// The user's query text or filters cannot be searched; the message says why.
    #[error("invalid query: {0}")]
    InvalidQuery(String),
    /// The cursor was not issued by us for this query, or was altered.
    #[error("invalid cursor: {0}")]
    InvalidCursor(String),
    /// The search ran past its deadline.
    #[error("search took longer than {0} ms")]
    Timeout(u64),
    /// The index cannot be opened, read or written (missing, damaged, io).
    #[error("index unavailable: {0}")]
    Unavailable(String),
    /// Another writer holds the index directory.
    #[error("index is locked by another writer")]
    Locked,
    /// A document could not be encoded or decoded.
    #[error("bad document {id:?}: {reason}")]
    BadDocument { id: String, reason: String },
    /// The change source (the store) failed while syncing.
    #[error("change source failed: {0}")]
    Source(String),
}

impl IndexError {
    pub fn code(&self) -> &'static str {
        match self {
            IndexError::InvalidQuery(_) => "invalid_query",
            IndexError::InvalidCursor(_) => "invalid_cursor",
            IndexError::Timeout(_) => "search_timeout",
            IndexError::Unavailable(_) => "index_unavailable",
            IndexError::Locked => "index_locked",
            IndexError::BadDocument { .. } => "bad_document",
            IndexError::Source(_) => "change_source_failed",
        }
    }

    /// True when the caller (not the service) is at fault: the API answers 4xx for these.
    pub fn is_client_error(&self) -> bool {
        matches!(
            self,
            IndexError::InvalidQuery(_) | IndexError::InvalidCursor(_)
        )
    }
}

impl From<tantivy::TantivyError> for IndexError {
    fn from(e: tantivy::TantivyError) -> Self {
        match e {
            tantivy::TantivyError::LockFailure(_, _) => IndexError::Locked,
            other => IndexError::Unavailable(other.to_string().to_lowercase()),
        }
    }
}
