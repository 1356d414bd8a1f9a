#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
#
# qcow-report.py: the qcow handler's table from one vm-bench.sh run with
# BENCH_BACKENDS="ours qcow-pre qcow-sparse anchor" (results.txt RESULT
# lines): medians per backend and row, the ratios of issue 15's goals, and
# whether each goal is met.  Prints markdown.
#   qcow-report.py RESULTS.txt
import statistics
import sys

from results import load, values

ROWS = [("rr4k1", "4k randread QD1"), ("rr4k32", "4k randread QD32"),
        ("rw4k32", "4k randwrite QD32"), ("r1m8", "1M read QD8"), ("w1m8", "1M write QD8")]
BACKENDS = [("ours", "file handler"), ("qcow-pre", "qcow, preallocated"),
            ("qcow-sparse", "qcow, sparse (allocating)"), ("anchor", "Debian 1.5.4 qcow")]


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


if __name__ == "__main__":
    main()
