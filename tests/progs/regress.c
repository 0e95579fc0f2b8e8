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
 */
#include <stdio.h>
#include <stdlib.h>

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
    for (long i = 0; i < all; i++) {
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
    }
    free(plan);
    printf("regress: %ld units\n", all);
    return 0;
}
