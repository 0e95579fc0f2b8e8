# SPDX-License-Identifier: MIT
# callgraph and tree on recursion: a function several times in one stack
# counts once in its total and once per caller -> callee edge, so no total
# exceeds 100%: synth's rec;rec;rec (known counts) and split's dispatcher,
# recursing 10 to 29 frames deep in a real recording.
# timeout: 60

RP="$PY $SRC/tests/lib/reports.py"

# synth: rec is 10% of the samples, three frames deep
synth_profile s.bin
report callgraph --limit 0 s.bin >cg.txt
$RP callgraph cg.txt >cg.rows || fail "$(cat cg.rows)"
cat cg.rows
awk -F'\t' '$2 != "edge" && $4 == "rec" { print $2 }' cg.rows | grep -qx 100 ||
    fail "rec's total is not 100 samples (once per sample under recursion)"
awk -F'\t' '$2 == "edge" && $3 == "->" && $5 == "rec" { print $4 }' cg.rows | sort -u >recedges
[ "$(cat recedges)" = "100" ] || fail "edges into rec are not 100 samples each: $(cat recedges)"
grep -q '10\.0%.*rec  \[synth\]' cg.txt || fail "rec is not 10.0% in the callgraph"

# a real recording: split's dispatch recursion
profile p.bin "$BIN/split" 600 >/dev/null 2>err.txt
expect_stderr_clean err.txt
report callgraph --limit 0 p.bin >split.txt
head -n 30 split.txt
$RP callgraph split.txt >split.rows || fail "$(cat split.rows)"
n=$(sed -n '1s/^# \([0-9]*\) samples.*/\1/p' split.txt)
[ "$n" -ge 100 ] || fail "only $n samples from split"
d=$(awk -F'\t' '$2 != "edge" && $4 == "dispatch" { print $2 }' split.rows)
[ -n "$d" ] || fail "no dispatch block in the callgraph"
[ "$d" -le "$n" ] || fail "dispatch's total $d exceeds the $n samples"
[ "$((d * 100 / n))" -ge 90 ] || fail "dispatch's total is $d of $n samples, want 90% or more"
self_edge=$(awk -F'\t' '$2 == "edge" && $3 == "->" && $5 == "dispatch" { print $4; exit }' split.rows)
[ -n "$self_edge" ] && [ "$self_edge" -le "$d" ] ||
    fail "the dispatch -> dispatch edge ($self_edge) is missing or exceeds dispatch's total ($d)"
for w in work_a work_b work_c; do
    t=$(awk -F'\t' -v w="$w" '$2 != "edge" && $4 == w { print $2 }' split.rows)
    [ -n "$t" ] || fail "no block for $w"
    c=$(awk -F'\t' -v w="$w" '$2 == "edge" && $3 == "<-" && $5 == "dispatch" { print $1 "\t" $4 }' split.rows |
        awk -F'\t' -v i="$(awk -F'\t' -v w="$w" '$2 != "edge" && $4 == w { print $1 }' split.rows)" '$1 == i { print $2 }')
    [ "$c" = "$t" ] || fail "$w is called only from dispatch, but the edge has $c of its $t samples"
done

# the tree: one node per level, so dispatch appears at many depths, each
# node within its parent's total
report tree --ascii --min-percent 0 p.bin >tree.txt
$RP tree tree.txt >tree.rows || fail "$(cat tree.rows)"
"$PY" - tree.rows "$n" <<'PYEOF' || fail "tree totals are inconsistent"
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
n = int(sys.argv[2])
stack = []  # (depth, total, children sum)
top = 0
deepest = 0
for d, t, s, name in rows:
    d, t, s = int(d), int(t), int(s)
    while stack and stack[-1][0] >= d:
        stack.pop()
    if stack:
        stack[-1][2] += t
        assert stack[-1][2] <= stack[-1][1], "children of a node exceed it: %s" % name
    else:
        top += t
    assert s <= t <= n, (name, s, t, n)
    stack.append([d, t, 0])
    if name == "dispatch":
        deepest = max(deepest, d)
assert top == n, "the top-level totals add up to %d, not %d" % (top, n)
print("dispatch nodes reach depth", deepest)
assert deepest >= 12, "the recursion is not 10 or more levels deep in the tree"
PYEOF
report tree --ascii --inverted p.bin >inv.txt
$RP tree inv.txt >inv.rows || fail "$(cat inv.rows)"
a=$(awk -F'\t' '$1 == 1 && $4 == "work_a" { print $2 }' inv.rows)
[ -n "$a" ] && [ "$((a * 100 / n))" -ge 40 ] && [ "$((a * 100 / n))" -le 60 ] ||
    fail "tree --inverted: work_a as a leaf has $a of $n samples, want about 50%"
