#!/usr/bin/env bash
# Differential test of Pincer's JSON5 parser against json5@2.2.3 (pinned in package.json).
# One command: builds tests/diff/json5_driver.cpp, installs the pinned json5 into
# tests/diff/node_modules if needed, compares every input in json5_corpus/. Exit 0 = all agree.
# Env: CXX (default g++), BOOST_JSON_LIB (default -l:libboost_json.so.1.81.0).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$(cd "$here/../../src" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"${CXX:-g++}" -std=c++20 -O1 -I"$src" "$here/json5_driver.cpp" "$src/config/json5.cpp" \
    ${BOOST_JSON_LIB:--l:libboost_json.so.1.81.0} -o "$work/json5_driver"

if [[ "$(node -p "try { require('$here/node_modules/json5/package.json').version } catch { '' }")" != "2.2.3" ]]; then
    (cd "$here" && npm install --no-audit --no-fund --silent)
fi

node "$here/json5_diff.js" "$work/json5_driver" "$here/json5_corpus"
