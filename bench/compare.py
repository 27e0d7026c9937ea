#!/usr/bin/env python3
"""Compare coalesce-ingest's parse throughput with Python's feedparser and icalendar
(+ recurring-ical-events) on identical synthetic files, measured in one run.

    pip install feedparser icalendar recurring-ical-events
    python3 bench/compare.py [--rounds 5]

Writes the corpus with `cargo run --release --example benchkit write DIR`, times our parser
in-process (`benchkit time`), times the Python peers on the same files (median of rounds), and
prints MB/s, items/s and the ratio per file plus the overall ratio (total Python time / total
coalesce time over the feeds and the calendar).
"""
import argparse
import datetime as dt
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cargo(*args):
    cmd = ["cargo", "run", "--quiet", "--release", "-p", "coalesce-ingest", "--example", "benchkit", "--", *args]
    return subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout


def median_time(fn, rounds):
    times = []
    result = None
    for _ in range(rounds):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    try:
        import feedparser
        import icalendar
        import recurring_ical_events
    except ImportError as e:
        sys.exit(f"compare: {e}; run: pip install feedparser icalendar recurring-ical-events")

    with tempfile.TemporaryDirectory() as tmp:
        cargo("write", tmp)
        ours = {}
        for line in cargo("time", tmp, str(args.rounds)).splitlines():
            row = json.loads(line)
            ours[row["file"]] = row

        now = dt.datetime(2026, 11, 21, 12, 0, tzinfo=dt.timezone.utc)
        until = now + dt.timedelta(days=730)

        def ics_peer(path):
            cal = icalendar.Calendar.from_ical(Path(path).read_bytes())
            return len(recurring_ical_events.of(cal).between(now, until))

        peers = {
            "rss.xml": lambda p: len(feedparser.parse(Path(p).read_bytes()).entries),
            "atom.xml": lambda p: len(feedparser.parse(Path(p).read_bytes()).entries),
            "events.ics": ics_peer,
        }
        print(f"{'file':12} {'MB':>6} {'items':>7} {'ours MB/s':>10} {'ours items/s':>13} {'python MB/s':>12} {'ratio':>7}")
        total_ours = total_py = 0.0
        for name, peer in peers.items():
            path = str(Path(tmp) / name)
            py_s, py_items = median_time(lambda: peer(path), args.rounds)
            row = ours[name]
            mb = row["bytes"] / 1e6
            if py_items != row["items"]:
                print(f"  note: {name}: python saw {py_items} items, coalesce {row['items']}")
            total_ours += row["median_s"]
            total_py += py_s
            print(f"{name:12} {mb:6.2f} {row['items']:7} {mb / row['median_s']:10.1f} {row['items'] / row['median_s']:13.0f} {mb / py_s:12.2f} {py_s / row['median_s']:6.1f}x")
        html = ours.get("events.html")
        if html:
            mb = html["bytes"] / 1e6
            print(f"{'events.html':12} {mb:6.2f} {html['items']:7} {mb / html['median_s']:10.1f} {html['items'] / html['median_s']:13.0f} {'-':>12} {'-':>7}")
        print(f"\noverall: python feedparser + icalendar take {total_py / total_ours:.1f}x as long as coalesce on the same files")


if __name__ == "__main__":
    main()
