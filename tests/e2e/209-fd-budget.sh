# SPDX-License-Identifier: MIT
# A program with many threads near its RLIMIT_NOFILE (tests/progs/fdlimit.c:
# a soft limit of 256, 120 threads) keeps most of its descriptors: the perf
# backend holds at most an eighth of the limit, one a thread, and samples
# the threads past that with POSIX CPU timers. Before, sprof took one
# descriptor a thread: the program could open 48 files of its 251 with 200
# threads, none with 300. Every thread is still sampled, and the CPU time
# sampled is the threads' (a POSIX timer's sample weighs the CPU time since
# the previous one, the first since the timer was made).
# timeout: 60

"$BIN/fdlimit" >plain.txt || fail "fdlimit failed without sprof"
plain=$(awk '$1 == "fdlimit:" { print $2 }' plain.txt)
log "without sprof: $plain files"

profile p.bin "$BIN/fdlimit" >out.txt 2>err.txt || fail "fdlimit failed under sprof: $(cat out.txt err.txt)"
expect_stderr_clean err.txt
got=$(awk '$1 == "fdlimit:" { print $2 }' out.txt)
log "with sprof: $got files"
# 256 / 8 perf descriptors, the profile's file, and a few the loader may hold
[ "$got" -ge $((plain - 256 / 8 - 4)) ] ||
    fail "the program could open $got files under sprof, $plain without: sprof holds too many"

report info p.bin >info.txt
grep -E '^(config|samples|cpu time|threads)' info.txt
# the workers: every one sampled
sampled=$(awk '$1 ~ /^[0-9]+$/ && $2 == "fdlimit" && $3 ~ /^[0-9]+$/ && $3 > 0 { n++ } END { print n + 0 }' info.txt)
[ "$sampled" -ge 110 ] || fail "only $sampled of the 120 workers have samples"
flat_rows rows p.bin
expect_in_flat rows thread_work 100
# 120 x 10 ms of CPU: the sampled time must be near it, not a period a sample
ms=$(awk '$1 == "cpu" && $2 == "time" { printf "%d", $3 * 1000 }' info.txt)
[ "$ms" -ge 800 ] || fail "$ms ms of CPU sampled, for about 1200 ms of work"
if grep -q 'backend perf-task-clock' info.txt; then
    grep -q "threads past sprof's budget of perf descriptors" info.txt ||
        fail "no note of the threads sampled with POSIX timers: $(grep -A4 '^notes' info.txt)"
fi
