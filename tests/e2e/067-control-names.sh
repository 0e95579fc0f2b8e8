# SPDX-License-Identifier: MIT
# Names from a profile are data, not terminal input: a thread named with
# an escape sequence and a newline, and a command line holding them too,
# come out of info and the per-thread flat report with those control
# characters as '?', so that a profile cannot move the cursor or fake a
# line of a report.

cat >names.c <<'PROG'
#include <pthread.h>
#include <sys/prctl.h>
#include <time.h>
static volatile unsigned long sink;
static void burn(double s)
{
    struct timespec a, b;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
    do {
        for (int i = 0; i < 10000; i++) sink += i;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
    } while (b.tv_sec - a.tv_sec + (b.tv_nsec - a.tv_nsec) / 1e9 < s);
}
static void *worker(void *arg)
{
    prctl(PR_SET_NAME, "w\033[31mred\nx");
    burn(0.3);
    return arg;
}
int main(void)
{
    pthread_t t;
    pthread_create(&t, 0, worker, 0);
    burn(0.3);
    pthread_join(t, 0);
    return 0;
}
PROG
$CC -O1 -g -pthread names.c -o names || fail "cannot build names.c"
profile p.bin ./names "$(printf 'arg\033]0;title\007')" 2>err.txt
expect_stderr_clean err.txt
report info p.bin >info.txt
report flat --by thread p.bin >threads.txt
cat info.txt threads.txt
for f in info.txt threads.txt; do
    if LC_ALL=C grep -q "$(printf '\033')" "$f"; then
        fail "$f holds an escape character from a name"
    fi
done
# (the recorder reads the name from /proc, where a newline ends it)
grep -q 'w?\[31mred' threads.txt || fail "the thread's name is not shown with its control characters as '?'"
grep -q 'arg?\]0;title?' info.txt || fail "the command line is not shown with its control characters as '?'"
