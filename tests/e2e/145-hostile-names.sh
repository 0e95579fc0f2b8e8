# SPDX-License-Identifier: MIT
# Names that break naive escaping (tests/progs/hostile.cpp: operator<,
# templates with '<', '>', ',' and '&', operator"" with quotes, an
# assembler symbol hot'quote"<&>]]>, an inlined template) come out of
# every export exactly: flat and folded text, the flamegraph SVG (parsed
# as XML, and searched in Chromium), speedscope JSON, pprof read back by
# go tool pprof (inlined frames as lines of one location).
# timeout: 120

[ -x "$BIN/hostile" ] || need_test_tool "g++ (for tests/progs/hostile.cpp)" g++ c++
[ -x "$BIN/hostile" ] || fail "tests/progs/hostile.cpp was not built"

profile p.bin "$BIN/hostile" 500 >/dev/null 2>err.txt
expect_stderr_clean err.txt
flat_rows rows p.bin
cat rows.txt
LT='operator<(Key const&, Key const&)'
LIT='operator"" _burn(unsigned long long)'
ASM="hot'quote\"<&>]]>"
BOX=$(awk -F'\t' '$3 ~ /^Box<std::map<int, / { print $3; exit }' rows)
[ -n "$BOX" ] || fail "no Box<std::map<int, ...> >::churn in flat"
for n in "$LT" "$LIT" "$ASM" 'twist<3>'; do
    expect_in_flat rows "$n" 5
done
report folded p.bin >folded.txt
for n in "$LT" "$LIT" "$ASM" "$BOX"; do
    grep -qF "$n" folded.txt || fail "folded lacks $n"
done

# SVG: well-formed, the exact names in the tooltips, labels cut to fit
report flamegraph --title "$ASM" -o fg.svg p.bin
pycheck flamegraph.py svg fg.svg --share "$LT=$(total_of rows "$LT")" \
    --share "$ASM=$(total_of rows "$ASM")" --share "$BOX=$(total_of rows "$BOX")" >fg.txt
for n in "$LT" "$LIT" "$ASM" "$BOX" 'twist<3>'; do
    awk -F'\t' -v n="$n" '$1 == n { found = 1 } END { exit !found }' fg.txt || fail "no frame named $n in the SVG"
done
grep -qF "id=\"title\" x=\"600.0\" y=\"22\">hot&apos;quote&quot;&lt;&amp;&gt;]]&gt;</text>" fg.svg ||
    fail "the title is not escaped as it should be"

# speedscope JSON: the exact names, same stacks as folded
report speedscope -o s.json p.bin
report folded --per-thread --weight time p.bin >s.folded
pycheck exports.py speedscope s.json s.folded
"$PY" - s.json "$LT" "$LIT" "$ASM" "$BOX" <<'PYEOF' || fail "speedscope lacks a name (see the log)"
import json, sys
names = {f["name"] for f in json.load(open(sys.argv[1]))["shared"]["frames"]}
for n in sys.argv[2:]:
    assert n in names, (n, sorted(names))
raw = open(sys.argv[1], encoding="utf-8").read()
assert "<" not in raw and ">" not in raw and "&" not in raw, "unescaped < > & in the JSON"
print("speedscope names ok")
PYEOF

# pprof: go tool pprof shows the names; the inlined twist<3> and its
# caller are two lines of one location; --no-inline gives the caller the time
if have_test_tool "go (golang-go)" go; then
    report pprof -o p.pb.gz p.bin
    report flat --limit 0 p.bin >p.flat
    go_pprof -top -sample_index=samples -nodefraction=0 p.pb.gz >p.top 2>/dev/null
    cat p.top
    pycheck exports.py pprof p.top p.flat --n 4
    go_pprof -raw p.pb.gz >raw.txt 2>/dev/null
    awk -v box="$BOX" '
        /^ *[0-9]+: 0x/ { prev = $0; next }
        index(prev, " twist<3> ") && index($0, box) { found = 1 }
        { prev = "" }
        END { exit !found }' raw.txt || fail "no location with twist<3> inlined into $BOX: $(grep -A1 'twist' raw.txt | head -4)"
    report pprof --no-inline -o ni.pb.gz p.bin
    report flat --no-inline --limit 0 p.bin >ni.flat
    go_pprof -top -sample_index=samples -nodefraction=0 ni.pb.gz >ni.top 2>/dev/null
    pycheck exports.py pprof ni.top ni.flat --n 4
    ! grep -q 'twist' ni.top || fail "--no-inline left twist<3> in the pprof export"
fi

# in the browser: search for the names with regular expressions
if have_test_tool Chromium /usr/bin/chromium chromium chromium-browser google-chrome; then
    export SPROF_TEST_CHROMIUM=$TEST_TOOL
    pycheck flamegraph.py browser fg.svg --search "operator<=$(total_of rows "$LT")" \
        --ctrl-f "'quote\"<&>\\]\\]>=$(total_of rows "$ASM")" --zoom 'twist<3>' --log chromium.log
fi
