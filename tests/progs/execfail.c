/* SPDX-License-Identifier: MIT */
/*
 * execfail: exec calls that fail, between two stretches of CPU work. A
 * second thread burns CPU the whole time. Prints each function's CPU time
 * as its thread's clock measured it, in milliseconds:
 *
 *   before MS
 *   exec N failed
 *   after MS
 *   side MS
 *
 * Usage: execfail [MS]   (the main thread's work before and after the
 * failed calls, each; default 300. The side thread's is about twice that.)
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "burn.h"

static double thread_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

__attribute__((noinline, noclone)) void execfail_before(long n)
{
    BURN(n, 0x1111222233334444ull);
}

__attribute__((noinline, noclone)) void execfail_after(long n)
{
    BURN(n, 0x5555666677778888ull);
}

__attribute__((noinline, noclone)) void execfail_side(long n)
{
    BURN(n, 0x9999aaaabbbbccccull);
}

static long side_iters;
static double side_ms;

static void *side(void *arg)
{
    (void)arg;
    double t0 = thread_ms();
    execfail_side(side_iters);
    side_ms = thread_ms() - t0;
    return NULL;
}

int main(int argc, char **argv)
{
    double ms = argc > 1 ? atof(argv[1]) : 300;
    side_iters = burn_iters(2 * ms);
    pthread_t th;
    if (pthread_create(&th, NULL, side, NULL)) return 1;

    double t0 = thread_ms();
    execfail_before(burn_iters(ms));
    double before = thread_ms() - t0;

    /* each fails: no such file, a directory, not executable */
    char *args[] = {"nothing", NULL};
    int failed = 0;
    if (execv("/nonexistent/sprof-test/nothing", args) < 0) failed++;
    if (execv("/", args) < 0) failed++;
    if (execvp("sprof-test-no-such-program", args) < 0) failed++;
    char *env[] = {NULL};
    if (execve("/dev/null", args, env) < 0) failed++;

    t0 = thread_ms();
    execfail_after(burn_iters(ms));
    double after = thread_ms() - t0;
    pthread_join(th, NULL);
    printf("before %.1f\nexec %d failed\nafter %.1f\nside %.1f\n", before, failed, after, side_ms);
    return 0;
}
