#!/usr/bin/env python3
"""Fail CI when the real-world conformance run regresses.

Reads the JSON written by ../shared/eval/conformance.py --json and checks, per kind: no crash, no
timeout, no unsafe string, and the share of files matching the peers exactly stays at or above
the floors below (the issue's targets: feeds and iCalendar 90%, HTML 80%). The share is taken over
the files the peer could read: where feedparser / recurring-ical-events / extruct failed on a
file, the oracle has no count and no answer can "match", so such files are reported but not held
against us.
"""
import json
import sys

FLOORS = {"rss": 0.90, "ics": 0.90, "html": 0.80}


def main(path):
    data = json.load(open(path))
    failed = False
    for kind, s in sorted(data["summary"].items()):
        rows = [r for r in data["rows"] if r["kind"] == kind]
        comparable = [r for r in rows if r.get("expected") is not None]
        exact = sum(1 for r in comparable if r.get("got") == r["expected"])
        rate = exact / len(comparable) if comparable else 1.0
        bad = s["crash"] + s["timeout"] + s["unsafe"]
        floor = FLOORS.get(kind)
        verdict = "ok"
        if bad:
            verdict = f"FAIL: {s['crash']} crashes, {s['timeout']} timeouts, {s['unsafe']} unsafe strings"
        elif floor is not None and rate < floor:
            verdict = f"FAIL: exact {rate:.0%} < {floor:.0%}"
        failed |= verdict != "ok"
        print(
            f"conformance {kind:8} exact {exact:3}/{len(comparable):<3} comparable ({rate:.0%}); "
            f"{s['exact']}/{s['files']} of all files; {verdict}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
