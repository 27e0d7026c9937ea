//! Scores dedup alone on an answer key, from what the key says each copy IS (title, start, end,
//! zone, registration link, provider, source), so extraction misses elsewhere in the pipeline do
//! not hide dedup's own recall.
//!
//! `cargo run -p coalesce-core --example dedup_eval -- ../shared/eval/lam-dev/answers.json`
//!
//! Reads the key's `sources[].offerings[]` (each with `key`, `provider`, `source_id`, `title`,
//! `start`, `end`, `all_day`, `timezone`, `registration_url`), `duplicate_groups[].members[].key`
//! and `not_duplicates[].{a,b}.key`; prints pairwise precision / recall, exact groups, and every
//! missed pair, wrong pair and merged near miss. Nothing of the key is stored in the repository.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, FixedOffset, NaiveDate};
use coalesce_core::dedup::{DedupConfig, DedupItem, Fingerprint, cluster};
use coalesce_core::{Cost, KeyKind, Occurrence, Offering, Status};
use serde_json::Value;

fn instant(v: &Value) -> Option<(DateTime<FixedOffset>, bool)> {
    let s = v.as_str()?;
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some((t, false));
    }
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    let utc = FixedOffset::east_opt(0)?;
    Some((
        d.and_hms_opt(0, 0, 0)?.and_local_timezone(utc).single()?,
        true,
    ))
}

fn text(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_string)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: dedup_eval <answers.json>")?;
    let key: Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
    let mut offerings: Vec<(String, String, String, Offering)> = Vec::new();
    for src in key["sources"].as_array().ok_or("no sources")? {
        let file = text(src, "file").unwrap_or_default();
        for o in src["offerings"].as_array().ok_or("no offerings")? {
            let id = text(o, "key").ok_or("offering without key")?;
            let provider = text(o, "provider")
                .or_else(|| text(src, "provider"))
                .unwrap_or_default();
            let start = instant(&o["start"]);
            let end = instant(&o["end"]).map(|e| e.0);
            let occurrences = start
                .map(|(s, all_day)| Occurrence {
                    start: s,
                    end,
                    all_day: all_day || o["all_day"].as_bool().unwrap_or(false),
                    cancelled: false,
                    date_source: coalesce_core::DateSource::Structured,
                    recurrence_id: None,
                })
                .into_iter()
                .collect();
            let offering = Offering {
                source_key: text(o, "source_id").unwrap_or_else(|| id.clone()),
                key_kind: KeyKind::Guid,
                title: text(o, "title").unwrap_or_default(),
                summary: None,
                description_html: None,
                language: None,
                occurrences,
                recurring: o["recurring"].as_bool().unwrap_or(false),
                timezone: text(o, "timezone"),
                modality: None,
                location: None,
                online_url: None,
                url: None,
                registration_url: text(o, "registration_url"),
                image_url: None,
                cost: Cost::default(),
                credits: vec![],
                sectors: vec![],
                audience_level: None,
                topics: vec![],
                categories: vec![],
                organizer: None,
                status: if text(o, "status").as_deref() == Some("cancelled") {
                    Status::Cancelled
                } else {
                    Status::Scheduled
                },
                source_sequence: 0,
                updated_at: None,
                published_at: None,
            };
            offerings.push((id, provider, file.clone(), offering));
        }
    }
    let fps: Vec<Fingerprint> = offerings
        .iter()
        .map(|(id, provider, file, o)| {
            Fingerprint::from_item(&DedupItem {
                id,
                source_id: file,
                provider,
                provider_domains: &[],
                offering: o,
            })
        })
        .collect();
    let clusters = cluster(fps, &DedupConfig::default())?;

    let pair = |a: &str, b: &str| {
        if a < b {
            (a.to_string(), b.to_string())
        } else {
            (b.to_string(), a.to_string())
        }
    };
    let mut truth = BTreeSet::new();
    let mut groups: Vec<BTreeSet<String>> = Vec::new();
    for g in key["duplicate_groups"].as_array().ok_or("no groups")? {
        let ids: Vec<String> = g["members"]
            .as_array()
            .ok_or("group without members")?
            .iter()
            .filter_map(|m| text(m, "key"))
            .collect();
        for (i, a) in ids.iter().enumerate() {
            for b in &ids[i + 1..] {
                truth.insert(pair(a, b));
            }
        }
        groups.push(ids.into_iter().collect());
    }
    let mut predicted = BTreeSet::new();
    let mut found: Vec<BTreeSet<String>> = Vec::new();
    for c in &clusters {
        let ids: Vec<&str> = c.members.iter().map(|m| m.id.as_str()).collect();
        for (i, a) in ids.iter().enumerate() {
            for b in &ids[i + 1..] {
                predicted.insert(pair(a, b));
            }
        }
        found.push(ids.iter().map(|s| s.to_string()).collect());
    }
    let tp = truth.intersection(&predicted).count() as f64;
    let precision = if predicted.is_empty() {
        1.0
    } else {
        tp / predicted.len() as f64
    };
    let recall = tp / truth.len().max(1) as f64;
    let exact = groups.iter().filter(|g| found.contains(g)).count();
    let titles: BTreeMap<&str, &str> = offerings
        .iter()
        .map(|(id, _, _, o)| (id.as_str(), o.title.as_str()))
        .collect();
    let show = |p: &(String, String)| {
        format!(
            "{} [{}]  ~  {} [{}]",
            p.0,
            titles.get(p.0.as_str()).unwrap_or(&""),
            p.1,
            titles.get(p.1.as_str()).unwrap_or(&""),
        )
    };
    for p in truth.difference(&predicted) {
        println!("missed: {}", show(p));
    }
    for p in predicted.difference(&truth) {
        println!("wrong:  {}", show(p));
    }
    let mut near = 0;
    for n in key["not_duplicates"]
        .as_array()
        .ok_or("no not_duplicates")?
    {
        let (Some(a), Some(b)) = (text(&n["a"], "key"), text(&n["b"], "key")) else {
            continue;
        };
        if predicted.contains(&pair(&a, &b)) {
            near += 1;
            println!("NEAR MISS MERGED: {}", show(&pair(&a, &b)));
        }
    }
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    println!(
        "precision {precision:.3}  recall {recall:.3}  F1 {f1:.3}  groups exact {exact}/{}  near misses merged {near}",
        groups.len()
    );
    Ok(())
}
