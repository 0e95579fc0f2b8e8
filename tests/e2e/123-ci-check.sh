# SPDX-License-Identifier: MIT
# scripts/sprof-ci-check: --update writes the baseline from N runs of the
# benchmark, each in its own directory; a check of the same benchmark passes
# (exit 0) with a JUnit report that parses; a benchmark that fails, a bad
# baseline and bad usage exit 2.
# timeout: 120

CI=$SRC/scripts/sprof-ci-check
# With sanitizers the runtime must come first in LD_PRELOAD: sprof-record
# appends to what is there.
pre=""
case $PRELOAD in *" "*) pre=${PRELOAD% *} ;; esac
ci() {
    # shellcheck disable=SC2086
    env ${pre:+LD_PRELOAD="$pre"} SPROF_LIB="$LIBSPROF" SPROF_REPORT="$REPORT" $HOST_ENV \
        sh "$CI" "$@"
}
ci_rc() { # WANT OUT ARGS...
    local want=$1 out=$2 rc=0
    shift 2
    ci "$@" >"$out" 2>"$out.err" || rc=$?
    cat "$out" "$out.err"
    [ "$rc" -eq "$want" ] || fail "sprof-ci-check $*: exit status $rc, want $want: $(tail -n 5 "$out.err")"
}

# the baseline, from 3 runs kept in runs/ (perf/ is created)
ci_rc 0 upd.txt -n 3 -b perf/baseline.json -d runs -F 4000 --update -- "$BIN/regress" 100 80 80
for i in 1 2 3; do
    [ -s runs/run-$i/profile.bin ] || fail "run $i was not written to runs/run-$i/profile.bin"
    grep -q 'regress: ' runs/run-$i/output.txt || fail "the output of run $i is not in runs/run-$i/output.txt"
done
"$PY" -c 'import json, sys; d = json.load(open(sys.argv[1])); assert len(d["runs"]) == 3' \
    perf/baseline.json || fail "the baseline does not hold 3 runs"

# the same benchmark passes, also as JUnit XML
ci_rc 0 check.txt -n 2 -b perf/baseline.json -F 4000 -t 5% -j report.xml -- "$BIN/regress" 100 80 80
grep -q '^# result: no regression' check.txt || fail "no '# result: no regression' line"
"$PY" -c 'import sys, xml.etree.ElementTree as ET; r = ET.parse(sys.argv[1]).getroot(); assert r.get("failures") == "0", r.attrib' \
    report.xml || fail "the JUnit report does not parse or has failures: $(head -c 500 report.xml)"
ci_rc 0 check.json -n 1 -b perf/baseline.json -f json -- "$BIN/regress" 100 80 80
"$PY" -c 'import json, sys; assert json.load(open(sys.argv[1]))["runs"] == 1' check.json ||
    fail "-f json did not print the JSON report"

# --update over an existing baseline rewrites it
before=$(cksum <perf/baseline.json)
ci_rc 0 upd2.txt -n 2 -b perf/baseline.json --update -- "$BIN/regress" 100 80 80
[ "$(cksum <perf/baseline.json)" != "$before" ] || fail "--update did not rewrite the baseline"
"$PY" -c 'import json, sys; assert len(json.load(open(sys.argv[1]))["runs"]) == 2' perf/baseline.json ||
    fail "the rewritten baseline does not hold 2 runs"

# errors: exit status 2
ci_rc 2 fails.txt -n 2 -b perf/baseline.json -- sh -c 'echo broken benchmark; exit 3'
grep -q 'exit status 3' fails.txt.err || fail "a failing benchmark: the status is not reported"
grep -q 'broken benchmark' fails.txt.err || fail "a failing benchmark: its output is not shown"
echo '{' >bad.json
ci_rc 2 bad.txt -n 1 -b bad.json -- "$BIN/regress" 10 10 10
grep -q bad.json bad.txt.err || fail "a bad baseline is not named"
ci_rc 2 usage1.txt -n 2 -- "$BIN/regress" 10 10 10
ci_rc 2 usage2.txt -n x -b perf/baseline.json -- "$BIN/regress" 10 10 10
ci_rc 2 usage3.txt -n 0 -b perf/baseline.json -- "$BIN/regress" 10 10 10
ci_rc 2 usage4.txt -b perf/baseline.json
ci_rc 2 usage5.txt -b perf/baseline.json -f xml -- true
ci_rc 2 usage6.txt -b perf/baseline.json --bogus -- true
ci_rc 0 help.txt -h
grep -q 'usage: sprof-ci-check' help.txt || fail "-h does not print the usage"
