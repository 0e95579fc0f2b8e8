/* SPDX-License-Identifier: MIT */
/*
 * sprof-dump: prints the records of a profile, one per line, for tests and
 * for debugging the format. Usage: sprof-dump FILE [-s] (-s: summary only:
 * the records of each type, the samples, the STACKS records, the sample
 * ids written as the next one, 0, and the addresses written from a base's
 * frame (header flags 8, 4 and 16), and the stacks that share frames with a
 * base, and how many frames they took from it). A
 * STACKS record's stacks print and count as STACK records, and SAMPLES
 * print their samples (dt/weight/stack id), times in nanoseconds and ids
 * decoded.
 * sprof-dump FILE --zstd OUT writes FILE again to OUT with every chunk but
 * the last compressed (zstd at SPROF_ZSTD_LEVEL), the last one stored: a
 * small profile (whose chunks libsprof stores uncompressed) with both
 * codecs, for tests that damage files.
 * sprof-dump FILE --plain OUT writes FILE again to OUT in the plain
 * encodings (header flags 0: every stack with all its frames, samples by
 * row), its chunks compressed as libsprof does (zstd at SPROF_ZSTD_LEVEL
 * from the first of 4 KiB on):
 * what a reader of the other forms must agree with, and what they save on
 * the same profile (scripts/bench/bytes.py). sprof-dump FILE --flags N OUT
 * does the same in the encodings of header flags N (decimal), each
 * chunk's stacks first: --flags 0 is --plain.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "chunk.h"
#include "format.h"
#include "log.h"
#include "stacks.h"

static const char *names[] = {"?",     "PROCESS", "CONFIG",  "THREAD",   "THREAD_END", "MAP",
                              "UNMAP", "STACK",   "SAMPLES", "COUNTERS", "NOTE",       "END"};

/* The stacks a file defines, by id: their frames and the chunk that last
 * defined them (shared stacks name a base in the same chunk). */
struct stack {
    uint64_t *f;
    uint64_t n, flags;
    unsigned chunk;
};
static struct stack *stacks;
static size_t nstacks;

static void stacks_free(void)
{
    for (size_t i = 0; i < nstacks; i++)
        free(stacks[i].f);
    free(stacks);
    stacks = NULL;
    nstacks = 0;
}

/* The id of the chunk's next stack from the difference d (shared stacks,
 * STACKS: increasing ids, each the difference from the chunk's last). */
static int next_id(unsigned chunk, uint64_t d, uint64_t *id)
{
    static unsigned cur;
    static uint64_t count, last;
    if (chunk != cur) cur = chunk, count = 0, last = 0;
    if (count && (d == 0 || d > UINT64_MAX - last)) return -1;
    *id = count++ ? last + d : d;
    last = *id;
    return 0;
}

/* Makes stacks[id] the n frames fr (malloc'd, room for shared more) and the
 * outermost shared frames of stacks[base]. */
static int define(uint64_t id, uint64_t flags, uint64_t *fr, uint64_t n, uint64_t base,
                  uint64_t shared, unsigned chunk)
{
    if (shared) {
        const struct stack *s = &stacks[base];
        memcpy(fr + n, s->f + s->n - shared, shared * sizeof(*fr));
    }
    if (id >= nstacks) {
        struct stack *more = realloc(stacks, (id + 1) * sizeof(*more));
        if (!more) {
            free(fr);
            return -1;
        }
        memset(more + nstacks, 0, (id + 1 - nstacks) * sizeof(*more));
        stacks = more;
        nstacks = id + 1;
    }
    free(stacks[id].f);
    stacks[id] = (struct stack){fr, n + shared, flags, chunk};
    return 0;
}

/* Whether stack base can lend shared frames to a stack of n of its own in
 * this chunk. */
static int base_ok(uint64_t base, uint64_t n, uint64_t shared, unsigned chunk)
{
    return base < nstacks && stacks[base].chunk == chunk && shared <= stacks[base].n &&
           n + shared <= SPROF_MAX_DEPTH;
}

/* Decodes a STACK body into stacks[*id]; -1 when malformed. */
static int get_stack(struct sprof_cur *b, uint32_t flags, unsigned chunk, uint64_t *id,
                     uint64_t *sflags, uint64_t *nshared)
{
    uint64_t n, base = 0, shared = 0, f = 0;
    *nshared = 0;
    if (sprof_get_uvarint(b, id)) return -1;
    if ((flags & SPROF_FLAG_SHARED_STACKS) && next_id(chunk, *id, id)) return -1;
    if (sprof_get_uvarint(b, sflags) || sprof_get_uvarint(b, &n) || n > SPROF_MAX_DEPTH ||
        *id >= (1u << 24))
        return -1;
    if (flags & SPROF_FLAG_SHARED_STACKS) {
        if (sprof_get_uvarint(b, &base)) return -1;
        if (base && (sprof_get_uvarint(b, &shared) || !base_ok(base - 1, n, shared, chunk)))
            return -1;
    }
    uint64_t *fr = malloc((n + shared + 1) * sizeof(*fr));
    if (!fr) return -1;
    for (uint64_t i = 0; i < n; i++) {
        int64_t d;
        if (i == 0 ? sprof_get_uvarint(b, &f) : sprof_get_svarint(b, &d)) {
            free(fr);
            return -1;
        }
        fr[i] = i == 0 ? f : (f += (uint64_t)d);
    }
    *nshared = shared;
    return define(*id, *sflags, fr, n, base - !!base, shared, chunk);
}

/* Prints stack id as a STACK line. */
static void print_stack(uint64_t id)
{
    printf("STACK id=%llu flags=%llu n=%llu", (unsigned long long)id,
           (unsigned long long)stacks[id].flags, (unsigned long long)stacks[id].n);
    for (uint64_t i = 0; i < stacks[id].n; i++)
        printf(" %llx", (unsigned long long)stacks[id].f[i]);
    printf("\n");
}

/* What the stack records of a file hold. */
struct tally {
    uint64_t stacks;   /* the stacks of STACKS records */
    uint64_t based;    /* stacks with a base (STACK records' too) */
    uint64_t frames;   /* their frames */
    uint64_t taken;    /* of which taken from bases */
    uint64_t siblings; /* STACKS addresses from a base's frame (header flag 16) */
};

/* Decodes a STACKS body (SPROF_FLAG_STACK_COLUMNS) into stacks[], printing
 * each stack as a STACK record unless quiet, appending its id to ids (if
 * not NULL), counting into *t. -1 when malformed. */
static int get_stacks(struct sprof_cur *b, uint32_t hflags, unsigned chunk, int quiet,
                      struct sprof_buf *ids, struct tally *t)
{
    uint64_t count, naddrs, used = 0, a = 0;
    if (sprof_get_uvarint(b, &count) || count > sprof_cur_left(b)) return -1;
    uint64_t *col = calloc(5 * count + 1, sizeof(*col)), *addr = NULL;
    int rc = -1;
    if (!col) return -1;
    for (uint64_t i = 0; i < 4 * count; i++)
        if (sprof_get_uvarint(b, &col[i])) goto out;
    for (uint64_t i = 0; i < count; i++)
        if (col[3 * count + i] && sprof_get_uvarint(b, &col[4 * count + i])) goto out;
    if (sprof_get_uvarint(b, &naddrs) || naddrs > sprof_cur_left(b) ||
        !(addr = malloc((naddrs + 1) * sizeof(*addr))))
        goto out;
    /* the differences; each address is known when a code 0 takes it */
    for (uint64_t i = 0; i < naddrs; i++) {
        int64_t d;
        if (sprof_get_svarint(b, &d)) goto out;
        addr[i] = (uint64_t)d;
    }
    for (uint64_t i = 0; i < count; i++) {
        uint64_t id, n = col[2 * count + i], code = col[3 * count + i], nbase = col[4 * count + i];
        uint64_t base = code % 2 ? code / 2 : 0, shared = 0;
        if (next_id(chunk, col[i], &id) || id >= (1u << 24) || n > SPROF_MAX_DEPTH) goto out;
        if (code && code % 2 == 0) {
            if (code / 2 > id) goto out;
            base = id - code / 2;
        }
        if (code) {
            /* the base's frames but its innermost nbase */
            if (base >= nstacks || nbase > stacks[base].n) goto out;
            shared = stacks[base].n - nbase;
            if (!base_ok(base, n, shared, chunk)) goto out;
        }
        uint64_t *fr = malloc((n + shared + 1) * sizeof(*fr));
        if (!fr) goto out;
        for (uint64_t j = 0; j < n; j++) {
            uint64_t k;
            if (sprof_get_uvarint(b, &k) || k > used || (k == 0 && used == naddrs)) {
                free(fr);
                goto out;
            }
            if (k) {
                fr[j] = addr[k - 1];
                continue;
            }
            /* flag 16: the outermost own frame of a stack that leaves its
             * base's frames at that depth, from the base's frame there */
            int sibling = (hflags & SPROF_FLAG_STACK_SIBLINGS) && code && nbase && j == n - 1;
            fr[j] = addr[used] = a = (sibling ? stacks[base].f[nbase - 1] : a) + addr[used];
            used++;
            t->siblings += sibling;
        }
        if (define(id, col[count + i], fr, n, base, shared, chunk)) goto out;
        if (ids) sprof_buf_put(ids, &id, sizeof(id));
        t->stacks++;
        t->based += shared > 0;
        t->frames += n + shared;
        t->taken += shared;
        if (!quiet) print_stack(id);
    }
    rc = 0;
out:
    free(col);
    free(addr);
    return rc;
}

/* Decodes a SAMPLES body: count entries into dt (nanoseconds), w, id
 * (arrays of count); adds to *ahead the ids written 0
 * (SPROF_FLAG_SAMPLE_ID_STEPS: the id one past the greatest before it in
 * the record). */
static int get_samples(struct sprof_cur *b, uint32_t flags, uint64_t *tid, uint64_t *base,
                       uint64_t *count, uint64_t **cols, uint64_t *ahead)
{
    uint64_t unit = 1;
    if (sprof_get_uvarint(b, tid) || sprof_get_uvarint(b, base) || sprof_get_uvarint(b, count) ||
        *count > sprof_cur_left(b) / 3 ||
        ((flags & SPROF_FLAG_SAMPLE_TIME_UNITS) && (sprof_get_uvarint(b, &unit) || !unit)))
        return -1;
    cols[0] = malloc((3 * *count + 1) * sizeof(uint64_t));
    if (!cols[0]) return -1;
    cols[1] = cols[0] + *count;
    cols[2] = cols[1] + *count;
    for (uint64_t i = 0; i < 3 * *count; i++) {
        /* by row: dt, w, id of each; by column: every dt, every w, every id */
        uint64_t row = flags & SPROF_FLAG_SAMPLE_COLUMNS ? i % *count : i / 3;
        unsigned col = flags & SPROF_FLAG_SAMPLE_COLUMNS ? (unsigned)(i / *count) : i % 3;
        if (sprof_get_uvarint(b, &cols[col][row]) ||
            (col == 0 && __builtin_mul_overflow(cols[0][row], unit, &cols[0][row])))
            return -1;
    }
    if (flags & SPROF_FLAG_SAMPLE_ID_STEPS)
        for (uint64_t i = 0, next = 0; i < *count; i++) {
            uint64_t v = cols[2][i];
            cols[2][i] = v ? v - 1 : next;
            *ahead += v == 0;
            if (cols[2][i] >= next && cols[2][i] < UINT64_MAX) next = cols[2][i] + 1;
        }
    return 0;
}

static uint64_t gcd(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Appends stacks[id] to out as a STACK record in the plain form. */
static void put_plain_stack(struct sprof_buf *out, uint64_t id)
{
    const struct stack *s = &stacks[id];
    struct sprof_buf body;
    sprof_buf_init(&body);
    sprof_buf_put_uvarint(&body, id);
    sprof_buf_put_uvarint(&body, s->flags);
    sprof_buf_put_uvarint(&body, s->n);
    for (uint64_t i = 0; i < s->n; i++) {
        if (i == 0)
            sprof_buf_put_uvarint(&body, s->f[0]);
        else
            sprof_buf_put_svarint(&body, (int64_t)(s->f[i] - s->f[i - 1]));
    }
    sprof_buf_put_record(out, SPROF_REC_STACK, &body);
    sprof_buf_release(&body);
}

static int id_cmp(const void *a, const void *b)
{
    uint64_t x, y;
    memcpy(&x, a, sizeof(x));
    memcpy(&y, b, sizeof(y));
    return (x > y) - (x < y);
}

/* The stacks a chunk defines (ids, in increasing order) as the encodings of
 * header flags want them: a STACKS record (8), shared STACK records (1), or
 * plain ones, each stack sharing its outermost frames with the stack
 * before it with the most of them, as libsprof does (common/stacks.h). */
static void put_stacks(struct sprof_buf *out, struct sprof_buf *ids, uint32_t flags)
{
    size_t n = ids->len / sizeof(uint64_t);
    if (n) qsort(ids->data, n, sizeof(uint64_t), id_cmp);
    struct sprof_stack_trie trie;
    sprof_stack_trie_init(&trie, 1u << 22);
    struct sprof_stacks_enc enc;
    sprof_stacks_enc_init(&enc);
    enc.siblings = !!(flags & SPROF_FLAG_STACK_SIBLINGS);
    struct sprof_buf body;
    sprof_buf_init(&body);
    uint32_t prev = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t id;
        memcpy(&id, ids->data + i * sizeof(id), sizeof(id));
        if (i && id == prev) continue; /* defined twice in the chunk */
        const struct stack *s = &stacks[id];
        if (!(flags & (SPROF_FLAG_SHARED_STACKS | SPROF_FLAG_STACK_COLUMNS))) {
            put_plain_stack(out, id);
            prev = (uint32_t)id;
            continue;
        }
        uint32_t base = 0;
        unsigned sh = sprof_stack_trie_add(&trie, s->f, (unsigned)s->n, (uint32_t)id, &base);
        sh = sh >= 2 ? sh : 0;
        if (flags & SPROF_FLAG_STACK_COLUMNS) {
            sprof_stacks_enc_add(&enc, (uint32_t)id, (unsigned)s->flags, s->f, (unsigned)s->n, base,
                                 stacks[base].f, sh);
        } else {
            sprof_buf_reset(&body);
            sprof_put_stack_shared(&body, (uint32_t)id, prev, (unsigned)s->flags, s->f,
                                   (unsigned)s->n, base, sh);
            sprof_buf_put_record(out, SPROF_REC_STACK, &body);
        }
        prev = (uint32_t)id;
    }
    if (flags & SPROF_FLAG_STACK_COLUMNS) sprof_stacks_enc_put(&enc, out);
    sprof_buf_release(&body);
    sprof_stacks_enc_release(&enc);
    sprof_stack_trie_release(&trie);
}

/* FILE again in the encodings of header flags (0: the plain ones), each
 * chunk's stacks first, its chunks compressed as libsprof does. */
static int rewrite(struct sprof_reader *r, const char *out, uint32_t flags)
{
    struct sprof_buf file, raw, rest, body, ids;
    sprof_buf_init(&file);
    sprof_buf_init(&raw);
    sprof_buf_init(&rest);
    sprof_buf_init(&body);
    sprof_buf_init(&ids);
    struct sprof_file_header h = r->hdr;
    h.flags = flags;
    sprof_file_header_put(&file, &h);
    struct sprof_chunk_encoder enc;
    sprof_chunk_encoder_init(&enc, &sprof_zstd_linked, SPROF_ZSTD_LEVEL, 4096);
    char err[256];
    struct sprof_cur c;
    uint32_t seq = 0;
    int rc = 0;
    while (rc == 0 && sprof_reader_next(r, &c) == 1) {
        sprof_buf_reset(&raw);
        sprof_buf_reset(&rest);
        sprof_buf_reset(&ids);
        unsigned type;
        struct sprof_cur b;
        while (rc == 0 && sprof_cur_left(&c) && sprof_get_record(&c, &type, &b) == 0) {
            uint64_t id, fl, sh, tid, base, n, *cols[3] = {NULL};
            sprof_buf_reset(&body);
            if (type == SPROF_REC_STACK) {
                if (get_stack(&b, r->hdr.flags, seq + 1, &id, &fl, &sh)) {
                    rc = 2;
                    break;
                }
                sprof_buf_put(&ids, &id, sizeof(id));
                continue;
            } else if (type == SPROF_REC_STACKS && (r->hdr.flags & SPROF_FLAG_STACK_COLUMNS)) {
                struct tally t = {0};
                if (get_stacks(&b, r->hdr.flags, seq + 1, 1, &ids, &t)) {
                    rc = 2;
                    break;
                }
                continue;
            } else if (type == SPROF_REC_SAMPLES) {
                uint64_t ahead = 0, next = 0;
                if (get_samples(&b, r->hdr.flags, &tid, &base, &n, cols, &ahead)) {
                    free(cols[0]);
                    rc = 2;
                    break;
                }
                if (flags & SPROF_FLAG_SAMPLE_ID_STEPS)
                    for (uint64_t i = 0; i < n; i++)
                        cols[2][i] = sprof_sample_id_put(cols[2][i], &next);
                sprof_buf_put_uvarint(&body, tid);
                sprof_buf_put_uvarint(&body, base);
                sprof_buf_put_uvarint(&body, n);
                if (flags & SPROF_FLAG_SAMPLE_TIME_UNITS) {
                    /* the times in units of their greatest common divisor */
                    uint64_t unit = 0;
                    for (uint64_t i = 0; i < n; i++)
                        unit = gcd(unit, cols[0][i]);
                    unit = unit ? unit : 1;
                    for (uint64_t i = 0; i < n; i++)
                        cols[0][i] /= unit;
                    sprof_buf_put_uvarint(&body, unit);
                }
                for (uint64_t i = 0; i < 3 * n; i++) {
                    int by_col = !!(flags & SPROF_FLAG_SAMPLE_COLUMNS);
                    uint64_t row = by_col ? i % n : i / 3, col = by_col ? i / n : i % 3;
                    sprof_buf_put_uvarint(&body, cols[col][row]);
                }
                free(cols[0]);
            } else {
                sprof_buf_put(&body, b.p, sprof_cur_left(&b));
            }
            sprof_buf_put_record(&rest, type, &body);
        }
        put_stacks(&raw, &ids, flags);
        sprof_buf_put(&raw, rest.data, rest.len);
        if (rc == 0 && sprof_chunk_encode(&enc, seq++, raw.data, raw.len, &file, err, sizeof(err)))
            rc = 2;
        if (raw.len >= enc.min_size) enc.min_size = 0; /* libzstd loaded: every chunk after */
    }
    if (rc) sprof_err("'%s': a malformed record in chunk %u", r->path, seq);
    FILE *f = rc ? NULL : fopen(out, "wb");
    if (!rc && (!f || file.oom || raw.oom || rest.oom || ids.oom ||
                fwrite(file.data, 1, file.len, f) != file.len)) {
        sprof_err("cannot write '%s'", out);
        rc = 2;
    }
    if (f && fclose(f) && !rc) rc = 2;
    stacks_free();
    sprof_chunk_encoder_release(&enc);
    sprof_buf_release(&file);
    sprof_buf_release(&raw);
    sprof_buf_release(&rest);
    sprof_buf_release(&ids);
    sprof_buf_release(&body);
    return rc;
}

static int recode(struct sprof_reader *r, const char *out)
{
    struct sprof_buf chunks[2], file;
    sprof_buf_init(&file);
    sprof_buf_init(&chunks[0]);
    sprof_buf_init(&chunks[1]);
    sprof_file_header_put(&file, &r->hdr);
    struct sprof_chunk_encoder z, none;
    sprof_chunk_encoder_init(&z, &sprof_zstd_linked, SPROF_ZSTD_LEVEL, 0);
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
        fprintf(stderr, "usage: sprof-dump FILE [-s | --zstd OUT | --plain OUT | --flags N OUT]\n");
        return 2;
    }
    int summary = argc > 2 && strcmp(argv[2], "-s") == 0;
    struct sprof_reader r;
    if (sprof_reader_open(&r, argv[1])) {
        sprof_err("%s", r.err);
        return 2;
    }
    if (argc > 4 && strcmp(argv[2], "--flags") == 0) {
        uint64_t flags;
        int rc = sprof_parse_u64(argv[3], 10, &flags) || (flags & ~(uint64_t)SPROF_FLAGS_KNOWN)
                     ? (sprof_err("--flags: '%s' is not a set of known flags", argv[3]), 2)
                     : rewrite(&r, argv[4], (uint32_t)flags);
        sprof_reader_close(&r);
        return rc;
    }
    if (argc > 3 && (strcmp(argv[2], "--zstd") == 0 || strcmp(argv[2], "--plain") == 0)) {
        int rc = argv[2][2] == 'z' ? recode(&r, argv[3]) : rewrite(&r, argv[3], 0);
        sprof_reader_close(&r);
        return rc;
    }
    printf("header version=%u flags=%u session=%016llx pid=%u\n", r.hdr.version, r.hdr.flags,
           (unsigned long long)r.hdr.session, r.hdr.pid);
    unsigned chunk = 0;
    uint64_t counts[16] = {0}, samples = 0, ahead = 0, nstacks_recs = 0;
    struct tally t = {0};
    struct sprof_cur c;
    while (sprof_reader_next(&r, &c) == 1) {
        unsigned type;
        struct sprof_cur body;
        chunk++;
        while (sprof_cur_left(&c) && sprof_get_record(&c, &type, &body) == 0) {
            counts[type < 16 ? type : 0]++;
            if (type == SPROF_REC_SAMPLES) {
                struct sprof_cur b = body;
                uint64_t tid, base, n, *cols[3] = {NULL};
                int ok = get_samples(&b, r.hdr.flags, &tid, &base, &n, cols, &ahead) == 0;
                samples += ok ? n : 0;
                if (!summary) {
                    printf("SAMPLES");
                    if (!ok) printf(" malformed");
                    for (uint64_t i = 0; ok && i < n; i++)
                        printf(" %llu/%llu/%llu", (unsigned long long)cols[0][i],
                               (unsigned long long)cols[1][i], (unsigned long long)cols[2][i]);
                    printf("\n");
                }
                free(cols[0]);
                continue;
            }
            uint64_t id = 0, flags, sh;
            int stack_ok = type == SPROF_REC_STACK &&
                           get_stack(&body, r.hdr.flags, chunk, &id, &flags, &sh) == 0;
            if (stack_ok) {
                t.based += sh > 0;
                t.taken += sh;
                t.frames += stacks[id].n;
            }
            if (type == SPROF_REC_STACKS && (r.hdr.flags & SPROF_FLAG_STACK_COLUMNS)) {
                nstacks_recs++;
                if (get_stacks(&body, r.hdr.flags, chunk, summary, NULL, &t) && !summary)
                    printf("STACKS malformed\n");
                continue;
            }
            if (summary) continue;
            if (stack_ok) {
                print_stack(id);
                continue;
            }
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
            if (type == SPROF_REC_STACK && !stack_ok) printf(" malformed");
            printf("\n");
        }
    }
    printf("chunks ok=%llu bad=%llu truncated=%d\n", (unsigned long long)r.chunks_ok,
           (unsigned long long)r.chunks_bad, r.truncated);
    for (unsigned i = 1; i < 12; i++)
        printf("%s=%llu ", names[i],
               (unsigned long long)counts[i] + (i == SPROF_REC_STACK ? t.stacks : 0));
    printf("samples=%llu\n", (unsigned long long)samples);
    printf("encodings STACKS=%llu next=%llu siblings=%llu\n", (unsigned long long)nstacks_recs,
           (unsigned long long)ahead, (unsigned long long)t.siblings);
    printf("shared stacks=%llu frames=%llu of %llu\n", (unsigned long long)t.based,
           (unsigned long long)t.taken, (unsigned long long)t.frames);
    stacks_free();
    sprof_reader_close(&r);
    return 0;
}
