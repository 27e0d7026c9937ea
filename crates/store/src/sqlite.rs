//! The embedded backend: one SQLite file in WAL mode.
//!
//! Writes go through a pool of exactly one connection and start with `BEGIN IMMEDIATE`: inside
//! one process writers queue on the pool (async, fair) instead of spinning in SQLite's busy
//! handler, and across processes (a `crawl` and a `serve` on one file) the immediate lock plus the
//! busy timeout means a transaction never has to upgrade a read lock, which is the case SQLite
//! answers with SQLITE_BUSY at once. Reads use a separate pool marked `query_only`.
//!
//! The SQL is kept portable (`$n` placeholders, `ON CONFLICT`, `RETURNING`, unix-second BIGINTs)
//! so the PostgreSQL backend can reuse it nearly verbatim.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use coalesce_core::Sector;
use sha2::{Digest, Sha256};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Connection, QueryBuilder, Row, Sqlite, SqliteConnection};

mod manage;

use crate::StoreOptions;
use crate::error::StoreError;
use crate::plan::{self, Existing, OccurrenceRow, Plan};
use crate::types::*;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// SQLite allows 32,766 bound values per statement; stay well below it.
const MAX_BINDS: usize = 8_000;

#[derive(Debug, Clone)]
pub(crate) struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    policy: ApplyPolicy,
}

const OFFERING_SELECT: &str = "SELECT o.id, o.source_id, o.provider_id, p.name, o.body, \
     o.content_hash, o.sequence, o.updated_at, o.first_seen, o.last_seen, o.removed_at, \
     o.absent_count, m.cluster_id, f.last_healthy_at \
     FROM offerings o \
     JOIN providers p ON p.id = o.provider_id \
     LEFT JOIN cluster_members m ON m.offering_id = o.id \
     LEFT JOIN fetch_state f ON f.source_id = o.source_id";

const SOURCE_SELECT: &str = "SELECT s.id, s.provider_id, p.name, s.name, s.url, s.kind, \
     s.settings, s.enabled, s.created_at, s.updated_at, \
     f.etag, f.last_modified, f.content_hash, f.status, f.last_attempt_at, f.last_success_at, \
     f.last_healthy_at, f.consecutive_failures, f.last_error_code, f.last_error_message, \
     f.http_status, f.offerings_count, f.warnings_count, f.last_anomaly_code, \
     f.last_anomaly_message, f.last_anomaly_at, f.next_due_at, f.paused, f.paused_at, \
     f.redirect_to, f.redirect_seen, p.sectors, p.audience, f.platform \
     FROM sources s \
     JOIN providers p ON p.id = s.provider_id \
     LEFT JOIN fetch_state f ON f.source_id = s.id";

fn secs(t: DateTime<Utc>) -> i64 {
    t.timestamp()
}

fn instant(s: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp(s, 0).ok_or_else(|| StoreError::corrupt("instant", s))
}

fn opt_instant(s: Option<i64>) -> Result<Option<DateTime<Utc>>, StoreError> {
    s.map(instant).transpose()
}

fn digest(secret: &str) -> String {
    plan::hex(&Sha256::digest(secret.as_bytes()))
}

impl SqliteStore {
    pub(crate) async fn open(path: &Path, options: &StoreOptions) -> Result<Self, StoreError> {
        let open_err = |source| StoreError::Open {
            path: path.display().to_string(),
            source,
        };
        let base = SqliteConnectOptions::from_str("sqlite://")
            .map_err(open_err)?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(options.busy_timeout)
            .foreign_keys(true)
            // Keeps the WAL file from staying huge after a burst (HOSTILE E9).
            .pragma("journal_size_limit", (64 * 1024 * 1024).to_string());
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            // A write that failed half-way (a full disk, an I/O error) can leave the connection
            // inside a transaction SQLite already abandoned, and every later `BEGIN` on it
            // fails. Such a connection is closed instead of reused; the pool opens a fresh one.
            .before_acquire(|conn, _| Box::pin(async move { Ok(!conn.is_in_transaction()) }))
            .after_release(|conn, _| Box::pin(async move { Ok(!conn.is_in_transaction()) }))
            // Writers queue here; the longest wait is every other writer's transaction.
            .acquire_timeout(options.write_queue_timeout)
            .connect_with(base.clone())
            .await
            .map_err(open_err)?;
        MIGRATOR.run(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(options.read_connections.max(1))
            .acquire_timeout(options.write_queue_timeout)
            .connect_with(base.pragma("query_only", "ON"))
            .await
            .map_err(open_err)?;
        Ok(SqliteStore {
            writer,
            reader,
            policy: options.policy,
        })
    }

    pub(crate) async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }

    async fn begin(&self) -> Result<sqlx::Transaction<'static, Sqlite>, StoreError> {
        Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// Runs one UPDATE of a source's row in its own write transaction; no row touched means the
    /// source does not exist.
    async fn update_source_row(
        &self,
        id: SourceId,
        query: sqlx::query::Query<'_, Sqlite, sqlx::sqlite::SqliteArguments>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let n = query.execute(&mut *tx).await?.rows_affected();
        if n == 0 {
            return Err(StoreError::UnknownSource(id));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Folds the WAL back into the database file; the crawler calls this between rounds so a
    /// long reader cannot make the WAL grow without bound.
    pub(crate) async fn probe_write(&self) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE write_probe SET writes = writes + 1 WHERE id = 1")
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn checkpoint(&self) -> Result<(), StoreError> {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    // ---- providers and API keys -------------------------------------------------------------

    pub(crate) async fn ensure_provider(
        &self,
        name: &str,
        display_name: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Provider, StoreError> {
        let mut tx = self.begin().await?;
        let row = sqlx::query(
            "INSERT INTO providers (name, display_name, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET \
             display_name = COALESCE(excluded.display_name, providers.display_name) \
             RETURNING id, name, display_name, created_at, sectors, audience",
        )
        .bind(name)
        .bind(display_name)
        .bind(secs(now))
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        provider_from(&row)
    }

    pub(crate) async fn provider_by_name(
        &self,
        name: &str,
    ) -> Result<Option<Provider>, StoreError> {
        let sql = format!("SELECT {PROVIDER_COLUMNS} FROM providers WHERE name = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(name)
            .fetch_optional(&self.reader)
            .await?
            .as_ref()
            .map(provider_from)
            .transpose()
    }

    pub(crate) async fn providers(&self) -> Result<Vec<Provider>, StoreError> {
        let sql = format!("SELECT {PROVIDER_COLUMNS} FROM providers ORDER BY name");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(provider_from)
            .collect()
    }

    pub(crate) async fn update_provider(
        &self,
        name: &str,
        patch: &ProviderPatch,
    ) -> Result<Option<Provider>, StoreError> {
        let mut tx = self.begin().await?;
        let sql = format!("SELECT {PROVIDER_COLUMNS} FROM providers WHERE name = $1");
        let Some(before) = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?
            .as_ref()
            .map(provider_from)
            .transpose()?
        else {
            return Ok(None);
        };
        let sectors = patch
            .sectors
            .as_deref()
            .map(sectors_json)
            .unwrap_or_else(|| sectors_json(&before.sectors));
        let audience = match &patch.audience {
            Some(a) => a.clone(),
            None => before.audience.clone(),
        };
        let sql = format!(
            "UPDATE providers SET sectors = $1, audience = $2 WHERE id = $3 \
             RETURNING {PROVIDER_COLUMNS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&sectors)
            .bind(audience.as_deref())
            .bind(before.id.0)
            .fetch_one(&mut *tx)
            .await?;
        let after = provider_from(&row)?;
        if after.sectors != before.sectors || after.audience != before.audience {
            // The defaults are parse inputs: an unchanged document must be parsed again, or
            // its offerings would keep the old sectors until the provider edits the feed.
            sqlx::query(
                "UPDATE fetch_state SET etag = NULL, last_modified = NULL, content_hash = NULL \
                 WHERE source_id IN (SELECT id FROM sources WHERE provider_id = $1)",
            )
            .bind(after.id.0)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(Some(after))
    }

    pub(crate) async fn add_api_key(
        &self,
        provider: ProviderId,
        secret: &str,
        label: Option<&str>,
        expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<ApiKeyId, StoreError> {
        let mut tx = self.begin().await?;
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM providers WHERE id = $1")
            .bind(provider.0)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(StoreError::UnknownProvider(provider));
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO api_keys (provider_id, digest, label, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(provider.0)
        .bind(digest(secret))
        .bind(label)
        .bind(secs(now))
        .bind(expires_at.map(secs))
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(ApiKeyId(id))
    }

    pub(crate) async fn authenticate_api_key(
        &self,
        secret: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<KeyUse>, StoreError> {
        let row = sqlx::query(
            "SELECT id, provider_id, last_used_at FROM api_keys \
             WHERE digest = $1 AND revoked_at IS NULL \
             AND (expires_at IS NULL OR expires_at > $2)",
        )
        .bind(digest(secret))
        .bind(secs(now))
        .fetch_optional(&self.reader)
        .await?;
        row.map(|r| {
            Ok(KeyUse {
                key: ApiKeyId(r.try_get(0)?),
                provider: ProviderId(r.try_get(1)?),
                last_used_at: opt_instant(r.try_get(2)?)?,
            })
        })
        .transpose()
    }

    pub(crate) async fn touch_api_key(
        &self,
        id: ApiKeyId,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
            .bind(secs(now))
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn revoke_api_key(
        &self,
        id: ApiKeyId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let done =
            sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(secs(now))
                .bind(id.0)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        tx.commit().await?;
        Ok(done > 0)
    }

    // ---- sources ------------------------------------------------------------------------------

    pub(crate) async fn upsert_source(
        &self,
        new: &NewSource,
        now: DateTime<Utc>,
    ) -> Result<SourceId, StoreError> {
        let mut tx = self.begin().await?;
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM providers WHERE id = $1")
            .bind(new.provider_id.0)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(StoreError::UnknownProvider(new.provider_id));
        }
        let before: Option<(Option<String>, String)> = sqlx::query_as(
            "SELECT kind, settings FROM sources WHERE provider_id = $1 AND name = $2",
        )
        .bind(new.provider_id.0)
        .bind(&new.name)
        .fetch_optional(&mut *tx)
        .await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO sources (id, provider_id, name, url, kind, settings, created_at, updated_at) \
             VALUES (MAX(COALESCE((SELECT MAX(id) FROM sources), 0), \
                         COALESCE((SELECT last_id FROM id_high_water WHERE tbl = 'sources'), 0)) + 1, \
                     $1, $2, $3, $4, $5, $6, $6) \
             ON CONFLICT (provider_id, name) DO UPDATE SET url = excluded.url, \
             kind = excluded.kind, settings = excluded.settings, updated_at = excluded.updated_at \
             RETURNING id",
        )
        .bind(new.provider_id.0)
        .bind(&new.name)
        .bind(&new.url)
        .bind(new.kind.as_deref())
        .bind(new.settings.to_string())
        .bind(secs(now))
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO fetch_state (source_id) VALUES ($1) ON CONFLICT DO NOTHING")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let parse_inputs_changed = before.is_some_and(|(kind, settings)| {
            kind != new.kind
                || serde_json::from_str::<serde_json::Value>(&settings)
                    .ok()
                    .as_ref()
                    != Some(&new.settings)
        });
        if parse_inputs_changed {
            // A new zone, format or sector override changes what the same bytes parse to: the
            // next fetch must parse them again instead of stopping at "unchanged".
            sqlx::query(
                "UPDATE fetch_state SET etag = NULL, last_modified = NULL, content_hash = NULL \
                 WHERE source_id = $1",
            )
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(SourceId(id))
    }

    pub(crate) async fn source(&self, id: SourceId) -> Result<Option<Source>, StoreError> {
        let sql = format!("{SOURCE_SELECT} WHERE s.id = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.0)
            .fetch_optional(&self.reader)
            .await?
            .as_ref()
            .map(source_from)
            .transpose()
    }

    pub(crate) async fn source_by_name(
        &self,
        provider: ProviderId,
        name: &str,
    ) -> Result<Option<Source>, StoreError> {
        let sql = format!("{SOURCE_SELECT} WHERE s.provider_id = $1 AND s.name = $2");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(provider.0)
            .bind(name)
            .fetch_optional(&self.reader)
            .await?
            .as_ref()
            .map(source_from)
            .transpose()
    }

    pub(crate) async fn sources(&self) -> Result<Vec<Source>, StoreError> {
        let sql = format!("{SOURCE_SELECT} ORDER BY s.id");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(source_from)
            .collect()
    }

    pub(crate) async fn set_next_due(
        &self,
        id: SourceId,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let query = sqlx::query("UPDATE fetch_state SET next_due_at = $1 WHERE source_id = $2")
            .bind(secs(at))
            .bind(id.0);
        self.update_source_row(id, query).await
    }

    pub(crate) async fn request_refresh(
        &self,
        id: SourceId,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let query = sqlx::query(
            "UPDATE fetch_state SET next_due_at = $1, refresh_requested_ms = $2 \
             WHERE source_id = $3",
        )
        .bind(secs(now))
        .bind(now.timestamp_millis())
        .bind(id.0);
        self.update_source_row(id, query).await
    }

    pub(crate) async fn due_sources(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<SourceId>, StoreError> {
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT f.source_id FROM fetch_state f JOIN sources s ON s.id = f.source_id \
             WHERE s.enabled AND NOT f.paused \
             AND (f.next_due_at IS NULL OR f.next_due_at <= $1) \
             ORDER BY f.next_due_at IS NOT NULL, f.next_due_at, f.source_id LIMIT $2",
        )
        .bind(secs(now))
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        Ok(ids.into_iter().map(SourceId).collect())
    }

    // ---- apply --------------------------------------------------------------------------------

    pub(crate) async fn apply(
        &self,
        source: SourceId,
        result: &FetchResult,
        now: DateTime<Utc>,
    ) -> Result<ApplySummary, StoreError> {
        let mut tx = self.begin().await?;
        let summary = self.apply_in(&mut tx, source, result, now).await?;
        fail::fail_point!("store.apply.before_commit", |_| std::process::abort());
        tx.commit().await?;
        fail::fail_point!("store.apply.after_commit", |_| std::process::abort());
        Ok(summary)
    }

    pub(crate) async fn apply_scheduled(
        &self,
        source: SourceId,
        result: &FetchResult,
        schedule: &Schedule,
        now: DateTime<Utc>,
    ) -> Result<ApplySummary, StoreError> {
        let mut tx = self.begin().await?;
        let summary = self.apply_in(&mut tx, source, result, now).await?;
        let now_s = secs(now);
        // A refresh asked for after this fetch started survives it: the source stays due.
        sqlx::query(
            "UPDATE fetch_state SET \
             next_due_at = CASE WHEN refresh_requested_ms > $7 THEN next_due_at \
                           ELSE COALESCE($1, next_due_at) END, \
             refresh_requested_ms = CASE WHEN refresh_requested_ms > $7 \
                                    THEN refresh_requested_ms ELSE NULL END, \
             paused = paused OR $2, \
             paused_at = CASE WHEN $2 AND NOT paused THEN $3 ELSE paused_at END, \
             redirect_to = $4, redirect_seen = $5 WHERE source_id = $6",
        )
        .bind(schedule.next_due_at.map(secs))
        .bind(schedule.pause)
        .bind(now_s)
        .bind(schedule.redirect_to.as_deref())
        .bind(i64::from(schedule.redirect_seen))
        .bind(source.0)
        .bind(now.timestamp_millis())
        .execute(&mut *tx)
        .await?;
        if let Some(url) = &schedule.move_to {
            sqlx::query("UPDATE sources SET url = $1, updated_at = $2 WHERE id = $3")
                .bind(url)
                .bind(now_s)
                .bind(source.0)
                .execute(&mut *tx)
                .await?;
        }
        fail::fail_point!("store.apply.before_commit", |_| std::process::abort());
        tx.commit().await?;
        fail::fail_point!("store.apply.after_commit", |_| std::process::abort());
        Ok(summary)
    }

    /// Lifts a pause: due at once, failures forgiven so the next failure backs off from the
    /// start instead of pausing again at once. Also fine on a source that is not paused.
    pub(crate) async fn resume_source(
        &self,
        id: SourceId,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let query = sqlx::query(
            "UPDATE fetch_state SET paused = FALSE, paused_at = NULL, \
             consecutive_failures = 0, next_due_at = $1 WHERE source_id = $2",
        )
        .bind(secs(now))
        .bind(id.0);
        self.update_source_row(id, query).await
    }

    /// The body of `apply`, inside the caller's transaction.
    async fn apply_in(
        &self,
        tx: &mut SqliteConnection,
        source: SourceId,
        result: &FetchResult,
        now: DateTime<Utc>,
    ) -> Result<ApplySummary, StoreError> {
        let head = sqlx::query(
            "SELECT s.provider_id, f.last_success_at, f.last_healthy_at \
             FROM sources s LEFT JOIN fetch_state f ON f.source_id = s.id WHERE s.id = $1",
        )
        .bind(source.0)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::UnknownSource(source))?;
        let provider: i64 = head.try_get(0)?;
        let last_success: Option<i64> = head.try_get(1)?;
        let last_healthy: Option<i64> = head.try_get(2)?;
        let now_s = secs(now);

        let summary = match result {
            FetchResult::Failed(failure) => {
                let anomaly = Anomaly::FetchFailed {
                    error_code: failure.code.clone(),
                };
                record_failure(&mut *tx, source, failure, &anomaly, now_s).await?;
                ApplySummary {
                    anomaly: Some(anomaly),
                    ..ApplySummary::default()
                }
            }
            FetchResult::NotModified { http_status } if last_success.is_none() => {
                let anomaly = Anomaly::UnexpectedNotModified;
                let failure = FetchFailure {
                    code: anomaly.code().to_string(),
                    message: anomaly.to_string(),
                    http_status: *http_status,
                };
                record_failure(&mut *tx, source, &failure, &anomaly, now_s).await?;
                ApplySummary {
                    anomaly: Some(anomaly),
                    ..ApplySummary::default()
                }
            }
            FetchResult::NotModified { http_status } => {
                // The document is the one we hold: nobody is absent, and every live item was
                // seen now (that is what `last_healthy_at` stands for on read).
                sqlx::query(
                    "UPDATE fetch_state SET status = 'not_modified', last_attempt_at = $1, \
                     last_success_at = $1, last_healthy_at = $1, consecutive_failures = 0, \
                     http_status = $2 WHERE source_id = $3",
                )
                .bind(now_s)
                .bind(http_status.map(i64::from))
                .bind(source.0)
                .execute(&mut *tx)
                .await?;
                ApplySummary::default()
            }
            FetchResult::Fetched(snapshot) => {
                let existing = load_existing(&mut *tx, source).await?;
                let plan = plan::plan(
                    source,
                    &existing,
                    &snapshot.offerings,
                    &self.policy,
                    last_healthy,
                    now_s,
                )?;
                write_plan(&mut *tx, source, provider, &plan, now_s).await?;
                let live: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM offerings WHERE source_id = $1 AND removed_at IS NULL",
                )
                .bind(source.0)
                .fetch_one(&mut *tx)
                .await?;
                let (status, healthy_at) = match plan.summary.anomaly {
                    Some(Anomaly::Empty { .. } | Anomaly::Shrunk { .. }) => ("anomaly", None),
                    Some(_) => ("anomaly", Some(now_s)),
                    None => ("ok", Some(now_s)),
                };
                let anomaly = plan.summary.anomaly.as_ref();
                sqlx::query(
                    "UPDATE fetch_state SET status = $1, last_attempt_at = $2, \
                     last_success_at = $2, last_healthy_at = COALESCE($3, last_healthy_at), \
                     consecutive_failures = 0, etag = $4, last_modified = $5, \
                     content_hash = $6, http_status = $7, offerings_count = $8, \
                     warnings_count = $9, \
                     last_anomaly_code = COALESCE($10, last_anomaly_code), \
                     last_anomaly_message = COALESCE($11, last_anomaly_message), \
                     last_anomaly_at = CASE WHEN $10 IS NULL THEN last_anomaly_at ELSE $2 END, \
                     platform = $13 \
                     WHERE source_id = $12",
                )
                .bind(status)
                .bind(now_s)
                .bind(healthy_at)
                .bind(snapshot.etag.as_deref())
                .bind(snapshot.last_modified.as_deref())
                .bind(snapshot.content_hash.as_deref())
                .bind(snapshot.http_status.map(i64::from))
                .bind(live)
                .bind(i64::try_from(snapshot.warnings).unwrap_or(i64::MAX))
                .bind(anomaly.map(Anomaly::code))
                .bind(anomaly.map(ToString::to_string))
                .bind(source.0)
                .bind(snapshot.platform.as_deref())
                .execute(&mut *tx)
                .await?;
                plan.summary
            }
        };
        Ok(summary)
    }

    // ---- reads --------------------------------------------------------------------------------

    pub(crate) async fn offering(
        &self,
        id: &OfferingId,
    ) -> Result<Option<StoredOffering>, StoreError> {
        let sql = format!("{OFFERING_SELECT} WHERE o.id = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&id.0)
            .fetch_optional(&self.reader)
            .await?
            .as_ref()
            .map(stored_from)
            .transpose()
    }

    pub(crate) async fn offerings(
        &self,
        filter: &OfferingFilter,
    ) -> Result<Vec<StoredOffering>, StoreError> {
        let mut q = QueryBuilder::<Sqlite>::new(OFFERING_SELECT);
        q.push(" WHERE 1 = 1");
        if let Some(s) = filter.source_id {
            q.push(" AND o.source_id = ").push_bind(s.0);
        }
        if !filter.include_removed {
            q.push(" AND o.removed_at IS NULL");
        }
        if let Some(after) = &filter.after {
            q.push(" AND o.id > ").push_bind(after.0.clone());
        }
        q.push(" ORDER BY o.id");
        if let Some(limit) = filter.limit {
            q.push(" LIMIT ").push_bind(i64::from(limit));
        }
        q.build()
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(stored_from)
            .collect()
    }

    pub(crate) async fn offerings_by_ids(
        &self,
        ids: &[OfferingId],
    ) -> Result<Vec<StoredOffering>, StoreError> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(MAX_BINDS) {
            let mut q = QueryBuilder::<Sqlite>::new(OFFERING_SELECT);
            q.push(" WHERE o.id IN (");
            let mut sep = q.separated(", ");
            for id in chunk {
                sep.push_bind(id.0.clone());
            }
            q.push(") ORDER BY o.id");
            for row in q.build().fetch_all(&self.reader).await? {
                out.push(stored_from(&row)?);
            }
        }
        Ok(out)
    }

    pub(crate) async fn offerings_starting_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<StoredOffering>, StoreError> {
        let sql = format!(
            "{OFFERING_SELECT} WHERE o.removed_at IS NULL AND o.id IN \
             (SELECT offering_id FROM occurrences WHERE start_at >= $1 AND start_at < $2) \
             ORDER BY o.id"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(secs(from))
            .bind(secs(to))
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(stored_from)
            .collect()
    }

    pub(crate) async fn watermark(&self) -> Result<i64, StoreError> {
        let seq: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM changes")
            .fetch_one(&self.reader)
            .await?;
        Ok(seq.unwrap_or(0))
    }

    pub(crate) async fn changes_since(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<Change>, StoreError> {
        sqlx::query(
            "SELECT seq, offering_id, kind, at FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(|row| {
            let kind: String = row.try_get(2)?;
            Ok(Change {
                seq: row.try_get(0)?,
                offering_id: OfferingId(row.try_get(1)?),
                kind: ChangeKind::parse(&kind)
                    .ok_or_else(|| StoreError::corrupt("change kind", &kind))?,
                at: instant(row.try_get(3)?)?,
            })
        })
        .collect()
    }

    // ---- clusters -----------------------------------------------------------------------------

    pub(crate) async fn replace_clusters(
        &self,
        affected: &[OfferingId],
        clusters: &[Cluster],
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        for c in clusters {
            if !c.members.iter().any(|m| m.offering_id == c.canonical) {
                return Err(StoreError::CanonicalNotMember(c.id.clone()));
            }
        }
        let mut tx = self.begin().await?;
        let mut touched: Vec<&OfferingId> = affected.iter().collect();
        touched.extend(
            clusters
                .iter()
                .flat_map(|c| c.members.iter().map(|m| &m.offering_id)),
        );

        // Old state of every offering involved: (cluster, canonical) so only real moves are logged.
        let mut old_ids: HashSet<String> = HashSet::new();
        for chunk in touched.chunks(MAX_BINDS) {
            let mut q = QueryBuilder::<Sqlite>::new(
                "SELECT DISTINCT cluster_id FROM cluster_members WHERE offering_id IN (",
            );
            let mut sep = q.separated(", ");
            for id in chunk {
                sep.push_bind(id.0.clone());
            }
            q.push(")");
            for row in q.build().fetch_all(&mut *tx).await? {
                old_ids.insert(row.try_get(0)?);
            }
        }
        let old_ids: Vec<String> = old_ids.into_iter().collect();
        let mut before: BTreeMap<String, (String, String)> = BTreeMap::new();
        for chunk in old_ids.chunks(MAX_BINDS) {
            let mut q = QueryBuilder::<Sqlite>::new(
                "SELECT m.offering_id, m.cluster_id, c.canonical_offering_id \
                 FROM cluster_members m JOIN clusters c ON c.id = m.cluster_id \
                 WHERE m.cluster_id IN (",
            );
            let mut sep = q.separated(", ");
            for id in chunk {
                sep.push_bind(id.clone());
            }
            q.push(")");
            for row in q.build().fetch_all(&mut *tx).await? {
                before.insert(row.try_get(0)?, (row.try_get(1)?, row.try_get(2)?));
            }
            let mut q = QueryBuilder::<Sqlite>::new("DELETE FROM clusters WHERE id IN (");
            let mut sep = q.separated(", ");
            for id in chunk {
                sep.push_bind(id.clone());
            }
            q.push(")");
            q.build().execute(&mut *tx).await?;
        }

        let mut after: BTreeMap<String, (String, String)> = BTreeMap::new();
        for c in clusters {
            sqlx::query(
                "INSERT INTO clusters (id, canonical_offering_id, explanation, updated_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(&c.id.0)
            .bind(&c.canonical.0)
            .bind(c.explanation.to_string())
            .bind(secs(now))
            .execute(&mut *tx)
            .await
            .map_err(|e| missing_member(e, c, &c.canonical))?;
            for m in &c.members {
                sqlx::query(
                    "INSERT INTO cluster_members (offering_id, cluster_id, explanation) \
                     VALUES ($1, $2, $3)",
                )
                .bind(&m.offering_id.0)
                .bind(&c.id.0)
                .bind(m.explanation.to_string())
                .execute(&mut *tx)
                .await
                .map_err(|e| missing_member(e, c, &m.offering_id))?;
                after.insert(
                    m.offering_id.0.clone(),
                    (c.id.0.clone(), c.canonical.0.clone()),
                );
            }
        }

        let mut moved: Vec<&String> = before
            .iter()
            .filter(|(id, v)| after.get(*id) != Some(v))
            .map(|(id, _)| id)
            .collect();
        moved.extend(
            after
                .iter()
                .filter(|(id, v)| before.get(*id) != Some(v))
                .map(|(id, _)| id),
        );
        moved.sort();
        moved.dedup();
        let changes: Vec<(&str, ChangeKind)> = moved
            .iter()
            .map(|id| (id.as_str(), ChangeKind::Clustered))
            .collect();
        insert_changes(&mut tx, &changes, secs(now)).await?;
        fail::fail_point!("store.clusters.before_commit", |_| std::process::abort());
        tx.commit().await?;
        fail::fail_point!("store.clusters.after_commit", |_| std::process::abort());
        Ok(changes.len() as u64)
    }

    pub(crate) async fn cluster(&self, id: &ClusterId) -> Result<Option<Cluster>, StoreError> {
        let head = sqlx::query(
            "SELECT id, canonical_offering_id, explanation FROM clusters WHERE id = $1",
        )
        .bind(&id.0)
        .fetch_optional(&self.reader)
        .await?;
        let Some(head) = head else {
            return Ok(None);
        };
        let members = sqlx::query(
            "SELECT offering_id, explanation FROM cluster_members WHERE cluster_id = $1 \
             ORDER BY offering_id",
        )
        .bind(&id.0)
        .fetch_all(&self.reader)
        .await?;
        let mut c = cluster_head(&head)?;
        for m in &members {
            c.members.push(ClusterMember {
                offering_id: OfferingId(m.try_get(0)?),
                explanation: json(m.try_get::<String, _>(1)?, "cluster member explanation")?,
            });
        }
        Ok(Some(c))
    }

    pub(crate) async fn clusters(&self) -> Result<Vec<Cluster>, StoreError> {
        let heads =
            sqlx::query("SELECT id, canonical_offering_id, explanation FROM clusters ORDER BY id")
                .fetch_all(&self.reader)
                .await?;
        let members = sqlx::query(
            "SELECT cluster_id, offering_id, explanation FROM cluster_members \
             ORDER BY cluster_id, offering_id",
        )
        .fetch_all(&self.reader)
        .await?;
        let mut by_id: BTreeMap<String, Cluster> = BTreeMap::new();
        for h in &heads {
            let c = cluster_head(h)?;
            by_id.insert(c.id.0.clone(), c);
        }
        for m in &members {
            let cid: String = m.try_get(0)?;
            if let Some(c) = by_id.get_mut(&cid) {
                c.members.push(ClusterMember {
                    offering_id: OfferingId(m.try_get(1)?),
                    explanation: json(m.try_get::<String, _>(2)?, "cluster member explanation")?,
                });
            }
        }
        Ok(by_id.into_values().collect())
    }
}

fn missing_member(e: sqlx::Error, c: &Cluster, offering: &OfferingId) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
            StoreError::ClusterMemberMissing {
                cluster: c.id.clone(),
                offering: offering.clone(),
            }
        }
        _ => StoreError::Database(e),
    }
}

fn json(text: String, what: &str) -> Result<serde_json::Value, StoreError> {
    serde_json::from_str(&text).map_err(|e| StoreError::corrupt(what, e))
}

fn cluster_head(row: &SqliteRow) -> Result<Cluster, StoreError> {
    Ok(Cluster {
        id: ClusterId(row.try_get(0)?),
        canonical: OfferingId(row.try_get(1)?),
        members: Vec::new(),
        explanation: json(row.try_get::<String, _>(2)?, "cluster explanation")?,
    })
}

/// The columns [`provider_from`] reads, in its order.
const PROVIDER_COLUMNS: &str = "id, name, display_name, created_at, sectors, audience";

fn provider_from(row: &SqliteRow) -> Result<Provider, StoreError> {
    Ok(Provider {
        id: ProviderId(row.try_get(0)?),
        name: row.try_get(1)?,
        display_name: row.try_get(2)?,
        created_at: instant(row.try_get(3)?)?,
        sectors: sectors_from(row.try_get(4)?)?,
        audience: row.try_get(5)?,
    })
}

/// A provider's `sectors` column: a JSON array of sector ids.
fn sectors_from(text: String) -> Result<Vec<Sector>, StoreError> {
    serde_json::from_str(&text).map_err(|e| StoreError::corrupt("provider sectors", e))
}

fn sectors_json(sectors: &[Sector]) -> String {
    let mut sorted = sectors.to_vec();
    sorted.sort();
    sorted.dedup();
    let ids: Vec<&str> = sorted.iter().map(|s| s.as_str()).collect();
    serde_json::Value::from(ids).to_string()
}

fn source_from(row: &SqliteRow) -> Result<Source, StoreError> {
    let settings: String = row.try_get(6)?;
    Ok(Source {
        id: SourceId(row.try_get(0)?),
        provider_id: ProviderId(row.try_get(1)?),
        provider: row.try_get(2)?,
        name: row.try_get(3)?,
        url: row.try_get(4)?,
        kind: row.try_get(5)?,
        settings: json(settings, "source settings")?,
        enabled: row.try_get(7)?,
        created_at: instant(row.try_get(8)?)?,
        updated_at: instant(row.try_get(9)?)?,
        status: SourceStatus {
            etag: row.try_get(10)?,
            last_modified: row.try_get(11)?,
            content_hash: row.try_get(12)?,
            status: row
                .try_get::<Option<String>, _>(13)?
                .unwrap_or_else(|| "never".to_string()),
            last_attempt_at: opt_instant(row.try_get(14)?)?,
            last_success_at: opt_instant(row.try_get(15)?)?,
            last_healthy_at: opt_instant(row.try_get(16)?)?,
            consecutive_failures: row.try_get::<Option<i64>, _>(17)?.unwrap_or(0),
            last_error_code: row.try_get(18)?,
            last_error_message: row.try_get(19)?,
            http_status: row.try_get(20)?,
            offerings_count: row.try_get::<Option<i64>, _>(21)?.unwrap_or(0),
            warnings_count: row.try_get::<Option<i64>, _>(22)?.unwrap_or(0),
            last_anomaly_code: row.try_get(23)?,
            last_anomaly_message: row.try_get(24)?,
            last_anomaly_at: opt_instant(row.try_get(25)?)?,
            next_due_at: opt_instant(row.try_get(26)?)?,
            paused: row.try_get::<Option<bool>, _>(27)?.unwrap_or(false),
            paused_at: opt_instant(row.try_get(28)?)?,
            redirect_to: row.try_get(29)?,
            redirect_seen: row.try_get::<Option<i64>, _>(30)?.unwrap_or(0),
            platform: row.try_get(33)?,
        },
        provider_sectors: sectors_from(row.try_get(31)?)?,
        provider_audience: row.try_get(32)?,
    })
}

fn stored_from(row: &SqliteRow) -> Result<StoredOffering, StoreError> {
    let id = OfferingId(row.try_get(0)?);
    let body: String = row.try_get(4)?;
    let offering = serde_json::from_str(&body)
        .map_err(|e| StoreError::corrupt(format!("offering {id}"), e))?;
    let removed_at = opt_instant(row.try_get(10)?)?;
    let absent_count: i64 = row.try_get(11)?;
    let mut last_seen: i64 = row.try_get(9)?;
    // Unchanged items are not rewritten on every fetch (that would rewrite the whole source each
    // poll); a live item not counted absent was in the last healthy fetch, so it was seen then.
    if removed_at.is_none()
        && absent_count == 0
        && let Some(healthy) = row.try_get::<Option<i64>, _>(13)?
    {
        last_seen = last_seen.max(healthy);
    }
    Ok(StoredOffering {
        id,
        source_id: SourceId(row.try_get(1)?),
        provider_id: ProviderId(row.try_get(2)?),
        provider: row.try_get(3)?,
        offering,
        content_hash: row.try_get(5)?,
        sequence: row.try_get(6)?,
        updated_at: instant(row.try_get(7)?)?,
        first_seen: instant(row.try_get(8)?)?,
        last_seen: instant(last_seen)?,
        removed_at,
        absent_count,
        cluster_id: row.try_get::<Option<String>, _>(12)?.map(ClusterId),
    })
}

async fn record_failure(
    tx: &mut SqliteConnection,
    source: SourceId,
    failure: &FetchFailure,
    anomaly: &Anomaly,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE fetch_state SET status = 'failed', last_attempt_at = $1, \
         consecutive_failures = consecutive_failures + 1, last_error_code = $2, \
         last_error_message = $3, http_status = $4, last_anomaly_code = $5, \
         last_anomaly_message = $6, last_anomaly_at = $1 WHERE source_id = $7",
    )
    .bind(now)
    .bind(&failure.code)
    .bind(&failure.message)
    .bind(failure.http_status.map(i64::from))
    .bind(anomaly.code())
    .bind(anomaly.to_string())
    .bind(source.0)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

async fn load_existing(
    tx: &mut SqliteConnection,
    source: SourceId,
) -> Result<HashMap<String, Existing>, StoreError> {
    let rows = sqlx::query(
        "SELECT k.source_key, o.id, o.content_hash, o.removed_at, o.absent_count, o.sequence, \
         o.last_end \
         FROM offering_keys k JOIN offerings o ON o.id = k.offering_id WHERE k.source_id = $1",
    )
    .bind(source.0)
    .fetch_all(&mut *tx)
    .await?;
    let mut out = HashMap::with_capacity(rows.len());
    for row in rows {
        out.insert(
            row.try_get(0)?,
            Existing {
                id: OfferingId(row.try_get(1)?),
                content_hash: row.try_get(2)?,
                removed: row.try_get::<Option<i64>, _>(3)?.is_some(),
                absent_count: row.try_get(4)?,
                sequence: row.try_get(5)?,
                last_end: row.try_get(6)?,
            },
        );
    }
    Ok(out)
}

async fn write_plan(
    tx: &mut SqliteConnection,
    source: SourceId,
    provider: i64,
    plan: &Plan,
    now: i64,
) -> Result<(), StoreError> {
    let mut changes: Vec<(&str, ChangeKind)> = Vec::new();

    const OFFERING_COLS: usize = 21;
    for chunk in plan.inserts.chunks(MAX_BINDS / OFFERING_COLS) {
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT INTO offerings (id, source_id, provider_id, source_key, body, content_hash, \
             title, status, modality, language, is_free, has_credits, sectors, topics, \
             first_start, last_end, sequence, updated_at, first_seen, last_seen, absent_count) ",
        );
        q.push_values(chunk, |mut b, r| {
            b.push_bind(r.id.0.clone())
                .push_bind(source.0)
                .push_bind(provider)
                .push_bind(r.source_key.clone())
                .push_bind(r.body.clone())
                .push_bind(r.content_hash.clone())
                .push_bind(r.title.clone())
                .push_bind(r.status)
                .push_bind(r.modality)
                .push_bind(r.language.clone())
                .push_bind(r.is_free)
                .push_bind(r.has_credits)
                .push_bind(r.sectors.clone())
                .push_bind(r.topics.clone())
                .push_bind(r.first_start)
                .push_bind(r.last_end)
                .push_bind(0_i64)
                .push_bind(now)
                .push_bind(now)
                .push_bind(now)
                .push_bind(0_i64);
        });
        q.build().execute(&mut *tx).await?;

        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT INTO offering_keys (source_id, source_key, offering_id) ",
        );
        q.push_values(chunk, |mut b, r| {
            b.push_bind(source.0)
                .push_bind(r.source_key.clone())
                .push_bind(r.id.0.clone());
        });
        q.build().execute(&mut *tx).await?;
    }
    let occurrences: Vec<(&OfferingId, usize, &OccurrenceRow)> = plan
        .inserts
        .iter()
        .flat_map(|r| {
            r.occurrences
                .iter()
                .enumerate()
                .map(move |(i, o)| (&r.id, i, o))
        })
        .collect();
    insert_occurrences(tx, &occurrences).await?;
    changes.extend(
        plan.inserts
            .iter()
            .map(|r| (r.id.0.as_str(), ChangeKind::Created)),
    );

    let mut rewritten_occurrences: Vec<(&OfferingId, usize, &OccurrenceRow)> = Vec::new();
    for (r, sequence, restored) in &plan.rewrites {
        sqlx::query(
            "UPDATE offerings SET body = $1, content_hash = $2, title = $3, status = $4, \
             modality = $5, language = $6, is_free = $7, has_credits = $8, sectors = $9, \
             topics = $10, first_start = $11, last_end = $12, sequence = $13, updated_at = $14, \
             last_seen = $14, removed_at = NULL, absent_count = 0 WHERE id = $15",
        )
        .bind(&r.body)
        .bind(&r.content_hash)
        .bind(&r.title)
        .bind(r.status)
        .bind(r.modality)
        .bind(r.language.as_deref())
        .bind(r.is_free)
        .bind(r.has_credits)
        .bind(&r.sectors)
        .bind(&r.topics)
        .bind(r.first_start)
        .bind(r.last_end)
        .bind(*sequence)
        .bind(now)
        .bind(&r.id.0)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM occurrences WHERE offering_id = $1")
            .bind(&r.id.0)
            .execute(&mut *tx)
            .await?;
        rewritten_occurrences.extend(r.occurrences.iter().enumerate().map(|(i, o)| (&r.id, i, o)));
        let kind = if *restored {
            ChangeKind::Restored
        } else {
            ChangeKind::Updated
        };
        changes.push((r.id.0.as_str(), kind));
    }
    insert_occurrences(tx, &rewritten_occurrences).await?;

    for id in &plan.returned {
        sqlx::query("UPDATE offerings SET absent_count = 0, last_seen = $1 WHERE id = $2")
            .bind(now)
            .bind(&id.0)
            .execute(&mut *tx)
            .await?;
    }
    for a in &plan.absences {
        sqlx::query(
            "UPDATE offerings SET absent_count = $1, last_seen = COALESCE($2, last_seen), \
             removed_at = $3 WHERE id = $4",
        )
        .bind(a.absent_count)
        .bind(a.last_seen)
        .bind(a.remove.then_some(now))
        .bind(&a.id.0)
        .execute(&mut *tx)
        .await?;
        if a.remove {
            changes.push((a.id.0.as_str(), ChangeKind::Removed));
        }
    }
    insert_changes(tx, &changes, now).await
}

async fn insert_occurrences(
    tx: &mut SqliteConnection,
    rows: &[(&OfferingId, usize, &OccurrenceRow)],
) -> Result<(), StoreError> {
    for chunk in rows.chunks(MAX_BINDS / 6) {
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT INTO occurrences (offering_id, idx, start_at, end_at, all_day, cancelled) ",
        );
        q.push_values(chunk, |mut b, (id, i, o)| {
            b.push_bind(id.0.clone())
                .push_bind(i64::try_from(*i).unwrap_or(i64::MAX))
                .push_bind(o.start)
                .push_bind(o.end)
                .push_bind(o.all_day)
                .push_bind(o.cancelled);
        });
        q.build().execute(&mut *tx).await?;
    }
    Ok(())
}

async fn insert_changes(
    tx: &mut SqliteConnection,
    changes: &[(&str, ChangeKind)],
    now: i64,
) -> Result<(), StoreError> {
    for chunk in changes.chunks(MAX_BINDS / 3) {
        let mut q = QueryBuilder::<Sqlite>::new("INSERT INTO changes (offering_id, kind, at) ");
        q.push_values(chunk, |mut b, (id, kind)| {
            b.push_bind(id.to_string())
                .push_bind(kind.as_str())
                .push_bind(now);
        });
        q.build().execute(&mut *tx).await?;
    }
    Ok(())
}
