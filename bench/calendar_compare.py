#!/usr/bin/env python3
"""Compare coalesce-api's calendar writer with Python's icalendar writing the same 10,000 events.

    pip install icalendar
    python3 bench/calendar_compare.py [--rounds 5]

Dumps the corpus with `cargo run --release -p coalesce-api --example calbench -- dump FILE`,
times our writer in-process (`calbench time`, median of rounds), builds and serializes the same
VEVENTs (UID, DTSTAMP, LAST-MODIFIED, SEQUENCE, DTSTART/DTEND with TZID, SUMMARY, STATUS,
DESCRIPTION, LOCATION, GEO, URL, CATEGORIES) plus the VTIMEZONEs with icalendar (median of
rounds), and prints both times, sizes and the ratio. Python gets the description template
pre-chewed and is not asked to cap or sort, so the ratio is if anything generous to it.
"""
import argparse
import datetime as dt
import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar

ROOT = Path(__file__).resolve().parent.parent


def cargo(*args):
    cmd = ["cargo", "run", "--quiet", "--release", "-p", "coalesce-api", "--example", "calbench", "--", *args]
    return subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout


def details(e):
    o = e["offering"]
    parts = []
    if o["status"] == "cancelled":
        parts.append("CANCELLED.")
    if o.get("summary"):
        parts.append(o["summary"] + "\n")
    if o.get("registration_url"):
        parts.append("Register: " + o["registration_url"])
    cost = o["cost"]
    if cost.get("free"):
        parts.append("Cost: free")
    elif cost.get("text"):
        parts.append("Cost: " + cost["text"])
    parts.append("Offered by: " + e["provider"])
    if e["also_offered_by"]:
        parts.append("Also offered by: " + ", ".join(e["also_offered_by"]))
    parts.append("Details: " + e["detail_url"])
    return "\n".join(parts)


def location(o):
    loc = o.get("location")
    if not loc:
        return "Online" if o.get("modality") == "online" else None
    parts = [loc[k] for k in ("name", "address", "locality", "region", "country") if loc.get(k)]
    return ", ".join(parts)


def build(entries):
    cal = icalendar.Calendar()
    cal.add("prodid", "-//coalesce bench//python//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", "coalesce: everything")
    for e in entries:
        o = e["offering"]
        tz = ZoneInfo(o["timezone"])
        updated = dt.datetime.fromisoformat(e["updated_at"].replace("Z", "+00:00"))
        desc = details(e)
        loc = location(o)
        single = len(o["occurrences"]) == 1 and not o["recurring"]
        for occ in o["occurrences"]:
            start = dt.datetime.fromisoformat(occ["start"]).astimezone(tz)
            end = dt.datetime.fromisoformat(occ["end"]).astimezone(tz)
            ev = icalendar.Event()
            uid = e["id"] if single else e["id"] + "-" + start.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
            ev.add("uid", uid + "@coalesce.example")
            ev.add("dtstamp", updated)
            ev.add("last-modified", updated)
            ev.add("sequence", e["sequence"])
            ev.add("dtstart", start)
            ev.add("dtend", end)
            cancelled = o["status"] == "cancelled" or occ.get("cancelled", False)
            ev.add("summary", ("Cancelled: " if cancelled else "") + o["title"])
            ev.add("status", "CANCELLED" if cancelled else "CONFIRMED")
            ev.add("description", desc)
            if loc:
                ev.add("location", loc)
            if o.get("location") and o["location"].get("geo"):
                g = o["location"]["geo"]
                ev.add("geo", (g["lat"], g["lon"]))
            ev.add("url", o["url"])
            ev.add("categories", e["topic_labels"])
            cal.add_component(ev)
    cal.add_missing_timezones()
    return cal.to_ical()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "corpus.json"
        cargo("dump", str(path))
        entries = json.loads(path.read_text())
    ours = json.loads(cargo("time", str(args.rounds)))
    times, body = [], b""
    for _ in range(args.rounds):
        t = time.perf_counter()
        body = build(entries)
        times.append(time.perf_counter() - t)
    py = statistics.median(times)
    events = body.count(b"BEGIN:VEVENT")
    print(f"icalendar {icalendar.__version__}: {events} events, {len(body):,} bytes, median {py * 1000:.1f} ms")
    print(f"coalesce-api:     {ours['events']} events, {ours['bytes']:,} bytes, median {ours['median_secs'] * 1000:.1f} ms")
    print(f"ratio (python / coalesce): {py / ours['median_secs']:.0f}x")


if __name__ == "__main__":
    main()
