/* SPDX-License-Identifier: MIT */
/*
 * threads: four threads plus main, each burning the same amount of CPU in
 * a function of its own (work_t1 .. work_t4, work_main). Each thread names
 * itself "sp-worker-N" with pthread_setname_np before it starts working.
 *
 * Usage: threads [MS]   (MS: CPU milliseconds per thread, default 300)
 * Expected profile: five threads with samples; each function about a fifth
 * of the samples.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>

#include "burn.h"

static long iters;

__attribute__((noinline, noclone)) void work_t1(void)
{
    BURN(iters, 0x1111111111111111ull);
}
__attribute__((noinline, noclone)) void work_t2(void)
{
    BURN(iters, 0x2222222222222223ull);
}
__attribute__((noinline, noclone)) void work_t3(void)
{
    BURN(iters, 0x3333333333333335ull);
}
__attribute__((noinline, noclone)) void work_t4(void)
{
    BURN(iters, 0x4444444444444447ull);
}
__attribute__((noinline, noclone)) void work_main(void)
{
    BURN(iters, 0x5555555555555559ull);
}

static void (*const work[4])(void) = {work_t1, work_t2, work_t3, work_t4};

static void *thread_main(void *arg)
{
    long i = (long)arg;
    char name[16];
    snprintf(name, sizeof(name), "sp-worker-%ld", i + 1);
    pthread_setname_np(pthread_self(), name);
    work[i]();
    return NULL;
}

int main(int argc, char **argv)
{
    iters = burn_iters(argc > 1 ? atof(argv[1]) : 300);
    pthread_t th[4];
    for (long i = 0; i < 4; i++) {
        int e = pthread_create(&th[i], NULL, thread_main, (void *)i);
        if (e) {
            fprintf(stderr, "threads: pthread_create failed: %d\n", e);
            return 1;
        }
    }
    work_main();
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
    printf("threads: done\n");
    return 0;
}
