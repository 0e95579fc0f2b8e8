# SPDX-License-Identifier: MIT
# A walk through the unwind tables that comes to a frame with the pc, sp
# and rbp of one of the thread's last walk takes the frames above it from
# that walk, once it has checked that every stack word that walk read from
# there on still holds what it held (preload/unwind.c, memo_take). In
# tests/progs/twopaths.c the frame of `through` is the same whichever of
# path_a and path_b called it, but for the return address above it: a
# sample in leaf_a must be under path_a, one in leaf_b under path_b, and
# each under main's 40 frames of `common`, at every rate; a check that
# trusted the registers alone would put leaf_b under path_a after a sample
# of path_a's.

# check WHAT FILE: every folded stack with a leaf
check() {
    local what=$1 rc=0
    report folded "$2" >folded-$what.txt
    "$PY" - folded-$what.txt >check-$what.txt <<'PYEOF' || rc=$?
import sys

want = ["main"] + ["common"] * 40
seen, bad, cut = {"leaf_a": 0, "leaf_b": 0}, [], 0
for line in open(sys.argv[1]):
    stack, count = line.rsplit(" ", 1)
    frames = stack.split(";")
    leaf = frames[-1]
    if leaf not in seen:
        continue
    seen[leaf] += int(count)
    path = "path_a" if leaf == "leaf_a" else "path_b"
    whole = want + [path, "through", leaf]
    if "main" in frames:
        if frames[frames.index("main"):] != whole:
            bad.append(line.strip())
    elif frames == whole[len(whole) - len(frames):]:
        cut += int(count)  # a walk cut short (its time budget): its outer frames missing
    else:
        bad.append(line.strip())
total = seen["leaf_a"] + seen["leaf_b"]
print("leaf_a %d leaf_b %d, %d cut short, %d wrong stacks" % (seen["leaf_a"], seen["leaf_b"], cut, len(bad)))
for b in bad[:5]:
    print("wrong: " + b[:300])
sys.exit(1 if bad or cut > total / 50 or min(seen.values()) < total / 4 else 0)
PYEOF
    cat check-$what.txt
    [ "$rc" -eq 0 ] || fail "$what: $(head -n 3 check-$what.txt | tr '\n' ' ')"
}

for freq in 999 10000; do
    SPROF_FREQ=$freq profile p$freq.bin "$BIN/twopaths" 800 >out$freq.txt 2>err$freq.txt
    expect_stderr_clean err$freq.txt
    grep -q "twopaths: done" out$freq.txt || fail "twopaths did not finish at $freq Hz"
    check "$freq-Hz" p$freq.bin
done
