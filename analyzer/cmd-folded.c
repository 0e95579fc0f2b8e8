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

struct line {
    uint64_t off; /* into the text buffer, NUL-terminated */
    uint64_t value;
};

struct folded {
    struct sp_profile *p;
    int per_thread, per_process, by_time;
    struct sprof_buf text; /* every line's text */
    struct line *lines;
    size_t nlines, cap;
    struct idset ix;
};

/* Appends a frame name with ';' and line breaks made harmless. */
static void put_name(struct sprof_buf *b, const char *s)
{
    size_t at = b->len;
    sprof_buf_put(b, s, strlen(s));
    if (b->oom) return;
    for (size_t i = at; i < b->len; i++) {
        char c = (char)b->data[i];
        if (c == ';')
            b->data[i] = ':';
        else if (c == '\n' || c == '\r')
            b->data[i] = ' ';
    }
}

/* Adds value to the line whose text is text[start..len), interning it. */
static void add_line(struct folded *f, size_t start, uint64_t value)
{
    struct sprof_buf *b = &f->text;
    sprof_buf_put_u8(b, 0);
    if (b->oom) {
        fprintf(stderr, "sprof-report: out of memory\n");
        exit(2);
    }
    const char *s = (const char *)b->data + start;
    size_t n = b->len - start - 1;
    uint64_t h = hash_bytes(s, n, 0);
    size_t pos;
    for (uint32_t id = idset_first(&f->ix, h, &pos); id != IDSET_NONE;
         id = idset_next(&f->ix, h, &pos)) {
        if (strcmp((const char *)b->data + f->lines[id].off, s) == 0) {
            f->lines[id].value += value;
            b->len = start; /* drop the duplicate text */
            return;
        }
    }
    GROW(f->lines, f->cap, f->nlines + 1);
    f->lines[f->nlines] = (struct line){start, value};
    idset_insert(&f->ix, h, (uint32_t)f->nlines);
    f->nlines++;
}

static const char *sort_text;

static int line_cmp(const void *a, const void *b)
{
    const struct line *x = a, *y = b;
    return strcmp(sort_text + x->off, sort_text + y->off);
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
     * groups than samples, and each group's text is built once. */
    struct u64map groups = {0};
    struct group {
        uint32_t sym, thread;
        uint64_t value;
    } *gs = NULL;
    size_t ngs = 0, gcap = 0;
    for (size_t i = 0; i < p->nsamples; i++) {
        const struct sp_sample *s = &p->samples[i];
        uint32_t who = f.per_thread ? s->thread : f.per_process ? s->proc : 0;
        int added;
        uint64_t *v = u64map_put(&groups, s->sym, who, ngs, &added);
        if (added) {
            GROW(gs, gcap, ngs + 1);
            gs[ngs++] = (struct group){s->sym, s->thread, 0};
        }
        gs[*v].value += f.by_time ? s->weight_ns : 1;
    }
    sprof_buf_init(&f.text);
    char num[64];
    for (size_t g = 0; g < ngs; g++) {
        size_t start = f.text.len;
        const struct sp_thread *t = &p->threads[gs[g].thread];
        const struct sp_process *pr = &p->procs[t->proc];
        if (f.per_process) {
            put_name(&f.text, pr->comm[0] ? pr->comm : "pid");
            snprintf(num, sizeof(num), "-%u;", pr->pid);
            sprof_buf_put(&f.text, num, strlen(num));
        }
        if (f.per_thread) {
            put_name(&f.text, sp_thread_name(t));
            snprintf(num, sizeof(num), "-%u;", t->tid);
            sprof_buf_put(&f.text, num, strlen(num));
        }
        const struct sp_stack *st = &p->stacks[gs[g].sym];
        for (uint32_t i = 0; i < st->n; i++) {
            if (i) sprof_buf_put_u8(&f.text, ';');
            const struct sp_frame *fr = &p->sframes[p->stack_frames[st->off + i]];
            put_name(&f.text, p->funcs[fr->func].name);
        }
        add_line(&f, start, gs[g].value);
    }
    sort_text = (const char *)f.text.data;
    if (f.nlines) qsort(f.lines, f.nlines, sizeof(*f.lines), line_cmp);
    for (size_t i = 0; i < f.nlines; i++)
        if (f.lines[i].value) /* zero-weight samples with --weight time */
            printf("%s %llu\n", (const char *)f.text.data + f.lines[i].off,
                   (unsigned long long)f.lines[i].value);

    free(gs);
    u64map_release(&groups);
    free(f.lines);
    idset_release(&f.ix);
    sprof_buf_release(&f.text);
    sp_profile_free(p);
    filter_release(&flt);
    return 0;
usage:
    filter_release(&flt);
    return EXIT_USAGE;
}

const struct command cmd_folded = {"folded", run, "collapsed stacks for flame graph tools",
                                   usage_text};
