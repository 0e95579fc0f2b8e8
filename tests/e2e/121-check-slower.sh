# SPDX-License-Identifier: MIT
# sprof-report check finds a real slowdown: regress_alpha (40% of the time)
# made 50% slower is flagged as regressed, and no other function is; exit
# status 1; the JUnit XML parses and fails exactly that test case; the JSON
# report agrees; --update rewrites the baseline so that the same run then
# passes.
#
# Why 50%: the machine's speed drifts between runs. In a CI run under ASan the
# unchanged regress_beta and regress_gamma took 14% less CPU time than in the
# baseline, and a 20% slowdown of regress_alpha showed as +3.2%, under the 5%
# threshold. A function flags only when its time and its share both grew, so
# a machine slower as a whole flags no unchanged function; a faster one hides
# part of a slowdown.
#
# Power: 50% of a function that holds 40% of the time has to stand out of the
# sampling noise by more than the 5% threshold. At 8 kHz, 1 s of CPU gives
# some 8000 samples a run, 3200 of them in regress_alpha (a relative noise of
# under 2% on each side); a simulation of binomial sampling with 1% run-to-run
# noise in CPU time missed even a 20% slowdown in only 1 of 50000 tries (1 of
# 2000 at 6000 samples), so what remains is the machine's drift. A timer
# that cannot sample that fast (no perf_event, so the kernel tick) gives too
# few samples to tell, and the case is skipped.
# timeout: 120

run() { # OUT ALPHA_MS
    SPROF_FREQ=8000 profile "$1" "$BIN/regress" "$2" 300 300 >/dev/null 2>>runs.err
}

check_rc() { # WANT OUT ARGS...
    local want=$1 out=$2 rc=0
    shift 2
    "$REPORT" check "$@" >"$out" 2>"$out.err" || rc=$?
    [ "$rc" -eq "$want" ] ||
        fail "check $*: exit status $rc, want $want: $(head -c 1500 "$out") $(head -c 500 "$out.err")"
}

for i in 1 2 3; do run b$i.bin 400; done
expect_stderr_clean runs.err
report baseline -o base.json b1.bin b2.bin b3.bin
least=$("$PY" -c 'import json, sys; print(min(r["samples"] for r in json.load(open(sys.argv[1]))["runs"]))' base.json)
log "samples per baseline run: at least $least"
[ "$least" -ge 5500 ] || skip "the timer took only $least samples in a 1 s run here (want 5500 at 8 kHz)"

run slow.bin 600
check_rc 1 slow.txt --baseline base.json slow.bin
cat slow.txt
grep -qE '^regress_alpha +regress +.* regressed$' slow.txt || fail "regress_alpha is not flagged as regressed"
others=$(grep -E ' regressed$' slow.txt | grep -vE '^(regress_alpha|\[total CPU time\]) ' || true)
[ -z "$others" ] || fail "functions other than regress_alpha flagged: $others"
grep -qE '^# result: .*regress_alpha \[regress\] \+[0-9.]+%' slow.txt ||
    fail "the result line does not name regress_alpha: $(tail -n 1 slow.txt)"

# the same as JUnit XML: one test case per row, one failure, for regress_alpha
check_rc 1 slow.xml --baseline base.json --format junit slow.bin
"$PY" - slow.xml <<'PYEOF' || fail "the JUnit report is wrong: $(head -c 1500 slow.xml)"
import sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "testsuites", root.tag
suite = root.find("testsuite")
cases = suite.findall("testcase")
names = [c.get("name") for c in cases]
for n in ("[total CPU time]", "regress_alpha", "regress_beta", "regress_gamma"):
    assert n in names, n + " has no test case"
failed = [c.get("name") for c in cases if c.find("failure") is not None]
assert "regress_alpha" in failed, failed
assert set(failed) <= {"regress_alpha", "[total CPU time]"}, failed
assert int(suite.get("failures")) == len(failed) and int(suite.get("tests")) == len(cases)
assert int(root.get("failures")) == len(failed)
alpha = [c for c in cases if c.get("name") == "regress_alpha"][0]
assert alpha.get("classname") == "sprof.check.regress", alpha.get("classname")
print("junit: %d test cases, failures: %s" % (len(cases), failed))
PYEOF

# and as JSON
check_rc 1 slow.json --baseline base.json --format json slow.bin
"$PY" - slow.json <<'PYEOF' || fail "the JSON report is wrong: $(head -c 1500 slow.json)"
import json, sys
d = json.load(open(sys.argv[1]))
rows = {r["name"]: r for r in d["rows"]}
a = rows["regress_alpha"]
assert a["verdict"] == "regressed" and a["change"] > 0.05 and a["p"] < 0.01, a
assert a["p_up"] <= a["p"], a
# beta and gamma did not change; their shares shrank, so on a machine whose
# speed drifted between the runs (CPU time of the same work varied by 10%
# on a shared virtual machine) they may look improved, never regressed
for n in ("regress_beta", "regress_gamma"):
    assert rows[n]["verdict"] in ("ok", "improved"), rows[n]
assert d["regressions"] == sum(r["verdict"] == "regressed" for r in d["rows"])
assert d["threshold"] == 0.05 and d["alpha"] == 0.01 and d["test"] == "counts"
print("regress_alpha: %+.1f%%, corrected p %.3g" % (100 * a["change"], a["p"]))
PYEOF

# a threshold above the slowdown measured (the machine's drift included:
# in one CI run a busy machine made it +104%): not a regression
thr=$("$PY" -c 'import json, sys; r = {r["name"]: r for r in json.load(open(sys.argv[1]))["rows"]}; print(int(100 * r["regress_alpha"]["change"]) + 10)' slow.json)
if [ "$thr" -lt 100 ]; then
    check_rc 0 thr.txt --baseline base.json --threshold "$thr%" slow.bin
else
    log "regress_alpha grew by $((thr - 10))% or more here: no threshold under 100% is above it"
fi

# --update: the baseline becomes the slow run, which then passes
cp base.json upd.json
check_rc 0 upd.txt --baseline upd.json --update slow.bin
grep -qE ' regressed$' upd.txt || fail "--update does not show the comparison first"
grep -q 'regress 600 300 300' upd.json || fail "--update did not rewrite the baseline: $(head -c 300 upd.json)"
"$PY" -c 'import json, sys; assert len(json.load(open(sys.argv[1]))["runs"]) == 1' upd.json ||
    fail "the rewritten baseline does not have the one run"
check_rc 0 after.txt --baseline upd.json slow.bin
if grep -qE ' regressed$' after.txt; then fail "a run flagged against a baseline made from itself"; fi
