/* SPDX-License-Identifier: MIT */
/*
 * initwork: CPU work called from the program's _init, crti.o's code
 * without call frame information (the DT_INIT function, which calls
 * __gmon_start__ when a program defines one, as profiling builds do). Then
 * more work in main. A sample in initwork_burn must walk through _init to
 * the C library's start code, as one in main_burn walks through main.
 * Last, at the exit, work under crtbegin's __do_global_dtors_aux (the
 * program's first DT_FINI_ARRAY entry, run last, code without call frame
 * information): a destructor registers initwork_fini_burn for this object
 * with __cxa_atexit, which __do_global_dtors_aux's __cxa_finalize call
 * then runs (as it runs a C++ library's static destructors).
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

__attribute__((noinline, noclone)) void initwork_fini_burn(void *arg)
{
    (void)arg;
    long n = burn_iters(run_ms());
    BURN(n, 0x51c2e9a7d03b846full);
}

extern void *__dso_handle;
extern int __cxa_atexit(void (*fn)(void *), void *arg, void *dso);

/* Runs before __do_global_dtors_aux (.fini_array runs backwards, and it is
 * the first entry) and after every exit handler: what it registers now only
 * __cxa_finalize runs. */
__attribute__((destructor)) static void register_fini_work(void)
{
    __cxa_atexit(initwork_fini_burn, NULL, __dso_handle);
}

int main(void)
{
    initwork_main_burn(burn_iters(run_ms()));
    printf("initwork: __gmon_start__ called %d times\n", init_calls);
    return 0;
}
