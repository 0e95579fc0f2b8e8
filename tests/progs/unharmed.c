/* SPDX-License-Identifier: MIT */
/*
 * unharmed: a program whose observable behaviour must not change under the
 * profiler. It writes a lot of deterministic text to stdout through stdio
 * while burning CPU, passes data through a pipe from a forked child (blocking
 * reads and writes that must not fail with EINTR), sleeps, checks that
 * errno survives, and exits with status 3 (or the status given).
 *
 * Usage: unharmed [STATUS]
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "burn.h"

__attribute__((noinline, noclone)) uint64_t unharmed_compute(uint64_t i)
{
    uint64_t x = i + 1;
    for (int k = 0; k < 20000; k++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        x ^= x >> 29;
    }
    return x;
}

static int pipe_roundtrip(void)
{
    int fds[2];
    if (pipe(fds) < 0) return -1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        close(fds[0]);
        char buf[4096];
        for (int i = 0; i < 256; i++) {
            memset(buf, 'a' + i % 26, sizeof(buf));
            burn_sink += unharmed_compute((uint64_t)i); /* CPU between writes */
            if (write(fds[1], buf, sizeof(buf)) != (ssize_t)sizeof(buf)) _exit(10 + errno);
        }
        _exit(0);
    }
    close(fds[1]);
    char buf[4096];
    size_t total = 0;
    uint64_t sum = 0;
    for (;;) {
        ssize_t n = read(fds[0], buf, sizeof(buf));
        if (n < 0) {
            printf("read failed: %s\n", strerror(errno));
            return -1;
        }
        if (n == 0) break;
        for (ssize_t i = 0; i < n; i++) sum += (unsigned char)buf[i];
        total += (size_t)n;
    }
    close(fds[0]);
    int st;
    if (waitpid(pid, &st, 0) != pid) return -1;
    printf("pipe: %zu bytes, sum %llu, child status %d\n", total, (unsigned long long)sum,
           WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return 0;
}

int main(int argc, char **argv)
{
    int status = argc > 1 ? atoi(argv[1]) : 3;
    int errno_changed = 0;
    /* volatile: the compiler knows unharmed_compute leaves errno alone and
     * would drop the check; a signal handler that runs meanwhile must
     * restore errno too */
    volatile int *err = &errno;
    for (uint64_t i = 0; i < 3000; i++) {
        *err = ENOENT;
        uint64_t v = unharmed_compute(i);
        if (*err != ENOENT) errno_changed++;
        printf("line %llu %016llx\n", (unsigned long long)i, (unsigned long long)v);
    }
    if (pipe_roundtrip() < 0) printf("pipe: failed\n");

    struct timespec ts = {0, 20 * 1000 * 1000};
    int r = nanosleep(&ts, NULL);
    printf("nanosleep: %d\n", r);

    printf("errno changed behind the program's back: %d times\n", errno_changed);

    /* The program's own view of signals it never touched. */
    sigset_t cur;
    sigprocmask(SIG_BLOCK, NULL, &cur);
    printf("SIGPROF blocked: %d\n", sigismember(&cur, SIGPROF));
    fflush(stdout);
    return status;
}
