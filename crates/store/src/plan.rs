//! What `apply` decides, without a database: every backend loads the source's current rows,
//! asks [`plan`] what to write, and writes exactly that. Keeping the rules here means the
//! tombstone, anomaly and identity rules are the same on SQLite and PostgreSQL, and can be
//! unit-tested with plain values.

use std::collections::{HashMap, HashSet};

use coalesce_core::Offering;
use sha2::{Digest, Sha256};

use crate::error::StoreError;
use crate::types::{Anomaly, ApplyPolicy, ApplySummary, OfferingId, SourceId};

/// Fields that do not change what a learner sees: a source re-stamping its own `updated_at`
/// or SEQUENCE must not wake every calendar client. Identity fields are the key, not content.
const INVISIBLE_FIELDS: [&str; 5] = [
    "source_key",
    "key_kind",
    "updated_at",
    "published_at",
    "source_sequence",
];

/// An offering row as the store holds it now, keyed by source key.
#[derive(Debug, Clone)]
pub(crate) struct Existing {
    pub id: OfferingId,
    pub content_hash: String,
    pub removed: bool,
    pub absent_count: i64,
    pub sequence: i64,
    /// The end of its last session (unix seconds); `None` when it has no dated session.
    pub last_end: Option<i64>,
}

/// One offering ready to be written: the body plus the columns filters use.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub id: OfferingId,
    pub source_key: String,
    pub body: String,
    pub content_hash: String,
    pub title: String,
    pub status: &'static str,
    pub modality: Option<&'static str>,
    pub language: Option<String>,
    pub is_free: Option<bool>,
    pub has_credits: bool,
    pub sectors: String,
    pub topics: String,
    pub first_start: Option<i64>,
    pub last_end: Option<i64>,
    pub occurrences: Vec<OccurrenceRow>,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct OccurrenceRow {
    pub start: i64,
    pub end: Option<i64>,
    pub all_day: bool,
    pub cancelled: bool,
}

/// A live row missing from a healthy fetch.
#[derive(Debug, Clone)]
pub(crate) struct Absence {
    pub id: OfferingId,
    pub absent_count: i64,
    /// Set when the item was seen up to the previous healthy fetch: the row's `last_seen`
    /// is not rewritten on unchanged fetches, so it is pinned when the item first goes missing.
    pub last_seen: Option<i64>,
    pub remove: bool,
}

#[derive(Debug, Default)]
pub(crate) struct Plan {
    pub inserts: Vec<Row>,
    /// Content changes and restored tombstones: the row, its new sequence, whether restored.
    pub rewrites: Vec<(Row, i64, bool)>,
    /// Present and unchanged, but counted absent before: only the counter is reset.
    pub returned: Vec<OfferingId>,
    pub absences: Vec<Absence>,
    pub summary: ApplySummary,
    /// Whether absences were counted (a successful fetch that was not an anomaly).
    pub healthy: bool,
}

/// The stable id of a new offering: derived, so the same item imported into a fresh store gets
/// the same id; stored, so later changes to this rule never move existing offerings.
pub(crate) fn offering_id(source: SourceId, source_key: &str) -> OfferingId {
    let mut h = Sha256::new();
    h.update(source.0.to_string().as_bytes());
    h.update([0]);
    h.update(source_key.as_bytes());
    OfferingId(format!("o{}", &hex(&h.finalize())[..20]))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// Builds the row for `offering`; `id` is the stored id when the item already exists.
pub(crate) fn row(id: OfferingId, offering: &Offering) -> Result<Row, StoreError> {
    let mut value = serde_json::to_value(offering).map_err(StoreError::Encode)?;
    let body = value.to_string();
    if let Some(map) = value.as_object_mut() {
        for field in INVISIBLE_FIELDS {
            map.remove(field);
        }
    }
    let content_hash = format!("sha256:{}", hex(&Sha256::digest(value.to_string())));
    let occurrences: Vec<OccurrenceRow> = offering
        .occurrences
        .iter()
        .map(|o| OccurrenceRow {
            start: o.start.timestamp(),
            end: o.end.map(|e| e.timestamp()),
            all_day: o.all_day,
            cancelled: o.cancelled,
        })
        .collect();
    let first_start = occurrences.iter().map(|o| o.start).min();
    let last_end = occurrences.iter().map(|o| o.end.unwrap_or(o.start)).max();
    Ok(Row {
        id,
        source_key: offering.source_key.clone(),
        body,
        content_hash,
        title: offering.title.clone(),
        status: status_str(offering.status),
        modality: offering.modality.map(|m| m.as_str()),
        language: offering.language.clone(),
        is_free: offering.cost.free,
        has_credits: !offering.credits.is_empty(),
        sectors: delimited(offering.sectors.iter().map(|s| s.as_str())),
        topics: delimited(offering.topics.iter().map(String::as_str)),
        first_start,
        last_end,
        occurrences,
    })
}

fn status_str(status: coalesce_core::Status) -> &'static str {
    match status {
        coalesce_core::Status::Scheduled => "scheduled",
        coalesce_core::Status::Cancelled => "cancelled",
        coalesce_core::Status::Postponed => "postponed",
    }
}

fn delimited<'a>(words: impl Iterator<Item = &'a str>) -> String {
    let mut s = String::from(" ");
    for w in words {
        s.push_str(w);
        s.push(' ');
    }
    s
}

/// Decides what one successful fetch changes. `existing` is every row of the source (live and
/// tombstones) by source key; `previous_healthy` is when the last healthy fetch happened;
/// `now` (unix seconds) decides whether a missing item's sessions are over.
pub(crate) fn plan(
    source: SourceId,
    existing: &HashMap<String, Existing>,
    offerings: &[Offering],
    policy: &ApplyPolicy,
    previous_healthy: Option<i64>,
    now: i64,
) -> Result<Plan, StoreError> {
    let mut plan = Plan::default();

    // A document repeating a key: the last item wins (it is the one a reader sees last), and
    // the repeats are counted so the status can show them.
    let mut last_index: HashMap<&str, usize> = HashMap::with_capacity(offerings.len());
    for (i, o) in offerings.iter().enumerate() {
        if last_index.insert(o.source_key.as_str(), i).is_some() {
            plan.summary.duplicate_keys += 1;
        }
    }
    let items: Vec<&Offering> = offerings
        .iter()
        .enumerate()
        .filter(|(i, o)| last_index.get(o.source_key.as_str()) == Some(i))
        .map(|(_, o)| o)
        .collect();
    let present: HashSet<&str> = items.iter().map(|o| o.source_key.as_str()).collect();

    let previously_live = existing.values().filter(|e| !e.removed).count() as u64;
    let still_live = existing
        .iter()
        .filter(|(k, e)| !e.removed && present.contains(k.as_str()))
        .count() as u64;
    let missing = previously_live - still_live;
    let mut anomaly = if items.is_empty() {
        Some(Anomaly::Empty { previously_live })
    } else if previously_live > 0
        && missing * 100 > previously_live * u64::from(policy.shrink_anomaly_percent)
    {
        Some(Anomaly::Shrunk {
            previously_live,
            missing,
        })
    } else {
        None
    };
    plan.healthy = anomaly.is_none();

    let new_total = items
        .iter()
        .filter(|o| !existing.contains_key(o.source_key.as_str()))
        .count();
    let cap = if existing.is_empty() {
        usize::MAX
    } else {
        policy.max_new_per_fetch
    };
    if new_total > cap && anomaly.is_none() {
        anomaly = Some(Anomaly::TooManyNew {
            offered: new_total as u64,
            accepted: cap as u64,
        });
    }

    let mut accepted_new = 0usize;
    for o in items {
        match existing.get(o.source_key.as_str()) {
            None => {
                if accepted_new >= cap {
                    continue;
                }
                accepted_new += 1;
                let r = row(offering_id(source, &o.source_key), o)?;
                plan.summary.changed.push(r.id.clone());
                plan.inserts.push(r);
                plan.summary.new += 1;
            }
            Some(e) => {
                let r = row(e.id.clone(), o)?;
                if e.removed {
                    plan.summary.restored += 1;
                    plan.summary.changed.push(e.id.clone());
                    plan.rewrites.push((r, e.sequence + 1, true));
                } else if r.content_hash != e.content_hash {
                    plan.summary.updated += 1;
                    plan.summary.changed.push(e.id.clone());
                    plan.rewrites.push((r, e.sequence + 1, false));
                } else {
                    plan.summary.unchanged += 1;
                    if e.absent_count > 0 {
                        plan.returned.push(e.id.clone());
                    }
                }
            }
        }
    }

    if plan.healthy {
        let threshold = i64::from(policy.removal_after_absences.max(1));
        let mut gone: Vec<(&String, &Existing)> = existing
            .iter()
            .filter(|(k, e)| !e.removed && !present.contains(k.as_str()))
            .collect();
        // Deterministic write order keeps the change log reproducible.
        gone.sort_by(|a, b| a.1.id.cmp(&b.1.id));
        for (_, e) in gone {
            let absent_count = e.absent_count + 1;
            // Feeds list a window of what is coming and drop what has passed, so an item whose
            // sessions are still ahead may be missing for reasons of the feed's own (a window,
            // a page, a glitch): it stays listed until they are over (HOSTILE E4), or until
            // its provider deletes it. Undated items go after K absences.
            let over = e.last_end.is_none_or(|end| end <= now);
            let remove = absent_count >= threshold && over;
            if remove {
                plan.summary.removed += 1;
                plan.summary.changed.push(e.id.clone());
            } else {
                plan.summary.absent += 1;
            }
            plan.absences.push(Absence {
                id: e.id.clone(),
                absent_count,
                last_seen: if e.absent_count == 0 {
                    previous_healthy
                } else {
                    None
                },
                remove,
            });
        }
    }
    plan.summary.anomaly = anomaly;
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};
    use coalesce_core::{Cost, KeyKind, Status};

    fn offering(key: &str, title: &str) -> Offering {
        Offering {
            source_key: key.to_string(),
            key_kind: KeyKind::Guid,
            title: title.to_string(),
            summary: None,
            description_html: None,
            language: None,
            occurrences: Vec::new(),
            recurring: false,
            timezone: None,
            modality: None,
            location: None,
            online_url: None,
            url: None,
            registration_url: None,
            image_url: None,
            cost: Cost::default(),
            credits: Vec::new(),
            sectors: Vec::new(),
            audience_level: None,
            topics: Vec::new(),
            categories: Vec::new(),
            organizer: None,
            status: Status::Scheduled,
            source_sequence: 0,
            updated_at: None,
            published_at: None,
        }
    }

    fn hash(o: &Offering) -> String {
        row(OfferingId("x".into()), o)
            .map(|r| r.content_hash)
            .unwrap()
    }

    #[test]
    fn content_hash_ignores_source_timestamps_and_sequence_but_not_titles() {
        let a = offering("k", "Caring for photographs");
        let mut b = a.clone();
        b.updated_at = Some(DateTime::<Utc>::MIN_UTC);
        b.source_sequence = 7;
        b.key_kind = KeyKind::Url;
        assert_eq!(hash(&a), hash(&b));
        let mut c = a.clone();
        c.title = "Caring for photographs (rescheduled)".into();
        assert_ne!(hash(&a), hash(&c));
    }

    #[test]
    fn offering_id_is_scoped_by_source() {
        assert_eq!(offering_id(SourceId(1), "g"), offering_id(SourceId(1), "g"));
        assert_ne!(offering_id(SourceId(1), "g"), offering_id(SourceId(2), "g"));
    }

    #[test]
    fn repeated_key_in_one_document_keeps_the_last_item() {
        let docs = vec![offering("g", "first"), offering("g", "second")];
        let p = plan(
            SourceId(1),
            &HashMap::new(),
            &docs,
            &ApplyPolicy::default(),
            None,
            0,
        )
        .unwrap();
        assert_eq!(p.summary.duplicate_keys, 1);
        assert_eq!(p.inserts.len(), 1);
        assert!(p.inserts[0].body.contains("second"));
    }

    #[test]
    fn shrink_threshold_is_more_than_the_percentage() {
        let existing: HashMap<String, Existing> = (0..10)
            .map(|i| {
                (
                    format!("k{i}"),
                    Existing {
                        id: OfferingId(format!("o{i}")),
                        content_hash: String::new(),
                        removed: false,
                        absent_count: 0,
                        sequence: 0,
                        last_end: None,
                    },
                )
            })
            .collect();
        let run = |keep: usize| {
            let docs: Vec<Offering> = (0..keep).map(|i| offering(&format!("k{i}"), "t")).collect();
            plan(
                SourceId(1),
                &existing,
                &docs,
                &ApplyPolicy::default(),
                None,
                0,
            )
            .unwrap()
        };
        // 8 of 10 gone is exactly 80%: still healthy.
        assert!(run(2).healthy);
        // 9 of 10 gone is more than 80%: an anomaly, nothing counted absent.
        let p = run(1);
        assert!(!p.healthy);
        assert!(p.absences.is_empty());
        assert!(matches!(p.summary.anomaly, Some(Anomaly::Shrunk { .. })));
    }
}
