# SPDX-License-Identifier: MIT
# Names that break naive output code through every text and JSON view:
# tests/progs/hostile.cpp (operator<(Key const&, Key const&), a template
# class over std::map<int, std::string>, an inlined twist<3>,
# operator"" _burn, and an assembler symbol hot'quote"<&>]]>), and a synth
# thread named with a quote, a backslash, a control character and a byte
# that is not UTF-8. JSON must parse and give the names back exactly; text
# tables keep their number columns; nothing is lost or doubled.
# timeout: 60

RP="$PY $SRC/tests/lib/reports.py"
[ -x "$BIN/hostile" ] || skip "no C++ compiler: tests/progs/hostile.cpp was not built"

profile p.bin "$BIN/hostile" 500 >/dev/null 2>err.txt
expect_stderr_clean err.txt
export LANG=C.UTF-8 LC_ALL=

names=(
    'operator<(Key const&, Key const&)'
    'operator"" _burn(unsigned long long)'
    "hot'quote\"<&>]]>"
    'twist<3>'
    'Box<std::map<int, std::'
)

# every text view names each hot function verbatim
report flat --limit 0 p.bin >flat.txt
report tree --min-percent 0 p.bin >tree.txt
report tree --ascii --inverted p.bin >inv.txt
report callgraph --limit 0 p.bin >cg.txt
report folded p.bin >folded.txt
report diff --limit 0 p.bin p.bin >diff.txt
for f in flat.txt tree.txt inv.txt cg.txt folded.txt diff.txt; do
    for n in "${names[@]}"; do
        grep -qF -- "$n" "$f" || fail "$f does not show '$n' verbatim"
    done
done
cat tree.txt

# the tables still parse: numbers where numbers belong, names whole
$RP columns flat.txt 8 5 || fail "flat: columns broken"
$RP tree tree.txt >tree.rows || fail "tree: $(cat tree.rows)"
$RP tree inv.txt >inv.rows || fail "tree --inverted: $(cat inv.rows)"
$RP callgraph cg.txt >cg.rows || fail "callgraph: $(cat cg.rows)"
$RP columns diff.txt 10 8 || fail "diff: columns broken"
"$PY" "$SHARES" flat flat.txt >flat.rows
grep -qF "$(printf 'operator<(Key const&, Key const&)\thostile')" flat.rows ||
    fail "flat: the operator< row does not parse back to its name and module"
awk -F'\t' -v n="hot'quote\"<&>]]>" '$4 == n { ok = 1 } END { exit !ok }' tree.rows ||
    fail "tree: the assembler symbol does not parse back whole"
awk -F'\t' '$4 == "twist<3>" { ok = 1 } END { exit !ok }' tree.rows ||
    fail "tree: twist<3> does not parse back"
# shares survive: operator< has about 40% of the samples
n=$(sed -n '1s/^# \([0-9]*\) samples.*/\1/p' flat.txt)
lt=$(awk -F'\t' '$3 == "operator<(Key const&, Key const&)" { print $1 }' flat.rows)
[ "$((lt * 100 / n))" -ge 30 ] && [ "$((lt * 100 / n))" -le 50 ] ||
    fail "operator< has $lt of $n samples, want about 40%"
# every diff row of a profile against itself is no change
awk 'NR > 3 && $1 != "0.0" && $1 != "dSelf" { bad = 1 } END { exit bad }' diff.txt ||
    fail "diff of a profile with itself shows changes"

# annotate by a name full of regex characters: the exact name wins
report annotate 'operator<(Key const&, Key const&)' p.bin >ann.txt
cat ann.txt
grep -qF '== operator<(Key const&, Key const&)  [hostile]' ann.txt || fail "annotate does not find operator< by its exact name"
grep -qE '^ *[0-9]+ +[0-9.]+% .*BURN' ann.txt || fail "annotate shows no samples on the BURN line of operator<"
report annotate "hot'quote" p.bin >ann2.txt
grep -qF "hot'quote\"<&>]]>" ann2.txt || fail "annotate by regex does not find the assembler symbol"
grep -q '^# by address' ann2.txt || fail "annotate has no per-address table for a function without source"

# JSON: parses, schema holds, names come back exactly
report json p.bin >p.json
$RP json p.json >json.rows || fail "json: $(cat json.rows)"
"$PY" - p.json "${names[@]}" <<'PYEOF' || fail "json names are not exact"
import json, sys
d = json.load(open(sys.argv[1]))
have = [f["name"] for f in d["functions"]]
for want in sys.argv[2:]:
    if not any(h == want or h.startswith(want) for h in have):
        sys.exit("missing %r in %r" % (want, have))
PYEOF

# a thread name with a quote, a backslash, a control character, markup and
# an invalid byte: JSON escapes it (the bad byte as U+FFFD; the control
# character, like in every view, is '?': 067); it also ends up in the
# process's argv
synth_profile t.bin --thread-name "$(printf 'q"b\\c\001d<&>\377e')"
report json t.bin >t.json
"$PY" - t.json <<'PYEOF' || fail "json does not escape the thread name"
import json, sys
raw = open(sys.argv[1], "rb").read()
assert b"\x01" not in raw and b"\xff" not in raw, "raw control or invalid byte in the JSON"
d = json.loads(raw.decode("utf-8"))
names = [t["name"] for t in d["metadata"]["threads"]]
want = 'q"b\\c?d<&>\ufffde'
assert want in names, (names, want)
assert want in d["metadata"]["processes"][0]["argv"], d["metadata"]["processes"][0]["argv"]
PYEOF
report flat --by thread t.bin >th.txt
grep -q '300' th.txt || fail "flat --by thread lost the oddly named thread"
