/* SPDX-License-Identifier: MIT */
/*
 * sprof-report flat: self and total samples per function (or source line,
 * module, thread), one row each:
 *
 *   # 12345 samples, 12.345 s CPU, 1 process, 3 threads
 *       Self   Self%    Total  Total%  Self-time  Name  [module]  file:line
 *       6172   50.0%     6172   50.0%    6.172 s  hot_a  [s-split]  s-split.c:12
 *
 * Whitespace field 7 is always the name and holds no blanks for C names
 * (C++ names keep the demangler's spaces). Self: samples whose leaf frame is
 * the entry; total: samples with the entry anywhere in the stack, counted
 * once per sample even under recursion. Percentages are of all samples.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate.h"
#include "cli.h"
#include "filter.h"
#include "output.h"
#include "symbolize.h"

enum by { BY_FUNCTION, BY_LINE, BY_MODULE, BY_THREAD };
enum sort_key { SORT_SELF, SORT_TOTAL };

struct row {
    const char *name;   /* field 7 */
    const char *extra;  /* thread view: the thread's name after the tid */
    const char *module; /* "" for none */
    const char *where;  /* "" for none */
    uint64_t self, total, self_ns;
};

struct flat {
    struct sp_profile *p;
    enum by by;
    struct row *rows;
    size_t nrows, cap;
    struct u64map ix;
    char buf[4096];
};

static const char *loc_of(struct flat *f, const char *file, uint32_t line)
{
    if (!file[0]) return "";
    if (line)
        snprintf(f->buf, sizeof(f->buf), "%s:%u", path_basename(file), line);
    else
        snprintf(f->buf, sizeof(f->buf), "%s", path_basename(file));
    return strtab_intern(&f->p->strs, f->buf);
}

/* The row of frame fr in the chosen view, created on first use. */
static uint32_t row_of(struct flat *f, uint32_t fr)
{
    const struct sp_frame *frame = &f->p->sframes[fr];
    const struct sp_func *fn = &f->p->funcs[frame->func];
    uint64_t k1, k2 = 0;
    switch (f->by) {
    case BY_LINE:
        if (frame->line) {
            k1 = (uintptr_t)frame->file;
            k2 = frame->line;
        } else {
            k1 = frame->func;
            k2 = UINT64_MAX;
        }
        break;
    case BY_MODULE:
        k1 = (uintptr_t)fn->module;
        break;
    default:
        k1 = frame->func;
        break;
    }
    int added;
    uint64_t *v = u64map_put(&f->ix, k1, k2, f->nrows, &added);
    if (!added) return (uint32_t)*v;
    GROW(f->rows, f->cap, f->nrows + 1);
    struct row *r = &f->rows[f->nrows];
    memset(r, 0, sizeof(*r));
    r->extra = "";
    switch (f->by) {
    case BY_LINE:
        r->name = frame->line ? loc_of(f, frame->file, frame->line) : fn->name;
        r->module = fn->module;
        r->where = frame->line ? fn->name : ""; /* else the name is the function */
        break;
    case BY_MODULE:
        r->name = fn->module[0] ? fn->module : "[unknown]";
        r->module = "";
        r->where = "";
        break;
    default:
        r->name = fn->name;
        r->module = fn->module;
        r->where = loc_of(f, fn->file, fn->line);
        break;
    }
    return (uint32_t)f->nrows++;
}

static uint32_t row_cb(void *ctx, uint32_t fr)
{
    return row_of(ctx, fr);
}

static void aggregate_stacks(struct flat *f)
{
    size_t n;
    struct sp_agg *cells = sp_aggregate(f->p, row_cb, f, &n);
    for (size_t i = 0; i < n; i++) {
        f->rows[i].self = cells[i].self;
        f->rows[i].total = cells[i].total;
        f->rows[i].self_ns = cells[i].self_ns;
    }
    free(cells);
}

static void aggregate_threads(struct flat *f)
{
    struct sp_profile *p = f->p;
    for (size_t i = 0; i < p->nsamples; i++) {
        const struct sp_sample *s = &p->samples[i];
        int added;
        uint64_t *v = u64map_put(&f->ix, s->thread, 0, f->nrows, &added);
        if (added) {
            const struct sp_thread *t = &p->threads[s->thread];
            GROW(f->rows, f->cap, f->nrows + 1);
            struct row *r = &f->rows[f->nrows++];
            memset(r, 0, sizeof(*r));
            snprintf(f->buf, sizeof(f->buf), "%u", t->tid);
            r->name = strtab_intern(&p->strs, f->buf);
            /* the thread's name as one field: blanks would shift the columns */
            snprintf(f->buf, sizeof(f->buf), "%s", sp_thread_name(t));
            for (char *c = f->buf; *c; c++)
                if (*c == ' ' || *c == '\t') *c = '_';
            r->extra = strtab_intern(&p->strs, f->buf);
            const struct sp_process *pr = &p->procs[t->proc];
            snprintf(f->buf, sizeof(f->buf), "%s-%u", pr->comm[0] ? pr->comm : "pid", pr->pid);
            r->module = strtab_intern(&p->strs, f->buf);
            r->where = "";
        }
        struct row *r = &f->rows[*v];
        r->self++;
        r->total++;
        r->self_ns += s->weight_ns;
    }
}

static enum sort_key sort_by;

static int row_cmp(const void *a, const void *b)
{
    const struct row *x = a, *y = b;
    uint64_t x1 = sort_by == SORT_SELF ? x->self : x->total;
    uint64_t y1 = sort_by == SORT_SELF ? y->self : y->total;
    uint64_t x2 = sort_by == SORT_SELF ? x->total : x->self;
    uint64_t y2 = sort_by == SORT_SELF ? y->total : y->self;
    if (x1 != y1) return x1 > y1 ? -1 : 1;
    if (x2 != y2) return x2 > y2 ? -1 : 1;
    int c = strcmp(x->name, y->name);
    if (c) return c;
    c = strcmp(x->module, y->module);
    return c ? c : strcmp(x->where, y->where);
}

static const char usage_text[] =
    "usage: sprof-report flat [OPTIONS] FILE...\n"
    "\n"
    "Self and total samples and CPU time per function, sorted by self samples.\n"
    "Self counts samples where the entry is on top of the stack; total counts\n"
    "samples where it is anywhere in the stack (once per sample).\n"
    "\n"
    "options:\n"
    "  --sort self|total     order of the rows (default self)\n"
    "  --limit N             print at most N rows (default 30; 0 prints all)\n"
    "  --by function|line|module|thread\n"
    "                        what a row is (default function)\n"
    "  -h, --help            this text\n"
    FILTER_USAGE
    "\n"
    "Columns: Self, Self%, Total, Total%, Self-time (seconds), Name, [module],\n"
    "and the source file:line of the function (with --by line: the function).\n";

static int run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"sort", required_argument, NULL, 's'},
        {"limit", required_argument, NULL, 'n'},
        {"by", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        FILTER_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    struct filter_opts flt;
    filter_init(&flt);
    struct flat f;
    memset(&f, 0, sizeof(f));
    enum sort_key sk = SORT_SELF;
    unsigned long long limit = 30;
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (filter_is_option(c)) {
            if (filter_parse(&flt, "flat", c, optarg)) goto usage;
            continue;
        }
        switch (c) {
        case 's':
            if (strcmp(optarg, "self") == 0)
                sk = SORT_SELF;
            else if (strcmp(optarg, "total") == 0)
                sk = SORT_TOTAL;
            else {
                cli_usage_error("flat", "--sort takes self or total, not '%s'", optarg);
                goto usage;
            }
            break;
        case 'n':
            if (cli_parse_uint(optarg, &limit)) {
                cli_usage_error("flat", "--limit takes a number, not '%s'", optarg);
                goto usage;
            }
            break;
        case 'b':
            if (strcmp(optarg, "function") == 0)
                f.by = BY_FUNCTION;
            else if (strcmp(optarg, "line") == 0)
                f.by = BY_LINE;
            else if (strcmp(optarg, "module") == 0)
                f.by = BY_MODULE;
            else if (strcmp(optarg, "thread") == 0)
                f.by = BY_THREAD;
            else {
                cli_usage_error("flat", "--by takes function, line, module or thread, not '%s'",
                                optarg);
                goto usage;
            }
            break;
        case 'h':
            fputs(usage_text, stdout);
            filter_release(&flt);
            return 0;
        default:
            cli_bad_option("flat", argv, c);
            goto usage;
        }
    }
    struct sp_profile *p = cli_load("flat", argc - optind, argv + optind);
    if (!p) goto usage;
    f.p = p;
    size_t before = p->nsamples;
    filter_apply(p, &flt);
    sp_symbolize(p);
    if (f.by == BY_THREAD)
        aggregate_threads(&f);
    else
        aggregate_stacks(&f);
    sort_by = sk;
    if (f.nrows) qsort(f.rows, f.nrows, sizeof(*f.rows), row_cmp);

    struct sp_totals t;
    sp_profile_totals(p, &t);
    char a[64], b[64], d[64], e[64];
    printf("# %s, %s CPU, %s, %s\n", fmt_count(a, sizeof(a), t.samples, "sample"),
           fmt_seconds(b, sizeof(b), t.weight_ns), fmt_count(d, sizeof(d), t.nprocs, "process"),
           fmt_count(e, sizeof(e), t.nthreads, "thread"));
    filter_print_note(&flt, before, p->nsamples, stdout);
    if (!t.samples)
        printf("# no samples: the program ran for less CPU time than one sampling period?\n");
    uint64_t truncated = 0;
    for (size_t i = 0; i < p->nsamples; i++)
        if (p->stacks[p->samples[i].sym].flags & (SPROF_STACK_TRUNCATED | SPROF_STACK_BROKEN))
            truncated++;
    if (truncated && f.by != BY_THREAD)
        printf("# %s (%s) have incomplete stacks: their callers' totals are low\n",
               fmt_count(a, sizeof(a), truncated, "sample"),
               fmt_percent(b, sizeof(b), truncated, t.samples));

    struct table tb;
    int thread_view = f.by == BY_THREAD;
    size_t ncols = thread_view ? 8 : 8;
    table_init(&tb, ncols);
    for (size_t i = 0; i < 5; i++)
        table_set(&tb, i, TABLE_RIGHT, 0);
    table_set(&tb, 5, TABLE_LEFT, 48);
    table_set(&tb, 6, TABLE_LEFT, 24);
    table_set(&tb, 7, TABLE_LEFT, 0);
    int color = out_use_color(stdout);
    if (color) table_style_row(&tb, SGR_BOLD);
    table_add(&tb, "Self");
    table_add(&tb, "Self%");
    table_add(&tb, "Total");
    table_add(&tb, "Total%");
    table_add(&tb, "Self-time");
    if (thread_view) {
        table_add(&tb, "TID  Name");
        table_add(&tb, "[process]");
        table_add(&tb, "");
    } else {
        table_add(&tb, f.by == BY_LINE ? "Line" : f.by == BY_MODULE ? "Module" : "Name");
        table_add(&tb, f.by == BY_MODULE ? "" : "[module]");
        table_add(&tb, f.by == BY_LINE ? "function" : f.by == BY_MODULE ? "" : "file:line");
    }
    size_t shown = limit && limit < f.nrows ? (size_t)limit : f.nrows;
    for (size_t i = 0; i < shown; i++) {
        const struct row *r = &f.rows[i];
        table_addf(&tb, "%llu", (unsigned long long)r->self);
        table_add(&tb, fmt_percent(a, sizeof(a), r->self, t.samples));
        table_addf(&tb, "%llu", (unsigned long long)r->total);
        table_add(&tb, fmt_percent(a, sizeof(a), r->total, t.samples));
        table_add(&tb, fmt_seconds(a, sizeof(a), r->self_ns));
        if (thread_view)
            table_addf(&tb, "%s %s", r->name, r->extra);
        else
            table_add(&tb, r->name);
        if (r->module[0] == '[') /* [vdso] */
            table_add(&tb, r->module);
        else if (r->module[0])
            table_addf(&tb, "[%s]", r->module);
        else
            table_add(&tb, "");
        table_add(&tb, r->where);
    }
    table_print(&tb, stdout, "");
    table_release(&tb);
    if (shown < f.nrows)
        printf("# %zu more row%s (use --limit 0)\n", f.nrows - shown,
               f.nrows - shown == 1 ? "" : "s");

    free(f.rows);
    u64map_release(&f.ix);
    sp_profile_free(p);
    filter_release(&flt);
    return 0;
usage:
    filter_release(&flt);
    return EXIT_USAGE;
}

const struct command cmd_flat = {
    "flat", run, "self and total time per function, line, module or thread", usage_text};
