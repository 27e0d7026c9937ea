#!/usr/bin/env python3
"""Fail CI when the real-world conformance run regresses.

Reads the JSON written by ../shared/eval/conformance.py --json and checks: no crash, no timeout,
no unsafe string in any kind, and the share of files matching the peers exactly stays at or above
the floors below (the issue's targets: feeds and iCalendar 90%, HTML 80%).
"""
import json
import sys

FLOORS = {"rss": 0.90, "ics": 0.90, "html": 0.80}


def main(path):
    summary = json.load(open(path))["summary"]
    failed = False
    for kind, s in sorted(summary.items()):
        bad = s["crash"] + s["timeout"] + s["unsafe"]
        rate = s["exact"] / s["files"] if s["files"] else 1.0
        floor = FLOORS.get(kind)
        verdict = "ok"
        if bad:
            verdict = f"FAIL: {s['crash']} crashes, {s['timeout']} timeouts, {s['unsafe']} unsafe strings"
        elif floor is not None and rate < floor:
            verdict = f"FAIL: exact {rate:.0%} < {floor:.0%}"
        failed |= verdict != "ok"
        print(f"conformance {kind:8} exact {s['exact']:3}/{s['files']:<3} ({rate:.0%}) {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
