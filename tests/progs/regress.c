/* SPDX-License-Identifier: MIT */
/*
 * regress: three functions with a given amount of CPU work each, for the
 * regression checks (sprof-report baseline and check). The work of each is
 * split into units of 10 us, and the units of all three are run in a
 * shuffled order (the same order every run), so that a periodic timer
 * cannot alias with the schedule and every run has the same mix.
 *
 * Usage: regress ALPHA_MS BETA_MS GAMMA_MS
 *   regress 400 300 300     1 s of CPU: alpha 40%, beta 30%, gamma 30%
 *   regress 480 300 300     the same with regress_alpha 20% slower
 * Expected profile: self time of regress_alpha, regress_beta and
 * regress_gamma in the ratio of the arguments.
 *
 * A busy machine can slow one of three identical functions more than the
 * others (a sibling hyperthread, code alignment), and then a check that
 * flags it is right. So regress also times every unit with the time-stamp
 * counter and prints each function's share of the time it measured:
 *   regress: measured regress_alpha=40.12 regress_beta=29.95 regress_gamma=29.93
 * and the process's CPU time, as the kernel counted it:
 *   regress: cpu_ms=642.3
 * A unit that took over 16 times the fastest one was preempted: it counts
 * as 16 times the fastest, so that time off the CPU does not distort the
 * shares (a sample's handler, which runs inside a unit, stays in).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <x86intrin.h>

#include "burn.h"

#define UNIT_MS 0.01 /* 10 us */

static long unit_iters;

__attribute__((noinline, noclone)) void regress_alpha(void)
{
    BURN(unit_iters, 0x9e3779b97f4a7c15ull);
}

__attribute__((noinline, noclone)) void regress_beta(void)
{
    BURN(unit_iters, 0xbf58476d1ce4e5b9ull);
}

__attribute__((noinline, noclone)) void regress_gamma(void)
{
    BURN(unit_iters, 0x94d049bb133111ebull);
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
    if (argc != 4) {
        fprintf(stderr, "usage: regress ALPHA_MS BETA_MS GAMMA_MS\n");
        return 2;
    }
    long units[3], all = 0;
    for (int i = 0; i < 3; i++) {
        double ms = atof(argv[i + 1]);
        units[i] = ms > 0 ? (long)(ms / UNIT_MS + 0.5) : 0;
        all += units[i];
    }
    unit_iters = burn_iters(UNIT_MS);
    unsigned char *plan = malloc(all ? (size_t)all : 1);
    if (!plan) return 1;
    long k = 0;
    for (int i = 0; i < 3; i++)
        for (long j = 0; j < units[i]; j++)
            plan[k++] = (unsigned char)i;
    for (long i = all - 1; i > 0; i--) {
        long j = (long)(next_rand() % (unsigned long)(i + 1));
        unsigned char t = plan[i];
        plan[i] = plan[j];
        plan[j] = t;
    }
    unsigned long long spent[3] = {0, 0, 0}, fastest = ~0ull;
    for (long i = 0; i < all; i++) {
        unsigned long long t0 = __rdtsc();
        switch (plan[i]) {
        case 0:
            regress_alpha();
            break;
        case 1:
            regress_beta();
            break;
        default:
            regress_gamma();
            break;
        }
        unsigned long long t = __rdtsc() - t0;
        if (t < fastest) fastest = t;
        if (t > 16 * fastest) t = 16 * fastest;
        spent[plan[i]] += t;
    }
    free(plan);
    printf("regress: %ld units\n", all);
    double sum = (double)(spent[0] + spent[1] + spent[2]);
    if (sum > 0)
        printf("regress: measured regress_alpha=%.2f regress_beta=%.2f regress_gamma=%.2f\n",
               100 * spent[0] / sum, 100 * spent[1] / sum, 100 * spent[2] / sum);
    struct timespec cpu;
    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu) == 0)
        printf("regress: cpu_ms=%.1f\n", (double)cpu.tv_sec * 1e3 + (double)cpu.tv_nsec / 1e6);
    return 0;
}
