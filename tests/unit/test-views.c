/* SPDX-License-Identifier: MIT */
/*
 * The shared parts of the report views on a model built by hand (no file,
 * no symbolizer): the call tree (analyzer/calltree.c) top-down, inverted
 * and in both orders, per-function sums under recursion, and the filters
 * (analyzer/filter.c): option parsing and the effect of each filter on the
 * samples and stacks.
 *
 * The model, 10 samples of 1 ms, process 42, t0 = 1 s:
 *   main;a;b;inl    5 samples, thread 100 "main-thread" (inl is inlined into b)
 *   main;c          3 samples, thread 101 "worker"
 *   main;rec;rec;rec 1 sample,  thread 100
 *   main;a          1 sample,  thread 100
 * sample i is taken at t0 + (i + 1) ms, in the order of the pattern below.
 *
 * The analyzer files are compiled into this test directly (tests/run.sh
 * links unit tests with common/ only); the symbolizer is a stub.
 */
#include <string.h>

#include "../../analyzer/aggregate.c"
#include "../../analyzer/calltree.c"
#include "../../analyzer/cli.c"
#include "../../analyzer/filter.c"
#include "../../analyzer/output.c"
#include "../../analyzer/profile.c"
#include "../../analyzer/util.c"
#include "stacks.h"
#include "unit.h"

/* the model is symbolized by construction */
void sp_symbolize(struct sp_profile *p)
{
    p->symbolized = 1;
}

void sp_symbolizer_free(struct sp_symbolizer *s)
{
    (void)s;
}

void sp_symbolize_prefetch(struct sp_profile *p, uint32_t proc)
{
    (void)p;
    (void)proc;
}

enum { F_MAIN, F_A, F_B, F_INL, F_C, F_REC };
static const char *const fnames[] = {"main", "a", "b", "inl", "c", "rec"};

static uint32_t model_stack(struct sp_profile *p, const uint32_t *fr, uint32_t n)
{
    GROW_BIG(p->stack_frames, p->stack_frames_cap, p->nstack_frames + n);
    memcpy(p->stack_frames + p->nstack_frames, fr, n * sizeof(*fr));
    GROW_BIG(p->stacks, p->stacks_cap, p->nstacks + 1);
    p->stacks[p->nstacks] = (struct sp_stack){(uint32_t)p->nstack_frames, n, 0};
    p->nstack_frames += n;
    return (uint32_t)p->nstacks++;
}

static struct sp_profile *model(void)
{
    struct sp_profile *p = sp_profile_new();
    const char *none = strtab_intern(&p->strs, "");
    const char *mod = strtab_intern(&p->strs, "prog");
    for (uint32_t f = 0; f < 6; f++) {
        GROW(p->funcs, p->funcs_cap, p->nfuncs + 1);
        p->funcs[p->nfuncs++] = (struct sp_func){strtab_intern(&p->strs, fnames[f]), mod, none, 0};
        GROW(p->sframes, p->sframes_cap, p->nsframes + 1);
        p->sframes[p->nsframes++] = (struct sp_frame){f, none, 10 + f, f == F_INL};
    }
    GROW(p->procs, p->procs_cap, 1);
    memset(&p->procs[0], 0, sizeof(p->procs[0]));
    p->procs[0].has_process = 1;
    p->procs[0].pid = 42;
    p->procs[0].start_mono_ns = 1000000000u;
    p->procs[0].comm = "prog";
    p->nprocs = 1;
    GROW(p->threads, p->threads_cap, 2);
    p->threads[0] = (struct sp_thread){0, 100, "main-thread", 0, SP_TIME_MAX, 0, 0, 0};
    p->threads[1] = (struct sp_thread){0, 101, "worker", 0, SP_TIME_MAX, 0, 0, 0};
    p->nthreads = 2;
    static const uint32_t s0[] = {F_MAIN, F_A, F_B, F_INL}, s1[] = {F_MAIN, F_C},
                          s2[] = {F_MAIN, F_REC, F_REC, F_REC}, s3[] = {F_MAIN, F_A};
    model_stack(p, s0, 4);
    model_stack(p, s1, 2);
    model_stack(p, s2, 4);
    model_stack(p, s3, 2);
    static const uint32_t pattern[10] = {0, 1, 0, 0, 1, 2, 0, 1, 0, 3};
    for (uint32_t i = 0; i < 10; i++) {
        GROW_BIG(p->samples, p->samples_cap, p->nsamples + 1);
        p->samples[p->nsamples++] = (struct sp_sample){
            pattern[i] == 1, SP_NONE, 1000000000u + (i + 1) * 1000000u, 1000000u, pattern[i], 0};
    }
    p->symbolized = 1;
    return p;
}

/* The node under parent with function f (not inlined unless f is inl). */
static uint32_t child(const struct calltree *t, uint32_t parent, uint32_t f)
{
    return calltree_child(t, parent, f, f == F_INL);
}

static void tree_top_down(void)
{
    struct sp_profile *p = model();
    struct calltree t;
    calltree_build(&t, p, 0, CALLTREE_BY_TOTAL);
    CHECK(t.nodes[0].total == 10 && t.nodes[0].self == 0 && t.nodes[0].total_ns == 10000000u);
    uint32_t m = child(&t, 0, F_MAIN);
    CHECK(m != SP_NONE && t.nodes[m].total == 10 && t.nodes[m].self == 0);
    uint32_t a = child(&t, m, F_A), b = child(&t, a, F_B), inl = child(&t, b, F_INL);
    CHECK(a != SP_NONE && t.nodes[a].total == 6 && t.nodes[a].self == 1);
    CHECK(b != SP_NONE && t.nodes[b].total == 5 && t.nodes[b].self == 0);
    CHECK(inl != SP_NONE && t.nodes[inl].inlined && t.nodes[inl].self == 5);
    CHECK(calltree_child(&t, b, F_INL, 0) == SP_NONE); /* an inlined call is its own node */
    /* recursion: one node per level, each with the one sample */
    uint32_t r = m;
    for (int level = 0; level < 3; level++) {
        r = child(&t, r, F_REC);
        CHECK(r != SP_NONE && t.nodes[r].total == 1 && t.nodes[r].depth == (uint32_t)level + 2);
    }
    CHECK(t.nodes[r].self == 1 && t.max_depth == 4);
    /* children by total: a (6), c (3), rec (1) */
    const struct ct_node *mn = &t.nodes[m];
    CHECK(mn->nkids == 3);
    CHECK(t.kids[mn->kids] == a && t.nodes[t.kids[mn->kids + 1]].func == F_C &&
          t.nodes[t.kids[mn->kids + 2]].func == F_REC);
    /* every node: total = self + children's totals */
    for (size_t i = 0; i < t.nnodes; i++) {
        uint64_t sum = t.nodes[i].self;
        for (uint32_t k = 0; k < t.nodes[i].nkids; k++)
            sum += t.nodes[t.kids[t.nodes[i].kids + k]].total;
        CHECKF(sum == t.nodes[i].total, "node %zu", i);
    }
    calltree_release(&t);
    sp_profile_free(p);
}

static void tree_by_name(void)
{
    struct sp_profile *p = model();
    struct calltree t;
    calltree_build(&t, p, 0, CALLTREE_BY_NAME);
    uint32_t m = child(&t, 0, F_MAIN);
    const struct ct_node *mn = &t.nodes[m];
    CHECK(mn->nkids == 3);
    CHECK(t.nodes[t.kids[mn->kids]].func == F_A && t.nodes[t.kids[mn->kids + 1]].func == F_C &&
          t.nodes[t.kids[mn->kids + 2]].func == F_REC);
    calltree_release(&t);
    calltree_release(&t); /* twice is harmless */
    sp_profile_free(p);
}

static void tree_inverted(void)
{
    struct sp_profile *p = model();
    struct calltree t;
    calltree_build(&t, p, 1, CALLTREE_BY_TOTAL);
    const struct ct_node *root = &t.nodes[0];
    CHECK(root->total == 10 && root->nkids == 4);
    /* leaves by their self samples: inl 5, c 3, then a and rec (1, by name) */
    static const uint32_t want[] = {F_INL, F_C, F_A, F_REC};
    for (int k = 0; k < 4; k++)
        CHECKF(t.nodes[t.kids[root->kids + k]].func == want[k], "kid %d", k);
    uint32_t inl = child(&t, 0, F_INL), b = child(&t, inl, F_B), a = child(&t, b, F_A);
    uint32_t m = child(&t, a, F_MAIN);
    CHECK(m != SP_NONE && t.nodes[m].total == 5 && t.nodes[m].self == 5 && t.nodes[m].nkids == 0);
    uint32_t r1 = child(&t, 0, F_REC), r2 = child(&t, r1, F_REC), r3 = child(&t, r2, F_REC);
    CHECK(r3 != SP_NONE && child(&t, r3, F_MAIN) != SP_NONE);
    calltree_release(&t);
    sp_profile_free(p);
}

static void sums_per_function(void)
{
    struct sp_profile *p = model();
    struct sp_agg *fs = sp_aggregate_funcs(p);
    CHECK(fs[F_MAIN].total == 10 && fs[F_MAIN].self == 0 && fs[F_MAIN].total_ns == 10000000u);
    CHECK(fs[F_A].total == 6 && fs[F_A].self == 1);
    CHECK(fs[F_INL].total == 5 && fs[F_INL].self == 5 && fs[F_INL].self_ns == 5000000u);
    CHECK(fs[F_REC].total == 1 && fs[F_REC].self == 1); /* three frames, one sample */
    CHECK(fs[F_C].total == 3);
    free(fs);
    sp_profile_free(p);
}

/* ---- filters ---- */

static int parse(struct filter_opts *f, int opt, const char *arg)
{
    return filter_parse(f, "test", opt, arg);
}

static void filter_options(void)
{
    struct filter_opts f;
    filter_init(&f);
    CHECK(!filter_active(&f) && !filter_on_stacks(&f));
    CHECK(parse(&f, FILTER_OPT_TIME, "2..5") == 0 && f.time_from == 2 && f.time_to == 5);
    CHECK(parse(&f, FILTER_OPT_TIME, "..0.5") == 0 && f.time_from == 0 && f.time_to == 0.5);
    CHECK(parse(&f, FILTER_OPT_TIME, "1.5..") == 0 && f.time_from == 1.5 && isinf(f.time_to));
    CHECK(parse(&f, FILTER_OPT_TIME, "..") == 0 && f.time_from == 0 && isinf(f.time_to));
    static const char *const bad_times[] = {"5..2",  "x",     "2",      "1..2..3",
                                            "-1..2", "nan..", "1e999.."};
    for (size_t i = 0; i < sizeof(bad_times) / sizeof(bad_times[0]); i++)
        CHECKF(parse(&f, FILTER_OPT_TIME, bad_times[i]) == EXIT_USAGE, "%s", bad_times[i]);
    CHECK(parse(&f, FILTER_OPT_PID, "42") == 0 && f.npids == 1 && f.pids[0] == 42);
    CHECK(parse(&f, FILTER_OPT_PID, "-1") == EXIT_USAGE);
    CHECK(parse(&f, FILTER_OPT_PID, "99999999999") == EXIT_USAGE);
    CHECK(parse(&f, FILTER_OPT_TID, "") == EXIT_USAGE);
    CHECK(parse(&f, FILTER_OPT_FOCUS, "(") == EXIT_USAGE && f.nfocus == 0);
    CHECK(parse(&f, FILTER_OPT_HIDE, "^std::") == 0 && f.nhide == 1);
    CHECK(parse(&f, FILTER_OPT_MAX_DEPTH, "0") == EXIT_USAGE);
    CHECK(parse(&f, FILTER_OPT_MAX_DEPTH, "3") == 0 && f.max_depth == 3);
    CHECK(filter_active(&f) && filter_on_stacks(&f));
    CHECK(filter_is_option(FILTER_OPT_PID) && filter_is_option(FILTER_OPT_MAX_DEPTH) &&
          !filter_is_option('h') && !filter_is_option(FILTER_OPT_END_));
    filter_release(&f);
    filter_release(&f);
    CHECK(!filter_active(&f));
}

/* Applies one filter option to a fresh model; returns it (the caller
 * frees). */
static struct sp_profile *apply(int opt, const char *arg)
{
    struct filter_opts f;
    filter_init(&f);
    struct sp_profile *p = model();
    if (parse(&f, opt, arg) == 0) filter_apply(p, &f);
    filter_release(&f);
    return p;
}

/* Whether every sample's stack holds function fn (want 1) or none does
 * (want 0). */
static int all_stacks(const struct sp_profile *p, uint32_t fn, int want)
{
    for (size_t i = 0; i < p->nsamples; i++) {
        const struct sp_stack *st = &p->stacks[p->samples[i].sym];
        int has = 0;
        for (uint32_t k = 0; k < st->n; k++)
            if (p->sframes[p->stack_frames[st->off + k]].func == fn) has = 1;
        if (has != want) return 0;
    }
    return 1;
}

static void filter_samples(void)
{
    struct sp_profile *p = apply(FILTER_OPT_TID, "worker");
    CHECK(p->nsamples == 3 && all_stacks(p, F_C, 1));
    sp_profile_free(p);
    p = apply(FILTER_OPT_TID, "100");
    CHECK(p->nsamples == 7 && all_stacks(p, F_C, 0));
    sp_profile_free(p);
    p = apply(FILTER_OPT_PID, "42");
    CHECK(p->nsamples == 10);
    sp_profile_free(p);
    p = apply(FILTER_OPT_PID, "7"); /* warns */
    CHECK(p->nsamples == 0);
    sp_profile_free(p);
    /* samples at 1..10 ms: ..0.0035 keeps 1, 2, 3 ms, in order */
    p = apply(FILTER_OPT_TIME, "..0.0035");
    CHECK(p->nsamples == 3 && p->samples[0].time < p->samples[1].time &&
          p->samples[1].time < p->samples[2].time);
    sp_profile_free(p);
    p = apply(FILTER_OPT_TIME, "0.0035..");
    CHECK(p->nsamples == 7);
    sp_profile_free(p);
}

static void filter_stacks(void)
{
    struct sp_profile *p = apply(FILTER_OPT_FOCUS, "^b$");
    CHECK(p->nsamples == 5 && all_stacks(p, F_B, 1) && all_stacks(p, F_MAIN, 1));
    sp_profile_free(p);
    p = apply(FILTER_OPT_HIDE, "^b$");
    CHECK(p->nsamples == 10 && all_stacks(p, F_B, 0));
    struct sp_agg *fs = sp_aggregate_funcs(p);
    CHECK(fs[F_INL].self == 5 && fs[F_A].total == 6);
    free(fs);
    struct calltree t;
    calltree_build(&t, p, 0, CALLTREE_BY_TOTAL);
    uint32_t a = child(&t, child(&t, 0, F_MAIN), F_A);
    CHECK(child(&t, a, F_INL) != SP_NONE); /* b's callee moved up to a */
    calltree_release(&t);
    sp_profile_free(p);
    p = apply(FILTER_OPT_HIDE, "."); /* every frame: every sample goes */
    CHECK(p->nsamples == 0);
    sp_profile_free(p);
    p = apply(FILTER_OPT_NO_INLINE, NULL);
    CHECK(p->nsamples == 10 && all_stacks(p, F_INL, 0));
    fs = sp_aggregate_funcs(p);
    CHECK(fs[F_B].self == 5);
    free(fs);
    sp_profile_free(p);
    p = apply(FILTER_OPT_MAX_DEPTH, "2");
    fs = sp_aggregate_funcs(p);
    CHECK(p->nsamples == 10 && fs[F_A].self == 6 && fs[F_REC].self == 1 && fs[F_REC].total == 1 &&
          fs[F_B].total == 0);
    free(fs);
    for (size_t i = 0; i < p->nsamples; i++)
        CHECK(p->stacks[p->samples[i].sym].n <= 2);
    sp_profile_free(p);
}

/* Several filters at once, in their documented order: --no-inline, then
 * --focus, --hide, --max-depth. */
static void filter_order(void)
{
    struct filter_opts f;
    filter_init(&f);
    struct sp_profile *p = model();
    CHECK(parse(&f, FILTER_OPT_NO_INLINE, NULL) == 0);
    CHECK(parse(&f, FILTER_OPT_FOCUS, "^inl$") == 0); /* no-inline came first: nothing */
    filter_apply(p, &f);
    CHECK(p->nsamples == 0);
    sp_profile_free(p);
    filter_release(&f);

    filter_init(&f);
    p = model();
    CHECK(parse(&f, FILTER_OPT_FOCUS, "^b$") == 0);
    CHECK(parse(&f, FILTER_OPT_HIDE, "^b$") == 0); /* focus sees b before it is hidden */
    CHECK(parse(&f, FILTER_OPT_MAX_DEPTH, "1") == 0);
    CHECK(parse(&f, FILTER_OPT_TID, "main-thread") == 0);
    filter_apply(p, &f);
    struct sp_agg *fs = sp_aggregate_funcs(p);
    CHECK(p->nsamples == 5 && fs[F_MAIN].self == 5);
    free(fs);
    sp_profile_free(p);
    filter_release(&f);
}

/* A profile of many chunks (stacks defined again in every chunk that uses
 * them, ids beyond the first ones, a sample of an undefined stack, one
 * damaged chunk) reads into the same model whether its chunks are
 * decompressed on a second thread, one ahead, or not. */
static void reader_ahead(void)
{
    struct sprof_buf file, chunk, rec;
    sprof_buf_init(&file);
    sprof_buf_init(&chunk);
    sprof_buf_init(&rec);
    struct sprof_file_header h = {SPROF_VERSION, SPROF_FILE_HEADER_SIZE, 0, 7, 42};
    sprof_file_header_put(&file, &h);
    struct sprof_chunk_encoder e;
    sprof_chunk_encoder_init(&e, &sprof_zstd_linked, 1, 0);
    unsigned long long rnd = 12345;
    size_t damaged_at = 0;
    char err[128];
    for (uint32_t k = 0; k < 40; k++) {
        sprof_buf_reset(&chunk);
        for (uint32_t i = 0; i < 50; i++) {
            uint64_t id = k < 20 ? unit_rand(&rnd) % (30 * (k + 1)) : 5000 + unit_rand(&rnd) % 9;
            uint32_t n = 1 + (uint32_t)(id % 12);
            sprof_buf_reset(&rec);
            sprof_buf_put_uvarint(&rec, id);
            sprof_buf_put_uvarint(&rec, id % 3 == 0 ? SPROF_STACK_TRUNCATED : 0);
            sprof_buf_put_uvarint(&rec, n);
            sprof_buf_put_uvarint(&rec, 0x400000 + id * 64);
            for (uint32_t f = 1; f < n; f++)
                sprof_buf_put_svarint(&rec, (int64_t)(f * 977) - 3000);
            sprof_buf_put_record(&chunk, SPROF_REC_STACK, &rec);
            sprof_buf_reset(&rec);
            sprof_buf_put_uvarint(&rec, 100 + k % 3);
            sprof_buf_put_uvarint(&rec, 1000000u * k);
            sprof_buf_put_uvarint(&rec, 2);
            for (int s = 0; s < 2; s++) {
                sprof_buf_put_uvarint(&rec, 100000);
                sprof_buf_put_uvarint(&rec, 99000 + unit_rand(&rnd) % 2000);
                sprof_buf_put_uvarint(&rec, k == 33 && i == 7 && s ? 999999 : id);
            }
            sprof_buf_put_record(&chunk, SPROF_REC_SAMPLES, &rec);
        }
        if (k == 17) damaged_at = file.len + SPROF_CHUNK_HEADER_SIZE + 9;
        CHECK(sprof_chunk_encode(&e, k, chunk.data, chunk.len, &file, err, sizeof(err)) == 0);
    }
    sprof_chunk_encoder_release(&e);
    file.data[damaged_at] ^= 0x40;
    sprof_log_set_quiet(1);
    struct sp_profile *p[2];
    for (int t = 0; t < 2; t++) {
        ahead_min_size = t ? 0 : SIZE_MAX;
        p[t] = sp_profile_new();
        CHECK(sp_profile_read_mem(p[t], "big.bin", file.data, file.len, err, sizeof(err)) == 0);
    }
    ahead_min_size = 1u << 20;
    sprof_log_set_quiet(0);
    sprof_buf_release(&file);
    sprof_buf_release(&chunk);
    sprof_buf_release(&rec);
    const struct sp_process *a = &p[0]->procs[0], *b = &p[1]->procs[0];
    CHECKF(a->chunks_ok == 39 && a->chunks_bad == 1, "%llu intact, %llu damaged",
           (unsigned long long)a->chunks_ok, (unsigned long long)a->chunks_bad);
    CHECK(a->unknown_stack == 1);
    CHECK(b->chunks_ok == a->chunks_ok && b->chunks_bad == a->chunks_bad);
    CHECK(b->nstacks == a->nstacks && b->unknown_stack == a->unknown_stack);
    CHECK(b->bad_records == a->bad_records && b->bytes_skipped == a->bytes_skipped);
    CHECK(p[1]->nsamples == p[0]->nsamples && p[0]->nsamples == 39 * 100);
    CHECK(p[1]->nraw == p[0]->nraw && p[1]->nframes == p[0]->nframes);
    CHECK(memcmp(p[1]->frames, p[0]->frames, p[0]->nframes * sizeof(uint64_t)) == 0);
    for (size_t i = 0; i < p[0]->nraw; i++) {
        const struct sp_rawstack *x = &p[0]->raw[i], *y = &p[1]->raw[i];
        CHECKF(x->off == y->off && x->nframes == y->nframes && x->flags == y->flags, "stack %zu",
               i);
    }
    for (size_t i = 0; i < p[0]->nsamples; i++) {
        const struct sp_sample *x = &p[0]->samples[i], *y = &p[1]->samples[i];
        CHECKF(x->stack == y->stack && x->time == y->time && x->weight_ns == y->weight_ns &&
                   x->thread == y->thread,
               "sample %zu", i);
    }
    sp_profile_free(p[0]);
    sp_profile_free(p[1]);
}

/* Stacks of a recursive program: a root path of 3 frames, then up to 40
 * frames drawn from 6 return addresses, mostly the same as the stack
 * before (deep stacks that differ near the leaf), so that they share long
 * runs of outermost frames. */
static unsigned make_stack(uint64_t *f, const uint64_t *prev, unsigned nprev,
                           unsigned long long *rnd)
{
    unsigned keep = nprev > 3 ? 3 + (unsigned)(unit_rand(rnd) % (nprev - 2)) : 3;
    unsigned n = keep + (unsigned)(unit_rand(rnd) % 8);
    if (n > 43) n = 43;
    /* built root first, then reversed: f[0] is the innermost frame */
    uint64_t r[64];
    for (unsigned i = 0; i < n; i++) {
        if (i < 3)
            r[i] = 0x401000 + 0x10 * i;
        else if (i < keep && i < nprev)
            r[i] = prev[nprev - 1 - i];
        else
            r[i] = 0x7f0000001000 + 0x40 * (unit_rand(rnd) % 6) + (i == n - 1 ? 3 : 0);
    }
    for (unsigned i = 0; i < n; i++)
        f[i] = r[n - 1 - i];
    return n;
}

/* The trie finds, for every stack, the stack added before it with the
 * longest run of the same outermost frames, the latest such (a brute-force
 * search agrees), whether the stack before it shares many of them or none;
 * past its node limit it still finds them among the stacks it holds. */
static void trie_longest_run(void)
{
    enum { N = 400 };
    static uint64_t frames[N][64];
    unsigned nf[N];
    unsigned long long rnd = 4242;
    for (unsigned i = 0; i < N; i++) {
        /* every fifth stack unlike the one before it */
        const uint64_t *prev = i && i % 5 ? frames[i - 1] : NULL;
        unsigned np = i && i % 5 ? nf[i - 1] : 0;
        if (!prev && i) {
            unsigned j = (unsigned)(unit_rand(&rnd) % i);
            prev = frames[j];
            np = nf[j];
        }
        nf[i] = make_stack(frames[i], prev, np, &rnd);
    }
    for (int limited = 0; limited < 2; limited++) {
        struct sprof_stack_trie t;
        sprof_stack_trie_init(&t, limited ? 300 : 1u << 16);
        unsigned held = 0; /* stacks wholly in the trie */
        for (unsigned i = 0; i < N; i++) {
            unsigned best = 0, latest = UINT32_MAX;
            for (unsigned j = 0; j < (limited ? held : i); j++) {
                unsigned l = 0;
                while (l < nf[i] && l < nf[j] &&
                       frames[i][nf[i] - 1 - l] == frames[j][nf[j] - 1 - l])
                    l++;
                if (l && l >= best) best = l, latest = j;
            }
            uint32_t base = UINT32_MAX;
            unsigned got = sprof_stack_trie_add(&t, frames[i], nf[i], i, &base);
            if (limited) {
                /* at least what the stacks held wholly share */
                CHECKF(got >= best, "stack %u: %u shared, at least %u", i, got, best);
                if (t.n < t.max_nodes) held = i + 1;
            } else {
                CHECKF(got == best && (!got || base == latest),
                       "stack %u: %u shared with %u, brute force %u with %u", i, got, base, best,
                       latest);
            }
            if (got) {
                CHECK(base < i && nf[base] >= got);
                CHECK(memcmp(frames[i] + nf[i] - got, frames[base] + nf[base] - got,
                             got * sizeof(uint64_t)) == 0);
            }
        }
        sprof_stack_trie_reset(&t);
        uint32_t base = UINT32_MAX;
        CHECK(sprof_stack_trie_add(&t, frames[7], nf[7], 7, &base) == 0 && base == UINT32_MAX);
        sprof_stack_trie_release(&t);
    }
}

/* A sample's stack id as a step: the id after the record's greatest so far
 * is written 0, any other id as itself plus one, and every id comes back;
 * a step to the largest id does not wrap the ids after it. */
static void sample_id_steps(void)
{
    const uint64_t ids[] = {5, 6, 7, 3, 8, 8, 20, 0, 21, 7, UINT32_MAX, 2, 0};
    const uint64_t want[] = {6, 0, 0, 4, 0, 9, 21, 1, 0, 8, UINT32_MAX + 1ull, 3, 1};
    uint64_t put = 0, get = 0;
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        uint64_t v = sprof_sample_id_put(ids[i], &put);
        CHECKF(v == want[i], "id %llu: step %llu, want %llu", (unsigned long long)ids[i],
               (unsigned long long)v, (unsigned long long)want[i]);
        uint64_t id = sprof_sample_id_get(v, &get);
        CHECKF(id == ids[i] && get == put, "step %llu: id %llu, want %llu", (unsigned long long)v,
               (unsigned long long)id, (unsigned long long)ids[i]);
    }
    uint64_t next = 9;
    CHECK(sprof_sample_id_get(UINT64_MAX, &next) == UINT64_MAX - 1 && next == UINT64_MAX);
    CHECK(sprof_sample_id_get(0, &next) == UINT64_MAX && next == UINT64_MAX);
}

/* Reads the file's bytes into *q, a new profile, the reader's warnings
 * quiet (the malformed records of these tests): sp_profile_read_mem's. */
static int read_quietly(const char *name, const struct sprof_buf *file, struct sp_profile **q)
{
    char err[128];
    sprof_log_set_quiet(1);
    *q = sp_profile_new();
    int rc = sp_profile_read_mem(*q, name, file->data, file->len, err, sizeof(err));
    sprof_log_set_quiet(0);
    return rc;
}

/* A profile written four times, in the plain encodings (header flags 0),
 * with STACK records sharing their outermost frames, with a chunk's stacks
 * in a STACKS record (common/stacks.c, sharing frames too; samples by
 * column, their stack ids as steps), and as libsprof writes it (the same,
 * where a stack leaves its base a difference from the base's frame), over
 * 12 chunks that each define the stacks they use, reads into the same model;
 * and a shared stack whose base is not defined in its own chunk, or that
 * takes more frames than its base has, is a malformed record. */
static void shared_stacks(void)
{
    enum { NSTACKS = 300, CHUNKS = 12, PER = 80 };
    static uint64_t frames[NSTACKS][64];
    unsigned nf[NSTACKS];
    unsigned long long rnd = 777;
    for (unsigned i = 0; i < NSTACKS; i++)
        nf[i] = make_stack(frames[i], i ? frames[i - 1] : NULL, i ? nf[i - 1] : 0, &rnd);
    struct sprof_buf file[4], chunk, rec, col[3];
    for (int v = 0; v < 4; v++)
        sprof_buf_init(&file[v]);
    struct sprof_stacks_enc senc;
    sprof_stacks_enc_init(&senc);
    sprof_buf_init(&chunk);
    sprof_buf_init(&rec);
    for (int k = 0; k < 3; k++)
        sprof_buf_init(&col[k]);
    struct sprof_stack_trie trie;
    sprof_stack_trie_init(&trie, 1u << 16);
    struct sprof_chunk_encoder e;
    sprof_chunk_encoder_init(&e, &sprof_zstd_linked, 1, 0);
    char err[128];
    unsigned shared_total = 0;
    for (int v = 0; v < 4; v++) { /* plain, STACK records sharing frames, STACKS twice */
        uint32_t flags = v == 0   ? 0
                         : v == 3 ? SPROF_FLAGS_KNOWN
                                  : SPROF_FLAGS_KNOWN & ~(uint32_t)SPROF_FLAG_STACK_SIBLINGS;
        struct sprof_file_header h = {SPROF_VERSION, SPROF_FILE_HEADER_SIZE, flags, 9, 43};
        sprof_file_header_put(&file[v], &h);
        rnd = 99;
        for (uint32_t k = 0; k < CHUNKS; k++) {
            uint32_t defined[NSTACKS] = {0};
            sprof_buf_reset(&chunk);
            sprof_stack_trie_reset(&trie);
            sprof_stacks_enc_reset(&senc);
            senc.siblings = v == 3;
            for (int k3 = 0; k3 < 3; k3++)
                sprof_buf_reset(&col[k3]);
            uint32_t ids[PER], order[PER], nused = 0, prev = 0;
            for (unsigned i = 0; i < PER; i++) {
                /* stacks near this chunk's place in the run, as a program moves on */
                uint32_t id = (uint32_t)((k * 20 + unit_rand(&rnd) % 60) % NSTACKS);
                ids[i] = id;
                if (!defined[id]) order[nused++] = id;
                defined[id] = 1;
            }
            /* plain: in the order of first use; shared: in increasing order */
            if (v)
                for (uint32_t id = 0, j = 0; id < NSTACKS; id++)
                    if (defined[id]) order[j++] = id;
            for (uint32_t j = 0; j < nused; j++) {
                uint32_t id = order[j];
                sprof_buf_reset(&rec);
                if (v) {
                    uint32_t base = 0;
                    unsigned sh = sprof_stack_trie_add(&trie, frames[id], nf[id], id, &base);
                    shared_total += sh;
                    if (v >= 2) {
                        sprof_stacks_enc_add(&senc, id, id % 7 == 0, frames[id], nf[id], base,
                                             frames[base], sh);
                        continue;
                    }
                    sprof_put_stack_shared(&rec, id, prev, id % 7 == 0, frames[id], nf[id], base,
                                           sh);
                    prev = id;
                } else {
                    sprof_buf_put_uvarint(&rec, id);
                    sprof_buf_put_uvarint(&rec, id % 7 == 0);
                    sprof_buf_put_uvarint(&rec, nf[id]);
                    for (unsigned f = 0; f < nf[id]; f++) {
                        if (f == 0)
                            sprof_buf_put_uvarint(&rec, frames[id][0]);
                        else
                            sprof_buf_put_svarint(&rec,
                                                  (int64_t)(frames[id][f] - frames[id][f - 1]));
                    }
                }
                sprof_buf_put_record(&chunk, SPROF_REC_STACK, &rec);
            }
            if (v >= 2) CHECK(sprof_stacks_enc_put(&senc, &chunk) == 0);
            sprof_buf_reset(&rec);
            sprof_buf_put_uvarint(&rec, 100);
            sprof_buf_put_uvarint(&rec, 1000000000ull * (k + 1));
            sprof_buf_put_uvarint(&rec, PER);
            int units = !!(flags & SPROF_FLAG_SAMPLE_TIME_UNITS); /* the times in us */
            if (units) sprof_buf_put_uvarint(&rec, 1000);
            uint64_t next = 0;
            for (unsigned i = 0; i < PER; i++) {
                uint64_t dt = 990000 + 1000 * (unit_rand(&rnd) % 20), w = i % 9 ? 1000000 : 2000000;
                if (v) {
                    sprof_buf_put_uvarint(&col[0], units ? dt / 1000 : dt);
                    sprof_buf_put_uvarint(&col[1], w);
                    sprof_buf_put_uvarint(&col[2], sprof_sample_id_put(ids[i], &next));
                } else {
                    sprof_buf_put_uvarint(&rec, dt);
                    sprof_buf_put_uvarint(&rec, w);
                    sprof_buf_put_uvarint(&rec, ids[i]);
                }
            }
            for (int k3 = 0; k3 < 3; k3++)
                sprof_buf_put(&rec, col[k3].data, col[k3].len);
            sprof_buf_put_record(&chunk, SPROF_REC_SAMPLES, &rec);
            CHECK(sprof_chunk_encode(&e, k, chunk.data, chunk.len, &file[v], err, sizeof(err)) ==
                  0);
        }
    }
    /* the stacks do share: most of their frames came from a base */
    CHECKF(shared_total > 10 * CHUNKS * 20, "%u frames shared", shared_total);
    /* and some leave their base at a new address, written from the base's
     * frame there: the chunks differ (the headers aside) */
    CHECK(file[3].len != file[2].len ||
          memcmp(file[3].data + SPROF_FILE_HEADER_SIZE, file[2].data + SPROF_FILE_HEADER_SIZE,
                 file[2].len - SPROF_FILE_HEADER_SIZE) != 0);
    struct sp_profile *p[4];
    for (int v = 0; v < 4; v++) {
        p[v] = sp_profile_new();
        CHECK(sp_profile_read_mem(p[v], "s.bin", file[v].data, file[v].len, err, sizeof(err)) == 0);
        CHECK(p[v]->procs[0].bad_records == 0 && p[v]->procs[0].unknown_stack == 0);
    }
    for (int v = 1; v < 4; v++) {
        CHECKF(file[v].len * 20 < file[0].len * 19, "form %d: %zu bytes, plain %zu", v, file[v].len,
               file[0].len);
        CHECK(p[0]->nsamples == CHUNKS * PER && p[v]->nsamples == p[0]->nsamples);
        CHECK(p[v]->nraw == p[0]->nraw);
        for (size_t i = 0; i < p[0]->nsamples; i++) {
            const struct sp_sample *x = &p[0]->samples[i], *y = &p[v]->samples[i];
            const struct sp_rawstack *a = &p[0]->raw[x->stack], *b = &p[v]->raw[y->stack];
            CHECKF(x->time == y->time && x->weight_ns == y->weight_ns && x->thread == y->thread &&
                       a->nframes == b->nframes && a->flags == b->flags &&
                       memcmp(p[0]->frames + a->off, p[v]->frames + b->off,
                              a->nframes * sizeof(uint64_t)) == 0,
                   "form %d, sample %zu", v, i);
        }
    }
    for (int v = 0; v < 4; v++)
        sp_profile_free(p[v]);

    /* malformed: stack 2 takes 2 frames of stack 0, which chunks 0 and 2
     * define but chunk 1 does not; stack 3, 5 frames of stack 0, which has
     * 4; in chunk 3, after stack 5, an id that does not increase: the ids
     * of the chunk's later records (one without any, stack 6) are unknown */
    struct sprof_buf bad;
    sprof_buf_init(&bad);
    struct sprof_file_header h = {SPROF_VERSION, SPROF_FILE_HEADER_SIZE, SPROF_FLAGS_KNOWN, 9, 44};
    sprof_file_header_put(&bad, &h);
    const uint64_t f0[4] = {0x1000, 0x2000, 0x3000, 0x4000};
    for (uint32_t k = 0; k < 3; k++) {
        sprof_buf_reset(&chunk);
        sprof_buf_reset(&rec);
        if (k != 1) {
            sprof_put_stack_shared(&rec, 0, 0, 0, f0, 4, 0, 0);
            sprof_buf_put_record(&chunk, SPROF_REC_STACK, &rec);
            sprof_buf_reset(&rec);
        }
        sprof_put_stack_shared(&rec, 1 + k, 0, 0, f0, k == 2 ? 5 : 3, 0, k == 2 ? 5 : 2);
        sprof_buf_put_record(&chunk, SPROF_REC_STACK, &rec);
        CHECK(sprof_chunk_encode(&e, k, chunk.data, chunk.len, &bad, err, sizeof(err)) == 0);
    }
    sprof_buf_reset(&chunk);
    for (int i = 0; i < 4; i++) {
        sprof_buf_reset(&rec);
        if (i == 0) sprof_put_stack_shared(&rec, 5, 0, 0, f0, 1, 0, 0);
        if (i == 1) sprof_put_stack_shared(&rec, 5, 5, 0, f0, 1, 0, 0);
        if (i == 3) sprof_put_stack_shared(&rec, 6, 5, 0, f0, 1, 0, 0);
        sprof_buf_put_record(&chunk, SPROF_REC_STACK, &rec);
    }
    CHECK(sprof_chunk_encode(&e, 3, chunk.data, chunk.len, &bad, err, sizeof(err)) == 0);
    struct sp_profile *q;
    CHECK(read_quietly("bad.bin", &bad, &q) == 0);
    /* chunk 0: stacks 0 and 1 (2 frames of 0, defined before it) are good;
     * chunk 3: stack 5 */
    CHECKF(q->procs[0].bad_records == 5 && q->nraw == 3, "%llu bad records, %zu stacks",
           (unsigned long long)q->procs[0].bad_records, q->nraw);
    CHECK(q->nraw == 3 && q->raw[1].nframes == 3 && q->raw[2].nframes == 1 &&
          memcmp(q->frames + q->raw[1].off, (uint64_t[]){0x1000, 0x3000, 0x4000},
                 3 * sizeof(uint64_t)) == 0);
    sp_profile_free(q);
    sprof_buf_release(&bad);
    sprof_stack_trie_release(&trie);
    sprof_chunk_encoder_release(&e);
    for (int v = 0; v < 4; v++)
        sprof_buf_release(&file[v]);
    sprof_stacks_enc_release(&senc);
    sprof_buf_release(&chunk);
    sprof_buf_release(&rec);
    for (int k = 0; k < 3; k++)
        sprof_buf_release(&col[k]);
}

/* STACKS records written by hand, as sprof-format(5) gives them: columns,
 * addresses, codes; a base by its distance back (even) or its id (odd); a
 * stack's new outermost own frame from its base's frame there with header
 * flag 16 (sib), from the address before it without. A code past the
 * addresses taken, a base outside the chunk, or a count the record cannot
 * hold make the record malformed: the stacks before the bad one stay, the
 * chunk's later STACKS records are malformed too (their ids are unknown). */
static void stacks_records_read(int sib)
{
    struct sprof_buf file, chunk, rec;
    sprof_buf_init(&file);
    sprof_buf_init(&chunk);
    sprof_buf_init(&rec);
    struct sprof_chunk_encoder e;
    sprof_chunk_encoder_init(&e, &sprof_zstd_linked, 1, 0);
    uint32_t flags =
        sib ? SPROF_FLAGS_KNOWN : SPROF_FLAGS_KNOWN & ~(uint32_t)SPROF_FLAG_STACK_SIBLINGS;
    struct sprof_file_header h = {SPROF_VERSION, SPROF_FILE_HEADER_SIZE, flags, 9, 45};
    sprof_file_header_put(&file, &h);
    char err[128];
    /* each record: count, then dids, flags, nowns, bases, nbase (the base's
     * frames not taken) of those with a base, naddrs, the addresses'
     * differences, the codes */
    const int64_t recs[][32] = {
        /* stacks 0 (3 frames), 1 (2 + 2 of stack 0, one back: its outer
         * own frame new, with flag 16 from stack 0's frame at that depth,
         * 0x1000, else from the address before it), 2 (1 + 3 of stack 0
         * by its id) */
        {3, 0, 1,      1,      0,      1,     0,    3, 2, 1, 0, 2, 1, 1,
         0, 5, 0x1000, 0x1000, 0x1000, 0x100, 0x10, 0, 0, 0, 0, 0, 1, -1},
        /* stack 3, then a code past the one address taken */
        {2, 3, 1, 0, 0, 1, 1, 0, 0, 1, 0x5000, 0, 5, -1},
        /* a later record of the same chunk: its ids are unknown */
        {1, 5, 0, 1, 0, 1, 0x6000, 0, -1},
        /* stack 6 takes frames of stack 0, not defined in this chunk */
        {1, 6, 0, 1, 1, 2, 1, 0x7000, 0, -1},
        /* more stacks than bytes */
        {1000, 7, 0, 1, 0, -1},
    };
    const int chunk_of[] = {0, 1, 1, 2, 3};
    for (int i = 0, k = 0; i < 5; i++) {
        sprof_buf_reset(&rec);
        /* the address differences are signed, the rest unsigned: a record's
         * naddrs is followed by that many differences */
        const int64_t *v = recs[i];
        int n = 0;
        while (n < 32 && v[n] != -1)
            n++;
        uint64_t count = (uint64_t)v[0];
        int at = 0;
        sprof_buf_put_uvarint(&rec, (uint64_t)v[at++]);
        if (count > 10) {
            sprof_buf_put_uvarint(&rec, 7);
        } else {
            int bases = 0;
            for (uint64_t c = 0; c < 4 * count; c++) {
                if (c >= 3 * count && v[at]) bases++;
                sprof_buf_put_uvarint(&rec, (uint64_t)v[at++]);
            }
            for (int b = 0; b < bases; b++)
                sprof_buf_put_uvarint(&rec, (uint64_t)v[at++]);
            int64_t naddrs = v[at++];
            sprof_buf_put_uvarint(&rec, (uint64_t)naddrs);
            for (int64_t a = 0; a < naddrs; a++)
                sprof_buf_put_svarint(&rec, v[at++]);
            while (at < n)
                sprof_buf_put_uvarint(&rec, (uint64_t)v[at++]);
        }
        sprof_buf_put_record(&chunk, SPROF_REC_STACKS, &rec);
        if (i == 4 || chunk_of[i + 1] != chunk_of[i]) {
            CHECK(sprof_chunk_encode(&e, (uint32_t)k++, chunk.data, chunk.len, &file, err,
                                     sizeof(err)) == 0);
            sprof_buf_reset(&chunk);
        }
    }
    struct sp_profile *q;
    CHECK(read_quietly("stacks.bin", &file, &q) == 0);
    CHECKF(q->procs[0].bad_records == 4 && q->nraw == 4, "%llu bad records, %zu stacks",
           (unsigned long long)q->procs[0].bad_records, q->nraw);
    const uint64_t want[4][4] = {{0x1000, 0x2000, 0x3000},
                                 {0x3100, sib ? 0x1010 : 0x3110, 0x2000, 0x3000},
                                 {0x1000, 0x1000, 0x2000, 0x3000},
                                 {0x5000}};
    const unsigned wn[4] = {3, 4, 4, 1};
    for (unsigned i = 0; i < 4 && i < q->nraw; i++)
        CHECKF(q->raw[i].nframes == wn[i] && q->raw[i].flags == (i == 1) &&
                   memcmp(q->frames + q->raw[i].off, want[i], wn[i] * sizeof(uint64_t)) == 0,
               "flags %u, stack %u: %u frames, flags %u", flags, i, q->raw[i].nframes,
               q->raw[i].flags);
    sp_profile_free(q);
    sprof_chunk_encoder_release(&e);
    sprof_buf_release(&file);
    sprof_buf_release(&chunk);
    sprof_buf_release(&rec);
}

/* SAMPLES records whose times are in a unit of their own (header flag 32):
 * a time is the one before it plus dt units; a unit of 0, or a dt whose
 * nanoseconds do not fit in 64 bits, make the record malformed. */
static void sample_time_units(void)
{
    struct sprof_buf file, chunk, rec;
    sprof_buf_init(&file);
    sprof_buf_init(&chunk);
    sprof_buf_init(&rec);
    struct sprof_chunk_encoder e;
    sprof_chunk_encoder_init(&e, &sprof_zstd_linked, 1, 0);
    struct sprof_file_header h = {SPROF_VERSION, SPROF_FILE_HEADER_SIZE, SPROF_FLAGS_KNOWN, 9, 46};
    sprof_file_header_put(&file, &h);
    const uint64_t f0[2] = {0x1000, 0x2000};
    sprof_put_stack_shared(&rec, 0, 0, 0, f0, 2, 0, 0);
    sprof_buf_put_record(&chunk, SPROF_REC_STACK, &rec);
    /* tid, base time, count, unit, then by column dts, weights, id steps
     * (0: the next new id, 0; 1: id 0) */
    const uint64_t recs[][13] = {
        {100, 5000000, 3, 6250, 0, 16, 17, 100000, 100000, 100000, 0, 1, 1}, /* good */
        {100, 9000000, 1, 0, 1, 100000, 1},                                  /* unit 0 */
        {100, 9000000, 1, 1ull << 40, 1ull << 30, 100000, 1},                /* 2^70 ns */
    };
    const unsigned nvals[] = {13, 7, 7};
    for (int i = 0; i < 3; i++) {
        sprof_buf_reset(&rec);
        for (unsigned k = 0; k < nvals[i]; k++)
            sprof_buf_put_uvarint(&rec, recs[i][k]);
        sprof_buf_put_record(&chunk, SPROF_REC_SAMPLES, &rec);
    }
    char err[128];
    CHECK(sprof_chunk_encode(&e, 0, chunk.data, chunk.len, &file, err, sizeof(err)) == 0);
    struct sp_profile *q;
    CHECK(read_quietly("units.bin", &file, &q) == 0);
    CHECKF(q->procs[0].bad_records == 2 && q->nsamples == 3, "%llu bad records, %zu samples",
           (unsigned long long)q->procs[0].bad_records, q->nsamples);
    for (unsigned i = 0; i < 3 && i < q->nsamples; i++) {
        uint64_t want = 5000000 + 6250 * (i == 0 ? 0 : i == 1 ? 16 : 33);
        CHECKF(q->samples[i].time == want, "sample %u at %llu, want %llu", i,
               (unsigned long long)q->samples[i].time, (unsigned long long)want);
    }
    sp_profile_free(q);
    sprof_chunk_encoder_release(&e);
    sprof_buf_release(&file);
    sprof_buf_release(&chunk);
    sprof_buf_release(&rec);
}

static void stacks_records(void)
{
    for (int sib = 0; sib < 2; sib++)
        stacks_records_read(sib);
}

int main(void)
{
    unit_prefix = "unit/views";
    RUN(tree_top_down);
    RUN(tree_by_name);
    RUN(tree_inverted);
    RUN(sums_per_function);
    RUN(filter_options);
    RUN(filter_samples);
    RUN(filter_stacks);
    RUN(filter_order);
    RUN(reader_ahead);
    RUN(trie_longest_run);
    RUN(sample_id_steps);
    RUN(shared_stacks);
    RUN(stacks_records);
    RUN(sample_time_units);
    return unit_done();
}
