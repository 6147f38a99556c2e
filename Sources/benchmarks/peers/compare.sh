#!/usr/bin/env bash
# Interleaved rounds of the project's benchmarks and its peers, written as JSON lines to DIR;
# `python3 Sources/benchmarks/peers/table.py DIR` then prints the comparison tables.
#
#   Sources/benchmarks/peers/compare.sh [OPTIONS] DIR [PYTHON] [WORKLOAD ...]
#
#   --rounds R       rounds to run (default 3)
#   --quick          the short pass of both the benchmarks and the peers (fewer repetitions,
#                    smaller gemm sizes, 500 autoencoder epochs): checks the pipeline, not the targets
#   --threads "A B"  thread counts (default "1 2"); 1 thread runs are pinned with `taskset -c 0`
#   --no-build       do not run `swift build` first
#   --no-scaling     skip the batch and sequence scaling runs
#   --no-memory      skip the peak-memory run
#   --torch-wait W   how PyTorch's OpenMP threads wait when it runs on more than one thread:
#                    "both" (default) runs it twice per round, with the library's default
#                    (spinning) and with OMP_WAIT_POLICY=PASSIVE, and table.py keeps the faster
#                    of the two in each round; "default" or "passive" runs only that form.
#                    On a busy machine spinning threads can make a step a hundred times slower.
#
# PYTHON is an interpreter with torch, jax and numpy installed (default: python3); a framework
# it lacks is skipped. WORKLOAD names restrict the run (default: every workload).
#
# Each round runs, for each thread count in turn: the project's `.build/release/benchmarks`,
# then the PyTorch, JAX, NumPy and scalar-Python peers, each in its own process, so that
# every framework sees the machine in the same state as the others within a round. Then,
# per round at 1 thread: mlp-mnist at batch 32, 64, 128 and lstm at sequence 14, 28, 56, and
# `/usr/bin/time -v benchmarks mlp-mnist` for the peak resident memory. Files:
#
#   DIR/R/ours-T.jsonl, DIR/R/torch-T.jsonl, …   round R at T threads (torch-passive-T.jsonl:
#                                                PyTorch with passive OpenMP waiting)
#   DIR/R/scaling.jsonl, DIR/R/time-mlp-mnist.txt
#   DIR/R/load.txt                               load average at the start and end of the round
#   DIR/run.txt, DIR/versions.txt                settings, dates, machine and framework versions
set -euo pipefail
usage="usage: Sources/benchmarks/peers/compare.sh [--rounds R] [--quick] [--threads \"1 2\"] [--no-build] [--no-scaling] [--no-memory] [--torch-wait both|default|passive] DIR [PYTHON] [WORKLOAD ...]"
rounds=3
quick=""
thread_counts="1 2"
build=1
scaling=1
memory=1
torch_wait=both
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=${2:?$usage}; shift 2 ;;
    --quick) quick="--quick"; shift ;;
    --threads) thread_counts=${2:?$usage}; shift 2 ;;
    --no-build) build=0; shift ;;
    --no-scaling) scaling=0; shift ;;
    --no-memory) memory=0; shift ;;
    --torch-wait) torch_wait=${2:?$usage}; shift 2 ;;
    -h | --help) echo "$usage"; exit 0 ;;
    --) shift; break ;;
    -*) echo "$usage" >&2; exit 2 ;;
    *) break ;;
  esac
done
out=${1:?$usage}
python=${2:-python3}
shift $(($# < 2 ? $# : 2))
workloads=("$@")
if ! command -v "$python" > /dev/null; then
  echo "compare.sh: no interpreter '$python' (to name workloads, give PYTHON first)" >&2
  exit 2
fi
case "$torch_wait" in both | default | passive) ;; *) echo "--torch-wait expects both, default or passive" >&2; exit 2 ;; esac
case "$rounds" in '' | *[!0-9]* | 0) echo "--rounds expects a positive whole number" >&2; exit 2 ;; esac

mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$(dirname "$0")/../../.."
if [ "$build" = 1 ]; then swift build -c release --product benchmarks > /dev/null; fi
bench=.build/release/benchmarks
peers=Sources/benchmarks/peers/peers.py
known=$("$bench" --help | sed -n 's/^workloads: //p' | tr -d ',')
for w in ${workloads[@]+"${workloads[@]}"}; do
  case " $known " in *" $w "*) ;; *) echo "compare.sh: no workload named '$w'; workloads: $known" >&2; exit 2 ;; esac
done

selected() {  # selected WORKLOAD: whether the run includes it
  [ ${#workloads[@]} = 0 ] && return 0
  local w
  for w in "${workloads[@]}"; do [ "$w" = "$1" ] && return 0; done
  return 1
}

pin_for() {  # the command prefix that pins a run at $1 threads
  if [ "$1" = 1 ] && command -v taskset > /dev/null; then echo "taskset -c 0"; fi
}

load() { cut -d' ' -f1-3 /proc/loadavg 2> /dev/null || uptime; }

{
  echo "start: $(date -u +"%Y-%m-%d %H:%M:%S UTC")"
  echo "rounds: $rounds"
  echo "threads: $thread_counts"
  echo "quick: $([ -n "$quick" ] && echo yes || echo no)"
  echo "workloads: ${workloads[*]:-all}"
  echo "torch-wait: $torch_wait"
  echo "commit: $(git rev-parse --short HEAD 2> /dev/null || echo unknown)$(git diff --quiet HEAD -- Sources 2> /dev/null || echo ' (with uncommitted changes)')"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo 2> /dev/null | cut -d: -f2- | sed 's/^ *//') × $(nproc 2> /dev/null || echo '?')"
} > "$out/run.txt"
"$python" -c "import sys; print('python', sys.version.split()[0])" > "$out/versions.txt" 2>&1 || true
for module in torch jax numpy; do
  "$python" -c "import $module; print('$module', $module.__version__)" >> "$out/versions.txt" 2> /dev/null \
    || echo "$module missing" >> "$out/versions.txt"
done

for round in $(seq 1 "$rounds"); do
  dir="$out/$round"
  mkdir -p "$dir"
  rm -f "$dir"/*.jsonl
  echo "start $(date -u +%H:%M:%S) load $(load)" > "$dir/load.txt"
  for threads in $thread_counts; do
    pin=$(pin_for "$threads")
    echo "round $round/$rounds, $threads thread(s): benchmarks" >&2
    $pin "$bench" ${workloads[@]+"${workloads[@]}"} --threads "$threads" $quick > "$dir/ours-$threads.jsonl" \
      || echo "compare.sh: benchmarks failed in round $round at $threads thread(s)" >&2
    runs="torch jax numpy scalar"
    if [ "$threads" != 1 ]; then
      case "$torch_wait" in
        both) runs="torch torch-passive jax numpy scalar" ;;
        passive) runs="torch-passive jax numpy scalar" ;;
      esac
    fi
    for run in $runs; do
      framework=${run%-passive}
      wait=default
      if [ "$run" != "$framework" ]; then wait=passive; fi
      echo "round $round/$rounds, $threads thread(s): $run" >&2
      # OPENBLAS_CORETYPE (set on some machines) slows current NumPy builds: unset it here only.
      env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $pin "$python" "$peers" --threads "$threads" $quick \
        --frameworks "$framework" --omp-wait "$wait" ${workloads[@]+"${workloads[@]}"} \
        > "$dir/$run-$threads.jsonl" \
        || echo "compare.sh: the $run peers failed in round $round at $threads thread(s)" >&2
    done
  done
  if [ "$scaling" = 1 ]; then
    pin=$(pin_for 1)
    if selected mlp-mnist; then
      for batch in 32 64 128; do
        $pin "$bench" mlp-mnist --threads 1 --batch "$batch" $quick >> "$dir/scaling.jsonl"
      done
    fi
    if selected lstm; then
      for sequence in 14 28 56; do
        $pin "$bench" lstm --threads 1 --sequence "$sequence" $quick >> "$dir/scaling.jsonl"
      done
    fi
  fi
  if [ "$memory" = 1 ] && selected mlp-mnist && [ -x /usr/bin/time ]; then
    /usr/bin/time -v "$bench" mlp-mnist $quick 2> "$dir/time-mlp-mnist.txt" > /dev/null || true
  fi
  echo "end $(date -u +%H:%M:%S) load $(load)" >> "$dir/load.txt"
done
echo "end: $(date -u +"%Y-%m-%d %H:%M:%S UTC")" >> "$out/run.txt"
echo "results in $out; tables: python3 Sources/benchmarks/peers/table.py $out" >&2
