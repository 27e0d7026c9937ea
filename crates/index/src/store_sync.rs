//! Following the store: its change log resolved to index events, the catch-up loop the service
//! runs at start and periodically, and a full rebuild for `coalesce reindex` or a damaged index.
//!
//! The store is async (sqlx) and tantivy's writer is blocking, so the async functions here read
//! from the store on the runtime and hand index writes to `spawn_blocking`.
//!
//! Mapping rules (one place, so search, rebuild and catch-up agree):
//! - the document's `provider_id` is the provider's `name` (the slug the API filters on) and
//!   `provider_name` its display name;
//! - an offering outside any cluster is canonical; in a cluster, the cluster's canonical member
//!   is, unless it was removed, in which case the smallest live member id stands in so the
//!   cluster never vanishes from search;
//! - only the canonical member carries `also_offered_by` (the other live members with their
//!   providers), and a change to any member re-sends every member, because the canonical's
//!   document shows the others' names and links;
//! - removed offerings (tombstones) are deleted from the index.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;

use coalesce_core::Sector;
use coalesce_store::{
    Cluster, ClusterId, OfferingFilter, OfferingId, Store, StoreError, StoredOffering,
};

use crate::{
    AlsoOfferedBy, CatalogIndex, ChangeBatch, ChangeEvent, IndexConfig, IndexDoc, IndexError,
    Opened,
};

/// Changes read per round trip to the store.
pub const DEFAULT_PAGE: usize = 500;

fn source_error(e: StoreError) -> IndexError {
    IndexError::Source(format!("{}: {e}", e.code()))
}

/// Display names by provider name, read once per batch.
async fn provider_names(store: &Store) -> Result<HashMap<String, String>, IndexError> {
    Ok(store
        .providers()
        .await
        .map_err(source_error)?
        .into_iter()
        .map(|p| {
            let shown = p.display_name.clone().unwrap_or_else(|| p.name.clone());
            (p.name, shown)
        })
        .collect())
}

/// Builds the index documents of `offerings`, given every member of their clusters in
/// `members` (which must include the offerings themselves).
fn documents(
    offerings: &[&StoredOffering],
    clusters: &HashMap<ClusterId, Cluster>,
    members: &HashMap<OfferingId, StoredOffering>,
    names: &HashMap<String, String>,
) -> Vec<ChangeEvent> {
    let shown = |provider: &str| {
        names
            .get(provider)
            .cloned()
            .unwrap_or_else(|| provider.to_string())
    };
    let mut out = Vec::with_capacity(offerings.len());
    for o in offerings {
        if o.removed_at.is_some() {
            out.push(ChangeEvent::Delete { id: o.id.0.clone() });
            continue;
        }
        let cluster = o.cluster_id.as_ref().and_then(|c| clusters.get(c));
        let mut offering = o.offering.clone();
        let (is_canonical, also) = match cluster {
            None => (true, Vec::new()),
            Some(c) => {
                let live: Vec<&StoredOffering> = c
                    .members
                    .iter()
                    .filter_map(|m| members.get(&m.offering_id))
                    .filter(|m| m.removed_at.is_none())
                    .collect();
                // The offering is for every sector any live copy is for: a sector filter finds
                // a co-marketed webinar whichever provider's copy stands for it.
                offering.sectors = Sector::union(
                    std::iter::once(&o.offering).chain(live.iter().map(|m| &m.offering)),
                );
                let canonical = effective_canonical(c, |id| {
                    members.get(id).is_some_and(|m| m.removed_at.is_none())
                });
                if canonical.as_ref() == Some(&o.id) {
                    let also = live
                        .iter()
                        .filter(|m| m.id != o.id)
                        .map(|m| AlsoOfferedBy {
                            offering_id: m.id.0.clone(),
                            provider_id: m.provider.clone(),
                            provider_name: shown(&m.provider),
                            url: m.offering.url.clone(),
                            registration_url: m.offering.registration_url.clone(),
                        })
                        .collect();
                    (true, also)
                } else {
                    (false, Vec::new())
                }
            }
        };
        out.push(ChangeEvent::Upsert(Box::new(IndexDoc {
            id: o.id.0.clone(),
            provider_id: o.provider.clone(),
            provider_name: shown(&o.provider),
            cluster_id: o.cluster_id.as_ref().map(|c| c.0.clone()),
            is_canonical,
            also_offered_by: also,
            offering,
        })));
    }
    out
}

/// Reads the change log after `watermark` (at most `limit` rows) and resolves it to index
/// events: every touched offering and every member of its cluster, as they are now.
pub async fn resolve_changes(
    store: &Store,
    watermark: u64,
    limit: usize,
) -> Result<ChangeBatch, IndexError> {
    let after = i64::try_from(watermark).unwrap_or(i64::MAX);
    let limit = u32::try_from(limit.max(1)).unwrap_or(u32::MAX);
    let changes = store
        .changes_since(after, limit)
        .await
        .map_err(source_error)?;
    let Some(last) = changes.last() else {
        return Ok(ChangeBatch {
            events: Vec::new(),
            watermark,
        });
    };
    let new_watermark = u64::try_from(last.seq).unwrap_or(watermark);
    let touched: BTreeSet<OfferingId> = changes.iter().map(|c| c.offering_id.clone()).collect();
    let ids: Vec<OfferingId> = touched.iter().cloned().collect();
    let mut members: HashMap<OfferingId, StoredOffering> = store
        .offerings_by_ids(&ids)
        .await
        .map_err(source_error)?
        .into_iter()
        .map(|o| (o.id.clone(), o))
        .collect();

    // Pull in whole clusters: the canonical's document names the other members.
    let mut clusters: HashMap<ClusterId, Cluster> = HashMap::new();
    let cluster_ids: BTreeSet<ClusterId> = members
        .values()
        .filter_map(|o| o.cluster_id.clone())
        .collect();
    let mut extra: BTreeSet<OfferingId> = BTreeSet::new();
    for cid in cluster_ids {
        if let Some(c) = store.cluster(&cid).await.map_err(source_error)? {
            extra.extend(
                c.members
                    .iter()
                    .map(|m| m.offering_id.clone())
                    .filter(|id| !members.contains_key(id)),
            );
            clusters.insert(cid, c);
        }
    }
    if !extra.is_empty() {
        let extra: Vec<OfferingId> = extra.into_iter().collect();
        for o in store.offerings_by_ids(&extra).await.map_err(source_error)? {
            members.insert(o.id.clone(), o);
        }
    }
    let names = provider_names(store).await?;

    // Ids in the log the store no longer has are gone for good.
    let mut events: Vec<ChangeEvent> = touched
        .iter()
        .filter(|id| !members.contains_key(*id))
        .map(|id| ChangeEvent::Delete { id: id.0.clone() })
        .collect();
    let mut sorted: Vec<&StoredOffering> = members.values().collect();
    sorted.sort_by(|a, b| a.id.cmp(&b.id));
    events.extend(documents(&sorted, &clusters, &members, &names));
    Ok(ChangeBatch {
        events,
        watermark: new_watermark,
    })
}

/// Every live offering of the store as index documents, with the watermark they reflect.
///
/// The watermark is read first: a change landing while the offerings are read is then replayed
/// by the next catch-up (events are idempotent) instead of being skipped.
pub async fn all_documents(store: &Store) -> Result<(Vec<IndexDoc>, u64), IndexError> {
    let watermark = u64::try_from(store.watermark().await.map_err(source_error)?).unwrap_or(0);
    let mut live: Vec<StoredOffering> = Vec::new();
    let mut after: Option<OfferingId> = None;
    loop {
        let page = store
            .offerings(&OfferingFilter {
                after: after.clone(),
                limit: Some(1000),
                ..OfferingFilter::default()
            })
            .await
            .map_err(source_error)?;
        let Some(last) = page.last() else { break };
        after = Some(last.id.clone());
        live.extend(page);
    }
    let clusters: HashMap<ClusterId, Cluster> = store
        .clusters()
        .await
        .map_err(source_error)?
        .into_iter()
        .map(|c| (c.id.clone(), c))
        .collect();
    let names = provider_names(store).await?;
    let members: HashMap<OfferingId, StoredOffering> =
        live.into_iter().map(|o| (o.id.clone(), o)).collect();
    let mut sorted: Vec<&StoredOffering> = members.values().collect();
    sorted.sort_by(|a, b| a.id.cmp(&b.id));
    let docs = documents(&sorted, &clusters, &members, &names)
        .into_iter()
        .filter_map(|e| match e {
            ChangeEvent::Upsert(d) => Some(*d),
            ChangeEvent::Delete { .. } => None,
        })
        .collect();
    Ok((docs, watermark))
}

/// Applies every change the store has after the index's watermark, `page` at a time. Returns
/// the number of events applied. Safe to call concurrently with searches; call it from one task
/// at a time (the index has one writer).
pub async fn catch_up(
    store: &Store,
    index: &Arc<CatalogIndex>,
    page: usize,
) -> Result<u64, IndexError> {
    let mut applied = 0u64;
    loop {
        let watermark = index.watermark()?.unwrap_or(0);
        let batch = resolve_changes(store, watermark, page).await?;
        if batch.events.is_empty() || batch.watermark <= watermark {
            return Ok(applied);
        }
        applied += batch.events.len() as u64;
        let idx = Arc::clone(index);
        tokio::task::spawn_blocking(move || idx.apply(&batch))
            .await
            .map_err(|e| IndexError::Unavailable(format!("index writer task failed: {e}")))??;
    }
}

/// Opens the index at `path` (rebuilding it from the store when missing, damaged or of another
/// schema) and catches it up with the change log.
pub async fn open_synced(
    path: &Path,
    config: IndexConfig,
    store: &Store,
) -> Result<(Arc<CatalogIndex>, Opened), IndexError> {
    // Only read the whole store when a rebuild is actually needed.
    let opened = if path.join("meta.json").exists() {
        let p = path.to_path_buf();
        let c = config.clone();
        tokio::task::spawn_blocking(move || CatalogIndex::open(&p, c))
            .await
            .map_err(|e| IndexError::Unavailable(format!("index open task failed: {e}")))?
    } else {
        Err(IndexError::Unavailable("index is missing".into()))
    };
    let (index, how) = match opened {
        Ok(idx) => {
            let watermark = idx.watermark()?.unwrap_or(0);
            (Arc::new(idx), Opened::Existing { watermark })
        }
        Err(IndexError::Locked) => return Err(IndexError::Locked),
        Err(_) => {
            let (docs, watermark) = all_documents(store).await?;
            let p = path.to_path_buf();
            let c = config.clone();
            let missing = !path.join("meta.json").exists();
            let (idx, n) =
                tokio::task::spawn_blocking(move || CatalogIndex::rebuild(&p, c, docs, watermark))
                    .await
                    .map_err(|e| {
                        IndexError::Unavailable(format!("index rebuild task failed: {e}"))
                    })??;
            let reason = if missing {
                crate::RebuildReason::Missing
            } else {
                crate::RebuildReason::Damaged
            };
            (
                Arc::new(idx),
                Opened::Rebuilt {
                    documents: n,
                    reason,
                },
            )
        }
    };
    catch_up(store, &index, DEFAULT_PAGE).await?;
    Ok((index, how))
}

/// Rebuilds the index at `path` from the store (`coalesce reindex`), replacing what was there.
/// Returns the index and the number of documents written.
pub async fn rebuild_from_store(
    path: &Path,
    config: IndexConfig,
    store: &Store,
) -> Result<(Arc<CatalogIndex>, u64), IndexError> {
    let (docs, watermark) = all_documents(store).await?;
    let p = path.to_path_buf();
    let (idx, n) =
        tokio::task::spawn_blocking(move || CatalogIndex::rebuild(&p, config, docs, watermark))
            .await
            .map_err(|e| IndexError::Unavailable(format!("index rebuild task failed: {e}")))??;
    let idx = Arc::new(idx);
    // Whatever landed while the documents were written.
    catch_up(store, &idx, DEFAULT_PAGE).await?;
    Ok((idx, n))
}

/// The member that represents `cluster` in search and feeds: its canonical member while that one
/// is live, else the smallest live member id (so a cluster never vanishes because its canonical
/// record was removed). `None` when no member is live.
pub fn effective_canonical(
    cluster: &Cluster,
    is_live: impl Fn(&OfferingId) -> bool,
) -> Option<OfferingId> {
    if is_live(&cluster.canonical) {
        return Some(cluster.canonical.clone());
    }
    cluster
        .members
        .iter()
        .map(|m| &m.offering_id)
        .filter(|id| is_live(id))
        .min()
        .cloned()
}
