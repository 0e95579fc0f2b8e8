/* SPDX-License-Identifier: MIT */
/*
 * A tiny test harness for the unit tests. Each test is a void function run
 * with RUN(fn); it prints "ok NAME" or "FAIL NAME: file:line: what" on
 * stdout, one line per test, and tests/run.sh counts those lines. CHECK
 * stops the current test at its first failure; the program goes on with
 * the next test and exits 1 if any failed.
 *
 *     static void varint_zero(void) { CHECK(1 + 1 == 2); }
 *     int main(void) { RUN(varint_zero); return unit_done(); }
 */
#ifndef SPROF_UNIT_H
#define SPROF_UNIT_H

#include <stdio.h>
#include <stdlib.h>

static const char *unit_prefix = "unit";
static const char *unit_name;
static int unit_failed, unit_any_failed;

#define CHECKF(cond, ...)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            printf("FAIL %s/%s: %s:%d: %s: ", unit_prefix, unit_name, __FILE__, __LINE__, #cond); \
            printf(__VA_ARGS__);                                                                   \
            printf("\n");                                                                          \
            fflush(stdout);                                                                        \
            unit_failed = 1;                                                                       \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#define CHECK(cond) CHECKF(cond, "check failed")

#define RUN(fn)                                                                                    \
    do {                                                                                           \
        unit_name = #fn;                                                                           \
        unit_failed = 0;                                                                           \
        fn();                                                                                      \
        if (unit_failed) unit_any_failed = 1;                                                      \
        else printf("ok %s/%s\n", unit_prefix, unit_name);                                         \
        fflush(stdout);                                                                            \
    } while (0)

static inline int unit_done(void)
{
    return unit_any_failed ? 1 : 0;
}

/* A deterministic pseudo-random sequence (xorshift64*), for repeatable
 * inputs. */
static inline unsigned long long unit_rand(unsigned long long *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

#endif
