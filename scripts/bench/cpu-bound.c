/* SPDX-License-Identifier: MIT */
/*
 * A CPU-bound workload for overhead measurements: deterministic integer work
 * reached through DEPTH levels of recursion, built without frame pointers.
 * Usage: cpu-bound [ITERATIONS [DEPTH [THREADS [coro]]]]
 *
 * Each iteration calls descend(DEPTH), which recurses DEPTH more times and
 * then runs leaf() for about half a millisecond: with the default DEPTH of 28
 * the sampled stacks are 30 frames of this program (29 descend, leaf) under
 * main. THREADS > 0 runs the iterations in that many threads (split evenly)
 * while main waits, so a thread's stack is its start routine, then the same
 * recursion. "coro" (with THREADS 0) runs them in two makecontext(3)
 * coroutines on 256 KiB stacks in the heap, in turn, an iteration each time
 * main switches to one: their stacks are glibc's __start_context, then
 * coro_main, then the same recursion.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

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

static ucontext_t main_uc, coro_uc[2];
static long coro_next;
static unsigned long long coro_acc;

static void coro_main(int which)
{
    for (;;) {
        coro_acc += descend(g_depth, (unsigned long long)coro_next++, 250000);
        swapcontext(&coro_uc[which], &main_uc);
    }
}

static int run_coroutines(long iters)
{
    for (int i = 0; i < 2; i++) {
        size_t size = 256 * 1024;
        if (getcontext(&coro_uc[i]) || !(coro_uc[i].uc_stack.ss_sp = malloc(size))) return 1;
        coro_uc[i].uc_stack.ss_size = size;
        coro_uc[i].uc_link = &main_uc;
        makecontext(&coro_uc[i], (void (*)(void))coro_main, 1, i);
    }
    for (long k = 0; k < iters; k++)
        if (swapcontext(&main_uc, &coro_uc[k & 1])) return 1;
    printf("%llu\n", coro_acc);
    return 0;
}

int main(int argc, char **argv)
{
    long iters = argc > 1 ? atol(argv[1]) : 3200;
    if (argc > 2) g_depth = atoi(argv[2]);
    int threads = argc > 3 ? atoi(argv[3]) : 0;
    if (g_depth < 0) g_depth = 0;
    if (threads <= 0 && argc > 4 && !strcmp(argv[4], "coro")) return run_coroutines(iters);
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
