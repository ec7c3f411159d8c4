#!/usr/bin/env bash
# Installs the Debian 12 packages Pincer needs to build, run and test. Idempotent: only what is
# missing is installed, and apt is not touched at all when everything is present.
set -euo pipefail

build_pkgs=(
  cmake make g++ pkg-config ninja-build
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev libsodium-dev libsqlite3-dev sqlite3 zlib1g-dev
  libhowardhinnant-date-dev tzdata libspdlog-dev libfmt-dev libcli11-dev
)
test_pkgs=(
  libgtest-dev libgmock-dev libbenchmark-dev
  clang-19 libclang-rt-19-dev
  python3 python3-websockets
  openssl  # the TLS tests make their certificates with it
)

want=("${build_pkgs[@]}")
if [[ "${1:-}" == "--test" ]]; then
  want+=("${test_pkgs[@]}")
fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# Node.js (test tooling only: the JSON5 differential test) may come from outside dpkg; take
# Debian's only when no node is on PATH at all.
if [[ "${1:-}" == "--test" ]] && ! command -v node >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "pincer: installing missing Debian packages: ${missing[*]}" >&2
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
