/* SPDX-License-Identifier: MIT */
/*
 * deep: recurses DEPTH frames (default 100000), then burns CPU at the bottom
 * for about MS milliseconds. Usage: deep [MS] [DEPTH]. The stack needs about
 * 48 bytes a frame: run it with a large enough `ulimit -s`.
 */
#include <stdio.h>
#include <stdlib.h>

#include "burn.h"

static volatile long sink;

__attribute__((noinline)) long recurse(long depth, long iters)
{
    if (depth == 0) {
        BURN(iters, 0x2545f4914f6cdd1dull);
        return 1;
    }
    long r = recurse(depth - 1, iters);
    sink += r; /* not a tail call */
    return r + 1;
}

int main(int argc, char **argv)
{
    double ms = argc > 1 ? atof(argv[1]) : 500;
    long depth = argc > 2 ? atol(argv[2]) : 100000;
    long r = recurse(depth, burn_iters(ms));
    printf("deep: %ld frames\n", r);
    return 0;
}
