# SPDX-License-Identifier: MIT
# No deadlock (tests/progs/throw-dlopen.cpp): two threads looping on C++
# throw/catch and two on dlopen/dlclose, sampled at 4 kHz with each unwinder,
# finish under a watchdog. Before sprof kept libunwind away from the loader
# while its lock may be held (preload/unwind.c), this hung within seconds: a
# thread interrupted in dlclose waited in its handler for libunwind's lock,
# held by another thread's handler waiting for the loader's lock.

need_test_tool g++ g++
[ -x "$BIN/throw-dlopen" ] || fail "throw-dlopen was not built"
for unwind in dwarf fp; do
    for run in 1 2 3; do
        rc=0
        SPROF_FREQ=4000 SPROF_UNWIND=$unwind timeout -s KILL 60 \
            env LD_PRELOAD="$PRELOAD" SPROF_OUTPUT=p.bin $HOST_ENV \
            "$BIN/throw-dlopen" "$BIN/libhot.so" 1500 >out.txt 2>err.txt || rc=$?
        [ "$rc" -ne 137 ] || fail "hung (killed by the 60 s watchdog) with SPROF_UNWIND=$unwind, run $run"
        [ "$rc" -eq 0 ] || fail "throw-dlopen exited with $rc: $(cat err.txt)"
        grep -qx 'throw-dlopen: done (both ran)' out.txt || fail "unexpected output: $(cat out.txt)"
        expect_stderr_clean err.txt
    done
    report info p.bin >info.txt
    n=$(awk '$1 == "samples" { print $2; exit }' info.txt)
    log "$unwind: $n samples in the last run"
    [ "${n:-0}" -ge 1000 ] || fail "only $n samples with SPROF_UNWIND=$unwind"
done
