# SPDX-License-Identifier: MIT
# A thread made by a raw clone(2), not pthread_create, is found and sampled
# (tests/progs/clone.c): the profiler picks it up within about 100 ms (the
# writer's drain interval in the process's first second).

profile p.bin "$BIN/clone" 600 >out.txt 2>err.txt
grep -qx 'clone: done' out.txt || fail "clone did not finish: $(cat out.txt)"
expect_stderr_clean err.txt
flat_rows rows p.bin
head -n 8 rows.txt
n=$(self_of rows work_raw_clone)
total=$(sum_self rows)
[ "$n" -ge 100 ] || fail "the raw clone thread has $n samples (of $total) for about 600 ms of CPU"
[ "$(percent "$n" "$total")" -ge 60 ] || fail "work_raw_clone has only $n of $total samples"
