# SPDX-License-Identifier: MIT
# Four threads plus main, each burning the same CPU in its own function
# (tests/progs/threads.c), each worker named sp-worker-N: every thread is
# sampled in proportion to its CPU time and named in info.

profile p.bin "$BIN/threads" 300 >out.txt 2>err.txt
expect_stderr_clean err.txt
report info p.bin >info.txt
cat info.txt
for i in 1 2 3 4; do
    grep -q "sp-worker-$i" info.txt || fail "thread name sp-worker-$i is not in info"
done

flat_rows rows p.bin
total=$(sum_self rows)
for f in work_t1 work_t2 work_t3 work_t4 work_main; do
    n=$(self_of rows "$f")
    pct=$(percent "$n" "$total")
    log "$f: $n of $total samples ($pct%)"
    # equal CPU in each of five threads: a fifth each
    [ "$pct" -ge 12 ] && [ "$pct" -le 28 ] ||
        fail "$f has $pct% of the samples, want about 20% (12..28)"
done

# by thread: each worker has its own row with samples
flat_rows bythread --by thread p.bin
cat bythread.txt
for i in 1 2 3 4; do
    n=$(awk -F'\t' -v n="sp-worker-$i" 'index($3, n) { s += $1 } END { print s + 0 }' bythread)
    [ "$n" -gt 0 ] || fail "flat --by thread has no samples for sp-worker-$i"
done
[ "$(wc -l <bythread)" -ge 5 ] || fail "flat --by thread has fewer than 5 threads"

# per-thread folded output keeps the threads apart
report folded --per-thread p.bin >pt.txt
head -n 5 pt.txt
for i in 1 2 3 4; do
    grep -q "sp-worker-$i.*;work_t$i [0-9]*$" pt.txt ||
        fail "folded --per-thread has no stack of sp-worker-$i ending in work_t$i"
    if grep -q "sp-worker-$i.*;work_main [0-9]*$" pt.txt; then
        fail "folded --per-thread puts work_main under sp-worker-$i"
    fi
done

# the same with descriptors 3 to 99 taken: the threads' perf events get
# descriptors past the first 64, whose slots sprof keeps apart from the
# others' (sprof.h, sprof_fd_ref), and each thread is still sampled as much
(
    for i in $(seq 3 99); do
        [ -e "/proc/self/fd/$i" ] || eval "exec $i</dev/null"
    done
    profile h.bin "$BIN/threads" 300 >hout.txt 2>herr.txt
)
expect_stderr_clean herr.txt
flat_rows hrows h.bin
total=$(sum_self hrows)
for f in work_t1 work_t2 work_t3 work_t4 work_main; do
    pct=$(percent "$(self_of hrows "$f")" "$total")
    log "descriptors past 64: $f has $pct% of $total samples"
    [ "$pct" -ge 12 ] && [ "$pct" -le 28 ] ||
        fail "with descriptors past 64, $f has $pct% of the samples, want about 20% (12..28)"
done
