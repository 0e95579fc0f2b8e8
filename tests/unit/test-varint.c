/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for common/buf.[ch]: varints (LEB128 and zigzag), fixed-width
 * little-endian integers, strings and record framing, including malformed
 * input that a reader must reject without reading past its end.
 */
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>

#include "buf.h"
#include "unit.h"

/* Encodes v with sprof_buf_put_uvarint, checks the length, decodes it back
 * and checks that exactly the encoded bytes were consumed. */
static int roundtrip_u(uint64_t v, size_t want_len)
{
    struct sprof_buf b;
    sprof_buf_init(&b);
    sprof_buf_put_uvarint(&b, v);
    int ok = !b.oom && b.len == want_len;
    uint8_t direct[16];
    ok = ok && sprof_uvarint_encode(direct, v) == want_len && memcmp(direct, b.data, b.len) == 0;
    struct sprof_cur c;
    sprof_cur_init(&c, b.data, b.len);
    uint64_t got = ~v;
    ok = ok && sprof_get_uvarint(&c, &got) == 0 && got == v && sprof_cur_left(&c) == 0;
    sprof_buf_release(&b);
    return ok;
}

static void uvarint_edges(void)
{
    static const struct {
        uint64_t v;
        size_t len;
    } cases[] = {
        {0, 1},
        {1, 1},
        {127, 1},
        {128, 2},
        {255, 2},
        {16383, 2},
        {16384, 3},
        {UINT32_MAX, 5},
        {(uint64_t)UINT32_MAX + 1, 5},
        {(1ull << 35) - 1, 5},
        {1ull << 35, 6},
        {(1ull << 63) - 1, 9},
        {1ull << 63, 10},
        {UINT64_MAX - 1, 10},
        {UINT64_MAX, 10},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        CHECKF(roundtrip_u(cases[i].v, cases[i].len), "value %llu (expected %zu bytes)",
               (unsigned long long)cases[i].v, cases[i].len);
}

static void uvarint_exact_bytes(void)
{
    uint8_t b[16];
    CHECK(sprof_uvarint_encode(b, 0) == 1 && b[0] == 0x00);
    CHECK(sprof_uvarint_encode(b, 127) == 1 && b[0] == 0x7f);
    CHECK(sprof_uvarint_encode(b, 128) == 2 && b[0] == 0x80 && b[1] == 0x01);
    CHECK(sprof_uvarint_encode(b, 300) == 2 && b[0] == 0xac && b[1] == 0x02);
    CHECK(sprof_uvarint_encode(b, UINT64_MAX) == 10);
    for (int i = 0; i < 9; i++) CHECKF(b[i] == 0xff, "byte %d is 0x%02x", i, b[i]);
    CHECK(b[9] == 0x01);
}

static void uvarint_random(void)
{
    unsigned long long s = 0x1234567887654321ull;
    for (int i = 0; i < 200000; i++) {
        uint64_t v = unit_rand(&s);
        v >>= unit_rand(&s) % 64; /* every bit length */
        size_t len = 1;
        for (uint64_t x = v; x >= 0x80; x >>= 7) len++;
        CHECKF(roundtrip_u(v, len), "value %llu", (unsigned long long)v);
    }
}

static void uvarint_sequence(void)
{
    /* Many values back to back decode in order and end exactly at the end. */
    struct sprof_buf b;
    sprof_buf_init(&b);
    for (uint64_t i = 0; i < 5000; i++) sprof_buf_put_uvarint(&b, i * i * i * 7919);
    CHECK(!b.oom);
    struct sprof_cur c;
    sprof_cur_init(&c, b.data, b.len);
    for (uint64_t i = 0; i < 5000; i++) {
        uint64_t v;
        int r = sprof_get_uvarint(&c, &v);
        if (r != 0 || v != i * i * i * 7919) sprof_buf_release(&b);
        CHECKF(r == 0 && v == i * i * i * 7919, "value %llu", (unsigned long long)i);
    }
    CHECK(sprof_cur_left(&c) == 0);
    uint64_t v;
    int r = sprof_get_uvarint(&c, &v);
    sprof_buf_release(&b);
    CHECKF(r == -1, "reading past the end must fail");
}

static void svarint_zigzag(void)
{
    CHECK(sprof_zigzag(0) == 0);
    CHECK(sprof_zigzag(-1) == 1);
    CHECK(sprof_zigzag(1) == 2);
    CHECK(sprof_zigzag(-2) == 3);
    CHECK(sprof_zigzag(2) == 4);
    CHECK(sprof_zigzag(INT64_MAX) == UINT64_MAX - 1);
    CHECK(sprof_zigzag(INT64_MIN) == UINT64_MAX);
    CHECK(sprof_unzigzag(UINT64_MAX) == INT64_MIN);
    CHECK(sprof_unzigzag(UINT64_MAX - 1) == INT64_MAX);
    static const int64_t vals[] = {0,          1,         -1,       63,        -64,       64,
                                   -65,        1000000,   -1000000, INT32_MAX, INT32_MIN, INT64_MAX,
                                   INT64_MIN, -(1ll << 62), (1ll << 62)};
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        struct sprof_buf b;
        sprof_buf_init(&b);
        sprof_buf_put_svarint(&b, vals[i]);
        struct sprof_cur c;
        sprof_cur_init(&c, b.data, b.len);
        int64_t got = 0;
        int r = sprof_get_svarint(&c, &got);
        size_t left = sprof_cur_left(&c), len = b.len;
        sprof_buf_release(&b);
        CHECKF(r == 0 && got == vals[i] && left == 0, "value %lld", (long long)vals[i]);
        /* small magnitudes stay small: -64..63 fit in one byte */
        if (vals[i] >= -64 && vals[i] <= 63) CHECKF(len == 1, "value %lld", (long long)vals[i]);
    }
}

static void svarint_random(void)
{
    unsigned long long s = 42;
    for (int i = 0; i < 100000; i++) {
        int64_t v = (int64_t)unit_rand(&s) >> (unit_rand(&s) % 64);
        struct sprof_buf b;
        sprof_buf_init(&b);
        sprof_buf_put_svarint(&b, v);
        struct sprof_cur c;
        sprof_cur_init(&c, b.data, b.len);
        int64_t got = 0;
        int r = sprof_get_svarint(&c, &got);
        sprof_buf_release(&b);
        CHECKF(r == 0 && got == v, "value %lld", (long long)v);
    }
}

static int decode(const uint8_t *p, size_t n, uint64_t *v)
{
    struct sprof_cur c;
    sprof_cur_init(&c, p, n);
    return sprof_get_uvarint(&c, v);
}

static void uvarint_malformed(void)
{
    uint64_t v = 0;
    /* empty input */
    CHECK(decode((const uint8_t *)"", 0, &v) == -1);
    /* truncated: continuation bit set on the last byte */
    static const uint8_t t1[] = {0x80};
    static const uint8_t t2[] = {0xff, 0xff};
    static const uint8_t t9[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    CHECK(decode(t1, sizeof(t1), &v) == -1);
    CHECK(decode(t2, sizeof(t2), &v) == -1);
    CHECK(decode(t9, sizeof(t9), &v) == -1);
    /* overlong: more than 10 bytes */
    static const uint8_t o11[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
    CHECK(decode(o11, sizeof(o11), &v) == -1);
    static const uint8_t o12[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                  0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    CHECK(decode(o12, sizeof(o12), &v) == -1);
    /* 10 bytes whose last one carries bits beyond 64 */
    static const uint8_t big[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02};
    CHECK(decode(big, sizeof(big), &v) == -1);
    static const uint8_t big2[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f};
    CHECK(decode(big2, sizeof(big2), &v) == -1);
    /* the largest legal value is accepted */
    static const uint8_t max[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    CHECK(decode(max, sizeof(max), &v) == 0 && v == UINT64_MAX);
    /* a truncated varint inside a longer buffer: the cursor end is
     * respected even when the byte after it would complete the value */
    static const uint8_t cut[] = {0x80, 0x01};
    CHECK(decode(cut, 1, &v) == -1);
    /* svarint inherits the checks */
    struct sprof_cur c;
    int64_t s;
    sprof_cur_init(&c, t2, sizeof(t2));
    CHECK(sprof_get_svarint(&c, &s) == -1);
}

static void u32_limits(void)
{
    struct sprof_buf b;
    sprof_buf_init(&b);
    sprof_buf_put_uvarint(&b, UINT32_MAX);
    sprof_buf_put_uvarint(&b, (uint64_t)UINT32_MAX + 1);
    struct sprof_cur c;
    sprof_cur_init(&c, b.data, b.len);
    uint32_t v = 0;
    int r1 = sprof_get_u32(&c, &v);
    uint32_t first = v;
    int r2 = sprof_get_u32(&c, &v);
    sprof_buf_release(&b);
    CHECK(r1 == 0 && first == UINT32_MAX);
    CHECKF(r2 == -1, "2^32 must not fit in a u32");
}

static void le_fixed(void)
{
    struct sprof_buf b;
    sprof_buf_init(&b);
    sprof_buf_put_u8(&b, 0xab);
    sprof_buf_put_le16(&b, 0x1234);
    sprof_buf_put_le32(&b, 0xdeadbeefu);
    sprof_buf_put_le64(&b, 0x0102030405060708ull);
    int ok = !b.oom && b.len == 15 && b.data[0] == 0xab && b.data[1] == 0x34 && b.data[2] == 0x12 &&
             b.data[3] == 0xef && b.data[6] == 0xde && b.data[7] == 0x08 && b.data[14] == 0x01 &&
             sprof_le16(b.data + 1) == 0x1234 && sprof_le32(b.data + 3) == 0xdeadbeefu &&
             sprof_le64(b.data + 7) == 0x0102030405060708ull;
    sprof_buf_release(&b);
    CHECK(ok);
}

static void strings(void)
{
    struct sprof_buf b;
    sprof_buf_init(&b);
    sprof_buf_put_str(&b, "hello");
    sprof_buf_put_str(&b, "");
    sprof_buf_put_str(&b, NULL);
    static const char nul[] = {'a', 0, 'b'};
    sprof_buf_put_bytes(&b, nul, sizeof(nul));
    CHECK(!b.oom);
    struct sprof_cur c;
    sprof_cur_init(&c, b.data, b.len);
    char *s1 = NULL, *s2 = NULL, *s3 = NULL, *s4 = NULL;
    int r1 = sprof_get_strdup(&c, &s1);
    int r2 = sprof_get_strdup(&c, &s2);
    int r3 = sprof_get_strdup(&c, &s3);
    int r4 = sprof_get_strdup(&c, &s4);
    int ok = r1 == 0 && strcmp(s1, "hello") == 0 && r2 == 0 && s2[0] == 0 && r3 == 0 &&
             s3[0] == 0;
    free(s1);
    free(s2);
    free(s3);
    free(s4);
    sprof_buf_release(&b);
    CHECK(ok);
    CHECKF(r4 == -1, "a string with an embedded NUL must be rejected");
}

static void bytes_bounds(void)
{
    /* a length longer than what remains */
    static const uint8_t short_[] = {0x05, 'a', 'b'};
    struct sprof_cur c;
    const uint8_t *p;
    size_t n;
    sprof_cur_init(&c, short_, sizeof(short_));
    CHECK(sprof_get_bytes(&c, &p, &n) == -1);
    /* a huge length must not wrap around the pointer arithmetic */
    static const uint8_t huge[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 'x'};
    sprof_cur_init(&c, huge, sizeof(huge));
    CHECK(sprof_get_bytes(&c, &p, &n) == -1);
    char *s = NULL;
    sprof_cur_init(&c, huge, sizeof(huge));
    CHECK(sprof_get_strdup(&c, &s) == -1 && s == NULL);
    /* exactly what remains is fine */
    static const uint8_t exact[] = {0x02, 'o', 'k'};
    sprof_cur_init(&c, exact, sizeof(exact));
    CHECK(sprof_get_bytes(&c, &p, &n) == 0 && n == 2 && memcmp(p, "ok", 2) == 0 &&
          sprof_cur_left(&c) == 0);
}

static void record_framing(void)
{
    struct sprof_buf out, body;
    sprof_buf_init(&out);
    sprof_buf_init(&body);
    /* three records: a known type, an unknown one, an empty one */
    sprof_buf_put_uvarint(&body, 4242);
    sprof_buf_put_str(&body, "name");
    sprof_buf_put_record(&out, 3, &body);
    sprof_buf_reset(&body);
    for (int i = 0; i < 300; i++) sprof_buf_put_u8(&body, (uint8_t)i);
    sprof_buf_put_record(&out, 999, &body);
    sprof_buf_reset(&body);
    sprof_buf_put_record(&out, 11, &body);
    CHECK(!out.oom);

    struct sprof_cur c, b;
    unsigned type = 0;
    uint64_t v = 0;
    char *s = NULL;
    sprof_cur_init(&c, out.data, out.len);
    int r1 = sprof_get_record(&c, &type, &b);
    int ok1 = r1 == 0 && type == 3 && sprof_get_uvarint(&b, &v) == 0 && v == 4242 &&
              sprof_get_strdup(&b, &s) == 0 && strcmp(s, "name") == 0 && sprof_cur_left(&b) == 0;
    free(s);
    /* a reader that does not know type 999 skips its body whole */
    int r2 = sprof_get_record(&c, &type, &b);
    int ok2 = r2 == 0 && type == 999 && sprof_cur_left(&b) == 300 && b.p[299] == (uint8_t)299;
    int r3 = sprof_get_record(&c, &type, &b);
    int ok3 = r3 == 0 && type == 11 && sprof_cur_left(&b) == 0 && sprof_cur_left(&c) == 0;
    int r4 = sprof_get_record(&c, &type, &b);
    sprof_buf_release(&out);
    sprof_buf_release(&body);
    CHECKF(ok1, "first record");
    CHECKF(ok2, "unknown record skipped as a whole");
    CHECKF(ok3, "empty record at the end");
    CHECKF(r4 == -1, "no record past the end");
}

static void record_malformed(void)
{
    struct sprof_cur c, b;
    unsigned type;
    /* body length past the end */
    static const uint8_t past[] = {0x03, 0x10, 'a', 'b'};
    sprof_cur_init(&c, past, sizeof(past));
    CHECK(sprof_get_record(&c, &type, &b) == -1);
    /* a type that does not fit in 32 bits */
    static const uint8_t bigtype[] = {0x80, 0x80, 0x80, 0x80, 0x10, 0x00};
    sprof_cur_init(&c, bigtype, sizeof(bigtype));
    CHECK(sprof_get_record(&c, &type, &b) == -1);
    /* truncated in the type, truncated in the length */
    static const uint8_t t1[] = {0x83};
    static const uint8_t t2[] = {0x03, 0x81};
    sprof_cur_init(&c, t1, sizeof(t1));
    CHECK(sprof_get_record(&c, &type, &b) == -1);
    sprof_cur_init(&c, t2, sizeof(t2));
    CHECK(sprof_get_record(&c, &type, &b) == -1);
    /* every prefix of a valid record stream decodes whole records only */
    struct sprof_buf out, body;
    sprof_buf_init(&out);
    sprof_buf_init(&body);
    for (int i = 0; i < 20; i++) {
        sprof_buf_reset(&body);
        for (int k = 0; k < i * 13; k++) sprof_buf_put_uvarint(&body, (uint64_t)k * 977);
        sprof_buf_put_record(&out, (unsigned)(1 + i % 11), &body);
    }
    int bad = -1;
    for (size_t n = 0; n <= out.len && bad < 0; n++) {
        sprof_cur_init(&c, out.data, n);
        while (sprof_cur_left(&c) && sprof_get_record(&c, &type, &b) == 0) {
            if (b.end > out.data + n || b.p < out.data) bad = (int)n;
        }
        if (c.p > out.data + n) bad = (int)n;
    }
    sprof_buf_release(&out);
    sprof_buf_release(&body);
    CHECKF(bad < 0, "prefix of %d bytes decoded past its end", bad);
}

static void buf_growth(void)
{
    struct sprof_buf b;
    sprof_buf_init(&b);
    for (int i = 0; i < 100000; i++) sprof_buf_put_le32(&b, (uint32_t)i);
    int ok = !b.oom && b.len == 400000 && b.cap >= b.len && sprof_le32(b.data + 4 * 77777) == 77777;
    sprof_buf_reset(&b);
    ok = ok && b.len == 0 && b.cap >= 400000;
    sprof_buf_release(&b);
    ok = ok && b.data == NULL && b.len == 0;
    sprof_buf_release(&b); /* a released buffer may be released again */
    CHECK(ok);
}

static long minor_faults(void)
{
    struct rusage u;
    return getrusage(RUSAGE_SELF, &u) == 0 ? u.ru_minflt : -1;
}

/* sprof_zalloc's memory is zeroed, and its pages are there to be written:
 * probed (read) and then written, they take no page fault, where calloc's
 * fresh pages take two each (the zero page, then its copy) */
static void zalloc_pages(void)
{
    CHECK(sprof_zalloc(SIZE_MAX / 2, 4) == NULL);
    size_t pages = 256;
    volatile uint8_t *p = sprof_zalloc(pages, 4096);
    CHECK(p != NULL);
    long before = minor_faults();
    unsigned sum = 0;
    for (size_t i = 0; i < pages * 4096; i += 512) {
        sum += p[i] + p[i + 511];
        p[i] = 1;
    }
    long faults = minor_faults() - before;
    free((void *)p);
    CHECKF(sum == 0, "not zeroed");
#if !defined(__SANITIZE_THREAD__)
    /* (ThreadSanitizer's shadow of each page takes faults of its own) */
    CHECKF(before >= 0 && faults < (long)pages / 2, "%ld page faults for %zu pages", faults, pages);
#else
    (void)faults;
#endif
}

int main(void)
{
    unit_prefix = "unit/varint";
    RUN(uvarint_edges);
    RUN(uvarint_exact_bytes);
    RUN(uvarint_random);
    RUN(uvarint_sequence);
    RUN(svarint_zigzag);
    RUN(svarint_random);
    RUN(uvarint_malformed);
    RUN(u32_limits);
    RUN(le_fixed);
    RUN(strings);
    RUN(bytes_bounds);
    RUN(record_framing);
    RUN(record_malformed);
    RUN(buf_growth);
    RUN(zalloc_pages);
    return unit_done();
}
