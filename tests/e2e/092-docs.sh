# SPDX-License-Identifier: MIT
# Documented as built: the man pages render without warnings, and name
# every environment variable, report option and format record; the README
# starts with the two commands that work on a fresh machine.

for p in sprof-report.1 sprof-record.1 libsprof.7 sprof-format.5; do
    [ -s "$SRC/man/$p" ] || fail "man/$p is missing"
    [ -s "$SRC/man/${p%.*}.md" ] || fail "man/${p%.*}.md (the source of man/$p) is missing"
    if command -v groff >/dev/null 2>&1; then
        groff -man -Tutf8 -ww -z "$SRC/man/$p" 2>warn.txt || fail "groff cannot render man/$p"
        [ ! -s warn.txt ] || fail "man/$p has warnings: $(head -c 500 warn.txt)"
    fi
done

for v in SPROF_OUTPUT SPROF_FREQ SPROF_SIGNAL SPROF_TIMER SPROF_UNWIND SPROF_DEPTH SPROF_FOLLOW \
    SPROF_QUIET; do
    grep -q "$v" "$SRC/man/libsprof.7" || fail "man/libsprof.7 does not document $v"
    grep -q "$v" "$SRC/README.md" || fail "README.md does not mention $v"
done
# the pages as text: roff escapes for '-' and fonts removed
for p in sprof-report.1 sprof-record.1; do
    sed 's/\\-/-/g; s/\\f[BIRP]//g; s/\\(em/--/g' "$SRC/man/$p" >"$p.txt"
done
for o in info flat folded --sort --limit --by --weight --per-thread --per-process; do
    grep -q -- "$o" sprof-report.1.txt || fail "man/sprof-report.1 does not document $o"
done
# the views of issue 3 and the filters every report takes: man page, README, --help
for o in tree callgraph diff json annotate --min-percent --inverted --ascii --no-tree \
    --source-dir --addresses --pid --tid --time --focus --hide --no-inline --max-depth \
    sprof-report/1 NO_COLOR; do
    grep -q -- "$o" sprof-report.1.txt || fail "man/sprof-report.1 does not document $o"
    grep -q -- "$o" "$SRC/README.md" || fail "README.md does not mention $o"
done
for c in info flat folded tree callgraph diff json annotate; do
    "$REPORT" help "$c" >help.txt || fail "sprof-report help $c failed"
    for o in --pid --tid --time --focus --hide --no-inline --max-depth; do
        grep -q -- "$o" help.txt || fail "sprof-report help $c does not list the filter $o"
    done
done
# the flame graph and the exports: man page, README, --help
for o in flamegraph pprof speedscope --title --width --minwidth --colors --diff; do
    grep -q -- "$o" sprof-report.1.txt || fail "man/sprof-report.1 does not document $o"
    grep -q -- "$o" "$SRC/README.md" || fail "README.md does not mention $o"
done
grep -q -- "--output" sprof-report.1.txt || fail "man/sprof-report.1 does not document --output"
for c in flamegraph pprof speedscope; do
    "$REPORT" help "$c" >help.txt || fail "sprof-report help $c failed"
    for o in --output --pid --tid --time --focus --hide --no-inline --max-depth; do
        grep -q -- "$o" help.txt || fail "sprof-report help $c does not list $o"
    done
done
# the regression gate (issue 4): man page, README, --help
for o in baseline check --baseline --threshold --alpha --min-share --metric --format --update \
    junit sprof-ci-check 'REGRESSION CHECKS' 'BASELINE FILES' Welch Holm; do
    grep -q -- "$o" sprof-report.1.txt || fail "man/sprof-report.1 does not document $o"
done
for o in 'Regression checks in CI' sprof-ci-check 'sprof-report baseline' 'sprof-report check'; do
    grep -q -- "$o" "$SRC/README.md" || fail "README.md does not mention $o"
done
for c in baseline check; do
    "$REPORT" help "$c" >help.txt || fail "sprof-report help $c failed"
    for o in --pid --tid --time --focus --hide --no-inline --max-depth; do
        grep -q -- "$o" help.txt || fail "sprof-report help $c does not list the filter $o"
    done
done
for o in -o -F -q -h; do
    grep -q -- "$o" sprof-record.1.txt || fail "man/sprof-record.1 does not document $o"
done
for r in PROCESS CONFIG THREAD THREAD_END MAP UNMAP STACK SAMPLES COUNTERS NOTE END; do
    grep -q "$r" "$SRC/man/sprof-format.5" || fail "man/sprof-format.5 does not describe the $r record"
done
# every record type and counter id of common/format.h is in the format page
for name in $(sed -n 's/^ *SPROF_\(REC\|CTR\)_\([A-Z_]*[A-Z]\) = [0-9]*,.*/\2/p' "$SRC/common/format.h"); do
    grep -q "$name" "$SRC/man/sprof-format.5" || fail "man/sprof-format.5 does not mention $name (common/format.h)"
done

# README: the first commands are make demo and make check
first=$(grep -m2 -E '^ *make ' "$SRC/README.md" | sed 's/^ *//; s/ *#.*//')
[ "$first" = "$(printf 'make demo\nmake check')" ] ||
    fail "README.md does not start with 'make demo' and 'make check': $first"
lineno=$(grep -n -m1 -E '^ *make demo' "$SRC/README.md" | cut -d: -f1)
[ "$lineno" -le 12 ] || fail "'make demo' is on line $lineno of README.md, not among the first lines"
