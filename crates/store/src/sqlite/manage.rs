//! Source management beyond registration: pausing, deleting, the fetch history, a provider's
//! own keys. Kept apart from the crawl path so the apply rules in the parent module stay the
//! only writers of offerings.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{SqliteStore, insert_changes, instant, opt_instant, secs};
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
        keep_tombstones(&mut tx, "o.source_id = $2", &id.0.to_string(), id.0, now).await?;
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
        // Its id is never given to another source: links, histories and logs keep meaning it.
        sqlx::query(
            "INSERT INTO id_high_water (tbl, last_id) VALUES ('sources', $1) \
             ON CONFLICT (tbl) DO UPDATE SET last_id = MAX(last_id, excluded.last_id)",
        )
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(logged)
    }

    /// Tombstones one live offering of `source` at its provider's request and logs the
    /// removal for the index. `false` when it is not a live offering of that source.
    pub(crate) async fn remove_offering(
        &self,
        source: SourceId,
        id: &OfferingId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        keep_tombstones(
            &mut tx,
            "o.id = $2 AND o.source_id = $3",
            &id.0,
            source.0,
            now,
        )
        .await?;
        let n = sqlx::query(
            "UPDATE offerings SET removed_at = $1 \
             WHERE id = $2 AND source_id = $3 AND removed_at IS NULL",
        )
        .bind(secs(now))
        .bind(&id.0)
        .bind(source.0)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n > 0 {
            insert_changes(&mut tx, &[(id.0.as_str(), ChangeKind::Removed)], secs(now)).await?;
        }
        tx.commit().await?;
        Ok(n > 0)
    }

    /// Tombstones removed within `window` of `now`, newest first.
    pub(crate) async fn calendar_tombstones(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<Tombstone>, StoreError> {
        let rows = sqlx::query(
            "SELECT offering_id, provider, body, sequence, removed_at FROM calendar_tombstones \
             WHERE removed_at >= $1 ORDER BY removed_at DESC, offering_id",
        )
        .bind(secs(since))
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|row| {
                let id = OfferingId(row.try_get(0)?);
                let body: String = row.try_get(2)?;
                let offering = serde_json::from_str(&body)
                    .map_err(|e| StoreError::corrupt(format!("tombstone {id}"), e))?;
                Ok(Tombstone {
                    offering_id: id,
                    provider: row.try_get(1)?,
                    offering,
                    sequence: row.try_get(3)?,
                    removed_at: instant(row.try_get(4)?)?,
                })
            })
            .collect()
    }

    /// Appends one fetch to the source's history and drops all but its newest `keep` rows, in
    /// one transaction. A source deleted meanwhile is not an error: there is no history to keep.
    pub(crate) async fn record_fetch(
        &self,
        source: SourceId,
        log: &FetchLog,
        keep: u32,
    ) -> Result<(), StoreError> {
        let warnings = serde_json::to_string(&log.warnings)
            .map_err(|e| StoreError::corrupt("fetch log warnings", e))?;
        let mut tx = self.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO fetch_log \
             (source_id, at, outcome, http_status, message, offerings, new, updated, removed, \
              warnings) \
             SELECT id, $2, $3, $4, $5, $6, $7, $8, $9, $10 FROM sources WHERE id = $1",
        )
        .bind(source.0)
        .bind(secs(log.at))
        .bind(&log.outcome)
        .bind(log.http_status.map(i64::from))
        .bind(&log.message)
        .bind(clamp(log.offerings))
        .bind(clamp(log.new))
        .bind(clamp(log.updated))
        .bind(clamp(log.removed))
        .bind(warnings)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted > 0 {
            sqlx::query(
                "DELETE FROM fetch_log WHERE source_id = $1 AND id NOT IN \
                 (SELECT id FROM fetch_log WHERE source_id = $1 ORDER BY id DESC LIMIT $2)",
            )
            .bind(source.0)
            .bind(i64::from(keep))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The source's newest fetches first, at most `limit`.
    pub(crate) async fn fetch_history(
        &self,
        source: SourceId,
        limit: u32,
    ) -> Result<Vec<FetchLog>, StoreError> {
        let rows = sqlx::query(
            "SELECT at, outcome, http_status, message, offerings, new, updated, removed, warnings \
             FROM fetch_log WHERE source_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(source.0)
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|r| {
                let status: Option<i64> = r.try_get(2)?;
                let warnings: String = r.try_get(8)?;
                Ok(FetchLog {
                    at: instant(r.try_get(0)?)?,
                    outcome: r.try_get(1)?,
                    http_status: status
                        .map(|s| {
                            u16::try_from(s).map_err(|e| StoreError::corrupt("http status", e))
                        })
                        .transpose()?,
                    message: r.try_get(3)?,
                    offerings: count(r.try_get(4)?),
                    new: count(r.try_get(5)?),
                    updated: count(r.try_get(6)?),
                    removed: count(r.try_get(7)?),
                    warnings: serde_json::from_str(&warnings)
                        .map_err(|e| StoreError::corrupt("fetch log warnings", e))?,
                })
            })
            .collect()
    }

    /// Every key of `provider`, newest first, revoked ones included (so a provider sees what
    /// it revoked and when).
    pub(crate) async fn api_keys(&self, provider: ProviderId) -> Result<Vec<ApiKey>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, label, created_at, revoked_at, last_used_at, expires_at FROM api_keys \
             WHERE provider_id = $1 ORDER BY id DESC",
        )
        .bind(provider.0)
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ApiKey {
                    id: ApiKeyId(r.try_get(0)?),
                    label: r.try_get(1)?,
                    created_at: instant(r.try_get(2)?)?,
                    revoked_at: opt_instant(r.try_get(3)?)?,
                    last_used_at: opt_instant(r.try_get(4)?)?,
                    expires_at: opt_instant(r.try_get(5)?)?,
                })
            })
            .collect()
    }

    /// Revokes `id` only if it belongs to `provider`; `false` when it does not exist, is
    /// another provider's, or was already revoked.
    pub(crate) async fn revoke_own_api_key(
        &self,
        provider: ProviderId,
        id: ApiKeyId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE api_keys SET revoked_at = $1 \
             WHERE id = $2 AND provider_id = $3 AND revoked_at IS NULL",
        )
        .bind(secs(now))
        .bind(id.0)
        .bind(provider.0)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(done > 0)
    }
}

fn clamp(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// How long a calendar shows a withdrawn offering as cancelled.
pub(crate) const TOMBSTONE_DAYS: i64 = 30;

/// Keeps what calendars showed of the live, still upcoming offerings `selector` picks (SQL over
/// `o`, binding `$2` = `key` and `$3` = `source`), before they are removed: each one shown
/// under its own id, i.e. outside a cluster or without another live member left in it (when
/// others live on, the cluster is still offered and its calendar entry moves to one of them).
/// Old tombstones are pruned in the same transaction.
async fn keep_tombstones(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    selector: &str,
    key: &str,
    source: i64,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT OR REPLACE INTO calendar_tombstones \
         (offering_id, provider, body, sequence, removed_at, last_end) \
         SELECT o.id, p.name, o.body, o.sequence, $1, COALESCE(o.last_end, o.first_start) \
         FROM offerings o JOIN providers p ON p.id = o.provider_id \
         WHERE {selector} AND o.removed_at IS NULL \
         AND COALESCE(o.last_end, o.first_start) >= $1 \
         AND NOT EXISTS (SELECT 1 FROM cluster_members me \
             JOIN cluster_members other ON other.cluster_id = me.cluster_id \
             JOIN offerings o2 ON o2.id = other.offering_id \
             WHERE me.offering_id = o.id AND o2.id <> o.id AND o2.removed_at IS NULL \
             AND o2.source_id <> $3)"
    );
    // `$3` is the removed offering's own source for a take-down too: a re-post of it in the
    // same feed is not another provider still offering it.
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(secs(now))
        .bind(key)
        .bind(source)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM calendar_tombstones WHERE removed_at < $1")
        .bind(secs(now) - TOMBSTONE_DAYS * 86_400)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
