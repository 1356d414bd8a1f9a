#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
#
# report.py: turn the RESULT lines of bench/run.sh (host microbenchmark:
# micro.txt, VM: vm.txt) into medians, ratios and goal checks; print the
# tables and write docs/performance.md.
#   report.py --micro micro.txt --vm vm.txt --out docs/performance.md [--notes FILE]
import argparse
import datetime
import os
import statistics
import sys

ROWS = [("rr4k1", "4k randread QD1"), ("rr4k32", "4k randread QD32"),
        ("rw4k32", "4k randwrite QD32"), ("r1m8", "1M read QD8"), ("w1m8", "1M write QD8")]


def parse(path):
    out = []
    if not path:
        return out
    try:
        lines = open(path).read().splitlines()
    except OSError:
        return out
    for ln in lines:
        if not (ln.startswith("RESULT ") or ln.startswith("INFO ") or ln.startswith("RSS ")):
            continue
        kv = {"_kind": ln.split()[0]}
        for tok in ln.split()[1:]:
            if "=" in tok:
                k, v = tok.split("=", 1)
                kv[k] = v
        out.append(kv)
    return out


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def med(vals):
    vals = [v for v in vals if v is not None and v >= 0]
    return statistics.median(vals) if vals else None


def fmt(v, nd=0):
    if v is None:
        return "-"
    return ("%%.%df" % nd) % v


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def vm_tables(res):
    info = [r for r in res if r["_kind"] == "INFO"]
    rows = [r for r in res if r["_kind"] == "RESULT" and "backend" in r]
    backends = []
    for r in rows:
        if r["backend"] not in backends:
            backends.append(r["backend"])
    m = {}
    reps = {}
    for be in backends:
        for row, _ in ROWS:
            sel = [r for r in rows if r["backend"] == be and r["row"] == row]
            reps[(be, row)] = len(sel)
            m[(be, row)] = {k: med([num(r.get(k)) for r in sel])
                            for k in ("iops", "mibs", "lat_mean_us", "lat_p99_us",
                                      "cpu_us_per_cmd", "sys_cpu_us_per_cmd", "rss_kib")}
            for k in ("iops", "mibs", "lat_mean_us"):
                vals = [v for v in (num(r.get(k)) for r in sel) if v is not None and v >= 0]
                m[(be, row)][k + "_lo"] = min(vals) if vals else None
                m[(be, row)][k + "_hi"] = max(vals) if vals else None
    return info, backends, m, reps


def spread(v, k, nd=0):
    """median (min-max) of one cell, or just the median for one repetition"""
    if v.get(k) is None:
        return "-"
    lo, hi = v.get(k + "_lo"), v.get(k + "_hi")
    if lo is None or hi is None or lo == hi:
        return fmt(v[k], nd)
    return "%s (%s–%s)" % (fmt(v[k], nd), fmt(lo, nd), fmt(hi, nd))


def host_line(m):
    """the host's speed: kernel fileio at 4k QD1 in the same boot"""
    v = m.get(("fileio", "rr4k1"))
    if not v or v.get("iops") is None:
        return "Host speed: no fileio 4k QD1 row in this run.\n"
    return ("Host speed (kernel fileio, 4k randread QD1, this boot): %s IOPS, mean latency "
            "%s us.\n" % (spread(v, "iops"), spread(v, "lat_mean_us")))


POLL_ALT = ("ours-nopoll", "ours-poll50")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--micro")
    ap.add_argument("--vm")
    ap.add_argument("--insn", help="RESULT lines of runs with -i (instruction counts)")
    ap.add_argument("--threads", help="VM results with THREADS lines (per-thread CPU)")
    ap.add_argument("--out")
    ap.add_argument("--notes", help="markdown appended to the generated page")
    ap.add_argument("--exp", action="append", default=[],
                    help="VM results of an experiment run (backends vs ours), repeatable")
    a = ap.parse_args()

    micro = parse(a.micro)
    insn = [r for r in parse(a.insn) if r["_kind"] == "RESULT"]
    vm = parse(a.vm)
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    md = []
    goals = []

    # ---- VM table -----------------------------------------------------------
    info, backends, m, reps = vm_tables(vm)
    if backends:
        md.append("## Real kernel (VM): fileio vs ours vs anchor\n")
        for i in info:
            md.append("Run: " + ", ".join("%s=%s" % (k, v) for k, v in i.items()
                                            if not k.startswith("_")) + "\n")
        md.append(host_line(m))
        md.append("Median (min–max) of %d repetition(s) per row; the backends take turns "
                  "within each repetition.  IOPS/MiB/s from fio; mean/p99 = "
                  "total latency (fio lat_ns); *daemon CPU* = utime+stime of the daemon "
                  "over the row / SCSI commands the LUN received (LIO num_cmds); *guest "
                  "CPU* = all non-idle CPU time of the guest per command (kernel included, "
                  "so fileio has one too); RSS = daemon VmRSS after the row.  *ours/best "
                  "poll* = ours (adaptive polling) / the better of ours-nopoll and "
                  "ours-poll50.  Backends run once (BENCH_EXTRA) have no spread.\n"
                  % max(reps.values()))
        hdr = ("| workload | backend | IOPS | MiB/s | mean us | p99 us | daemon CPU us/cmd "
               "| guest CPU us/cmd | RSS MiB | ours/fileio | ours/anchor | ours/best poll |")
        md.append(hdr)
        md.append("|" + "---|" * 12)
        for row, label in ROWS:
            o = m.get(("ours", row), {})
            key = "mibs" if row.startswith(("r1m", "w1m")) else "iops"
            for be in backends:
                v = m.get((be, row))
                if not v or v["iops"] is None:
                    continue
                rf = ra = rb = ""
                if be == "ours":
                    rf = fmt(ratio(o.get(key), m.get(("fileio", row), {}).get(key)), 2)
                    ra = fmt(ratio(o.get(key), m.get(("anchor", row), {}).get(key)), 2)
                    alt = [m.get((b, row), {}).get(key) for b in POLL_ALT]
                    alt = [x for x in alt if x is not None]
                    rb = fmt(ratio(o.get(key), max(alt)), 2) if alt else ""
                rss = v["rss_kib"] / 1024 if v["rss_kib"] else None
                md.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                    label, be, spread(v, "iops") if key == "iops" else fmt(v["iops"]),
                    spread(v, "mibs", 1) if key == "mibs" else fmt(v["mibs"], 1),
                    spread(v, "lat_mean_us"),
                    fmt(v["lat_p99_us"]), fmt(v["cpu_us_per_cmd"], 1) if be != "fileio"
                    else "(kernel)", fmt(v["sys_cpu_us_per_cmd"], 1),
                    fmt(rss, 1) if be != "fileio" else "-", rf, ra, rb))
        md.append("")

        def g(be, row, k):
            return m.get((be, row), {}).get(k)
        for row in ("rr4k32", "rw4k32"):
            r = ratio(g("ours", row, "iops"), g("fileio", row, "iops"))
            goals.append(("4k QD32 %s >= 0.9x fileio" % row, r is not None and r >= 0.9,
                          "%sx" % fmt(r, 2)))
        for row in ("r1m8", "w1m8"):
            r = ratio(g("ours", row, "mibs"), g("fileio", row, "mibs"))
            goals.append(("1M %s >= 0.7x fileio" % row, r is not None and r >= 0.7,
                          "%sx" % fmt(r, 2)))
        r = ratio(g("ours", "rr4k1", "lat_mean_us"), g("fileio", "rr4k1", "lat_mean_us"))
        goals.append(("4k QD1 mean latency <= 2x fileio", r is not None and r <= 2,
                      "%sx" % fmt(r, 2)))
        for row, label in ROWS:
            r = ratio(g("ours", row, "cpu_us_per_cmd"), g("anchor", row, "cpu_us_per_cmd"))
            goals.append(("daemon CPU/cmd <= 1/3 anchor, %s" % label,
                          r is not None and r <= 1 / 3, "%sx" % fmt(r, 2)))
        for row, label in ROWS:
            key = "mibs" if row.startswith(("r1m", "w1m")) else "iops"
            r = ratio(g("ours", row, key), g("anchor", row, key))
            goals.append(("ours >= anchor (medians), %s" % label, r is not None and r >= 1,
                          "%sx" % fmt(r, 2)))
        if any(("ours-nopoll", row) in m or ("ours-poll50", row) in m for row, _ in ROWS):
            for row, label in ROWS:
                key = "mibs" if row.startswith(("r1m", "w1m")) else "iops"
                alt = [(g(b, row, key), b) for b in POLL_ALT if g(b, row, key) is not None]
                if not alt:
                    continue
                best = max(alt)
                r = ratio(g("ours", row, key), best[0])
                goals.append(("adaptive >= 0.95x best of (nopoll, poll50), %s" % label,
                              r is not None and r >= 0.95,
                              "%sx (best: %s)" % (fmt(r, 2), best[1])))
            r = ratio(g("ours", "rr4k1", "lat_mean_us"), g("ours-poll50", "rr4k1", "lat_mean_us"))
            goals.append(("4k QD1 mean latency within 10% of ours-poll50",
                          r is not None and r <= 1.10, "%sx" % fmt(r, 2)))

    # ---- experiments: same boot, patched daemons vs ours ------------------------
    for path in a.exp:
        einfo, ebes, em, ereps = vm_tables(parse(path))
        if "ours" not in ebes or len(ebes) < 2:
            continue
        others = [b for b in ebes if b != "ours"]
        when = datetime.datetime.fromtimestamp(os.path.getmtime(path), datetime.timezone.utc)
        md.append("### Extra run: variants vs ours in one boot (%s)\n"
                  % when.strftime("%Y-%m-%d %H:%M UTC"))
        md.append("*exp*, *exp-async*: the daemon and handler of another build tree "
                  "(`EXP_BUILD`; the Analysis says what they change).  *ours-hw128*: "
                  "`hw_max_sectors` left at 128.  *ours-dpb*: `data_pages_per_blk=16`.  "
                  "BENCH_EXTRA backends run once per boot, BENCH_BACKENDS ones every "
                  "repetition.\n")
        for i in einfo:
            md.append("Run: " + ", ".join("%s=%s" % (k, v) for k, v in i.items()
                                            if not k.startswith("_")) + "\n")
        md.append("Medians of %d repetition(s); IOPS (4k) or MiB/s (1M), mean latency us, "
                  "daemon CPU us/cmd; ratio = backend/ours throughput.\n" % max(ereps.values()))
        md.append("| workload | " + " | ".join(
            "%s IOPS or MiB/s | %s mean us | %s CPU us/cmd" % (b, b, b) for b in ebes) +
            " | " + " | ".join("%s/ours" % b for b in others) + " |")
        md.append("|" + "---|" * (1 + 3 * len(ebes) + len(others)))
        for row, label in ROWS:
            key = "mibs" if row.startswith(("r1m", "w1m")) else "iops"
            cells = []
            for b in ebes:
                v = em.get((b, row), {})
                cells += [fmt(v.get(key), 1 if key == "mibs" else 0), fmt(v.get("lat_mean_us")),
                          fmt(v.get("cpu_us_per_cmd"))]
            rat = [fmt(ratio(em.get((b, row), {}).get(key), em.get(("ours", row), {}).get(key)), 2)
                   for b in others]
            md.append("| %s | %s | %s |" % (label, " | ".join(cells), " | ".join(rat)))
        md.append("")

    # ---- host microbenchmark --------------------------------------------------
    mres = [r for r in micro if r["_kind"] == "RESULT"]
    if mres:
        md.append("## Host microbenchmark: null handler on the simulated ring (tcmu_sim)\n")
        md.append("`build-bench/bench/bench_ring_null`; medians of the runs listed.  *CPU "
                  "ns/cmd* = CPU time of every thread but the one playing the kernel, per "
                  "command (lib-inline: time inside the library calls on one thread, "
                  "including the two UIO syscalls per batch; *core* excludes those two "
                  "syscalls).  Instructions from perf_event_open on those threads (user "
                  "only, and user+kernel; '-' where the host refuses the counters).  "
                  "Kicks go through kops.uio_kick: a counter in shared memory plus a "
                  "futex wake only when the kernel thread sleeps.  The host is a shared, loaded VM where a "
                  "syscall costs microseconds, so the CPU figures are pessimistic; the "
                  "instruction counts are the stable numbers.\n")
        md.append("| path | QD | runs | CPU ns/cmd | cmds/s per core | core ns/cmd (no syscalls) "
                  "| core cmds/s | user insn/cmd | all insn/cmd | kicks per 1k cmds |")
        md.append("|" + "---|" * 10)
        keys = []
        for r in mres:
            k = (r.get("mode"), r.get("qd"))
            if k not in keys:
                keys.append(k)
        best = {}
        for k in keys:
            sel = [r for r in mres if (r.get("mode"), r.get("qd")) == k]
            cpu = med([num(r.get("cpu_ns_per_cmd")) for r in sel])
            core = med([num(r.get("core_ns_per_cmd")) for r in sel])
            isel = [r for r in insn if (r.get("mode"), r.get("qd")) == k] or sel
            ui = med([num(r.get("user_insn_per_cmd")) for r in isel])
            ai = med([num(r.get("all_insn_per_cmd")) for r in isel])
            kk = med([1000.0 * num(r.get("kicks")) / num(r.get("cmds")) for r in sel
                      if num(r.get("kicks")) is not None and num(r.get("cmds"))])
            best[k] = (cpu, core)
            md.append("| %s | %s | %d | %s | %s | %s | %s | %s | %s | %s |" % (
                k[0], k[1], len(sel), fmt(cpu), fmt(1e9 / cpu if cpu else None),
                fmt(core), fmt(1e9 / core if core else None), fmt(ui), fmt(ai), fmt(kk)))
        md.append("")
        lib = [v for k, v in best.items() if k[0] == "lib-inline"]
        if lib:
            rate = max(1e9 / c for c, _ in lib if c)
            goals.append(("sim: libtcmu alone >= 1M cmds/s per core (best QD, inline)",
                          rate >= 1e6, "%.0f/s" % rate))
        dae = [v for k, v in best.items() if k[0] == "daemon-async"]
        if dae:
            rate = max(1e9 / c for c, _ in dae if c)
            goals.append(("sim: full daemon path >= 500k cmds/s per core (best QD)",
                          rate >= 5e5, "%.0f/s" % rate))
    rss = [r for r in micro if r["_kind"] == "RSS"]
    if rss:
        pts = {int(r["commands"]): int(r["rss_kib"]) for r in rss}
        first = pts.get(1000000)
        last = pts[max(pts)]
        md.append("RSS over %d M simulated commands (daemon path, ASYNC null handler, QD128; "
                  "the process includes the simulator; since 2026-12-07 the benchmark's Data-In "
                  "goes to one scratch buffer, no longer to per-tag result buffers): %s\n" % (max(pts) // 1000000, ", ".join(
                      "%dM: %.1f MiB" % (c // 1000000, v / 1024) for c, v in sorted(pts.items())
                      if c in (1000000, max(pts)) or c % 5000000 == 0)))
        if first:
            goals.append(("RSS flat (1M -> %dM commands)" % (max(pts) // 1000000),
                          last <= first * 1.02 + 1024,
                          "%d -> %d KiB" % (first, last)))

    if a.threads:
        try:
            th = [ln for ln in open(a.threads).read().splitlines()
                  if ln.startswith("THREADS") or ln.startswith("SPIN")]
        except OSError:
            th = []
        if th:
            md.append("Daemon CPU by thread in the VM (THREADS: clock ticks over all five rows "
                      "of one backend; thread name:ticks) and what our ring thread saw (SPIN: "
                      "its log line at exit):\n")
            md.append("```")
            md.extend(th)
            md.append("```\n")

    if goals:
        md.append("## Goals\n")
        md.append("| goal | met | measured |")
        md.append("|---|---|---|")
        for name, ok, val in goals:
            md.append("| %s | %s | %s |" % (name, "yes" if ok else "**no**", val))
        md.append("")

    body = "\n".join(md)
    print(body)
    if a.out:
        measured = now
        for f in (a.vm, a.micro):
            if f and os.path.exists(f) and os.path.getsize(f):
                measured = datetime.datetime.fromtimestamp(
                    os.path.getmtime(f), datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
                break
        head = ("<!-- SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 -->\n"
                "<!-- Generated by bench/report.py (bench/run.sh); edit bench/notes.md. -->\n"
                "# Performance\n\n"
                "Measured %s with `bench/run.sh`; page rendered %s.  The end of this page "
                "says how to rerun it and what the figures mean.\n\n" % (measured, now))
        notes = ""
        if a.notes:
            try:
                notes = "".join(ln for ln in open(a.notes)
                                if not ln.startswith("<!-- "))
            except OSError:
                notes = ""
        with open(a.out, "w") as f:
            f.write(head + body + "\n" + notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
