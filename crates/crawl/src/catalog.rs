//! What a fetch leaves in the store, shared by the crawl runner and `coalesce import`: a parse
//! turned into a `FetchResult`, and the duplicate clusters recomputed after offerings changed.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use chrono::{DateTime, Utc};
use coalesce_core::dedup::{self, DedupConfig, DedupIndex, DedupItem, Fingerprint};
use coalesce_ingest::{ParseError, Parsed};
use coalesce_store::{
    ChangeKind, Cluster, ClusterId, ClusterMember, FetchFailure, FetchResult, OfferingFilter,
    OfferingId, Snapshot, SourceId, Store, StoredOffering,
};
use sha2::{Digest, Sha256};

use crate::runner::CrawlError;

/// What a parse gives the store: the items, or a failure that must keep every offering.
pub fn fetch_result(parsed: Result<Parsed, ParseError>, body: &[u8]) -> FetchResult {
    match parsed {
        Ok(p) => {
            let warnings = p.warnings.len();
            FetchResult::Fetched(Snapshot {
                content_hash: Some(format!("sha256:{:x}", Sha256::digest(body))),
                platform: p.platform.map(str::to_owned),
                ..Snapshot::new(p.offerings, warnings)
            })
        }
        Err(e) => FetchResult::Failed(FetchFailure {
            code: e.code().to_string(),
            message: e.to_string(),
            http_status: None,
        }),
    }
}

/// Recomputes every duplicate cluster from the live offerings and stores the result; returns
/// how many offerings joined, left or moved. For one-shot commands (`coalesce import`); a
/// long-running crawler keeps a [`Reclusterer`] instead.
pub async fn recluster(store: &Store, now: DateTime<Utc>) -> Result<u64, CrawlError> {
    Reclusterer::default().update(store, &[], now).await
}

/// Keeps the duplicate clusters current as offerings change. The first update clusters the
/// whole catalog and keeps the blocking index; later updates re-examine only the blocks the
/// changed offerings touch (`DedupIndex::apply`, tested equal to a full recompute), so a crawl
/// round that changed ten offerings does not re-cluster a hundred thousand.
///
/// The changed offerings are read from the store's change log, not only taken from the caller:
/// offerings also change outside the crawl (a provider takes one down through the API, a source
/// is deleted), and without them the stored clusters and the blocking index keep the removed
/// offerings until something else touches their blocks.
#[derive(Default)]
pub struct Reclusterer {
    index: Option<DedupIndex>,
    /// The change log position the index has caught up with.
    seen: i64,
}

/// Change log entries read at once.
const CHANGES_PAGE: u32 = 10_000;

impl Reclusterer {
    /// Brings the stored clusters up to date with every offering written since the last update
    /// (new, edited, removed, by anyone), `changed` included. Returns how many offerings joined,
    /// left or moved.
    pub async fn update(
        &mut self,
        store: &Store,
        changed: &[OfferingId],
        now: DateTime<Utc>,
    ) -> Result<u64, CrawlError> {
        let Some(index) = self.index.as_mut() else {
            // Read before the offerings: a change made meanwhile is applied again next time,
            // which is harmless, instead of being missed.
            let mark = store.watermark().await?;
            let domains = provider_domains(store).await?;
            let live = store.offerings(&OfferingFilter::default()).await?;
            let fingerprints: Vec<Fingerprint> =
                live.iter().map(|o| fingerprint(o, &domains)).collect();
            let stored = store.clusters().await?;
            // What subscribers already have: every record outside a stored cluster and each
            // stored cluster's canonical. A restart must not rename any of them.
            let hidden: HashSet<&str> = stored
                .iter()
                .flat_map(|c| {
                    c.members
                        .iter()
                        .map(|m| m.offering_id.0.as_str())
                        .filter(|id| *id != c.canonical.0)
                })
                .collect();
            let shown: HashSet<String> = live
                .iter()
                .map(|o| o.id.0.as_str())
                .filter(|id| !hidden.contains(id))
                .map(str::to_string)
                .collect();
            let index = DedupIndex::build_with_shown(fingerprints, DedupConfig::default(), &shown)?;
            let clusters: Vec<Cluster> = index.clusters().map(to_store_cluster).collect();
            let mut affected: Vec<OfferingId> = live.iter().map(|o| o.id.clone()).collect();
            // Clusters holding offerings that are no longer live must go too.
            for c in stored {
                affected.extend(c.members.into_iter().map(|m| m.offering_id));
            }
            let moved = store.replace_clusters(&affected, &clusters, now).await?;
            self.index = Some(index);
            self.seen = mark;
            return Ok(moved);
        };
        let mut changed = changed.to_vec();
        loop {
            let page = store.changes_since(self.seen, CHANGES_PAGE).await?;
            let Some(last) = page.last() else { break };
            self.seen = last.seq;
            let full = page.len() == CHANGES_PAGE as usize;
            // `Clustered` entries are this reclusterer's own writes.
            changed.extend(
                page.into_iter()
                    .filter(|c| c.kind != ChangeKind::Clustered)
                    .map(|c| c.offering_id),
            );
            if !full {
                break;
            }
        }
        if changed.is_empty() {
            return Ok(0);
        }
        // Read only when something changed: every crawl round ends here, most with nothing.
        let domains = provider_domains(store).await?;
        let changed = changed.as_slice();
        let rows = store.offerings_by_ids(changed).await?;
        let live: BTreeMap<&str, &StoredOffering> = rows
            .iter()
            .filter(|o| o.removed_at.is_none())
            .map(|o| (o.id.0.as_str(), o))
            .collect();
        let mut upserts = Vec::new();
        let mut removed = Vec::new();
        let mut seen = BTreeSet::new();
        for id in changed {
            if !seen.insert(id.0.as_str()) {
                continue;
            }
            match live.get(id.0.as_str()) {
                Some(o) => upserts.push(fingerprint(o, &domains)),
                None => removed.push(id.0.clone()),
            }
        }
        let delta = index.apply(upserts, &removed)?;
        // Every offering whose membership may have moved: the changed ones, the members of
        // clusters that dissolved, and the members of clusters that were rebuilt.
        let mut affected: BTreeSet<OfferingId> = changed.iter().cloned().collect();
        for id in &delta.removed {
            if let Some(c) = store.cluster(&ClusterId(id.clone())).await? {
                affected.extend(c.members.into_iter().map(|m| m.offering_id));
            }
        }
        for c in &delta.upserted {
            affected.extend(c.members.iter().map(|m| OfferingId(m.id.clone())));
        }
        let clusters: Vec<Cluster> = delta.upserted.iter().map(to_store_cluster).collect();
        let affected: Vec<OfferingId> = affected.into_iter().collect();
        Ok(store.replace_clusters(&affected, &clusters, now).await?)
    }
}

/// The hosts each source publishes from: a provider publishing from its own site is the likely
/// originator of what it hosts.
async fn provider_domains(store: &Store) -> Result<BTreeMap<SourceId, Vec<String>>, CrawlError> {
    Ok(store
        .sources()
        .await?
        .into_iter()
        .map(|s| {
            let host = url::Url::parse(&s.url)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https"))
                .and_then(|u| u.host_str().map(str::to_string));
            (s.id, host.into_iter().collect())
        })
        .collect())
}

fn fingerprint(o: &StoredOffering, domains: &BTreeMap<SourceId, Vec<String>>) -> Fingerprint {
    let source_id = o.source_id.to_string();
    let mut fp = Fingerprint::from_item(&DedupItem {
        id: &o.id.0,
        source_id: &source_id,
        provider: &o.provider,
        provider_domains: domains.get(&o.source_id).map_or(&[][..], Vec::as_slice),
        offering: &o.offering,
    });
    fp.first_seen = o.first_seen.timestamp();
    fp
}

fn to_store_cluster(c: &dedup::Cluster) -> Cluster {
    Cluster {
        id: ClusterId(c.id.clone()),
        canonical: OfferingId(c.canonical.clone()),
        members: c
            .members
            .iter()
            .map(|m| ClusterMember {
                offering_id: OfferingId(m.id.clone()),
                explanation: serde_json::json!({
                    "provider": m.provider,
                    "matched": m.matched,
                    "signals": m.signals,
                }),
            })
            .collect(),
        explanation: serde_json::json!({
            "canonical_reason": c.canonical_reason,
            "text": c.explain(),
        }),
    }
}
