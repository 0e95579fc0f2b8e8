#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Regenerates the seed corpus of the fuzz targets from a build:
#   fuzz/make-corpus.sh [BUILD]     (default build; run `make` and
#                                    `tests/run.sh unit` first for the test programs)
# fuzz/corpus/reader: small real profiles recorded with libsprof.so from the
# test programs, and two written by tests/tools/synth, each under 8 KiB.
# fuzz/corpus/records: the decompressed payload of every chunk of those
# (the input of fuzz-records), extracted with the zstd command.
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$SRC/$BUILD ;; esac
BIN=$BUILD/tests
OUT=$SRC/fuzz/corpus
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

rec() { # NAME COMMAND...
    local name=$1
    shift
    env LD_PRELOAD="$BUILD/libsprof.so" SPROF_OUTPUT="$TMP/$name" SPROF_QUIET=1 "$@" >/dev/null 2>&1 || true
}
rec target.bin TARGET_MS=60 "$BIN/target"
rec split.bin "$BIN/split" 50
rec threads.bin "$BIN/threads" 15
rec dlopen.bin "$BIN/dlmain" "$BIN/libhot.so" close 40
rec fork.bin "$BIN/fork"
"$BIN/synth" "$TMP/synth.bin" --samples 60 --per-chunk 20 --churn
"$BIN/synth" "$TMP/synth-vdso.bin" --samples 30 --vdso --zero-bias

# regress-*: inputs that found bugs, kept by hand; kept-flags3-*: a profile
# and its chunks in the encodings of header flags 1 and 2 (STACK records),
# which libsprof wrote before STACKS records and steps (flags 4 and 8)
rm -f "$OUT"/reader/*.bin "$OUT"/records/*.rec
mkdir -p "$OUT/reader" "$OUT/records"
for f in "$TMP"/*.bin*; do
    n=$(basename "$f")
    case $n in fork.bin.*) n=fork-child.bin ;; esac
    if [ "$(stat -c %s "$f")" -ge 8192 ]; then
        echo "make-corpus: $n is $(stat -c %s "$f") bytes, over 8 KiB: skipped" >&2
        continue
    fi
    cp "$f" "$OUT/reader/$n"
done
# chunk payloads: the header is 32 bytes; a chunk is 24 bytes of header
# (magic, codec, stored, raw, seq, crc) then `stored` bytes: a zstd frame
# (codec 1) or the payload itself (codec 0, chunks under 4 KiB)
for f in "$OUT"/reader/*.bin; do
    n=$(basename "$f" .bin)
    "${PY:-python3}" - "$f" "$TMP/$n" <<'PYEOF'
import struct, sys
d = open(sys.argv[1], "rb").read()
off, i = struct.unpack_from("<H", d, 10)[0], 0
while off + 24 <= len(d):
    magic, codec, stored, raw, seq, crc = struct.unpack_from("<IIIIII", d, off)
    ext = "zst" if codec == 1 else "raw"
    open("%s.%d.%s" % (sys.argv[2], i, ext), "wb").write(d[off + 24:off + 24 + stored])
    off += 24 + stored
    i += 1
PYEOF
    for z in "$TMP/$n".*.zst; do
        [ -e "$z" ] || continue
        zstd -q -d -c "$z" >"$OUT/records/$(basename "$z" .zst).rec"
    done
    for z in "$TMP/$n".*.raw; do
        [ -e "$z" ] || continue
        cp "$z" "$OUT/records/$(basename "$z" .raw).rec"
    done
done
ls -l "$OUT/reader" "$OUT/records"
