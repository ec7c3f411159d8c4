#!/usr/bin/env bash
# Runs every built fuzz target for a bounded time; fails on the first crash.
set -euo pipefail
dir=$1
seconds=${2:-30}
corpus_root=$(mktemp -d)
trap 'rm -rf "$corpus_root"' EXIT
for bin in "$dir"/fuzz_*; do
  [[ -x "$bin" && -f "$bin" ]] || continue
  name=$(basename "$bin")
  mkdir -p "$corpus_root/$name"
  seeds="$(dirname "$0")/corpus/$name"
  echo "fuzz: $name for ${seconds}s"
  args=("$corpus_root/$name")
  [[ -d "$seeds" ]] && args+=("$seeds")
  "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 "${args[@]}" 2>&1 | tail -n 3
done
echo "fuzz: all targets ran clean"
