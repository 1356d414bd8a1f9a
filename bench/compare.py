#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
#
# compare.py: any backends of one vm-bench.sh run side by side (markdown).
#   compare.py RESULTS.txt [--base BACKEND] [--backends a,b,c]
# For each row and backend: the median of the repetitions with min-max, the
# ratio to --base (default: the first backend), the daemon's CPU per command
# (user+system of the serving process, µs) and fio's mean latency.  Backends
# default to those in the file, in order of first appearance.
import argparse
import statistics

from results import load, values

ROWS = [("rr4k1", "4k randread QD1", "iops", "IOPS"),
        ("rr4k32", "4k randread QD32", "iops", "IOPS"),
        ("rw4k32", "4k randwrite QD32", "iops", "IOPS"),
        ("r1m8", "1M read QD8", "mibs", "MiB/s"),
        ("w1m8", "1M write QD8", "mibs", "MiB/s")]


def fmt(v):
    if v is None:
        return "–"
    return f"{v:.0f}" if v >= 10 else f"{v:.2f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("--base")
    ap.add_argument("--backends")
    a = ap.parse_args()
    res, order, info = load(a.results)
    bes = a.backends.split(",") if a.backends else order
    if not bes:
        print(f"compare.py: no RESULT lines in {a.results}")
        return 1
    base = a.base or bes[0]
    for i in dict.fromkeys(info):
        print(f"- {i}")
    print()
    head = ["row", "unit"] + [f"{b}" for b in bes]
    head += [f"{b} / {base}" for b in bes if b != base]
    head += [f"{b} CPU µs/cmd" for b in bes] + [f"{b} mean lat µs" for b in bes]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for row, label, key, unit in ROWS:
        meds, cells, cpu, lat = {}, [], [], []
        for b in bes:
            v = values(res.get((b, row), []), key)
            if not v:
                meds[b] = None
                cells.append("–")
            else:
                meds[b] = statistics.median(v)
                cells.append(f"{fmt(meds[b])} ({fmt(min(v))}–{fmt(max(v))}), n={len(v)}")
            c = values(res.get((b, row), []), "cpu_us_per_cmd")
            cpu.append(fmt(statistics.median(c)) if c and max(c) > 0 else "–")
            m = values(res.get((b, row), []), "lat_mean_us")
            lat.append(fmt(statistics.median(m)) if m else "–")
        ratios = []
        for b in bes:
            if b == base:
                continue
            if meds[b] is None or not meds[base]:
                ratios.append("–")
            else:
                ratios.append(f"{meds[b] / meds[base]:.2f}")
        if not any(meds.values()):
            continue
        print("| " + " | ".join([label, unit] + cells + ratios + cpu + lat) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
