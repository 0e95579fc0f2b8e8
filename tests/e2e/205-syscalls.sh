# SPDX-License-Identifier: MIT
# System calls keep their meaning while sampling at 1 kHz:
#   - tests/progs/eintr.c never retries poll, select or read on EINTR and
#     counts the interruptions: there must be none with the per-thread
#     backends (perf interrupted it 54 times in 3000 rounds before it stopped
#     sampling periods that end in the kernel). setitimer's signal goes to
#     the process, and the kernel may hand it to a thread asleep in poll:
#     that backend, a last resort, is documented as not keeping this promise.
#   - a program with a 256 MiB heap that forks 40 children, each touching
#     memory and exiting, while the parent keeps working: all of it works,
#     and no child writes into the parent's file

for timer in auto perf posix; do
    rc=0
    SPROF_TIMER=$timer profile p-$timer.bin "$BIN/eintr" 2000 >out.txt 2>err.txt || rc=$?
    cat out.txt
    [ "$rc" -eq 0 ] || fail "SPROF_TIMER=$timer: $(cat out.txt) (status $rc)"
    grep -qx 'eintr: 0 interrupted' out.txt || fail "SPROF_TIMER=$timer: $(cat out.txt)"
done

cat >forky.c <<'PROG'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void)
{
    size_t n = 256u << 20;
    char *heap = malloc(n);
    if (!heap) return 2;
    memset(heap, 1, n);
    unsigned long sum = 0;
    for (int k = 0; k < 40; k++) {
        pid_t p = fork();
        if (p < 0) return 3;
        if (p == 0) {
            for (size_t i = 0; i < n; i += 4096 * 16) heap[i] = 2; /* copy on write */
            _exit(heap[4096 * 16] == 2 ? 0 : 4);
        }
        for (size_t i = 0; i < n; i += 64) sum += (unsigned char)heap[i];
        int st;
        if (waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st) != 0) return 5;
    }
    printf("forky: %lu\n", sum);
    return 0;
}
PROG
$CC -O2 forky.c -o forky
rc=0
profile f.bin ./forky >out.txt 2>err.txt || rc=$?
[ "$rc" -eq 0 ] || fail "forky exited with $rc: $(cat err.txt)"
grep -q '^forky: [0-9]' out.txt || fail "no output from forky"
expect_stderr_clean err.txt
report info f.bin >info.txt
grep -q "ended *exit" info.txt || fail "the parent's profile did not end with exit: $(grep ended info.txt)"
for f in $(files_of 'f.bin.*'); do
    report info "$f" >/dev/null # every child file reads back on its own
done
