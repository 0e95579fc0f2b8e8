/* SPDX-License-Identifier: MIT */
/*
 * mainexit: the initial thread starts a thread and ends by pthread_exit;
 * the thread burns about 300 ms of CPU in work_after_main and returns.
 * glibc then ends the process by exit(0) in that last thread, which runs
 * the atexit handlers. Prints "mainexit: main gone", "mainexit: worker
 * done" and, from its atexit handler, "mainexit: atexit ran".
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "burn.h"

static void at_exit(void)
{
    printf("mainexit: atexit ran\n");
    fflush(stdout);
}

__attribute__((noinline)) static void work_after_main(void)
{
    long n = burn_iters(300);
    BURN(n, 7);
}

static void *worker(void *arg)
{
    (void)arg;
    work_after_main();
    printf("mainexit: worker done\n");
    fflush(stdout);
    return NULL;
}

int main(void)
{
    atexit(at_exit);
    pthread_t t;
    if (pthread_create(&t, NULL, worker, NULL)) return 1;
    printf("mainexit: main gone\n");
    fflush(stdout);
    pthread_exit(NULL);
}
