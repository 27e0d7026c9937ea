//! A fixture HTTP server on 127.0.0.1 written on raw TCP, so a test can misbehave in ways a
//! proper server library would not let it (lying lengths, truncation, drips, silence), and a
//! fake resolver plus a dial filter so no test can reach beyond loopback.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use coalesce_crawl::{DialFilter, FetchConfig, Fetcher};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One parsed request.
#[derive(Debug, Clone)]
pub struct Request {
    pub path: String,
    pub headers: HashMap<String, String>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

/// What the fixture does with a request.
pub enum Reply {
    /// A complete response: status, headers, body (Content-Length added unless present).
    Full(u16, Vec<(String, String)>, Vec<u8>),
    /// Raw bytes, then close.
    Raw(Vec<u8>),
    /// Raw head, then `chunk` every `every`, forever (until the client goes away).
    Drip(Vec<u8>, Vec<u8>, Duration),
    /// Accept and say nothing.
    Silent,
    /// Think for a while, then answer (injected latency).
    Delayed(Duration, Box<Reply>),
}

pub fn ok(body: &str) -> Reply {
    Reply::Full(200, vec![], body.as_bytes().to_vec())
}

pub fn status(code: u16, headers: &[(&str, &str)]) -> Reply {
    Reply::Full(
        code,
        headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        b"x".to_vec(),
    )
}

type Handler = Arc<dyn Fn(&Request) -> Reply + Send + Sync>;

pub struct Fixture {
    pub addr: SocketAddr,
    accepts: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl Fixture {
    pub async fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Fixture {
        Fixture::start_on("127.0.0.1", handler).await
    }

    /// On another loopback address (127.0.0.2 ...), to stand in for another host.
    pub async fn start_on(
        ip: &str,
        handler: impl Fn(&Request) -> Reply + Send + Sync + 'static,
    ) -> Fixture {
        let listener = TcpListener::bind((ip, 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepts = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let handler: Handler = Arc::new(handler);
        let (a, r) = (Arc::clone(&accepts), Arc::clone(&requests));
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                a.fetch_add(1, Ordering::SeqCst);
                let (h, r) = (Arc::clone(&handler), Arc::clone(&r));
                tokio::spawn(serve(stream, h, r));
            }
        });
        Fixture {
            addr,
            accepts,
            requests,
        }
    }

    pub fn url(&self, path: &str) -> url::Url {
        url::Url::parse(&format!("http://{}{path}", self.addr)).unwrap()
    }

    pub fn authority(&self) -> String {
        self.addr.to_string()
    }

    pub fn accepts(&self) -> usize {
        self.accepts.load(Ordering::SeqCst)
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    pub fn hits(&self, path: &str) -> usize {
        self.requests().iter().filter(|r| r.path == path).count()
    }
}

async fn serve(stream: TcpStream, handler: Handler, log: Arc<Mutex<Vec<Request>>>) {
    let (read, mut stream) = stream.into_split();
    let mut read = tokio::io::BufReader::new(read);
    loop {
        let Some(request) = read_head(&mut read).await else {
            return;
        };
        log.lock().unwrap().push(request.clone());
        let mut reply = handler(&request);
        while let Reply::Delayed(wait, inner) = reply {
            tokio::time::sleep(wait).await;
            reply = *inner;
        }
        match reply {
            Reply::Full(code, headers, body) => {
                let mut head = format!("HTTP/1.1 {code} X\r\n");
                let has_len = headers
                    .iter()
                    .any(|(k, _)| k.eq_ignore_ascii_case("content-length"));
                for (k, v) in &headers {
                    head.push_str(&format!("{k}: {v}\r\n"));
                }
                if !has_len {
                    head.push_str(&format!("content-length: {}\r\n", body.len()));
                }
                head.push_str("\r\n");
                let mut out = head.into_bytes();
                out.extend_from_slice(&body);
                if stream.write_all(&out).await.is_err() {
                    return;
                }
            }
            Reply::Raw(bytes) => {
                let _ = stream.write_all(&bytes).await;
                let _ = stream.shutdown().await;
                return;
            }
            Reply::Drip(head, chunk, every) => {
                if stream.write_all(&head).await.is_err() {
                    return;
                }
                loop {
                    tokio::time::sleep(every).await;
                    if stream.write_all(&chunk).await.is_err() {
                        return;
                    }
                }
            }
            Reply::Silent | Reply::Delayed(..) => {
                tokio::time::sleep(Duration::from_secs(120)).await;
                return;
            }
        }
    }
}

async fn read_head(stream: &mut (impl tokio::io::AsyncRead + Unpin)) -> Option<Request> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await.ok()? == 0 || buf.len() > 65_536 {
            return None;
        }
        buf.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&buf);
    let mut lines = text.split("\r\n");
    let path = lines.next()?.split(' ').nth(1)?.to_owned();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Some(Request { path, headers })
}

/// A resolver answering from a table, one answer per call in turn (for rebinding), counting calls.
#[derive(Default)]
pub struct FakeResolver {
    table: HashMap<String, Vec<Vec<IpAddr>>>,
    pub calls: Arc<AtomicUsize>,
}

impl FakeResolver {
    pub fn with(mut self, name: &str, answers: &[&[&str]]) -> FakeResolver {
        self.table.insert(
            name.to_owned(),
            answers
                .iter()
                .map(|a| a.iter().map(|ip| ip.parse().unwrap()).collect())
                .collect(),
        );
        self
    }
}

impl Resolve for FakeResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        let answer = self
            .table
            .get(name.as_str())
            .map(|answers| answers[n % answers.len()].clone());
        let host = name.as_str().to_owned();
        Box::pin(async move {
            match answer {
                Some(ips) => {
                    let addrs: Vec<SocketAddr> =
                        ips.into_iter().map(|ip| SocketAddr::new(ip, 0)).collect();
                    Ok(Box::new(addrs.into_iter()) as Addrs)
                }
                // NXDOMAIN: every name not in the table; never falls through to real DNS.
                None => Err(format!("nxdomain {host}").into()),
            }
        })
    }
}

/// Addresses the dial filter refused (it never lets a non-loopback address through).
pub type Refused = Arc<Mutex<Vec<SocketAddr>>>;

pub fn loopback_only() -> (DialFilter, Refused) {
    let refused: Refused = Arc::default();
    let r = Arc::clone(&refused);
    let filter: DialFilter = Arc::new(move |addr: SocketAddr| {
        if addr.ip().is_loopback() {
            true
        } else {
            r.lock().unwrap().push(addr);
            false
        }
    });
    (filter, refused)
}

pub fn config(allow: &[String]) -> FetchConfig {
    let mut c = FetchConfig::new("https://coalesce.example/about");
    c.allow = allow.to_vec();
    c.deadline = Duration::from_secs(10);
    c.connect_timeout = Duration::from_secs(5);
    c.respect_robots = false;
    c
}

/// A fetcher whose every dial is loopback-only, with a fake resolver.
pub fn fetcher_with(config: FetchConfig, resolver: FakeResolver) -> (Fetcher, Refused) {
    let (filter, refused) = loopback_only();
    let f = Fetcher::with_resolver(config, Arc::new(resolver), Some(filter)).unwrap();
    (f, refused)
}

pub fn fetcher(allow: &[String]) -> Fetcher {
    fetcher_with(config(allow), FakeResolver::default()).0
}

pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::TimeZone;
    chrono::Utc
        .with_ymd_and_hms(2026, 11, 21, 12, 0, 0)
        .unwrap()
}

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
