//! What a fetch leaves in the store, shared by the crawl runner and `coalesce import`: a parse
//! turned into a `FetchResult`, and the duplicate clusters recomputed after offerings changed.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use coalesce_core::dedup::{self, DedupConfig, DedupItem, Fingerprint};
use coalesce_ingest::{ParseError, Parsed};
use coalesce_store::{
    Cluster, ClusterId, ClusterMember, FetchFailure, FetchResult, OfferingFilter, OfferingId,
    Snapshot, SourceId, Store,
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
/// how many offerings joined, left or moved. Clustering the whole catalog is well under the 2 s
/// budget at 100k offerings, so one-shot commands and crawl rounds do it from scratch rather
/// than keeping a `DedupIndex` in sync.
pub async fn recluster(store: &Store, now: DateTime<Utc>) -> Result<u64, CrawlError> {
    let live = store.offerings(&OfferingFilter::default()).await?;
    // A provider publishing from its own site is the likely originator of what it hosts.
    let domains: BTreeMap<SourceId, Vec<String>> = store
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
        .collect();
    let no_domains = Vec::new();
    let fingerprints: Vec<Fingerprint> = live
        .iter()
        .map(|o| {
            let source_id = o.source_id.to_string();
            Fingerprint::from_item(&DedupItem {
                id: &o.id.0,
                source_id: &source_id,
                provider: &o.provider,
                provider_domains: domains.get(&o.source_id).unwrap_or(&no_domains),
                offering: &o.offering,
            })
        })
        .collect();
    let found = dedup::cluster(fingerprints, &DedupConfig::default())?;
    let clusters: Vec<Cluster> = found.iter().map(to_store_cluster).collect();
    let mut affected: Vec<OfferingId> = live.iter().map(|o| o.id.clone()).collect();
    // Clusters holding offerings that are no longer live must go too.
    for c in store.clusters().await? {
        affected.extend(c.members.into_iter().map(|m| m.offering_id));
    }
    Ok(store.replace_clusters(&affected, &clusters, now).await?)
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
