#!/bin/sh
# Installs the Debian packages sprof needs to build and test, when missing.
# Usage: scripts/install-deps.sh [--check] [--tests] [--bench]
#   --check  only report what is missing, exit 1 if anything is
#   --bench  also what make bench compares sprof with: gperftools' CPU
#            profiler (libgoogle-perftools4) and perf (linux-perf)
#   --tests  also the packages only the test suite uses: g++ (a C++ test
#            program), chromium (the flamegraph's browser test),
#            golang-go (go tool pprof reads the pprof export back),
#            clang with its libFuzzer runtime (the fuzz targets: make fuzz),
#            valgrind (sprof-report under memcheck) and linux-perf (perf:
#            the benchmarks' smoke test runs scripts/bench/faults.py)
set -eu

check=0 tests=0 bench=0
for arg in "$@"; do
    case $arg in
    --check) check=1 ;;
    --tests) tests=1 ;;
    --bench) bench=1 ;;
    *) echo "usage: $0 [--check] [--tests] [--bench]" >&2; exit 2 ;;
    esac
done

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
if [ "$tests" -eq 1 ]; then
    command -v g++ >/dev/null 2>&1 || missing g++
    command -v valgrind >/dev/null 2>&1 || missing valgrind
    command -v perf >/dev/null 2>&1 || missing linux-perf
    [ -x /usr/bin/chromium ] || missing chromium
    command -v go >/dev/null 2>&1 || [ -x /usr/lib/go/bin/go ] || missing golang-go
    if ! command -v clang >/dev/null 2>&1; then
        missing "clang libclang-rt-dev"
    elif ! ls "$(clang -print-resource-dir)"/lib/*/libclang_rt.fuzzer*.a >/dev/null 2>&1; then
        missing libclang-rt-dev
    fi
fi

if [ "$bench" -eq 1 ]; then
    /sbin/ldconfig -p 2>/dev/null | grep -q 'libprofiler\.so\.0 ' || missing libgoogle-perftools4
    case $need_pkgs in *linux-perf*) ;; *) command -v perf >/dev/null 2>&1 || missing linux-perf ;; esac
fi

if [ -z "$need_pkgs" ]; then
    exit 0
fi
if [ "$check" -eq 1 ]; then
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
