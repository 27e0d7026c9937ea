//! Helpers for the end-to-end tests: run the real `coalesce` binary on 127.0.0.1, serve
//! fixture documents on 127.0.0.1, and speak just enough HTTP/1.1 over `std::net` to test
//! them (no client library: the tests must see raw status lines, headers and closed sockets).

pub use coalesce_core::demo_sites::fill_dates as render;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Where cargo puts the binary: `cargo test --workspace` builds it. It is rebuilt here when
/// missing or older than any source file, so `cargo test -p coalesce-tests` never runs a
/// stale binary; a fresh one is used as it is (a nested `cargo build -p coalesce` could
/// resolve other features than the workspace build and recompile half the tree).
pub fn binary() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let root = repo_root();
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map_or_else(|| root.join("target"), PathBuf::from);
            let bin = target.join("debug").join("coalesce");
            let built = std::fs::metadata(&bin).and_then(|m| m.modified()).ok();
            let stale = built.is_none_or(|b| newest_source(&root.join("crates")) > Some(b));
            if stale {
                let status = Command::new(env!("CARGO"))
                    .args([
                        "build",
                        "--quiet",
                        "-p",
                        "coalesce",
                        "--features",
                        // The crash points of the kill matrix, as `cargo test --workspace`
                        // builds them (this crate's dev-dependencies ask for them).
                        "coalesce-store/failpoints,coalesce-index/failpoints",
                    ])
                    .current_dir(&root)
                    .status();
                assert!(
                    status.is_ok_and(|s| s.success()),
                    "cannot build the coalesce binary"
                );
            }
            bin
        })
        .clone()
}

/// The newest modification time of any file below `dir`.
fn newest_source(dir: &std::path::Path) -> Option<std::time::SystemTime> {
    let mut newest = None;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(t) = entry.metadata().and_then(|m| m.modified()) {
                newest = newest.max(Some(t));
            }
        }
    }
    newest
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A free loopback port (bound and released; good enough on a test machine).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

/// A running `coalesce serve`, killed on drop if still running.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    pub admin: String,
    data: Option<tempfile::TempDir>,
}

pub const ADMIN: &str = "adm_end_to_end_admin_token_0123456789";

impl Server {
    /// Starts `coalesce serve` with `env` (COALESCE_* overrides) on a fresh data folder and
    /// waits until /readyz says it serves (search index open).
    pub fn start(env: &[(&str, String)]) -> Server {
        let data = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        Server::start_in(data, env)
    }

    /// Starts `coalesce serve` on an existing data folder (a restart) and waits for /readyz.
    pub fn start_in(data: tempfile::TempDir, env: &[(&str, String)]) -> Server {
        let port = free_port();
        let addr: SocketAddr = SocketAddr::from(([127, 0, 0, 1], port));
        let mut cmd = Command::new(binary());
        cmd.arg("serve")
            .arg("--config")
            .arg(repo_root().join("config/coalesce.toml"))
            .env("COALESCE_ADMIN_TOKEN", ADMIN)
            .env("COALESCE_SERVER__LISTEN", addr.to_string())
            .env("COALESCE_DATA__DIR", data.path())
            .env("COALESCE_CRAWL__RESPECT_ROBOTS", "false")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start coalesce: {e}"));
        let server = Server {
            child,
            addr,
            admin: ADMIN.to_owned(),
            data: Some(data),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if request(addr, "GET", "/readyz", None, None).is_some_and(|r| r.status == 200) {
                return server;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("coalesce serve was not ready in time");
    }

    pub fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> Response {
        request(self.addr, method, path, token, body)
            .unwrap_or_else(|| panic!("no answer to {method} {path}"))
    }

    pub fn json(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> (u16, serde_json::Value) {
        let r = self.call(method, path, token, body);
        (
            r.status,
            serde_json::from_str(&r.body).unwrap_or(serde_json::Value::Null),
        )
    }

    /// SIGKILL: no shutdown path runs (no drain, no last index commit). Returns the data
    /// folder for a restart.
    pub fn kill(mut self) -> tempfile::TempDir {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.data
            .take()
            .unwrap_or_else(|| panic!("the data folder was already taken"))
    }

    /// The data folder the server runs on.
    pub fn data_dir(&self) -> &std::path::Path {
        self.data
            .as_ref()
            .map_or_else(|| std::path::Path::new(""), |d| d.path())
    }

    /// Polls `f` until it is true or `secs` pass.
    pub fn wait_until(&self, secs: u64, mut f: impl FnMut() -> bool) -> bool {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            if f() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        false
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub body: String,
}

/// One HTTP/1.1 request with `Connection: close`; `None` when the connection fails.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> Option<Response> {
    request_with(addr, method, path, token, body, &[])
}

pub fn request_with(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
    extra: &[(&str, &str)],
) -> Option<Response> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(t) = token {
        head.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    for (k, v) in extra {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    let body = body.unwrap_or("");
    head.push_str(&format!(
        "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    ));
    s.write_all(head.as_bytes()).ok()?;
    // The server may answer (413) before reading a large body; a failed write is fine then.
    let _ = s.write_all(body.as_bytes());
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> Option<Response> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let mut lines = head.lines();
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect::<HashMap<_, _>>();
    let body = if headers
        .get("transfer-encoding")
        .is_some_and(|v| v == "chunked")
    {
        dechunk(body)
    } else {
        body.to_owned()
    };
    Some(Response {
        status,
        headers,
        body,
    })
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// Serves the fixture sites (dates filled relative to today, UTC) on 127.0.0.1 from a thread;
/// a path put in `failing` answers 500 instead, to break a source on purpose.
pub struct Sites {
    pub addr: SocketAddr,
    pub failing: Arc<Mutex<Vec<String>>>,
    pages: Arc<Mutex<HashMap<String, String>>>,
    hits: Arc<Mutex<HashMap<String, usize>>>,
}

impl Sites {
    pub fn start() -> Sites {
        let today = chrono::Utc::now().date_naive();
        let mut pages = HashMap::new();
        let dir = repo_root().join("fixtures/sites");
        for site in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            for file in std::fs::read_dir(site.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                if let Ok(text) = std::fs::read_to_string(file.path()) {
                    let key = format!(
                        "/{}/{}",
                        site.file_name().to_string_lossy(),
                        file.file_name().to_string_lossy()
                    );
                    pages.insert(key, render(&text, today));
                }
            }
        }
        let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("addr: {e}"));
        let failing: Arc<Mutex<Vec<String>>> = Arc::default();
        let fail = Arc::clone(&failing);
        let pages = Arc::new(Mutex::new(pages));
        let served = Arc::clone(&pages);
        let hits: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let counted = Arc::clone(&hits);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut stream = stream;
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let mut buf = [0u8; 4096];
                let n = stream.read(&mut buf).unwrap_or(0);
                let req = String::from_utf8_lossy(&buf[..n]);
                let path = req.split(' ').nth(1).unwrap_or("/").to_owned();
                let broken = fail.lock().map(|f| f.contains(&path)).unwrap_or(false);
                let page = served.lock().ok().and_then(|p| p.get(&path).cloned());
                let (status, body) = match page {
                    _ if broken => ("500 Internal Server Error", "broken".to_owned()),
                    Some(b) => ("200 OK", b),
                    None => ("404 Not Found", String::new()),
                };
                let ct = if path.ends_with(".ics") {
                    "text/calendar"
                } else if path.ends_with(".html") {
                    "text/html"
                } else {
                    "application/xml"
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Type: {ct}; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                if let Ok(mut h) = counted.lock() {
                    *h.entry(path).or_default() += 1;
                }
            }
        });
        Sites {
            addr,
            failing,
            pages,
            hits,
        }
    }

    /// Serves `body` at `path` from now on (adding or replacing a page).
    pub fn put(&self, path: &str, body: String) {
        if let Ok(mut p) = self.pages.lock() {
            p.insert(path.to_owned(), body);
        }
    }

    /// How many responses `path` has had written in full.
    pub fn hits(&self, path: &str) -> usize {
        self.hits
            .lock()
            .map(|h| h.get(path).copied().unwrap_or(0))
            .unwrap_or(0)
    }
}
