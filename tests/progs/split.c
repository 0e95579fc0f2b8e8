/* SPDX-License-Identifier: MIT */
/*
 * split: one loop whose work is split 50/30/20 across work_a, work_b and
 * work_c. Every unit of work is the same amount of CPU in each function; the
 * order of the ten units of each block is shuffled so that a periodic timer
 * cannot alias with the schedule. Each unit is reached through a recursive
 * dispatcher 10..29 frames deep, so that stacks are deep and end in main.
 *
 * Usage: split [MS]   (MS: total CPU milliseconds, default 1500)
 * Expected profile: self samples in work_a : work_b : work_c = 50 : 30 : 20.
 *
 * The same number of iterations need not take the same time in each
 * function (code alignment, a busy sibling hyperthread), so split also
 * measures, with the time-stamp counter around every unit, the share of
 * time each function really took, and prints it:
 *   split: measured work_a=50.1 work_b=29.9 work_c=20.0
 * Tests compare the profile with these shares (and these with 50/30/20).
 * A unit the scheduler stopped (another process ran, or the host took the
 * CPU: milliseconds of a 10 us unit, which the profile, counting CPU time,
 * does not see) would count for its function alone: a unit that took more
 * than STALL_FACTOR times the quickest unit so far is left out of the
 * shares, and counted ("split: left out N stalled units"). A sample's
 * handler, tens of us on a virtual machine, stays in.
 */
#include <stdio.h>
#include <x86intrin.h>

#include "burn.h"

#define UNIT_MS 0.01 /* 10 us */
#define STALL_FACTOR 50

static unsigned long long quickest = ~0ull; /* TSC ticks of the quickest unit */
static long stalled;
static long unit_iters;
static volatile int depth_sink;
static unsigned long long spent[3]; /* TSC ticks in each work function */

__attribute__((noinline, noclone)) void work_a(void)
{
    BURN(unit_iters, 0x9e3779b97f4a7c15ull);
}

__attribute__((noinline, noclone)) void work_b(void)
{
    BURN(unit_iters, 0xbf58476d1ce4e5b9ull);
}

__attribute__((noinline, noclone)) void work_c(void)
{
    BURN(unit_iters, 0x94d049bb133111ebull);
}

/* Recurses depth times, then runs one unit in the chosen function. The
 * store after the call keeps the call from becoming a jump. */
__attribute__((noinline, noclone)) void dispatch(int depth, int which)
{
    if (depth > 0) {
        dispatch(depth - 1, which);
        depth_sink = depth;
        return;
    }
    unsigned long long t0 = __rdtsc();
    switch (which) {
    case 0: work_a(); break;
    case 1: work_b(); break;
    default: work_c(); break;
    }
    unsigned long long d = __rdtsc() - t0;
    if (d < quickest) quickest = d;
    if (d > STALL_FACTOR * quickest)
        stalled++;
    else
        spent[which] += d;
    depth_sink = -1;
}

static uint64_t rng = 88172645463325252ull;
static unsigned next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng >> 11);
}

int main(int argc, char **argv)
{
    double ms = argc > 1 ? atof(argv[1]) : 1500;
    unit_iters = burn_iters(UNIT_MS);
    long blocks = (long)(ms / UNIT_MS / 10);
    static const int plan[10] = {0, 0, 0, 0, 0, 1, 1, 1, 2, 2};
    int order[10];
    for (long b = 0; b < blocks; b++) {
        for (int i = 0; i < 10; i++) order[i] = plan[i];
        for (int i = 9; i > 0; i--) {
            int j = (int)(next_rand() % (unsigned)(i + 1));
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        for (int i = 0; i < 10; i++) dispatch(10 + (int)(next_rand() % 20), order[i]);
    }
    printf("split: %ld units\n", blocks * 10);
    printf("split: left out %ld stalled units\n", stalled);
    double all = (double)(spent[0] + spent[1] + spent[2]);
    if (all > 0)
        printf("split: measured work_a=%.1f work_b=%.1f work_c=%.1f\n", 100 * spent[0] / all,
               100 * spent[1] / all, 100 * spent[2] / all);
    return 0;
}
