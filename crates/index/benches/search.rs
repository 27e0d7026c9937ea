//! Index build and search benchmark at catalog scale (release: `cargo bench -p coalesce-index`).
//!
//! `COALESCE_BENCH_N` (default 100000) generated offerings; `COALESCE_BENCH_DIR` (default
//! target/bench-index) holds the indexes; `COALESCE_BENCH_PHASE=build|search|all`.
//! - build: our `CatalogIndex::rebuild` vs raw tantivy (`add_document` of the same documents,
//!   already converted), same schema, writer budget and threads; also writes `fts.jsonl` for
//!   the SQLite FTS5 comparison (`benches/fts5.py`).
//! - search: opens the built index in a fresh process (so resident memory is a serving
//!   process's), runs typical queries with two filters and facets, prints p50/p99 and RSS.
//!   `COALESCE_BENCH_QUERIES` (default 2000) timed queries after 200 warm-up queries; fewer
//!   make a profile under valgrind affordable.

// A benchmark harness: any failure should stop it loudly.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use chrono::{TimeZone, Utc};
use coalesce_core::{Modality, Sector, Vocabulary};
use coalesce_index::generate::{GenerateSpec, Rng, generate};
use coalesce_index::schema::build_schema;
use coalesce_index::{CatalogIndex, CreditsFilter, IndexConfig, SearchRequest, Synonyms};

fn config() -> IndexConfig {
    let mut c = IndexConfig::new(
        b"bench-cursor-key-0123456789".to_vec(),
        Synonyms::from_vocabulary(&Vocabulary::builtin()),
    )
    .unwrap();
    c.writer_threads = 2;
    c.writer_memory_bytes = 400 << 20;
    c.deadline = std::time::Duration::from_secs(10);
    // `COALESCE_BENCH_SEARCH_THREADS`: threads per search (default: two per core, up to 8).
    if let Some(n) = std::env::var("COALESCE_BENCH_SEARCH_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        c.search_threads = n;
    }
    c
}

fn rss() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .filter(|l| l.starts_with("VmRSS") || l.starts_with("VmHWM"))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join(", ")
}

fn main() {
    let n: usize = std::env::var("COALESCE_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = PathBuf::from(std::env::var("COALESCE_BENCH_DIR").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/bench-index").into()
    }));
    let phase = std::env::var("COALESCE_BENCH_PHASE").unwrap_or_else(|_| "all".into());
    let now = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
    std::fs::create_dir_all(&dir).unwrap();
    let ours = dir.join(format!("ours-{n}"));
    if phase == "build" || phase == "all" {
        build(n, now, &dir, &ours);
    }
    if phase == "search" || phase == "all" {
        search(&ours, now);
    }
}

fn build(n: usize, now: chrono::DateTime<Utc>, dir: &std::path::Path, ours: &std::path::Path) {
    let t = Instant::now();
    let docs: Vec<_> = generate(&GenerateSpec {
        offerings: n,
        seed: 1,
        now,
    })
    .collect();
    println!(
        "generated {n} offerings in {:.1}s",
        t.elapsed().as_secs_f64()
    );

    // FTS5 input: the same documents, flattened.
    let mut out =
        std::io::BufWriter::new(std::fs::File::create(dir.join(format!("fts-{n}.jsonl"))).unwrap());
    for d in &docs {
        let o = &d.offering;
        let line = serde_json::json!({
            "id": d.id, "listed": d.is_canonical, "title": o.title, "summary": o.summary,
            "description": o.description_html.as_deref().map(coalesce_index::doc::html_to_text),
            "provider": d.provider_id, "provider_name": d.provider_name,
            "topics": o.topics, "sectors": o.sectors, "modality": o.modality,
            "free": o.cost.free, "credits": !o.credits.is_empty(),
            "starts": o.occurrences.iter().filter(|x| !x.cancelled).map(|x| x.start.timestamp()).collect::<Vec<_>>(),
            "ends": o.occurrences.iter().filter(|x| !x.cancelled).map(|x| x.end.unwrap_or(x.start).timestamp()).collect::<Vec<_>>(),
        });
        serde_json::to_writer(&mut out, &line).unwrap();
        out.write_all(b"\n").unwrap();
    }
    out.flush().unwrap();

    // Raw tantivy: the same documents already converted; only tantivy's work is timed.
    let raw_dir = dir.join(format!("raw-{n}"));
    let _ = std::fs::remove_dir_all(&raw_dir);
    std::fs::create_dir_all(&raw_dir).unwrap();
    let scratch = CatalogIndex::in_ram(config()).unwrap();
    let tdocs: Vec<_> = docs
        .iter()
        .map(|d| scratch.tantivy_document(d).unwrap())
        .collect();
    drop(scratch);
    let c = config();
    let t = Instant::now();
    {
        let index = tantivy::Index::create_in_dir(&raw_dir, build_schema()).unwrap();
        CatalogIndex::register_analyzers(&index, &c);
        let mut w: tantivy::IndexWriter = index
            .writer_with_num_threads(c.writer_threads, c.writer_memory_bytes)
            .unwrap();
        for d in tdocs {
            w.add_document(d).unwrap();
        }
        w.commit().unwrap();
        w.wait_merging_threads().unwrap();
    }
    let raw = t.elapsed().as_secs_f64();
    println!("raw tantivy build: {raw:.1}s");

    let t = Instant::now();
    let (idx, count) = CatalogIndex::rebuild(ours, config(), docs, 1).unwrap();
    let mine = t.elapsed().as_secs_f64();
    println!(
        "coalesce-index build: {mine:.1}s for {count} documents ({:.0} docs/s), ratio to raw {:.2}x",
        count as f64 / mine,
        mine / raw
    );
    drop(idx);
    let size: u64 = std::fs::read_dir(ours)
        .unwrap()
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();
    println!("index size: {:.0} MiB", size as f64 / (1 << 20) as f64);
}

fn search(ours: &std::path::Path, now: chrono::DateTime<Utc>) {
    println!("before open: {}", rss());
    let t = Instant::now();
    let idx = CatalogIndex::open(ours, config()).unwrap();
    println!(
        "opened {} docs in {:.2}s; {}",
        idx.num_docs(),
        t.elapsed().as_secs_f64(),
        rss()
    );
    let words = [
        "preservation",
        "digital collections",
        "grant writing",
        "cataloging",
        "copyright",
        "disaster planning",
        "leadership",
        "storytime",
        "accessibility",
        "metadata",
        "volunteer management",
        "project management",
        "presevation",
        "professional development",
        "fair use",
        "\"collections care\"",
        "records -retention",
        "oral history OR exhibits",
    ];
    // `COALESCE_BENCH_TEXT` replaces the mix's texts with one (filters still vary): for a
    // profile of one query.
    let only = std::env::var("COALESCE_BENCH_TEXT").ok();
    // `COALESCE_BENCH_LIMIT`: hits per page (default 20), to tell page rendering from matching.
    let limit: usize = std::env::var("COALESCE_BENCH_LIMIT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let mut rng = Rng::new(9);
    let make = |rng: &mut Rng| {
        let mut r = SearchRequest::new(now);
        r.limit = limit;
        if let Some(t) = &only {
            r.q = Some(t.clone()).filter(|t| !t.is_empty());
        } else if rng.below(5) > 0 {
            r.q = Some(rng.pick(&words).to_string());
        }
        // Two filters, as a learner narrows a search.
        match rng.below(4) {
            0 => {
                r.modalities = vec![Modality::Online];
                r.free = Some(true);
            }
            1 => {
                r.sectors = vec![Sector::Museums];
                r.credits = Some(CreditsFilter::Any);
            }
            2 => {
                r.topics = vec!["preservation".into()];
                r.modalities = vec![Modality::Online];
            }
            _ => {
                r.sectors = vec![Sector::Libraries];
                r.to = Some(now + chrono::Duration::days(60));
            }
        }
        r
    };
    for _ in 0..200 {
        let r = make(&mut rng);
        idx.search(&r).unwrap();
    }
    let queries: usize = std::env::var("COALESCE_BENCH_QUERIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000)
        .max(1);
    let mut times = Vec::new();
    let mut text_times = Vec::new();
    let mut bare_times = Vec::new();
    let mut totals = 0u64;
    let mut by_text: std::collections::BTreeMap<String, (Vec<f64>, u64)> = Default::default();
    let t = Instant::now();
    for _ in 0..queries {
        let r = make(&mut rng);
        let s = Instant::now();
        let res = idx.search(&r).unwrap();
        let ms = s.elapsed().as_secs_f64() * 1000.0;
        times.push(ms);
        let slot = by_text
            .entry(r.q.clone().unwrap_or_else(|| "(no text)".into()))
            .or_default();
        slot.0.push(ms);
        slot.1 += res.total;
        if r.q.is_some() {
            text_times.push(ms);
        } else {
            bare_times.push(ms);
        }
        totals += res.total;
    }
    let wall = t.elapsed().as_secs_f64();
    let median = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        v.get(v.len() / 2).copied().unwrap_or(0.0)
    };
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let pct = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
    println!(
        "search ({queries} queries, two filters + facets, 80% with text): p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms, {:.0} q/s single thread, mean total {}",
        pct(0.5),
        pct(0.9),
        pct(0.99),
        times[times.len() - 1],
        queries as f64 / wall,
        totals / queries as u64
    );
    println!(
        "  p50 with text {:.2} ms ({} queries), without text {:.2} ms ({} queries)",
        median(&mut text_times),
        text_times.len(),
        median(&mut bare_times),
        bare_times.len()
    );
    if std::env::var_os("COALESCE_BENCH_VERBOSE").is_some() {
        for (text, (mut v, total)) in by_text {
            let n = v.len() as u64;
            println!(
                "  {text:<28} p50 {:>7.2} ms  mean total {:>7}  ({n} queries)",
                median(&mut v),
                total / n.max(1)
            );
        }
    }
    println!(
        "search tables: {:.0} MiB; after searches: {}",
        idx.search_table_bytes() as f64 / (1 << 20) as f64,
        rss()
    );
}
