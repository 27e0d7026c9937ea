//! Source management beyond registration: pausing and deleting. Kept apart from the crawl
//! path so the apply rules in the parent module stay the only writers of offerings.

use chrono::{DateTime, Utc};

use super::{SqliteStore, secs};
use crate::error::StoreError;
use crate::types::*;

impl SqliteStore {
    pub(crate) async fn set_source_enabled(
        &self,
        id: SourceId,
        enabled: bool,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let query = sqlx::query("UPDATE sources SET enabled = $1, updated_at = $2 WHERE id = $3")
            .bind(enabled)
            .bind(secs(now))
            .bind(id.0);
        self.update_source_row(id, query).await
    }

    /// Deletes the source and its offerings in one transaction, logging a `removed` change for
    /// every offering that was still live so the index drops them too.
    pub(crate) async fn delete_source(
        &self,
        id: SourceId,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin().await?;
        let logged = sqlx::query(
            "INSERT INTO changes (offering_id, kind, at) \
             SELECT id, $1, $2 FROM offerings WHERE source_id = $3 AND removed_at IS NULL",
        )
        .bind(ChangeKind::Removed.as_str())
        .bind(secs(now))
        .bind(id.0)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let n = sqlx::query("DELETE FROM sources WHERE id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::UnknownSource(id));
        }
        tx.commit().await?;
        Ok(logged)
    }
}
