#!/usr/bin/env bash
# Schema e2e: every frame Pincer sends, validated against the pinned @openclaw/gateway-protocol
# protocol.schema.json (validate.mjs: handshake, utility methods, and chat/agent/session traffic
# against a fake OpenAI-compatible provider, fake_provider.mjs), and README's Node example run as
# written (readme_node_example.mjs). Installs the pinned packages (package-lock.json) with `npm ci` when
# node_modules is missing or was installed from a different lock file.
# Usage: run.sh <path-to-pincer>. Exit 0 = both passed.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")" || exit 1
pincer="${1:?usage: run.sh <path-to-pincer>}"
[[ "$pincer" = /* ]] || pincer="$OLDPWD/$pincer"

stamp=node_modules/.pincer-lock.sha256
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [[ ! -d node_modules || ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    echo "run.sh: installing pinned packages (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error || { echo "run.sh: npm ci failed" >&2; exit 1; }
    echo "$want" > "$stamp"
fi

rc=0
node validate.mjs "$pincer" || rc=1
node readme_node_example.mjs "$pincer" || rc=1
exit $rc
