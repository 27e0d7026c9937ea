//! The store's one error type, with stable codes for logs, metrics and the API.

use crate::types::{ClusterId, OfferingId, ProviderId, SourceId};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the store at {path}: {source}")]
    Open { path: String, source: sqlx::Error },
    #[error("the data folder {path} is not writable by this user")]
    NotWritable { path: String },
    #[error("cannot bring the store schema up to date: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("no provider with id {0}")]
    UnknownProvider(ProviderId),
    #[error("no source with id {0}")]
    UnknownSource(SourceId),
    #[error("no offering with id {0}")]
    UnknownOffering(OfferingId),
    #[error("cluster {cluster} names offering {offering} that is not in the store")]
    ClusterMemberMissing {
        cluster: ClusterId,
        offering: OfferingId,
    },
    #[error("cluster {0} lists its canonical offering outside its members")]
    CanonicalNotMember(ClusterId),
    #[error("cannot encode an offering as json: {0}")]
    Encode(serde_json::Error),
    #[error("stored {what} is not readable: {detail}")]
    Corrupt { what: String, detail: String },
}

impl StoreError {
    /// A stable code for logs, metrics and the API.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::Open { .. } => "store_open_failed",
            StoreError::NotWritable { .. } => "store_not_writable",
            StoreError::Migrate(_) => "store_migration_failed",
            StoreError::Database(e) if is_busy(e) => "store_busy",
            StoreError::Database(e) if primary_code(e) == Some(SQLITE_FULL) => "store_disk_full",
            StoreError::Database(e) if primary_code(e) == Some(SQLITE_IOERR) => "store_io_error",
            StoreError::Database(_) => "store_database_error",
            StoreError::UnknownProvider(_) => "unknown_provider",
            StoreError::UnknownSource(_) => "unknown_source",
            StoreError::UnknownOffering(_) => "unknown_offering",
            StoreError::ClusterMemberMissing { .. } => "cluster_member_missing",
            StoreError::CanonicalNotMember(_) => "canonical_not_member",
            StoreError::Encode(_) => "offering_encode_failed",
            StoreError::Corrupt { .. } => "store_corrupt",
        }
    }

    pub(crate) fn corrupt(what: impl Into<String>, detail: impl ToString) -> StoreError {
        StoreError::Corrupt {
            what: what.into(),
            detail: detail.to_string(),
        }
    }
}

const SQLITE_IOERR: i64 = 10;
const SQLITE_FULL: i64 = 13;

/// The database's primary result code (SQLite's extended codes carry it in the low byte).
fn primary_code(e: &sqlx::Error) -> Option<i64> {
    match e {
        sqlx::Error::Database(db) => db
            .code()
            .and_then(|c| c.parse::<i64>().ok())
            .map(|c| c & 0xff),
        _ => None,
    }
}

/// SQLITE_BUSY / SQLITE_LOCKED (and their extended codes) mean "another writer held the lock
/// longer than the busy timeout": worth a distinct code because it is the one users must never see.
fn is_busy(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::PoolTimedOut) || matches!(primary_code(e), Some(5 | 6))
}
