# SPDX-License-Identifier: MIT
# 10,000 short-lived threads (tests/progs/shortthreads.c), each with less
# CPU time than one sampling period: the program finishes, every thread is
# recorded with its name, and their CPU time is sampled at about the
# requested rate. Each thread's first period is a random part of a period;
# before that, a counter starting at zero in every thread never reached a
# period, and the run got 10 samples for 2 s of CPU (3.7 per CPU second).

profile p.bin "$BIN/shortthreads" 10000 >out.txt 2>err.txt
grep -qx 'shortthreads: done' out.txt || fail "shortthreads did not finish: $(cat out.txt)"
expect_stderr_clean err.txt
report info p.bin >info.txt
head -n 14 info.txt
threads=$(awk '$1 == "threads" { print $2; exit }' info.txt)
[ "${threads:-0}" -ge 10000 ] || fail "info lists $threads threads, want 10001"
grep -q 'sp-short' info.txt || fail "the threads' name is not in info"
# samples per second of the threads' own CPU time (user and kernel: thread
# creation and exit cost kernel time, which the perf backend does not sample)
rate=$(awk '$1 == "rate" { print int($2); exit }' info.txt)
log "rate: $rate samples per CPU second"
[ "${rate:-0}" -ge 300 ] || fail "$rate samples per CPU second for 10,000 short threads, want most of 999"
flat_rows rows p.bin
n=$(self_of rows work_short)
total=$(sum_self rows)
[ "$(percent "$n" "$total")" -ge 50 ] || fail "work_short has $n of $total samples"
