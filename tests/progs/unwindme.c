/* SPDX-License-Identifier: MIT */
/*
 * unwindme: runs the unwinder workload of unwindme.h for about MS
 * milliseconds of CPU time, at stack depths of 8 to 39 frames.
 * Usage: unwindme [MS [THREADS [LIB]]]   (default 1000 0)
 * With THREADS > 0, the main thread runs it for 50 ms, then that many
 * threads each run it for MS while the main thread waits; with LIB as well, the main thread meanwhile loads
 * and unloads LIB (dlopen, dlclose) over and over, so that the profiler's
 * view of the loaded objects keeps changing under its samples.
 * Expected profile: nearly all self time in um_leaf, every stack under main
 * (or the threads' start routine) and um_run, the um_* functions each on
 * about the same share of stacks.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include "unwindme.h"

static double cpu_ms(clockid_t clock)
{
    struct timespec t;
    clock_gettime(clock, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* The workload for ms of this thread's CPU time; returns the calls made. */
static uint64_t work(double ms, uint64_t seed)
{
    double t0 = cpu_ms(CLOCK_THREAD_CPUTIME_ID);
    uint64_t calls = 0;
    do {
        for (int i = 0; i < 64; i++, calls++) {
            seed = seed * 6364136223846793005ull + 1;
            um_run(8 + (int)((seed >> 33) % 32), seed);
        }
    } while (cpu_ms(CLOCK_THREAD_CPUTIME_ID) - t0 < ms);
    return calls;
}

static double run_ms;
static volatile int running;

static void *worker(void *arg)
{
    uint64_t calls = work(run_ms, 88172645463325252ull + (uintptr_t)arg);
    __atomic_sub_fetch(&running, 1, __ATOMIC_SEQ_CST);
    return (void *)(uintptr_t)calls;
}

int main(int argc, char **argv)
{
    run_ms = argc > 1 ? atof(argv[1]) : 1000;
    int threads = argc > 2 ? atoi(argv[2]) : 0;
    const char *lib = argc > 3 ? argv[3] : NULL;
    if (threads <= 0) {
        printf("unwindme: %llu calls\n", (unsigned long long)work(run_ms, 88172645463325252ull));
        return 0;
    }
    /* the tables of this program and libc are built before the churn */
    work(50, 1);
    pthread_t t[64];
    if (threads > 64) threads = 64;
    running = threads;
    for (int i = 0; i < threads; i++) {
        if (pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)i)) return 1;
    }
    unsigned long loads = 0;
    while (lib && __atomic_load_n(&running, __ATOMIC_SEQ_CST) > 0) {
        void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            fprintf(stderr, "unwindme: %s\n", dlerror());
            return 1;
        }
        dlclose(h);
        loads++;
    }
    uint64_t calls = 0;
    for (int i = 0; i < threads; i++) {
        void *r;
        pthread_join(t[i], &r);
        calls += (uintptr_t)r;
    }
    printf("unwindme: %llu calls in %d threads, %lu loads\n", (unsigned long long)calls, threads,
           loads);
    return 0;
}
