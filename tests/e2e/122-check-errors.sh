# SPDX-License-Identifier: MIT
# sprof-report baseline and check on bad input: a baseline file that is
# missing, empty, not JSON, not a baseline, of a newer version or
# inconsistent is an error (exit status 2, one line naming the file); so are
# bad options and runs. Functions that appear and vanish are listed; names
# with quotes, markup characters, control characters and non-ASCII letters
# come out escaped in every format (JUnit XML and JSON parse).

profile r.bin "$BIN/regress" 60 60 60 >/dev/null 2>err.txt
expect_stderr_clean err.txt
report baseline -o good.json r.bin

# error WORD ARGS...: sprof-report ARGS exits 2 with one stderr line that
# contains WORD
error() {
    local word=$1 rc=0 n
    shift
    "$REPORT" "$@" >out.txt 2>err.txt || rc=$?
    n=$(grep -c . err.txt || true)
    log "sprof-report $* -> $rc: $(cat err.txt)"
    [ "$rc" -eq 2 ] || fail "sprof-report $*: exit status $rc, want 2 (stderr: $(head -c 300 err.txt))"
    [ "$n" -eq 1 ] || fail "sprof-report $*: $n lines on stderr, want one: $(head -c 500 err.txt)"
    grep -qF -- "$word" err.txt || fail "sprof-report $*: the message does not name '$word': $(cat err.txt)"
    [ ! -s out.txt ] || fail "sprof-report $*: printed a report on error: $(head -c 300 out.txt)"
}

# mutate OUT PYTHON: OUT is good.json changed by PYTHON (d is the document)
mutate() {
    "$PY" - good.json "$1" "$2" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
exec(sys.argv[3])
open(sys.argv[2], "w").write(json.dumps(d, indent=1))
PYEOF
}

# ---- bad baseline files ----
error missing.json check --baseline missing.json r.bin
: >empty.json
error empty.json check --baseline empty.json r.bin
mkdir adir.json
error adir.json check --baseline adir.json r.bin
echo 'this is not json' >text.json
error text.json check --baseline text.json r.bin
head -c 200 good.json >cut.json
error cut.json check --baseline cut.json r.bin
grep -q 'line ' err.txt || fail "a cut baseline: the message gives no line: $(cat err.txt)"
echo '[1, 2]' >array.json
error array.json check --baseline array.json r.bin
echo '{"format": "something-else", "version": 1}' >other.json
error other.json check --baseline other.json r.bin
printf '{"a": "\xff"}' >latin1.json
error latin1.json check --baseline latin1.json r.bin
"$PY" -c 'print("[" * 100000 + "]" * 100000)' >deep.json
error deep.json check --baseline deep.json r.bin
mutate newer.json 'd["version"] = 2'
error newer.json check --baseline newer.json r.bin
grep -q version err.txt || fail "a newer baseline: the message does not say 'version'"
mutate noruns.json 'd["runs"] = []'
error noruns.json check --baseline noruns.json r.bin
mutate short.json 'd["functions"][0]["self_ns"] = []'
error short.json check --baseline short.json r.bin
mutate neg.json 'd["functions"][0]["total_samples"] = [-1]'
error neg.json check --baseline neg.json r.bin
mutate huge.json 'd["runs"][0]["cpu_ns"] = 2**64'
error huge.json check --baseline huge.json r.bin
mutate frac.json 'd["runs"][0]["samples"] = 1.5'
error frac.json check --baseline frac.json r.bin
mutate selfmore.json 'f = d["functions"][-1]; f["self_samples"] = [f["total_samples"][0] + 1]'
error selfmore.json check --baseline selfmore.json r.bin
mutate dup.json 'd["functions"].append(dict(d["functions"][0]))'
error dup.json check --baseline dup.json r.bin
mutate noname.json 'del d["functions"][0]["name"]'
error noname.json check --baseline noname.json r.bin
mutate strname.json 'd["functions"][0]["name"] = 5'
error strname.json check --baseline strname.json r.bin
# duplicate keys, which Python would quietly accept
sed '0,/"version": 1/s//"version": 1, "version": 1/' good.json >dupkey.json
error dupkey.json check --baseline dupkey.json r.bin

# --update replaces a bad baseline (with a warning)
cp text.json fixed.json
rc=0
"$REPORT" check --baseline fixed.json --update r.bin >out.txt 2>err.txt || rc=$?
[ "$rc" -eq 0 ] || fail "check --update over a bad baseline: exit status $rc: $(cat err.txt)"
grep -q fixed.json err.txt || fail "check --update over a bad baseline says nothing about it"
report check --baseline fixed.json r.bin >/dev/null

# ---- bad options and runs ----
error "--baseline" check r.bin
error "--threshold" check --baseline good.json --threshold abc r.bin
error "--threshold" check --baseline good.json --threshold 100% r.bin
error "--threshold" check --baseline good.json --threshold -5 r.bin
error "--alpha" check --baseline good.json --alpha 0 r.bin
error "--alpha" check --baseline good.json --alpha 1 r.bin
error "--min-share" check --baseline good.json --min-share x r.bin
error "--format" check --baseline good.json --format xml r.bin
error "--metric" check --baseline good.json --metric wall r.bin
error "no run" check --baseline good.json
error missing.bin check --baseline good.json missing.bin
mkdir emptyrun
error emptyrun check --baseline good.json emptyrun
error "no run" baseline -o x.json
error missing.bin baseline -o x.json missing.bin
error /nonexistent baseline -o /nonexistent/x.json r.bin
echo 'not a profile' >text.bin
error text.bin baseline text.bin

# a run can be a directory: the same result as its file
mkdir run1
cp r.bin run1/profile.bin
echo 'notes' >run1/README
report baseline run1 >fromdir.json
report baseline r.bin >fromfile.json
cmp fromdir.json fromfile.json || fail "a run directory and its profile file give different baselines"

# ---- new, gone, and names that need escaping ----
# The baseline gains functions these runs lack (gone) and loses one they
# have (new); the names hold what breaks naive escaping.
mutate names.json '
n = d["runs"][0]["samples"]; ns = d["runs"][0]["cpu_ns"]
def fn(name, module):
    return {"name": name, "module": module, "self_samples": [n // 10], "total_samples": [n // 10],
            "self_ns": [ns // 10], "total_ns": [ns // 10]}
d["functions"] = [f for f in d["functions"] if f["name"] != "regress_gamma"]
d["functions"] += [fn("vanished_function", "regress"),
                   fn("q\"uote<&>\x27back\\slash", "m<o>d"),
                   fn("ctl\x01\x1fchar", "regress"),
                   fn("caf\u00e9_\u20ac", "lib\u00e9.so")]
'
report check --baseline names.json r.bin >names.txt
cat names.txt
grep -qE '^# gone: vanished_function \[regress\]' names.txt || fail "vanished_function is not listed as gone"
grep -qE '^# new: regress_gamma \[regress\]' names.txt || fail "regress_gamma is not listed as new"
grep -qE '^regress_gamma .* new$' names.txt || fail "regress_gamma has no row with the verdict new"
if LC_ALL=C grep -q "$(printf '[\001-\010\013-\037]')" names.txt; then
    fail "a control character reached the text report"
fi
grep -qF 'ctl??char' names.txt || fail "control characters in a name are not shown as '?'"
grep -qF 'café_€' names.txt || fail "a non-ASCII name is not shown as it is"
report check --baseline names.json --format junit r.bin >names.xml
report check --baseline names.json --format json r.bin >names.out.json
"$PY" - names.xml names.out.json <<'PYEOF' || fail "names are not escaped right: $(head -c 2000 names.xml)"
import json, sys
import xml.etree.ElementTree as ET
cases = {c.get("name"): c for c in ET.parse(sys.argv[1]).getroot().iter("testcase")}
for n in ("q\"uote<&>'back\\slash", "ctl??char", "caf\u00e9_\u20ac", "vanished_function",
          "regress_gamma"):
    assert n in cases, "junit: no test case named %r (have %r)" % (n, list(cases))
assert cases["q\"uote<&>'back\\slash"].get("classname") == "sprof.check.m<o>d"
rows = {r["name"]: r for r in json.load(open(sys.argv[2]))["rows"]}
assert rows["q\"uote<&>'back\\slash"]["module"] == "m<o>d"
assert rows["q\"uote<&>'back\\slash"]["verdict"] == "gone"
assert rows["regress_gamma"]["verdict"] == "new" and rows["regress_gamma"]["change"] is None
assert rows["caf\u00e9_\u20ac"]["module"] == "lib\u00e9.so"
PYEOF
