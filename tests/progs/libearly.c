/* SPDX-License-Identifier: MIT */
/*
 * libearly.so: its constructor starts a thread before libsprof.so's
 * constructor runs (a program's DT_NEEDED libraries are initialized before
 * the preloaded ones), so sprof must find that thread by its /proc scan.
 * The thread burns about 600 ms of CPU in work_early; early_join() waits.
 */
#include <pthread.h>

#include "burn.h"

static pthread_t early;

__attribute__((noinline)) void work_early(void)
{
    long n = burn_iters(600);
    BURN(n, 0x5851f42d4c957f2dull);
}

static void *run(void *arg)
{
    work_early();
    return arg;
}

__attribute__((constructor)) static void start_early(void)
{
    pthread_create(&early, NULL, run, NULL);
}

void early_join(void)
{
    pthread_join(early, NULL);
}
