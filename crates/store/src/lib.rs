//! coalesce-store: the system of record.
//!
//! [`Store`] is the one interface every other crate uses: providers and their hashed API keys,
//! sources with their fetch state, offerings with their occurrences and lifecycle, duplicate
//! clusters, and the change log the search index follows. Backends sit behind it as variants
//! (embedded SQLite today; PostgreSQL joins as one more variant with its own migrations), so
//! callers never name a backend type and one test suite (`tests/suite.rs`) runs against each.
//!
//! [`Store::apply`] is the heart: one fetch result for one source, written in one transaction,
//! by rules decided without a database in `plan` (unchanged items write nothing, edits bump
//! `sequence`, removal only after K healthy absences, failed/empty/shrunken fetches remove
//! nothing and record an anomaly, keys scoped by source).
//!
//! Never here: HTTP, parsing, tantivy. Instants cross the interface as `DateTime<Utc>` and are
//! stored as unix seconds; nothing reads the clock (`now` is always passed in).

mod error;
mod plan;
mod sqlite;
mod types;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};

pub use error::StoreError;
pub use types::*;

/// How a store is opened. `policy` is the apply policy every `apply` uses.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub policy: ApplyPolicy,
    /// How long SQLite waits for another process's lock before giving up.
    pub busy_timeout: Duration,
    /// How long a write waits for its turn behind other writers of this process.
    pub write_queue_timeout: Duration,
    pub read_connections: u32,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            policy: ApplyPolicy::default(),
            busy_timeout: Duration::from_secs(10),
            write_queue_timeout: Duration::from_secs(120),
            read_connections: 4,
        }
    }
}

/// The store. Cheap to clone (pools inside); share one per process.
#[derive(Debug, Clone)]
pub struct Store {
    backend: Backend,
    /// The last write's failure, until a write succeeds again.
    fault: Arc<Mutex<Option<WriteFault>>>,
}

/// Why the store cannot write right now (a full disk, an I/O error, a lock held too long):
/// the failure of the most recent write, kept until a write succeeds again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteFault {
    pub code: &'static str,
    pub message: String,
}

#[derive(Debug, Clone)]
enum Backend {
    Sqlite(sqlite::SqliteStore),
}

/// Dispatches one call to the backend; each new backend adds one arm here.
macro_rules! dispatch {
    ($self:ident, $b:ident => $call:expr) => {
        match &$self.backend {
            Backend::Sqlite($b) => $call,
        }
    };
}

/// [`dispatch!`] for a call that writes: its outcome updates [`Store::write_fault`].
macro_rules! dispatch_write {
    ($self:ident, $b:ident => $call:expr) => {{
        let result = dispatch!($self, $b => $call);
        $self.note_write(&result);
        result
    }};
}

/// Arms the crash points named in `FAIL_POINTS` (the `fail` crate's convention:
/// `name=actions;name=actions`, e.g. `store.apply.after_commit=return`, or
/// `index.commit.after=1*off->return` to pass it once first): reaching an armed point aborts
/// the process at once, as a power cut or SIGKILL would, so the kill-matrix tests can prove a
/// restart loses nothing committed. Only with the `failpoints` feature (the test builds);
/// otherwise this does nothing and the points compile to nothing. The points:
/// `store.apply.{before,after}_commit`, `store.clusters.{before,after}_commit`,
/// `index.commit.{before,after}`.
pub fn arm_failpoints() {
    #[cfg(feature = "failpoints")]
    {
        static ARMED: std::sync::Once = std::sync::Once::new();
        ARMED.call_once(|| {
            let points = std::env::var("FAIL_POINTS").unwrap_or_default();
            for entry in points.split(';').map(str::trim).filter(|n| !n.is_empty()) {
                let (name, actions) = entry.split_once('=').unwrap_or((entry, "return"));
                if let Err(e) = fail::cfg(name, actions) {
                    eprintln!("cannot arm failpoint {name}: {e}");
                }
            }
        });
    }
}

impl Store {
    /// Opens (creating if needed) the SQLite file at `path` and brings its schema up to date.
    pub async fn open_sqlite(path: &Path, options: StoreOptions) -> Result<Store, StoreError> {
        arm_failpoints();
        let s = sqlite::SqliteStore::open(path, &options).await?;
        Ok(Store {
            backend: Backend::Sqlite(s),
            fault: Arc::default(),
        })
    }

    /// Opens `coalesce.db` inside the data folder, creating the folder if needed. What we create
    /// is private to the service's user: the folder 0700, the database 0600 (SQLite gives its
    /// journal files the database's mode).
    pub async fn open_data_dir(dir: &Path, options: StoreOptions) -> Result<Store, StoreError> {
        // A folder we may not write (permissions, a read-only mount) gets its own clear error
        // instead of SQLite's "unable to open database file".
        let io_err = |path: &Path, e: std::io::Error| {
            if e.kind() == std::io::ErrorKind::PermissionDenied || e.raw_os_error() == Some(EROFS) {
                StoreError::NotWritable {
                    path: dir.display().to_string(),
                }
            } else {
                StoreError::Open {
                    path: path.display().to_string(),
                    source: sqlx::Error::Io(e),
                }
            }
        };
        private_dir(dir).map_err(|e| io_err(dir, e))?;
        let db = dir.join("coalesce.db");
        private_file(&db).map_err(|e| io_err(&db, e))?;
        Store::open_sqlite(&db, options).await
    }

    /// Waits for every connection to close; call before the process exits.
    pub async fn close(&self) {
        dispatch!(self, b => b.close().await)
    }

    /// Why writes are failing, if the most recent one failed: what `/readyz` reports. Logic
    /// refusals (an unknown source, say) are not faults; only the database's own failures are.
    pub fn write_fault(&self) -> Option<WriteFault> {
        self.fault.lock().ok().and_then(|f| f.clone())
    }

    /// Makes one tiny write to learn whether the store can write again (after a full disk was
    /// freed, say) without waiting for real work to try; success clears [`Store::write_fault`].
    pub async fn probe_write(&self) -> Result<(), StoreError> {
        dispatch_write!(self, b => b.probe_write().await)
    }

    fn note_write<T>(&self, result: &Result<T, StoreError>) {
        let fault = match result {
            Ok(_) => None,
            Err(e @ (StoreError::Database(_) | StoreError::Encode(_))) => Some(WriteFault {
                code: e.code(),
                message: e.to_string(),
            }),
            // A refusal by the rules says nothing about whether the disk takes writes.
            Err(_) => return,
        };
        if let Ok(mut slot) = self.fault.lock() {
            *slot = fault;
        }
    }

    /// Bounds the write-ahead log (SQLite); a no-op where there is none.
    pub async fn checkpoint(&self) -> Result<(), StoreError> {
        dispatch!(self, b => b.checkpoint().await)
    }

    // ---- providers and API keys

    /// Creates the provider or returns the existing one of that name.
    pub async fn ensure_provider(
        &self,
        name: &str,
        display_name: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Provider, StoreError> {
        dispatch_write!(self, b => b.ensure_provider(name, display_name, now).await)
    }

    pub async fn provider_by_name(&self, name: &str) -> Result<Option<Provider>, StoreError> {
        dispatch!(self, b => b.provider_by_name(name).await)
    }

    pub async fn providers(&self) -> Result<Vec<Provider>, StoreError> {
        dispatch!(self, b => b.providers().await)
    }

    /// Changes the provider's declared sectors and audience; `None` when no provider has that
    /// name. A real change makes the provider's sources parse their next document again, even
    /// an unchanged one, so existing offerings take the new defaults at the next fetch.
    pub async fn update_provider(
        &self,
        name: &str,
        patch: &ProviderPatch,
    ) -> Result<Option<Provider>, StoreError> {
        dispatch_write!(self, b => b.update_provider(name, patch).await)
    }

    /// Stores the SHA-256 digest of `secret` (never the secret) for `provider`.
    pub async fn add_api_key(
        &self,
        provider: ProviderId,
        secret: &str,
        label: Option<&str>,
        expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<ApiKeyId, StoreError> {
        dispatch_write!(self, b => b.add_api_key(provider, secret, label, expires_at, now).await)
    }

    /// The key behind `secret` if it works at `now` (not revoked, not expired). Reads only;
    /// record the use with [`Store::touch_api_key`].
    pub async fn authenticate_api_key(
        &self,
        secret: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<KeyUse>, StoreError> {
        dispatch!(self, b => b.authenticate_api_key(secret, now).await)
    }

    /// Records that key `id` was used at `now`.
    pub async fn touch_api_key(&self, id: ApiKeyId, now: DateTime<Utc>) -> Result<(), StoreError> {
        dispatch_write!(self, b => b.touch_api_key(id, now).await)
    }

    pub async fn revoke_api_key(
        &self,
        id: ApiKeyId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        dispatch_write!(self, b => b.revoke_api_key(id, now).await)
    }

    /// `provider`'s keys, newest first, revoked ones included; never secrets or digests.
    pub async fn api_keys(&self, provider: ProviderId) -> Result<Vec<ApiKey>, StoreError> {
        dispatch!(self, b => b.api_keys(provider).await)
    }

    /// Revokes `id` only if `provider` owns it; `false` when it is unknown, another
    /// provider's, or already revoked (the caller answers all three alike).
    pub async fn revoke_own_api_key(
        &self,
        provider: ProviderId,
        id: ApiKeyId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        dispatch_write!(self, b => b.revoke_own_api_key(provider, id, now).await)
    }

    // ---- sources

    /// Registers a source, or updates the one with the same provider and name. A changed kind
    /// or settings (zone, sector override) forgets the document validators, so the next fetch
    /// parses even an unchanged document again.
    pub async fn upsert_source(
        &self,
        source: &NewSource,
        now: DateTime<Utc>,
    ) -> Result<SourceId, StoreError> {
        dispatch_write!(self, b => b.upsert_source(source, now).await)
    }

    pub async fn source(&self, id: SourceId) -> Result<Option<Source>, StoreError> {
        dispatch!(self, b => b.source(id).await)
    }

    pub async fn source_by_name(
        &self,
        provider: ProviderId,
        name: &str,
    ) -> Result<Option<Source>, StoreError> {
        dispatch!(self, b => b.source_by_name(provider, name).await)
    }

    pub async fn sources(&self) -> Result<Vec<Source>, StoreError> {
        dispatch!(self, b => b.sources().await)
    }

    pub async fn set_next_due(&self, id: SourceId, at: DateTime<Utc>) -> Result<(), StoreError> {
        dispatch_write!(self, b => b.set_next_due(id, at).await)
    }

    /// Makes the source due at `now` on a provider's request. Unlike [`Store::set_next_due`],
    /// the request outlives a fetch of the source that is already under way: that fetch's
    /// result (applied with its start time) leaves the source due instead of scheduling it
    /// an interval later.
    pub async fn request_refresh(
        &self,
        id: SourceId,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        dispatch_write!(self, b => b.request_refresh(id, now).await)
    }

    /// Enabled, unpaused sources due at `now` (never-scheduled first, then the most overdue).
    pub async fn due_sources(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<SourceId>, StoreError> {
        dispatch!(self, b => b.due_sources(now, limit).await)
    }

    // ---- apply

    /// Writes one fetch result of `source` in one transaction. See the crate docs for the rules.
    pub async fn apply(
        &self,
        source: SourceId,
        result: &FetchResult,
        now: DateTime<Utc>,
    ) -> Result<ApplySummary, StoreError> {
        dispatch_write!(self, b => b.apply(source, result, now).await)
    }

    /// `apply` plus the crawler's decision about the source's next visit (next due time, a
    /// pause, a pending or confirmed permanent redirect), in the same transaction, so a crash
    /// between the two cannot leave a fetched source without a schedule. `now` is when the
    /// fetch started: a refresh requested after it keeps the source due.
    pub async fn apply_scheduled(
        &self,
        source: SourceId,
        result: &FetchResult,
        schedule: &Schedule,
        now: DateTime<Utc>,
    ) -> Result<ApplySummary, StoreError> {
        dispatch_write!(self, b => b.apply_scheduled(source, result, schedule, now).await)
    }

    /// Lifts a pause (or a long backoff): the source is due at `now` and its failures are
    /// forgiven.
    /// Removes one live offering of `source` now, as its provider asked (the way to take an
    /// upcoming item down before its sessions are over; a feed that still lists it brings it
    /// back on the next fetch). `false` when it is not a live offering of that source.
    pub async fn remove_offering(
        &self,
        source: SourceId,
        id: &OfferingId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        dispatch_write!(self, b => b.remove_offering(source, id, now).await)
    }

    /// Appends one fetch to `source`'s history, keeping its newest `keep` entries. A source
    /// deleted meanwhile is silently skipped.
    pub async fn record_fetch(
        &self,
        source: SourceId,
        log: &FetchLog,
        keep: u32,
    ) -> Result<(), StoreError> {
        dispatch_write!(self, b => b.record_fetch(source, log, keep).await)
    }

    /// `source`'s recent fetches, newest first, at most `limit`.
    pub async fn fetch_history(
        &self,
        source: SourceId,
        limit: u32,
    ) -> Result<Vec<FetchLog>, StoreError> {
        dispatch!(self, b => b.fetch_history(source, limit).await)
    }

    pub async fn resume_source(&self, id: SourceId, now: DateTime<Utc>) -> Result<(), StoreError> {
        dispatch_write!(self, b => b.resume_source(id, now).await)
    }

    // ---- offerings and the change log

    pub async fn offering(&self, id: &OfferingId) -> Result<Option<StoredOffering>, StoreError> {
        dispatch!(self, b => b.offering(id).await)
    }

    pub async fn offerings(
        &self,
        filter: &OfferingFilter,
    ) -> Result<Vec<StoredOffering>, StoreError> {
        dispatch!(self, b => b.offerings(filter).await)
    }

    pub async fn offerings_by_ids(
        &self,
        ids: &[OfferingId],
    ) -> Result<Vec<StoredOffering>, StoreError> {
        dispatch!(self, b => b.offerings_by_ids(ids).await)
    }

    /// Live offerings with an occurrence starting in `[from, to)`: the candidates of the dedup
    /// blocks a change touches.
    pub async fn offerings_starting_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<StoredOffering>, StoreError> {
        dispatch!(self, b => b.offerings_starting_between(from, to).await)
    }

    /// The highest change sequence number (0 when the log is empty).
    pub async fn watermark(&self) -> Result<i64, StoreError> {
        dispatch!(self, b => b.watermark().await)
    }

    /// Changes with `seq > after`, in order, at most `limit`.
    pub async fn changes_since(&self, after: i64, limit: u32) -> Result<Vec<Change>, StoreError> {
        dispatch!(self, b => b.changes_since(after, limit).await)
    }

    // ---- clusters

    /// Replaces every cluster that contains one of `affected` (or one of the new clusters'
    /// members) with `clusters`, in one transaction; logs a `clustered` change for each offering
    /// whose cluster or canonical member actually changed. Returns how many were logged.
    pub async fn replace_clusters(
        &self,
        affected: &[OfferingId],
        clusters: &[Cluster],
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        dispatch_write!(self, b => b.replace_clusters(affected, clusters, now).await)
    }

    pub async fn cluster(&self, id: &ClusterId) -> Result<Option<Cluster>, StoreError> {
        dispatch!(self, b => b.cluster(id).await)
    }

    pub async fn clusters(&self) -> Result<Vec<Cluster>, StoreError> {
        dispatch!(self, b => b.clusters().await)
    }

    /// Offerings taken down or whose source was deleted at or after `since` while they were
    /// upcoming and shown under their own id, newest first (kept 30 days). An offering that is
    /// live again may still have one: callers skip those.
    pub async fn calendar_tombstones(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<Tombstone>, StoreError> {
        dispatch!(self, b => b.calendar_tombstones(since).await)
    }
}

/// Source management: pausing and deleting (registration is `upsert_source`).
impl Store {
    pub async fn set_source_enabled(
        &self,
        id: SourceId,
        enabled: bool,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        dispatch_write!(self, b => b.set_source_enabled(id, enabled, now).await)
    }

    /// Deletes a source with its offerings; returns how many live offerings were logged as
    /// removed for the index.
    pub async fn delete_source(&self, id: SourceId, now: DateTime<Utc>) -> Result<u64, StoreError> {
        dispatch_write!(self, b => b.delete_source(id, now).await)
    }
}

/// "Read-only file system" (the same number on Linux, macOS and the BSDs).
const EROFS: i32 = 30;

/// Creates `dir` (and its parents) with mode 0700 where the platform has modes.
fn private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Creates `path` empty with mode 0600 unless it exists; an existing file is only opened for
/// writing, which tells early whether the folder or file is read-only.
fn private_file(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map(drop)
}
