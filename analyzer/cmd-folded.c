/* SPDX-License-Identifier: MIT */
/*
 * sprof-report folded: collapsed stacks, one line per distinct stack of
 * function names, root first, and its count:
 *
 *   main;work;hot_a 6172
 *
 * the input format of FlameGraph's flamegraph.pl, inferno and speedscope.
 * Inline frames are frames. Lines are sorted (bytewise) so that output is
 * deterministic. Names never hold ';' (replaced by ':') or line breaks.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cli.h"
#include "filter.h"
#include "symbolize.h"

/* A token is what the text of a line is made of, between ';': a frame's
 * function name, or the process or thread a line starts with. */
struct token {
    const char *text; /* ';' and line breaks made harmless */
    size_t len;
    uint32_t rank_mid, rank_last; /* see rank_tokens */
};

struct line {
    uint32_t off, n; /* its tokens: f->seq[off .. off + n) */
    uint64_t value;
};

struct folded {
    struct sp_profile *p;
    int per_thread, per_process, by_time;
    struct token *toks;
    size_t ntoks, toks_cap;
    struct u64map tok_ix; /* interned text -> token */
    uint32_t *func_tok;   /* per function: its token, SP_NONE before first use */
    uint32_t *seq;        /* the lines' tokens */
    size_t nseq, seq_cap;
    struct line *lines;
    size_t nlines, cap;
    struct idset ix;
    struct sprof_buf tmp;
};

/* The token of text s (with ';' and line breaks made harmless). */
static uint32_t token_of(struct folded *f, const char *s)
{
    struct sprof_buf *b = &f->tmp;
    sprof_buf_reset(b);
    sprof_buf_put(b, s, strlen(s) + 1);
    if (b->oom) {
        fprintf(stderr, "sprof-report: out of memory\n");
        exit(2);
    }
    for (size_t i = 0; i + 1 < b->len; i++) {
        char c = (char)b->data[i];
        if (c == ';')
            b->data[i] = ':';
        else if (c == '\n' || c == '\r')
            b->data[i] = ' ';
    }
    const char *t = strtab_intern(&f->p->strs, (const char *)b->data);
    int added;
    uint64_t *v = u64map_put(&f->tok_ix, (uintptr_t)t, 0, f->ntoks, &added);
    if (added) {
        GROW(f->toks, f->toks_cap, f->ntoks + 1);
        f->toks[f->ntoks++] = (struct token){t, strlen(t), 0, 0};
    }
    return (uint32_t)*v;
}

/* A process or thread token: NAME-ID. */
static uint32_t prefix_token(struct folded *f, const char *name, uint32_t id)
{
    char *s = xasprintf("%s-%u", name, id);
    /* the name alone is made harmless: the id has nothing to change */
    uint32_t t = token_of(f, s);
    free(s);
    return t;
}

static uint32_t func_token(struct folded *f, uint32_t func)
{
    if (f->func_tok[func] == SP_NONE) f->func_tok[func] = token_of(f, f->p->funcs[func].name);
    return f->func_tok[func];
}

/* Adds value to the line of tokens f->seq[off..nseq), interning it. */
static void add_line(struct folded *f, size_t off, uint64_t value)
{
    const uint32_t *q = f->seq + off;
    size_t n = f->nseq - off;
    uint64_t h = hash_bytes(q, n * sizeof(*q), 0);
    size_t pos;
    for (uint32_t id = idset_first(&f->ix, h, &pos); id != IDSET_NONE;
         id = idset_next(&f->ix, h, &pos)) {
        const struct line *l = &f->lines[id];
        if (l->n == n && memcmp(f->seq + l->off, q, n * sizeof(*q)) == 0) {
            f->lines[id].value += value;
            f->nseq = off; /* drop the duplicate */
            return;
        }
    }
    if (f->nseq > UINT32_MAX) {
        fprintf(stderr, "sprof-report: too many stacks\n");
        exit(2);
    }
    GROW_BIG(f->lines, f->cap, f->nlines + 1);
    f->lines[f->nlines] = (struct line){(uint32_t)off, (uint32_t)n, value};
    idset_insert(&f->ix, h, (uint32_t)f->nlines);
    f->nlines++;
}

/* Lines are sorted by their text, bytewise. A line's text is its tokens,
 * each followed by ';' but the last, followed by the end of the string.
 * No token holds ';' or a NUL, so the token strings "TEXT;" and "TEXT\0"
 * are a prefix-free set, and comparing two texts is comparing their token
 * strings one by one: each token gets the rank of "TEXT;" (rank_mid) and
 * of "TEXT\0" (rank_last) among all of them, and lines compare as arrays
 * of ranks, without a string comparison per line. */
struct tokref {
    const struct token *t;
    int last;
};

static int tokref_cmp(const void *a, const void *b)
{
    const struct tokref *x = a, *y = b;
    size_t n = x->t->len < y->t->len ? x->t->len : y->t->len;
    int c = memcmp(x->t->text, y->t->text, n);
    if (c) return c;
    /* the byte after the shorter text: ';', or NUL for the last token */
    unsigned char cx = x->t->len > n ? (unsigned char)x->t->text[n] : x->last ? 0 : ';';
    unsigned char cy = y->t->len > n ? (unsigned char)y->t->text[n] : y->last ? 0 : ';';
    if (cx != cy) return cx < cy ? -1 : 1;
    return 0; /* the same token string, so the same token */
}

static void rank_tokens(struct folded *f)
{
    size_t n = 2 * f->ntoks;
    struct tokref *r = xmalloc((n ? n : 1) * sizeof(*r));
    for (size_t i = 0; i < f->ntoks; i++) {
        r[2 * i] = (struct tokref){&f->toks[i], 0};
        r[2 * i + 1] = (struct tokref){&f->toks[i], 1};
    }
    if (n) qsort(r, n, sizeof(*r), tokref_cmp);
    for (size_t i = 0; i < n; i++) {
        struct token *t = (struct token *)r[i].t;
        if (r[i].last)
            t->rank_last = (uint32_t)i;
        else
            t->rank_mid = (uint32_t)i;
    }
    free(r);
}

static const uint32_t *sort_keys; /* per line token position: its rank */

static int line_cmp(const void *a, const void *b)
{
    const struct line *x = a, *y = b;
    const uint32_t *p = sort_keys + x->off, *q = sort_keys + y->off;
    uint32_t n = x->n < y->n ? x->n : y->n;
    for (uint32_t i = 0; i < n; i++)
        if (p[i] != q[i]) return p[i] < q[i] ? -1 : 1;
    return x->n < y->n ? -1 : x->n > y->n;
}

/* Sorts the lines by text (see rank_tokens). */
static void sort_lines(struct folded *f)
{
    rank_tokens(f);
    uint32_t *keys = xmalloc((f->nseq ? f->nseq : 1) * sizeof(*keys));
    for (size_t i = 0; i < f->nlines; i++) {
        const struct line *l = &f->lines[i];
        for (uint32_t k = 0; k < l->n; k++) {
            const struct token *t = &f->toks[f->seq[l->off + k]];
            keys[l->off + k] = k + 1 == l->n ? t->rank_last : t->rank_mid;
        }
    }
    sort_keys = keys;
    if (f->nlines) qsort(f->lines, f->nlines, sizeof(*f->lines), line_cmp);
    free(keys);
}

static void print_lines(struct folded *f)
{
    struct sprof_buf *b = &f->tmp;
    char num[32];
    for (size_t i = 0; i < f->nlines; i++) {
        const struct line *l = &f->lines[i];
        if (!l->value) continue; /* zero-weight samples with --weight time */
        sprof_buf_reset(b);
        for (uint32_t k = 0; k < l->n; k++) {
            const struct token *t = &f->toks[f->seq[l->off + k]];
            if (k) sprof_buf_put_u8(b, ';');
            sprof_buf_put(b, t->text, t->len);
        }
        int m = snprintf(num, sizeof(num), " %llu\n", (unsigned long long)l->value);
        sprof_buf_put(b, num, (size_t)m);
        if (b->oom) {
            fprintf(stderr, "sprof-report: out of memory\n");
            exit(2);
        }
        fwrite(b->data, 1, b->len, stdout);
    }
}

static const char usage_text[] =
    "usage: sprof-report folded [OPTIONS] FILE...\n"
    "\n"
    "Collapsed stacks, one line per distinct stack: 'root;caller;...;leaf COUNT',\n"
    "sorted, for flamegraph.pl, inferno-flamegraph or speedscope. Inlined\n"
    "functions are frames of their own.\n"
    "\n"
    "options:\n"
    "  --weight samples|time   count samples (default) or CPU time in ns\n"
    "  --per-thread            start each stack with the thread, 'name-tid'\n"
    "  --per-process           start each stack with the process, 'command-pid'\n"
    "  -h, --help              this text\n"
    FILTER_USAGE;

static int run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"weight", required_argument, NULL, 'w'},
        {"per-thread", no_argument, NULL, 't'},
        {"per-process", no_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        FILTER_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    struct filter_opts flt;
    filter_init(&flt);
    struct folded f;
    memset(&f, 0, sizeof(f));
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (filter_is_option(c)) {
            if (filter_parse(&flt, "folded", c, optarg)) goto usage;
            continue;
        }
        switch (c) {
        case 'w':
            if (strcmp(optarg, "samples") == 0)
                f.by_time = 0;
            else if (strcmp(optarg, "time") == 0)
                f.by_time = 1;
            else {
                cli_usage_error("folded", "--weight takes samples or time, not '%s'", optarg);
                goto usage;
            }
            break;
        case 't':
            f.per_thread = 1;
            break;
        case 'p':
            f.per_process = 1;
            break;
        case 'h':
            fputs(usage_text, stdout);
            filter_release(&flt);
            return 0;
        default:
            cli_bad_option("folded", argv, c);
            goto usage;
        }
    }
    struct sp_profile *p = cli_load("folded", argc - optind, argv + optind);
    if (!p) goto usage;
    f.p = p;
    filter_apply(p, &flt);
    sp_symbolize(p);

    /* Group samples by (symbolic stack, thread or process) first: far fewer
     * groups than samples, and each group's line is built once. */
    struct u64map groups = {0};
    uint32_t *by_sym = NULL; /* without --per-*: stack -> group */
    struct group {
        uint32_t sym, thread;
        uint64_t value;
    } *gs = NULL;
    size_t ngs = 0, gcap = 0;
    if (!f.per_thread && !f.per_process) {
        by_sym = xmalloc((p->nstacks ? p->nstacks : 1) * sizeof(*by_sym));
        memset(by_sym, 0xff, (p->nstacks ? p->nstacks : 1) * sizeof(*by_sym));
    }
    for (size_t i = 0; i < p->nsamples; i++) {
        const struct sp_sample *s = &p->samples[i];
        uint32_t g;
        if (by_sym) {
            g = by_sym[s->sym];
            if (g == SP_NONE) {
                GROW(gs, gcap, ngs + 1);
                gs[ngs] = (struct group){s->sym, s->thread, 0};
                g = by_sym[s->sym] = (uint32_t)ngs++;
            }
        } else {
            uint32_t who = f.per_thread ? s->thread : s->proc;
            int added;
            uint64_t *v = u64map_put(&groups, s->sym, who, ngs, &added);
            if (added) {
                GROW(gs, gcap, ngs + 1);
                gs[ngs++] = (struct group){s->sym, s->thread, 0};
            }
            g = (uint32_t)*v;
        }
        gs[g].value += f.by_time ? s->weight_ns : 1;
    }
    sprof_buf_init(&f.tmp);
    f.func_tok = xmalloc((p->nfuncs ? p->nfuncs : 1) * sizeof(*f.func_tok));
    memset(f.func_tok, 0xff, (p->nfuncs ? p->nfuncs : 1) * sizeof(*f.func_tok));
    for (size_t g = 0; g < ngs; g++) {
        size_t start = f.nseq;
        const struct sp_thread *t = &p->threads[gs[g].thread];
        const struct sp_process *pr = &p->procs[t->proc];
        const struct sp_stack *st = &p->stacks[gs[g].sym];
        GROW_BIG(f.seq, f.seq_cap, f.nseq + st->n + 2);
        if (f.per_process)
            f.seq[f.nseq++] = prefix_token(&f, pr->comm[0] ? pr->comm : "pid", pr->pid);
        if (f.per_thread) f.seq[f.nseq++] = prefix_token(&f, sp_thread_name(t), t->tid);
        for (uint32_t i = 0; i < st->n; i++) {
            const struct sp_frame *fr = &p->sframes[p->stack_frames[st->off + i]];
            f.seq[f.nseq++] = func_token(&f, fr->func);
        }
        add_line(&f, start, gs[g].value);
    }
    sort_lines(&f);
    print_lines(&f);

    free(gs);
    free(by_sym);
    u64map_release(&groups);
    FREE_BIG(f.lines, f.cap);
    FREE_BIG(f.seq, f.seq_cap);
    free(f.toks);
    free(f.func_tok);
    u64map_release(&f.tok_ix);
    idset_release(&f.ix);
    sprof_buf_release(&f.tmp);
    sp_profile_free(p);
    filter_release(&flt);
    return 0;
usage:
    filter_release(&flt);
    return EXIT_USAGE;
}

const struct command cmd_folded = {"folded", run, "collapsed stacks for flame graph tools",
                                   usage_text};
