#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
#
# rbd-report.py: the rbd handler's table (issue 17, "Performance") from one
# vm-bench.sh run with BENCH_BACKENDS="rbd anchor-rbd fio-rbd" (the RESULT and
# THREADS lines of results.txt): per row and backend the median (min-max) of
# IOPS (4k rows) or MiB/s (1M rows), the ratios rbd / fio-rbd and
# rbd / anchor-rbd, the daemon CPU per SCSI command, whether each goal is met,
# where each daemon's CPU went by thread and, when the run recorded it, how
# the whole guest's CPU per command splits.  Prints markdown.
#   rbd-report.py RESULTS.txt
import re
import statistics
import sys

from results import load, values

ROWS = [("rr4k1", "4k randread QD1"), ("rr4k32", "4k randread QD32"),
        ("rw4k32", "4k randwrite QD32"), ("r1m8", "1M read QD8"), ("w1m8", "1M write QD8")]
BACKENDS = ["fio-rbd", "anchor-rbd", "rbd"]
DAEMONS = ["rbd", "anchor-rbd"]  # the backends whose CPU is a daemon's
GOAL_FIO = 0.8      # rbd >= 0.8x fio-rbd, every row
GOAL_ANCHOR = 1.5   # rbd >= 1.5x anchor-rbd, 4k QD32 rows


def load_threads(path):
    """CPU ticks by backend and kind of thread, summed over repetitions."""
    threads = {}
    for ln in open(path):
        words = ln.split()
        if not words or words[0] != "THREADS":
            continue
        kv = dict(t.split("=", 1) for t in words[1:] if "=" in t)
        # THREADS rep=N backend=B comm:ticks ...
        per = threads.setdefault(kv.get("backend"), {})
        for t in words[1:]:
            if "=" in t or ":" not in t:
                continue
            comm, ticks = t.rsplit(":", 1)
            # one name per kind of thread: msgr-worker-0 and -1 together
            comm = re.sub(r"[-_]?\d+$", "", comm) or comm
            per[comm] = per.get(comm, 0) + int(ticks)
    return threads


def spread(v, nd=0):
    if not v:
        return "-"
    fmt = "%%.%df" % nd
    med = fmt % statistics.median(v)
    return med if len(v) == 1 else "%s (%s–%s)" % (med, fmt % min(v), fmt % max(v))


def median(v):
    return statistics.median(v) if v else None


def ratio(a, b):
    return a / b if a is not None and b else None


def f(v, nd=2, unit=""):
    return "-" if v is None else ("%%.%df%s" % (nd, unit)) % v


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: rbd-report.py RESULTS.txt")
    res, threads = load(sys.argv[1])[0], load_threads(sys.argv[1])
    reps = max((len(res.get((be, r), [])) for be in BACKENDS for r, _ in ROWS), default=0)
    print("Medians of %d repetition(s), (min–max) when more than one." % reps)
    print()
    print("| row | unit | fio-rbd | anchor-rbd | rbd | rbd / fio-rbd | rbd / anchor-rbd |"
          " CPU µs/cmd, anchor-rbd | CPU µs/cmd, rbd |")
    print("|---|---|---|---|---|---|---|---|---|")
    goals = []
    for row, label in ROWS:
        key, unit, nd = ("mibs", "MiB/s", 1) if "1m" in row else ("iops", "IOPS", 0)
        v = {be: values(res.get((be, row), []), key) for be in BACKENDS}
        cpu = {be: values(res.get((be, row), []), "cpu_us_per_cmd") for be in DAEMONS}
        rf = ratio(median(v["rbd"]), median(v["fio-rbd"]))
        ra = ratio(median(v["rbd"]), median(v["anchor-rbd"]))
        print("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            label, unit, spread(v["fio-rbd"], nd), spread(v["anchor-rbd"], nd),
            spread(v["rbd"], nd), f(rf), f(ra), spread(cpu["anchor-rbd"]), spread(cpu["rbd"])))
        goals.append(("rbd >= %.1fx fio-rbd, %s" % (GOAL_FIO, label), rf, GOAL_FIO))
        if row in ("rr4k32", "rw4k32"):
            goals.append(("rbd >= %.1fx anchor-rbd, %s" % (GOAL_ANCHOR, label), ra, GOAL_ANCHOR))
    print()
    print("| goal | measured | met |")
    print("|---|---|---|")
    for name, v, want in goals:
        print("| %s | %s | %s |" % (name, f(v, 2, "x"),
                                    "-" if v is None else ("yes" if v >= want else "**no**")))
    bad = ["%s/%s/rep %s" % (kv.get("backend"), kv.get("row"), kv.get("rep"))
           for (be, _), sel in sorted(res.items()) if be in BACKENDS for kv in sel if "error" in kv]
    if bad:
        print()
        print("fio failed (no figures) in: %s." % ", ".join(bad))
    # Variants of ours (vm-bench.sh's rbd-nopoll, rbd-nbaio): IOPS against fio-rbd.
    variants = sorted({be for be, _ in res if be.startswith("rbd-")})
    if variants:
        print()
        print("| row | variant | ours (rbd) | variant | variant / fio-rbd | variant / rbd |")
        print("|---|---|---|---|---|---|")
        for row, label in ROWS:
            key, nd = ("mibs", 1) if "1m" in row else ("iops", 0)
            base, fio = values(res.get(("rbd", row), []), key), values(res.get(("fio-rbd", row), []), key)
            for be in variants:
                v = values(res.get((be, row), []), key)
                if v:
                    print("| %s | %s | %s | %s | %s | %s |" % (
                        label, be, spread(base, nd), spread(v, nd),
                        f(ratio(median(v), median(fio))), f(ratio(median(v), median(base)))))
    split = [(row, label) for row, label in ROWS
             if values(res.get(("rbd", row), []), "cluster_cpu_us_per_cmd")]
    if split:
        # Where the guest's CPU went, per command: the daemon (librbd with it,
        # or fio's own librbd for fio-rbd), the cluster (monitor and OSD),
        # fio, and the rest (the kernel's SCSI, tcm_loop and TCMU path,
        # interrupts, other processes).
        print()
        print("Guest CPU per command, medians (µs): whole guest = daemon + cluster + fio + rest. fio is")
        print("fio's job thread only; rest is the kernel (SCSI, tcm_loop, TCMU, interrupts), other threads")
        print("(for fio-rbd: librbd's, in fio) and everything else.")
        print()
        print("| row | backend | whole guest | daemon | cluster (mon, OSD) | fio | rest |")
        print("|---|---|---|---|---|---|---|")
        for row, label in split:
            for be in BACKENDS + variants:
                sel = res.get((be, row), [])
                m = {k: median(values(sel, k)) for k in
                     ("sys_cpu_us_per_cmd", "cpu_us_per_cmd", "cluster_cpu_us_per_cmd",
                      "fio_cpu_us_per_cmd")}
                if m["sys_cpu_us_per_cmd"] is None:
                    continue
                parts = [m[k] or 0.0 for k in ("cpu_us_per_cmd", "cluster_cpu_us_per_cmd",
                                                "fio_cpu_us_per_cmd")]
                print("| %s | %s | %s | %s | %s | %s | %s |" % (
                    label, be, f(m["sys_cpu_us_per_cmd"], 0), f(m["cpu_us_per_cmd"], 0)
                    if be != "fio-rbd" else "-", f(m["cluster_cpu_us_per_cmd"], 0),
                    f(m["fio_cpu_us_per_cmd"], 0), f(m["sys_cpu_us_per_cmd"] - sum(parts), 0)))
    for be in DAEMONS:
        per = threads.get(be)
        if not per:
            continue
        tot = sum(per.values()) or 1
        top = sorted(per.items(), key=lambda kv: -kv[1])[:6]
        print()
        print("%s daemon CPU by thread (all rows and repetitions): %s." % (
            be, ", ".join("%s %.0f%%" % (c, 100.0 * t / tot) for c, t in top)))


if __name__ == "__main__":
    main()
