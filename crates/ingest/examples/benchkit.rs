//! Writes the benchmark corpus to disk and times our parser on it, for `bench/compare.py`.
//!
//! `benchkit write DIR` writes rss.xml, atom.xml, events.ics and events.html;
//! `benchkit time DIR ROUNDS` parses each ROUNDS times in-process and prints one JSON line per
//! file with the median seconds per parse and the number of items (offerings or occurrences).
//! `benchkit time DIR ROUNDS FILE...` times only the files named, e.g. one feed under callgrind.

use std::path::Path;
use std::time::Instant;

use chrono::{TimeZone, Utc};
use coalesce_ingest::{ParseHints, Window, parse};

#[path = "../benches/corpus.rs"]
mod corpus;

/// The allocator the `coalesce` binary runs with, so the figures are the service's.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("write") => {
            let dir = Path::new(args.get(2).ok_or("usage: benchkit write DIR")?);
            std::fs::create_dir_all(dir)?;
            std::fs::write(dir.join("rss.xml"), corpus::rss(5_000))?;
            std::fs::write(dir.join("atom.xml"), corpus::atom(5_000))?;
            std::fs::write(dir.join("events.ics"), corpus::ics(5_000))?;
            std::fs::write(dir.join("events.html"), corpus::html(1_000))?;
            Ok(())
        }
        Some("time") => {
            let dir = Path::new(args.get(2).ok_or("usage: benchkit time DIR ROUNDS")?);
            let rounds: usize = args.get(3).map(|r| r.parse()).transpose()?.unwrap_or(5);
            let now = Utc
                .with_ymd_and_hms(2026, 11, 21, 12, 0, 0)
                .single()
                .ok_or("bad now")?;
            let mut hints = ParseHints::new(now);
            hints.window = Window {
                from: now,
                to: now + chrono::Duration::days(730),
            };
            // Measure every item, as the Python peers do, not just the default 2,000.
            hints.limits.max_items = usize::MAX;
            let all = ["rss.xml", "atom.xml", "events.ics", "events.html"];
            let only: Vec<&str> = args.iter().skip(4).map(String::as_str).collect();
            for name in all
                .into_iter()
                .filter(|n| only.is_empty() || only.contains(n))
            {
                let bytes = std::fs::read(dir.join(name))?;
                let mut times = Vec::with_capacity(rounds);
                let mut items = 0;
                for _ in 0..rounds {
                    let t = Instant::now();
                    let parsed = parse(&bytes, &hints)?;
                    times.push(t.elapsed().as_secs_f64());
                    items = if name.ends_with(".ics") {
                        parsed.offerings.iter().map(|o| o.occurrences.len()).sum()
                    } else {
                        parsed.offerings.len()
                    };
                }
                times.sort_by(f64::total_cmp);
                println!(
                    "{{\"file\":\"{name}\",\"bytes\":{},\"items\":{items},\"median_s\":{}}}",
                    bytes.len(),
                    times[times.len() / 2]
                );
            }
            Ok(())
        }
        _ => Err("usage: benchkit write DIR | benchkit time DIR ROUNDS [FILE...]".into()),
    }
}
