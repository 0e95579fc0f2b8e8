/* SPDX-License-Identifier: MIT */
/*
 * initwork: CPU work called from the program's _init, crti.o's code
 * without call frame information (the DT_INIT function, which calls
 * __gmon_start__ when a program defines one, as profiling builds do). Then
 * more work in main. A sample in initwork_burn must walk through _init to
 * the C library's start code, as one in main_burn walks through main.
 *
 * Usage: INITWORK_MS=MS initwork   (MS of work in each, default 300: the
 * environment, which _init's callee can read)
 */
#include <stdio.h>

#include "burn.h"

static volatile int init_calls;

__attribute__((noinline, noclone)) void initwork_burn(long n)
{
    BURN(n, 0x2d1b5e7a90c3f461ull);
}

__attribute__((noinline, noclone)) void initwork_main_burn(long n)
{
    BURN(n, 0x6a0f3c9e1b7d2855ull);
}

static double run_ms(void)
{
    const char *s = getenv("INITWORK_MS");
    return s ? atof(s) : 300;
}

/* Called by _init (crti.o) through a weak reference. */
void __gmon_start__(void)
{
    init_calls++;
    initwork_burn(burn_iters(run_ms()));
}

int main(void)
{
    initwork_main_burn(burn_iters(run_ms()));
    printf("initwork: __gmon_start__ called %d times\n", init_calls);
    return 0;
}
