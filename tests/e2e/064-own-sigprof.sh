# SPDX-License-Identifier: MIT
# A program with its own SIGPROF handler and ITIMER_PROF timer
# (tests/progs/ownsig.c) keeps them: sigaction shows its handler, the
# handler runs at the program's own rate (about 60 times for 600 ms of CPU
# at 100 Hz) and never receives sprof's signals. With the perf and posix
# backends sprof moves to another signal and still profiles.

"$BIN/ownsig" >plain.txt
cat plain.txt
base=$(sed -n 's/^handler calls: //p' plain.txt)
[ "${base:-0}" -ge 20 ] || fail "setup: ownsig's own timer fired only ${base:-0} times without sprof"

for timer in auto posix itimer; do
    mkdir "$timer"
    rc=0
    (cd "$timer" && SPROF_TIMER=$timer profile p.bin "$BIN/ownsig" >out.txt 2>err.txt) || rc=$?
    cat "$timer/out.txt" "$timer/err.txt"
    [ "$rc" -eq 0 ] || fail "$timer: exit status $rc: $(head -c 300 "$timer/err.txt")"
    grep -qx 'disposition: own' "$timer/out.txt" || fail "$timer: sigaction does not show the program's own SIGPROF handler"
    grep -qx 'foreign signals: 0' "$timer/out.txt" || fail "$timer: the program's SIGPROF handler received sprof's signals: $(grep foreign "$timer/out.txt")"
    n=$(sed -n 's/^handler calls: //p' "$timer/out.txt")
    # by CPU time: the same as without sprof, give or take a third
    [ "${n:-0}" -ge $((base * 2 / 3)) ] && [ "${n:-0}" -le $((base * 3 / 2)) ] ||
        fail "$timer: the program's handler ran ${n:-0} times, without sprof $base"
    expect_stderr_clean "$timer/err.txt"
    if [ "$timer" != itimer ]; then
        flat_rows "$timer/rows" "$timer/p.bin"
        expect_in_flat "$timer/rows" ownsig_work 100
    fi
done
