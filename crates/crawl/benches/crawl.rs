//! The crawl benchmark of issue 4 (a bench command, not a timed test):
//! `cargo bench -p coalesce-crawl --bench crawl`.
//!
//! 2,000 feeds over 50 loopback hosts (listeners on 127.0.0.2 ... 127.0.0.51), each answer
//! delayed 50 ms, politeness on (one request at a time per host, a pause between two).
//! With J jobs over H hosts (n = J/H each), latency L, per-host pause D and global limit C,
//! no schedule can finish sooner than
//!     bound = max(n*L + (n-1)*D, ceil(J/C)*L)
//! (the busiest host's serial chain, or the global pipe). Then resident memory with 10,000
//! sources queued at once.
//!
//! Measured on the 2-core dev machine (release): C=32, D=100 ms: 6.12 s vs bound 5.90 s
//! (1.04x, per-host bound); C=8: 13.04 s vs 12.50 s (1.04x, global bound); 10,000 sources:
//! 1.60 s, peak RSS 41.5 MiB for the whole process including the 50 fixture servers.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use coalesce_crawl::{Fetcher, HostGate, Job, Validators, fetch_all};
use support::*;

const FEED: &str = "<rss version=\"2.0\"><channel><title>bench</title><item><title>a</title><guid>1</guid></item></channel></rss>";

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(bench());
}

async fn hosts(n: usize, latency: Duration) -> Vec<Fixture> {
    let mut out = Vec::new();
    for i in 0..n {
        let ip = format!("127.0.0.{}", i + 2);
        out.push(
            Fixture::start_on(&ip, move |_| Reply::Delayed(latency, Box::new(ok(FEED)))).await,
        );
    }
    out
}

async fn crawl(
    fixtures: &[Fixture],
    jobs: usize,
    concurrency: usize,
    pause: Duration,
) -> (Duration, usize, usize) {
    let allow: Vec<String> = fixtures.iter().map(Fixture::authority).collect();
    let mut c = config(&allow);
    c.deadline = Duration::from_secs(60);
    let (filter, _) = loopback_only();
    let fetcher = Arc::new(
        Fetcher::with_resolver(c, Arc::new(FakeResolver::default()), Some(filter)).unwrap(),
    );
    let gate = Arc::new(HostGate::new(concurrency, pause));
    let jobs: Vec<Job> = (0..jobs)
        .map(|i| Job {
            id: i.to_string(),
            url: fixtures[i % fixtures.len()].url(&format!("/feed/{i}")),
            validators: Validators::default(),
        })
        .collect();
    let started = Instant::now();
    let mut rx = fetch_all(fetcher, gate, jobs, now());
    let (mut ok, mut failed) = (0, 0);
    while let Some(done) = rx.recv().await {
        match done.result {
            Ok(_) => ok += 1,
            Err(e) => {
                failed += 1;
                if failed < 5 {
                    println!("  failure: {} {e}", e.code());
                }
            }
        }
    }
    (started.elapsed(), ok, failed)
}

fn vm_hwm_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

async fn bench() {
    let (jobs, hosts_n, latency, pause) = (
        2000usize,
        50usize,
        Duration::from_millis(50),
        Duration::from_millis(100),
    );
    let fixtures = hosts(hosts_n, latency).await;
    for concurrency in [32usize, 8] {
        let n = jobs.div_ceil(hosts_n) as u32;
        let per_host = latency * n + pause * (n - 1);
        let global = latency * jobs.div_ceil(concurrency) as u32;
        let bound = per_host.max(global);
        let (took, ok, failed) = crawl(&fixtures, jobs, concurrency, pause).await;
        println!(
            "{jobs} feeds / {hosts_n} hosts, latency {latency:?}, pause {pause:?}, concurrency {concurrency}: \
             {took:.2?} (bound {bound:.2?} = max(per-host {per_host:.2?}, global {global:.2?}); ratio {:.3}); ok {ok}, failed {failed}",
            took.as_secs_f64() / bound.as_secs_f64()
        );
    }
    println!("peak rss after 2,000-feed runs: {:.1} MiB", vm_hwm_mib());

    let fast = hosts(hosts_n, Duration::from_millis(1)).await;
    let (took, ok, failed) = crawl(&fast, 10_000, 64, Duration::ZERO).await;
    println!(
        "10,000 sources queued at once (50 hosts, 1 ms latency, no pause, concurrency 64): {took:.2?}, ok {ok}, failed {failed}; \
         peak rss {:.1} MiB (process, fixture servers included)",
        vm_hwm_mib()
    );
}
