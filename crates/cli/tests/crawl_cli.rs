//! `coalesce sources add` and `coalesce crawl --once` as a new user runs them: the real binary,
//! the demo sites served by a small fixture server on 127.0.0.1 (allow-listed in the config
//! file), a temp data folder and a fixed `--now`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use coalesce_core::demo_sites::fill_dates as render;

const NOW: &str = "2026-11-21T12:00:00Z";

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
}

const SITES: [(&str, &str); 6] = [
    ("library-association", "events.xml"),
    ("archivists-society", "calendar.ics"),
    ("museum-alliance", "events.html"),
    ("state-library", "learning.atom"),
    ("consortium", "calendar.ics"),
    ("ischool", "courses.html"),
];

fn sites_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/sites")
}

/// Serves `/<site>/<file>` with a strong ETag and honours `If-None-Match`, like a well-behaved
/// CMS; anything else is a 404 (robots.txt included: no restrictions).
struct Server {
    addr: String,
    not_modified: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<String>>>,
}

fn serve() -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let not_modified = Arc::new(AtomicUsize::new(0));
    let requests = Arc::new(Mutex::new(Vec::new()));
    let (nm, log) = (Arc::clone(&not_modified), Arc::clone(&requests));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (nm, log) = (Arc::clone(&nm), Arc::clone(&log));
            std::thread::spawn(move || answer(stream, &nm, &log));
        }
    });
    Server {
        addr,
        not_modified,
        requests,
    }
}

fn answer(stream: TcpStream, not_modified: &AtomicUsize, log: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut first = String::new();
    reader.read_line(&mut first).unwrap();
    let path = first.split(' ').nth(1).unwrap_or("/").to_owned();
    let mut inm = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((k, v)) = line.split_once(':')
            && k.eq_ignore_ascii_case("if-none-match")
        {
            inm = Some(v.trim().to_owned());
        }
    }
    log.lock().unwrap().push(path.clone());
    let mut stream = stream;
    let file = sites_dir().join(path.trim_start_matches('/'));
    let known = SITES.iter().any(|(site, f)| path == format!("/{site}/{f}"));
    let Some(body) = known.then(|| std::fs::read_to_string(&file).ok()).flatten() else {
        let _ = stream.write_all(
            b"HTTP/1.1 404 Not Found\r\ncontent-length: 9\r\nconnection: close\r\n\r\nnot found",
        );
        return;
    };
    let body = render(&body, today());
    let etag = format!(
        "\"{:x}\"",
        body.len() * 31 + body.bytes().map(usize::from).sum::<usize>()
    );
    if inm.as_deref() == Some(etag.as_str()) {
        not_modified.fetch_add(1, Ordering::SeqCst);
        let _ = write!(
            stream,
            "HTTP/1.1 304 Not Modified\r\netag: {etag}\r\nconnection: close\r\n\r\n"
        );
        return;
    }
    let ctype = match file.extension().and_then(|e| e.to_str()) {
        Some("xml") => "application/rss+xml",
        Some("atom") => "application/atom+xml",
        Some("ics") => "text/calendar; charset=utf-8",
        _ => "text/html; charset=utf-8",
    };
    let _ = write!(
        stream,
        "HTTP/1.1 200 OK\r\ncontent-type: {ctype}\r\netag: {etag}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
}

fn coalesce(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_coalesce"))
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .env_remove("COALESCE_DATA__DIR")
        .env_remove("COALESCE_CONFIG")
        .output()
        .expect("run coalesce")
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn config(dir: &Path, allow: &str) -> String {
    let p = dir.join("coalesce.toml");
    // One file for every command: `serve` reads [server], the crawl [crawl].
    std::fs::write(
        &p,
        format!(
            "[crawl]\ncontact_url = \"https://coalesce.example/about\"\nallow = [\"{allow}\"]\n\
             per_host_delay_ms = 0\ntimeout_secs = 10\n\n[server]\nlisten = \"127.0.0.1:0\"\n"
        ),
    )
    .unwrap();
    p.display().to_string()
}

#[test]
fn crawl_once_over_the_demo_sites_then_a_second_run_is_answered_by_304s() {
    let server = serve();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let cfg = config(dir.path(), &server.addr);
    for (site, file) in SITES {
        let url = format!("http://{}/{site}/{file}", server.addr);
        let out = stdout(&coalesce(
            &data,
            &["sources", "add", &url, "--provider", site, "--config", &cfg],
        ));
        assert!(out.starts_with("source "), "{out}");
    }
    let missing = format!("http://{}/gone/feed.xml", server.addr);
    stdout(&coalesce(
        &data,
        &[
            "sources",
            "add",
            &missing,
            "--provider",
            "gone",
            "--config",
            &cfg,
        ],
    ));

    // A source failed: the summary still prints, the exit status is 2 and the source is named.
    let run = coalesce(&data, &["crawl", "--once", "--config", &cfg, "--now", NOW]);
    assert_eq!(
        run.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        err.contains("failed: gone/") && err.contains("http_status"),
        "{err}"
    );
    let first = String::from_utf8_lossy(&run.stdout).into_owned();
    assert!(
        first.starts_with(
            "crawled 7 source(s): 6 fetched, 0 not modified (304), 0 unchanged (same bytes), 1 failed"
        ),
        "{first}"
    );
    assert!(first.contains("failed by code: http_status 1"), "{first}");
    let new: usize = first
        .lines()
        .find_map(|l| l.strip_prefix("offerings: "))
        .and_then(|l| l.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("offerings line");
    assert!(new >= 15, "{first}");
    assert!(
        first.contains("duplicate clusters:"),
        "co-marketed offerings cluster: {first}"
    );

    let listed = stdout(&coalesce(&data, &["offerings", "list"]));
    assert_eq!(listed.lines().count(), new);

    let second = coalesce(
        &data,
        &[
            "crawl",
            "--once",
            "--config",
            &cfg,
            "--now",
            "2026-11-21T13:00:00Z",
            "--json",
        ],
    );
    assert_eq!(second.status.code(), Some(2), "the gone source still fails");
    let second = String::from_utf8_lossy(&second.stdout).into_owned();
    let summary: serde_json::Value = serde_json::from_str(&second).unwrap();
    assert_eq!(summary["not_modified"], 6, "{second}");
    assert_eq!(summary["fetched"], 0);
    assert_eq!(summary["failed"]["http_status"], 1);
    assert_eq!(summary["offerings"]["removed"], 0);
    assert_eq!(server.not_modified.load(Ordering::SeqCst), 6);

    // Nothing is due an hour later without --once (the interval is an hour ± jitter, and the
    // failed source backs off): a due-only run may pick a few, never more than it should.
    let due = stdout(&coalesce(
        &data,
        &[
            "crawl",
            "--config",
            &cfg,
            "--now",
            "2026-11-21T13:01:00Z",
            "--json",
        ],
    ));
    let due: serde_json::Value = serde_json::from_str(&due).unwrap();
    assert_eq!(due["sources"], 0, "{due}");

    let list = stdout(&coalesce(&data, &["sources", "list"]));
    assert!(
        list.contains("[failed]") && list.contains("http_status"),
        "{list}"
    );
    assert!(server.requests.lock().unwrap().len() >= 14);
}

#[test]
fn metadata_and_decimal_loopback_urls_are_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    for url in ["http://169.254.169.254/", "http://2130706433/"] {
        let out = coalesce(&data, &["sources", "add", url, "--provider", "p"]);
        assert!(!out.status.success(), "{url} was accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.starts_with("error: refusing to register") && err.contains("blocked address"),
            "{url}: {err}"
        );
    }
}

#[test]
fn resume_of_an_unknown_source_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    stdout(&coalesce(
        &data,
        &[
            "sources",
            "add",
            "https://example.org/feed.xml",
            "--provider",
            "p",
        ],
    ));
    let out = coalesce(&data, &["sources", "resume", "42"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no source with id 42"));
}

#[test]
fn commands_that_only_read_never_create_a_data_folder() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("typo");
    for args in [
        &["sources", "list"][..],
        &["offerings", "list"],
        &["clusters", "explain", "c1"],
        &["sources", "resume", "1"],
    ] {
        let out = coalesce(&data, args);
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("no store in"), "{args:?}: {err}");
        assert!(!data.exists(), "{args:?} created {}", data.display());
    }
}

#[test]
fn a_typo_in_the_crawl_section_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("c.toml");
    std::fs::write(&p, "[crawl]\nconcurency = 4\n").unwrap();
    let out = coalesce(
        &dir.path().join("data"),
        &["crawl", "--once", "--config", p.to_str().unwrap()],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown field") && err.contains("`concurency`"),
        "{err}"
    );
}

/// The README's commands on the shipped configuration file: `serve` and `crawl` read one
/// schema, and `COALESCE_DATA__DIR` / `COALESCE_CRAWL__*` mean the same to both.
#[test]
fn the_shipped_config_drives_the_crawl_with_the_same_variables_as_serve() {
    let server = serve();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("via-env");
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/coalesce.toml");
    let shipped = shipped.to_str().unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_coalesce"))
            .args(args)
            .env("COALESCE_DATA__DIR", &data)
            .env("COALESCE_CRAWL__ALLOW", format!("[\"{}\"]", server.addr))
            .env("COALESCE_CRAWL__PER_HOST_DELAY_MS", "0")
            .env("COALESCE_CRAWL__RESPECT_ROBOTS", "false")
            .env_remove("COALESCE_CONFIG")
            .current_dir(dir.path())
            .output()
            .expect("run coalesce")
    };
    let (site, file) = SITES[0];
    let url = format!("http://{}/{site}/{file}", server.addr);
    stdout(&run(&[
        "sources",
        "add",
        &url,
        "--provider",
        site,
        "--config",
        shipped,
    ]));
    let out = stdout(&run(&[
        "crawl", "--once", "--config", shipped, "--now", NOW,
    ]));
    assert!(out.starts_with("crawled 1 source(s): 1 fetched"), "{out}");
    assert!(
        data.join("coalesce.db").exists(),
        "the data folder came from COALESCE_DATA__DIR"
    );
    assert!(!dir.path().join("data").exists());
}
