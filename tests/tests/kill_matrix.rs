//! HOSTILE E6, point by point: the process dies at each step between a fetch's store commit,
//! the change log, the duplicate clusters and the search index's commit, and a restart must
//! lose nothing the store committed and bring store, clusters and index back into agreement.
//!
//! The crash points are the store's and the index's failpoints (`coalesce_store::
//! arm_failpoints`), compiled into the test build of the binary; reaching an armed one aborts
//! the process at once, as a power cut would: no drain, no last commit, no destructors.
//!
//! Each case: three providers' fixture sources (one webinar co-marketed by two of them) are
//! registered on a fresh data folder; `serve` starts with one point armed and crawls until it
//! dies there. What the store holds is read from the dead folder; then the sites break (every
//! fetch answers 500, so the restart cannot make up for anything lost) and `serve` restarts.
//! It must keep every offering the store had, and its search index must show exactly the
//! store's offerings, one per duplicate cluster.
#![cfg(unix)]
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use coalesce_tests::{ADMIN, Server, Sites, binary, free_port, repo_root};

const SOURCES: &[(&str, &str)] = &[
    ("mpla", "/library-association/events.xml"),
    ("statelib", "/state-library/learning.atom"),
    ("saa", "/archivists-society/calendar.ics"),
];

fn env(sites: &Sites) -> Vec<(&'static str, String)> {
    vec![
        ("COALESCE_CRAWL__ALLOW", format!("[\"{}\"]", sites.addr)),
        ("COALESCE_CRAWL__TICK_SECS", "1".into()),
        ("COALESCE_INDEX__SYNC_INTERVAL_MS", "200".into()),
    ]
}

/// `coalesce` run to completion on `data`; its stdout.
fn cli(data: &Path, args: &[&str], allow: &str) -> String {
    let out = Command::new(binary())
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .env("COALESCE_CRAWL__ALLOW", format!("[\"{allow}\"]"))
        .env("RUST_LOG", "warn")
        .current_dir(repo_root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "coalesce {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Ids of the store's live offerings: every one (`cluster` false) or one per duplicate cluster.
fn stored(data: &Path, cluster: bool) -> BTreeSet<String> {
    let mut args = vec!["offerings", "list", "--json"];
    if cluster {
        args.push("--cluster");
    }
    cli(data, &args, "127.0.0.1:1")
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let o = if cluster { &v["offering"] } else { &v };
            o["id"].as_str().unwrap().to_owned()
        })
        .collect()
}

/// Ids the search index serves, past and undated ones included (`None` while it opens).
fn indexed(s: &Server) -> Option<BTreeSet<String>> {
    let (st, v) = s.json(
        "GET",
        "/api/v1/offerings?from=2000-01-01&limit=100",
        None,
        None,
    );
    (st == 200).then(|| {
        v["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["id"].as_str().unwrap().to_owned())
            .collect()
    })
}

/// Registers the three sources on a fresh data folder, then runs `serve` with `point` armed
/// until it aborts there. Returns the data folder of the dead process.
fn die_at(sites: &Sites, point: &str) -> tempfile::TempDir {
    let data = tempfile::tempdir().unwrap();
    for (provider, path) in SOURCES {
        let url = format!("http://{}{path}", sites.addr);
        cli(
            data.path(),
            &["sources", "add", &url, "--provider", provider],
            &sites.addr.to_string(),
        );
    }
    let mut cmd = Command::new(binary());
    cmd.arg("serve")
        .arg("--config")
        .arg(repo_root().join("config/coalesce.toml"))
        .env("COALESCE_ADMIN_TOKEN", ADMIN)
        .env(
            "COALESCE_SERVER__LISTEN",
            format!("127.0.0.1:{}", free_port()),
        )
        .env("COALESCE_DATA__DIR", data.path())
        .env("COALESCE_CRAWL__RESPECT_ROBOTS", "false")
        .env("FAIL_POINTS", point)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env(sites) {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(90);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "serve never reached the failpoint {point} (is the binary built with the \
                 failpoints feature? `cargo test --workspace` builds it so)"
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut stderr);
    }
    assert_eq!(
        status.signal(),
        Some(6),
        "serve should have aborted at {point}, it ended with {status}: {stderr}"
    );
    data
}

/// After a restart on `data` with every site broken: nothing the store had is gone, and the
/// index converges on the store's clusters.
fn restart_agrees(sites: &Sites, data: tempfile::TempDir, point: &str) -> usize {
    let before = stored(data.path(), false);
    if let Ok(mut f) = sites.failing.lock() {
        f.extend(SOURCES.iter().map(|(_, p)| (*p).to_owned()));
    }
    let s = Server::start_in(data, &env(sites));
    let data_dir = s.data_dir().to_path_buf();
    let mut last = (BTreeSet::new(), None);
    let agreed = s.wait_until(60, || {
        let clusters = stored(&data_dir, true);
        let index = indexed(&s);
        let same = index.as_ref() == Some(&clusters);
        last = (clusters, index);
        same
    });
    assert!(
        agreed,
        "after dying at {point}, the index does not show the store's clusters: \
         (store, index) = {last:?}"
    );
    let after = stored(&data_dir, false);
    assert!(
        before.is_subset(&after),
        "offerings committed before dying at {point} are gone after the restart: {:?}",
        before.difference(&after).collect::<Vec<_>>()
    );
    // Broken fetches remove nothing, so nothing new appeared either.
    assert_eq!(before, after, "at {point}");
    if let Ok(mut f) = sites.failing.lock() {
        f.clear();
    }
    after.len()
}

#[test]
fn a_crash_at_any_step_between_store_and_index_loses_nothing_and_they_agree_after_restart() {
    let sites = Sites::start();
    // Index points: the first commit is the fresh index's own (before any crawl), so skip it.
    let cases: &[(&str, bool)] = &[
        ("store.apply.before_commit=return", false),
        ("store.apply.after_commit=return", true),
        ("store.clusters.before_commit=return", true),
        ("store.clusters.after_commit=return", true),
        ("index.commit.before=1*off->return", true),
        ("index.commit.after=1*off->return", true),
    ];
    for (point, committed) in cases {
        let data = die_at(&sites, point);
        let kept = restart_agrees(&sites, data, point);
        // Past the store's commit, the dead process had stored a whole fetch: it is kept.
        if *committed {
            assert!(kept > 0, "nothing was stored before dying at {point}");
        }
    }
}
