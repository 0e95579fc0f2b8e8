# SPDX-License-Identifier: MIT
# tsan: the recorder's threads under ThreadSanitizer (make check SAN=thread)
# timeout: 300
# Threaded programs are profiled with a ThreadSanitizer build of libsprof.so
# (preloaded ahead of the TSan runtime, tests/run.sh): the handler filling
# the rings, the writer draining them, threads starting and ending, the /proc
# scan, fork, exec, dlopen and dlclose, the program taking sprof's signal
# or closing sprof's descriptors.
# Every run must end with its usual status and no TSan report on stderr
# (TSAN_OPTIONS: exitcode=66 and tests/tsan.supp, set by tests/run.sh), and
# leave a profile that reads. Sample counts are not checked: TSan holds an
# asynchronous signal back until the thread calls an intercepted function,
# so a thread busy in plain code gets few samples, and their stacks are
# unwound from the saved context over a stack that has moved on since
# (sprof's own walks only: libunwind is not called under TSan, unwind.c).
# Not run: a profiled fork child that ends its writer thread (this TSan
# runtime confuses the child's new thread with the parent's old one: "dup
# thread"), threads made by a raw clone (TSan cannot know them).

case ",$SAN," in
*,thread,*) ;;
*) skip "needs a ThreadSanitizer build: make check SAN=thread" ;;
esac

# tsan_run NAME STATUS COMMAND...: profiles COMMAND into NAME/p.bin; it must
# exit with STATUS, without a TSan report, and its profile must read.
tsan_run() {
    local name=$1 want=$2 rc=0 start
    shift 2
    mkdir -p "$name"
    start=$(date +%s%N)
    (cd "$name" && profile p.bin "$@" >out.txt 2>err.txt) || rc=$?
    log "$name: status $rc, $((($(date +%s%N) - start) / 1000000)) ms"
    if grep -q 'ThreadSanitizer' "$name/err.txt"; then
        cat "$name/err.txt"
        fail "$name: ThreadSanitizer reported: $(grep -m3 -E '^(WARNING|SUMMARY|==[0-9]+==)' "$name/err.txt" | tr '\n' ' ')"
    fi
    [ "$rc" -eq "$want" ] || fail "$name: exited with status $rc, want $want: $(head -c 1500 "$name/err.txt")"
    expect_stderr_clean "$name/err.txt"
    [ -s "$name/p.bin" ] || fail "$name: no profile written"
    report info "$name"/p.bin* >"$name/info.txt"
}

# First, that TSan works in this setup: a racy program built with it is
# reported, and the report fails the run. (Both threads wait for each other
# with relaxed atomics, which order nothing: sprof's own locks, taken when a
# thread starts and ends, order a thread that ended before the other began.)
cat >racy.c <<'C'
#include <pthread.h>
static int counter, started;
static void *bump(void *arg)
{
    __atomic_fetch_add(&started, 1, __ATOMIC_RELAXED);
    while (__atomic_load_n(&started, __ATOMIC_RELAXED) < 2) {
    }
    counter++;
    return arg;
}
int main(void)
{
    pthread_t a, b;
    pthread_create(&a, 0, bump, 0);
    pthread_create(&b, 0, bump, 0);
    pthread_join(a, 0);
    pthread_join(b, 0);
    return counter == 0;
}
C
# shellcheck disable=SC2086
$CC -O1 -g -fsanitize=thread -pthread racy.c -o racy
rc=0
profile racy.bin ./racy >racy.out 2>racy.err || rc=$?
grep -q 'WARNING: ThreadSanitizer: data race' racy.err ||
    fail "TSan did not report the race of racy.c (status $rc): $(head -c 1000 racy.err)"
[ "$rc" -eq 66 ] || fail "racy.c exited with status $rc after a TSan report, want 66 (TSAN_OPTIONS)"

tsan_run threads 0 "$BIN/threads" 300
grep -q sp-worker-4 threads/info.txt || fail "threads: the workers are not in info"
for timer in posix itimer; do
    SPROF_TIMER=$timer tsan_run "threads-$timer" 0 "$BIN/threads" 200
done
SPROF_UNWIND=fp tsan_run threads-fp 0 "$BIN/threads" 200
tsan_run short 0 "$BIN/shortthreads" 1000
threads=$(awk '$1 == "threads" { print $2; exit }' short/info.txt)
[ "${threads:-0}" -ge 1000 ] || fail "short: info lists $threads threads, want 1001"
# each thread's slot freed, then taken again by the next (threads.c, hot slots)
tsan_run reuse 0 "$BIN/reuse" 4
tsan_run early 0 "$BIN/earlymain"
tsan_run eintr 0 "$BIN/eintr" 1000
tsan_run ownsig 0 "$BIN/ownsig"
# the writer makes again the timer the program closed (close_range)
SPROF_FOLLOW=0 tsan_run closefds 0 "$BIN/closefds" daemon
# threads past the budget of perf descriptors get POSIX timers
tsan_run fdlimit 0 "$BIN/fdlimit"
SPROF_FOLLOW=0 tsan_run fork 0 "$BIN/fork" 300
tsan_run forkexec 0 "$BIN/forkexec" "$BIN/target" an-argument
[ -n "$(files_of 'forkexec/p.bin.*')" ] || fail "forkexec: no profile of the exec'd child"
tsan_run spawn 0 "$BIN/spawn" "$BIN/target"
for mode in keep close; do
    tsan_run "dlopen-$mode" 0 "$BIN/dlmain" "$BIN/libhot.so" "$mode" 300
done
if have_test_tool g++ g++ && [ -x "$BIN/throw-dlopen" ]; then
    SPROF_FREQ=4000 tsan_run throw-dlopen 0 "$BIN/throw-dlopen" "$BIN/libhot.so" 1000
fi
