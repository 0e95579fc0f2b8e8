# SPDX-License-Identifier: MIT
# The benchmark harness runs (scripts/bench/bench.py, `make bench`): one quick
# round of the CPU-bound workload at 999 Hz in every mode (--against: the same
# build again) prints its table, the mode floor-thread its row (and floor.c
# its idle threads), and
# scripts/bench/starts.py and scripts/bench/threads.py print their row for each
# mode, scripts/bench/accuracy.py its rows for each mode, scripts/bench/bytes.py
# its row for each workload and build, scripts/bench/children.py its row for
# each build, scripts/bench/maps-scan.c its line, scripts/bench/selfcost.py its
# rows, scripts/bench/populate.c and scripts/bench/forks.c their figures.
# Only that the script works is checked, never a figure: benchmarks are not
# pass/fail. A mode whose tool is missing (perf, gperftools) says "skipped".
# timeout: 180

[ -z "$SAN" ] || skip "the harness preloads libsprof.so without the sanitizer runtime"
rc=0
"$PY" "$SRC/scripts/bench/bench.py" --build "$BUILD" --quick --runs 1 --workload cpu \
    --freq 999 --markdown --against "$BUILD" >out.txt 2>err.txt || rc=$?
cat out.txt
[ "$rc" -eq 0 ] || fail "bench.py exited with status $rc: $(tail -n 5 err.txt)"
! grep -q Traceback err.txt || fail "bench.py raised: $(tail -n 5 err.txt)"
grep -q '^## cpu: ' out.txt || fail "no table for the cpu workload"
grep -q 'samples per timed s' out.txt || fail "no table header"
for m in sprof against floor gperftools perf-fp perf-dwarf; do
    grep -qE "^   $m +([0-9]|skipped: )" out.txt || fail "no row for $m"
done
grep -qE '^   sprof +[0-9.]+ +[-+][0-9.]+%' out.txt || fail "no figures for sprof"
grep -q 'sprof against the targets' out.txt || fail "no targets"
grep -q '^| 999 Hz | \*\*sprof\*\* |' out.txt || fail "no Markdown row for sprof"
# sprof's own CPU (handlers and writer, from its files), in points: a figure
grep -qE '^\| 999 Hz \| \*\*sprof\*\* \|.* \| \+[0-9]+\.[0-9] \([0-9]+\.[0-9]\) \|$' out.txt ||
    fail "no own CPU for sprof: $(grep '^| 999 Hz | \*\*sprof' out.txt)"

# the mode floor-thread (only when named): a row, and floor.c's FLOOR_THREAD=1
# makes an idle thread in every process, a forked child's too, and none
# without it
rc=0
"$PY" "$SRC/scripts/bench/bench.py" --build "$BUILD" --quick --runs 1 --workload exec \
    --freq 999 --modes floor-thread >ft.txt 2>ft.err || rc=$?
cat ft.txt
[ "$rc" -eq 0 ] || fail "bench.py --modes floor-thread exited with status $rc: $(tail -n 5 ft.err)"
grep -qE "^   floor-thread +[0-9]" ft.txt || fail "no row for floor-thread"
# (globs, not ls: a program exec'd would count its own threads)
tasks='t=(/proc/$$/task/*); c=$(u=(/proc/$BASHPID/task/*); echo ${#u[@]}); echo ${#t[@]} $c'
n=$(LD_PRELOAD="$BUILD/bench/floor.so" FLOOR_THREAD=1 bash -c "$tasks")
[ "$n" = "2 2" ] || fail "FLOOR_THREAD=1: threads in bash and its forked child: '$n', not '2 2'"
n=$(LD_PRELOAD="$BUILD/bench/floor.so" bash -c "$tasks")
[ "$n" = "1 1" ] || fail "the floor alone: threads in bash and its forked child: '$n', not '1 1'"

# scripts/bench/starts.py: three starts a mode, a row for each mode in both
# tables (wall, CPU)
rc=0
"$PY" "$SRC/scripts/bench/starts.py" --build "$BUILD" --runs 3 --against "$LIBSPROF" >starts.txt \
    2>starts.err || rc=$?
cat starts.txt
[ "$rc" -eq 0 ] || fail "starts.py exited with status $rc: $(tail -n 5 starts.err)"
for m in plain floor sprof against; do
    grep -qE "^$m +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+  [0-9]+ over" starts.txt || fail "no row for $m in starts.py's table"
    grep -qE "^$m +[0-9.]+ +[0-9.]+ +[-+][0-9.]+ +[-+][0-9.]+( \+- [0-9.]+)?$" starts.txt ||
        fail "no CPU row for $m in starts.py's output"
done
grep -qE "^sprof - against, paired start by start: median [-+][0-9.]+ us, mean [-+][0-9.]+ \+- [0-9.]+$" \
    starts.txt || fail "no line of sprof against the other build in starts.py's output"

# scripts/bench/threads.py: one round of 50 threads, a row for each mode
rc=0
"$PY" "$SRC/scripts/bench/threads.py" --build "$BUILD" --against "$BUILD" --runs 1 --threads 50 \
    >threads.txt 2>threads.err || rc=$?
cat threads.txt
[ "$rc" -eq 0 ] || fail "threads.py exited with status $rc: $(tail -n 5 threads.err)"
for m in plain floor sprof against; do
    grep -qE "^$m +[0-9.]+ " threads.txt || fail "no row for $m in threads.py's table"
done

# scripts/bench/accuracy.py: one round of a tenth of the work, a row for each
# of sprof's timers asked for and another build's, with its error, its
# sampling noise, its worst function and its samples, and a row of ratios
rc=0
"$PY" "$SRC/scripts/bench/accuracy.py" --build "$BUILD" --against "$BUILD" --runs 1 --scale 10 \
    --timers perf itimer >accuracy.txt 2>accuracy.err || rc=$?
cat accuracy.txt
[ "$rc" -eq 0 ] || fail "accuracy.py exited with status $rc: $(tail -n 5 accuracy.err)"
for m in sprof-perf sprof-itimer against-perf against-itimer; do
    grep -qE "^$m +[0-9.]+ \([0-9.]+\.\.[0-9.]+\) +[0-9.]+ \(.*\) +[0-9]+$" accuracy.txt ||
        fail "no row for $m in accuracy.py's table"
    grep -qE "^$m( +[0-9]+\.[0-9]{2}){7}$" accuracy.txt || fail "no ratios for $m in accuracy.py's output"
done

# scripts/bench/bytes.py: a short steady run of two workloads, a row for
# each build with its figures (--information: the stacks' estimates too)
rc=0
"$PY" "$SRC/scripts/bench/bytes.py" --build "$BUILD" --against "$BUILD" --seconds 0.3 \
    --workload cpu interp --freq 999 --information >bytes.txt 2>bytes.err || rc=$?
cat bytes.txt
[ "$rc" -eq 0 ] || fail "bytes.py exited with status $rc: $(tail -n 5 bytes.err)"
for w in cpu interp; do
    for b in sprof against; do
        # samples, bytes, bytes a sample, the same file in flags 0 and 3, xz and
        # order-1, stacks, writer
        grep -qE "^\| $w \| 999 Hz \| $b \| [0-9,]+ \| [0-9,]+ \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \| [0-9,]+ \| [0-9.]+ ms" bytes.txt ||
            fail "no row for $w under $b in bytes.py's table"
    done
done

# scripts/bench/faults.py: one round of /bin/true, a row for each mode (a
# --variant's too), and the attribution's header (perf is a test tool: CI
# installs it)
if have_test_tool perf perf; then
    rc=0
    "$PY" "$SRC/scripts/bench/faults.py" --build "$BUILD" --against "$BUILD" --runs 1 \
        --repeat 2 --variant fp:SPROF_UNWIND=fp --attribute -- /bin/true >faults.txt \
        2>faults.err || rc=$?
    cat faults.txt
    [ "$rc" -eq 0 ] || fail "faults.py exited with status $rc: $(tail -n 5 faults.err)"
    for m in plain floor sprof against fp; do
        grep -qE "^$m +[0-9.]+ +[-+][0-9.]+ +[0-9.]+ +[-+][0-9.]+% +[-+][0-9.]+ ms" faults.txt ||
            fail "no row for $m in faults.py's table"
    done
    grep -q "^# sprof: faults taken in libsprof.so's code, per run" faults.txt ||
        fail "no attribution from faults.py"
fi

# scripts/bench/children.py: one round of a shell forking three commands
# that each work long enough to be sampled, a row for each build with the
# three children's files (and the exec'd programs': at least three)
rc=0
"$PY" "$SRC/scripts/bench/children.py" --build "$BUILD" --against "$BUILD" --runs 1 -- \
    bash -c 'for i in 1 2 3; do "$0" 50 >/dev/null; done' "$BUILD/bench/cpu-bound" \
    >children.txt 2>children.err || rc=$?
cat children.txt
[ "$rc" -eq 0 ] || fail "children.py exited with status $rc: $(tail -n 5 children.err)"
for b in sprof against; do
    grep -qE "^$b +([3-9]|[1-9][0-9]+) +[0-9.]+ +[0-9.]+$" children.txt ||
        fail "no row for $b in children.py's table"
done

# scripts/bench/maps-scan.c: built as its header says, a line of figures
# (the query's where the kernel has PROCMAP_QUERY)
${CC:-cc} -O2 "$SRC/scripts/bench/maps-scan.c" -o maps-scan -ldl || fail "maps-scan.c does not build"
./maps-scan 10 20 >maps.txt 2>&1 || fail "maps-scan exited with status $?: $(head -c 300 maps.txt)"
cat maps.txt
grep -qE '^maps-scan: [0-9]+ mappings(, [0-9]+ executable)?: text [0-9.]+ us, query ([0-9.]+ us|refused)' \
    maps.txt || fail "maps-scan printed no figures: $(head -c 300 maps.txt)"

# scripts/bench/selfcost.py: one round of a profiled program that works long
# enough to be sampled, a row for each build and one for the program
rc=0
"$PY" "$SRC/scripts/bench/selfcost.py" --build "$BUILD" --against "$BUILD" --runs 1 --per 1 -- \
    "$BUILD/bench/cpu-bound" 100 >selfcost.txt 2>selfcost.err || rc=$?
cat selfcost.txt
[ "$rc" -eq 0 ] || fail "selfcost.py exited with status $rc: $(tail -n 5 selfcost.err)"
for b in sprof against; do
    grep -qE "^$b +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9.]+$" selfcost.txt ||
        fail "no row for $b in selfcost.py's table"
done
grep -qE "^cpu-bound +[0-9]+ +[0-9]+$" selfcost.txt || fail "no row for cpu-bound in selfcost.py's table"

# scripts/bench/populate.c: built as its header says, its five lines of figures
# (where the kernel has MADV_POPULATE_READ and _WRITE, Linux 5.14)
${CC:-cc} -O2 "$SRC/scripts/bench/populate.c" -o populate || fail "populate.c does not build"
if ./populate 2 >populate.txt 2>&1; then
    cat populate.txt
    for re in '^anonymous +touched [0-9]+ +populated [0-9]+ then touched [0-9]+$' \
        '^file +read [0-9]+ +populated [0-9]+ then read [0-9]+$' \
        '^file +a byte each 64 KiB [0-9]+ then read [0-9]+$' \
        '^one write +a byte each 64 KiB [0-9]+ then read [0-9]+ \(-?[0-9]+ KiB in huge pages\)$' \
        '^read back +a byte each 64 KiB [0-9]+ \(-?[0-9]+ KiB in huge pages\), after MADV_HUGEPAGE [0-9]+ \(-?[0-9]+ KiB\)$'; do
        grep -qE "$re" populate.txt || fail "populate printed no figures: $(head -c 300 populate.txt)"
    done
else
    grep -q 'Linux 5.14' populate.txt || fail "populate failed: $(head -c 300 populate.txt)"
fi

# scripts/bench/forks.c: built as its header says, its line of figures, for
# children that exit, exec, and write pages of their parent's; a bad
# argument is a usage error, not a run
${CC:-cc} -O2 "$SRC/scripts/bench/forks.c" -o forks || fail "forks.c does not build"
re='^forks: [0-9]+ children \([^)]*\), us: fork\(\) [0-9.]+ \(p90 [0-9.]+\), child [0-9.]+ \(p90 [0-9.]+\)$'
for args in "20" "-e /bin/true 5" "-w 4 -W 4 10"; do
    # shellcheck disable=SC2086
    ./forks $args >forks.txt 2>&1 || fail "forks $args exited with $?: $(head -c 300 forks.txt)"
    cat forks.txt
    grep -qE "$re" forks.txt || fail "forks $args printed no figures: $(head -c 300 forks.txt)"
done
./forks -w 999 3 >forks.txt 2>&1 && fail "forks -w 999 ran: $(cat forks.txt)"
grep -q '^usage: forks' forks.txt || fail "forks -w 999 printed no usage: $(cat forks.txt)"
