/* SPDX-License-Identifier: MIT */
/*
 * reuse: threads one after another, each alone: thread K is named
 * "round-K" and burns about 60 ms of CPU in work_even or work_odd (by K's
 * parity), then ends; the main thread sleeps 350 ms between two, long
 * enough for sprof's writer to drain the ended thread and free its slot,
 * which the next thread then takes again (preload/threads.c, hot slots).
 * Usage: reuse [ROUNDS] (6). Prints "reuse: done".
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "burn.h"

static long iters;

__attribute__((noinline)) static void work_even(void)
{
    BURN(iters, 0x2545f4914f6cdd1dull);
}

__attribute__((noinline)) static void work_odd(void)
{
    BURN(iters, 0x9e3779b97f4a7c15ull);
}

static void *run(void *arg)
{
    long k = (long)arg;
    char name[16];
    snprintf(name, sizeof(name), "round-%ld", k);
    pthread_setname_np(pthread_self(), name);
    if (k % 2)
        work_odd();
    else
        work_even();
    return NULL;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 6;
    iters = burn_iters(60);
    for (long k = 0; k < n; k++) {
        pthread_t t;
        if (pthread_create(&t, NULL, run, (void *)k)) return 1;
        pthread_join(t, NULL);
        struct timespec ts = {0, 350 * 1000000L};
        nanosleep(&ts, NULL);
    }
    printf("reuse: done\n");
    return 0;
}
