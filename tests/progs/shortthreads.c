/* SPDX-License-Identifier: MIT */
/*
 * shortthreads: 10,000 threads, 8 at a time, each burning about 0.2 ms of
 * CPU in work_short (less than one sampling period), each named.
 * Usage: shortthreads [THREADS]. Prints "shortthreads: done".
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "burn.h"

static long iters;

__attribute__((noinline)) static void work_short(long k)
{
    BURN(iters, 0x9e3779b97f4a7c15ull + (uint64_t)k);
}

static void *run(void *arg)
{
    pthread_setname_np(pthread_self(), "sp-short");
    work_short((long)arg);
    return NULL;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 10000;
    iters = burn_iters(0.2);
    for (long b = 0; b < n; b += 8) {
        pthread_t t[8];
        int k = 0;
        for (; k < 8 && b + k < n; k++)
            if (pthread_create(&t[k], NULL, run, (void *)(b + k))) return 1;
        for (int i = 0; i < k; i++) pthread_join(t[i], NULL);
    }
    printf("shortthreads: done\n");
    return 0;
}
