# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
#
# results.py: reading vm-bench.sh's results.txt, shared by the report
# scripts (compare.py, qcow-report.py, rbd-report.py).


def load(path):
    """RESULT lines by (backend, row), each a list of key=value dicts (one
    per repetition); the backends in order of first appearance; the INFO
    lines' text."""
    res, order, info = {}, [], []
    for ln in open(path):
        if ln.startswith("INFO "):
            info.append(ln.strip()[5:])
        if not ln.startswith("RESULT "):
            continue
        kv = dict(t.split("=", 1) for t in ln.split()[1:] if "=" in t)
        be = kv.get("backend")
        if be not in order:
            order.append(be)
        res.setdefault((be, kv.get("row")), []).append(kv)
    return res, order, info


def values(sel, key):
    """The numeric values of key in the dicts of sel, those >= 0 (vm-bench
    writes -1 for a figure it could not take)."""
    out = []
    for kv in sel:
        try:
            v = float(kv[key])
        except (KeyError, ValueError):
            continue
        if v >= 0:
            out.append(v)
    return out
