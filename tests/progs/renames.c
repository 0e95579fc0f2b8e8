/* SPDX-License-Identifier: MIT */
/*
 * renames: threads that change their names after the recorder has first
 * seen them, by the three ways a name changes: the main thread with
 * prctl(PR_SET_NAME), a worker with pthread_setname_np on itself, and a
 * worker renamed by the main thread (pthread_setname_np on another thread,
 * which writes /proc/self/task/TID/comm). Each burns CPU in a function of
 * its own after its rename; the first names are set, and held for 200 ms
 * of wall time, before any work, so that the writer's first drain (100 ms
 * after its start) announces them.
 *
 * Usage: renames [MS]   (MS: CPU milliseconds per thread, default 150)
 * Expected profile: the threads named main-later, a-later and b-later, none
 * named a-first or b-first; work_main under main-later, work_a under
 * a-later, work_b under b-later.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <time.h>

#include "burn.h"

static long iters;
static pthread_barrier_t renamed;

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

__attribute__((noinline, noclone)) void work_main(void)
{
    BURN(iters, 0x5555555555555559ull);
}
__attribute__((noinline, noclone)) void work_a(void)
{
    BURN(iters, 0x1111111111111111ull);
}
__attribute__((noinline, noclone)) void work_b(void)
{
    BURN(iters, 0x2222222222222223ull);
}

static void *thread_a(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "a-first");
    pause_ms(200);
    pthread_setname_np(pthread_self(), "a-later");
    work_a();
    return NULL;
}

static void *thread_b(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&renamed); /* named b-first, then b-later by main */
    work_b();
    return NULL;
}

int main(int argc, char **argv)
{
    iters = burn_iters(argc > 1 ? atof(argv[1]) : 150);
    pthread_barrier_init(&renamed, NULL, 2);
    pthread_t a, b;
    if (pthread_create(&a, NULL, thread_a, NULL) || pthread_create(&b, NULL, thread_b, NULL)) {
        fprintf(stderr, "renames: pthread_create failed\n");
        return 1;
    }
    pthread_setname_np(b, "b-first");
    pause_ms(200);
    prctl(PR_SET_NAME, "main-later", 0, 0, 0);
    pthread_setname_np(b, "b-later");
    pthread_barrier_wait(&renamed);
    work_main();
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    printf("renames: done\n");
    return 0;
}
