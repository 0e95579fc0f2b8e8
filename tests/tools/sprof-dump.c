/* SPDX-License-Identifier: MIT */
/*
 * sprof-dump: prints the records of a profile, one per line, for tests and
 * for debugging the format. Usage: sprof-dump FILE [-s] (-s: summary only).
 */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "chunk.h"
#include "format.h"
#include "log.h"

static const char *names[] = {"?",      "PROCESS", "CONFIG",   "THREAD", "THREAD_END", "MAP",
                              "UNMAP",  "STACK",   "SAMPLES",  "COUNTERS", "NOTE",    "END"};

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
