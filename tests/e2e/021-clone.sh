# SPDX-License-Identifier: MIT
# A thread made by clone(2), not pthread_create, is sampled
# (tests/progs/clone.c): sprof's clone registers it as clone returns.

profile p.bin "$BIN/clone" 600 >out.txt 2>err.txt
grep -qx 'clone: done' out.txt || fail "clone did not finish: $(cat out.txt)"
expect_stderr_clean err.txt
flat_rows rows p.bin
head -n 8 rows.txt
n=$(self_of rows work_raw_clone)
total=$(sum_self rows)
[ "$n" -ge 100 ] || fail "the raw clone thread has $n samples (of $total) for about 600 ms of CPU"
[ "$(percent "$n" "$total")" -ge 60 ] || fail "work_raw_clone has only $n of $total samples"

# A thread made through glibc's __clone, which sprof's clone does not see (as
# a runtime's own clone system call), 400 ms into the run: the writer's scan
# of /proc/self/task, which keeps its descriptor from scan to scan
# (threads.c), finds it within about 250 ms of its 600
mkdir hidden && cd hidden || fail "cannot enter hidden"
profile p.bin "$BIN/clone" 600 hidden 400 >out.txt 2>err.txt
grep -qx 'clone: done' out.txt || fail "clone hidden did not finish: $(cat out.txt)"
expect_stderr_clean err.txt
flat_rows rows p.bin
head -n 8 rows.txt
n=$(self_of rows work_raw_clone)
m=$(self_of rows main_work)
[ "$m" -ge 200 ] || fail "main_work has $m samples for about 400 ms of CPU"
[ "$n" -ge 250 ] || fail "the thread made by __clone has $n samples for about 600 ms of CPU"
report info p.bin >info.txt
[ "$(sed -n '/^ *TID /,/^modules/p' info.txt | awk '$1 ~ /^[0-9]+$/' | wc -l)" -eq 2 ] ||
    fail "info does not list the two threads: $(sed -n '/^ *TID /,/^modules/p' info.txt)"
