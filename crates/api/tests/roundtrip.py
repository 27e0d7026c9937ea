#!/usr/bin/env python3
"""Round-trip oracle for coalesce's output writers (run by crates/api/tests/feeds.rs).

    python3 roundtrip.py --ics FILE --atom FILE --from 2026-01-01 --to 2028-01-01

Parses our .ics with `icalendar` (strict about structure), expands it with
`recurring-ical-events` between the two dates, and parses our Atom with `feedparser`. Prints one
JSON object: {"events": [{"uid", "summary", "status", "sequence", "description", "start",
"end", "all_day"}], "atom":
{"bozo", "bozo_exception", "entries", "ids", "titles"}}. Timed instants are printed in UTC
(RFC 3339, "Z"), dates as YYYY-MM-DD, so Rust can compare them with its own instants.

Exit status 3 when a module is missing, so the caller can skip with a clear message.
"""
import argparse
import datetime as dt
import json
import sys

try:
    import feedparser
    import icalendar
    import recurring_ical_events
except ImportError as e:  # pragma: no cover - depends on the machine
    print(f"missing python module: {e.name}", file=sys.stderr)
    sys.exit(3)


def when(value):
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise SystemExit(f"floating time in output: {value}")
        return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), False
    return value.isoformat(), True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ics")
    ap.add_argument("--atom")
    ap.add_argument("--from", dest="start", default="2000-01-01")
    ap.add_argument("--to", dest="end", default="2100-01-01")
    args = ap.parse_args()
    out = {}
    if args.ics:
        with open(args.ics, "rb") as f:
            cal = icalendar.Calendar.from_ical(f.read())
        start = dt.date.fromisoformat(args.start)
        end = dt.date.fromisoformat(args.end)
        events = []
        for ev in recurring_ical_events.of(cal).between(start, end):
            s, all_day = when(ev.decoded("DTSTART"))
            e = when(ev.decoded("DTEND"))[0] if "DTEND" in ev else None
            events.append({
                "uid": str(ev.get("UID")),
                "summary": str(ev.get("SUMMARY")),
                "status": str(ev.get("STATUS", "")),
                "location": str(ev.get("LOCATION", "")),
                "sequence": int(ev.get("SEQUENCE", 0)),
                "description": str(ev.get("DESCRIPTION", "")),
                "start": s,
                "end": e,
                "all_day": all_day,
            })
        events.sort(key=lambda x: (x["start"], x["uid"]))
        out["events"] = events
        out["calendar_name"] = str(cal.get("X-WR-CALNAME", ""))
    if args.atom:
        with open(args.atom, "rb") as f:
            parsed = feedparser.parse(f.read())
        out["atom"] = {
            "bozo": bool(parsed.bozo),
            "bozo_exception": str(parsed.get("bozo_exception", "")),
            "entries": len(parsed.entries),
            "ids": [e.get("id") for e in parsed.entries],
            "titles": [e.get("title") for e in parsed.entries],
            "updated": [e.get("updated") for e in parsed.entries],
        }
    json.dump(out, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
