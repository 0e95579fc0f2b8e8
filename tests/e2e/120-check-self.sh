# SPDX-License-Identifier: MIT
# sprof-report baseline and check on one unchanged workload: the baseline is
# small, sorted JSON with one value per run; the workload checked against
# its own baseline 20 times (one run each: the tests on sample counts, at
# --alpha 0.001, see below) never flags anything; three runs at once
# (Welch's t-test) do not either; a 2% slowdown of one function under the
# default 5% threshold is not flagged. Sampling noise must not make it flaky: that is what the
# statistics are for, and there is no timing assert.
#
# A busy machine can really make one of the three identical functions
# slower than the others (a CI run saw regress_alpha's share go from 39.2%
# to 41.7%, 14% more time), and then a flag is right. regress measures
# each function's share of the time itself, and its process CPU time; a
# flag stands when that measurement moved the same way by at least half as
# much (judge.py below), and fails the case when it did not: the share, or
# the function's time (its share of the process's CPU time), which a run
# that the host slowed as a whole raises for every function at once (an
# ASan run in CI: the process 9% slower, regress_alpha's time +12.3%
# measured and +15.8% sampled, its share +0.94 points measured and +2.44
# sampled).
# timeout: 240

# regress_alpha 40%, regress_beta and regress_gamma 30% each: 0.3 s of CPU
# at 8 kHz, some 2400 samples per run. Each run's output is in OUT.out.
run() { # OUT ALPHA_MS
    SPROF_FREQ=8000 profile "$1" "$BIN/regress" "$2" 90 90 >"$1.out" 2>>runs.err
}

# judge.py CHECK.json NOW.out... -- BASE.out...: each flagged row against
# what regress measured; exit status 1 when a flag has no support there.
cat >judge.py <<'PYEOF'
import json, re, sys
args = sys.argv[2:]
now, base = args[:args.index("--")], args[args.index("--") + 1:]
def measured(outs):
    shares, cpu = {}, []
    for o in outs:
        text = open(o).read()
        m = re.search(r"^regress: measured (.*)$", text, re.M)
        assert m, "%s: no measured shares" % o
        for kv in m.group(1).split():
            k, v = kv.split("=")
            shares[k] = shares.get(k, 0) + float(v) / 100 / len(outs)
        cpu.append(float(re.search(r"^regress: cpu_ms=([0-9.]+)$", text, re.M).group(1)))
    return shares, sum(cpu) / len(cpu)
(sn, cn), (sb, cb) = measured(now), measured(base)
d = json.load(open(sys.argv[1]))
bad = 0
for r in d["rows"]:
    if r["verdict"] not in ("regressed", "improved"):
        continue
    if r["name"] == "[total CPU time]":
        dp, dm, what = r["change"], cn / cb - 1, "CPU time (%)"
        ok = dm * dp > 0 and abs(dm) >= d["threshold"]
    else:
        dp, dm, what = r["share_now"] - r["share_baseline"], sn[r["name"]] - sb[r["name"]], "share (points)"
        ok = dm * dp > 0 and abs(dm) >= abs(dp) / 2
        if not ok:  # its time, measured: share times the process's CPU time
            dp, dm, what = r["change"], sn[r["name"]] * cn / (sb[r["name"]] * cb) - 1, "time (%)"
            ok = dm * dp > 0 and abs(dm) >= max(d["threshold"], abs(dp) / 2)
    print("%s: %s %s: %s %+.2f in the profile, %+.2f measured by regress: %s" % (
        sys.argv[1], r["name"], r["verdict"], what, 100 * dp, 100 * dm,
        "the machine's doing" if ok else "NOT SUPPORTED"))
    bad += not ok
sys.exit(1 if bad else 0)
PYEOF

# check_rc WANT OUT ARGS...: sprof-report check ARGS > OUT, exit status WANT
check_rc() {
    local want=$1 out=$2 rc=0
    shift 2
    "$REPORT" check "$@" >"$out" 2>"$out.err" || rc=$?
    [ "$rc" -eq "$want" ] ||
        fail "check $*: exit status $rc, want $want: $(head -c 1500 "$out") $(head -c 500 "$out.err")"
}

for i in 1 2 3; do run b$i.bin 120; done
expect_stderr_clean runs.err
report baseline -o base.json b1.bin b2.bin b3.bin
cat base.json
"$PY" - base.json <<'PYEOF' || fail "base.json is not the baseline described in man/sprof-report.1"
import json, sys
text = open(sys.argv[1]).read()
d = json.loads(text)
assert d["format"] == "sprof-baseline" and d["version"] == 1, "format and version"
assert list(d) == sorted(d), "top-level keys not sorted: %s" % list(d)
assert "regress 120 90 90" in d["command"], d["command"]
assert d["sprof"], "no sprof version"
assert len(d["runs"]) == 3
assert d["total"]["samples"] == sum(r["samples"] for r in d["runs"])
assert d["total"]["cpu_ns"] == sum(r["cpu_ns"] for r in d["runs"])
keys = [(f["name"], f["module"]) for f in d["functions"]]
assert keys == sorted(keys), "functions not sorted by name"
for f in d["functions"]:
    assert list(f) == sorted(f), "function keys not sorted"
    for k in ("self_ns", "self_samples", "total_ns", "total_samples"):
        assert len(f[k]) == 3, (f["name"], k)
    assert all(s <= t for s, t in zip(f["self_samples"], f["total_samples"]))
names = {f["name"]: f for f in d["functions"]}
for n in ("regress_alpha", "regress_beta", "regress_gamma", "main"):
    assert n in names, n + " missing"
assert names["regress_alpha"]["module"] == "regress"
assert sum(names["main"]["total_samples"]) >= sum(names["regress_alpha"]["total_samples"])
# one function a line, nothing else on it
lines = [l for l in text.splitlines() if '"name": ' in l]
assert len(lines) == len(d["functions"]), "not one function per line"
PYEOF
log "baseline: $(grep -c '"name"' base.json) functions, $(wc -c <base.json) bytes"

# 20 checks of one run each against the baseline: none may flag that
# regress's own measurement does not support. Each at --alpha 0.001: the
# default 1% bounds the false flags of one check, and twenty of them would
# flag an unchanged program up to one test run in five (CI saw one such
# flag in about ten ASan runs: regress_alpha +2.37 points sampled, +0.75
# measured); a family of 20 checks at 0.1% each is at 2%.
for i in $(seq 1 20); do
    run s$i.bin 120
    rc=0
    "$REPORT" check --alpha 0.001 --baseline base.json --format json s$i.bin >self$i.json \
        2>self$i.err || rc=$?
    [ "$rc" -le 1 ] || fail "check s$i.bin: exit status $rc: $(head -c 500 self$i.err)"
    "$PY" judge.py self$i.json s$i.bin.out -- b1.bin.out b2.bin.out b3.bin.out ||
        fail "a self-check flagged what regress did not measure"
done
expect_stderr_clean runs.err
"$PY" - self*.json <<'PYEOF' || fail "a self-check flagged something"
import json, sys
worst_p, worst_change, bad = 1.0, 0.0, []
for f in sys.argv[1:]:
    d = json.load(open(f))
    assert d["test"] == "counts" and d["runs"] == 1 and d["baseline_runs"] == 3
    names = [r["name"] for r in d["rows"]]
    for n in ("[total CPU time]", "regress_alpha", "regress_beta", "regress_gamma"):
        assert n in names, "%s: no row for %s" % (f, n)
    for r in d["rows"]:
        if r["verdict"] not in ("ok", "regressed", "improved"):  # (judge.py saw those)
            bad.append("%s: %s %s (%+.1f%%, p %s)" % (f, r["name"], r["verdict"], 100 * r["change"], r["p"]))
        if r["p"] is not None:
            worst_p = min(worst_p, r["p"])
        if r["change"] is not None:
            worst_change = max(worst_change, abs(r["change"]))
print("# 20 self-checks: smallest corrected p %.3g, largest change %.1f%%" % (worst_p, 100 * worst_change))
for b in bad:
    print("FLAGGED", b)
sys.exit(1 if bad else 0)
PYEOF

# the text report of one that flagged nothing (at the same alpha)
clean=
for i in $(seq 1 20); do
    grep -q '"verdict": "\(regressed\|improved\)"' self$i.json || { clean=s$i.bin; break; }
done
[ -n "$clean" ] || fail "every one of 20 self-checks flagged something"
check_rc 0 self.txt --alpha 0.001 --baseline base.json "$clean"
cat self.txt
grep -q '^# result: no regression' self.txt || fail "the text report does not end with '# result: no regression'"
for n in regress_alpha regress_beta regress_gamma; do
    grep -qE "^$n +regress +.* ok$" self.txt || fail "no 'ok' row for $n in the text report"
done

# several runs on both sides: Welch's t-test; still nothing flagged
rc=0
"$REPORT" check --baseline base.json --format json s1.bin s2.bin s3.bin >welch.json || rc=$?
[ "$rc" -le 1 ] || fail "check s1.bin s2.bin s3.bin: exit status $rc"
grep -q '"test": "welch"' welch.json || fail "three runs against three are not Welch's t-test"
"$PY" judge.py welch.json s1.bin.out s2.bin.out s3.bin.out -- b1.bin.out b2.bin.out b3.bin.out ||
    fail "three unchanged runs flagged what regress did not measure"

# regress_alpha 2% slower: under the 5% threshold, not a regression
run slow2.bin 122.4
rc=0
"$REPORT" check --baseline base.json --format json slow2.bin >slow2.json || rc=$?
[ "$rc" -le 1 ] || fail "check slow2.bin: exit status $rc"
"$PY" judge.py slow2.json slow2.bin.out -- b1.bin.out b2.bin.out b3.bin.out ||
    fail "a 2% slowdown was flagged under a 5% threshold"
