# SPDX-License-Identifier: MIT
# Chunks under 4 KiB are stored uncompressed and libzstd is loaded only for
# the first larger one (preload/compress.c): a short process such as
# /bin/true never maps libzstd, and its file reads back; a process that
# samples for a while compresses its chunks, every one after the first
# compressed one (its last second's too, under 4 KiB), and its samples read
# back; and
# a short run of an interpreter, whose chunk holds few samples and many
# stacks, compresses that chunk too (its stacks count).

# codecs FILE [raw]: the codec of every chunk, one per line (0 stored, 1
# zstd), with raw its size before compression after it
codecs() {
    "$PY" - "$@" <<'PYEOF' || fail "cannot walk the chunks of $1"
import struct, sys
d = open(sys.argv[1], "rb").read()
off = 32
while off + 24 <= len(d):
    magic, codec, stored, raw = struct.unpack_from("<4I", d, off)
    assert magic == 0x4B435053, "bad chunk magic at %d" % off
    print(codec, raw) if len(sys.argv) > 2 else print(codec)
    off += 24 + stored
assert off == len(d), "%d bytes after the last chunk" % (len(d) - off)
PYEOF
}

# a short process: every chunk stored, libzstd never loaded
profile short.bin /bin/true 2>err.txt
expect_stderr_clean err.txt
codecs short.bin >short.codecs
log "/bin/true: chunks with codecs $(tr '\n' ' ' <short.codecs), $(stat -c %s short.bin) bytes"
[ -s short.codecs ] || fail "short.bin has no chunk"
! grep -qv '^0$' short.codecs || fail "a chunk of /bin/true's profile is compressed: $(tr '\n' ' ' <short.codecs)"
report info short.bin >short.info
grep -q '^ended *exit, status 0' short.info || fail "short.bin does not read back: $(cat short.info)"
! grep -q libzstd short.info || fail "/bin/true mapped libzstd: $(grep libzstd short.info)"

# 1.5 s of two threads at 999 Hz: chunks of some 2000 samples, compressed
profile long.bin "$BIN/split" 1500 >/dev/null 2>err.txt
expect_stderr_clean err.txt
codecs long.bin >long.codecs
log "split 1500: chunks with codecs $(tr '\n' ' ' <long.codecs), $(stat -c %s long.bin) bytes"
grep -qx 1 long.codecs || fail "no chunk of long.bin is compressed: $(tr '\n' ' ' <long.codecs)"
report info long.bin >long.info
grep -q 'libzstd' long.info || fail "libzstd, loaded for the compressed chunks, is not among the mappings"
flat_rows rows long.bin
expect_in_flat rows work_a 300
expect_in_flat rows work_b 300

# 0.3 s of the tree-walking evaluator at 999 Hz: 300 samples, nearly each a
# new stack, in one chunk of some 9 KiB (libzstd is loaded for it)
SPROF_FREQ=999 profile interp.bin "$BIN/interp" 300 >/dev/null 2>err.txt
expect_stderr_clean err.txt
codecs interp.bin raw >interp.codecs
log "interp 300: chunks (codec, raw size) $(tr '\n' ' ' <interp.codecs), $(stat -c %s interp.bin) bytes"
awk '$2 >= 4096 { big++ } END { exit !big }' interp.codecs ||
    fail "no chunk of interp.bin reaches 4 KiB: $(tr '\n' ' ' <interp.codecs)"
! awk '$2 >= 4096 && $1 != 1 { bad = 1 } END { exit !bad }' interp.codecs ||
    fail "a chunk of 4 KiB or more is stored uncompressed: $(tr '\n' ' ' <interp.codecs)"

# 1.3 s of it at 300 Hz: a first second of some 8 KiB (libzstd is loaded),
# then the last 0.3 s, some 3 KiB, compressed too: once libzstd is loaded a
# chunk is stored only where zstd would not shrink it (a few hundred bytes
# of ending at most)
SPROF_FREQ=300 profile tail.bin "$BIN/interp" 1300 >/dev/null 2>err.txt
expect_stderr_clean err.txt
codecs tail.bin raw >tail.codecs
log "interp 1300 at 300 Hz: chunks (codec, raw size) $(tr '\n' ' ' <tail.codecs)"
grep -q '^1 ' tail.codecs || fail "no chunk of tail.bin is compressed: $(tr '\n' ' ' <tail.codecs)"
! awk '$1 == 1 { z = 1 } z && $1 == 0 && $2 >= 1024 { bad = 1 } END { exit !bad }' tail.codecs ||
    fail "a chunk of 1 KiB or more after a compressed one is stored: $(tr '\n' ' ' <tail.codecs)"

# a child of fork starts over, as a new process does: bash, having written
# compressed chunks for 1.5 s of its loop at 10 kHz, forks a subshell that
# loops for a moment and exits (its small chunks stored: compressing them
# would write to the pages of the parent's compressor, a copy and a trap
# each; a subshell that exits at once may end before its first sample, and a
# child without samples writes no file) and one that loops for a second (its
# chunks of 4 KiB or more compressed). The short child is some 5 samples and
# 1.5 KiB here, 15-40 and 2.5 KiB under the sanitizers (a CI machine's 300
# iterations made 107 samples and a first chunk of 4,144 bytes, compressed as
# it should be), so the rule is checked by size: before the first compressed
# chunk, every chunk is stored that is under 4 KiB.
# shellcheck disable=SC2016
SPROF_FREQ=10000 profile sub.bin bash -c 'burn() { local i=0; while [ $i -lt $1 ]; do i=$((i + 1)); done; }
burn 600000; (burn 100); (burn 400000); burn 1000' 2>err.txt
expect_stderr_clean err.txt
codecs sub.bin raw >sub.codecs
grep -q '^1 ' sub.codecs || fail "bash compressed no chunk before it forked: $(tr '\n' ' ' <sub.codecs)"
short="" long=""
for f in sub.bin.*; do
    n=$(report info "$f" | awk '/^samples/ { print $2 }')
    log "$f: $n samples, chunks (codec, raw size) $(codecs "$f" raw | tr '\n' ' ')"
    if [ "$n" -ge 1000 ]; then long=$f; else short=$f; fi
done
{ [ -n "$short" ] && [ -n "$long" ]; } || fail "not the two children's files: $(echo sub.bin.*)"
codecs "$short" raw >short-child.codecs
grep -q '^0 ' short-child.codecs || awk 'NR == 1 && $2 >= 4096 { ok = 1 } END { exit !ok }' short-child.codecs ||
    fail "the short child stored no chunk: $(tr '\n' ' ' <short-child.codecs)"
! awk '!z && $2 < 4096 && $1 != 0 { bad = 1 } $2 >= 4096 && $1 != 1 { bad = 1 } $1 == 1 { z = 1 } END { exit !bad }' short-child.codecs ||
    fail "the short child compressed a chunk under 4 KiB before its first compressed one, or stored one of 4 KiB or more: $(tr '\n' ' ' <short-child.codecs)"
codecs "$long" raw >long-child.codecs
awk '$2 >= 4096 { big++ } END { exit !big }' long-child.codecs ||
    fail "no chunk of the long child reaches 4 KiB: $(tr '\n' ' ' <long-child.codecs)"
! awk '$2 >= 4096 && $1 != 1 { bad = 1 } END { exit !bad }' long-child.codecs ||
    fail "a chunk of the long child of 4 KiB or more is stored: $(tr '\n' ' ' <long-child.codecs)"
