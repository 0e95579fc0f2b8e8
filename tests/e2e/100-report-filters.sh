# SPDX-License-Identifier: MIT
# The filters of every report (--pid, --tid, --time, --focus, --hide,
# --no-inline, --max-depth) on a synth profile with known stacks: each
# against flat and tree with its known effect, percentages of the filtered
# total; every report takes them; bad values are usage errors.
# timeout: 60

synth_profile s.bin
H=$ABOVE_MAIN
RP="$PY $SRC/tests/lib/reports.py"

# tree_rows OUT ARGS...: `tree --ascii ARGS` as depth/total/self/name rows
tree_rows() {
    local out=$1
    shift
    report tree --ascii --min-percent 0 "$@" >"$out.txt"
    $RP tree "$out.txt" >"$out" || fail "cannot parse the tree of $*: $(cat "$out")"
}
# tree_total ROWS NAME: the largest total of a node named NAME (0 if none)
tree_total() {
    awk -F'\t' -v n="$2" '$4 == n && $2 > t { t = $2 } END { print t + 0 }' "$1"
}
# samples_of FILE: N of the "# N samples" header
samples_of() {
    sed -n '1s/^# \([0-9]*\) samples\{0,1\},.*/\1/p' "$1"
}
eq() { # WHAT GOT WANT
    [ "$2" = "$3" ] || fail "$1 is $2, want $3"
}

flat_rows all s.bin
eq "inl_leaf self without filters" "$(self_of all inl_leaf)" 500
eq "c self without filters" "$(self_of all c)" 300

# --focus: only stacks through b; percentages renormalized to them
flat_rows focus --focus '^b$' s.bin
eq "samples with --focus ^b\$" "$(samples_of focus.txt)" 500
eq "inl_leaf self with --focus ^b\$" "$(self_of focus inl_leaf)" 500
expect_not_in_flat focus c
expect_not_in_flat focus rec
grep -E ' inl_leaf ' focus.txt | grep -q '100\.0%' || fail "--focus does not renormalize: $(grep inl_leaf focus.txt)"
grep -q '^# filters: --focus' focus.txt || fail "flat does not say which filters it applied"
tree_rows tfocus --focus '^b$' s.bin
eq "tree total of b with --focus" "$(tree_total tfocus b)" 500
eq "tree total of c with --focus" "$(tree_total tfocus c)" 0
grep -q '100\.0%' tfocus.txt || fail "tree --focus does not renormalize"

# --hide: b's frames go, its callee and caller stay (a calls inl_leaf now)
flat_rows hide --hide '^b$' s.bin
expect_not_in_flat hide b
eq "inl_leaf self with --hide ^b\$" "$(self_of hide inl_leaf)" 500
eq "samples with --hide" "$(samples_of hide.txt)" 1000
tree_rows thide --hide "$H" --hide '^b$' s.bin
grep -qx "$(printf '1\t1000\t0\tmain')" thide || fail "with libc hidden, main is not the root of all samples: $(head -3 thide)"
grep -qx "$(printf '2\t500\t0\ta')" thide || fail "a is not under main"
grep -qx "$(printf '3\t500\t500\tinl_leaf')" thide || fail "inl_leaf is not directly under a once b is hidden"
eq "tree total of b with --hide" "$(tree_total thide b)" 0
# hiding everything drops every sample
report flat --hide . s.bin >hideall.txt
eq "samples with --hide ." "$(samples_of hideall.txt)" 0

# --no-inline: inl_leaf (inlined into b) goes, b gets its samples as self
flat_rows noinl --no-inline s.bin
expect_not_in_flat noinl inl_leaf
eq "b self with --no-inline" "$(self_of noinl b)" 500
tree_rows tnoinl --no-inline s.bin
eq "tree total of inl_leaf with --no-inline" "$(tree_total tnoinl inl_leaf)" 0
awk -F'\t' '$4 == "b" && $3 == 500 { ok = 1 } END { exit !ok }' tnoinl || fail "tree --no-inline: b does not have 500 self samples"
grep -q 'inl_leaf.*(inlined)' "$(report tree --ascii s.bin >inl.txt; echo inl.txt)" ||
    fail "tree does not mark the inlined frame"

# --max-depth: with the libc frames hidden, 2 keeps main and its callees
flat_rows depth --hide "$H" --max-depth 2 s.bin
eq "a self with --max-depth 2" "$(self_of depth a)" 500
eq "rec self with --max-depth 2" "$(self_of depth rec)" 100
expect_not_in_flat depth b
expect_not_in_flat depth inl_leaf
tree_rows tdepth --hide "$H" --max-depth 2 s.bin
awk -F'\t' '$1 > 2 { bad = 1 } END { exit bad }' tdepth || fail "tree --max-depth 2 has deeper nodes: $(cat tdepth)"
eq "tree total of main with --max-depth 2" "$(tree_total tdepth main)" 1000
# order: focus sees the frames before --max-depth cuts them
flat_rows fd --hide "$H" --focus '^inl_leaf$' --max-depth 1 s.bin
eq "main self with --focus inl_leaf --max-depth 1" "$(self_of fd main)" 500

# --tid: by name and by id; the worker thread runs c only
flat_rows tw --tid worker s.bin
eq "samples of thread 'worker'" "$(samples_of tw.txt)" 300
eq "c self on 'worker'" "$(self_of tw c)" 300
expect_not_in_flat tw inl_leaf
grep -E ' c ' tw.txt | grep -q '100\.0%' || fail "--tid does not renormalize"
tid=$(report flat --by thread s.bin | awk '$8 == "worker" { print $7 }')
[ -n "$tid" ] || fail "no tid for thread 'worker' in flat --by thread"
flat_rows tn --tid "$tid" s.bin
eq "samples of --tid $tid" "$(samples_of tn.txt)" 300
tree_rows ttid --tid worker s.bin
eq "tree total of c with --tid worker" "$(tree_total ttid c)" 300
eq "tree total of a with --tid worker" "$(tree_total ttid a)" 0
flat_rows tboth --tid worker --tid synth s.bin
eq "samples of two --tid" "$(samples_of tboth.txt)" 1000

# --pid: the process's own id keeps everything, another keeps nothing
pid=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["metadata"]["processes"][0]["pid"])' \
    "$(report json --no-tree s.bin >j.json; echo j.json)")
flat_rows p1 --pid "$pid" s.bin
eq "samples of --pid $pid" "$(samples_of p1.txt)" 1000
"$REPORT" flat --pid 1 s.bin >p0.txt 2>p0.err || fail "flat --pid 1 failed: $(cat p0.err)"
eq "samples of --pid 1" "$(samples_of p0.txt)" 0
grep -q 'no process' p0.err || fail "--pid of no process gives no warning"
tree_rows tpid --pid "$pid" s.bin
eq "tree total of main with --pid" "$(tree_total tpid main)" 1000

# --time: samples are 1.001 ms apart from 1 ms after the start, so the
# first half second holds about half of them; the two halves make the whole
flat_rows t1 --time 0..0.5 s.bin
flat_rows t2 --time 0.5.. s.bin
n1=$(samples_of t1.txt)
n2=$(samples_of t2.txt)
[ "$n1" -ge 490 ] && [ "$n1" -le 510 ] || fail "--time 0..0.5 keeps $n1 samples, want about 500"
eq "samples of both halves" "$((n1 + n2))" 1000
inl1=$(self_of t1 inl_leaf)
[ "$((inl1 * 100 / n1))" -ge 48 ] && [ "$((inl1 * 100 / n1))" -le 52 ] ||
    fail "inl_leaf has $inl1 of $n1 samples in the first half, want about 50%"
tree_rows ttime --time ..0.25 s.bin
t=$(awk -F'\t' '$1 == 1 { s += $2 } END { print s + 0 }' ttime)
[ "$t" -ge 240 ] && [ "$t" -le 260 ] || fail "tree --time ..0.25 has $t samples, want about 250"
report flat --time 5.. s.bin >tnone.txt
eq "samples after 5 s" "$(samples_of tnone.txt)" 0

# every report takes the filters (the one model: same totals everywhere)
report folded --focus '^c$' s.bin >folded.txt
eq "folded samples with --focus ^c\$" "$("$PY" "$SHARES" total folded.txt)" 300
report info --tid worker s.bin >info.txt
grep -q '^filtered *300 samples' info.txt || fail "info does not count the filtered samples: $(grep filtered info.txt)"
report callgraph --focus '^c$' s.bin >cg.txt
eq "callgraph samples with --focus" "$(samples_of cg.txt)" 300
report json --focus '^c$' s.bin >f.json
$RP json f.json >f.rows || fail "$(cat f.rows)"
$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); t=d["metadata"]["totals"]; f=d["metadata"]["filters"]
assert t["samples"] == 300 and t["samples_before_filters"] == 1000, t
assert f["focus"] == ["^c$"], f' f.json || fail "json does not apply or report --focus"
report diff --focus '^c$' s.bin s.bin >diff.txt
grep -q 'kept 300 of 1000 samples of BASE, 300 of 1000 of NEW' diff.txt || fail "diff does not filter both sides: $(head -3 diff.txt)"
report annotate --tid worker c s.bin >ann.txt
grep -q '^# 300 self samples' ann.txt || fail "annotate does not apply --tid: $(grep self ann.txt)"

# bad values are usage errors (exit 2, one line)
for bad in "--time x" "--time 3..1" "--time -1..2" "--focus (" "--hide [" "--max-depth 0" \
    "--max-depth x" "--pid x" "--tid="; do
    # shellcheck disable=SC2086
    expect_status 2 "$REPORT" flat $bad s.bin 2>err.txt
    [ "$(grep -c . err.txt)" -eq 1 ] || fail "flat $bad: not one line on stderr: $(cat err.txt)"
done
