/* SPDX-License-Identifier: MIT */
/*
 * CPU work for the test programs: BURN(n, k) runs n iterations of a
 * dependent multiply-xorshift chain (about 1 ns each on a current x86-64),
 * which the compiler can neither vectorize nor compute in closed form. k
 * makes otherwise identical functions differ, so that the linker's
 * identical-code folding cannot merge them into one symbol.
 */
#ifndef SPROF_TEST_BURN_H
#define SPROF_TEST_BURN_H

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

static volatile uint64_t burn_sink;

#define BURN(n, k)                                                                                 \
    do {                                                                                           \
        uint64_t x_ = (uint64_t)(k) | 1;                                                           \
        for (long i_ = 0; i_ < (long)(n); i_++) {                                                  \
            x_ = x_ * 6364136223846793005ull + (uint64_t)(k);                                      \
            x_ ^= x_ >> 29;                                                                        \
        }                                                                                          \
        burn_sink += x_;                                                                           \
    } while (0)

/* Iterations for about ms milliseconds of CPU time; BURN_SCALE (a
 * percentage, default 100) scales every program's work at once. */
static inline long burn_iters(double ms)
{
    const char *s = getenv("BURN_SCALE");
    double scale = s ? atof(s) / 100.0 : 1.0;
    if (scale <= 0) scale = 1.0;
    return (long)(ms * 700000.0 * scale);
}

/* The process's CPU time, in milliseconds */
static inline double burn_cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

#endif
