/* SPDX-License-Identifier: MIT */
/*
 * twopaths: two paths to one function, alike in every register and stack
 * address but for the return address that says which path it is. main
 * goes down a common recursion (common, COMMON frames), then through
 * path_a or path_b, chosen at random for each call; both are the same code
 * but for the leaf they hand to through, which calls it: in leaf_a and
 * leaf_b the frames of through have the same pc, sp and rbp whichever path
 * led there, and the next frame out, path_a's or path_b's, is known only
 * from the return address on the stack. A sample in leaf_a is under path_a,
 * one in leaf_b under path_b, always. Built with frame pointers, so that
 * rbp there is the same on both paths too (without them it holds what
 * common's loop keeps in it, and the frames differ in rbp).
 *
 * Usage: twopaths [MS] [US]   (MS: CPU milliseconds in all, default 600;
 * US: microseconds of each leaf's call, default 150)
 * Expected profile: main;common x COMMON;path_a;through;leaf_a and the same
 * with b, about half each; no leaf under the other path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "burn.h"

#define COMMON 40

static long leaf_iters;
static volatile long sink;

typedef void leaf_fn(void);

__attribute__((noinline, noclone)) void leaf_a(void)
{
    BURN(leaf_iters, 0xaaaaaaaaaaaaaaabull);
}
__attribute__((noinline, noclone)) void leaf_b(void)
{
    BURN(leaf_iters, 0xbbbbbbbbbbbbbbbdull);
}

__attribute__((noinline, noclone)) void through(leaf_fn *f)
{
    f();
    sink++;
}

/* (not tail calls: each adds to sink after its callee returns) */
#define PATH(name, leaf)                                                                           \
    __attribute__((noinline, noclone)) void name(void)                                             \
    {                                                                                              \
        through(leaf);                                                                             \
        sink++;                                                                                    \
    }
PATH(path_a, leaf_a)
PATH(path_b, leaf_b)

__attribute__((noinline, noclone)) void common(int level, double until)
{
    if (level < COMMON) {
        common(level + 1, until);
    } else {
        unsigned seed = 12345;
        while (burn_cpu_ms() < until) {
            for (int i = 0; i < 16; i++) {
                seed = seed * 1103515245u + 12345u;
                if ((seed >> 16) & 1)
                    path_a();
                else
                    path_b();
            }
        }
    }
    sink++;
}

int main(int argc, char **argv)
{
    double ms = argc > 1 ? atof(argv[1]) : 600;
    leaf_iters = burn_iters((argc > 2 ? atof(argv[2]) : 150) / 1000.0);
    common(1, burn_cpu_ms() + ms);
    printf("twopaths: done\n");
    return 0;
}
