#!/usr/bin/env bash
# Time from launching `pincer gateway run` to the first hello-ok, and the idle RSS 2 s later.
#
# Usage: bench/startup.sh [runs]      (default 3 runs)
# Env:   PINCER_BIN (default build/pincer), LOADGEN_BIN (default build/pincer_loadgen), IDLE_S (default 2)
# Each run uses a fresh temp PINCER_STATE_DIR and a random 32-char token; the server is stopped
# with SIGTERM afterwards. Prints a markdown table.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
pincer=${PINCER_BIN:-$root/build/pincer}
loadgen=${LOADGEN_BIN:-$root/build/pincer_loadgen}
runs=${1:-3}
idle_s=${IDLE_S:-2}

for bin in "$pincer" "$loadgen"; do
    [[ -x $bin ]] || { echo "startup.sh: $bin not built" >&2; exit 2; }
done

token="bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
state=""
pid=""
cleanup() {
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    [[ -n $state ]] && rm -rf "$state"
    pid=""
    state=""
}
trap cleanup EXIT

echo "| run | listening line | first hello-ok | idle RSS after ${idle_s} s | idle VmHWM |"
echo "| --: | --: | --: | --: | --: |"
for ((run = 1; run <= runs; run++)); do
    state=$(mktemp -d /tmp/pincer-startup.XXXXXX)
    t0=$(date +%s%3N)
    : >"$state/stdout"  # exists before the background child opens it, so polling cannot race
    PINCER_STATE_DIR=$state "$pincer" gateway run --port 0 --token "$token" >"$state/stdout" 2>"$state/stderr" &
    pid=$!
    port=""
    for ((i = 0; i < 6000; i++)); do  # up to ~30 s
        port=$(sed -n 's/.*pincer: listening on [^ ]*:\([0-9][0-9]*\).*/\1/p' "$state/stdout" | head -n 1 || true)
        [[ -n $port ]] && break
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "startup.sh: server exited before listening; stderr:" >&2
            cat "$state/stderr" >&2
            exit 1
        fi
        sleep 0.005
    done
    [[ -n $port ]] || { echo "startup.sh: no 'listening on' line within 30 s" >&2; exit 1; }
    listen_ms=$(($(date +%s%3N) - t0))
    hello=$("$loadgen" --first-hello --url "ws://127.0.0.1:$port/" --token "$token" --t0-ms "$t0" --wait 30 --json)
    hello_ms=$(sed -n 's/.*"firstHelloMs":\([0-9]*\).*/\1/p' <<<"$hello")
    sleep "$idle_s"
    rss_kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
    hwm_kb=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")
    awk -v r="$run" -v l="$listen_ms" -v h="$hello_ms" -v rss="$rss_kb" -v hwm="$hwm_kb" \
        'BEGIN { printf "| %d | %d ms | %s ms | %.1f MB | %.1f MB |\n", r, l, h, rss / 1024, hwm / 1024 }'
    cleanup
done
