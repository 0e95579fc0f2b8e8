# SPDX-License-Identifier: MIT
# From a thread's 16th sample on, a ring entry keeps only the frames of its
# stack that differ from the thread's previous entry's, its outermost ones
# being the previous entry's (preload/sprof.h, handler.c share, writer.c
# entry_stack): the writer puts the stack together again. Every stack must
# come out whole and exact, at every rate, in every thread, and in a child
# of fork, whose ring starts over; and no sample may be lost for want of
# the frames it shares.
# tests/progs/shapes.c runs eight stack shapes in a pseudo-random order,
# each going down 2 to 330 frames of step_0 to step_7 in a known pattern
# (never one function twice in a row) to its own leaf, sharing outer frames
# with the others to different depths, some deeper than the 256 frames an
# entry may share: a sample in leaf_K has the stack `shapes -p` prints for
# it, frame for frame; a sample in a step is on the way to one of them.

"$BIN/shapes" -p >expected.txt
[ "$(wc -l <expected.txt)" -eq 8 ] || fail "shapes -p printed $(wc -l <expected.txt) lines"

# check WHAT FILE...: every folded stack of the files, from its last `run`
# down
check() {
    local what=$1 rc=0
    shift
    for f in "$@"; do
        report info "$f" >info.txt
        grep -q '^samples .* 0 lost,' info.txt || fail "$what: $(grep -m 1 '^samples' info.txt)"
    done
    report folded "$@" >folded.txt
    "$PY" - expected.txt folded.txt >check.txt <<'EOF' || rc=$?
import re
import sys

expected = {}
for line in open(sys.argv[1]):
    frames = line.split()[0].split(";")
    expected[frames[-1]] = frames
prefixes = {tuple(f[:i]) for f in expected.values() for i in range(1, len(f))}
seen, total, bad = {}, 0, []
for line in open(sys.argv[2]):
    stack, count = line.rsplit(" ", 1)
    count = int(count)
    total += count
    frames = stack.split(";")
    if "run" not in frames:
        continue
    chain = frames[len(frames) - 1 - frames[::-1].index("run"):]
    leaf = chain[-1]
    if leaf in expected:
        seen[leaf] = seen.get(leaf, 0) + count
        if chain != expected[leaf]:
            bad.append(f"{count} in {leaf}: {len(chain)} frames from run, want {len(expected[leaf])}")
        continue
    # on the way down or up: steps, then what a step calls (step_of, inline)
    steps = chain[:]
    while steps and not re.fullmatch(r"step_[0-7]|run", steps[-1]):
        steps.pop()
    if tuple(steps) not in prefixes:
        bad.append(f"{count} in {leaf}: its {len(steps)} steps are on no shape's way")
in_leaves = sum(seen.values())
print(f"# {total} samples, {in_leaves} in leaves: " +
      ", ".join(f"{k} {seen.get(k, 0)}" for k in sorted(expected)))
if bad:
    print("shares: wrong stacks: " + "; ".join(bad[:5]))
    sys.exit(1)
few = [k for k in expected if seen.get(k, 0) < 10]
if few or in_leaves * 10 < total * 8:
    print(f"shares: too few samples in the leaves ({in_leaves} of {total}; few: {few})")
    sys.exit(1)
EOF
    log "$what: $(head -n 1 check.txt)"
    [ "$rc" -eq 0 ] || fail "$what: $(grep -m 1 '^shares:' check.txt | sed 's/^shares: //')"
}

for freq in 999 10000; do
    SPROF_DEPTH=512 SPROF_FREQ=$freq profile p-$freq.bin "$BIN/shapes" 600 >out.txt 2>err.txt
    expect_stderr_clean err.txt
    grep -qx 'shapes: 1' out.txt || fail "shapes printed $(cat out.txt)"
    check "$freq Hz" p-$freq.bin
done

SPROF_DEPTH=512 SPROF_FREQ=4000 profile t.bin "$BIN/shapes" -t 3 900 >out.txt 2>err.txt
expect_stderr_clean err.txt
threads=$(report info t.bin | awk '$1 == "threads" { print $2 }')
[ "${threads:-0}" -ge 4 ] || fail "t.bin has ${threads:-no} threads, want main's and 3 more"
check "3 threads at 4 kHz" t.bin

SPROF_DEPTH=512 SPROF_FREQ=4000 profile f.bin "$BIN/shapes" -f 800 >out.txt 2>err.txt
expect_stderr_clean err.txt
grep -c '^shapes: 1$' out.txt | grep -qx 2 || fail "shapes -f printed $(cat out.txt)"
child=$(ls f.bin.* 2>/dev/null || true)
[ -n "$child" ] && [ "$(printf '%s\n' "$child" | wc -l)" -eq 1 ] ||
    fail "want one child's file beside f.bin, have: ${child:-none}"
check "the parent of a fork" f.bin
check "the child of a fork" "$child"
