# SPDX-License-Identifier: MIT
# A thread that exists before sprof's constructor runs (started by the
# constructor of a library the program links, tests/progs/libearly.c) is
# found by the /proc scan and sampled: work_early, about 600 ms of CPU in
# that thread, has most of its samples (the scan runs every 100 ms in the
# process's first second).

profile p.bin "$BIN/earlymain" >out.txt 2>err.txt
grep -qx 'earlymain: done' out.txt || fail "earlymain did not finish: $(cat out.txt)"
expect_stderr_clean err.txt
report info p.bin >info.txt
flat_rows rows p.bin
head -n 6 rows.txt
n=$(self_of rows work_early)
m=$(self_of rows work_main_early)
log "work_early: $n samples, work_main_early: $m"
[ "$m" -ge 150 ] || fail "the main thread has $m samples for about 300 ms"
[ "$n" -ge 350 ] || fail "the thread started before sprof has $n samples for about 600 ms of CPU"
threads=$(awk '$1 == "threads" { print $2; exit }' info.txt)
[ "${threads:-0}" -ge 2 ] || fail "info lists $threads threads"
