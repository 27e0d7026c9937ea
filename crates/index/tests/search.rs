//! Behaviour of the index as the API sees it: relevance, typos, synonyms, facets, paging,
//! collapse, bounds, cursors, the upcoming window, persistence. All hermetic: fixed `now`,
//! RAM or temp-dir indexes.

// Helpers outside #[test] fns unwrap too: a failing setup is a failing test.
#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use coalesce_core::{Cost, KeyKind, Modality, Occurrence, Offering, Sector, Status, Vocabulary};
use coalesce_index::generate::{GenerateSpec, generate};
use coalesce_index::{
    AlsoOfferedBy, CatalogIndex, ChangeBatch, ChangeEvent, IndexConfig, IndexDoc, Opened,
    RebuildReason, SearchRequest, SortOrder, Synonyms,
};
use std::collections::HashSet;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
}

fn config() -> IndexConfig {
    IndexConfig::new(
        b"test-cursor-key-0123456789".to_vec(),
        Synonyms::from_vocabulary(&Vocabulary::builtin()),
    )
    .unwrap()
}

fn offering(title: &str, summary: &str, days: Option<i64>) -> Offering {
    let occurrences = days
        .map(|d| {
            let s = (now() + Duration::days(d)).fixed_offset();
            vec![Occurrence {
                start: s,
                end: Some(s + Duration::hours(1)),
                all_day: false,
                cancelled: false,
                date_source: coalesce_core::DateSource::Structured,
                recurrence_id: None,
            }]
        })
        .unwrap_or_default();
    Offering {
        source_key: title.to_string(),
        key_kind: KeyKind::Url,
        title: title.to_string(),
        summary: Some(summary.to_string()),
        description_html: None,
        language: None,
        occurrences,
        recurring: false,
        timezone: None,
        modality: Some(if days.is_some() {
            Modality::Online
        } else {
            Modality::SelfPaced
        }),
        location: None,
        online_url: None,
        url: None,
        registration_url: None,
        image_url: None,
        cost: Cost::default(),
        credits: Vec::new(),
        sectors: vec![Sector::Libraries],
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

fn doc(id: &str, o: Offering) -> IndexDoc {
    IndexDoc {
        id: id.to_string(),
        provider_id: "p1".into(),
        provider_name: "Ohio State Library".into(),
        cluster_id: None,
        is_canonical: true,
        also_offered_by: Vec::new(),
        offering: o,
    }
}

fn index_of(docs: &[IndexDoc]) -> CatalogIndex {
    let idx = CatalogIndex::in_ram(config()).unwrap();
    for d in docs {
        idx.upsert(d).unwrap();
    }
    idx.commit(1).unwrap();
    idx
}

fn q(text: &str) -> SearchRequest {
    let mut r = SearchRequest::new(now());
    r.q = Some(text.to_string());
    r
}

fn ids(idx: &CatalogIndex, r: &SearchRequest) -> Vec<String> {
    idx.search(r)
        .unwrap()
        .hits
        .into_iter()
        .map(|h| h.id)
        .collect()
}

#[test]
fn title_match_outranks_description_match() {
    let mut a = offering("Budgeting basics", "A session on many things.", Some(3));
    a.description_html =
        Some("<p>We also touch on <b>preservation</b> of bound volumes.</p>".into());
    let b = offering(
        "Preservation of bound volumes",
        "A session on many things.",
        Some(10),
    );
    let idx = index_of(&[doc("a", a), doc("b", b)]);
    assert_eq!(ids(&idx, &q("preservation")), vec!["b", "a"]);
}

#[test]
fn misspelled_presevation_finds_preservation() {
    let idx = index_of(&[
        doc(
            "p",
            offering("Preservation basics", "Care of paper.", Some(3)),
        ),
        doc("x", offering("Grant writing", "Money.", Some(3))),
    ]);
    assert_eq!(ids(&idx, &q("presevation")), vec!["p"]);
    // Short words get no typo tolerance: "cre" is not "care".
    assert!(ids(&idx, &q("cre")).is_empty());
    // Two edits from eight characters on, one below.
    assert_eq!(ids(&idx, &q("presrvaton")), vec!["p"]);
    assert_eq!(ids(&idx, &q("prsrvatoin")), Vec::<String>::new());
    assert_eq!(ids(&idx, &q("grnt")), vec!["x"]);
    assert!(ids(&idx, &q("grnnnt")).is_empty());
}

#[test]
fn synonyms_cross_the_sectors_vocabularies() {
    let idx = index_of(&[
        doc(
            "ce",
            offering("Continuing education for archivists", "x", Some(3)),
        ),
        doc("meta", offering("Metadata standards", "x", Some(3))),
        doc("pres", offering("Preservation planning", "x", Some(3))),
        doc("other", offering("Grant writing", "x", Some(3))),
    ]);
    assert_eq!(ids(&idx, &q("professional development")), vec!["ce"]);
    assert_eq!(ids(&idx, &q("cataloging")), vec!["meta"]);
    assert_eq!(ids(&idx, &q("collections care")), vec!["pres"]);
}

#[test]
fn a_misspelt_synonym_reaches_its_group() {
    // No document says "preservation": only its synonym "collections care" is written.
    let idx = index_of(&[
        doc(
            "care",
            offering("Collections care basics", "Storage and handling.", Some(3)),
        ),
        doc("other", offering("Grant writing", "x", Some(3))),
    ]);
    assert_eq!(ids(&idx, &q("preservation")), vec!["care"]);
    assert_eq!(ids(&idx, &q("presevation")), vec!["care"]);
    // Beyond the typo budget nothing is reached.
    assert!(ids(&idx, &q("prsrvatoin")).is_empty());
}

#[test]
fn phrases_exclusion_and_or() {
    let idx = index_of(&[
        doc(
            "a",
            offering("Digital collections for museums", "x", Some(3)),
        ),
        doc("b", offering("Collections of digital art", "x", Some(4))),
        doc("c", offering("Copyright basics", "x", Some(5))),
    ]);
    assert_eq!(ids(&idx, &q("\"digital collections\"")), vec!["a"]);
    let mut both = ids(&idx, &q("digital collections"));
    both.sort();
    assert_eq!(both, vec!["a", "b"]);
    assert_eq!(ids(&idx, &q("digital -museums")), vec!["b"]);
    let mut or = ids(&idx, &q("copyright OR museums"));
    or.sort();
    assert_eq!(or, vec!["a", "c"]);
    let mut not_only = ids(&idx, &q("-copyright"));
    not_only.sort();
    assert_eq!(not_only, vec!["a", "b"]);
}

#[test]
fn snippets_mark_the_matched_words() {
    let idx = index_of(&[doc(
        "a",
        offering(
            "Caring for photographs",
            "Learn preservation of prints & negatives.",
            Some(3),
        ),
    )]);
    let res = idx.search(&q("preservation")).unwrap();
    let sn = res.hits[0].snippet.clone().unwrap();
    assert_eq!(sn.field, "summary");
    assert!(sn.html.contains("<mark>preservation</mark>"), "{}", sn.html);
    assert!(sn.html.contains("&amp;"), "{}", sn.html);
}

#[test]
fn upcoming_by_default_and_on_demand_included() {
    let idx = index_of(&[
        doc("past", offering("Old webinar", "x", Some(-3))),
        doc("soon", offering("Soon webinar", "x", Some(2))),
        doc("later", offering("Later webinar", "x", Some(30))),
        doc("ondemand", offering("Recorded webinar", "x", None)),
    ]);
    let r = SearchRequest::new(now());
    assert_eq!(ids(&idx, &r), vec!["soon", "later", "ondemand"]);
    let mut r2 = r.clone();
    r2.include_on_demand = false;
    r2.to = Some(now() + Duration::days(10));
    assert_eq!(ids(&idx, &r2), vec!["soon"]);
    let mut r3 = r.clone();
    r3.from = Some(now() - Duration::days(10));
    assert_eq!(idx.search(&r3).unwrap().total, 4);
    let mut bad = r.clone();
    bad.to = Some(now() - Duration::days(1));
    assert_eq!(idx.search(&bad).unwrap_err().code(), "invalid_query");
}

#[test]
fn a_series_sorts_by_its_next_session_in_the_window() {
    let mut series = offering("Weekly cataloging clinic", "x", Some(-14));
    let first = series.occurrences[0].clone();
    for w in 1..=4 {
        let s = first.start + Duration::weeks(w);
        series.occurrences.push(Occurrence {
            start: s,
            end: Some(s + Duration::hours(1)),
            all_day: false,
            cancelled: false,
            date_source: coalesce_core::DateSource::Structured,
            recurrence_id: None,
        });
    }
    // Sessions at -14, -7, 0, +7, +14 days; "now" is inside the 0-day session's hour? no: it
    // starts exactly now, so it is the next one.
    let idx = index_of(&[doc("s", series), doc("x", offering("Other", "x", Some(3)))]);
    let res = idx.search(&SearchRequest::new(now())).unwrap();
    assert_eq!(
        res.hits.iter().map(|h| h.id.as_str()).collect::<Vec<_>>(),
        vec!["s", "x"]
    );
    assert_eq!(
        res.hits[0].next_occurrence.as_ref().unwrap().start,
        now().fixed_offset()
    );
    assert_eq!(res.facets.month[0].value, "2026-03");
}

#[test]
fn collapse_shows_a_cluster_once() {
    let base = offering("Disaster planning for small museums", "x", Some(5));
    let mut canon = doc("c1", base.clone());
    canon.cluster_id = Some("c1".into());
    let mut copy = doc("c2", base.clone());
    copy.provider_id = "p2".into();
    copy.provider_name = "Midwest Museum Association".into();
    copy.cluster_id = Some("c1".into());
    copy.is_canonical = false;
    canon.also_offered_by.push(AlsoOfferedBy {
        offering_id: "c2".into(),
        provider_id: "p2".into(),
        provider_name: "Midwest Museum Association".into(),
        url: None,
        registration_url: None,
    });
    let idx = index_of(&[canon, copy, doc("o", offering("Other", "x", Some(5)))]);
    let res = idx.search(&q("disaster planning")).unwrap();
    assert_eq!(res.total, 1);
    assert_eq!(res.hits[0].id, "c1");
    assert_eq!(
        res.hits[0].also_offered_by[0].provider_name,
        "Midwest Museum Association"
    );
    // The co-marketer's name and id find the cluster too.
    assert_eq!(ids(&idx, &q("midwest")), vec!["c1"]);
    let mut r = SearchRequest::new(now());
    r.providers = vec!["p2".into()];
    assert_eq!(ids(&idx, &r), vec!["c1"]);
    // The non-canonical member is still stored for detail pages.
    assert!(idx.get("c2").unwrap().is_some());
}

fn catalog(n: usize) -> (CatalogIndex, Vec<IndexDoc>) {
    let docs: Vec<IndexDoc> = generate(&GenerateSpec {
        offerings: n,
        seed: 42,
        now: now(),
    })
    .collect();
    (index_of(&docs), docs)
}

#[test]
fn facet_counts_equal_the_filtered_totals() {
    // Three commits, so three segments whose facet values are numbered apart and merged.
    let docs: Vec<IndexDoc> = generate(&GenerateSpec {
        offerings: 3000,
        seed: 42,
        now: now(),
    })
    .collect();
    let idx = CatalogIndex::in_ram(config()).unwrap();
    for (i, part) in docs.chunks(1000).enumerate() {
        for d in part {
            idx.upsert(d).unwrap();
        }
        idx.commit(i as u64 + 1).unwrap();
    }
    let mut base = q("preservation OR cataloging");
    base.free = Some(true);
    let res = idx.search(&base).unwrap();
    assert!(res.total > 20, "total {}", res.total);
    for fc in &res.facets.topic {
        let mut r = base.clone();
        r.topics = vec![fc.value.clone()];
        assert_eq!(
            idx.search(&r).unwrap().total,
            fc.count,
            "topic {}",
            fc.value
        );
    }
    for fc in &res.facets.modality {
        let mut r = base.clone();
        r.modalities =
            vec![serde_json::from_value(serde_json::Value::String(fc.value.clone())).unwrap()];
        assert_eq!(
            idx.search(&r).unwrap().total,
            fc.count,
            "modality {}",
            fc.value
        );
    }
    for fc in &res.facets.sector {
        let mut r = base.clone();
        r.sectors = vec![Sector::parse(&fc.value).unwrap()];
        assert_eq!(
            idx.search(&r).unwrap().total,
            fc.count,
            "sector {}",
            fc.value
        );
    }
    for fc in res.facets.provider.iter().take(5) {
        let mut r = base.clone();
        r.providers = vec![fc.value.clone()];
        assert_eq!(
            idx.search(&r).unwrap().total,
            fc.count,
            "provider {}",
            fc.value
        );
    }
    // Months partition the dated hits.
    let mut dated = base.clone();
    dated.include_on_demand = false;
    let months: u64 = res.facets.month.iter().map(|m| m.count).sum();
    assert_eq!(idx.search(&dated).unwrap().total, months);
}

#[test]
fn cursor_paging_visits_every_hit_once_while_offerings_change() {
    let (idx, _) = catalog(1500);
    let mut r = SearchRequest::new(now());
    r.sort = Some(SortOrder::Start);
    r.limit = 37;
    // The order before any change, paged without changes.
    let mut expected: Vec<String> = Vec::new();
    let mut rr = r.clone();
    loop {
        let res = idx.search(&rr).unwrap();
        expected.extend(res.hits.iter().map(|h| h.id.clone()));
        match res.next_cursor {
            Some(c) => rr.cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(expected.len() as u64, idx.search(&r).unwrap().total);
    let mut seen: Vec<String> = Vec::new();
    let mut page = 0;
    let mut deleted: HashSet<String> = HashSet::new();
    loop {
        let res = idx.search(&r).unwrap();
        seen.extend(res.hits.iter().map(|h| h.id.clone()));
        page += 1;
        // Between pages: retitle a seen offering, delete an unseen one, add a new one that
        // sorts first (already passed, must not appear) and one far ahead (must appear).
        if let Some(h) = res.hits.first() {
            let mut d = idx.get(&h.id).unwrap().unwrap();
            d.offering.title.push_str(" (updated)");
            idx.upsert(&d).unwrap();
        }
        let unseen = expected
            .iter()
            .rev()
            .find(|id| !seen.contains(id) && !deleted.contains(*id));
        if let Some(id) = unseen {
            idx.delete(id).unwrap();
            deleted.insert(id.clone());
        }
        let mut early = offering("Early bird", "x", Some(0));
        early.occurrences[0].start = now().fixed_offset();
        idx.upsert(&doc(&format!("early-{page}"), early)).unwrap();
        idx.upsert(&doc(
            &format!("late-{page}"),
            offering("Far ahead", "x", Some(3000)),
        ))
        .unwrap();
        idx.commit(page).unwrap();
        match res.next_cursor {
            Some(c) => r.cursor = Some(c),
            None => break,
        }
    }
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "a hit was shown twice");
    assert!(!seen.iter().any(|s| s.starts_with("early-")));
    assert!(seen.iter().any(|s| s.starts_with("late-")));
    let original: Vec<&String> = seen.iter().filter(|s| s.starts_with("off-")).collect();
    let want: Vec<&String> = expected
        .iter()
        .filter(|id| !deleted.contains(*id))
        .collect();
    assert_eq!(original, want, "every unchanged hit exactly once, in order");
    assert!(!deleted.is_empty());
}

#[test]
fn tampered_or_foreign_cursor_is_rejected() {
    let (idx, _) = catalog(200);
    let mut r = SearchRequest::new(now());
    r.limit = 5;
    let c = idx.search(&r).unwrap().next_cursor.unwrap();
    let mut bytes = c.clone().into_bytes();
    bytes[20] = if bytes[20] == b'a' { b'b' } else { b'a' };
    r.cursor = Some(String::from_utf8(bytes).unwrap());
    assert_eq!(idx.search(&r).unwrap_err().code(), "invalid_cursor");
    r.cursor = Some("garbage".into());
    assert_eq!(idx.search(&r).unwrap_err().code(), "invalid_cursor");
    let mut other = q("preservation");
    other.cursor = Some(c);
    assert_eq!(idx.search(&other).unwrap_err().code(), "invalid_cursor");
}

#[test]
fn limit_is_clamped() {
    let (idx, _) = catalog(400);
    let mut r = SearchRequest::new(now());
    r.limit = 1_000_000;
    assert_eq!(idx.search(&r).unwrap().hits.len(), 100);
}

#[test]
fn deep_query_is_a_clean_error_on_a_small_stack() {
    let idx = std::sync::Arc::new(index_of(&[doc("a", offering("a", "x", Some(1)))]));
    let handle = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let mut codes = Vec::new();
            for text in [
                format!("{}a{}", "(".repeat(5000), ")".repeat(5000)),
                format!("{}a{}", "(".repeat(100), ")".repeat(100)),
                "a~2 ".repeat(1000),
                "title:/.*/".to_string(),
                "\"a b\"~4294967295".to_string(),
                "*".to_string(),
                "\u{0}\u{0}".to_string(),
            ] {
                codes.push(
                    idx.search(&q(&text))
                        .map(|_| "ok")
                        .unwrap_or_else(|e| e.code()),
                );
            }
            codes
        })
        .unwrap();
    let codes = handle.join().unwrap();
    assert_eq!(
        codes,
        vec![
            "invalid_query",
            "invalid_query",
            "invalid_query",
            "ok",
            "ok",
            "ok",
            "ok"
        ]
    );
}

#[test]
fn sync_applies_events_and_keeps_the_watermark_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("index");
    let docs = vec![
        doc("a", offering("Alpha", "x", Some(1))),
        doc("b", offering("Beta", "x", Some(2))),
    ];
    let (idx, opened) =
        CatalogIndex::open_or_rebuild(&path, config(), || Ok((docs.clone(), 10))).unwrap();
    assert_eq!(
        opened,
        Opened::Rebuilt {
            documents: 2,
            reason: RebuildReason::Missing
        }
    );
    // A second writer on the same directory is refused, not corrupting.
    assert_eq!(
        CatalogIndex::open(&path, config()).unwrap_err().code(),
        "index_locked"
    );
    idx.apply(&ChangeBatch {
        events: vec![
            ChangeEvent::Delete { id: "a".into() },
            ChangeEvent::Upsert(Box::new(doc("c", offering("Gamma", "x", Some(3))))),
        ],
        watermark: 12,
    })
    .unwrap();
    drop(idx);
    let (idx, opened) =
        CatalogIndex::open_or_rebuild(&path, config(), || -> Result<(Vec<IndexDoc>, u64), _> {
            panic!("must not rebuild")
        })
        .unwrap();
    assert_eq!(opened, Opened::Existing { watermark: 12 });
    assert_eq!(ids(&idx, &SearchRequest::new(now())), vec!["b", "c"]);
    drop(idx);
    // Damage: a segment file truncated. The next start rebuilds from the store.
    for e in std::fs::read_dir(&path).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "store" || x == "fast") {
            std::fs::write(&p, b"junk").unwrap();
        }
    }
    let (idx, opened) =
        CatalogIndex::open_or_rebuild(&path, config(), || Ok((docs.clone(), 20))).unwrap();
    assert_eq!(
        opened,
        Opened::Rebuilt {
            documents: 2,
            reason: RebuildReason::Damaged
        }
    );
    assert_eq!(idx.watermark().unwrap(), Some(20));
}

/// Synonym phrases are marked in the text at index time: an index marked for other phrases
/// would silently miss them, so it is rebuilt like one of another schema version.
#[test]
fn an_index_marked_for_other_synonym_phrases_is_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("index");
    let docs = vec![doc(
        "ce",
        offering("Continuing education for archivists", "x", Some(3)),
    )];
    let unmarked =
        IndexConfig::new(b"test-cursor-key-0123456789".to_vec(), Synonyms::new(&[])).unwrap();
    let (idx, _) =
        CatalogIndex::open_or_rebuild(&path, unmarked, || Ok((docs.clone(), 1))).unwrap();
    assert!(ids(&idx, &q("professional development")).is_empty());
    drop(idx);
    let (idx, opened) =
        CatalogIndex::open_or_rebuild(&path, config(), || Ok((docs.clone(), 1))).unwrap();
    assert_eq!(
        opened,
        Opened::Rebuilt {
            documents: 1,
            reason: RebuildReason::SchemaChanged
        }
    );
    assert_eq!(ids(&idx, &q("professional development")), vec!["ce"]);
    assert_eq!(ids(&idx, &q("\"continuing education\"")), vec!["ce"]);
}

/// The window is pre-filtered per segment from cached bitsets that follow `from` and `to`
/// forward and back: totals must match a count over the documents either way.
#[test]
fn the_window_follows_the_clock_forward_and_back() {
    let (idx, docs) = catalog(3000);
    let minutes = |t: DateTime<chrono::FixedOffset>| t.timestamp().div_euclid(60);
    let expected = |from: DateTime<Utc>, to: Option<DateTime<Utc>>, on_demand: bool| {
        let from = from.timestamp().div_euclid(60);
        let to = to.map_or(i64::MAX, |t| t.timestamp().div_euclid(60));
        docs.iter()
            .filter(|d| d.is_canonical)
            .filter(|d| {
                let live: Vec<_> = d
                    .offering
                    .occurrences
                    .iter()
                    .filter(|o| !o.cancelled)
                    .collect();
                if live.is_empty() {
                    return on_demand;
                }
                live.iter().any(|o| {
                    let s = minutes(o.start);
                    o.end.map_or(s, |e| minutes(e).max(s)) >= from && s < to
                })
            })
            .count() as u64
    };
    // `to` as days after `now`: moving forward, back, and away.
    for (days, to_days, on_demand) in [
        (0, None, true),
        (1, Some(30), true),
        (1, Some(31), true),
        (45, Some(60), false),
        (45, None, true),
        (-20, Some(10), true),
        (3, Some(400), false),
        (3, Some(4), false),
        (400, Some(800), true),
    ] {
        let at = now() + Duration::days(days) + Duration::minutes(7 * days);
        let to = to_days.map(|t: i64| now() + Duration::days(t) + Duration::minutes(3 * t));
        let mut r = SearchRequest::new(at);
        r.include_on_demand = on_demand;
        r.to = to;
        let want = expected(at, to, on_demand);
        assert!(
            want > 0 || days == 400,
            "the catalog covers the window {at}..{to:?}"
        );
        assert_eq!(
            idx.search(&r).unwrap().total,
            want,
            "now {at}, to {to:?}, on demand {on_demand}"
        );
    }
}

/// Every hit of `r`, page by page.
fn all_ids(idx: &CatalogIndex, r: &SearchRequest) -> HashSet<String> {
    let mut r = r.clone();
    r.limit = 100;
    let mut out = HashSet::new();
    loop {
        let res = idx.search(&r).unwrap();
        out.extend(res.hits.into_iter().map(|h| h.id));
        match res.next_cursor {
            Some(c) => r.cursor = Some(c),
            None => return out,
        }
    }
}

/// A top-level exclusion is taken out of the filter bits when that is cheaper, and probed per
/// candidate otherwise (a narrow filter under a broad excluded word): both give "A minus B".
#[test]
fn exclusions_leave_out_the_same_documents_either_way() {
    let (idx, docs) = catalog(3000);
    let narrow = docs[0].provider_id.clone();
    for (text, excluded, provider) in [
        ("preservation -digital", "digital", None),
        ("preservation -digital", "digital", Some(narrow.clone())),
        ("-digital", "digital", None),
        ("-digital", "digital", Some(narrow.clone())),
        (
            "workshop -\"grant writing\" -copyright",
            "\"grant writing\" OR copyright",
            None,
        ),
    ] {
        let mut r = q(text);
        let mut base = SearchRequest::new(now());
        base.q = text
            .split_whitespace()
            .find(|w| !w.starts_with('-') && !w.ends_with('"'))
            .map(str::to_string);
        let mut minus = q(excluded);
        if let Some(p) = &provider {
            r.providers = vec![p.clone()];
            base.providers = vec![p.clone()];
            minus.providers = vec![p.clone()];
        }
        let got = all_ids(&idx, &r);
        let expected: HashSet<String> = all_ids(&idx, &base)
            .difference(&all_ids(&idx, &minus))
            .cloned()
            .collect();
        assert!(!expected.is_empty(), "{text}: nothing left to compare");
        assert_eq!(got, expected, "{text} (provider {provider:?})");
        assert_eq!(idx.search(&r).unwrap().total, expected.len() as u64);
    }
}
