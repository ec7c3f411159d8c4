#!/usr/bin/env bash
# Load scenarios against a fresh `pincer gateway run` per scenario; prints a markdown table.
#
# Usage: bench/run.sh [quick]
#   quick: 3 s per scenario and 2,000 instead of 10,000 connections.
# Env:   PINCER_BIN, LOADGEN_BIN, DURATION (s, default 10), BIG_N (default 10000), BIG_ACTIVE (default 50),
#        HOLD (s idle after the big handshake, default 5), THREADS (loadgen threads, default 1),
#        METHOD (default health), CLIENT (client.id:client.mode for the N=1..500 scenarios, default
#        gateway-client:backend as in the reference figures), BIG_CLIENT (for the big scenario, default
#        cli:cli: backend clients are tracked in presence, and each connect broadcasts the whole presence
#        list to every client, which is quadratic at 10,000 connections; set it to gateway-client:backend
#        to measure exactly that).
# The load generator and the server share the machine; compare runs on the same host only.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
pincer=${PINCER_BIN:-$root/build/pincer}
loadgen=${LOADGEN_BIN:-$root/build/pincer_loadgen}
duration=${DURATION:-10}
big_n=${BIG_N:-10000}
big_active=${BIG_ACTIVE:-50}
hold=${HOLD:-5}
threads=${THREADS:-1}
method=${METHOD:-health}
client=${CLIENT:-gateway-client:backend}
big_client=${BIG_CLIENT:-cli:cli}
if [[ ${1:-} == quick ]]; then
    duration=3
    big_n=2000
fi

for bin in "$pincer" "$loadgen"; do
    [[ -x $bin ]] || { echo "run.sh: $bin not built" >&2; exit 2; }
done

# 10,000 sockets on each side: both processes inherit the raised limit.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

token="bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
state=""
pid=""
port=""
stop_server() {
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    [[ -n $state ]] && rm -rf "$state"
    pid=""
    state=""
}
trap stop_server EXIT

start_server() {
    state=$(mktemp -d /tmp/pincer-bench.XXXXXX)
    : >"$state/stdout"  # exists before the background child opens it, so polling cannot race
    PINCER_STATE_DIR=$state "$pincer" gateway run --port 0 --token "$token" >"$state/stdout" 2>"$state/stderr" &
    pid=$!
    port=""
    for ((i = 0; i < 6000; i++)); do
        port=$(sed -n 's/.*pincer: listening on [^ ]*:\([0-9][0-9]*\).*/\1/p' "$state/stdout" | head -n 1 || true)
        [[ -n $port ]] && break
        kill -0 "$pid" 2>/dev/null || { echo "run.sh: server exited; stderr:" >&2; cat "$state/stderr" >&2; exit 1; }
        sleep 0.005
    done
    [[ -n $port ]] || { echo "run.sh: server did not report its port" >&2; exit 1; }
    "$loadgen" --first-hello --url "ws://127.0.0.1:$port/" --token "$token" --wait 30 >/dev/null
    sleep 1  # let start-up allocations settle before the "before" RSS sample
}

# scenario LABEL CLIENT_ID:MODE N K [extra loadgen args...]
scenario() {
    local label=$1 who=$2 n=$3 k=$4
    shift 4
    start_server
    "$loadgen" --url "ws://127.0.0.1:$port/" --token "$token" --method "$method" -c "$n" -k "$k" \
        -d "$duration" --threads "$threads" --server-pid "$pid" --client-id "${who%%:*}" --client-mode "${who#*:}" \
        --md --label "$label" "$@" ||
        echo "| $label | $n | – | $k | loadgen failed (exit $?) | | | | | | | | |"
    stop_server
}

echo "Pincer $method load, ${duration} s per scenario, $(nproc) cores, loadgen threads=$threads ($(date -u +%Y-%m-%dT%H:%MZ))"
echo
"$loadgen" --md-header
for nk in "1 1" "1 4" "50 1" "50 4" "500 1" "500 4"; do
    # shellcheck disable=SC2086
    scenario "$method ($client)" "$client" $nk
done
scenario "$big_n idle + $big_active active ($big_client)" "$big_client" "$big_n" 1 --active "$big_active" --hold "$hold"
echo
echo "Command: bench/run.sh $*"
