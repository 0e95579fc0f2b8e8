#!/bin/sh
# SPDX-License-Identifier: MIT
#
# demo.sh BUILD: what `make demo` runs once BUILD/libsprof.so and
# BUILD/sprof-report are built. Builds the bundled example (examples/demo.c,
# a tiny interpreter with four hot functions), profiles it with
# sprof-record, and prints the profile's summary and flat report.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
CC=${CC:-cc}
lib=$build/libsprof.so
report=$build/sprof-report
for f in "$lib" "$report"; do
    if [ ! -e "$f" ]; then
        echo "demo.sh: $f is missing; run make first" >&2
        exit 1
    fi
done

out=$build/demo
mkdir -p "$out"
echo "\$ $CC -O2 -g -o $out/demo examples/demo.c"
$CC -O2 -g -o "$out/demo" "$root/examples/demo.c"

# A sanitizer build of libsprof.so needs its runtime loaded first.
pre=""
asan=$(ldd "$lib" 2>/dev/null | awk '$1 ~ /^libasan\.so/ { print $3; exit }')
if [ -n "$asan" ]; then
    pre=$asan
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
    export ASAN_OPTIONS
fi

cd "$out"
rm -f demo.bin demo.bin.*
echo "\$ sprof-record -o demo.bin -- ./demo"
if [ -n "$pre" ]; then
    LD_PRELOAD=$pre SPROF_LIB=$lib "$root/scripts/sprof-record" -o demo.bin -- ./demo
else
    SPROF_LIB=$lib "$root/scripts/sprof-record" -o demo.bin -- ./demo
fi
echo
echo "\$ sprof-report info demo.bin"
"$report" info demo.bin
echo
echo "\$ sprof-report flat --limit 12 demo.bin"
"$report" flat --limit 12 demo.bin
echo
echo "The profile is $out/demo.bin. Next, for example:"
echo "  $report flamegraph -o demo.svg $out/demo.bin    # open it in a browser"
echo "  $report tree $out/demo.bin"
echo "  $report flat --by line $out/demo.bin"
