#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
#
# qcow-report.py: the qcow handler's table from one vm-bench.sh run with
# BENCH_BACKENDS="ours qcow-pre qcow-sparse anchor" (results.txt RESULT
# lines): medians per backend and row, the ratios of issue 15's goals, and
# whether each goal is met; then the 4k QD1 row repetition by repetition,
# with what the ring thread's spin A/B decided (SPIN lines: over all the
# rows the backend ran in that repetition) and the daemon's own mean latency
# per command (STAT lines: off the ring to completion; rr4k1 is the first
# row, so its totals are that row's).  Prints markdown.
#   qcow-report.py RESULTS.txt
import re
import statistics
import sys

from results import load, values

ROWS = [("rr4k1", "4k randread QD1"), ("rr4k32", "4k randread QD32"),
        ("rw4k32", "4k randwrite QD32"), ("r1m8", "1M read QD8"), ("w1m8", "1M write QD8")]
BACKENDS = [("ours", "file handler"), ("qcow-pre", "qcow, preallocated"),
            ("qcow-sparse", "qcow, sparse (allocating)"), ("anchor", "Debian 1.5.4 qcow")]
# Shown in the repetition table only when the run has them.
EXTRA = [("qcow-raw", "qcow handler on raw.img")]


def side_lines(path):
    """(rep, backend) -> spin A/Bs won and held; (rep, backend, row) -> the
    daemon's mean latency in us."""
    spin, lat = {}, {}
    for ln in open(path):
        kv = dict(t.split("=", 1) for t in ln.split() if "=" in t)
        if ln.startswith("SPIN "):
            m = re.search(r"spinning won (\d+) of (\d+) A/Bs", ln)
            if m:
                spin[(kv.get("rep"), kv.get("backend"))] = (int(m.group(1)), int(m.group(2)))
        elif ln.startswith("STAT "):
            try:
                n = sum(int(kv[d + "_cmds"]) for d in ("read", "write", "other"))
                lat[(kv["rep"], kv["backend"], kv["row"])] = int(kv["latency_total_ns"]) / n / 1000
            except (KeyError, ValueError, ZeroDivisionError):
                pass
    return spin, lat


def rep_table(res, path, row="rr4k1"):
    spin, lat = side_lines(path)
    names = [(be, name) for be, name in BACKENDS + EXTRA if res.get((be, row))]
    if not names:
        return
    print()
    print("4k randread QD1, each repetition (spin: A/Bs won by spinning, of those held):")
    print()
    print("| rep | backend | IOPS | fio mean us | daemon mean us | spin won |")
    print("|---|---|---|---|---|---|")
    for be, name in names:
        for kv in res[(be, row)]:
            r = kv.get("rep")
            w = spin.get((r, be))
            print("| %s | %s | %s | %s | %s | %s |" % (
                r, name, f(med([kv], "iops")), f(med([kv], "lat_mean_us")),
                f(lat.get((r, be, row))), "%d of %d" % w if w else "-"))


def med(sel, key):
    v = values(sel, key)
    return statistics.median(v) if v else None


def ratio(a, b):
    return a / b if a is not None and b else None


def f(v, nd=0):
    return "-" if v is None else ("%%.%df" % nd) % v


def main():
    res = load(sys.argv[1])[0]
    m = {}
    print("| workload | backend | IOPS | MiB/s | mean us | daemon CPU us/cmd | runs |")
    print("|---|---|---|---|---|---|---|")
    for row, label in ROWS:
        for be, name in BACKENDS:
            sel = res.get((be, row), [])
            m[(be, row)] = med(sel, "iops")
            print("| %s | %s | %s | %s | %s | %s | %d |" % (
                label, name, f(med(sel, "iops")), f(med(sel, "mibs"), 1),
                f(med(sel, "lat_mean_us")), f(med(sel, "cpu_us_per_cmd"), 1), len(sel)))
    print()
    print("| workload | qcow pre / file | qcow sparse / qcow pre | qcow pre / Debian qcow |")
    print("|---|---|---|---|")
    goals = []
    for row, label in ROWS:
        pf = ratio(m[("qcow-pre", row)], m[("ours", row)])
        sp = ratio(m[("qcow-sparse", row)], m[("qcow-pre", row)])
        pa = ratio(m[("qcow-pre", row)], m[("anchor", row)])
        print("| %s | %s | %s | %s |" % (label, f(pf, 2), f(sp, 2), f(pa, 2)))
        goals.append(("preallocated >= 0.9x file handler, %s" % label, pf, 0.9))
        if row == "rw4k32":
            goals.append(("allocating 4k writes >= 0.5x preallocated", sp, 0.5))
        goals.append(("preallocated >= %.1fx Debian's qcow, %s" % (
            1.5 if "4k" in row else 1.0, label), pa, 1.5 if "4k" in row else 1.0))
    print()
    print("| goal | measured | met |")
    print("|---|---|---|")
    for name, v, want in goals:
        print("| %s | %s | %s |" % (name, f(v, 2) + "x" if v is not None else "-",
                                    "yes" if v is not None and v >= want else "**no**"))
    rep_table(res, sys.argv[1])


if __name__ == "__main__":
    main()
