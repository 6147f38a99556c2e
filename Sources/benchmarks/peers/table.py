#!/usr/bin/env python3
"""Prints the Markdown comparison table from the JSON lines written by compare.sh."""
import json
import statistics
import sys
from pathlib import Path

out = Path(sys.argv[1])


def load(pattern):
    rows = []
    for path in sorted(out.glob(pattern)):
        for line in path.read_text().splitlines():
            if line.startswith("{"):
                rows.append(json.loads(line))
    return rows


def key(r):
    return (r["workload"], r.get("n"), r["metric"])


def label(k):
    workload, n, metric = k
    return f"{workload} n={n}" if n else f"{workload} ({metric})"


print("| workload | threads | Autodiff | PyTorch | JAX | NumPy | other |")
print("|---|---|---|---|---|---|---|")
for threads in (1, 2):
    ours = {}
    for r in load(f"ours-{threads}-*.jsonl"):
        ours.setdefault(key(r), []).append(r["value"])
    peers = {}
    for r in load(f"peers-{threads}.jsonl"):
        peers.setdefault(key(r), {})[r["framework"]] = r["value"]
    for k, values in ours.items():
        fmt = (lambda v: f"{v:.3g}") if k[2] != "recall_accuracy" else (lambda v: f"{v:.2f}")
        p = peers.get(k, {})
        cell = lambda name: fmt(p[name]) if name in p else "–"
        other = "; ".join(f"{name} {fmt(v)}" for name, v in p.items() if name not in ("torch", "jax", "numpy"))
        print(f"| {label(k)} | {threads} | {fmt(statistics.median(values))} | {cell('torch')} | {cell('jax')} | {cell('numpy')} | {other or '–'} |")
