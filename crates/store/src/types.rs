//! The values that cross the store interface. Nothing here names a backend: instants are
//! `DateTime<Utc>` (stored as unix seconds), JSON is `serde_json::Value`.

use std::fmt;

use chrono::{DateTime, Utc};
use coalesce_core::{Offering, Sector};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProviderId(pub i64);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SourceId(pub i64);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ApiKeyId(pub i64);

/// An offering's id: derived once from its source and source key, then stored, so it survives
/// restarts, re-imports and a changed identity rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OfferingId(pub String);

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ClusterId(pub String);

macro_rules! display_inner {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
    )*};
}
display_inner!(ProviderId, SourceId, ApiKeyId, OfferingId, ClusterId);

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Provider {
    pub id: ProviderId,
    pub name: String,
    pub display_name: Option<String>,
    /// The sectors the provider declares for itself: what its offerings are for when their
    /// text names none (sorted, without repeats).
    pub sectors: Vec<Sector>,
    /// Its default audience (e.g. "staff of small museums"), for offerings that state none.
    pub audience: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A change to a provider's declared defaults: `None` leaves a field as it is;
/// `audience: Some(None)` clears the audience.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProviderPatch {
    pub sectors: Option<Vec<Sector>>,
    pub audience: Option<Option<String>>,
}

/// A source as registered (input of `upsert_source`).
#[derive(Debug, Clone, PartialEq)]
pub struct NewSource {
    pub provider_id: ProviderId,
    /// Unique per provider; registering the same name again updates the source.
    pub name: String,
    pub url: String,
    /// The format when known (`rss`, `ics`, ...); `None` lets the parser sniff.
    pub kind: Option<String>,
    /// HTML rules, default time zone and other per-source settings.
    pub settings: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Source {
    pub id: SourceId,
    pub provider_id: ProviderId,
    pub provider: String,
    /// The provider's declared sectors and audience, read with the source so a fetch parses
    /// with them (the source's settings may override both).
    pub provider_sectors: Vec<Sector>,
    pub provider_audience: Option<String>,
    pub name: String,
    pub url: String,
    pub kind: Option<String>,
    pub settings: serde_json::Value,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub status: SourceStatus,
}

/// What the fetches of a source saw: served as it is for the source status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SourceStatus {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub content_hash: Option<String>,
    /// `never`, `ok`, `not_modified`, `anomaly` or `failed`.
    pub status: String,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_healthy_at: Option<DateTime<Utc>>,
    pub consecutive_failures: i64,
    pub last_error_code: Option<String>,
    pub last_error_message: Option<String>,
    pub http_status: Option<i64>,
    /// Live offerings after the last apply.
    pub offerings_count: i64,
    pub warnings_count: i64,
    pub last_anomaly_code: Option<String>,
    pub last_anomaly_message: Option<String>,
    pub last_anomaly_at: Option<DateTime<Utc>>,
    pub next_due_at: Option<DateTime<Utc>>,
    /// Paused after repeated failures: not due until someone resumes it (never a silent stop).
    pub paused: bool,
    pub paused_at: Option<DateTime<Utc>>,
    /// A permanent redirect seen on the latest fetches, and how many fetches in a row saw it;
    /// the stored URL changes only once it has repeated often enough.
    pub redirect_to: Option<String>,
    pub redirect_seen: i64,
    /// The calendar platform the last fetched document was read as, when one was recognised.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
}

/// What the crawler decided about a source after a fetch, written in the same transaction as
/// the fetch's result (`Store::apply_scheduled`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schedule {
    pub next_due_at: Option<DateTime<Utc>>,
    /// Pause the source now (after repeated failures). `false` never lifts an existing pause:
    /// only `Store::resume_source` does.
    pub pause: bool,
    pub redirect_to: Option<String>,
    pub redirect_seen: u32,
    /// A permanent redirect confirmed by repetition: the source's new URL.
    pub move_to: Option<String>,
}

/// The outcome of one fetch (or one file import) of a source, as `apply` takes it.
#[derive(Debug, Clone)]
pub enum FetchResult {
    /// The document was read; these are all the items it lists now.
    Fetched(Snapshot),
    /// The server answered 304 (or the body hashed the same): nothing to do but note the visit.
    NotModified { http_status: Option<u16> },
    /// Nothing usable came back: the network, the server or the parser failed.
    Failed(FetchFailure),
}

/// One successful read of a source.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub offerings: Vec<Offering>,
    /// How many parse warnings the document produced.
    pub warnings: usize,
    pub http_status: Option<u16>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// A hash of the body, so a server that ignores validators can still be short-circuited.
    pub content_hash: Option<String>,
    /// The calendar platform the document was recognised as (`libcal`, `localist`, ...).
    pub platform: Option<String>,
}

impl Snapshot {
    pub fn new(offerings: Vec<Offering>, warnings: usize) -> Snapshot {
        Snapshot {
            offerings,
            warnings,
            ..Snapshot::default()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchFailure {
    /// A stable code from the layer that failed (`blocked_address`, `malformed_document`, ...).
    pub code: String,
    pub message: String,
    pub http_status: Option<u16>,
}

/// The rules `apply` follows; the defaults follow HOSTILE.md (E4, C8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApplyPolicy {
    /// Healthy fetches an item must be missing from before it is marked removed.
    pub removal_after_absences: u32,
    /// A fetch that lost more than this percentage of the live items is an anomaly.
    pub shrink_anomaly_percent: u32,
    /// New offerings accepted from one fetch of a source that already has offerings; stops a
    /// feed that invents fresh GUIDs every poll from flooding the catalog.
    pub max_new_per_fetch: usize,
}

impl Default for ApplyPolicy {
    fn default() -> Self {
        ApplyPolicy {
            removal_after_absences: 3,
            shrink_anomaly_percent: 80,
            max_new_per_fetch: 500,
        }
    }
}

/// Why a fetch removed nothing although items were missing (or could not be counted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Anomaly {
    /// The fetch failed; every offering was kept.
    FetchFailed { error_code: String },
    /// A successful fetch listed no items at all.
    Empty { previously_live: u64 },
    /// A successful fetch lost more than the allowed share of the live items.
    Shrunk { previously_live: u64, missing: u64 },
    /// More new items than `max_new_per_fetch`; the rest were not created.
    TooManyNew { offered: u64, accepted: u64 },
    /// A 304 for a source never fetched successfully: the server cannot have a version we hold.
    UnexpectedNotModified,
}

impl Anomaly {
    pub fn code(&self) -> &'static str {
        match self {
            Anomaly::FetchFailed { .. } => "fetch_failed",
            Anomaly::Empty { .. } => "empty_fetch",
            Anomaly::Shrunk { .. } => "shrunken_fetch",
            Anomaly::TooManyNew { .. } => "too_many_new",
            Anomaly::UnexpectedNotModified => "unexpected_not_modified",
        }
    }
}

impl fmt::Display for Anomaly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Anomaly::FetchFailed { error_code } => {
                write!(f, "fetch failed ({error_code}); every offering was kept")
            }
            Anomaly::Empty { previously_live } => write!(
                f,
                "fetch listed no items ({previously_live} were live); nothing was removed"
            ),
            Anomaly::Shrunk {
                previously_live,
                missing,
            } => write!(
                f,
                "fetch lost {missing} of {previously_live} live items; nothing was removed"
            ),
            Anomaly::TooManyNew { offered, accepted } => write!(
                f,
                "fetch offered {offered} new items; only {accepted} were accepted"
            ),
            Anomaly::UnexpectedNotModified => {
                write!(f, "not modified although the source was never fetched")
            }
        }
    }
}

/// What one `apply` did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ApplySummary {
    pub new: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Tombstones that came back because the item reappeared.
    pub restored: u64,
    pub removed: u64,
    /// Live items missing from this fetch but not yet removed.
    pub absent: u64,
    /// Items that repeated a key already seen in the same document (the last one won).
    pub duplicate_keys: u64,
    pub anomaly: Option<Anomaly>,
    /// Offerings whose user-visible state changed (new, updated, restored, removed): what
    /// cluster recomputation has to look at.
    pub changed: Vec<OfferingId>,
}

/// An offering as the store holds it: the parsed offering plus the store's lifecycle fields.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredOffering {
    pub id: OfferingId,
    pub source_id: SourceId,
    pub provider_id: ProviderId,
    pub provider: String,
    pub offering: Offering,
    pub content_hash: String,
    pub sequence: i64,
    pub updated_at: DateTime<Utc>,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub removed_at: Option<DateTime<Utc>>,
    pub absent_count: i64,
    pub cluster_id: Option<ClusterId>,
}

/// Which offerings a listing returns, ordered by id.
#[derive(Debug, Clone, Default)]
pub struct OfferingFilter {
    pub source_id: Option<SourceId>,
    pub include_removed: bool,
    /// Keyset pagination: only ids greater than this.
    pub after: Option<OfferingId>,
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Created,
    Updated,
    Removed,
    Restored,
    /// Its duplicate cluster (membership or canonical) changed.
    Clustered,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Created => "created",
            ChangeKind::Updated => "updated",
            ChangeKind::Removed => "removed",
            ChangeKind::Restored => "restored",
            ChangeKind::Clustered => "clustered",
        }
    }

    pub fn parse(s: &str) -> Option<ChangeKind> {
        [
            ChangeKind::Created,
            ChangeKind::Updated,
            ChangeKind::Removed,
            ChangeKind::Restored,
            ChangeKind::Clustered,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// One row of the change log. `seq` only grows; the index remembers the last one it applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub seq: i64,
    pub offering_id: OfferingId,
    pub kind: ChangeKind,
    pub at: DateTime<Utc>,
}

/// A group of offerings that are the same real offering, as dedup decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cluster {
    pub id: ClusterId,
    pub canonical: OfferingId,
    pub members: Vec<ClusterMember>,
    /// Why the group exists as a whole (dedup's own JSON).
    pub explanation: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterMember {
    pub offering_id: OfferingId,
    /// Which signals made this member join.
    pub explanation: serde_json::Value,
}

/// One fetch of one source as its history shows it: written by the crawler after each fetch,
/// read by the source's status page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FetchLog {
    pub at: DateTime<Utc>,
    /// `fresh`, `not_modified`, `unchanged`, or the failure's stable code.
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    /// The failure's message, when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Offerings in the document, when one was read.
    pub offerings: u64,
    pub new: u64,
    pub updated: u64,
    pub removed: u64,
    /// Parse warnings by code.
    pub warnings: std::collections::BTreeMap<String, u64>,
}

/// An API key as its provider may see it: never the secret, never its digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub label: Option<String>,
    pub created_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<DateTime<Utc>>,
    /// Last authentication with it, to the hour; `null` when never used.
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it stops working, if it was made to expire.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}

/// A key that authenticated: whose it is, and when it was last used before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyUse {
    pub key: ApiKeyId,
    pub provider: ProviderId,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// An offering taken down or whose source was deleted while still upcoming, as calendars last
/// showed it: they keep it for 30 days as cancelled, with a higher SEQUENCE, so subscribers
/// see it cancelled instead of silently gone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tombstone {
    pub offering_id: OfferingId,
    /// The provider's name (slug).
    pub provider: String,
    pub offering: Offering,
    /// The sequence it was shown at; the calendar writes one more.
    pub sequence: i64,
    pub removed_at: DateTime<Utc>,
}
