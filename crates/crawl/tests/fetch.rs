//! The fetcher against fixture servers on 127.0.0.1 (rows A1, A5-A9, A11, B1-B3, E1, E3, E5 of
//! ../shared/HOSTILE.md). Every fetcher here has a dial filter that refuses any non-loopback
//! address and a fake resolver, so nothing can leave the machine.

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns

mod support;

use std::io::Write;
use std::time::Duration;

use chrono::TimeDelta;
use coalesce_crawl::{FetchError, Outcome, Validators};
use support::*;

const FEED: &str = "<rss version=\"2.0\"><channel><title>t</title></channel></rss>";

fn code<T>(r: Result<T, FetchError>) -> &'static str {
    match r {
        Ok(_) => "ok",
        Err(e) => e.code(),
    }
}

#[tokio::test]
async fn ok_returns_body_validators_hash_and_an_honest_user_agent() {
    let fx = Fixture::start(|_| {
        Reply::Full(
            200,
            vec![
                ("etag".into(), "W/\"abc\"".into()),
                (
                    "last-modified".into(),
                    "Sat, 21 Nov 2026 10:00:00 GMT".into(),
                ),
                ("content-type".into(), "application/rss+xml".into()),
                ("cache-control".into(), "max-age=600".into()),
            ],
            FEED.as_bytes().to_vec(),
        )
    })
    .await;
    let f = fetcher(&[fx.authority()]);
    let r = f.get(&fx.url("/feed.xml"), now()).await.unwrap();
    assert_eq!(r.outcome, Outcome::Fresh);
    assert_eq!(&r.body[..], FEED.as_bytes());
    assert_eq!(r.validators.etag.as_deref(), Some("W/\"abc\""));
    assert!(r.validators.content_hash.is_some());
    assert_eq!(r.fresh_until, Some(now() + TimeDelta::minutes(10)));
    assert_eq!(r.content_type.as_deref(), Some("application/rss+xml"));
    let ua = fx.requests()[0].header("user-agent").unwrap().to_owned();
    assert!(
        ua.contains("coalesce/") && ua.contains("https://coalesce.example/about"),
        "{ua}"
    );
}

#[tokio::test]
async fn e5_validators_are_sent_back_exactly_and_304_means_not_modified() {
    let fx = Fixture::start(|req| {
        let inm = req.header("if-none-match");
        let ims = req.header("if-modified-since");
        if inm == Some("W/\"v1-ÿ\"") && ims == Some("Sat, 21 Nov 2026 10:00:00 GMT") {
            Reply::Full(304, vec![], vec![])
        } else {
            ok(FEED)
        }
    })
    .await;
    let f = fetcher(&[fx.authority()]);
    let previous = Validators {
        // Not quoted-string-clean on purpose: sent as is, not "fixed".
        etag: Some("W/\"v1-\u{ff}\"".into()),
        last_modified: Some("Sat, 21 Nov 2026 10:00:00 GMT".into()),
        content_hash: Some("old".into()),
    };
    let r = f.fetch(&fx.url("/f"), &previous, now()).await.unwrap();
    assert_eq!(
        r.outcome,
        Outcome::NotModified,
        "both validators arrived byte for byte"
    );

    let fx = Fixture::start(|req| {
        if req.header("if-none-match") == Some("W/\"v1\"") {
            Reply::Full(304, vec![], vec![])
        } else {
            ok(FEED)
        }
    })
    .await;
    let f = fetcher(&[fx.authority()]);
    let previous = Validators {
        etag: Some("W/\"v1\"".into()),
        ..Validators::default()
    };
    let r = f.fetch(&fx.url("/f"), &previous, now()).await.unwrap();
    assert_eq!(r.outcome, Outcome::NotModified);
    assert!(r.body.is_empty());
    assert_eq!(
        r.validators.etag.as_deref(),
        Some("W/\"v1\""),
        "kept when the 304 omits it"
    );
}

#[tokio::test]
async fn e5_a_server_ignoring_conditional_headers_is_caught_by_the_content_hash() {
    let n = std::sync::atomic::AtomicUsize::new(0);
    let fx = Fixture::start(move |_| {
        // A new ETag every time with identical bytes.
        let i = n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Reply::Full(200, vec![("etag".into(), format!("\"{i}\""))], FEED.into())
    })
    .await;
    let f = fetcher(&[fx.authority()]);
    let first = f.get(&fx.url("/f"), now()).await.unwrap();
    assert_eq!(first.outcome, Outcome::Fresh);
    let second = f
        .fetch(&fx.url("/f"), &first.validators, now())
        .await
        .unwrap();
    assert_eq!(second.outcome, Outcome::Unchanged);
    assert!(second.body.is_empty(), "nothing to parse again");
    assert_eq!(second.validators.etag.as_deref(), Some("\"1\""));
}

#[tokio::test]
async fn e5_a_304_without_validators_is_an_error() {
    let fx = Fixture::start(|_| Reply::Full(304, vec![], vec![])).await;
    let f = fetcher(&[fx.authority()]);
    assert_eq!(
        code(f.get(&fx.url("/f"), now()).await),
        "unexpected_not_modified"
    );
}

#[tokio::test]
async fn e1_error_statuses_carry_status_and_capped_retry_after() {
    let fx = Fixture::start(|req| match req.path.as_str() {
        "/404" => status(404, &[]),
        "/410" => status(410, &[]),
        "/500" => status(500, &[]),
        "/503" => status(503, &[("retry-after", "120")]),
        "/429" => status(429, &[("retry-after", "Sat, 21 Nov 2026 14:00:00 GMT")]),
        "/429-far" => status(429, &[("retry-after", "9999999")]),
        _ => ok(FEED),
    })
    .await;
    let f = fetcher(&[fx.authority()]);
    for (path, want, retry) in [
        ("/404", 404, None),
        ("/410", 410, None),
        ("/500", 500, None),
        ("/503", 503, Some(now() + TimeDelta::seconds(120))),
        ("/429", 429, Some(now() + TimeDelta::hours(2))),
        ("/429-far", 429, Some(now() + TimeDelta::hours(24))),
    ] {
        let e = f.get(&fx.url(path), now()).await.unwrap_err();
        assert_eq!(e.code(), "http_status", "{path}");
        assert_eq!(e.status(), Some(want), "{path}");
        assert_eq!(e.retry_at(), retry, "{path}");
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

#[tokio::test]
async fn gzip_bodies_are_decoded() {
    let body = gzip(FEED.as_bytes());
    let fx = Fixture::start(move |req| {
        assert!(req.header("accept-encoding").unwrap_or("").contains("gzip"));
        Reply::Full(
            200,
            vec![("content-encoding".into(), "gzip".into())],
            body.clone(),
        )
    })
    .await;
    let f = fetcher(&[fx.authority()]);
    let r = f.get(&fx.url("/f"), now()).await.unwrap();
    assert_eq!(&r.body[..], FEED.as_bytes());
}

#[tokio::test]
async fn b1_a_gzip_bomb_stops_at_the_decompressed_cap() {
    // 64 MiB of spaces compress to ~64 KiB: enough to cross the 10 MiB cap; generated here,
    // never committed.
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let block = vec![b' '; 1 << 20];
    for _ in 0..64 {
        enc.write_all(&block).unwrap();
    }
    let bomb = enc.finish().unwrap();
    assert!(bomb.len() < 1 << 20);
    let stacked = gzip(&gzip(FEED.as_bytes()));
    let fx = Fixture::start(move |req| {
        let body = if req.path == "/stacked" {
            stacked.clone()
        } else {
            bomb.clone()
        };
        let enc = if req.path == "/stacked" {
            "gzip, gzip"
        } else {
            "gzip"
        };
        Reply::Full(200, vec![("content-encoding".into(), enc.into())], body)
    })
    .await;
    let f = fetcher(&[fx.authority()]);
    let e = f.get(&fx.url("/bomb"), now()).await.unwrap_err();
    assert_eq!(e.code(), "body_too_large");
    // Stacked encodings: a clean error or the outer layer only, never a crash or a hang.
    let r = f.get(&fx.url("/stacked"), now()).await;
    if let Ok(r) = r {
        assert_ne!(&r.body[..], FEED.as_bytes(), "only one layer is decoded");
    }
}

#[tokio::test]
async fn b2_an_honest_huge_length_is_refused_before_reading_the_body() {
    let fx = Fixture::start(|_| {
        Reply::Drip(
            b"HTTP/1.1 200 OK\r\ncontent-length: 209715200\r\n\r\n".to_vec(),
            b"x".to_vec(),
            Duration::from_secs(5),
        )
    })
    .await;
    let f = fetcher(&[fx.authority()]);
    // Would take 200 MiB x 5 s to read: only the early check can answer within the deadline.
    assert_eq!(code(f.get(&fx.url("/f"), now()).await), "body_too_large");
}

#[tokio::test]
async fn b2_an_endless_chunked_body_stops_at_the_counted_cap() {
    let chunk = {
        let data = vec![b'a'; 65_536];
        let mut c = format!("{:x}\r\n", data.len()).into_bytes();
        c.extend_from_slice(&data);
        c.extend_from_slice(b"\r\n");
        c
    };
    let fx = Fixture::start(move |_| {
        Reply::Drip(
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n".to_vec(),
            chunk.clone(),
            Duration::from_micros(1),
        )
    })
    .await;
    let f = fetcher(&[fx.authority()]);
    assert_eq!(code(f.get(&fx.url("/f"), now()).await), "body_too_large");
}

#[tokio::test]
async fn b2_a_lying_short_length_yields_only_that_many_bytes() {
    let mut raw = b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n".to_vec();
    raw.extend(std::iter::repeat_n(b'z', 5 * 1024 * 1024));
    let fx = Fixture::start(move |_| Reply::Raw(raw.clone())).await;
    let f = fetcher(&[fx.authority()]);
    let r = f.get(&fx.url("/f"), now()).await.unwrap();
    assert_eq!(r.body.len(), 100);
}

#[tokio::test]
async fn e3_a_truncated_body_is_a_failure_not_a_short_document() {
    let mut raw = b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n".to_vec();
    raw.extend_from_slice(&FEED.as_bytes()[..40]);
    let chunked_without_end =
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n".to_vec();
    let fx = Fixture::start(move |req| {
        if req.path == "/chunked" {
            Reply::Raw(chunked_without_end.clone())
        } else {
            Reply::Raw(raw.clone())
        }
    })
    .await;
    let f = fetcher(&[fx.authority()]);
    assert_eq!(code(f.get(&fx.url("/f"), now()).await), "truncated_body");
    assert_eq!(
        code(f.get(&fx.url("/chunked"), now()).await),
        "truncated_body"
    );
}

#[tokio::test]
async fn b3_a_slow_drip_and_a_silent_server_hit_the_total_deadline() {
    let fx = Fixture::start(|req| {
        if req.path == "/silent" {
            Reply::Silent
        } else {
            Reply::Drip(
                b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n".to_vec(),
                b"1\r\nx\r\n".to_vec(),
                Duration::from_millis(200),
            )
        }
    })
    .await;
    let mut c = config(&[fx.authority()]);
    c.deadline = Duration::from_secs(1);
    let (f, _) = fetcher_with(c, FakeResolver::default());
    let started = std::time::Instant::now();
    assert_eq!(code(f.get(&fx.url("/drip"), now()).await), "timeout");
    assert_eq!(code(f.get(&fx.url("/silent"), now()).await), "timeout");
    // Generous: only proves the deadline, not the drip, ended each fetch.
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[tokio::test]
async fn a9_a_redirect_loop_stops_after_five_requests() {
    let fx = Fixture::start(|req| {
        let n: u32 = req.path.trim_start_matches("/r/").parse().unwrap_or(0);
        status(302, &[("location", &format!("/r/{}", n + 1))])
    })
    .await;
    let f = fetcher(&[fx.authority()]);
    assert_eq!(
        code(f.get(&fx.url("/r/0"), now()).await),
        "too_many_redirects"
    );
    assert_eq!(fx.requests().len(), 5);
}

#[tokio::test]
async fn a8_a_redirect_to_a_loopback_port_not_allow_listed_is_refused_before_dialling() {
    let b = Fixture::start(|_| ok(FEED)).await;
    let port = b.addr.port();
    let a = Fixture::start(move |req| {
        let target = match req.path.as_str() {
            "/plain" => format!("http://127.0.0.1:{port}/"),
            "/decimal" => format!("http://2130706433:{port}/"),
            "/mapped" => format!("http://[::ffff:127.0.0.1]:{port}/"),
            "/file" => "file:///etc/passwd".to_owned(),
            "/gopher" => format!("gopher://127.0.0.1:{port}/_"),
            _ => format!("http://localhost:{port}/"),
        };
        status(301, &[("location", &target)])
    })
    .await;
    let f = fetcher(&[a.authority()]);
    for path in ["/plain", "/decimal", "/mapped", "/name"] {
        assert_eq!(
            code(f.get(&a.url(path), now()).await),
            "blocked_address",
            "{path}"
        );
    }
    assert_eq!(b.accepts(), 0);
}

#[tokio::test]
async fn a1_a5_loopback_without_the_allow_list_is_never_dialled() {
    let fx = Fixture::start(|_| ok(FEED)).await;
    let p = fx.addr.port();
    let f = fetcher(&[]);
    for url in [
        format!("http://127.0.0.1:{p}/feed.xml"),
        format!("http://localhost:{p}/"),
        format!("http://[::1]:{p}/"),
        format!("http://0.0.0.0:{p}/"),
        format!("http://0:{p}/"),
    ] {
        let url = url::Url::parse(&url).unwrap();
        assert_eq!(code(f.get(&url, now()).await), "blocked_address", "{url}");
    }
    assert_eq!(fx.accepts(), 0);
}

#[tokio::test]
async fn a6_a_name_resolving_to_a_blocked_address_is_refused_in_the_resolver() {
    let fx = Fixture::start(|_| ok(FEED)).await;
    let p = fx.addr.port();
    let resolver = FakeResolver::default()
        .with("evil.test", &[&["127.0.0.1"]])
        .with("multi.test", &[&["203.0.113.10", "127.0.0.1"]]);
    let (f, refused) = fetcher_with(config(&[]), resolver);
    for host in ["evil.test", "multi.test"] {
        let url = url::Url::parse(&format!("http://{host}:{p}/")).unwrap();
        let e = f.get(&url, now()).await.unwrap_err();
        assert_eq!(e.code(), "blocked_address", "{host}");
        assert!(
            e.to_string().contains(host) && e.to_string().contains("127.0.0.1")
                || e.to_string().contains("203.0.113.10"),
            "{e}"
        );
    }
    assert_eq!(fx.accepts(), 0);
    assert!(
        refused.lock().unwrap().is_empty(),
        "the policy refused before the dial filter"
    );
}

#[tokio::test]
async fn a7_rebinding_cannot_swap_the_address_between_check_and_connect() {
    let fx = Fixture::start(|_| ok(FEED)).await;
    let p = fx.addr.port();
    let resolver =
        FakeResolver::default().with("rebind.test", &[&["203.0.113.10"], &["127.0.0.1"]]);
    let calls = std::sync::Arc::clone(&resolver.calls);
    let mut c = config(&[]);
    // Lets the documentation address stand in for "public"; the dial filter then refuses it.
    c.allow_documentation_ranges = true;
    let (f, refused) = fetcher_with(c, resolver);
    let url = url::Url::parse(&format!("http://rebind.test:{p}/")).unwrap();
    let e = f.get(&url, now()).await.unwrap_err();
    assert_eq!(e.code(), "blocked_address");
    assert_eq!(
        calls.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "one resolution per connection"
    );
    assert_eq!(
        fx.accepts(),
        0,
        "the second (loopback) answer was never used"
    );
    assert_eq!(refused.lock().unwrap().len(), 1);
    assert_eq!(refused.lock().unwrap()[0].ip().to_string(), "203.0.113.10");
}

#[tokio::test]
async fn e1_nxdomain_refused_connection_and_tls_failure_have_their_codes() {
    let f = fetcher(&[]);
    let url = url::Url::parse("http://nowhere.test/").unwrap();
    assert_eq!(code(f.get(&url, now()).await), "dns");

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    let f = fetcher(&[addr.to_string()]);
    let url = url::Url::parse(&format!("http://{addr}/")).unwrap();
    assert_eq!(code(f.get(&url, now()).await), "connect");

    // A server that answers a TLS ClientHello with plain HTTP: the handshake fails.
    let plain = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = plain.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = plain.accept().await {
            use tokio::io::AsyncWriteExt;
            let _ = s
                .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
                .await;
        }
    });
    let f = fetcher(&[addr.to_string()]);
    let url = url::Url::parse(&format!("https://{addr}/")).unwrap();
    let r = f.get(&url, now()).await;
    assert_eq!(code(r), "tls");
}

#[tokio::test]
async fn permanent_redirects_are_reported_not_applied_and_temporary_ones_are_not_reported() {
    let fx = Fixture::start(|req| match req.path.as_str() {
        "/old" => status(301, &[("location", "/mid")]),
        "/mid" => status(308, &[("location", "/new")]),
        "/temp" => status(302, &[("location", "/new")]),
        "/mixed" => status(301, &[("location", "/temp")]),
        _ => ok(FEED),
    })
    .await;
    let f = fetcher(&[fx.authority()]);
    let r = f.get(&fx.url("/old"), now()).await.unwrap();
    assert_eq!(r.permanent_redirect, Some(fx.url("/new")));
    assert_eq!(r.final_url, fx.url("/new"));
    assert_eq!(r.hops, 3);
    assert_eq!(
        f.get(&fx.url("/temp"), now())
            .await
            .unwrap()
            .permanent_redirect,
        None
    );
    assert_eq!(
        f.get(&fx.url("/mixed"), now())
            .await
            .unwrap()
            .permanent_redirect,
        None
    );
}

#[tokio::test]
async fn robots_txt_is_honoured_and_cached_per_origin() {
    let fx = Fixture::start(|req| match req.path.as_str() {
        "/robots.txt" => ok("User-agent: coalesce\nDisallow: /private\nCrawl-delay: 2\n"),
        _ => ok(FEED),
    })
    .await;
    let mut c = config(&[fx.authority()]);
    c.respect_robots = true;
    let (f, _) = fetcher_with(c, FakeResolver::default());
    assert_eq!(
        code(f.get(&fx.url("/private/feed"), now()).await),
        "robots_disallowed"
    );
    assert_eq!(fx.hits("/private/feed"), 0);
    assert_eq!(code(f.get(&fx.url("/feed"), now()).await), "ok");
    assert_eq!(fx.hits("/robots.txt"), 1, "cached");
    assert_eq!(
        f.robots_delay(&fx.url("/feed")),
        Some(Duration::from_secs(2))
    );

    // No robots.txt (404) means no restrictions.
    let open = Fixture::start(|req| {
        if req.path == "/robots.txt" {
            status(404, &[])
        } else {
            ok(FEED)
        }
    })
    .await;
    let mut c = config(&[open.authority()]);
    c.respect_robots = true;
    let (f, _) = fetcher_with(c, FakeResolver::default());
    assert_eq!(code(f.get(&open.url("/private/feed"), now()).await), "ok");
}

#[tokio::test]
async fn empty_200_body_is_an_error() {
    let fx = Fixture::start(|_| Reply::Full(200, vec![], vec![])).await;
    let f = fetcher(&[fx.authority()]);
    assert_eq!(code(f.get(&fx.url("/f"), now()).await), "empty_body");
}

/// A11: proxies from the environment are ignored. The variables are set only for a child
/// process (running the ignored test below), so this process's environment stays untouched.
#[tokio::test]
async fn a11_environment_proxies_are_ignored() {
    let target = Fixture::start(|_| ok(FEED)).await;
    let proxy = Fixture::start(|_| status(502, &[])).await;
    let proxy_url = format!("http://{}", proxy.authority());
    let exe = std::env::current_exe().unwrap();
    let target_url = target.url("/feed.xml").to_string();
    let status = tokio::task::spawn_blocking(move || {
        std::process::Command::new(exe)
            .args([
                "--ignored",
                "--exact",
                "a11_child_fetch_with_proxy_env",
                "--nocapture",
            ])
            .env("HTTP_PROXY", &proxy_url)
            .env("HTTPS_PROXY", &proxy_url)
            .env("ALL_PROXY", &proxy_url)
            .env("http_proxy", &proxy_url)
            .env("COALESCE_A11_TARGET", target_url)
            .status()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(status.success(), "child fetch failed");
    assert_eq!(proxy.accepts(), 0, "the proxy saw no connection");
    assert_eq!(
        target.hits("/feed.xml"),
        1,
        "the target was reached directly"
    );
}

#[tokio::test]
#[ignore = "run by a11_environment_proxies_are_ignored in a child process"]
async fn a11_child_fetch_with_proxy_env() {
    let Ok(target) = std::env::var("COALESCE_A11_TARGET") else {
        return;
    };
    let url = url::Url::parse(&target).unwrap();
    let authority = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap());
    let f = fetcher(&[authority]);
    let r = f.get(&url, now()).await.unwrap();
    assert_eq!(&r.body[..], FEED.as_bytes());
}
