/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the fixed parts of the format definition: the CRC-32C
 * chunk checksum against the standard check value, and the handler-time
 * histogram buckets of format.h (sprof-format(5) documents both).
 */
#include <stdint.h>
#include <string.h>

#include "crc32c.h"
#include "format.h"
#include "unit.h"

static void crc32c_check_value(void)
{
    /* The CRC-32C check value (RFC 3720 and every CRC catalogue). */
    CHECKF(sprof_crc32c(0, "123456789", 9) == 0xe3069283u, "got 0x%08x",
           sprof_crc32c(0, "123456789", 9));
    CHECK(sprof_crc32c(0, "", 0) == 0);
    /* 32 bytes of zeros, from RFC 3720 B.4 */
    static const uint8_t zeros[32];
    CHECKF(sprof_crc32c(0, zeros, 32) == 0x8a9136aau, "got 0x%08x", sprof_crc32c(0, zeros, 32));
}

static void crc32c_chaining(void)
{
    static const char text[] = "the quick brown fox jumps over the lazy dog, twice over";
    size_t n = sizeof(text) - 1;
    uint32_t whole = sprof_crc32c(0, text, n);
    for (size_t cut = 0; cut <= n; cut++)
        CHECKF(sprof_crc32c(sprof_crc32c(0, text, cut), text + cut, n - cut) == whole, "cut %zu",
               cut);
}

static void crc32c_detects_flips(void)
{
    uint8_t buf[64];
    for (int i = 0; i < 64; i++) buf[i] = (uint8_t)(i * 37);
    uint32_t base = sprof_crc32c(0, buf, sizeof(buf));
    for (int i = 0; i < 64 * 8; i++) {
        buf[i / 8] ^= (uint8_t)(1u << (i % 8));
        uint32_t c = sprof_crc32c(0, buf, sizeof(buf));
        buf[i / 8] ^= (uint8_t)(1u << (i % 8));
        CHECKF(c != base, "bit %d", i);
    }
}

/* The definition, one bit at a time, against the fast paths (SSE 4.2,
 * eight bytes at a time and a tail, where the CPU has it; the table) on
 * every length and alignment up to a few words. */
static void crc32c_matches_bitwise(void)
{
    uint8_t buf[96];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof(buf); i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (uint8_t)(x >> 16);
    }
    for (size_t at = 0; at < 8; at++)
        for (size_t n = 0; at + n <= sizeof(buf); n++) {
            uint32_t c = ~0u;
            for (size_t i = 0; i < n; i++) {
                c ^= buf[at + i];
                for (int k = 0; k < 8; k++)
                    c = (c & 1) ? 0x82f63b78u ^ (c >> 1) : c >> 1;
            }
            CHECKF(sprof_crc32c(0, buf + at, n) == ~c, "offset %zu, %zu bytes", at, n);
            CHECKF(sprof_crc32c_table(0, buf + at, n) == ~c, "table: offset %zu, %zu bytes", at, n);
        }
}

static void hist_bucket_bounds(void)
{
    CHECK(sprof_hist_bucket_lo(0) == 16);
    CHECK(sprof_hist_bucket_lo(1) == 20);
    CHECK(sprof_hist_bucket_lo(2) == 24);
    CHECK(sprof_hist_bucket_lo(3) == 28);
    CHECK(sprof_hist_bucket_lo(4) == 32);
    CHECK(sprof_hist_bucket_lo(8) == 64);
    for (unsigned i = 0; i + 1 < SPROF_HIST_BUCKETS; i++) {
        uint64_t lo = sprof_hist_bucket_lo(i), hi = sprof_hist_bucket_lo(i + 1);
        CHECKF(lo < hi, "bucket %u", i);
        CHECKF(sprof_hist_bucket(lo) == i, "lower bound of bucket %u lands in %u", i,
               sprof_hist_bucket(lo));
        CHECKF(sprof_hist_bucket(hi - 1) == i, "upper end of bucket %u lands in %u", i,
               sprof_hist_bucket(hi - 1));
    }
}

static void hist_bucket_extremes(void)
{
    CHECK(sprof_hist_bucket(0) == 0);
    CHECK(sprof_hist_bucket(15) == 0);
    CHECK(sprof_hist_bucket(16) == 0);
    CHECK(sprof_hist_bucket(UINT64_MAX) == SPROF_HIST_BUCKETS - 1);
    CHECK(sprof_hist_bucket(1ull << 40) == SPROF_HIST_BUCKETS - 1);
    /* monotonic over a wide range */
    unsigned prev = 0;
    for (uint64_t ns = 1; ns < (1ull << 34); ns = ns * 9 / 8 + 1) {
        unsigned b = sprof_hist_bucket(ns);
        CHECKF(b >= prev && b < SPROF_HIST_BUCKETS, "ns %llu", (unsigned long long)ns);
        prev = b;
    }
}

static void format_constants(void)
{
    /* Values other programs depend on: changing one is a format change. */
    CHECK(SPROF_MAGIC_LEN == 8 && memcmp(SPROF_MAGIC, "\x89SPROF\r\n", 8) == 0);
    CHECK(SPROF_FILE_HEADER_SIZE == 32);
    CHECK(SPROF_CHUNK_HEADER_SIZE == 24);
    CHECK(SPROF_CHUNK_MAGIC == 0x4b435053u);
    CHECK(SPROF_REC_PROCESS == 1 && SPROF_REC_CONFIG == 2 && SPROF_REC_THREAD == 3 &&
          SPROF_REC_THREAD_END == 4 && SPROF_REC_MAP == 5 && SPROF_REC_UNMAP == 6 &&
          SPROF_REC_STACK == 7 && SPROF_REC_SAMPLES == 8 && SPROF_REC_COUNTERS == 9 &&
          SPROF_REC_NOTE == 10 && SPROF_REC_END == 11);
    CHECK(SPROF_CTR_SAMPLES == 1 && SPROF_CTR_LOST == 2 && SPROF_CTR_TRUNCATED == 3 &&
          SPROF_CTR_HANDLER_NS == 4 && SPROF_CTR_WRITER_CPU_NS == 5 && SPROF_CTR_BYTES == 6 &&
          SPROF_CTR_STACKS == 7 && SPROF_CTR_REENTERED == 8 && SPROF_CTR_THREADS == 9);
}

int main(void)
{
    unit_prefix = "unit/format";
    RUN(crc32c_check_value);
    RUN(crc32c_chaining);
    RUN(crc32c_detects_flips);
    RUN(crc32c_matches_bitwise);
    RUN(hist_bucket_bounds);
    RUN(hist_bucket_extremes);
    RUN(format_constants);
    return unit_done();
}
