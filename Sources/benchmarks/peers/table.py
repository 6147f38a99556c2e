#!/usr/bin/env python3
"""Prints the Markdown comparison tables from the rounds that compare.sh wrote to DIR.

    python3 Sources/benchmarks/peers/table.py DIR [--rounds]

For every workload, metric and thread count: the project's median over the rounds, each
peer's median over the rounds, the median over the rounds of the per-round ratio
Autodiff / best peer (the best peer of the same round: the fastest, or for throughputs and
GFLOPS the highest), and the target of issue 11 with ✓ or ✗. Then the scaling runs (time
per sample and per sequence step) and the peak resident memory of `benchmarks mlp-mnist`.
`--rounds` adds a table of every round's values.
"""
import json
import re
import statistics
import sys
from pathlib import Path

PEER_COLUMNS = (("torch", "PyTorch"), ("jax", "JAX"), ("numpy", "NumPy"))
NAMES = {"torch": "PyTorch", "jax": "JAX", "jax-step": "JAX per-step jit", "numpy": "NumPy",
         "python-scalar": "Python scalar", "autodiff": "Autodiff"}
# Metrics where a larger value is the better one; the others are times (or not speeds at all).
HIGHER_IS_BETTER = {"gflops", "chars_per_s"}
NOT_SPEED = {"recall_accuracy"}
# Throughputs that the project's benchmarks print as an extra field of their step_ms line.
EXTRA_METRICS = ("chars_per_s",)
# Project workloads compared with the peers of another workload (same model, other form).
PEERS_OF = {"transformer-composed": "transformer"}

# Targets of issue 11, by (workload, n, metric) and thread count:
# ("ratio", "≤" or "≥", bound, reference) with reference "best" (best peer) or a framework,
# or ("absolute", "≤", bound, unit).
TARGETS = {
    ("gemm", 1024, "gflops"): {t: ("ratio", "≥", 1.0, "torch") for t in (1, 2)},
    ("gemm", 256, "gflops"): {t: ("ratio", "≥", 0.9, "torch") for t in (1, 2)},
    ("mlp-mnist", None, "step_ms"): {1: ("ratio", "≤", 1.0, "best"), 2: ("ratio", "≤", 0.8, "best")},
    ("mlp-qs", None, "step_ms"): {t: ("ratio", "≤", 0.8, "best") for t in (1, 2)},
    ("lstm", None, "step_ms"): {t: ("ratio", "≤", 1.0, "best") for t in (1, 2)},
    ("hopfield", None, "recall_ms"): {t: ("ratio", "≤", 1.0, "best") for t in (1, 2)},
    ("autoencoder", None, "run_ms"): {t: ("ratio", "≤", 1.0, "best") for t in (1, 2)},
    ("scalar-mlp", None, "step_ms"): {t: ("absolute", "≤", 10.0, "ms") for t in (1, 2)},
    ("charlm", None, "chars_per_s"): {2: ("ratio", "≥", 1.0, "torch")},
}
PEAK_RSS_MIB = 30.0
# Step time is linear when the time per unit (sample, sequence step) does not grow by more
# than this factor from one size to the next (allowing for noise; sublinear is fine).
LINEAR_SLACK = 1.15


def three_digits(v):
    """Three significant digits, written out in full rather than in exponent form for large values."""
    return f"{float(f'{v:.3g}'):.15g}"


def fmt(metric, v):
    if v is None:
        return "–"
    return f"{v:.2f}" if metric in NOT_SPEED else three_digits(v)


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def read_jsonl(path):
    rows = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                print(f"table.py: skipping a malformed line of {path}", file=sys.stderr)
    return rows


# Which form of a peer won a round when it ran in two (PyTorch with spinning and with passive
# OpenMP waiting): wins[(framework, threads)][form] = number of (row, round) pairs.
wins = {}
# The form of each kept value that did not come from a peer's default form:
# chosen[(key, threads, framework, round)] = form.
chosen = {}


def better(metric, a, b):
    return (a >= b) if metric in HIGHER_IS_BETTER else (a <= b)


def load(out):
    """values[(workload, n, metric)][threads][framework][round] = value, and the workload order.
    When a framework ran in two forms in a round, the better value is kept."""
    values, order, forms = {}, [], {}
    rounds = sorted((p for p in out.iterdir() if p.is_dir() and p.name.isdigit()), key=lambda p: int(p.name))
    for rdir in rounds:
        r = int(rdir.name)
        for path in sorted(rdir.glob("*-*.jsonl")):
            m = re.fullmatch(r"(.+)-(\d+)\.jsonl", path.name)
            if not m:
                continue
            source, threads = m.group(1), int(m.group(2))
            for row in read_jsonl(path):
                framework = "autodiff" if source == "ours" else row.get("framework", source)
                threads_run = int(row.get("threads", threads))
                workload = row["workload"]
                if framework == "autodiff" and workload not in order:
                    order.append(workload)
                metrics = [(row["metric"], row["value"])]
                if framework == "autodiff":
                    metrics += [(k, row[k]) for k in EXTRA_METRICS if k in row and k != row["metric"]]
                form = row.get("omp_wait", "default")
                for metric, value in metrics:
                    key = (workload, row.get("n"), metric)
                    cell = values.setdefault(key, {}).setdefault(threads_run, {}).setdefault(framework, {})
                    form_cell = forms.setdefault((key, threads_run, framework), {})
                    if r in cell and form_cell.get(r) != form:
                        form_cell.setdefault(("both", r), True)
                        if value is None or (cell[r] is not None and better(metric, cell[r], value)):
                            continue
                    cell[r] = value
                    form_cell[r] = form
                    if form != "default":
                        chosen[(key, threads_run, framework, r)] = form
                    else:
                        chosen.pop((key, threads_run, framework, r), None)
    for (key, threads, framework), form_cell in forms.items():
        if key[2] in NOT_SPEED:
            continue
        for r in [k[1] for k in form_cell if isinstance(k, tuple)]:
            counts = wins.setdefault((framework, threads), {})
            counts[form_cell[r]] = counts.get(form_cell[r], 0) + 1
    return values, order, [int(p.name) for p in rounds]


def metric_rank(metric):
    return {"step_ms": 0, "run_ms": 0, "recall_ms": 0, "gflops": 0, "chars_per_s": 1}.get(metric, 2)


def row_keys(values, order):
    def sort_key(k):
        workload, n, metric = k
        w = order.index(workload) if workload in order else len(order)
        return (w, workload, n or 0, metric_rank(metric), metric)
    return sorted(values, key=sort_key)


def peers_for(values, key, threads):
    workload, n, metric = key
    peer_key = (PEERS_OF.get(workload, workload), n, metric)
    peers = dict(values.get(peer_key, {}).get(threads, {}))
    peers.pop("autodiff", None)
    return peers


def ratios(ours, peers, metric, reference):
    """Per-round ratios Autodiff / reference, where reference is "best" or a framework name;
    with the name of the best peer of each round."""
    out, winners = [], []
    for r, v in sorted(ours.items()):
        if reference == "best":
            present = {f: vals[r] for f, vals in peers.items() if vals.get(r)}
            if not present or not v:
                continue
            pick = max if metric in HIGHER_IS_BETTER else min
            winner = pick(present, key=present.get)
            out.append(v / present[winner])
            winners.append(winner)
        elif peers.get(reference, {}).get(r) and v:
            out.append(v / peers[reference][r])
    return out, winners


def label(key):
    workload, n, metric = key
    name = f"{workload} n={n}" if n else workload
    better = "higher is better" if metric in HIGHER_IS_BETTER else ("" if metric in NOT_SPEED else "lower is better")
    return f"{name} ({metric}{', ' + better if better else ''})"


def verdict(target, ours_median, ratio_best, ratio_torch_like):
    kind, op, bound, ref = target
    if kind == "absolute":
        measured, text = ours_median, f"{op} {three_digits(bound)} {ref}"
        shown = f"{three_digits(measured)} {ref}" if measured is not None else None
    else:
        measured = ratio_best if ref == "best" else ratio_torch_like
        text = f"{op} {bound:.1f}× {'best peer' if ref == 'best' else NAMES.get(ref, ref)}"
        shown = f"{measured:.2f}×" if measured is not None else None
    if measured is None:
        return text, "no data"
    ok = measured <= bound if op == "≤" else measured >= bound
    return text, f"{'✓' if ok else '✗'} {shown}"


def main_table(values, order, rounds):
    missing = []
    for key, by_threads in TARGETS.items():
        for threads in by_threads:
            if not values.get(key, {}).get(threads, {}).get("autodiff"):
                workload, n, metric = key
                missing.append(f"{workload}{f' n={n}' if n else ''} {metric} at {threads} thread(s)")
    print("| workload | threads | Autodiff | PyTorch | JAX | NumPy | other | Autodiff / best peer | target | met |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for key in row_keys(values, order):
        workload, n, metric = key
        for threads in sorted(values[key]):
            ours = values[key][threads].get("autodiff", {})
            peers = peers_for(values, key, threads)
            if not ours and not peers:
                continue
            ours_median = median(ours.values())
            cells = [fmt(metric, median(peers[f].values())) if f in peers else "–" for f, _ in PEER_COLUMNS]
            other = "; ".join(f"{NAMES.get(f, f)} {fmt(metric, median(v.values()))}"
                              for f, v in sorted(peers.items()) if f not in dict(PEER_COLUMNS))
            ratio_text, ratio_best = "–", None
            if metric not in NOT_SPEED and ours and peers:
                rs, winners = ratios(ours, peers, metric, "best")
                if rs:
                    ratio_best = median(rs)
                    common = max(set(winners), key=winners.count)
                    partial = "" if len(rs) == len(ours) else f", {len(rs)} of {len(ours)} rounds"
                    ratio_text = f"{ratio_best:.2f}× ({NAMES.get(common, common)}{partial})"
            target = TARGETS.get(key, {}).get(threads)
            target_text, met = "–", "–"
            if target:
                ref = target[3]
                ratio_ref = None
                if target[0] == "ratio" and ref != "best":
                    rs, _ = ratios(ours, peers, metric, ref)
                    ratio_ref = median(rs)
                target_text, met = verdict(target, ours_median, ratio_best, ratio_ref)
            print(f"| {label(key)} | {threads} | {fmt(metric, ours_median)} | {' | '.join(cells)} | "
                  f"{other or '–'} | {ratio_text} | {target_text} | {met} |")
    for (framework, threads), counts in sorted(wins.items()):
        print()
        print(f"{NAMES.get(framework, framework)} at {threads} threads ran with its OpenMP threads spinning "
              f"(the default) and sleeping (OMP_WAIT_POLICY=PASSIVE); the faster of each round is shown. "
              f"Passive was faster in {counts.get('passive', 0)} of {sum(counts.values())} (row, round) pairs.")
    if missing:
        print()
        print("Targets without a measurement of the project in this run: " + "; ".join(missing) + ".")


def rounds_table(values, order, rounds):
    print("| workload | threads | framework | " + " | ".join(f"round {r}" for r in rounds) + " |")
    print("|---|---|---|" + "---|" * len(rounds))
    for key in row_keys(values, order):
        for threads in sorted(values[key]):
            for framework, by_round in sorted(values[key][threads].items(), key=lambda x: x[0] != "autodiff"):
                cells = [fmt(key[2], by_round.get(r))
                         + (f" ({chosen[key, threads, framework, r]})" if (key, threads, framework, r) in chosen else "")
                         for r in rounds]
                print(f"| {label(key)} | {threads} | {NAMES.get(framework, framework)} | {' | '.join(cells)} |")


def scaling_table(out, rounds):
    steps = {}
    for r in rounds:
        path = out / str(r) / "scaling.jsonl"
        if not path.exists():
            continue
        for row in read_jsonl(path):
            if row.get("metric") != "step_ms":
                continue
            if row["workload"] == "lstm":
                key = ("lstm", "sequence", row.get("sequence"), row.get("batch"))
            else:
                key = (row["workload"], "batch", row.get("batch"), None)
            steps.setdefault(key, []).append(row["value"])
    if not steps:
        return
    print()
    print("Linear cost in batch size and sequence length (one thread, median over rounds):")
    print()
    print("| workload | size | step (ms) | per unit (µs) | step / previous step | linear |")
    print("|---|---|---|---|---|---|")
    by_workload = {}
    for key in sorted(steps, key=lambda k: (k[0], k[2] or 0)):
        by_workload.setdefault(key[0], []).append(key)
    for workload, keys in by_workload.items():
        previous = None
        for key in keys:
            _, axis, size, batch = key
            step = median(steps[key])
            per_unit = step / size * 1e3 if size else None
            unit = "sample" if axis == "batch" else "sequence step"
            size_text = f"{axis} {size}" + (f" (batch {batch})" if batch else "")
            growth, linear = "–", "–"
            if previous and per_unit is not None:
                growth = f"{step / previous[0]:.2f} for ×{size / previous[1]:.3g}"
                linear = "✓" if per_unit <= previous[2] * LINEAR_SLACK else "✗"
            print(f"| {workload} | {size_text} | {three_digits(step)} | "
                  f"{three_digits(per_unit) + ' per ' + unit if per_unit else '–'} | {growth} | {linear} |")
            previous = (step, size, per_unit)
    print()
    print(f"Linear: the time per unit grows by at most {LINEAR_SLACK:.2f}× from one size to the next.")


def memory_table(out, rounds):
    peaks = []
    for r in rounds:
        path = out / str(r) / "time-mlp-mnist.txt"
        if path.exists():
            m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", path.read_text())
            if m:
                peaks.append(int(m.group(1)) / 1024)
    if not peaks:
        return
    worst = max(peaks)
    print()
    print("| peak resident memory of `benchmarks mlp-mnist` | rounds | target | met |")
    print("|---|---|---|---|")
    print(f"| median {three_digits(median(peaks))} MiB, largest {three_digits(worst)} MiB | {len(peaks)} | "
          f"≤ {PEAK_RSS_MIB:g} MiB (largest) | {'✓' if worst <= PEAK_RSS_MIB else '✗'} |")


def header(out, rounds):
    for name in ("run.txt", "versions.txt"):
        path = out / name
        if path.exists():
            print("; ".join(line.strip() for line in path.read_text().splitlines() if line.strip()))
            print()
    loads = []
    for r in rounds:
        path = out / str(r) / "load.txt"
        if path.exists():
            found = re.findall(r"load ([\d.]+)", path.read_text())
            loads += [float(x) for x in found]
    if loads:
        print(f"Load average (1 min) at the starts and ends of the rounds: {min(loads):.2f}–{max(loads):.2f}.")
        print()
    run = (out / "run.txt").read_text() if (out / "run.txt").exists() else ""
    if "quick: yes" in run:
        print("**Quick run**: few repetitions and smaller problems; the verdicts only check the pipeline.")
        print()
    if len(rounds) < 3:
        print(f"Only {len(rounds)} round(s): the issue judges targets over at least 3.")
        print()


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 1:
        sys.exit("usage: table.py DIR [--rounds]")
    out = Path(args[0])
    values, order, rounds = load(out)
    if not rounds:
        sys.exit(f"table.py: no rounds (directories 1, 2, …) in {out}; run compare.sh first")
    header(out, rounds)
    main_table(values, order, rounds)
    scaling_table(out, rounds)
    memory_table(out, rounds)
    if "--rounds" in sys.argv[1:]:
        print()
        rounds_table(values, order, rounds)


if __name__ == "__main__":
    main()
