/* SPDX-License-Identifier: MIT */
/*
 * sprof-dump: prints the records of a profile, one per line, for tests and
 * for debugging the format. Usage: sprof-dump FILE [-s] (-s: summary only).
 * sprof-dump FILE --zstd OUT writes FILE again to OUT with every chunk but
 * the last compressed (zstd level 3), the last one stored: a small profile
 * (whose chunks libsprof stores uncompressed) with both codecs, for tests
 * that damage files.
 */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "chunk.h"
#include "format.h"
#include "log.h"

static const char *names[] = {"?",      "PROCESS", "CONFIG",   "THREAD", "THREAD_END", "MAP",
                              "UNMAP",  "STACK",   "SAMPLES",  "COUNTERS", "NOTE",    "END"};

static int recode(struct sprof_reader *r, const char *out)
{
    struct sprof_buf chunks[2], file;
    sprof_buf_init(&file);
    sprof_buf_init(&chunks[0]);
    sprof_buf_init(&chunks[1]);
    sprof_file_header_put(&file, &r->hdr);
    struct sprof_chunk_encoder z, none;
    sprof_chunk_encoder_init(&z, &sprof_zstd_linked, 3, 0);
    sprof_chunk_encoder_init(&none, NULL, 3, 0);
    char err[256];
    struct sprof_cur c;
    uint32_t seq = 0;
    int have = 0, rc = 0;
    /* each chunk is encoded twice, compressed and stored, and the previous
     * one's compressed form goes out once it is known not to be the last */
    while (sprof_reader_next(r, &c) == 1) {
        if (have) sprof_buf_put(&file, chunks[0].data, chunks[0].len);
        sprof_buf_reset(&chunks[0]);
        sprof_buf_reset(&chunks[1]);
        size_t n = sprof_cur_left(&c);
        if (sprof_chunk_encode(&z, seq, c.p, n, &chunks[0], err, sizeof(err)) ||
            sprof_chunk_encode(&none, seq, c.p, n, &chunks[1], err, sizeof(err))) {
            sprof_err("%s", err);
            rc = 2;
            break;
        }
        seq++;
        have = 1;
    }
    if (have) sprof_buf_put(&file, chunks[1].data, chunks[1].len);
    FILE *f = rc ? NULL : fopen(out, "wb");
    if (!rc && (!f || file.oom || fwrite(file.data, 1, file.len, f) != file.len)) {
        sprof_err("cannot write '%s'", out);
        rc = 2;
    }
    if (f && fclose(f) && !rc) rc = 2;
    sprof_chunk_encoder_release(&z);
    sprof_buf_release(&file);
    sprof_buf_release(&chunks[0]);
    sprof_buf_release(&chunks[1]);
    return rc;
}

int main(int argc, char **argv)
{
    sprof_log_set_prefix("sprof-dump");
    if (argc < 2) {
        fprintf(stderr, "usage: sprof-dump FILE [-s]\n");
        return 2;
    }
    int summary = argc > 2 && strcmp(argv[2], "-s") == 0;
    struct sprof_reader r;
    if (sprof_reader_open(&r, argv[1])) {
        sprof_err("%s", r.err);
        return 2;
    }
    if (argc > 3 && strcmp(argv[2], "--zstd") == 0) {
        int rc = recode(&r, argv[3]);
        sprof_reader_close(&r);
        return rc;
    }
    printf("header version=%u session=%016llx pid=%u\n", r.hdr.version,
           (unsigned long long)r.hdr.session, r.hdr.pid);
    uint64_t counts[16] = {0}, samples = 0;
    struct sprof_cur c;
    while (sprof_reader_next(&r, &c) == 1) {
        unsigned type;
        struct sprof_cur body;
        while (sprof_cur_left(&c) && sprof_get_record(&c, &type, &body) == 0) {
            counts[type < 16 ? type : 0]++;
            if (type == SPROF_REC_SAMPLES) {
                uint64_t tid, base, n;
                if (!sprof_get_uvarint(&body, &tid) && !sprof_get_uvarint(&body, &base) &&
                    !sprof_get_uvarint(&body, &n))
                    samples += n;
            }
            if (summary) continue;
            printf("%s", type < 12 ? names[type] : "UNKNOWN");
            if (type == SPROF_REC_THREAD || type == SPROF_REC_NOTE || type == SPROF_REC_END ||
                type == SPROF_REC_MAP || type == SPROF_REC_CONFIG || type == SPROF_REC_PROCESS ||
                type == SPROF_REC_COUNTERS) {
                /* print varints until the first string-looking field */
                uint64_t v;
                struct sprof_cur b = body;
                while (sprof_cur_left(&b)) {
                    const uint8_t *p = b.p;
                    if (sprof_get_uvarint(&b, &v)) break;
                    printf(" %llx", (unsigned long long)v);
                    (void)p;
                }
                printf(" |");
                for (const uint8_t *p = body.p; p < body.end; p++)
                    putchar(*p >= 32 && *p < 127 ? *p : '.');
            }
            if (type == SPROF_REC_STACK) {
                uint64_t id, flags, n, f;
                int64_t d;
                if (!sprof_get_uvarint(&body, &id) && !sprof_get_uvarint(&body, &flags) &&
                    !sprof_get_uvarint(&body, &n) && !sprof_get_uvarint(&body, &f)) {
                    printf(" id=%llu flags=%llu n=%llu %llx", (unsigned long long)id,
                           (unsigned long long)flags, (unsigned long long)n, (unsigned long long)f);
                    for (uint64_t i = 1; i < n && !sprof_get_svarint(&body, &d); i++)
                        printf(" %llx", (unsigned long long)(f += (uint64_t)d));
                }
            }
            printf("\n");
        }
    }
    printf("chunks ok=%llu bad=%llu truncated=%d\n", (unsigned long long)r.chunks_ok,
           (unsigned long long)r.chunks_bad, r.truncated);
    for (unsigned i = 1; i < 12; i++) printf("%s=%llu ", names[i], (unsigned long long)counts[i]);
    printf("samples=%llu\n", (unsigned long long)samples);
    sprof_reader_close(&r);
    return 0;
}
