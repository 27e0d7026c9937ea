#!/usr/bin/env python3
"""Fail CI when fidelity on the LAM development set falls below the level reached (a ratchet).

    lamdev_gate.py parse|e2e OUT_DIR

OUT_DIR is the --out folder of ../shared/eval/lam-dev/run_parse.py or run_e2e.py; its score.json
(written by the set's tools/score.py) is read. The floors live in .ci/lamdev_floors.json, one
table per harness. Raise a floor when a change lifts a figure; never lower one to let a change
land: a drop means a rule got worse on real-shaped sites, and the same measures are taken on
sites this project does not have.

Checks per harness:
- field accuracy (share of matched key entries with the field right) >= its floor;
- topics mean Jaccard, matched entries and (e2e) dedup precision / recall >= their floors;
- extra records and distinct-offering error (e2e) <= their ceilings;
- no near-miss pair merged, ever.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def check(harness, out):
    floors = json.load(open(os.path.join(HERE, "lamdev_floors.json")))[harness]
    score = json.load(open(os.path.join(out, "score.json")))
    ex, dd, tot = score["extraction"], score["dedup"], score["totals"]
    seen = {f"field.{k}": v for k, v in ex["field_accuracy"].items()}
    seen["topics_jaccard"] = ex["topics_mean_jaccard"]
    seen["matched"] = ex["matched"]
    seen["extra_records"] = ex["extra_records"]
    seen["dedup_precision"] = dd["pairwise_precision"]
    seen["dedup_recall"] = dd["pairwise_recall"]
    got, want = tot["distinct_offerings"]
    seen["distinct_error"] = abs(got - want)
    failures = []
    for name, bound in sorted(floors.items()):
        value = seen.get(name)
        if value is None:
            failures.append(f"{name}: not in score.json")
            continue
        ceiling = name in ("extra_records", "distinct_error")
        ok = value <= bound if ceiling else value >= bound
        rel = "<=" if ceiling else ">="
        print(f"lam-dev {harness:5} {name:26} {value:>8.4g} (want {rel} {bound}) {'ok' if ok else 'FAIL'}")
        if not ok:
            failures.append(f"{name} {value} not {rel} {bound}")
    merged = dd["near_miss_pairs_wrongly_merged"]
    if merged:
        failures.append(f"near-miss pairs merged: {merged}")
    print(f"lam-dev {harness:5} near-miss pairs merged     {len(merged):>8} (want 0) {'ok' if not merged else 'FAIL'}")
    for f in failures:
        print(f"FAIL lam-dev {harness}: {f}")
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("parse", "e2e"):
        print(__doc__)
        sys.exit(2)
    sys.exit(check(sys.argv[1], sys.argv[2]))
