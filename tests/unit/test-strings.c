/* SPDX-License-Identifier: MIT */
/*
 * The preload's strings without printf (common/buf.c): sprof_concat joins
 * strings into a buffer of a given size, or leaves it empty when they do
 * not fit; sprof_fmt_u64 writes a number in decimal or hexadecimal, padded
 * to a width, as printf's %llu and %0*llx do; sprof_parse_u64 reads one
 * back, as strtoull does a string of digits only, and refuses the rest.
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

static void parse_round_trips(void)
{
    static const uint64_t v[] = {0,         1, 9, 10, 99, 4294967295u, 4294967296u, 1234567890123,
                                 UINT64_MAX};
    char text[24];
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        for (unsigned base = 10; base <= 16; base += 6) {
            uint64_t got = 7;
            sprof_fmt_u64(text, v[i], base, base == 16 ? 16 : 0);
            CHECKF(sprof_parse_u64(text, base, &got) == 0 && got == v[i],
                   "'%s' in base %u: %" PRIu64, text, base, got);
        }
    }
    uint64_t got = 0;
    CHECK(sprof_parse_u64("DEADbeef", 16, &got) == 0 && got == 0xdeadbeef);
    CHECK(sprof_parse_u64("007", 10, &got) == 0 && got == 7);
}

static void parse_refuses(void)
{
    static const char *bad10[] = {"",
                                  " 5",
                                  "5 ",
                                  "+5",
                                  "-5",
                                  "5x",
                                  "0x10",
                                  "1e3",
                                  "ff",
                                  "18446744073709551616",
                                  "99999999999999999999"};
    for (size_t i = 0; i < sizeof(bad10) / sizeof(bad10[0]); i++) {
        uint64_t got = 42;
        CHECKF(sprof_parse_u64(bad10[i], 10, &got) == -1 && got == 42, "'%s' was taken", bad10[i]);
    }
    uint64_t got = 42;
    CHECK(sprof_parse_u64("10000000000000000", 16, &got) == -1 && got == 42); /* 2^64 */
    CHECK(sprof_parse_u64("fg", 16, &got) == -1);
}

int main(void)
{
    unit_prefix = "unit/strings";
    RUN(concat_joins);
    RUN(concat_exact_fit);
    RUN(fmt_matches_printf);
    RUN(parse_round_trips);
    RUN(parse_refuses);
    return unit_done();
}
