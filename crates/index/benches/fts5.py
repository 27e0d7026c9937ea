#!/usr/bin/env python3
"""SQLite FTS5 on the same generated offerings, for comparison with coalesce-index.

Usage: python3 benches/fts5.py target/bench-index/fts-100000.jsonl
Runs the same mix as benches/search.rs: 80% with text, two filters, upcoming window, facet
counts (topic, sector, modality, provider, month) over the filtered result, top 20 hits.
rusqlite cannot share a build with sqlx, hence Python's sqlite3.
"""
import json, random, sqlite3, statistics, sys, time, os

path = sys.argv[1]
db_path = path + ".sqlite"
NOW = 1772366400  # 2026-03-01T12:00:00Z, as in the Rust bench
if os.path.exists(db_path):
    os.remove(db_path)
db = sqlite3.connect(db_path)
db.executescript("""
PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;
CREATE TABLE o(rowid INTEGER PRIMARY KEY, id TEXT, listed INT, provider TEXT, modality TEXT,
  free INT, credits INT, first_start INT);
CREATE TABLE topic(rowid INT, v TEXT); CREATE TABLE sector(rowid INT, v TEXT);
CREATE TABLE occ(rowid INT, s INT, e INT);
CREATE VIRTUAL TABLE f USING fts5(title, summary, description, provider_name, tokenize='porter unicode61');
""")
t = time.time()
with open(path) as fh:
    for i, line in enumerate(fh, 1):
        d = json.loads(line)
        db.execute("INSERT INTO o VALUES(?,?,?,?,?,?,?,?)", (i, d["id"], int(d["listed"]), d["provider"],
                   d["modality"], 1 if d["free"] else 0, int(d["credits"]), min(d["starts"]) if d["starts"] else None))
        db.execute("INSERT INTO f(rowid,title,summary,description,provider_name) VALUES(?,?,?,?,?)",
                   (i, d["title"], d["summary"] or "", d["description"] or "", d["provider_name"]))
        db.executemany("INSERT INTO topic VALUES(?,?)", [(i, x) for x in d["topics"]])
        db.executemany("INSERT INTO sector VALUES(?,?)", [(i, x) for x in d["sectors"]])
        db.executemany("INSERT INTO occ VALUES(?,?,?)", [(i, s, e) for s, e in zip(d["starts"], d["ends"])])
db.executescript("""
CREATE INDEX o_mod ON o(modality, free); CREATE INDEX topic_v ON topic(v, rowid); CREATE INDEX topic_r ON topic(rowid);
CREATE INDEX sector_v ON sector(v, rowid); CREATE INDEX sector_r ON sector(rowid); CREATE INDEX occ_r ON occ(rowid, e, s);
""")
db.commit()
print(f"fts5 build: {time.time() - t:.1f}s")

WORDS = ["preservation", "digital collections", "grant writing", "cataloging", "copyright",
         "disaster planning", "leadership", "storytime", "accessibility", "metadata",
         "volunteer management", "project management", "presevation", "professional development",
         "fair use", '"collections care"', "records NOT retention", "oral history OR exhibits"]
rng = random.Random(9)

def query():
    where = ["o.listed = 1"]
    args = []
    text = None
    if rng.randrange(5) > 0:
        text = rng.choice(WORDS)
    k = rng.randrange(4)
    to = None
    if k == 0:
        where += ["o.modality = 'online'", "o.free = 1"]
    elif k == 1:
        where += ["o.rowid IN (SELECT rowid FROM sector WHERE v = 'museums')", "o.credits = 1"]
    elif k == 2:
        where += ["o.rowid IN (SELECT rowid FROM topic WHERE v = 'preservation')", "o.modality = 'online'"]
    else:
        where += ["o.rowid IN (SELECT rowid FROM sector WHERE v = 'libraries')"]
        to = NOW + 60 * 86400
    # Upcoming window (or on-demand), with the first session in the window for sort and month.
    win = "SELECT min(s) FROM occ WHERE occ.rowid = o.rowid AND e >= ?" + (" AND s < ?" if to else "")
    wargs = [NOW] + ([to] if to else [])
    base = f"SELECT o.rowid AS rid, ({win}) AS nxt, o.provider, o.modality FROM o"
    args = list(wargs)
    if text:
        base += " JOIN f ON f.rowid = o.rowid AND f MATCH ?"
        args.append(text)
    base += " WHERE " + " AND ".join(where)
    filtered = (f"WITH r AS ({base}) SELECT * FROM r WHERE nxt IS NOT NULL "
                f"OR NOT EXISTS (SELECT 1 FROM occ WHERE occ.rowid = r.rid)")
    db.execute("DROP TABLE IF EXISTS temp.hits")
    db.execute(f"CREATE TEMP TABLE hits AS {filtered}", args)
    total = db.execute("SELECT count(*) FROM hits").fetchone()[0]
    db.execute("SELECT rid FROM hits ORDER BY nxt IS NULL, nxt, rid LIMIT 20").fetchall()
    db.execute("SELECT t.v, count(*) FROM hits JOIN topic t ON t.rowid = hits.rid GROUP BY t.v").fetchall()
    db.execute("SELECT s.v, count(*) FROM hits JOIN sector s ON s.rowid = hits.rid GROUP BY s.v").fetchall()
    db.execute("SELECT modality, count(*) FROM hits GROUP BY modality").fetchall()
    db.execute("SELECT provider, count(*) FROM hits GROUP BY provider ORDER BY 2 DESC LIMIT 30").fetchall()
    db.execute("SELECT strftime('%Y-%m', nxt, 'unixepoch'), count(*) FROM hits WHERE nxt IS NOT NULL GROUP BY 1").fetchall()
    return total

n = int(os.environ.get("FTS_QUERIES", "300"))
for _ in range(20):
    query()
times = []
for _ in range(n):
    s = time.perf_counter()
    query()
    times.append((time.perf_counter() - s) * 1000)
times.sort()
print(f"fts5 search ({n} queries): p50 {times[len(times)//2]:.2f} ms, p90 {times[int(len(times)*0.9)]:.2f} ms, "
      f"p99 {times[int(len(times)*0.99)]:.2f} ms")
