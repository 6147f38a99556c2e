#!/usr/bin/env bash
# Runs every notebook: its ```swift blocks, in order, form one program whose output must
# equal its ```text blocks, in order.
set -euo pipefail
cd "$(dirname "$0")"
status=0
mkdir -p Runner/Sources/notebook
for notebook in NN-*.md; do
  awk '/^```swift$/ { inside = 1; next } /^```/ { inside = 0 } inside' "$notebook" \
    > Runner/Sources/notebook/main.swift
  awk '/^```text$/ { inside = 1; next } /^```/ { inside = 0 } inside' "$notebook" > "Runner/.expected"
  swift build -c release --package-path Runner --product notebook > /dev/null
  Runner/.build/release/notebook > "Runner/.actual"
  if diff -u "Runner/.expected" "Runner/.actual"; then
    echo "$notebook: output matches"
  else
    echo "$notebook: output differs (above: - expected, + actual)"
    status=1
  fi
done
exit $status
