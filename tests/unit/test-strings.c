/* SPDX-License-Identifier: MIT */
/*
 * The preload's strings without printf (common/buf.c): sprof_concat joins
 * strings into a buffer of a given size, or leaves it empty when they do
 * not fit; sprof_fmt_u64 writes a number in decimal or hexadecimal, padded
 * to a width, as printf's %llu and %0*llx do.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "unit.h"

static void concat_joins(void)
{
    char b[16];
    CHECK(sprof_concat(b, sizeof(b), "/tmp", "/", "p.bin", NULL) == 0);
    CHECK(strcmp(b, "/tmp/p.bin") == 0);
    CHECK(sprof_concat(b, sizeof(b), NULL) == 0 && b[0] == 0);
    CHECK(sprof_concat(b, sizeof(b), "", "x", "", NULL) == 0 && strcmp(b, "x") == 0);
}

static void concat_exact_fit(void)
{
    char b[6];
    CHECK(sprof_concat(b, sizeof(b), "abc", "de", NULL) == 0 && strcmp(b, "abcde") == 0);
    /* one more byte would not leave room for the terminator */
    CHECK(sprof_concat(b, sizeof(b), "abc", "def", NULL) == -1 && b[0] == 0);
    CHECK(sprof_concat(b, sizeof(b), "abcdefgh", NULL) == -1 && b[0] == 0);
    char one[1] = {'z'};
    CHECK(sprof_concat(one, 1, "", NULL) == 0 && one[0] == 0);
    CHECK(sprof_concat(one, 1, "a", NULL) == -1 && one[0] == 0);
}

static void fmt_matches_printf(void)
{
    static const uint64_t v[] = {0,         1, 9, 10, 99, 4294967295u, 4294967296u, 1234567890123,
                                 UINT64_MAX};
    char got[24], want[32];
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        snprintf(want, sizeof(want), "%" PRIu64, v[i]);
        CHECKF(strcmp(sprof_fmt_u64(got, v[i], 10, 0), want) == 0, "%s, want %s", got, want);
        snprintf(want, sizeof(want), "%" PRIx64, v[i]);
        CHECKF(strcmp(sprof_fmt_u64(got, v[i], 16, 0), want) == 0, "%s, want %s", got, want);
        snprintf(want, sizeof(want), "%016" PRIx64, v[i]);
        CHECKF(strcmp(sprof_fmt_u64(got, v[i], 16, 16), want) == 0, "%s, want %s", got, want);
    }
    /* the width is capped at 20 digits: out never overflows its 24 bytes */
    CHECK(strlen(sprof_fmt_u64(got, 5, 10, 100)) == 20);
}

int main(void)
{
    unit_prefix = "unit/strings";
    RUN(concat_joins);
    RUN(concat_exact_fit);
    RUN(fmt_matches_printf);
    return unit_done();
}
