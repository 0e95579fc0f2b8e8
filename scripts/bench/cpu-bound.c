/* SPDX-License-Identifier: MIT */
/*
 * A CPU-bound workload for overhead measurements: deterministic integer work
 * reached through 30 levels of recursion, built without frame pointers.
 * Usage: cpu-bound [ITERATIONS]
 */
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
    return r + (unsigned long long)depth; /* not a tail call */
}

int main(int argc, char **argv)
{
    long iters = argc > 1 ? atol(argv[1]) : 3200;
    unsigned long long acc = 0;
    for (long k = 0; k < iters; k++) acc += descend(28, (unsigned long long)k, 250000);
    printf("%llu\n", acc);
    return 0;
}
