/* SPDX-License-Identifier: MIT */
/*
 * replicate: makes a bigger profile out of a real one, for the analyzer
 * benchmark (scripts/bench/analyzer.py), as a longer run of a program in a
 * steady state would give: the same process, threads, mappings and distinct
 * stacks, COPIES times the samples.
 *
 * Usage: replicate IN OUT COPIES
 *
 * OUT holds IN's chunks as they are, then COPIES - 1 copies of its STACK
 * and SAMPLES records (each chunk keeps defining the stacks its samples use,
 * as the recorder's chunks do), every sample time shifted by the span of
 * IN's times, so that times keep growing; last, IN's THREAD_END, COUNTERS
 * and END records, moved to the end of the new span, with the threads' CPU
 * time and the counters that count samples or time multiplied by COPIES.
 * Chunks are compressed with zstd at the recorder's level.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "chunk.h"
#include "format.h"

static void die(const char *msg)
{
    fprintf(stderr, "replicate: %s\n", msg);
    exit(2);
}

struct chunk {
    uint8_t *data;
    size_t len;
};

/* The earliest and latest time of the SAMPLES records of a payload (flags:
 * the file's, for the layout of their entries). */
static void sample_span(struct sprof_cur c, uint32_t flags, uint64_t *lo, uint64_t *hi)
{
    unsigned type;
    struct sprof_cur b;
    while (sprof_cur_left(&c) && sprof_get_record(&c, &type, &b) == 0) {
        uint64_t tid, t, n;
        if (type != SPROF_REC_SAMPLES || sprof_get_uvarint(&b, &tid) || sprof_get_uvarint(&b, &t) ||
            sprof_get_uvarint(&b, &n))
            continue;
        if (t < *lo) *lo = t;
        uint64_t unit = 1; /* nanoseconds a dt */
        if ((flags & SPROF_FLAG_SAMPLE_TIME_UNITS) && sprof_get_uvarint(&b, &unit)) continue;
        /* by column, the times come first; by row, each sample is dt, w, id */
        int rows = !(flags & SPROF_FLAG_SAMPLE_COLUMNS);
        for (uint64_t i = 0; i < n; i++) {
            uint64_t dt, w, id;
            if (sprof_get_uvarint(&b, &dt) ||
                (rows && (sprof_get_uvarint(&b, &w) || sprof_get_uvarint(&b, &id))))
                break;
            t += dt * unit;
        }
        if (t > *hi) *hi = t;
    }
}

/* Copies a record of the given type and body to out, the first uvarint of
 * the body (the base time of SAMPLES) increased by shift. */
static void put_shifted(struct sprof_buf *out, unsigned type, struct sprof_cur b, uint64_t shift,
                        int time_first)
{
    struct sprof_buf body;
    sprof_buf_init(&body);
    uint64_t v;
    if (time_first) {
        if (sprof_get_uvarint(&b, &v)) die("malformed record");
        sprof_buf_put_uvarint(&body, v + shift);
    } else { /* SAMPLES: tid, then the base time */
        uint64_t tid;
        if (sprof_get_uvarint(&b, &tid) || sprof_get_uvarint(&b, &v)) die("malformed record");
        sprof_buf_put_uvarint(&body, tid);
        sprof_buf_put_uvarint(&body, v + shift);
    }
    sprof_buf_put(&body, b.p, sprof_cur_left(&b));
    sprof_buf_put_record(out, type, &body);
    sprof_buf_release(&body);
}

/* THREAD_END with its time shifted and its CPU time multiplied. */
static void put_thread_end(struct sprof_buf *out, struct sprof_cur b, uint64_t shift,
                           uint64_t copies)
{
    uint64_t tid, t, cpu = 0;
    if (sprof_get_uvarint(&b, &tid) || sprof_get_uvarint(&b, &t)) die("malformed THREAD_END");
    int has_cpu = sprof_cur_left(&b) && sprof_get_uvarint(&b, &cpu) == 0;
    struct sprof_buf body;
    sprof_buf_init(&body);
    sprof_buf_put_uvarint(&body, tid);
    sprof_buf_put_uvarint(&body, t + shift);
    if (has_cpu) sprof_buf_put_uvarint(&body, cpu * copies);
    sprof_buf_put_record(out, SPROF_REC_THREAD_END, &body);
    sprof_buf_release(&body);
}

/* COUNTERS with its time shifted, the counters of samples and of time and
 * the handler-time histogram multiplied. */
static void put_counters(struct sprof_buf *out, struct sprof_cur b, uint64_t shift, uint64_t copies)
{
    uint64_t t, n;
    if (sprof_get_uvarint(&b, &t) || sprof_get_uvarint(&b, &n)) die("malformed COUNTERS");
    struct sprof_buf body;
    sprof_buf_init(&body);
    sprof_buf_put_uvarint(&body, t + shift);
    sprof_buf_put_uvarint(&body, n);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t id, v;
        if (sprof_get_uvarint(&b, &id) || sprof_get_uvarint(&b, &v)) die("malformed COUNTERS");
        int scaled = id != SPROF_CTR_STACKS && id != SPROF_CTR_THREADS;
        sprof_buf_put_uvarint(&body, id);
        sprof_buf_put_uvarint(&body, scaled ? v * copies : v);
    }
    uint64_t nb;
    if (sprof_cur_left(&b) && sprof_get_uvarint(&b, &nb) == 0) {
        sprof_buf_put_uvarint(&body, nb);
        for (uint64_t i = 0; i < nb; i++) {
            uint64_t v;
            if (sprof_get_uvarint(&b, &v)) die("malformed COUNTERS");
            sprof_buf_put_uvarint(&body, v * copies);
        }
    }
    sprof_buf_put_record(out, SPROF_REC_COUNTERS, &body);
    sprof_buf_release(&body);
}

static void flush_chunk(struct sprof_chunk_encoder *e, uint32_t *seq, struct sprof_buf *raw,
                        FILE *f)
{
    if (!raw->len) return;
    struct sprof_buf out;
    sprof_buf_init(&out);
    char err[256];
    if (sprof_chunk_encode(e, (*seq)++, raw->data, raw->len, &out, err, sizeof(err))) die(err);
    if (fwrite(out.data, 1, out.len, f) != out.len) die("cannot write the output");
    sprof_buf_release(&out);
    sprof_buf_reset(raw);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: replicate IN OUT COPIES\n");
        return 2;
    }
    uint64_t copies = strtoull(argv[3], NULL, 10);
    if (copies < 1) die("COPIES must be 1 or more");
    struct sprof_reader r;
    if (sprof_reader_open(&r, argv[1])) die(r.err);
    struct chunk *ch = NULL;
    size_t nch = 0;
    uint64_t lo = UINT64_MAX, hi = 0;
    struct sprof_cur c;
    while (sprof_reader_next(&r, &c) == 1) {
        ch = realloc(ch, (nch + 1) * sizeof(*ch));
        if (!ch) die("out of memory");
        ch[nch].len = sprof_cur_left(&c);
        ch[nch].data = malloc(ch[nch].len ? ch[nch].len : 1);
        if (!ch[nch].data) die("out of memory");
        memcpy(ch[nch].data, c.p, ch[nch].len);
        sample_span(c, r.hdr.flags, &lo, &hi);
        nch++;
    }
    if (!nch || lo > hi) die("no samples in the input");
    uint64_t span = hi - lo + 1000000; /* and a millisecond between copies */

    FILE *f = fopen(argv[2], "wb");
    if (!f) die("cannot create the output");
    struct sprof_buf raw;
    sprof_buf_init(&raw);
    sprof_file_header_put(&raw, &r.hdr);
    if (fwrite(raw.data, 1, raw.len, f) != raw.len) die("cannot write the output");
    sprof_buf_reset(&raw);
    struct sprof_chunk_encoder enc;
    sprof_chunk_encoder_init(&enc, &sprof_zstd_linked, SPROF_ZSTD_LEVEL, 0);
    uint32_t seq = 0;
    struct sprof_buf tail; /* the records that end the run */
    sprof_buf_init(&tail);
    uint64_t last = (copies - 1) * span;
    for (uint64_t k = 0; k < copies; k++) {
        for (size_t i = 0; i < nch; i++) {
            struct sprof_cur cur;
            sprof_cur_init(&cur, ch[i].data, ch[i].len);
            unsigned type;
            struct sprof_cur b;
            while (sprof_cur_left(&cur) && sprof_get_record(&cur, &type, &b) == 0) {
                if (type == SPROF_REC_SAMPLES) {
                    put_shifted(&raw, type, b, k * span, 0);
                } else if (type == SPROF_REC_STACK || type == SPROF_REC_STACKS || k == 0) {
                    if (type == SPROF_REC_THREAD_END)
                        put_thread_end(&tail, b, last, copies);
                    else if (type == SPROF_REC_COUNTERS)
                        put_counters(&tail, b, last, copies);
                    else if (type == SPROF_REC_END)
                        put_shifted(&tail, type, b, last, 1);
                    else {
                        struct sprof_buf body = {(uint8_t *)b.p, sprof_cur_left(&b), 0, 0};
                        sprof_buf_put_record(&raw, type, &body);
                    }
                }
            }
            flush_chunk(&enc, &seq, &raw, f);
        }
    }
    flush_chunk(&enc, &seq, &tail, f);
    if (raw.oom || tail.oom || fclose(f) != 0) die("cannot write the output");
    sprof_buf_release(&raw);
    sprof_buf_release(&tail);
    sprof_chunk_encoder_release(&enc);
    for (size_t i = 0; i < nch; i++)
        free(ch[i].data);
    free(ch);
    sprof_reader_close(&r);
    return 0;
}
