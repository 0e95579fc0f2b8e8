/* SPDX-License-Identifier: MIT */
#include "fuzz.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aggregate.h"
#include "buf.h"
#include "chunk.h"
#include "filter.h"
#include "log.h"
#include "profile.h"
#include "symbolize.h"

#define NAME "fuzz.bin"

/* A broken invariant of the model: abort, so that libFuzzer keeps the input. */
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz: %s:%d: invariant '%s' does not hold\n", __FILE__, __LINE__,     \
                    #cond);                                                                        \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* The filters tried, one per input (chosen by its size). */
static struct filter_opts filters[4];

void fuzz_setup(void)
{
    const char *v = getenv("SPROF_FUZZ_VERBOSE");
    sprof_log_set_prefix("sprof-report");
    sprof_log_set_quiet(!(v && v[0] == '1'));
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) {
        dup2(null, STDOUT_FILENO);
        close(null);
    }
    for (int i = 0; i < 4; i++)
        filter_init(&filters[i]);
    /* 0: none; 1: a time range and a process; 2: stack filters; 3: a thread,
     * a focus and a hide */
    if (filter_parse(&filters[1], "fuzz", FILTER_OPT_TIME, "0.0001..1e6") ||
        filter_parse(&filters[1], "fuzz", FILTER_OPT_PID, "1") ||
        filter_parse(&filters[2], "fuzz", FILTER_OPT_NO_INLINE, NULL) ||
        filter_parse(&filters[2], "fuzz", FILTER_OPT_MAX_DEPTH, "3") ||
        filter_parse(&filters[3], "fuzz", FILTER_OPT_TID, "worker") ||
        filter_parse(&filters[3], "fuzz", FILTER_OPT_FOCUS, "0x") ||
        filter_parse(&filters[3], "fuzz", FILTER_OPT_HIDE, "unknown"))
        abort();
}

/* The chunk layer alone, as sprof-dump uses it. */
static void walk_chunks(const uint8_t *data, size_t size)
{
    struct sprof_reader r;
    if (sprof_reader_open_mem(&r, NAME, data, size)) {
        CHECK(r.err[0] && strstr(r.err, NAME) && !strchr(r.err, '\n'));
        sprof_reader_close(&r);
        return;
    }
    struct sprof_cur c;
    uint64_t n = 0;
    while (sprof_reader_next(&r, &c) == 1) {
        n++;
        CHECK(r.off <= r.size);
        CHECK(sprof_cur_left(&c) <= SPROF_CHUNK_MAX_RAW);
        unsigned type;
        struct sprof_cur body;
        while (sprof_cur_left(&c) && sprof_get_record(&c, &type, &body) == 0) {
            CHECK(body.p <= body.end && body.end <= c.p);
            uint64_t u;
            while (sprof_cur_left(&body) && sprof_get_uvarint(&body, &u) == 0) {
            }
        }
    }
    CHECK(n == r.chunks_ok && r.off == r.size);
    sprof_reader_close(&r);
}

static int u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The epochs of a process as the definition in profile.c says, pair by
 * pair: the times of every mapping that overlaps one with another meaning
 * (module, load bias and start - offset). profile.c does it in linear time. */
static void check_epochs(const struct sp_profile *p, const struct sp_process *pr)
{
    size_t n = pr->nmaps, nep = 0;
    if (!n || n > 512) return;
    const struct sp_mapping *m = p->maps + pr->map_first;
    uint64_t *ep = malloc((2 * n + 1) * sizeof(*ep));
    for (size_t i = 0; i < n; i++) {
        int amb = 0;
        for (size_t j = 0; j < n && !amb; j++)
            amb = j != i && m[i].start < m[j].end && m[j].start < m[i].end &&
                  (m[i].module != m[j].module || m[i].load_bias != m[j].load_bias ||
                   m[i].start - m[i].offset != m[j].start - m[j].offset);
        if (!amb) continue;
        ep[nep++] = m[i].t_map;
        if (m[i].t_unmap != SP_TIME_MAX) ep[nep++] = m[i].t_unmap;
    }
    qsort(ep, nep, sizeof(*ep), u64_cmp);
    size_t u = 0;
    for (size_t i = 0; i < nep; i++)
        if (!u || ep[u - 1] != ep[i]) ep[u++] = ep[i];
    CHECK(pr->maps_ambiguous == (u > 0) && pr->nepochs == u);
    CHECK(!u || memcmp(pr->epochs, ep, u * sizeof(*ep)) == 0);
    free(ep);
}

static void check_model(const struct sp_profile *p)
{
    for (size_t i = 0; i < p->nprocs; i++) {
        const struct sp_process *pr = &p->procs[i];
        CHECK((size_t)pr->map_first + pr->nmaps <= p->nmaps);
        CHECK(pr->file && pr->comm);
        for (uint32_t k = 0; k < pr->argc; k++)
            CHECK(pr->argv[k]);
        check_epochs(p, pr);
    }
    for (size_t i = 0; i < p->nthreads; i++)
        CHECK(p->threads[i].proc < p->nprocs && p->threads[i].name);
    for (size_t i = 0; i < p->nmaps; i++) {
        const struct sp_mapping *m = &p->maps[i];
        CHECK(m->proc < p->nprocs && m->start < m->end && m->path);
        CHECK(m->module == SP_NONE || m->module < p->nmodules);
    }
    for (size_t i = 0; i < p->nraw; i++) {
        const struct sp_rawstack *r = &p->raw[i];
        CHECK(r->proc < p->nprocs && r->off + r->nframes <= p->nframes);
        CHECK(r->nframes <= SPROF_MAX_DEPTH);
    }
    for (size_t i = 0; i < p->nsamples; i++) {
        const struct sp_sample *s = &p->samples[i];
        CHECK(s->thread < p->nthreads && s->proc < p->nprocs);
        CHECK(p->threads[s->thread].proc == s->proc);
        CHECK(s->stack == SP_NONE || (s->stack < p->nraw && p->raw[s->stack].proc == s->proc));
    }
}

static void check_symbolic(const struct sp_profile *p)
{
    for (size_t i = 0; i < p->nsamples; i++)
        CHECK(p->samples[i].sym < p->nstacks);
    for (size_t i = 0; i < p->nstacks; i++) {
        const struct sp_stack *st = &p->stacks[i];
        CHECK((size_t)st->off + st->n <= p->nstack_frames);
        for (uint32_t k = 0; k < st->n; k++)
            CHECK(p->stack_frames[st->off + k] < p->nsframes);
    }
    for (size_t i = 0; i < p->nsframes; i++)
        CHECK(p->sframes[i].func < p->nfuncs && p->sframes[i].file);
    for (size_t i = 0; i < p->nfuncs; i++) {
        const struct sp_func *f = &p->funcs[i];
        CHECK(f->name && f->module && f->file && !strchr(f->name, '\n'));
    }
}

/* What info shows besides the process fields: per-thread totals, the
 * module of each stack's leaf, the modules' status. */
static void info_view(struct sp_profile *p)
{
    struct sp_totals t;
    sp_profile_totals(p, &t);
    CHECK(t.samples == p->nsamples && t.nthreads <= p->nthreads && t.nprocs <= p->nprocs);
    for (size_t i = 0; i < p->nthreads; i++)
        CHECK(sp_thread_name(&p->threads[i]) != NULL);
    for (size_t i = 0; i < p->nsamples; i++) {
        const struct sp_sample *s = &p->samples[i];
        if (s->stack == SP_NONE) continue;
        const struct sp_rawstack *r = &p->raw[s->stack];
        (void)sp_profile_epoch(p, r->proc, s->time);
        if (!r->nframes) continue;
        const struct sp_mapping *m = sp_profile_find_map(p, r->proc, p->frames[r->off], s->time);
        CHECK(!m || (m >= p->maps && m < p->maps + p->nmaps && m->proc == r->proc));
    }
    for (uint32_t i = 0; i < p->nmodules; i++) {
        struct sp_module_status st;
        sp_module_status(p, i, &st);
        CHECK(!st.found);
    }
}

static uint32_t row_of_func(void *ctx, uint32_t fr)
{
    const struct sp_profile *p = ctx;
    return p->sframes[fr].func;
}

/* What flat adds up: self and total per function. */
static void flat_view(const struct sp_profile *p)
{
    size_t nrows = 0;
    struct sp_agg *rows = sp_aggregate(p, row_of_func, (void *)p, &nrows);
    uint64_t self = 0;
    for (size_t i = 0; i < nrows; i++) {
        CHECK(rows[i].self <= rows[i].total && rows[i].total <= p->nsamples);
        self += rows[i].self;
    }
    CHECK(self <= p->nsamples);
    free(rows);
}

void fuzz_model(const uint8_t *data, size_t size)
{
    walk_chunks(data, size);

    struct sp_profile *p = sp_profile_new();
    char err[600] = "";
    if (sp_profile_read_mem(p, NAME, data, size, err, sizeof(err))) {
        /* one line naming the file */
        CHECK(err[0] && strstr(err, NAME) && !strchr(err, '\n'));
        sp_profile_free(p);
        return;
    }
    /* a second file with the same contents: the merge of several files */
    CHECK(sp_profile_read_mem(p, "second.bin", data, size, err, sizeof(err)) == 0);
    check_model(p);

    /* The symbolizer opens the files named in the profile; here no module
     * is a file, so that no input makes the fuzzer read the disk. */
    for (size_t i = 0; i < p->nmodules; i++)
        p->modules[i].kind = SP_MOD_OTHER;
    info_view(p);

    /* flat: symbolize, aggregate; then one of the filters (chosen by the
     * input's size) over the symbolized model, and aggregate again */
    sp_symbolize(p);
    check_symbolic(p);
    flat_view(p);
    size_t before = p->nsamples;
    size_t kept = filter_apply(p, &filters[size % 4]);
    CHECK(kept == p->nsamples && kept <= before);
    check_symbolic(p);
    flat_view(p);
    sp_profile_free(p);
}
