# SPDX-License-Identifier: MIT
# The reader trusts nothing (ARCHITECTURE invariant 4, issue 5 item 12): a
# small real profile cut at every byte offset, and with single bits flipped
# at 256 positions drawn from a fixed seed, goes through `sprof-report
# info`, and `flat` too for every flip, every cut in the header or near the
# end of a chunk, and every third cut elsewhere (flat symbolizes: 90 ms a
# run, and this case took 2 minutes on a 2-CPU VM with flat on every cut).
# Under a sanitizer, where every run starts slower (2.5 minutes), the cuts
# away from the header and the chunk ends are every third byte, and flat
# runs on every ninth. Each run must end within its timeout with exit status 0
# and a warning naming the file (the intact part salvaged), or 2 with an
# error naming the file as the last line on stderr; never a crash, a
# sanitizer report, or silence. Exit 0 without a warning is right only
# where nothing was lost: a cut between two chunks, a flipped bit in the
# header's session, pid or reserved field.
# timeout: 300

profile p0.bin TARGET_MS=60 "$BIN/target" >/dev/null
# libsprof stores such a small profile's chunks uncompressed: all but the
# last are compressed again, so that the cuts and flips go through both
# codecs (and the file is the size the timings below were taken with)
"$DUMP" p0.bin --zstd p.bin || fail "sprof-dump --zstd failed"
report info p.bin >/dev/null
report flat p.bin >/dev/null

# The damaged copies, and a manifest of "FILE QUIET-OK FLAT" lines; QUIET-OK
# 1: exit 0 without a warning is right for that file; FLAT 1: flat runs too.
every=3
[ -z "$SAN" ] || every=9
"$PY" - p.bin "$every" >manifest.txt <<'PYEOF'
import random, struct, sys
d = open(sys.argv[1], "rb").read()
every = int(sys.argv[2])
ends, off = set(), struct.unpack_from("<H", d, 10)[0]
while off + 24 <= len(d):
    off += 24 + struct.unpack_from("<I", d, off + 8)[0]
    ends.add(off)
if len(ends) < 2:
    sys.exit("p.bin has fewer than 2 chunks")
codecs = []
off = struct.unpack_from("<H", d, 10)[0]
while off + 24 <= len(d):
    codecs.append(struct.unpack_from("<I", d, off + 4)[0])
    off += 24 + struct.unpack_from("<I", d, off + 8)[0]
if set(codecs) != {0, 1}:
    sys.exit("p.bin's chunks have codecs %s, want both 0 and 1" % codecs)
sys.stderr.write("p.bin: %d bytes, chunks end at %s\n" % (len(d), sorted(ends)))
header = struct.unpack_from("<H", d, 10)[0]
for n in range(len(d)):
    near = n < header + 24 or any(0 <= e - n < 32 for e in ends)
    if near or every == 3 or n % 3 == 0:
        open("cut-%d.bin" % n, "wb").write(d[:n])
        print("cut-%d.bin %d %d" % (n, n in ends, near or n % every == 0))
rnd = random.Random(20240611)
for i in range(256):
    pos, bit = rnd.randrange(len(d)), rnd.randrange(8)
    f = bytearray(d)
    f[pos] ^= 1 << bit
    open("flip-%d.bin" % i, "wb").write(f)
    # session, pid and reserved fields of the header: nothing to notice
    print("flip-%d.bin %d 1" % (i, 16 <= pos < 32))
PYEOF

# check FILE QUIET-OK FLAT: runs info (and flat) on FILE; appends a line to
# $bad for each broken expectation.
check() {
    local f=$1 quiet_ok=$2 cmds=(info) cmd rc err last
    [ "$3" = 0 ] || cmds+=(flat)
    for cmd in "${cmds[@]}"; do
        rc=0
        timeout -k 5 20 "$REPORT" "$cmd" "$f" >"$f.out" 2>"$f.err" || rc=$?
        err=$(<"$f.err")
        case $rc in
        0)
            if [ "$quiet_ok" != 1 ] && [[ $err != *"warning: '$f'"* ]]; then
                echo "$f $cmd: exit 0 without a warning naming the file" >>"$bad"
            fi
            if [ ! -s "$f.out" ]; then
                echo "$f $cmd: exit 0 and no report" >>"$bad"
            fi
            ;;
        2)
            last=${err##*$'\n'}
            if [ -z "$err" ]; then
                echo "$f $cmd: exit 2 with nothing on stderr" >>"$bad"
            elif [[ $last == *"warning:"* || $last != *"'$f'"* ]]; then
                echo "$f $cmd: exit 2, but the last line is not an error naming the file: $last" >>"$bad"
            fi
            ;;
        124 | 137) echo "$f $cmd: hung (killed after 20 s)" >>"$bad" ;;
        *) echo "$f $cmd: exit status $rc: $(head -c 600 "$f.err")" >>"$bad" ;;
        esac
        # (bash's own tests, not grep: a process costs 10 ms on a VM, and
        # there are 2,500 runs)
        local line
        while IFS= read -r line; do
            if [[ -n $line && $line != sprof-report:* ]]; then
                echo "$f $cmd: foreign output on stderr: ${line:0:600}" >>"$bad"
                break
            fi
        done <<<"$err"
    done
}

# worker K of N: every Nth line of the manifest
worker() {
    local k=$1 n=$2 i=0 f quiet flat
    bad=bad.$k
    : >"$bad"
    while read -r f quiet flat; do
        if [ $((i++ % n)) -eq "$k" ]; then
            check "$f" "$quiet" "$flat"
        fi
    done <manifest.txt
}

nproc=$(nproc 2>/dev/null || echo 2)
[ "$nproc" -le 8 ] || nproc=8
start=$(date +%s)
pids=()
for ((k = 0; k < nproc; k++)); do
    worker "$k" "$nproc" &
    pids+=($!)
done
for p in "${pids[@]}"; do
    wait "$p" || fail "a worker failed (status $?)"
done
log "$(grep -c . manifest.txt) damaged copies, info on each, flat on $(grep -c ' 1$' manifest.txt), in $(($(date +%s) - start)) s on $nproc CPUs"

cat bad.* >bad.txt
# keep only the copies that show a problem
awk 'NR == FNR { keep[$1] = 1; next } !($1 in keep) { print $1, $1 ".out", $1 ".err" }' \
    bad.txt manifest.txt | xargs -r rm -f
if [ -s bad.txt ]; then
    cat bad.txt
    fail "$(grep -c . bad.txt) broken expectations, first: $(head -n 1 bad.txt)"
fi
