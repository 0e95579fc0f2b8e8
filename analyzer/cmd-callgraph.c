/* SPDX-License-Identifier: MIT */
/*
 * sprof-report callgraph: one block per function, sorted by total samples,
 * in the manner of gprof and perf: the callers above the function's own
 * line, the callees below it.
 *
 *   Index    Total  Total%  Self  Self%  Function
 *               500   50.0%               main [1]             <- caller
 *    [2]        500   50.0%     0   0.0%  a  [prog]
 *               500   50.0%               b [3]                -> callee
 *
 * A function's total counts the samples with it anywhere in the stack, once
 * per sample however often it appears (recursion); an edge caller -> callee
 * likewise counts a sample once however often the call repeats in its
 * stack. Percentages are of all (filtered) samples. The work is done once
 * per distinct stack, weighted by its samples.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "filter.h"
#include "output.h"
#include "symbolize.h"

struct fn_stat {
    uint64_t self, total, self_ns, total_ns;
    uint32_t stamp;     /* last stack counted, + 1 */
    uint32_t index;     /* 1-based rank in the report, 0 when not ranked */
    uint32_t min_depth; /* the shallowest place it was seen: callers first on ties */
};

struct edge {
    uint32_t caller, callee;
    uint64_t samples, ns;
    uint32_t stamp;
};

struct callgraph {
    struct sp_profile *p;
    struct fn_stat *fs; /* per function */
    struct edge *edges;
    size_t nedges, cap;
    struct u64map edge_ix;
    uint32_t *by_caller, *by_callee; /* edge ids grouped, see group() */
    uint32_t *caller_off, *callee_off;
};

static void aggregate(struct callgraph *g)
{
    struct sp_profile *p = g->p;
    size_t ns = p->nstacks ? p->nstacks : 1;
    uint64_t *cnt = xcalloc(ns, sizeof(*cnt)), *wt = xcalloc(ns, sizeof(*wt));
    for (size_t i = 0; i < p->nsamples; i++) {
        cnt[p->samples[i].sym]++;
        wt[p->samples[i].sym] += p->samples[i].weight_ns;
    }
    g->fs = xcalloc(p->nfuncs ? p->nfuncs : 1, sizeof(*g->fs));
    for (size_t s = 0; s < p->nstacks; s++) {
        if (!cnt[s]) continue;
        const struct sp_stack *st = &p->stacks[s];
        const uint32_t *fr = p->stack_frames + st->off;
        uint32_t stamp = (uint32_t)s + 1;
        uint32_t prev = SP_NONE;
        for (uint32_t i = 0; i < st->n; i++) {
            uint32_t fn = p->sframes[fr[i]].func;
            struct fn_stat *f = &g->fs[fn];
            if (f->stamp != stamp) { /* once per stack, even under recursion */
                if (!f->stamp || i < f->min_depth) f->min_depth = i;
                f->stamp = stamp;
                f->total += cnt[s];
                f->total_ns += wt[s];
            }
            if (prev != SP_NONE) {
                int added;
                uint64_t *v = u64map_put(&g->edge_ix, prev, fn, g->nedges, &added);
                if (added) {
                    GROW(g->edges, g->cap, g->nedges + 1);
                    g->edges[g->nedges++] = (struct edge){prev, fn, 0, 0, 0};
                }
                struct edge *e = &g->edges[*v];
                if (e->stamp != stamp) {
                    e->stamp = stamp;
                    e->samples += cnt[s];
                    e->ns += wt[s];
                }
            }
            prev = fn;
        }
        if (st->n) {
            struct fn_stat *leaf = &g->fs[p->sframes[fr[st->n - 1]].func];
            leaf->self += cnt[s];
            leaf->self_ns += wt[s];
        }
    }
    free(cnt);
    free(wt);
}

/* Groups edge ids by caller and by callee (counting sort): the callees of
 * function f are by_caller[caller_off[f] .. caller_off[f + 1]). */
static void group(struct callgraph *g)
{
    size_t nf = g->p->nfuncs;
    g->caller_off = xcalloc(nf + 1, sizeof(uint32_t));
    g->callee_off = xcalloc(nf + 1, sizeof(uint32_t));
    g->by_caller = xmalloc((g->nedges ? g->nedges : 1) * sizeof(uint32_t));
    g->by_callee = xmalloc((g->nedges ? g->nedges : 1) * sizeof(uint32_t));
    for (size_t i = 0; i < g->nedges; i++) {
        g->caller_off[g->edges[i].caller + 1]++;
        g->callee_off[g->edges[i].callee + 1]++;
    }
    for (size_t f = 0; f < nf; f++) {
        g->caller_off[f + 1] += g->caller_off[f];
        g->callee_off[f + 1] += g->callee_off[f];
    }
    uint32_t *a = xcalloc(nf + 1, sizeof(uint32_t)), *b = xcalloc(nf + 1, sizeof(uint32_t));
    for (size_t i = 0; i < g->nedges; i++) {
        uint32_t c = g->edges[i].caller, d = g->edges[i].callee;
        g->by_caller[g->caller_off[c] + a[c]++] = (uint32_t)i;
        g->by_callee[g->callee_off[d] + b[d]++] = (uint32_t)i;
    }
    free(a);
    free(b);
}

static int name_cmp(const struct sp_profile *p, uint32_t x, uint32_t y)
{
    const struct sp_func *a = &p->funcs[x], *b = &p->funcs[y];
    int r = strcmp(a->name, b->name);
    if (!r) r = strcmp(a->module, b->module);
    if (!r) r = x < y ? -1 : x > y;
    return r;
}

static int fn_cmp(const void *a, const void *b, void *arg)
{
    const struct callgraph *g = arg;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    const struct fn_stat *fx = &g->fs[x], *fy = &g->fs[y];
    if (fx->total != fy->total) return fx->total > fy->total ? -1 : 1;
    if (fx->min_depth != fy->min_depth) return fx->min_depth < fy->min_depth ? -1 : 1;
    if (fx->self != fy->self) return fx->self > fy->self ? -1 : 1;
    return name_cmp(g->p, x, y);
}

struct edge_sort {
    const struct callgraph *g;
    int by_callee; /* compare the callers' names (1) or the callees' (0) */
};

static int edge_cmp(const void *a, const void *b, void *arg)
{
    const struct edge_sort *c = arg;
    const struct edge *x = &c->g->edges[*(const uint32_t *)a];
    const struct edge *y = &c->g->edges[*(const uint32_t *)b];
    if (x->samples != y->samples) return x->samples > y->samples ? -1 : 1;
    return c->by_callee ? name_cmp(c->g->p, x->caller, y->caller)
                        : name_cmp(c->g->p, x->callee, y->callee);
}

static const char *module_of(const struct sp_func *fn, char *buf, size_t n)
{
    const char *m = fn->module;
    if (!m[0])
        buf[0] = 0;
    else if (m[0] == '[')
        snprintf(buf, n, "  %s", m);
    else
        snprintf(buf, n, "  [%s]", m);
    return buf;
}

/* An edge line: the other function with its index when it has a block. */
static void edge_row(struct table *tb, const struct callgraph *g, const struct edge *e,
                     uint32_t other, uint64_t all, const char *arrow)
{
    const struct sp_func *fn = &g->p->funcs[other];
    char a[64];
    table_add(tb, "");
    table_addf(tb, "%llu", (unsigned long long)e->samples);
    table_add(tb, fmt_percent(a, sizeof(a), e->samples, all));
    table_add(tb, "");
    table_add(tb, "");
    table_add(tb, fmt_seconds(a, sizeof(a), e->ns));
    if (g->fs[other].index)
        table_addf(tb, "    %s %s [%u]", arrow, fn->name, g->fs[other].index);
    else
        table_addf(tb, "    %s %s", arrow, fn->name);
}

static const char usage_text[] =
    "usage: sprof-report callgraph [OPTIONS] FILE...\n"
    "\n"
    "For each function, sorted by total samples: its callers (lines with <-,\n"
    "above it) and its callees (lines with ->, below it), with the samples\n"
    "of each call edge. A sample counts once in a function's total and once\n"
    "per edge however often they repeat in its stack (recursion).\n"
    "\n"
    "options:\n"
    "  --limit N             print at most N functions (default 30; 0 prints all)\n"
    "  -h, --help            this text\n" FILTER_USAGE "\n"
    "Columns: Index, Total, Total%, Self, Self%, Time and the function. On a\n"
    "function's line Time is its total CPU time; on an edge line Total and\n"
    "Time are those of the samples that went through that call.\n";

static int run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"limit", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        FILTER_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    struct filter_opts flt;
    filter_init(&flt);
    unsigned long long limit = 30;
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (filter_is_option(c)) {
            if (filter_parse(&flt, "callgraph", c, optarg)) goto usage;
            continue;
        }
        switch (c) {
        case 'n':
            if (cli_parse_uint(optarg, &limit)) {
                cli_usage_error("callgraph", "--limit takes a number, not '%s'", optarg);
                goto usage;
            }
            break;
        case 'h':
            fputs(usage_text, stdout);
            filter_release(&flt);
            return 0;
        default:
            cli_bad_option("callgraph", argv, c);
            goto usage;
        }
    }
    struct sp_profile *p = cli_load("callgraph", argc - optind, argv + optind);
    if (!p) goto usage;
    size_t before = p->nsamples;
    filter_apply(p, &flt);
    sp_symbolize(p);

    struct callgraph g;
    memset(&g, 0, sizeof(g));
    g.p = p;
    aggregate(&g);
    group(&g);

    uint32_t *order = xmalloc((p->nfuncs ? p->nfuncs : 1) * sizeof(*order));
    size_t nf = 0;
    for (size_t f = 0; f < p->nfuncs; f++)
        if (g.fs[f].total) order[nf++] = (uint32_t)f;
    if (nf) qsort_r(order, nf, sizeof(*order), fn_cmp, &g);
    size_t shown = limit && limit < nf ? (size_t)limit : nf;
    for (size_t i = 0; i < shown; i++)
        g.fs[order[i]].index = (uint32_t)i + 1;

    cli_print_totals(p, stdout);
    filter_print_note(&flt, before, p->nsamples, stdout);
    uint64_t all = p->nsamples;
    int color = out_use_color(stdout);
    struct table tb;
    table_init(&tb, 7);
    for (size_t i = 0; i < 6; i++)
        table_set(&tb, i, TABLE_RIGHT, 0);
    table_set(&tb, 6, TABLE_LEFT, 0);
    if (color) table_style_row(&tb, SGR_BOLD);
    static const char *const head[] = {"Index", "Total", "Total%",  "Self",
                                       "Self%", "Time",  "Function"};
    for (size_t i = 0; i < 7; i++)
        table_add(&tb, head[i]);
    uint32_t *tmp = xmalloc((g.nedges ? g.nedges : 1) * sizeof(*tmp));
    char a[64], m[600];
    for (size_t i = 0; i < shown; i++) {
        uint32_t f = order[i];
        const struct fn_stat *s = &g.fs[f];
        for (size_t k = 0; i && k < 7; k++) /* a blank line between blocks */
            table_add(&tb, "");
        /* callers, most samples first */
        uint32_t lo = g.callee_off[f], hi = g.callee_off[f + 1];
        memcpy(tmp, g.by_callee + lo, (hi - lo) * sizeof(*tmp));
        struct edge_sort es = {&g, 1};
        qsort_r(tmp, hi - lo, sizeof(*tmp), edge_cmp, &es);
        for (uint32_t k = 0; k < hi - lo; k++)
            edge_row(&tb, &g, &g.edges[tmp[k]], g.edges[tmp[k]].caller, all, "<-");
        /* the function */
        if (color && s->self * 10 >= all)
            table_style_row(&tb, SGR_RED SGR_BOLD);
        else if (color)
            table_style_row(&tb, SGR_BOLD);
        table_addf(&tb, "[%zu]", i + 1);
        table_addf(&tb, "%llu", (unsigned long long)s->total);
        table_add(&tb, fmt_percent(a, sizeof(a), s->total, all));
        table_addf(&tb, "%llu", (unsigned long long)s->self);
        table_add(&tb, fmt_percent(a, sizeof(a), s->self, all));
        table_add(&tb, fmt_seconds(a, sizeof(a), s->total_ns));
        table_addf(&tb, "%s%s", p->funcs[f].name, module_of(&p->funcs[f], m, sizeof(m)));
        /* callees */
        lo = g.caller_off[f];
        hi = g.caller_off[f + 1];
        memcpy(tmp, g.by_caller + lo, (hi - lo) * sizeof(*tmp));
        es.by_callee = 0;
        qsort_r(tmp, hi - lo, sizeof(*tmp), edge_cmp, &es);
        for (uint32_t k = 0; k < hi - lo; k++)
            edge_row(&tb, &g, &g.edges[tmp[k]], g.edges[tmp[k]].callee, all, "->");
    }
    table_print(&tb, stdout, "");
    if (shown < nf)
        printf("\n# %zu more function%s (use --limit 0)\n", nf - shown, nf - shown == 1 ? "" : "s");
    if (!all) printf("# no samples\n");
    table_release(&tb);
    free(tmp);
    free(order);
    free(g.fs);
    free(g.edges);
    u64map_release(&g.edge_ix);
    free(g.by_caller);
    free(g.by_callee);
    free(g.caller_off);
    free(g.callee_off);
    sp_profile_free(p);
    filter_release(&flt);
    return 0;
usage:
    filter_release(&flt);
    return EXIT_USAGE;
}

const struct command cmd_callgraph = {
    "callgraph", run, "callers and callees of each function (gprof style)", usage_text};
