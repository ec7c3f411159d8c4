#!/usr/bin/env bash
# Agent-runtime benchmarks against a fresh `pincer gateway run` per scenario, with bench/fake_model.py
# as the model (an OpenAI-compatible SSE server that streams as fast as it can). Prints markdown tables.
#
# Usage: bench/chat_bench.sh [all|fanout|latency|soak]     (default all)
#   fanout   one chat run of DELTAS model deltas streamed to N connected clients: gateway CPU per
#            delta per client, wall time, every client's assistant-event count, drops
#   latency  seeds SESSIONS sessions and a MESSAGES-message agent:main:main transcript, then times
#            chat.history (limit 200) and sessions.list (limit 100, first page and offset 50,000)
#   soak     SOAK_CLIENTS clients chatting back to back (SOAK_DELTAS-delta replies) for SOAK_SECONDS,
#            sampling the gateway's RSS every 10 s
# Env: PINCER_BIN (default build-release/pincer), CHATBENCH_BIN, SEED_BIN (default next to PINCER_BIN),
#      FANOUT ("CLIENTS:TEXT ..." runs, default "1:x 100:x 1000:x 1000:abcd"; TEXT is each delta's
#      content), DELTAS (1000), SESSIONS (100000), MESSAGES (100000), ITER (200), SOAK_SECONDS (600),
#      SOAK_CLIENTS (4), SOAK_DELTAS (50), SOAK_CSV (file for the RSS samples), KEEP_STATE (1: keep dirs),
#      AGENT_TIMEOUT_S (agents.defaults.timeoutSeconds for the gateway; unset: the default, 600),
#      DELTA_INTERVAL_MS (pause between model deltas; default 0 = as fast as possible, where the
#      gateway merges deltas closer than 16 ms into one `agent` event).
# The bench client, the fake model and the gateway share the machine; CPU is the gateway's own
# (/proc/<pid>/task/*/schedstat, user/system split from /proc/<pid>/stat), so it does not count
# the other two.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
pincer=${PINCER_BIN:-$root/build-release/pincer}
bindir=$(dirname "$pincer")
chatbench=${CHATBENCH_BIN:-$bindir/pincer_chatbench}
seed=${SEED_BIN:-$bindir/pincer_seed_state}
fanout_runs=${FANOUT:-"1:x 100:x 1000:x 1000:abcd"}
deltas=${DELTAS:-1000}
sessions=${SESSIONS:-100000}
messages=${MESSAGES:-100000}
iter=${ITER:-200}
soak_seconds=${SOAK_SECONDS:-600}
soak_clients=${SOAK_CLIENTS:-4}
soak_deltas=${SOAK_DELTAS:-50}
what=${1:-all}

for bin in "$pincer" "$chatbench" "$seed"; do
    [[ -x $bin ]] || { echo "chat_bench.sh: $bin not built" >&2; exit 2; }
done
command -v python3 >/dev/null || { echo "chat_bench.sh: python3 is needed for the fake model" >&2; exit 2; }

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

token="bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
state="" pid="" port="" model_pid="" model_port="" model_log=""
stop_all() {
    for p in "$pid" "$model_pid"; do
        if [[ -n $p ]] && kill -0 "$p" 2>/dev/null; then
            kill -TERM "$p" 2>/dev/null || true
            wait "$p" 2>/dev/null || true
        fi
    done
    if [[ -n $state && ${KEEP_STATE:-0} != 1 ]]; then rm -rf "$state"; fi
    [[ -n $model_log ]] && rm -f "$model_log"
    pid="" model_pid="" state="" model_log=""
}
trap stop_all EXIT

# start_model CHUNKS TEXT
start_model() {
    model_log=$(mktemp /tmp/pincer-fake-model.XXXXXX)
    python3 "$root/bench/fake_model.py" --port 0 --chunks "$1" --text "$2" --interval-ms "${DELTA_INTERVAL_MS:-0}" >"$model_log" 2>&1 &
    model_pid=$!
    model_port=""
    for ((i = 0; i < 1000; i++)); do
        model_port=$(sed -n 's/^listening on \([0-9][0-9]*\)$/\1/p' "$model_log" | head -n 1 || true)
        [[ -n $model_port ]] && return 0
        kill -0 "$model_pid" 2>/dev/null || break
        sleep 0.01
    done
    echo "chat_bench.sh: fake model did not start:" >&2
    cat "$model_log" >&2
    exit 1
}

new_state() {
    state=$(mktemp -d /tmp/pincer-chatbench.XXXXXX)
}

# start_gateway: on $state, with the fake model as the default model
start_gateway() {
    cat >"$state/pincer.json" <<EOF
{
  models: { providers: { fake: { baseUrl: "http://127.0.0.1:$model_port/v1", api: "openai-completions",
                                 apiKey: "k", models: [{ id: "fake" }] } } },
  agents: { defaults: { model: "fake/fake"${AGENT_TIMEOUT_S:+, timeoutSeconds: $AGENT_TIMEOUT_S} } },
  logging: { level: "warn" },
}
EOF
    : >"$state/stdout"
    PINCER_STATE_DIR=$state "$pincer" gateway run --port 0 --token "$token" >"$state/stdout" 2>"$state/stderr" &
    pid=$!
    port=""
    for ((i = 0; i < 6000; i++)); do
        port=$(sed -n 's/.*pincer: listening on [^ ]*:\([0-9][0-9]*\).*/\1/p' "$state/stdout" | head -n 1 || true)
        [[ -n $port ]] && break
        kill -0 "$pid" 2>/dev/null || { echo "chat_bench.sh: gateway exited; stderr:" >&2; cat "$state/stderr" >&2; exit 1; }
        sleep 0.005
    done
    [[ -n $port ]] || { echo "chat_bench.sh: gateway did not report its port" >&2; exit 1; }
}

bench() { "$chatbench" --url "ws://127.0.0.1:$port/" --token "$token" --server-pid "$pid" --md "$@"; }

echo "Pincer agent-runtime benchmarks, $(nproc) cores ($(date -u +%Y-%m-%dT%H:%MZ)), $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')"

if [[ $what == all || $what == fanout ]]; then
    echo
    echo "### Fan-out: one run of $deltas deltas to N clients"
    echo
    echo "| clients | deltas | assistant events per client (min / max) | finals | drops | chat deltas per client | wall (send → last final) | gateway CPU (user / sys s) | CPU per delta per client | received | gateway RSS |"
    echo "| --: | --: | --: | --: | --: | --: | --: | --- | --: | --: | --- |"
    for run in $fanout_runs; do
        clients=${run%%:*} text=${run#*:}
        start_model "$deltas" "$text"
        new_state
        start_gateway
        bench fanout -c "$clients" --deltas "$deltas" | sed "s/^| $clients | $deltas |/| $clients | $deltas × \`$text\` |/" ||
            echo "| $clients | $deltas × \`$text\` | run failed or incomplete (exit $?) | | | | | | | | |"
        stop_all
    done
fi

if [[ $what == all || $what == latency ]]; then
    echo
    echo "### chat.history and sessions.list on a seeded store ($sessions sessions, $messages messages in agent:main:main)"
    echo
    start_model 10 x
    new_state
    "$seed" --state "$state" --sessions "$sessions" --messages "$messages" >&2
    echo "store: $(du -sh "$state" | cut -f1) on disk"
    echo
    start_gateway
    echo "| scenario | call | timed calls | first call | p50 | p90 | p99 | max | items | response | failures |"
    echo "| --- | --- | --: | --: | --: | --: | --: | --: | --: | --: | --: |"
    mid=$((sessions / 2)) last=$((sessions > 100 ? sessions - 100 : 0))
    bench rpc -n "$iter" \
        --call "chat.history, last 200 of $messages|chat.history|{\"sessionKey\":\"agent:main:main\",\"limit\":200}" \
        --call 'sessions.list, first page of 100|sessions.list|{"limit":100}' \
        --call "sessions.list, page of 100 at offset $mid|sessions.list|{\"limit\":100,\"offset\":$mid}" \
        --call "sessions.list, last page of 100|sessions.list|{\"limit\":100,\"offset\":$last}" ||
        echo "| rpc run failed (exit $?) | | | | | | | | | | |"
    stop_all
fi

if [[ $what == all || $what == soak ]]; then
    echo
    echo "### Soak: $soak_clients clients chatting back to back, $soak_deltas-delta replies, ${soak_seconds} s"
    echo
    start_model "$soak_deltas" x
    new_state
    start_gateway
    echo "| duration | clients × deltas | runs | failed | run p50 / p99 | RSS idle | RSS first sample (10 s) | RSS last | RSS max | growth (last vs first sample) | after warm-up (t = 60 s → last) | gateway CPU |"
    echo "| --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: |"
    soak_args=(soak -c "$soak_clients" -d "$soak_seconds" --deltas "$soak_deltas")
    [[ -n ${SOAK_CSV:-} ]] && soak_args+=(--samples-out "$SOAK_CSV")
    bench "${soak_args[@]}" || echo "| soak failed (exit $?) | | | | | | | | | | | |"
    stop_all
fi
echo
echo "Command: bench/chat_bench.sh $*"
