# SPDX-License-Identifier: MIT
# Mapping churn (tests/progs/dlchurn.c): library A is dlopen'ed, runs
# a_work, is dlclose'd; library B is dlopen'ed at the very address A had
# (the program checks, and keeps the place free in between with
# placeholder mappings) and runs b_work; then A again, at the same address.
# A and B are built alike, so a_work and b_work have the same address and
# only when a sample was taken tells them apart. Each phase runs in a thread
# of its own, so that the report can say which phase a sample came from:
#   - every sample is attributed to the library mapped at its time: the
#     phases of A have a_work only, the phase of B b_work only, not one
#     sample of one attributed to the other
#   - a_work and b_work each have half of the sampled CPU time (the
#     threads' own CPU times, known by construction), within 10% relative
#   - each is in its own module
# All of it three times: with the libraries dlopen'ed by absolute path,
# whose mappings come from the loader's list without asking the kernel
# (preload/maps.c; tests/progs/noquery.c, preloaded, counts no query); by
# a relative path, which the loader keeps as it was given, so that
# their samples ask the kernel for the mappings, one by one (PROCMAP_QUERY,
# Linux 6.11), and read from the text of /proc/self/maps as on older
# kernels (noquery.c refuses the ioctl; the case checks that it did).
# timeout: 180

lib_a=$BIN/libchurn-a.so
lib_b=$BIN/libchurn-b.so

check_churn() { # MODE: loader, query or text
    local mode=$1 rc=0 refused
    rm -f noquery.txt
    if [ "$mode" = loader ]; then
        # shellcheck disable=SC2086
        env LD_PRELOAD="$PRELOAD $BIN/noquery.so" NOQUERY_LOG="$CASE_DIR/noquery.txt" \
            SPROF_OUTPUT=p.bin $HOST_ENV "$BIN/dlchurn" "$lib_a" "$lib_b" 500 >out.txt 2>err.txt || rc=$?
    elif [ "$mode" = text ]; then
        # shellcheck disable=SC2086
        (cd "$BIN" && env LD_PRELOAD="$PRELOAD $BIN/noquery.so" NOQUERY_LOG="$CASE_DIR/noquery.txt" \
            SPROF_OUTPUT="$CASE_DIR/p.bin" $HOST_ENV ./dlchurn ./libchurn-a.so ./libchurn-b.so 500) \
            >out.txt 2>err.txt || rc=$?
    else
        (cd "$BIN" && profile "$CASE_DIR/p.bin" ./dlchurn \
            ./libchurn-a.so ./libchurn-b.so 500) >out.txt 2>err.txt || rc=$?
    fi
    cat out.txt
    if [ "$rc" -eq 3 ] && grep -qx 'dlchurn: not at the same address' out.txt; then
        skip "the loader did not put the libraries at the same address: $(grep -v '^dlchurn' out.txt | tail -n 1)"
    fi
    [ "$rc" -eq 0 ] || fail "$mode: dlchurn exited with $rc: $(head -c 300 err.txt)"
    grep -qx 'dlchurn: done' out.txt || fail "$mode: dlchurn did not finish"
    expect_stderr_clean err.txt
    if [ "$mode" != query ]; then
        [ -e noquery.txt ] || fail "$mode: noquery.so wrote no count (not in effect?)"
        # (the executable mappings' queries: not a thread's stack's)
        refused=$(awk '$1 == "noquery:" { n += $4 } END { print n + 0 }' noquery.txt)
        log "$mode: PROCMAP_QUERY for executable mappings refused $refused times"
        if [ "$mode" = text ]; then
            [ "$refused" -gt 0 ] || fail "text: sprof never asked the kernel for the mappings"
        else
            [ "$refused" -eq 0 ] ||
                fail "loader: sprof asked the kernel for the mappings $refused times, all in the loader's list"
        fi
    fi

    # which sample is where: per phase (thread), then in all
    for t in churn-a churn-b churn-a2; do
        flat_rows "$t" --tid "$t" p.bin
        head -n 5 "$t.txt"
    done
    check_phase() { # THREAD FUNCTION OTHER
        local n all other
        n=$(self_of "$1" "$2")
        all=$(sum_self "$1")
        other=$(total_of "$1" "$3")
        log "$mode: $1: $n of $all samples in $2, $other in $3"
        [ "$other" -eq 0 ] || fail "$mode: $other samples of phase $1 (when only $2's library was mapped) are attributed to $3"
        [ "$all" -gt 0 ] && [ $((n * 100 / all)) -ge 95 ] ||
            fail "$mode: phase $1 has $n of its $all samples in $2, want 95% or more; its rows: $(head -n 3 "$1" | tr '\t\n' ' |')"
    }
    check_phase churn-a a_work b_work
    check_phase churn-b b_work a_work
    check_phase churn-a2 a_work b_work

    flat_rows rows p.bin
    ma=$(module_of rows a_work)
    mb=$(module_of rows b_work)
    [ "$ma" = libchurn-a.so ] || fail "$mode: a_work is in module '$ma', want libchurn-a.so"
    [ "$mb" = libchurn-b.so ] || fail "$mode: b_work is in module '$mb', want libchurn-b.so"

    # shares of the sampled CPU time against the measured CPU time
    report json --no-tree p.bin >p.json
    rc=0
    out=$("$PY" - out.txt p.json <<'EOF'
import json, sys
cpu = {}
for line in open(sys.argv[1]):
    t = line.split()
    if len(t) == 3 and t[0] == "cpu":
        cpu[t[1]] = int(t[2])
want = {"a_work": cpu["churn-a"] + cpu["churn-a2"], "b_work": cpu["churn-b"]}
funcs = {f["name"]: f["self_ns"] for f in json.load(open(sys.argv[2]))["functions"]}
got = {n: funcs.get(n, 0) for n in want}
ws, wc = sum(got.values()), sum(want.values())
all_ns = sum(funcs.values())
bad = []
for n in sorted(want):
    share, exp = got[n] / ws if ws else 0, want[n] / wc
    print("%s: %.1f ms sampled, %.1f ms measured: %.1f%% of the two, want %.1f%%" %
          (n, got[n] / 1e6, want[n] / 1e6, 100 * share, 100 * exp))
    if abs(share / exp - 1) > 0.10:
        bad.append("%s has %.1f%% of the sampled CPU of a_work and b_work, want %.1f%% +-10%% (relative)" %
                   (n, 100 * share, 100 * exp))
if ws < 0.9 * all_ns:
    bad.append("a_work and b_work have only %.1f%% of all sampled CPU" % (100.0 * ws / all_ns))
if bad:
    print("check: " + "; ".join(bad))
    sys.exit(1)
EOF
    ) || rc=$?
    printf '%s\n' "$out"
    [ "$rc" -eq 0 ] || fail "$mode: $(printf '%s\n' "$out" | grep -m1 '^check: ' | sed 's/^check: //')"
}

check_churn loader
rm -f p.bin*
check_churn query
rm -f p.bin*
check_churn text
