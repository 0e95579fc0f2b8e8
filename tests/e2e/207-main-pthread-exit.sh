# SPDX-License-Identifier: MIT
# A program whose initial thread ends by pthread_exit (tests/progs/mainexit.c)
# ends when its last thread does, by exit(0) with its atexit handlers, as it
# does without sprof. glibc ends a process when the last thread it counts
# ends, and the writer thread is one of them: before, the process outlived
# the program's threads with the writer alone, for ever.
# timeout: 60

$CC -O2 -g -pthread -I"$SRC/tests/progs" "$SRC/tests/progs/mainexit.c" -o mainexit
./mainexit >plain.txt || fail "mainexit failed without sprof"
grep -qx 'mainexit: atexit ran' plain.txt || fail "mainexit's atexit handler did not run without sprof"

rc=0
# shellcheck disable=SC2086
timeout -k 2 20 env LD_PRELOAD="$PRELOAD" SPROF_OUTPUT=p.bin $HOST_ENV ./mainexit >out.txt 2>err.txt ||
    rc=$?
[ "$rc" -ne 124 ] && [ "$rc" -ne 137 ] || fail "the process was still there 20 s after its threads ended: $(cat out.txt)"
[ "$rc" -eq 0 ] || fail "mainexit exited with $rc under sprof: $(cat out.txt err.txt)"
expect_stderr_clean err.txt
for line in 'mainexit: main gone' 'mainexit: worker done' 'mainexit: atexit ran'; do
    grep -qx "$line" out.txt || fail "'$line' is missing: $(cat out.txt)"
done
report info p.bin >info.txt
grep -E '^(ended|samples|threads)' info.txt
grep -Eq '^ended +exit, status 0' info.txt || fail "the END record is not exit 0: $(grep '^ended' info.txt)"
flat_rows rows p.bin
expect_in_flat rows work_after_main 150
