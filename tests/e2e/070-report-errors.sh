# SPDX-License-Identifier: MIT
# sprof-report on bad input and bad usage: exit status 2 and one line on
# stderr naming the file; a truncated or damaged profile is salvaged with a
# warning and exit status 0.

# error FILE-WORD COMMAND...: the command exits 2 with one stderr line that
# contains FILE-WORD
error() {
    local word=$1 rc=0 n
    shift
    "$REPORT" "$@" >out.txt 2>err.txt || rc=$?
    n=$(grep -c . err.txt || true)
    log "sprof-report $* -> $rc: $(cat err.txt)"
    [ "$rc" -eq 2 ] || fail "sprof-report $*: exit status $rc, want 2 (stderr: $(head -c 300 err.txt))"
    [ "$n" -ge 1 ] || fail "sprof-report $*: no message on stderr"
    [ -z "$word" ] || grep -qF -- "$word" err.txt || fail "sprof-report $*: the message does not name '$word': $(cat err.txt)"
    [ "$n" -eq 1 ] || [ -z "$word" ] || fail "sprof-report $*: $n lines on stderr, want one: $(head -c 500 err.txt)"
}

# a real profile with several chunks: split runs over a second, the writer
# appends a chunk about every second
profile good.bin "$BIN/split" 2500 >/dev/null 2>&1
chunks=$("$PY" - good.bin <<'PYEOF'
import struct, sys
d = open(sys.argv[1], "rb").read()
off = struct.unpack_from("<H", d, 10)[0]
while off + 24 <= len(d):
    magic, codec, stored = struct.unpack_from("<III", d, off)
    print(off, stored)
    off += 24 + stored
PYEOF
)
echo "$chunks"
[ "$(echo "$chunks" | wc -l)" -ge 3 ] || fail "setup: good.bin has fewer than 3 chunks"

# input errors
error missing.bin flat missing.bin
error missing.bin info missing.bin
error missing.bin folded missing.bin
echo 'this is a text file, not a profile' >text.bin
error text.bin flat text.bin
: >empty.bin
error empty.bin flat empty.bin
mkdir adir
error adir flat adir
head -c 20 good.bin >short.bin
error short.bin flat short.bin
cp good.bin newer.bin
printf '\x02' | dd of=newer.bin bs=1 seek=8 conv=notrunc 2>/dev/null
error newer.bin flat newer.bin
grep -qi version err.txt || fail "the newer-version message does not say 'version': $(cat err.txt)"
cp good.bin flags.bin
printf '\x80' | dd of=flags.bin bs=1 seek=15 conv=notrunc 2>/dev/null # flag bit 31: unknown
error flags.bin info flags.bin
# one bad file among good ones is still an error
error missing.bin flat good.bin missing.bin

# usage errors
error "" 
error "" bogus-subcommand good.bin
error "" flat
error "" flat --limit abc good.bin
error "" flat --limit -3 good.bin
error "" flat --sort bogus good.bin
error "" flat --by bogus good.bin
error "" flat --no-such-option good.bin
error "" folded --weight bogus good.bin
rc=0
"$REPORT" --help >help.txt 2>&1 || rc=$?
[ "$rc" -eq 0 ] || fail "sprof-report --help exits with $rc"
for w in info flat folded; do grep -qw "$w" help.txt || fail "sprof-report --help does not mention $w"; done

# truncated in the middle of the last chunk: salvaged, warning, status 0
last=$(echo "$chunks" | tail -n 1)
set -- $last
head -c $(($1 + 24 + $2 / 2)) good.bin >trunc.bin
rc=0
"$REPORT" flat trunc.bin >trunc.txt 2>trunc.err || rc=$?
cat trunc.err
[ "$rc" -eq 0 ] || fail "a truncated profile: exit status $rc, want 0 (salvage): $(cat trunc.err)"
grep -q trunc.bin trunc.err || fail "a truncated profile: no warning naming the file"
grep -qw work_a trunc.txt || fail "a truncated profile: the intact chunks were not reported"

# cut inside a chunk header
head -c $(($1 + 10)) good.bin >trunc2.bin
rc=0
"$REPORT" folded trunc2.bin >/dev/null 2>trunc2.err || rc=$?
[ "$rc" -eq 0 ] || fail "cut in a chunk header: exit status $rc: $(cat trunc2.err)"
grep -q trunc2.bin trunc2.err || fail "cut in a chunk header: no warning naming the file"

# damage in the middle: the chunks after it are still read
second=$(echo "$chunks" | sed -n 2p)
set -- $second
cp good.bin damaged.bin
printf '\xff\xff\xff\xff' | dd of=damaged.bin bs=1 seek=$(($1 + 24 + $2 / 2)) conv=notrunc 2>/dev/null
rc=0
"$REPORT" flat damaged.bin >damaged.txt 2>damaged.err || rc=$?
cat damaged.err
[ "$rc" -eq 0 ] || fail "a damaged chunk: exit status $rc, want 0: $(cat damaged.err)"
grep -q damaged.bin damaged.err || fail "a damaged chunk: no warning naming the file"
grep -qw work_a damaged.txt || fail "a damaged chunk: nothing reported"

# nothing intact at all: a header and garbage
{ head -c 32 good.bin; head -c 3000 "$BIN/split" | tail -c 2000; } >garbage.bin
rc=0
"$REPORT" flat garbage.bin >/dev/null 2>garbage.err || rc=$?
cat garbage.err
[ "$rc" -eq 0 ] || [ "$rc" -eq 2 ] || fail "header and garbage: exit status $rc (crash?)"
grep -q garbage.bin garbage.err || fail "header and garbage: no message naming the file"
