//! Dedup against the labeled fixture (`fixtures/dedup/labeled.json`) and the behaviours it must
//! never get wrong. Run `cargo test -p coalesce-core --test dedup -- --nocapture` for the figures.

use std::collections::{BTreeMap, BTreeSet};

use chrono::DateTime;
use coalesce_core::dedup::{
    CanonicalReason, Cluster, DedupConfig, DedupIndex, DedupItem, Fingerprint, Signal, cluster,
};
use coalesce_core::{Cost, KeyKind, Location, Occurrence, Offering, Status};
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixture {
    providers: Vec<Provider>,
    offerings: Vec<Labeled>,
}

#[derive(Deserialize)]
struct Provider {
    id: String,
    domains: Vec<String>,
}

#[derive(Deserialize, Clone)]
struct Labeled {
    id: String,
    provider: String,
    source: String,
    group: String,
    title: String,
    starts: Vec<String>,
    all_day: bool,
    timezone: Option<String>,
    url: Option<String>,
    registration_url: Option<String>,
    online_url: Option<String>,
    description: String,
    #[serde(default)]
    locality: Option<String>,
}

fn load() -> Fixture {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/dedup/labeled.json"
    );
    let text = std::fs::read_to_string(path).expect("fixture readable");
    serde_json::from_str(&text).expect("fixture parses")
}

fn offering(l: &Labeled) -> Offering {
    Offering {
        source_key: l.id.clone(),
        key_kind: KeyKind::Guid,
        title: l.title.clone(),
        summary: None,
        description_html: Some(format!("<p>{}</p>", l.description)),
        language: Some("en".into()),
        occurrences: l
            .starts
            .iter()
            .map(|s| Occurrence {
                start: DateTime::parse_from_rfc3339(s).expect("fixture start is RFC 3339"),
                end: None,
                all_day: l.all_day,
                cancelled: false,
                date_source: coalesce_core::DateSource::Structured,
                recurrence_id: None,
            })
            .collect(),
        recurring: false,
        timezone: l.timezone.clone(),
        modality: None,
        location: l.locality.as_ref().map(|town| Location {
            locality: Some(town.clone()),
            ..Location::default()
        }),
        online_url: l.online_url.clone(),
        url: l.url.clone(),
        registration_url: l.registration_url.clone(),
        image_url: None,
        cost: Cost::default(),
        credits: vec![],
        sectors: vec![],
        audience_level: None,
        topics: vec![],
        categories: vec![],
        organizer: None,
        status: Status::Scheduled,
        source_sequence: 0,
        updated_at: None,
        published_at: None,
    }
}

fn fingerprints(fx: &Fixture, items: &[Labeled]) -> Vec<Fingerprint> {
    let domains: BTreeMap<&str, &[String]> = fx
        .providers
        .iter()
        .map(|p| (p.id.as_str(), p.domains.as_slice()))
        .collect();
    items
        .iter()
        .map(|l| {
            let o = offering(l);
            Fingerprint::from_item(&DedupItem {
                id: &l.id,
                source_id: &l.source,
                provider: &l.provider,
                provider_domains: domains.get(l.provider.as_str()).copied().unwrap_or(&[]),
                offering: &o,
            })
        })
        .collect()
}

fn run(items: &[Labeled]) -> Vec<Cluster> {
    let fx = load();
    cluster(fingerprints(&fx, items), &DedupConfig::default()).expect("valid input")
}

fn by_id(ids: &[&str]) -> Vec<Labeled> {
    let fx = load();
    ids.iter()
        .map(|id| {
            fx.offerings
                .iter()
                .find(|o| o.id == *id)
                .cloned()
                .expect("id in fixture")
        })
        .collect()
}

fn pairs_of<'a>(groups: impl Iterator<Item = Vec<&'a str>>) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for g in groups {
        for (i, a) in g.iter().enumerate() {
            for b in &g[i + 1..] {
                let (x, y) = if a < b { (a, b) } else { (b, a) };
                out.insert((x.to_string(), y.to_string()));
            }
        }
    }
    out
}

#[test]
fn labeled_fixture_reaches_precision_and_recall_targets() {
    let fx = load();
    let clusters = run(&fx.offerings);
    let mut truth: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for o in &fx.offerings {
        truth
            .entry(o.group.as_str())
            .or_default()
            .push(o.id.as_str());
    }
    let dup_groups = truth.values().filter(|g| g.len() > 1).count();
    let providers: BTreeSet<&str> = fx.offerings.iter().map(|o| o.provider.as_str()).collect();
    assert!(dup_groups >= 15 && providers.len() >= 4);
    let expected = pairs_of(truth.values().cloned());
    let predicted = pairs_of(
        clusters
            .iter()
            .map(|c| c.members.iter().map(|m| m.id.as_str()).collect()),
    );
    let tp = expected.intersection(&predicted).count() as f64;
    let precision = if predicted.is_empty() {
        1.0
    } else {
        tp / predicted.len() as f64
    };
    let recall = tp / expected.len() as f64;
    let f1 = 2.0 * precision * recall / (precision + recall);
    println!(
        "dedup fixture: {} offerings, {} duplicate groups, {} true pairs, {} predicted pairs",
        fx.offerings.len(),
        dup_groups,
        expected.len(),
        predicted.len()
    );
    println!("precision {precision:.3}  recall {recall:.3}  F1 {f1:.3}");
    for missed in expected.difference(&predicted) {
        println!("  missed: {missed:?}");
    }
    for wrong in predicted.difference(&expected) {
        println!("  wrong:  {wrong:?}");
    }
    assert!(precision >= 0.97, "precision {precision:.3}");
    assert!(f1 >= 0.95, "F1 {f1:.3}");
}

#[test]
fn series_dates_are_never_merged() {
    let clusters = run(&by_id(&[
        "mla-n1a", "klc-n1b", "sca-n2a", "rsi-n2b", "wsl-n2c",
    ]));
    assert!(clusters.is_empty(), "{clusters:#?}");
}

#[test]
fn same_day_sessions_are_never_merged() {
    // Same title at two hours of one day, and three concurrent sessions of one summit that share
    // a registration page.
    let clusters = run(&by_id(&[
        "wsl-n3a", "mla-n3b", "mma-n4a", "sca-n4b", "klc-n4c", "klc-n7a", "rsi-n7b",
    ]));
    assert!(clusters.is_empty(), "{clusters:#?}");
}

#[test]
fn tracking_parameters_are_ignored_in_registration_urls() {
    // klc-07 rewrote the title; only the registration page (with mc_cid added) ties it to mma-07.
    let clusters = run(&by_id(&["mma-07", "klc-07"]));
    assert_eq!(clusters.len(), 1);
    let klc = clusters[0]
        .members
        .iter()
        .find(|m| m.id == "klc-07")
        .expect("member");
    assert!(
        klc.signals
            .iter()
            .any(|s| matches!(s, Signal::RegistrationUrl { url }
            if url == "https://museumalliance.example.org/learn/volunteers-small-museums")),
        "{:?}",
        klc.signals
    );
}

#[test]
fn zone_shifted_duplicate_is_merged() {
    // 2 pm EDT, 11 am PDT and 18:00 UTC are one instant.
    let clusters = run(&by_id(&["sca-01", "mma-01", "wsl-01"]));
    assert_eq!(clusters.len(), 1);
    assert_eq!(clusters[0].members.len(), 3);
    for m in &clusters[0].members {
        assert!(
            m.signals
                .iter()
                .any(|s| matches!(s, Signal::StartInstant { delta_seconds: 0 })),
            "{m:?}"
        );
    }
}

#[test]
fn same_wall_clock_in_another_zone_is_not_merged() {
    // 10 am Eastern and 10 am Central are an hour apart: two roundtables, not a zone mistake.
    let clusters = run(&by_id(&["mla-n8a", "klc-n8b"]));
    assert!(clusters.is_empty(), "{clusters:#?}");
}

#[test]
fn canonical_member_is_the_originator() {
    // mma's record is richer (co-marketing preamble) but sca hosts the registration page.
    let clusters = run(&by_id(&["mma-01", "wsl-01", "sca-01"]));
    assert_eq!(clusters[0].canonical, "sca-01");
    assert_eq!(
        clusters[0].canonical_reason,
        CanonicalReason::Originator {
            host: "archivists.example.org".into()
        }
    );
}

#[test]
fn canonical_member_falls_back_to_the_first_seen_record() {
    // No registration URL anywhere: nobody can be told to be the originator. The richer record
    // does not win: the choice must not move when a copy is edited.
    let fx = load();
    let mut items = by_id(&["mla-08", "wsl-08"]);
    for i in &mut items {
        i.registration_url = None;
    }
    items[0]
        .description
        .push_str(&" More detail for learners.".repeat(20));
    let mut fps = fingerprints(&fx, &items);
    fps[0].first_seen = 2_000;
    fps[1].first_seen = 1_000;
    let clusters = cluster(fps, &DedupConfig::default()).expect("cluster");
    assert_eq!(clusters[0].canonical, "wsl-08");
    assert_eq!(
        clusters[0].id, "wsl-08",
        "the cluster is named after its canonical"
    );
    assert_eq!(
        clusters[0].canonical_reason,
        CanonicalReason::FirstSeen { first_seen: 1_000 }
    );
}

#[test]
fn a_copy_joining_later_never_renames_the_shown_canonical() {
    // Issue 16: wsl-01 is shown on its own (subscribers hold its UID); the originator's copy and
    // a third copy arrive later. wsl-01 stays canonical and the cluster keeps its id while it
    // lives; only its removal hands the cluster to the originator.
    let fx = load();
    let all = fingerprints(&fx, &by_id(&["sca-01", "mma-01", "wsl-01"]));
    let get = |id: &str| all.iter().find(|f| f.id == id).cloned().expect("id");
    let mut index = DedupIndex::build(vec![get("wsl-01")], DedupConfig::default()).expect("build");
    index.apply(vec![get("sca-01")], &[]).expect("apply");
    index.apply(vec![get("mma-01")], &[]).expect("apply");
    let c = index.cluster_of("sca-01").expect("clustered");
    assert_eq!((c.id.as_str(), c.canonical.as_str()), ("wsl-01", "wsl-01"));
    assert_eq!(c.canonical_reason, CanonicalReason::Kept);
    assert_eq!(c.members.len(), 3);
    // An edit of another member changes nothing.
    let mut edited = get("sca-01");
    edited.richness += 5;
    index.apply(vec![edited], &[]).expect("apply");
    assert_eq!(index.cluster_of("mma-01").expect("c").canonical, "wsl-01");
    // The canonical leaves: the originator takes over.
    index.apply(vec![], &["wsl-01".into()]).expect("apply");
    let c = index.cluster_of("mma-01").expect("clustered");
    assert_eq!(c.canonical, "sca-01");
    assert!(matches!(
        c.canonical_reason,
        CanonicalReason::Originator { .. }
    ));

    // The same after a restart: the rebuild is told who was shown.
    let shown: std::collections::HashSet<String> = ["wsl-01".to_string()].into();
    let index =
        DedupIndex::build_with_shown(all.clone(), DedupConfig::default(), &shown).expect("build");
    assert_eq!(index.cluster_of("sca-01").expect("c").canonical, "wsl-01");
    // A fresh build with nothing shown picks the originator.
    let fresh = cluster(all, &DedupConfig::default()).expect("cluster");
    assert_eq!(fresh[0].canonical, "sca-01");
}

#[test]
fn explanation_lists_signals() {
    let clusters = run(&by_id(&["sca-06", "mla-06"]));
    let c = &clusters[0];
    for m in &c.members {
        assert!(!m.signals.is_empty());
        assert!(
            m.signals
                .iter()
                .any(|s| matches!(s, Signal::Title { similarity } if *similarity > 0.8))
        );
        assert!(
            m.signals
                .iter()
                .any(|s| matches!(s, Signal::RegistrationUrl { .. }))
        );
        assert!(
            m.signals
                .iter()
                .any(|s| matches!(s, Signal::Description { .. }))
        );
    }
    let text = c.explain();
    assert!(text.contains("same start"), "{text}");
    assert!(text.contains("same registration URL"), "{text}");
    assert!(text.contains("originator"), "{text}");
}

#[test]
fn items_of_one_source_merge_only_as_a_repost() {
    // Issue 16: a feed re-posting its own webinar ("REMINDER: ...") lists one offering twice.
    // Same source, same instant, same registration page, same title: one offering.
    let mut items = by_id(&["sca-10", "klc-10"]);
    items[1].source = items[0].source.clone();
    assert_eq!(run(&items).len(), 1);
    // Anything less within one source is two offerings the publisher listed on purpose: another
    // registration page, or a start a few minutes off.
    let mut other_page = items.clone();
    other_page[1].registration_url = Some("https://archivists.example.org/register/other".into());
    assert!(run(&other_page).is_empty());
    let mut other_start = items.clone();
    other_start[1].starts = vec!["2026-11-12T18:10:00Z".into()];
    assert!(run(&other_start).is_empty());
    // Without a registration page nothing says the two items are one.
    let mut no_page = items;
    for i in &mut no_page {
        i.registration_url = None;
    }
    assert!(run(&no_page).is_empty());
}

#[test]
fn reminder_reposts_and_host_credits_join_their_offering() {
    for (ids, why) in [
        (
            &["mla-18", "mla-18r", "klc-18"][..],
            "REMINDER re-post in one feed, credit in parentheses",
        ),
        (
            &["sca-19", "mma-19", "wsl-19"][..],
            "'MMA Webinar:' prefix, hyphenated word, dash credit",
        ),
        (
            &["sca-20", "mma-20", "rsi-20"][..],
            "'&' vs 'and', ':' vs '—', all caps, organization credit",
        ),
        (
            &["sca-21", "sca-21b", "wsl-21"][..],
            "date-only conference from a feed and a page",
        ),
    ] {
        let clusters = run(&by_id(ids));
        assert_eq!(clusters.len(), 1, "{why}: {clusters:#?}");
        assert_eq!(clusters[0].members.len(), ids.len(), "{why}: {clusters:#?}");
    }
}

#[test]
fn near_miss_kinds_are_never_merged() {
    for (ids, why) in [
        (
            &["mla-n11a", "mla-n11b"][..],
            "one clinic in two towns at the same hour",
        ),
        (
            &["mma-n12a", "mma-n12b"][..],
            "morning and afternoon sessions sharing a link",
        ),
        (
            &["wsl-n13a", "wsl-08"][..],
            "a recording vs the live session",
        ),
        (&["rsi-n14a", "rsi-n14b"][..], "two runs of one course"),
        (
            &["klc-n15a", "klc-n15b"][..],
            "concurrent tracks of one summit in one feed",
        ),
    ] {
        let clusters = run(&by_id(ids));
        assert!(clusters.is_empty(), "{why}: {clusters:#?}");
    }
}

#[test]
fn chain_of_close_starts_cannot_join_conflicting_ends() {
    // A at 18:00, B at 18:10, C at 18:20 (UTC): A~B and B~C are within the 15-minute tolerance,
    // A and C are not, so union-find alone would wrongly put A with C.
    let mut items = by_id(&["sca-10", "klc-10", "mla-10"]);
    items[1].starts = vec!["2026-11-12T18:10:00Z".into()];
    items[2].starts = vec!["2026-11-12T18:20:00Z".into()];
    let clusters = run(&items);
    for c in &clusters {
        let ids: Vec<&str> = c.members.iter().map(|m| m.id.as_str()).collect();
        assert!(
            !(ids.contains(&"sca-10") && ids.contains(&"mla-10")),
            "{ids:?}"
        );
    }
    assert_eq!(
        clusters.len(),
        1,
        "the strongest pair still forms a cluster"
    );
}

#[test]
fn incremental_apply_matches_a_full_recompute() {
    let fx = load();
    let all = fingerprints(&fx, &fx.offerings);
    // Start from half the records, then add the rest, change one title, remove two.
    let (first, rest): (Vec<_>, Vec<_>) = all.iter().cloned().partition(|f| f.id < "m".into());
    let mut index = DedupIndex::build(first, DedupConfig::default()).expect("build");
    index.apply(rest, &[]).expect("apply");
    let mut changed = all
        .iter()
        .find(|f| f.id == "wsl-11")
        .cloned()
        .expect("wsl-11");
    changed.title = coalesce_core::dedup::title_key("Budgeting for Branch Managers");
    let delta = index
        .apply(vec![changed.clone()], &["sca-04".into(), "klc-13".into()])
        .expect("apply");
    assert!(delta.removed.contains(&"klc-13".to_string()), "{delta:?}");

    let mut expected_input: Vec<Fingerprint> = all
        .into_iter()
        .filter(|f| !["sca-04", "klc-13", "wsl-11"].contains(&f.id.as_str()))
        .collect();
    expected_input.push(changed);
    // The groups and why each member is in one match a full recompute; the canonical may differ,
    // since the incremental index keeps what was already shown (tested above).
    let groups = |cs: Vec<Cluster>| -> BTreeSet<Vec<(String, String, String)>> {
        cs.into_iter()
            .map(|c| {
                c.members
                    .into_iter()
                    .map(|m| (m.id, m.matched, format!("{:?}", m.signals)))
                    .collect()
            })
            .collect()
    };
    let expected = cluster(expected_input, &DedupConfig::default()).expect("cluster");
    let got: Vec<Cluster> = index.clusters().cloned().collect();
    assert_eq!(groups(got), groups(expected));
}

#[test]
fn invalid_config_is_rejected_with_a_code() {
    let cfg = DedupConfig {
        title_accept: 1.5,
        ..DedupConfig::default()
    };
    let err = DedupIndex::new(cfg).expect_err("must fail");
    assert_eq!(err.code(), "invalid_dedup_config");
}
