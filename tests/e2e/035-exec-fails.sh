# SPDX-License-Identifier: MIT
# exec calls that fail (tests/progs/execfail.c: no such file, a directory,
# not found in PATH, not executable) between two stretches of the main
# thread's CPU work, while a second thread works the whole time. Before an
# exec sprof stops its timers and ignores its signal (the new image must not
# be killed by one still pending); when the exec fails, sampling goes on
# with every thread's timer armed again, none lost nor doubled:
#   - the program runs normally: every call failed, it exits 0, nothing on
#     stderr, the profile ends with its exit
#   - the work after the failed calls is sampled at the rate of the work
#     before them: each function's sampled CPU time against the time the
#     thread's clock measured, within 0.6 to 1.6 of the other's ratio (a
#     timer lost would give 0, one armed twice about 2)
#   - the second thread (whose timer was stopped too), at the main
#     thread's rate too; with setitimer as well, whose one timer's signal
#     goes to whichever thread runs: each sample weighs its own thread's
#     CPU time (weighed by the process's clock, the main thread's work was
#     sampled at 0.54-0.62 of its time and the second's at 1.45-1.6)
# With the default timer, the POSIX one and setitimer.
# timeout: 120

ratio_ok() { # SAMPLED_S MEASURED_MS
    awk -v s="$1" -v m="$2" 'BEGIN { exit !(m > 0) }' || return 1
    awk -v s="$1" -v m="$2" 'BEGIN { printf "%.3f\n", s * 1000 / m }'
}

for timer in auto posix itimer; do
    mkdir "$timer"
    SPROF_TIMER=$timer profile "$timer/p.bin" "$BIN/execfail" 300 >"$timer/out.txt" 2>"$timer/err.txt" ||
        fail "$timer: execfail exited with status $?: $(cat "$timer/err.txt")"
    cat "$timer/out.txt"
    expect_stderr_clean "$timer/err.txt"
    grep -qx 'exec 4 failed' "$timer/out.txt" || fail "$timer: not every exec failed: $(tr '\n' '|' <"$timer/out.txt")"
    report info "$timer/p.bin" >"$timer/info.txt"
    grep -q '^ended  *exit, status 0' "$timer/info.txt" ||
        fail "$timer: the profile does not end with the exit: $(grep '^ended' "$timer/info.txt")"
    report flat --limit 0 "$timer/p.bin" >"$timer/flat.txt"
    cat "$timer/flat.txt"
    # sampled seconds (the Self-time column) of each function against its
    # measured milliseconds
    declare -A r=()
    for fn in before after side; do
        s=$(awk -v f="execfail_$fn" '$6 == "s" && $7 == f { print $5; exit }' "$timer/flat.txt")
        m=$(awk -v k="$fn" '$1 == k { print $2 }' "$timer/out.txt")
        [ -n "$s" ] || fail "$timer: execfail_$fn is not in the flat report"
        r[$fn]=$(ratio_ok "$s" "$m") || fail "$timer: no measured time for $fn"
        log "$timer: execfail_$fn sampled $s s for $m ms of its thread's CPU: ${r[$fn]}"
    done
    awk -v a="${r[after]}" -v b="${r[before]}" 'BEGIN { exit !(b > 0 && a / b >= 0.6 && a / b <= 1.6) }' ||
        fail "$timer: the work after the failed exec calls sampled at ${r[after]} of its CPU time, the work before at ${r[before]}"
    awk -v s="${r[side]}" -v b="${r[before]}" 'BEGIN { exit !(b > 0 && s / b >= 0.6 && s / b <= 1.6) }' ||
        fail "$timer: the second thread sampled at ${r[side]} of its CPU time, the main thread at ${r[before]}"
    unset r
done
