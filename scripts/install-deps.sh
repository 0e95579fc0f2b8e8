#!/bin/sh
# Installs the Debian packages sprof needs to build and test, when missing.
# Usage: scripts/install-deps.sh [--check]   (--check: only report, exit 1 if missing)
set -eu

need_pkgs=""
missing() { need_pkgs="$need_pkgs $1"; }

command -v pkg-config >/dev/null 2>&1 || missing pkg-config
for pc in libunwind:libunwind-dev libdw:libdw-dev libelf:libelf-dev libzstd:libzstd-dev zlib:zlib1g-dev; do
    mod=${pc%%:*} pkg=${pc#*:}
    if ! command -v pkg-config >/dev/null 2>&1 || ! pkg-config --exists "$mod"; then
        missing "$pkg"
    fi
done
command -v cc >/dev/null 2>&1 || missing gcc
command -v make >/dev/null 2>&1 || missing make
command -v python3 >/dev/null 2>&1 || missing python3

if [ -z "$need_pkgs" ]; then
    exit 0
fi
if [ "${1:-}" = "--check" ]; then
    echo "sprof: missing Debian packages:$need_pkgs" >&2
    exit 1
fi
echo "sprof: installing Debian packages:$need_pkgs" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $need_pkgs
