#!/usr/bin/env bash
# Runs the project's benchmarks (three times) and the peers at 1 thread (pinned to one core)
# and at 2 threads, writing JSON lines to DIR. Then `python3 Sources/benchmarks/peers/table.py DIR`
# prints the comparison table of docs/benchmarks.md.
#
#   Sources/benchmarks/peers/compare.sh DIR [PYTHON]
#
# PYTHON is an interpreter with torch, jax and numpy installed (default: python3).
set -euo pipefail
out=${1:?usage: Sources/benchmarks/peers/compare.sh DIR [PYTHON]}
python=${2:-python3}
mkdir -p "$out"
cd "$(dirname "$0")/../../.."
swift build -c release --product benchmarks > /dev/null
date -u +"%Y-%m-%d %H:%M UTC" > "$out/date.txt"
for threads in 1 2; do
  pin=""
  if [ "$threads" = 1 ] && command -v taskset > /dev/null; then pin="taskset -c 0"; fi
  for run in 1 2 3; do
    $pin .build/release/benchmarks --threads "$threads" > "$out/ours-$threads-$run.jsonl"
  done
  # OPENBLAS_CORETYPE (set on some machines) slows current NumPy builds: unset it here only.
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $pin "$python" Sources/benchmarks/peers/peers.py \
    --threads "$threads" > "$out/peers-$threads.jsonl"
done
for batch in 32 64 128; do
  .build/release/benchmarks mlp-mnist --threads 1 --batch "$batch" >> "$out/scaling.jsonl"
done
for sequence in 14 28 56; do
  .build/release/benchmarks lstm --threads 1 --sequence "$sequence" >> "$out/scaling.jsonl"
done
/usr/bin/time -v .build/release/benchmarks mlp-mnist 2> "$out/time-mlp-mnist.txt" > /dev/null || true
"$python" -c "import torch, jax, numpy; print('torch', torch.__version__, '· jax', jax.__version__, '· numpy', numpy.__version__)" > "$out/versions.txt" 2>&1 || true
echo "results in $out"
