/* SPDX-License-Identifier: MIT */
/*
 * A CPU-bound workload for overhead measurements: deterministic integer work
 * reached through DEPTH levels of recursion, built without frame pointers.
 * Usage: cpu-bound [ITERATIONS [DEPTH [THREADS]]]
 *
 * Each iteration calls descend(DEPTH), which recurses DEPTH more times and
 * then runs leaf() for about half a millisecond: with the default DEPTH of 28
 * the sampled stacks are 30 frames of this program (29 descend, leaf) under
 * main. THREADS > 0 runs the iterations in that many threads (split evenly)
 * while main waits, so a thread's stack is its start routine, then the same
 * recursion.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static unsigned long long mix(unsigned long long x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

__attribute__((noinline)) static unsigned long long leaf(unsigned long long seed, long n)
{
    for (long i = 0; i < n; i++) seed = mix(seed + (unsigned long long)i);
    return seed;
}

__attribute__((noinline)) static unsigned long long descend(int depth, unsigned long long seed,
                                                            long n)
{
    if (depth == 0) return leaf(seed, n);
    unsigned long long r = descend(depth - 1, seed ^ (unsigned long long)depth, n);
    /* Without this the compiler turns the recursion into a loop (tail
       recursion with an accumulator) and the stack is 2 frames deep. */
    __asm__ volatile("" : "+r"(r));
    return r + (unsigned long long)depth;
}

static int g_depth = 28;

struct job {
    long first, count;
    unsigned long long acc;
};

static void *worker(void *arg)
{
    struct job *j = arg;
    for (long k = j->first; k < j->first + j->count; k++)
        j->acc += descend(g_depth, (unsigned long long)k, 250000);
    return NULL;
}

int main(int argc, char **argv)
{
    long iters = argc > 1 ? atol(argv[1]) : 3200;
    if (argc > 2) g_depth = atoi(argv[2]);
    int threads = argc > 3 ? atoi(argv[3]) : 0;
    if (g_depth < 0) g_depth = 0;
    unsigned long long acc = 0;
    if (threads <= 0) {
        for (long k = 0; k < iters; k++) acc += descend(g_depth, (unsigned long long)k, 250000);
    } else {
        pthread_t *t = calloc((size_t)threads, sizeof(*t));
        struct job *j = calloc((size_t)threads, sizeof(*j));
        if (!t || !j) return 1;
        for (int i = 0; i < threads; i++) {
            j[i].first = iters * i / threads;
            j[i].count = iters * (i + 1) / threads - j[i].first;
            if (pthread_create(&t[i], NULL, worker, &j[i])) return 1;
        }
        for (int i = 0; i < threads; i++) {
            pthread_join(t[i], NULL);
            acc += j[i].acc;
        }
    }
    printf("%llu\n", acc);
    return 0;
}
