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


# Metrics other than gemm's GFLOPS where a larger value is the better one; the rest are times.
HIGHER_IS_BETTER = {"chars_per_s"}
# Throughputs that the project's benchmarks print as an extra field of their step_ms line.
EXTRA_METRICS = ("chars_per_s",)


def label(k):
    workload, n, metric = k
    if n:
        return f"{workload} n={n}"
    return f"{workload} ({metric}, higher is better)" if metric in HIGHER_IS_BETTER else f"{workload} ({metric})"


def three_digits(v):
    """Three significant digits, written out in full rather than in exponent form for large values."""
    return f"{float(f'{v:.3g}'):.15g}"


print("| workload | threads | Autodiff | PyTorch | JAX | NumPy | other |")
print("|---|---|---|---|---|---|---|")
for threads in (1, 2):
    ours = {}
    for r in load(f"ours-{threads}-*.jsonl"):
        ours.setdefault(key(r), []).append(r["value"])
        for metric in EXTRA_METRICS:
            if metric in r:
                ours.setdefault((r["workload"], r.get("n"), metric), []).append(r[metric])
    peers = {}
    for r in load(f"peers-{threads}.jsonl"):
        peers.setdefault(key(r), {})[r["framework"]] = r["value"]
    for k, values in ours.items():
        fmt = three_digits if k[2] != "recall_accuracy" else (lambda v: f"{v:.2f}")
        p = peers.get(k, {})
        cell = lambda name: fmt(p[name]) if name in p else "–"
        other = "; ".join(f"{name} {fmt(v)}" for name, v in p.items() if name not in ("torch", "jax", "numpy"))
        print(f"| {label(k)} | {threads} | {fmt(statistics.median(values))} | {cell('torch')} | {cell('jax')} | {cell('numpy')} | {other or '–'} |")
