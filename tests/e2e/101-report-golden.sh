# SPDX-License-Identifier: MIT
# Golden outputs of the views (tree, tree --inverted, callgraph, diff, flat,
# json) of synth profiles with known stacks, compared byte for byte with
# tests/golden/*.txt. Made portable by hiding the C library's start code
# above main ($ABOVE_MAIN) and normalizing what depends on the compiler or
# the machine (source lines, paths, ids, times of day).
# Regenerate: SPROF_TEST_UPDATE_GOLDEN=1 tests/run.sh report-golden
# timeout: 60

synth_profile base.bin
# the new side: b takes 20%, c 60%, the recursion vanishes, the mangled
# names take 20%; twice the samples
synth_profile new.bin --weights 2,6,0,2 --samples 2000
H=$ABOVE_MAIN
export LANG=C.UTF-8 LC_ALL=

report tree --hide "$H" base.bin >tree.txt
golden tree.txt tree.txt
report tree --ascii --hide "$H" base.bin >tree-ascii.txt
golden tree-ascii.txt tree-ascii.txt
# the same tree whatever the lines are drawn with
sed 's/├─ /|- /g; s/└─ /`- /g; s/│  /|  /g' tree.txt | cmp -s - tree-ascii.txt ||
    fail "tree with UTF-8 lines and --ascii differ beyond the lines"
LANG=C report tree --hide "$H" base.bin | cmp -s - tree-ascii.txt ||
    fail "tree does not fall back to ASCII lines when the locale is not UTF-8"
report tree --ascii --inverted --hide "$H" base.bin >tree-inverted.txt
golden tree-inverted.txt tree-inverted.txt
# --min-percent 20 keeps the 50% and 30% branches only
report tree --ascii --min-percent 20 --hide "$H" base.bin >tree-min.txt
golden tree-min.txt tree-min.txt

report callgraph --limit 0 --hide "$H" base.bin >callgraph.txt
golden callgraph.txt callgraph.txt

report diff --hide "$H" base.bin new.bin >diff.txt
golden diff.txt diff.txt
report diff --limit 3 --sort self --hide "$H" base.bin new.bin >diff-self.txt
golden diff-self.txt diff-self.txt

# flat, with the compiler's line numbers normalized
report flat --hide "$H" base.bin | sed 's/synth\.c:[0-9]*/synth.c:N/' >flat.txt
golden flat.txt flat.txt
# the same with the address space limited, where the report's heap keeps
# glibc's defaults rather than growing 256 MiB at a time on huge pages
# (analyzer/util.c); not under a sanitizer, whose shadow memory needs more
if [ -z "$SAN" ]; then
    (ulimit -v 200000 && report flat --hide "$H" base.bin) | sed 's/synth\.c:[0-9]*/synth.c:N/' >flat-as.txt
    cmp -s flat-as.txt flat.txt || fail "flat with ulimit -v differs: $(diff flat.txt flat-as.txt | head -5)"
fi

# json: functions and tree; the metadata that names this run is dropped
report json --hide "$H" base.bin >base.json
"$PY" - base.json >json.txt <<'PYEOF' || fail "cannot normalize the json output"
import json, os, sys
d = json.load(open(sys.argv[1]))
for f in d["functions"]:
    f["file"] = os.path.basename(f["file"])
    f["line"] = 0
md = d["metadata"]
out = {"schema": d["schema"], "totals": md["totals"], "filters": md["filters"],
       "threads": [{k: t[k] for k in ("name", "samples", "cpu_ns")} for t in md["threads"]],
       "processes": [{k: p[k] for k in ("command", "samples", "cpu_ns", "samples_in_file", "end",
                                        "config")} for p in md["processes"]],
       "functions": d["functions"], "tree": d["tree"]}
print(json.dumps(out, indent=1, sort_keys=True))
PYEOF
golden json.txt json.txt

# the other way round: what BASE had and NEW lacks is 'new'
report diff --hide "$H" new.bin base.bin >diff-reverse.txt
golden diff-reverse.txt diff-reverse.txt
grep -qE ' new +rec  \[synth\]$' diff-reverse.txt || fail "diff does not mark rec as new"

# json variants keep the schema
report json --inverted --min-percent 20 base.bin >inv.json
"$PY" "$SRC/tests/lib/reports.py" json inv.json >/dev/null || fail "json --inverted: $("$PY" "$SRC/tests/lib/reports.py" json inv.json)"
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); t=d["tree"]
assert t["inverted"] and t["min_percent"] == 20
names = [d["functions"][k["function"]]["name"] for k in t["root"]["children"]]
assert names == ["inl_leaf", "c"], names' inv.json || fail "json --inverted --min-percent 20: wrong top of the tree"
report json --no-tree base.bin >nt.json
"$PY" -c 'import json,sys; assert json.load(open(sys.argv[1]))["tree"] is None' nt.json || fail "json --no-tree has a tree"
