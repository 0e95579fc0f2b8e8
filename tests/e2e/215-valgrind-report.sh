# SPDX-License-Identifier: MIT
# timeout: 300
# sprof-report is clean under valgrind's memcheck, leaks included: every
# subcommand (and the options that take other paths: filters, inverted and
# per-thread views, diffs, the baseline and its check in every format, a
# damaged file) reads a normal profile of several processes (a shell, a
# program with threads, one that dlopens and dlcloses a library, a fork
# child) without an invalid access, a use of uninitialised memory or memory
# definitely or indirectly lost at exit. Not under sanitizers (valgrind
# cannot run their builds).

[ -z "$SAN" ] || skip "valgrind does not run sanitizer builds (SAN=$SAN)"
need_test_tool valgrind valgrind

profile p.bin sh -c '"$1" 300 & "$2" "$3" close 300; "$4" 300; wait' sh \
    "$BIN/threads" "$BIN/dlmain" "$BIN/libhot.so" "$BIN/fork" >out.txt 2>err.txt
grep -qx 'dlmain: done' out.txt || fail "dlmain did not finish: $(cat out.txt)"
report info p.bin* >info.txt
# the threads, the library and the fork child are all there
report flat --limit 0 p.bin* >flat.txt
for f in work_t1 hot_in_library child_work parent_work; do
    grep -q " $f " flat.txt || fail "$f is not in the profile: $(head -c 1500 flat.txt)"
done
# two single profiles for the two-sided reports
threads="" dl="" threads_pid=""
for f in p.bin.*; do
    report info "$f" >one.txt
    if grep -q '^command .*/threads 300' one.txt; then
        threads=$f
        # not from the name: a process that exec'd writes NAME.PID.1 too
        threads_pid=$(awk '$1 == "process" { print $2; exit }' one.txt)
    fi
    grep -q '^command .*/dlmain ' one.txt && dl=$f
done
[ -n "$threads" ] && [ -n "$dl" ] || fail "no profile of threads or of dlmain among $(echo p.bin*)"
# a profile cut short in the middle of a chunk: the file, then the start
# of a chunk (its first one's header and a few bytes), as a process killed
# while appending leaves it; a short run may have written one chunk only
{
    cat "$threads"
    tail -c +33 "$threads" | head -c 40
} >cut.bin

# vg WANT ARGS...: starts sprof-report ARGS under memcheck, as many at a
# time as there are CPUs; vg_check then says whether each exited with WANT
# and memcheck found nothing (the findings go to the log).
n=0
vg_jobs=$(nproc 2>/dev/null || echo 2)
vg() {
    n=$((n + 1))
    printf '%s\n' "$*" >"cmd-$n.txt"
    echo "$1" >"want-$n.txt"
    shift
    while [ "$(jobs -rp | wc -l)" -ge "$vg_jobs" ]; do wait -n || true; done
    (
        rc=0
        valgrind -q --leak-check=full --show-leak-kinds=definite,indirect \
            --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
            --log-file="vg-$n.log" "$REPORT" "$@" >"out-$n.txt" 2>"err-$n.txt" || rc=$?
        echo "$rc" >"rc-$n.txt"
    ) &
}

vg_check() {
    wait
    local i rc want
    for i in $(seq 1 "$n"); do
        rc=$(cat "rc-$i.txt")
        want=$(cat "want-$i.txt")
        if [ -s "vg-$i.log" ] || [ "$rc" -eq 99 ]; then
            cat "vg-$i.log"
            fail "memcheck: sprof-report $(cut -d' ' -f2- "cmd-$i.txt") (status $rc): $(grep -m1 -E '^==[0-9]+== [A-Z]' "vg-$i.log" | sed 's/^==[0-9]*== //')"
        fi
        [ "$rc" -eq "$want" ] ||
            fail "sprof-report $(cut -d' ' -f2- "cmd-$i.txt") exited with $rc under valgrind, want $want: $(head -c 500 "err-$i.txt")"
    done
}

all=(p.bin*)
vg 0 info "${all[@]}"
vg 0 flat "${all[@]}"
vg 0 flat --by line --limit 0 --time 0.1.. --no-inline "${all[@]}"
vg 0 flat --by thread --sort total --tid sp-worker-1 "${all[@]}"
vg 0 flat --by module --hide '^_start|libc' --max-depth 4 "${all[@]}"
vg 0 folded --per-thread --per-process --weight time "${all[@]}"
vg 0 tree "${all[@]}"
vg 0 tree --inverted --ascii --min-percent 0 --focus 'work_' "${all[@]}"
vg 0 callgraph --limit 0 "${all[@]}"
vg 0 json -o p.json "${all[@]}"
vg 0 json --inverted --no-tree --pid "$threads_pid" "${all[@]}"
vg 0 annotate --source-dir "$SRC/tests/progs" --addresses work_t1 "$threads"
vg 0 annotate 'hot_.*' "$dl"
vg 0 flamegraph -o fg.svg --colors module "${all[@]}"
vg 0 flamegraph -o fgi.svg --inverted --diff "$dl" "$threads"
vg 0 pprof -o p.pb.gz "${all[@]}"
vg 0 speedscope -o p.speedscope.json "${all[@]}"
vg 0 diff --limit 0 "$dl" "$threads"
vg 0 diff --sort time "$threads" "$threads"
mkdir run1 run2
cp "$threads" run1/
cp "$threads" run2/
vg 0 baseline -o base.json run1 run2
vg 0 baseline -o dlbase.json "$dl"
vg_check # the checks read these baselines
vg 0 check --baseline base.json run1 run2
vg 0 check --baseline base.json --format json run1
vg 1 check --baseline dlbase.json --format junit --min-share 0 "$threads"
cp base.json base2.json
vg 0 check --baseline base2.json --update run1 run2
# damaged and wrong input: a warning, or an error with status 2
vg 0 flat cut.bin
vg 2 flat no-such-file.bin
vg 2 flat --by nothing "${all[@]}"
vg_check
log "$n runs of sprof-report under memcheck, all clean"
