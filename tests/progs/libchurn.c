/* SPDX-License-Identifier: MIT */
/*
 * libchurn-a.so and libchurn-b.so, built from this one file with
 * -DCHURN_WORK=a_work and -DCHURN_WORK=b_work: two libraries of the same
 * size and layout (so that the second, dlopen'ed after the first was
 * dlclose'd, lands at the same address), whose only function is at the
 * same offset in both. tests/progs/dlchurn.c loads them in turn.
 */
#include "burn.h"

#ifndef CHURN_WORK
#error "build with -DCHURN_WORK=a_work or -DCHURN_WORK=b_work"
#endif

__attribute__((noinline, visibility("default"))) void CHURN_WORK(long n)
{
    BURN(n, 0x2545f4914f6cdd1dull);
}
