#!/usr/bin/env python3
"""Soak: a bounded run of mixed traffic against a real `coalesce serve` on loopback.

    python3 bench/soak.py [--bin target/release/coalesce] [--minutes 10] [--warmup 2]

Starts fixture sites on 127.0.0.1 (the six demo sites, plus a host that answers after 8 s,
one that answers 500 and one that drops the connection), a `serve` on a fresh data folder
that crawls them every few seconds, and workers that mix public reads (search with filters,
offering pages, calendars, Atom and JSON Feed, topics, providers) with provider writes
(register, refresh, pause, delete sources; take offerings down; list keys). RSS of the server
is sampled every 5 s.

Prints latency percentiles per kind of request, the status counts, RSS over time, and exits 1
when any answer was a 5xx or a connection failed, or when RSS grew after warm-up (median of the
last minute above the median of the first minute after warm-up by more than 10% and 32 MiB).
Needs only Python 3; not part of CI (it runs for minutes by design).
"""

import argparse
import http.client
import http.server
import json
import os
import random
import re
import socket
import socketserver
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ADMIN = "adm_soak_admin_token_0123456789abcdef0123"
WORDS = ["preservation", "copyright", "metadata", "digital", "archives", "museum",
         "collections", "grant", "leadership", "records", "copyrigth", "oral history",
         "\"digital preservation\"", "-webinar", "library OR museum", "accessibility"]


def fill_dates(text: str, today: date) -> str:
    def one(m):
        kind, off = m.group(1), int(m.group(2))
        d = today + timedelta(days=off)
        return {"DATE": d.strftime("%Y-%m-%d"), "ICS": d.strftime("%Y%m%d"),
                "RFC": d.strftime("%a, %d %b %Y")}[kind]
    return re.sub(r"\{\{(DATE|ICS|RFC)([+-]\d+)\}\}", one, text)


def load_sites() -> dict:
    pages = {}
    today = date.today()
    for site in sorted((ROOT / "fixtures/sites").iterdir()):
        if site.is_dir():
            for f in site.iterdir():
                pages[f"/{site.name}/{f.name}"] = fill_dates(f.read_text(), today).encode()
    return pages


SLOW_FEED = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Slow</title>
<link>http://slow.example/</link><description>slow</description>
<item><title>Slow host webinar on finding aids</title><link>http://slow.example/1</link>
<guid>slow-1</guid><description>Online. Free.</description></item></channel></rss>"""


class Sites(http.server.BaseHTTPRequestHandler):
    pages: dict = {}
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        path = self.path.split("?")[0]
        if path.startswith("/slow/"):
            time.sleep(8)
            body, status = SLOW_FEED, 200
        elif path.startswith("/fail/"):
            body, status = b"broken", 500
        elif path.startswith("/reset/"):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
            self.connection.close()
            return
        else:
            body = self.pages.get(path)
            status = 200 if body is not None else 404
            body = body or b""
        ct = "text/calendar" if path.endswith(".ics") else (
            "text/html" if path.endswith(".html") else "application/xml")
        self.send_response(status)
        self.send_header("Content-Type", ct + "; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class ThreadingServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    def __init__(self, port):
        self.port = port

    def call(self, method, path, token=None, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            conn.request(method, path, body=data, headers=headers)
            r = conn.getresponse()
            raw = r.read()
            return r.status, raw
        finally:
            conn.close()


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.lat = {}
        self.status = {}
        self.errors = []

    def record(self, kind, seconds, status):
        with self.lock:
            self.lat.setdefault(kind, []).append(seconds)
            self.status[status] = self.status.get(status, 0) + 1
            if status >= 500 or status == 0:
                self.errors.append((kind, status))


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default=str(ROOT / "target/release/coalesce"))
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--warmup", type=float, default=2)
    ap.add_argument("--workers", type=int, default=8)
    args = ap.parse_args()

    Sites.pages = load_sites()
    sites = ThreadingServer(("127.0.0.1", 0), Sites)
    threading.Thread(target=sites.serve_forever, daemon=True).start()
    site_addr = f"127.0.0.1:{sites.server_address[1]}"

    data = tempfile.mkdtemp(prefix="coalesce-soak-")
    port = free_port()
    env = dict(os.environ,
               COALESCE_ADMIN_TOKEN=ADMIN,
               COALESCE_SERVER__LISTEN=f"127.0.0.1:{port}",
               COALESCE_DATA__DIR=data,
               COALESCE_CRAWL__ALLOW=json.dumps([site_addr]),
               COALESCE_CRAWL__RESPECT_ROBOTS="false",
               COALESCE_CRAWL__TICK_SECS="1",
               COALESCE_CRAWL__MIN_INTERVAL_MINUTES="0",
               COALESCE_LIMITS__REQUESTS_PER_MINUTE="100000000",
               COALESCE_LIMITS__BURST="1000000",
               RUST_LOG="warn")
    server = subprocess.Popen([args.bin, "serve", "--config", str(ROOT / "config/coalesce.toml")],
                              env=env, stdout=subprocess.DEVNULL)
    api = Client(port)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if api.call("GET", "/readyz")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        else:
            sys.exit("serve was not ready in 60 s")

        # Providers, keys and sources: the six fixture sites and the three bad hosts.
        feeds = [(p.split("/")[1], p) for p in sorted(Sites.pages)
                 if not p.endswith(".md")]
        feeds += [("slowhost", "/slow/events.xml"), ("failhost", "/fail/events.xml"),
                  ("resethost", "/reset/events.xml")]
        keys, sources = {}, []
        for name, path in feeds:
            if name not in keys:
                st, _ = api.call("POST", "/api/v1/admin/providers", ADMIN, {"name": name})
                assert st == 201, st
                st, raw = api.call("POST", f"/api/v1/admin/providers/{name}/keys", ADMIN)
                keys[name] = json.loads(raw)["key"]
            st, raw = api.call("POST", "/api/v1/sources", keys[name],
                               {"name": path, "url": f"http://{site_addr}{path}"})
            assert st == 201, (st, raw)
            sources.append((name, json.loads(raw)["id"]))
        print(f"soak: serve on 127.0.0.1:{port} (pid {server.pid}), {len(sources)} sources "
              f"on http://{site_addr}, {args.minutes} min, {args.workers} workers")

        stats = Stats()
        stop = time.time() + args.minutes * 60
        warm_end = time.time() + args.warmup * 60
        seen_ids = []
        seen_lock = threading.Lock()
        good = [s for s in sources if s[0] not in ("slowhost", "failhost", "resethost")]

        def one(rng):
            r = rng.random()
            q = urllib.parse.quote(rng.choice(WORDS))
            if r < 0.35:
                filters = rng.choice(["", "&free=true", "&modality=online", "&sector=museums",
                                      "&sort=start", "&credits=any", "&topic=preservation",
                                      "&from=2020-01-01"])
                st, raw = api.call("GET", f"/api/v1/offerings?q={q}{filters}&limit=20")
                if st == 200:
                    hits = json.loads(raw).get("hits", [])
                    with seen_lock:
                        seen_ids.extend(h["id"] for h in hits[:3])
                        del seen_ids[:-200]
                return "search", st
            if r < 0.50:
                with seen_lock:
                    oid = rng.choice(seen_ids) if seen_ids else None
                if oid is None:
                    return "topics", api.call("GET", "/api/v1/topics")[0]
                path = f"/api/v1/offerings/{urllib.parse.quote(oid)}"
                if rng.random() < 0.3:
                    path += ".ics"
                st, _ = api.call("GET", path)
                # A take-down may remove an offering between search and detail.
                return "detail", (200 if st == 404 else st)
            if r < 0.62:
                return "calendar", api.call("GET", rng.choice(
                    ["/calendar.ics", "/calendar.ics?sector=libraries",
                     f"/calendar.ics?q={q}", "/calendar.ics?modality=online&free=true"]))[0]
            if r < 0.72:
                return "feeds", api.call("GET", rng.choice(
                    ["/feed.atom", "/feed.json", f"/feed.atom?q={q}", "/feed.json?sector=archives"]))[0]
            if r < 0.78:
                return "browse", api.call("GET", rng.choice(
                    ["/api/v1/topics", "/api/v1/providers", "/api/v1/subscriptions?q=archives"]))[0]
            if r < 0.86:
                name, sid = rng.choice(sources)
                return "refresh", api.call("POST", f"/api/v1/sources/{sid}/refresh", keys[name])[0]
            if r < 0.93:
                # Register a throwaway copy of a good source, read it, pause it, delete it.
                name, _ = rng.choice(good)
                path = next(p for n, p in feeds if n == name)
                tag = f"{path}#soak-{rng.randrange(1 << 30)}"
                st, raw = api.call("POST", "/api/v1/sources", keys[name],
                                   {"name": tag, "url": f"http://{site_addr}{path}?{rng.randrange(1 << 30)}"})
                if st != 201:
                    return "source-write", st
                sid = json.loads(raw)["id"]
                for method, p, body in [("GET", f"/api/v1/sources/{sid}", None),
                                        ("PATCH", f"/api/v1/sources/{sid}", {"enabled": False}),
                                        ("DELETE", f"/api/v1/sources/{sid}", None)]:
                    st, _ = api.call(method, p, keys[name], body)
                    if st >= 400:
                        return "source-write", st
                return "source-write", 200
            name, sid = rng.choice(good)
            st, raw = api.call("GET", f"/api/v1/sources/{sid}", keys[name])
            if st == 200 and rng.random() < 0.05:
                # Now and then a provider takes one of its offerings down.
                st2, raw2 = api.call("GET", f"/api/v1/offerings?provider={name}&limit=5")
                hits = json.loads(raw2).get("hits", []) if st2 == 200 else []
                if hits:
                    oid = urllib.parse.quote(hits[-1]["id"])
                    st3, _ = api.call("DELETE", f"/api/v1/sources/{sid}/offerings/{oid}", keys[name])
                    return "takedown", (200 if st3 in (200, 204, 404) else st3)
            return "source-read", st

        def worker(seed):
            rng = random.Random(seed)
            while time.time() < stop:
                t0 = time.perf_counter()
                try:
                    kind, st = one(rng)
                except (OSError, http.client.HTTPException) as e:
                    kind, st = f"error:{type(e).__name__}", 0
                stats.record(kind, time.perf_counter() - t0, st)

        rss = []

        def sampler():
            while time.time() < stop:
                rss.append((time.time(), rss_kib(server.pid)))
                time.sleep(5)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(args.workers)]
        threads.append(threading.Thread(target=sampler))
        for t in threads:
            t.start()
        last_print = time.time()
        while any(t.is_alive() for t in threads):
            time.sleep(1)
            if time.time() - last_print >= 60:
                last_print = time.time()
                n = sum(len(v) for v in stats.lat.values())
                print(f"  {int((time.time() - (stop - args.minutes * 60)) / 60)} min: {n} requests, "
                      f"{len(stats.errors)} errors, RSS {rss[-1][1] // 1024 if rss else 0} MiB", flush=True)
        for t in threads:
            t.join()
        alive = server.poll() is None
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
        sites.shutdown()

    print(f"\n{'kind':<14}{'count':>8}{'p50 ms':>10}{'p90 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    everything = []
    for kind in sorted(stats.lat):
        v = sorted(stats.lat[kind])
        everything += v
        pct = lambda p: v[min(len(v) - 1, int(p * len(v)))] * 1000
        print(f"{kind:<14}{len(v):>8}{pct(0.5):>10.1f}{pct(0.9):>10.1f}{pct(0.99):>10.1f}{v[-1] * 1000:>10.1f}")
    everything.sort()
    if everything:
        print(f"{'all':<14}{len(everything):>8}{everything[len(everything) // 2] * 1000:>10.1f}"
              f"{'':>10}{everything[int(0.99 * len(everything))] * 1000:>10.1f}")
    print("statuses:", dict(sorted(stats.status.items())))

    after = [(t, k) for t, k in rss if t >= warm_end]
    first = [k for t, k in after if t < warm_end + 60]
    last = [k for t, k in after if t >= after[-1][0] - 60] if after else []
    failed = []
    if after and first and last:
        a, b = statistics.median(first), statistics.median(last)
        print(f"RSS: start {rss[0][1] // 1024} MiB, after warm-up {a / 1024:.0f} MiB, "
              f"end {b / 1024:.0f} MiB, peak {max(k for _, k in rss) / 1024:.0f} MiB")
        if b - a > max(0.10 * a, 32 * 1024):
            failed.append(f"RSS grew after warm-up: {a / 1024:.0f} -> {b / 1024:.0f} MiB")
    else:
        print("RSS: run too short to compare (needs warm-up + 2 minutes)")
    if stats.errors:
        kinds = {}
        for kind, st in stats.errors:
            kinds[(kind, st)] = kinds.get((kind, st), 0) + 1
        failed.append(f"{len(stats.errors)} 5xx answers or failed connections: {kinds}")
    if not alive:
        failed.append("serve died during the run")
    for f in failed:
        print("FAIL:", f)
    if not failed:
        print("PASS: no 5xx, no failed connections, no RSS growth after warm-up")
    shutil_rm(data)
    sys.exit(1 if failed else 0)


def shutil_rm(path):
    import shutil
    shutil.rmtree(path, ignore_errors=True)


if __name__ == "__main__":
    main()
