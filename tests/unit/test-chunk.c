/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for common/chunk.[ch]: the file header, chunk encoding, and the
 * reader's verification and salvage: damaged chunks are skipped and the
 * following ones still read, a truncated tail is salvaged, a file cut at
 * every byte offset or with any one byte flipped never crashes the reader,
 * and wrong magic, newer versions and unknown flags are rejected with a
 * message naming the file.
 */
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "buf.h"
#include "chunk.h"
#include "crc32c.h"
#include "format.h"
#include "log.h"
#include "unit.h"

#define NCHUNKS 5

/* A file made of a header and NCHUNKS chunks of records, and where each
 * chunk starts. */
struct file {
    struct sprof_buf data;
    size_t chunk_off[NCHUNKS + 1]; /* [NCHUNKS] = end of file */
    struct sprof_buf payload[NCHUNKS];
};

static void payload_for(struct sprof_buf *p, int k)
{
    struct sprof_buf body;
    sprof_buf_init(&body);
    for (int r = 0; r < 10 + 7 * k; r++) {
        sprof_buf_reset(&body);
        sprof_buf_put_uvarint(&body, (uint64_t)k);
        sprof_buf_put_uvarint(&body, (uint64_t)r * 1000003u);
        sprof_buf_put_str(&body, k % 2 ? "a thread name" : "/usr/lib/libexample.so");
        sprof_buf_put_svarint(&body, -(int64_t)r * 4096);
        sprof_buf_put_record(p, (unsigned)(1 + (r + k) % 11), &body);
    }
    sprof_buf_release(&body);
}

static int make_file(struct file *f, uint32_t version, uint32_t flags)
{
    memset(f, 0, sizeof(*f));
    struct sprof_file_header h = {(uint16_t)version, SPROF_FILE_HEADER_SIZE, flags,
                                  0x0123456789abcdefull, 4321};
    sprof_file_header_put(&f->data, &h);
    struct sprof_chunk_encoder e;
    sprof_chunk_encoder_init(&e, &sprof_zstd_linked, 3, 0);
    char err[256];
    for (int k = 0; k < NCHUNKS; k++) {
        payload_for(&f->payload[k], k);
        f->chunk_off[k] = f->data.len;
        if (sprof_chunk_encode(&e, (uint32_t)k, f->payload[k].data, f->payload[k].len, &f->data,
                               err, sizeof(err))) {
            printf("# encode: %s\n", err);
            sprof_chunk_encoder_release(&e);
            return -1;
        }
    }
    f->chunk_off[NCHUNKS] = f->data.len;
    sprof_chunk_encoder_release(&e);
    return f->data.oom ? -1 : 0;
}

static void free_file(struct file *f)
{
    sprof_buf_release(&f->data);
    for (int k = 0; k < NCHUNKS; k++) sprof_buf_release(&f->payload[k]);
}

/* Which original chunk has this payload? -1 if none. */
static int which_payload(const struct file *f, const struct sprof_cur *c)
{
    for (int k = 0; k < NCHUNKS; k++)
        if (sprof_cur_left(c) == f->payload[k].len &&
            memcmp(c->p, f->payload[k].data, f->payload[k].len) == 0)
            return k;
    return -1;
}

/* Reads data[0..n) and stores the index of each chunk read in got[].
 * Returns the number of chunks, -1 if the open failed, -2 if a payload
 * matched no original chunk, -3 if the reader did not stop. */
static int read_all(const struct file *f, const uint8_t *data, size_t n, int *got,
                    struct sprof_reader *r)
{
    if (sprof_reader_open_mem(r, "test.bin", data, n)) return -1;
    struct sprof_cur c;
    int m = 0;
    while (sprof_reader_next(r, &c) == 1) {
        if (m >= 64) {
            sprof_reader_close(r);
            return -3;
        }
        int k = which_payload(f, &c);
        if (k < 0) {
            sprof_reader_close(r);
            return -2;
        }
        got[m++] = k;
    }
    sprof_reader_close(r);
    return m;
}

/* Captures what is written to stderr while reading. */
static char captured[8192];
static int saved_fd = -1;
static FILE *capture_file;

static void capture_begin(void)
{
    fflush(stderr);
    capture_file = tmpfile();
    saved_fd = dup(2);
    dup2(fileno(capture_file), 2);
}

static void capture_end(void)
{
    fflush(stderr);
    dup2(saved_fd, 2);
    close(saved_fd);
    long n = ftell(capture_file);
    (void)n;
    rewind(capture_file);
    size_t got = fread(captured, 1, sizeof(captured) - 1, capture_file);
    captured[got] = 0;
    fclose(capture_file);
}

/* ---- tests ---- */

static void header_layout(void)
{
    struct sprof_buf b;
    sprof_buf_init(&b);
    struct sprof_file_header h = {SPROF_VERSION, SPROF_FILE_HEADER_SIZE, 0, 0x1122334455667788ull,
                                  0xa1b2c3d4u};
    sprof_file_header_put(&b, &h);
    int ok = b.len == SPROF_FILE_HEADER_SIZE && memcmp(b.data, "\x89SPROF\r\n", 8) == 0 &&
             sprof_le16(b.data + 8) == SPROF_VERSION &&
             sprof_le16(b.data + 10) == SPROF_FILE_HEADER_SIZE && sprof_le32(b.data + 12) == 0 &&
             sprof_le64(b.data + 16) == 0x1122334455667788ull &&
             sprof_le32(b.data + 24) == 0xa1b2c3d4u && sprof_le32(b.data + 28) == 0;
    sprof_buf_release(&b);
    CHECK(ok);
}

static void chunk_layout(void)
{
    struct file f;
    CHECK(make_file(&f, SPROF_VERSION, 0) == 0);
    const uint8_t *h = f.data.data + f.chunk_off[2];
    uint32_t stored = sprof_le32(h + 8);
    int ok = sprof_le32(h) == SPROF_CHUNK_MAGIC && memcmp(h, "SPCK", 4) == 0 &&
             sprof_le32(h + 4) == SPROF_CODEC_ZSTD && sprof_le32(h + 12) == f.payload[2].len &&
             sprof_le32(h + 16) == 2 &&
             f.chunk_off[2] + SPROF_CHUNK_HEADER_SIZE + stored == f.chunk_off[3] &&
             sprof_le32(h + 20) ==
                 sprof_crc32c(sprof_crc32c(0, h, 20), h + SPROF_CHUNK_HEADER_SIZE, stored);
    free_file(&f);
    CHECK(ok);
}

static void roundtrip(void)
{
    struct file f;
    CHECK(make_file(&f, SPROF_VERSION, 0) == 0);
    struct sprof_reader r;
    int got[64];
    int n = read_all(&f, f.data.data, f.data.len, got, &r);
    int ok = n == NCHUNKS;
    for (int k = 0; ok && k < NCHUNKS; k++) ok = got[k] == k;
    ok = ok && r.chunks_ok == NCHUNKS && r.chunks_bad == 0 && !r.truncated &&
         r.bytes_skipped == 0 && r.hdr.version == SPROF_VERSION &&
         r.hdr.session == 0x0123456789abcdefull && r.hdr.pid == 4321;
    free_file(&f);
    CHECKF(ok, "read %d chunks", n);
}

static void roundtrip_records(void)
{
    /* The payload read back decodes into the same records. */
    struct file f;
    CHECK(make_file(&f, SPROF_VERSION, 0) == 0);
    struct sprof_reader r;
    CHECK(sprof_reader_open_mem(&r, "t.bin", f.data.data, f.data.len) == 0);
    struct sprof_cur c;
    int chunk = 0, records = 0, bad = 0;
    while (sprof_reader_next(&r, &c) == 1) {
        unsigned type;
        struct sprof_cur body;
        int rec = 0;
        while (sprof_cur_left(&c)) {
            if (sprof_get_record(&c, &type, &body)) {
                bad++;
                break;
            }
            uint64_t k, v;
            int64_t s;
            char *str = NULL;
            if (type != (unsigned)(1 + (rec + chunk) % 11) || sprof_get_uvarint(&body, &k) ||
                k != (uint64_t)chunk || sprof_get_uvarint(&body, &v) ||
                v != (uint64_t)rec * 1000003u || sprof_get_strdup(&body, &str) ||
                sprof_get_svarint(&body, &s) || s != -(int64_t)rec * 4096 ||
                sprof_cur_left(&body) != 0)
                bad++;
            free(str);
            rec++;
            records++;
        }
        chunk++;
    }
    sprof_reader_close(&r);
    int want = 0;
    for (int k = 0; k < NCHUNKS; k++) want += 10 + 7 * k;
    free_file(&f);
    CHECKF(chunk == NCHUNKS && records == want && bad == 0, "%d chunks, %d records, %d bad",
           chunk, records, bad);
}

static void empty_and_large_payloads(void)
{
    struct sprof_buf out, big;
    sprof_buf_init(&out);
    sprof_buf_init(&big);
    struct sprof_file_header h = {SPROF_VERSION, SPROF_FILE_HEADER_SIZE, 0, 1, 2};
    sprof_file_header_put(&out, &h);
    struct sprof_chunk_encoder e;
    sprof_chunk_encoder_init(&e, &sprof_zstd_linked, 1, 0);
    char err[256];
    unsigned long long s = 7;
    for (int i = 0; i < (4 << 20) / 8; i++) sprof_buf_put_le64(&big, unit_rand(&s) & 0x0f0f0f0f);
    int r1 = sprof_chunk_encode(&e, 0, "", 0, &out, err, sizeof(err));
    int r2 = sprof_chunk_encode(&e, 1, big.data, big.len, &out, err, sizeof(err));
    sprof_chunk_encoder_release(&e);
    struct sprof_reader r;
    int ok = r1 == 0 && r2 == 0 && sprof_reader_open_mem(&r, "t.bin", out.data, out.len) == 0;
    struct sprof_cur c;
    int n1 = ok ? sprof_reader_next(&r, &c) : -1;
    size_t len1 = n1 == 1 ? sprof_cur_left(&c) : 99;
    int n2 = ok ? sprof_reader_next(&r, &c) : -1;
    int same = n2 == 1 && sprof_cur_left(&c) == big.len && memcmp(c.p, big.data, big.len) == 0;
    int n3 = ok ? sprof_reader_next(&r, &c) : -1;
    if (ok) sprof_reader_close(&r);
    sprof_buf_release(&out);
    sprof_buf_release(&big);
    CHECKF(ok, "encode or open failed: %s", err);
    CHECKF(n1 == 1 && len1 == 0, "empty chunk: next=%d len=%zu", n1, len1);
    CHECKF(same, "4 MiB chunk differs after the round trip");
    CHECK(n3 == 0);
}

/* The encoder's compressor keeps its hash and chain tables at
 * SPROF_ZSTD_TABLE_LOG: on a 1 MiB chunk, where zstd's level (level 3:
 * 2^17 and 2^16 entries, 768 KiB; level 5 more) sizes them by the chunk,
 * it holds 512 KiB less than a compressor left at the level's sizes, and
 * the chunk still reads back. */
static void compressor_tables_capped(void)
{
    struct sprof_buf out, big;
    sprof_buf_init(&out);
    sprof_buf_init(&big);
    unsigned long long s = 11;
    for (int i = 0; i < (1 << 20) / 4; i++) sprof_buf_put_le32(&big, unit_rand(&s) % 5000);
    struct sprof_file_header h = {SPROF_VERSION, SPROF_FILE_HEADER_SIZE, 0, 1, 2};
    sprof_file_header_put(&out, &h);
    struct sprof_chunk_encoder e;
    sprof_chunk_encoder_init(&e, &sprof_zstd_linked, SPROF_ZSTD_LEVEL, 0);
    char err[256] = "";
    int r = sprof_chunk_encode(&e, 0, big.data, big.len, &out, err, sizeof(err));
    size_t capped = e.cctx ? ZSTD_sizeof_CCtx(e.cctx) : 0;
    ZSTD_CCtx *plain = ZSTD_createCCtx();
    size_t cap = ZSTD_compressBound(big.len);
    void *dst = malloc(cap);
    size_t n =
        plain && dst ? ZSTD_compressCCtx(plain, dst, cap, big.data, big.len, SPROF_ZSTD_LEVEL) : 0;
    size_t full = plain ? ZSTD_sizeof_CCtx(plain) : 0;
    struct sprof_reader rd;
    int ok = r == 0 && sprof_reader_open_mem(&rd, "t.bin", out.data, out.len) == 0;
    struct sprof_cur c;
    int same = ok && sprof_reader_next(&rd, &c) == 1 && sprof_cur_left(&c) == big.len &&
               memcmp(c.p, big.data, big.len) == 0;
    if (ok) sprof_reader_close(&rd);
    sprof_chunk_encoder_release(&e);
    ZSTD_freeCCtx(plain);
    free(dst);
    sprof_buf_release(&out);
    sprof_buf_release(&big);
    CHECKF(r == 0 && !ZSTD_isError(n), "encode failed: %s", err);
    CHECKF(same, "the chunk differs after the round trip");
    CHECKF(capped && capped + (512u << 10) <= full, "compressor of %zu bytes, the level alone %zu",
           capped, full);
}

/* The chunks of the file out holds read back as want[0..n), all intact. */
static void expect_payloads(const struct sprof_buf *out, const struct sprof_buf *const *want, int n)
{
    struct sprof_reader rd;
    CHECK(sprof_reader_open_mem(&rd, "t.bin", out->data, out->len) == 0);
    struct sprof_cur c;
    for (int k = 0; k < n; k++) {
        int r = sprof_reader_next(&rd, &c);
        CHECKF(r == 1 && sprof_cur_left(&c) == want[k]->len &&
                   memcmp(c.p, want[k]->data, want[k]->len) == 0,
               "chunk %d did not read back", k);
    }
    CHECK(sprof_reader_next(&rd, &c) == 0);
    CHECK(rd.chunks_ok == (uint64_t)n && rd.chunks_bad == 0);
    sprof_reader_close(&rd);
}

/* The compressor's size after it compressed raw[0..n) (a fresh encoder
 * with last as given), and the chunk appended to out. */
static size_t compressor_size(const struct sprof_buf *raw, int last, struct sprof_buf *out)
{
    struct sprof_chunk_encoder e;
    sprof_chunk_encoder_init(&e, &sprof_zstd_linked, SPROF_ZSTD_LEVEL, 0);
    e.last = last;
    char err[256] = "";
    int r = sprof_chunk_encode(&e, 0, raw->data, raw->len, out, err, sizeof(err));
    CHECKF(r == 0, "encode failed: %s", err);
    size_t size = r == 0 && e.cctx ? ZSTD_sizeof_CCtx(e.cctx) : 0;
    sprof_chunk_encoder_release(&e);
    return size;
}

/* A last chunk under SPROF_ZSTD_QUICK_MAX from an encoder that has not
 * compressed yet gets a compressor with smaller tables, and reads back;
 * the same encoder's next chunk that is not the last is compressed at the
 * level again; a last chunk of an encoder already at its level, or one of
 * SPROF_ZSTD_QUICK_MAX bytes, keeps the level. */
static void quick_last_chunk(void)
{
    struct sprof_buf out, small, big;
    sprof_buf_init(&out);
    sprof_buf_init(&small);
    sprof_buf_init(&big);
    unsigned long long s = 3;
    while (small.len < 6000)
        sprof_buf_put_uvarint(&small, unit_rand(&s) % 300);
    while (big.len < SPROF_ZSTD_QUICK_MAX)
        sprof_buf_put_uvarint(&big, unit_rand(&s) % 300);
    struct sprof_file_header h = {SPROF_VERSION, SPROF_FILE_HEADER_SIZE, 0, 1, 2};
    sprof_file_header_put(&out, &h);
    size_t full = compressor_size(&small, 0, &out);
    size_t quick = compressor_size(&small, 1, &out);
    size_t big_full = compressor_size(&big, 0, &out);
    size_t big_last = compressor_size(&big, 1, &out);
    CHECKF(quick && quick < full, "a last chunk's compressor %zu bytes, the level's %zu", quick,
           full);
    CHECKF(big_last == big_full, "a last chunk of %zu bytes: compressor %zu bytes, the level's %zu",
           big.len, big_last, big_full);

    struct sprof_chunk_encoder e;
    sprof_chunk_encoder_init(&e, &sprof_zstd_linked, SPROF_ZSTD_LEVEL, 0);
    char err[256] = "";
    size_t size[3] = {0, 0, 0};
    int r = 0;
    for (int k = 0; k < 3; k++) {
        e.last = k != 1; /* quick, then at the level, then last again */
        r |= sprof_chunk_encode(&e, (uint32_t)(4 + k), small.data, small.len, &out, err,
                                sizeof(err));
        size[k] = e.cctx ? ZSTD_sizeof_CCtx(e.cctx) : 0;
    }
    sprof_chunk_encoder_release(&e);
    CHECKF(r == 0, "encode failed: %s", err);
    CHECKF(size[0] == quick && size[1] == full && size[2] == full,
           "one encoder's compressor: %zu, %zu, %zu bytes (quick %zu, the level's %zu)", size[0],
           size[1], size[2], quick, full);

    const struct sprof_buf *want[7] = {&small, &small, &big, &big, &small, &small, &small};
    expect_payloads(&out, want, 7);
    sprof_buf_release(&out);
    sprof_buf_release(&small);
    sprof_buf_release(&big);
}

/* An encoder with a minimum size stores smaller chunks as they are
 * (SPROF_CODEC_NONE) and compresses the others, but stores one that
 * compression would not shrink; one without libzstd stores all; the reader
 * gets every payload back. */
static void stored_and_compressed(void)
{
    struct sprof_buf out, small, big, noise;
    sprof_buf_init(&out);
    sprof_buf_init(&small);
    sprof_buf_init(&big);
    sprof_buf_init(&noise);
    unsigned long long rnd = 5;
    for (int i = 0; i < 400; i++)
        sprof_buf_put_le64(&noise, unit_rand(&rnd));
    struct sprof_file_header h = {SPROF_VERSION, SPROF_FILE_HEADER_SIZE, 0, 1, 2};
    sprof_file_header_put(&out, &h);
    for (int i = 0; i < 100; i++) sprof_buf_put_le32(&small, (uint32_t)i);
    for (int i = 0; i < 4096; i++) sprof_buf_put_le32(&big, (uint32_t)(i % 7));
    struct sprof_chunk_encoder e, none;
    sprof_chunk_encoder_init(&e, &sprof_zstd_linked, 3, 1024);
    sprof_chunk_encoder_init(&none, NULL, 3, 0);
    char err[256] = "";
    size_t off[5];
    int r = 0;
    off[0] = out.len;
    r |= sprof_chunk_encode(&e, 0, small.data, small.len, &out, err, sizeof(err));
    off[1] = out.len;
    r |= sprof_chunk_encode(&e, 1, big.data, big.len, &out, err, sizeof(err));
    off[2] = out.len;
    r |= sprof_chunk_encode(&none, 2, big.data, big.len, &out, err, sizeof(err));
    off[3] = out.len;
    r |= sprof_chunk_encode(&e, 3, noise.data, noise.len, &out, err, sizeof(err));
    off[4] = out.len;
    sprof_chunk_encoder_release(&e);
    sprof_chunk_encoder_release(&none);
    CHECKF(r == 0, "encode failed: %s", err);
    uint32_t codec[4], stored[4];
    for (int k = 0; k < 4; k++) {
        codec[k] = sprof_le32(out.data + off[k] + 4);
        stored[k] = sprof_le32(out.data + off[k] + 8);
    }
    CHECKF(codec[0] == SPROF_CODEC_NONE && stored[0] == small.len, "small chunk: codec %u, %u bytes",
           codec[0], stored[0]);
    CHECKF(codec[1] == SPROF_CODEC_ZSTD && stored[1] < big.len / 10,
           "large chunk: codec %u, %u bytes of %zu", codec[1], stored[1], big.len);
    CHECKF(codec[2] == SPROF_CODEC_NONE && stored[2] == big.len, "no libzstd: codec %u, %u bytes",
           codec[2], stored[2]);
    CHECKF(codec[3] == SPROF_CODEC_NONE && stored[3] == noise.len,
           "random bytes: codec %u, %u bytes of %zu", codec[3], stored[3], noise.len);
    const struct sprof_buf *want[4] = {&small, &big, &big, &noise};
    expect_payloads(&out, want, 4);
    sprof_buf_release(&out);
    sprof_buf_release(&small);
    sprof_buf_release(&big);
    sprof_buf_release(&noise);
}

static void uncompressed_chunk(void)
{
    /* A CODEC_NONE chunk made by hand is read like a compressed one. */
    struct sprof_buf out;
    sprof_buf_init(&out);
    struct sprof_file_header h = {SPROF_VERSION, SPROF_FILE_HEADER_SIZE, 0, 1, 2};
    sprof_file_header_put(&out, &h);
    static const char payload[] = "\x0b\x03\x00\x01\x00"; /* END record, 3 bytes */
    size_t n = sizeof(payload) - 1;
    size_t at = out.len;
    sprof_buf_put_le32(&out, SPROF_CHUNK_MAGIC);
    sprof_buf_put_le32(&out, SPROF_CODEC_NONE);
    sprof_buf_put_le32(&out, (uint32_t)n);
    sprof_buf_put_le32(&out, (uint32_t)n);
    sprof_buf_put_le32(&out, 0);
    sprof_buf_put(&out, payload, n);
    uint32_t crc = sprof_crc32c(sprof_crc32c(0, out.data + at, 20), payload, n);
    /* the crc goes between the header and the payload */
    struct sprof_buf fixed;
    sprof_buf_init(&fixed);
    sprof_buf_put(&fixed, out.data, at + 20);
    sprof_buf_put_le32(&fixed, crc);
    sprof_buf_put(&fixed, payload, n);
    sprof_buf_release(&out);
    struct sprof_reader r;
    int ok = sprof_reader_open_mem(&r, "t.bin", fixed.data, fixed.len) == 0;
    struct sprof_cur c;
    int n1 = ok ? sprof_reader_next(&r, &c) : -1;
    int same = n1 == 1 && sprof_cur_left(&c) == n && memcmp(c.p, payload, n) == 0;
    if (ok) sprof_reader_close(&r);
    sprof_buf_release(&fixed);
    CHECK(ok);
    CHECK(same);
}

/* Damage in chunk 2 of 5: chunks 0, 1, 3, 4 are still read. */
static int damaged_middle(size_t byte_in_chunk, uint8_t xor, int *skipped_ok)
{
    struct file f;
    if (make_file(&f, SPROF_VERSION, 0)) return -100;
    size_t at = f.chunk_off[2] + byte_in_chunk;
    if (at >= f.chunk_off[3]) at = f.chunk_off[3] - 1;
    f.data.data[at] ^= xor;
    struct sprof_reader r;
    int got[64];
    int n = read_all(&f, f.data.data, f.data.len, got, &r);
    int ok = n == NCHUNKS - 1 && got[0] == 0 && got[1] == 1 && got[2] == 3 && got[3] == 4;
    *skipped_ok = r.chunks_bad >= 1 && r.bytes_skipped > 0 && !r.truncated;
    free_file(&f);
    return ok ? 0 : n;
}

static void damaged_payload_skipped(void)
{
    sprof_log_set_quiet(1);
    int sk = 0;
    int r = damaged_middle(SPROF_CHUNK_HEADER_SIZE + 5, 0x40, &sk);
    sprof_log_set_quiet(0);
    CHECKF(r == 0, "got %d chunks", r);
    CHECKF(sk, "the damaged chunk is counted as bad and skipped, not as truncation");
}

static void damaged_header_fields_skipped(void)
{
    /* magic, codec, stored size (small and huge), raw size, seq, crc */
    static const struct {
        size_t byte;
        uint8_t xor;
    } cases[] = {{0, 0x01}, {4, 0x07}, {8, 0x01}, {11, 0x80}, {12, 0x01},
                 {15, 0x10}, {16, 0x01}, {20, 0x01}, {23, 0x80}};
    sprof_log_set_quiet(1);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int sk = 0;
        int r = damaged_middle(cases[i].byte, cases[i].xor, &sk);
        if (r != 0 || !sk) sprof_log_set_quiet(0);
        CHECKF(r == 0, "header byte %zu ^ 0x%02x: got %d chunks", cases[i].byte, cases[i].xor, r);
        CHECKF(sk, "header byte %zu: not counted as a bad chunk", cases[i].byte);
    }
    sprof_log_set_quiet(0);
}

static void damage_warning_names_file(void)
{
    struct file f;
    CHECK(make_file(&f, SPROF_VERSION, 0) == 0);
    f.data.data[f.chunk_off[1] + SPROF_CHUNK_HEADER_SIZE + 3] ^= 0xff;
    struct sprof_reader r;
    int got[64];
    sprof_log_set_prefix("test");
    capture_begin();
    int n = read_all(&f, f.data.data, f.data.len, got, &r);
    capture_end();
    free_file(&f);
    CHECKF(n == NCHUNKS - 1, "got %d chunks", n);
    CHECKF(strstr(captured, "test.bin") != NULL, "warning: [%s]", captured);
    CHECKF(strstr(captured, "warning") != NULL, "warning: [%s]", captured);
}

static void truncated_tail_salvaged(void)
{
    struct file f;
    CHECK(make_file(&f, SPROF_VERSION, 0) == 0);
    struct sprof_reader r;
    int got[64];
    sprof_log_set_quiet(1);
    /* cut in the middle of the last chunk's payload */
    size_t cut = f.chunk_off[NCHUNKS - 1] + SPROF_CHUNK_HEADER_SIZE + 3;
    int n = read_all(&f, f.data.data, cut, got, &r);
    int trunc1 = r.truncated, bad1 = (int)r.chunks_bad;
    /* cut inside the last chunk's header */
    size_t cut2 = f.chunk_off[NCHUNKS - 1] + 10;
    int n2 = read_all(&f, f.data.data, cut2, got, &r);
    int trunc2 = r.truncated;
    sprof_log_set_quiet(0);
    free_file(&f);
    CHECKF(n == NCHUNKS - 1, "cut in the payload: got %d chunks", n);
    CHECKF(trunc1 && bad1 == 0, "cut in the payload: truncated=%d bad=%d", trunc1, bad1);
    CHECKF(n2 == NCHUNKS - 1, "cut in the header: got %d chunks", n2);
    CHECK(trunc2);
}

static void truncated_every_offset(void)
{
    /* Cutting the file at any byte yields exactly the chunks that are
     * complete before the cut, never a crash or a wrong payload. */
    struct file f;
    CHECK(make_file(&f, SPROF_VERSION, 0) == 0);
    sprof_log_set_quiet(1);
    int bad_at = -1, got_n = 0, want_n = 0;
    for (size_t n = 0; n <= f.data.len && bad_at < 0; n++) {
        uint8_t *copy = malloc(n ? n : 1); /* exactly n bytes: ASan sees overreads */
        memcpy(copy, f.data.data, n);
        struct sprof_reader r;
        int got[64];
        int m = read_all(&f, copy, n, got, &r);
        int want = 0;
        while (want < NCHUNKS && f.chunk_off[want + 1] <= n) want++;
        if (n < SPROF_FILE_HEADER_SIZE) want = -1;
        if (m != want) {
            bad_at = (int)n;
            got_n = m;
            want_n = want;
        }
        for (int k = 0; k < m && bad_at < 0; k++)
            if (got[k] != k) bad_at = (int)n;
        free(copy);
    }
    sprof_log_set_quiet(0);
    free_file(&f);
    CHECKF(bad_at < 0, "cut at %d: got %d chunks, want %d", bad_at, got_n, want_n);
}

static void flipped_every_byte(void)
{
    /* Any single damaged byte after the header: the reader ends, every
     * payload it returns is an original one, and at most one chunk is lost
     * (a damaged length may hide a later chunk until resynchronization,
     * but the resync scan finds it). */
    struct file f;
    CHECK(make_file(&f, SPROF_VERSION, 0) == 0);
    sprof_log_set_quiet(1);
    int bad_at = -1, bad_n = 0;
    uint8_t *copy = malloc(f.data.len);
    for (size_t i = SPROF_FILE_HEADER_SIZE; i < f.data.len && bad_at < 0; i++) {
        for (int bit = 0; bit < 8 && bad_at < 0; bit += 3) {
            memcpy(copy, f.data.data, f.data.len);
            copy[i] ^= (uint8_t)(1u << bit);
            struct sprof_reader r;
            int got[64];
            int m = read_all(&f, copy, f.data.len, got, &r);
            if (m < NCHUNKS - 1) {
                bad_at = (int)i;
                bad_n = m;
            }
        }
    }
    free(copy);
    sprof_log_set_quiet(0);
    free_file(&f);
    CHECKF(bad_at < 0, "flip at byte %d: got %d (-2: a payload that is not an original)", bad_at,
           bad_n);
}

static void garbage_never_crashes(void)
{
    /* A valid header followed by random bytes, some with planted chunk
     * magics and huge sizes: the reader ends without crashing. */
    unsigned long long s = 99;
    sprof_log_set_quiet(1);
    int loops = 0;
    for (int iter = 0; iter < 300; iter++) {
        size_t n = SPROF_FILE_HEADER_SIZE + (size_t)(unit_rand(&s) % 3000);
        uint8_t *d = malloc(n);
        struct sprof_buf hb;
        sprof_buf_init(&hb);
        struct sprof_file_header h = {SPROF_VERSION, SPROF_FILE_HEADER_SIZE, 0, 1, 2};
        sprof_file_header_put(&hb, &h);
        memcpy(d, hb.data, SPROF_FILE_HEADER_SIZE);
        sprof_buf_release(&hb);
        for (size_t i = SPROF_FILE_HEADER_SIZE; i < n; i++) d[i] = (uint8_t)unit_rand(&s);
        for (int k = 0; k < 8; k++) {
            size_t at = SPROF_FILE_HEADER_SIZE + (size_t)(unit_rand(&s) % (n - 32 + 1));
            if (at + 24 <= n) {
                memcpy(d + at, "SPCK", 4);
                d[at + 4] = (uint8_t)(unit_rand(&s) % 2);
                d[at + 5] = d[at + 6] = d[at + 7] = 0;
                if (k % 2) memset(d + at + 8, 0xff, 8);
            }
        }
        struct sprof_reader r;
        struct sprof_cur c;
        if (sprof_reader_open_mem(&r, "g.bin", d, n) == 0) {
            int m = 0;
            while (sprof_reader_next(&r, &c) == 1 && m < 1000) m++;
            if (m >= 1000) loops++;
            sprof_reader_close(&r);
        }
        free(d);
    }
    sprof_log_set_quiet(0);
    CHECKF(loops == 0, "the reader did not stop %d times", loops);
}

static void expect_open_error(const uint8_t *d, size_t n, const char *name, const char *words,
                              int *ok, char *msg, size_t msglen)
{
    struct sprof_reader r;
    int rc = sprof_reader_open_mem(&r, name, d, n);
    snprintf(msg, msglen, "%s", r.err);
    *ok = rc == -1 && strstr(r.err, name) != NULL && strstr(r.err, words) != NULL &&
          strchr(r.err, '\n') == NULL;
    if (rc == 0) sprof_reader_close(&r);
}

static void header_rejections(void)
{
    struct file f;
    CHECK(make_file(&f, SPROF_VERSION, 0) == 0);
    uint8_t *d = malloc(f.data.len);
    char msg[600];
    int ok;

    memcpy(d, f.data.data, f.data.len);
    d[1] = 'X';
    expect_open_error(d, f.data.len, "magic.bin", "not a sprof profile", &ok, msg, sizeof(msg));
    CHECKF(ok, "wrong magic: [%s]", msg);

    memcpy(d, f.data.data, f.data.len);
    d[8] = SPROF_VERSION + 1;
    expect_open_error(d, f.data.len, "newer.bin", "version", &ok, msg, sizeof(msg));
    CHECKF(ok, "newer version: [%s]", msg);
    d[8] = 0;
    d[9] = 1; /* 256 */
    expect_open_error(d, f.data.len, "v256.bin", "version", &ok, msg, sizeof(msg));
    CHECKF(ok, "version 256: [%s]", msg);
    d[9] = 0; /* version 0 does not exist */
    expect_open_error(d, f.data.len, "v0.bin", "version", &ok, msg, sizeof(msg));
    CHECKF(ok, "version 0: [%s]", msg);

    memcpy(d, f.data.data, f.data.len);
    /* the first bit not defined, with those defined */
    d[12] = (uint8_t)((SPROF_FLAGS_KNOWN + 1) | SPROF_FLAGS_KNOWN);
    CHECK((SPROF_FLAGS_KNOWN & (SPROF_FLAGS_KNOWN + 1)) == 0 && SPROF_FLAGS_KNOWN < 0x80);
    expect_open_error(d, f.data.len, "flags.bin", "flag", &ok, msg, sizeof(msg));
    CHECKF(ok, "unknown flag bit %d: [%s]", __builtin_ctz(SPROF_FLAGS_KNOWN + 1), msg);
    d[12] = 0;
    d[15] = 0x80;
    expect_open_error(d, f.data.len, "flags31.bin", "flag", &ok, msg, sizeof(msg));
    CHECKF(ok, "unknown flag bit 31: [%s]", msg);

    memcpy(d, f.data.data, f.data.len);
    d[10] = 16; /* header smaller than the fixed part */
    expect_open_error(d, f.data.len, "hsize.bin", "header", &ok, msg, sizeof(msg));
    CHECKF(ok, "header size 16: [%s]", msg);
    d[10] = 0xff;
    d[11] = 0xff; /* header larger than the file */
    expect_open_error(d, 100, "hsize2.bin", "header", &ok, msg, sizeof(msg));
    CHECKF(ok, "header size 65535: [%s]", msg);

    expect_open_error(f.data.data, 20, "short.bin", "header", &ok, msg, sizeof(msg));
    CHECKF(ok, "20-byte file: [%s]", msg);
    expect_open_error(f.data.data, 3, "tiny.bin", "not a sprof profile", &ok, msg, sizeof(msg));
    CHECKF(ok, "3-byte file: [%s]", msg);
    static const char text[] = "#!/bin/sh\necho this is not a profile at all\n";
    expect_open_error((const uint8_t *)text, sizeof(text) - 1, "text.txt", "not a sprof profile",
                      &ok, msg, sizeof(msg));
    CHECKF(ok, "text file: [%s]", msg);
    free(d);
    free_file(&f);
}

static void larger_header_accepted(void)
{
    /* A later minor revision may grow the header: readers skip what they
     * do not know and find the chunks after header_size bytes. */
    struct file f;
    CHECK(make_file(&f, SPROF_VERSION, 0) == 0);
    struct sprof_buf g;
    sprof_buf_init(&g);
    sprof_buf_put(&g, f.data.data, SPROF_FILE_HEADER_SIZE);
    g.data[10] = SPROF_FILE_HEADER_SIZE + 16;
    for (int i = 0; i < 16; i++) sprof_buf_put_u8(&g, (uint8_t)(0xa0 + i));
    sprof_buf_put(&g, f.data.data + SPROF_FILE_HEADER_SIZE, f.data.len - SPROF_FILE_HEADER_SIZE);
    struct sprof_reader r;
    int got[64];
    int n = read_all(&f, g.data, g.len, got, &r);
    sprof_buf_release(&g);
    free_file(&f);
    CHECKF(n == NCHUNKS, "got %d chunks", n);
    CHECK(r.chunks_bad == 0);
}

static void lying_sizes_rejected(void)
{
    /* A chunk with a valid checksum whose raw_size is wrong, or beyond the
     * limit, is damaged: no huge allocation, no short payload. */
    struct file f;
    CHECK(make_file(&f, SPROF_VERSION, 0) == 0);
    static const uint32_t lies[] = {0xffffffffu, SPROF_CHUNK_MAX_RAW + 1, 1, 0};
    sprof_log_set_quiet(1);
    for (size_t i = 0; i < sizeof(lies) / sizeof(lies[0]); i++) {
        uint8_t *d = malloc(f.data.len);
        memcpy(d, f.data.data, f.data.len);
        uint8_t *h = d + f.chunk_off[1];
        uint32_t stored = sprof_le32(h + 8);
        for (int k = 0; k < 4; k++) h[12 + k] = (uint8_t)(lies[i] >> (8 * k));
        uint32_t crc = sprof_crc32c(sprof_crc32c(0, h, 20), h + 24, stored);
        for (int k = 0; k < 4; k++) h[20 + k] = (uint8_t)(crc >> (8 * k));
        struct sprof_reader r;
        int got[64];
        int n = read_all(&f, d, f.data.len, got, &r);
        free(d);
        if (n != NCHUNKS - 1) {
            sprof_log_set_quiet(0);
            free_file(&f);
        }
        CHECKF(n == NCHUNKS - 1, "raw_size %u: got %d chunks", lies[i], n);
    }
    sprof_log_set_quiet(0);
    free_file(&f);
}

static void open_file_errors(void)
{
    char dir[] = "/tmp/sprof-unit-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char missing[256], empty[256], good[256];
    snprintf(missing, sizeof(missing), "%s/missing.bin", dir);
    snprintf(empty, sizeof(empty), "%s/empty.bin", dir);
    snprintf(good, sizeof(good), "%s/good.bin", dir);
    struct sprof_reader r;
    int rc1 = sprof_reader_open(&r, missing);
    int ok1 = rc1 == -1 && strstr(r.err, missing) && strstr(r.err, "No such file");
    char err1[600];
    snprintf(err1, sizeof(err1), "%s", r.err);
    if (!rc1) sprof_reader_close(&r);

    int fd = open(empty, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) close(fd);
    int rc2 = sprof_reader_open(&r, empty);
    int ok2 = rc2 == -1 && strstr(r.err, empty);
    char err2[600];
    snprintf(err2, sizeof(err2), "%s", r.err);
    if (!rc2) sprof_reader_close(&r);

    int rc3 = sprof_reader_open(&r, dir);
    int ok3 = rc3 == -1 && strstr(r.err, dir);
    if (!rc3) sprof_reader_close(&r);

    struct file f;
    int made = make_file(&f, SPROF_VERSION, 0) == 0;
    fd = open(good, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ssize_t w = fd >= 0 && made ? write(fd, f.data.data, f.data.len) : -1;
    if (fd >= 0) close(fd);
    int rc4 = sprof_reader_open(&r, good);
    int chunks = 0;
    struct sprof_cur c;
    if (!rc4) {
        while (sprof_reader_next(&r, &c) == 1) chunks++;
        sprof_reader_close(&r);
    }
    if (made) free_file(&f);
    unlink(good);
    unlink(empty);
    rmdir(dir);
    CHECKF(ok1, "missing file: [%s]", err1);
    CHECKF(ok2, "empty file: [%s]", err2);
    CHECKF(ok3, "a directory is not a profile");
    CHECKF(w > 0 && rc4 == 0 && chunks == NCHUNKS, "reading from a file: %d chunks", chunks);
}

int main(void)
{
    unit_prefix = "unit/chunk";
    RUN(header_layout);
    RUN(chunk_layout);
    RUN(roundtrip);
    RUN(roundtrip_records);
    RUN(empty_and_large_payloads);
    RUN(compressor_tables_capped);
    RUN(quick_last_chunk);
    RUN(stored_and_compressed);
    RUN(uncompressed_chunk);
    RUN(damaged_payload_skipped);
    RUN(damaged_header_fields_skipped);
    RUN(damage_warning_names_file);
    RUN(truncated_tail_salvaged);
    RUN(truncated_every_offset);
    RUN(flipped_every_byte);
    RUN(garbage_never_crashes);
    RUN(header_rejections);
    RUN(larger_header_accepted);
    RUN(lying_sizes_rejected);
    RUN(open_file_errors);
    return unit_done();
}
