# SPDX-License-Identifier: MIT
# 100,000 frames of recursion (tests/progs/deep.c): every stack is cut at
# SPROF_DEPTH and marked truncated, with the default depth and the largest
# (4096); nothing crashes, and the walk's time is bounded, so the program is
# not starved by its profiler: an unbounded walk of 4096 frames costs more
# than the 1 ms of CPU between samples, and since the handler's time counts
# as the thread's CPU time, samples then follow one another and the program
# barely runs (166,000 samples for 0.5 s of work, before the fix). The
# sample count is the measure: about one per ms of the thread's CPU time.

ulimit -s 65536 2>/dev/null || ulimit -s unlimited 2>/dev/null || true
for depth in 256 4096; do
    SPROF_DEPTH=$depth profile p-$depth.bin "$BIN/deep" 500 100000 >out.txt 2>err.txt ||
        fail "deep failed with SPROF_DEPTH=$depth"
    grep -qx 'deep: 100001 frames' out.txt || fail "deep did not finish: $(cat out.txt)"
    expect_stderr_clean err.txt
    report info p-$depth.bin >info-$depth.txt
    cat info-$depth.txt | head -12
    read -r n truncated <<<"$(awk '$1 == "samples" { print $2, $11; exit }' info-$depth.txt)"
    log "SPROF_DEPTH=$depth: $n samples, $truncated truncated"
    [ "${n:-0}" -ge 200 ] || fail "only $n samples with SPROF_DEPTH=$depth"
    # 500 ms of work by iterations, about 500 samples here: a slower
    # machine takes more, a starved program a hundred times more
    [ "$n" -le 5000 ] ||
        fail "$n samples (ms of CPU) for 500 ms of work at SPROF_DEPTH=$depth: the walk starves the program"
    # all but the few taken on the way down, before the depth was reached
    [ $((truncated * 100)) -ge $((n * 95)) ] ||
        fail "$truncated of $n samples marked truncated at SPROF_DEPTH=$depth"
    report flat --limit 3 p-$depth.bin >flat.txt
    grep -q ' recurse ' flat.txt || fail "recurse is not in the flat report"
done

# The walk's time budget (a fifth of the period: 200 us at 999 Hz) is at
# least 2 ms for a thread's first four walks, which read cold memory
# (preload/handler.c). With libunwind (about 3 us a frame on a VM) each walk
# of 200 frames takes 400-600 us, so all the others are cut: the first four
# are whole (one of them may be the program's first instruction, before
# main, or two its parsing of the arguments, shallow walks that reach main
# from atof; a machine fast enough to walk them all within the budget cuts
# none). At least two whole walks go through the recursion: without the
# first walks' budget every one of those is cut. (The budget is wall time:
# on a busy machine one of the four may be preempted for longer and cut;
# with two CPU burners beside it, 3 or 4 of 4 were whole.)
SPROF_UNWIND=libunwind profile p-cold.bin "$BIN/deep" 300 200 >out.txt 2>err.txt ||
    fail "deep failed with SPROF_UNWIND=libunwind"
grep -qx 'deep: 201 frames' out.txt || fail "deep did not finish: $(cat out.txt)"
expect_stderr_clean err.txt
report info p-cold.bin >info-cold.txt
read -r n truncated <<<"$(awk '$1 == "samples" { print $2, $11; exit }' info-cold.txt)"
report folded p-cold.bin >folded-cold.txt
whole=$(awk '$1 ~ /(^|;)main;/ { n += $NF } END { print n + 0 }' folded-cold.txt)
deep=$(awk '$1 ~ /;main;recurse;/ { n += $NF } END { print n + 0 }' folded-cold.txt)
log "SPROF_UNWIND=libunwind, 200 frames: $n samples, $truncated truncated, $whole reach main," \
    "$deep of them through the recursion"
[ "${n:-0}" -ge 50 ] || fail "only $n samples of 300 ms"
if [ $((n - truncated)) -lt 2 ] || [ "$deep" -lt 2 ]; then
    fail "$truncated of $n samples truncated, $whole reach main ($deep through the recursion):" \
        "a thread's first walks were cut"
fi
