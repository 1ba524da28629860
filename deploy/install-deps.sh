#!/usr/bin/env bash
# Installs what Kordon needs from Debian's packages, only what is missing.
#   deploy/install-deps.sh          build and run: librdkafka, jemalloc, zlib and pkg-config
#   deploy/install-deps.sh --test   also what the tests use: kcat, systemd (systemd-analyze checks the unit),
#                                   python3 with venv (for noida-db),
#                                   and noida-db itself, in .build/tools (a second Kafka broker for the admin tests)
set -euo pipefail

packages=(librdkafka-dev libjemalloc-dev zlib1g-dev pkg-config)
if [[ "${1:-}" == "--test" ]]; then
    packages+=(kcat python3 python3-venv systemd)
fi

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    echo "installing: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null; then
    echo "swift is not on PATH: install a Swift 6 toolchain (swift.org) and add its usr/bin to PATH" >&2
    exit 1
fi

if [[ "${1:-}" == "--test" ]] && ! command -v noida-db >/dev/null && [[ ! -x .build/tools/bin/noida-db ]]; then
    echo "installing noida-db into .build/tools"
    python3 -m venv .build/tools
    .build/tools/bin/pip install --quiet noida-db
fi
