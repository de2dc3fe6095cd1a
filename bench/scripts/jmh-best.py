#!/usr/bin/env python3
"""Summarise a JMH JSON result: per benchmark and params, the mean, the best (lowest) iteration and the
allocation per op (from -prof gc). Usage: jmh-best.py result.json"""
import json
import sys


def rows(path):
    for b in json.load(open(path)):
        name = b["benchmark"].rsplit(".", 2)
        params = b.get("params", {})
        raw = [x for fork in b["primaryMetric"]["rawData"] for x in fork]
        alloc = b.get("secondaryMetrics", {}).get("gc.alloc.rate.norm", {}).get("score")
        yield (name[-2] + "." + name[-1], params, b["primaryMetric"]["score"], min(raw), alloc,
               b["primaryMetric"]["scoreUnit"])


if __name__ == "__main__":
    for n, p, mean, best, alloc, unit in rows(sys.argv[1]):
        ps = " ".join(f"{k}={v}" for k, v in sorted(p.items()))
        a = "" if alloc is None else f"  alloc {alloc:.3f} B/op"
        print(f"{n:32s} {ps:24s} mean {mean:9.2f} best {best:9.2f} {unit}{a}")
