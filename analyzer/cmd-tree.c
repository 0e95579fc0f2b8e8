/* SPDX-License-Identifier: MIT */
/*
 * sprof-report tree: the call tree, top-down (callees below their callers)
 * or inverted (callers below the functions that ran), drawn with tree
 * lines:
 *
 *   # 1000 samples, 1.001 s CPU, 1 process, 2 threads
 *   Total  Total%  Self  Self%  Time     Name
 *    1000  100.0%     0   0.0%  1.001 s  main  [prog]
 *     500   50.0%     0   0.0%  0.501 s  ├─ a  [prog]
 *     500   50.0%   500  50.0%  0.501 s  │  └─ b  [prog]
 *     300   30.0%   300  30.0%  0.300 s  └─ c  [prog]
 *
 * Children are sorted by total samples; nodes under --min-percent of all
 * samples are left out (with their subtrees). It is a view of the shared
 * call tree (calltree.h).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "calltree.h"
#include "cli.h"
#include "filter.h"
#include "output.h"
#include "symbolize.h"

struct glyphs {
    const char *tee, *corner, *bar, *blank;
};

static const struct glyphs utf8_glyphs = {"├─ ", "└─ ", "│  ", "   "};
static const struct glyphs ascii_glyphs = {"|- ", "`- ", "|  ", "   "};

struct tree_out {
    const struct sp_profile *p;
    const struct calltree *t;
    const struct glyphs *g;
    uint64_t min_samples; /* nodes with fewer total samples are left out */
    int color;
    struct table tb;
};

/* How many of node's children are shown (they are sorted by total, so the
 * shown ones come first). */
static uint32_t shown_kids(const struct tree_out *o, const struct ct_node *n)
{
    uint32_t k = 0;
    while (k < n->nkids && o->t->nodes[o->t->kids[n->kids + k]].total >= o->min_samples)
        k++;
    return k;
}

static void add_row(struct tree_out *o, uint32_t id, const char *prefix)
{
    const struct ct_node *n = &o->t->nodes[id];
    const struct sp_func *fn = &o->p->funcs[n->func];
    uint64_t all = o->t->nodes[0].total;
    char a[64];
    int inverted = o->t->inverted;
    if (o->color && (inverted ? n->depth == 1 : 1) && (inverted ? n->total : n->self) * 10 >= all &&
        all)
        table_style_row(&o->tb, SGR_RED);
    table_addf(&o->tb, "%llu", (unsigned long long)n->total);
    table_add(&o->tb, fmt_percent(a, sizeof(a), n->total, all));
    if (!inverted) {
        table_addf(&o->tb, "%llu", (unsigned long long)n->self);
        table_add(&o->tb, fmt_percent(a, sizeof(a), n->self, all));
    }
    table_add(&o->tb, fmt_seconds(a, sizeof(a), n->total_ns));
    const char *mod = fn->module;
    int brackets = mod[0] && mod[0] != '[';
    table_addf(&o->tb, "%s%s%s%s%s%s%s", prefix, fn->name, mod[0] ? "  " : "", brackets ? "[" : "",
               mod, brackets ? "]" : "", n->inlined ? " (inlined)" : "");
}

/* Depth-first, iteratively: trees can be thousands of frames deep. */
static void walk(struct tree_out *o)
{
    const struct calltree *t = o->t;
    struct item {
        uint32_t node, next; /* next child index to visit */
        uint32_t nshown;
    } *st = NULL;
    size_t n = 0, cap = 0;
    char *prefix = NULL; /* the tree lines of the current path */
    size_t plen = 0, pcap = 0;
    size_t *plens = NULL; /* prefix length at each level */
    size_t nplens = 0, plcap = 0;

    GROW(st, cap, 1);
    st[n++] = (struct item){0, 0, shown_kids(o, &t->nodes[0])};
    GROW(prefix, pcap, 1);
    prefix[0] = 0;
    while (n) {
        struct item *it = &st[n - 1];
        if (it->next >= it->nshown) {
            n--;
            if (nplens) plen = plens[--nplens];
            prefix[plen] = 0;
            continue;
        }
        uint32_t k = it->next++;
        uint32_t child = t->kids[t->nodes[it->node].kids + k];
        int last = k + 1 == it->nshown;
        int top = it->node == 0;
        /* the line of this child: the path's lines, then a tee or corner */
        size_t save = plen;
        const char *mark = top ? "" : last ? o->g->corner : o->g->tee;
        size_t ml = strlen(mark);
        GROW(prefix, pcap, plen + ml + 1);
        memcpy(prefix + plen, mark, ml + 1);
        add_row(o, child, prefix);
        prefix[save] = 0;
        /* below it: a bar while this level has more children */
        const char *cont = top ? "" : last ? o->g->blank : o->g->bar;
        size_t cl = strlen(cont);
        GROW(prefix, pcap, plen + cl + 1);
        memcpy(prefix + plen, cont, cl + 1);
        GROW(plens, plcap, nplens + 1);
        plens[nplens++] = plen;
        plen += cl;
        GROW(st, cap, n + 1);
        st[n++] = (struct item){child, 0, shown_kids(o, &t->nodes[child])};
    }
    free(st);
    free(prefix);
    free(plens);
}

static const char usage_text[] =
    "usage: sprof-report tree [OPTIONS] FILE...\n"
    "\n"
    "The call tree: each function under its caller with the samples of its\n"
    "subtree (total) and its own (self), children sorted by total. With\n"
    "--inverted, the functions that ran are the roots and their callers are\n"
    "below them (who calls the hot code).\n"
    "\n"
    "options:\n"
    "  --min-percent P       leave out nodes under P% of all samples (default 0.5;\n"
    "                        0 shows every node)\n"
    "  --inverted            bottom-up: leaf functions first, callers below\n"
    "  --ascii               draw the tree with ASCII (the default when the\n"
    "                        locale is not UTF-8)\n"
    "  -h, --help            this text\n" FILTER_USAGE "\n"
    "Columns: Total, Total%, Self, Self%, Time (CPU time of the subtree) and\n"
    "the function with its [module]; inlined calls are marked (inlined).\n"
    "Inverted: Samples, Samples% and Time of the path from the leaf.\n";

static int run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"min-percent", required_argument, NULL, 'm'},
        {"inverted", no_argument, NULL, 'i'},
        {"ascii", no_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},
        FILTER_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    struct filter_opts flt;
    filter_init(&flt);
    double min_pct = 0.5;
    int inverted = 0, ascii = !out_locale_utf8();
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (filter_is_option(c)) {
            if (filter_parse(&flt, "tree", c, optarg)) goto usage;
            continue;
        }
        switch (c) {
        case 'm':
            if (cli_parse_percent(optarg, &min_pct)) {
                cli_usage_error("tree", "--min-percent takes a number from 0 to 100, not '%s'",
                                optarg);
                goto usage;
            }
            break;
        case 'i':
            inverted = 1;
            break;
        case 'a':
            ascii = 1;
            break;
        case 'h':
            fputs(usage_text, stdout);
            filter_release(&flt);
            return 0;
        default:
            cli_bad_option("tree", argv, c);
            goto usage;
        }
    }
    struct sp_profile *p = cli_load("tree", argc - optind, argv + optind);
    if (!p) goto usage;
    size_t before = p->nsamples;
    filter_apply(p, &flt);
    sp_symbolize(p);

    struct calltree t;
    calltree_build(&t, p, inverted, CALLTREE_BY_TOTAL);
    cli_print_totals(p, stdout);
    filter_print_note(&flt, before, p->nsamples, stdout);

    struct tree_out o;
    memset(&o, 0, sizeof(o));
    o.p = p;
    o.t = &t;
    o.g = ascii ? &ascii_glyphs : &utf8_glyphs;
    o.color = out_use_color(stdout);
    /* at least one sample: a node with none is never shown */
    double want = min_pct / 100.0 * (double)t.nodes[0].total;
    o.min_samples = (uint64_t)want;
    if ((double)o.min_samples < want) o.min_samples++;
    if (!o.min_samples) o.min_samples = 1;

    size_t ncols = inverted ? 4 : 6;
    table_init(&o.tb, ncols);
    for (size_t i = 0; i + 1 < ncols; i++)
        table_set(&o.tb, i, TABLE_RIGHT, 0);
    table_set(&o.tb, ncols - 1, TABLE_LEFT, 0);
    if (o.color) table_style_row(&o.tb, SGR_BOLD);
    if (inverted) {
        table_add(&o.tb, "Samples");
        table_add(&o.tb, "Samples%");
    } else {
        table_add(&o.tb, "Total");
        table_add(&o.tb, "Total%");
        table_add(&o.tb, "Self");
        table_add(&o.tb, "Self%");
    }
    table_add(&o.tb, "Time");
    table_add(&o.tb, inverted ? "Function  <- callers" : "Function  -> callees");
    walk(&o);
    if (t.nodes[0].total)
        table_print(&o.tb, stdout, "");
    else
        printf("# no samples\n");
    table_release(&o.tb);
    calltree_release(&t);
    sp_profile_free(p);
    filter_release(&flt);
    return 0;
usage:
    filter_release(&flt);
    return EXIT_USAGE;
}

const struct command cmd_tree = {"tree", run, "call tree, top-down or inverted, with tree lines",
                                 usage_text};
