/* SPDX-License-Identifier: MIT */
/*
 * sprof-report diff BASE NEW: how each function's share of the profile and
 * its CPU time changed from one profile to another:
 *
 *   # base: old.bin: 1000 samples, 1.001 s CPU, 1 process, 1 thread
 *   # new:  new.bin: 1200 samples, 1.201 s CPU, 1 process, 1 thread
 *   dSelf  Self-base  Self-new  dTotal  Total-base  Total-new  dSelf-time  dTotal-time ...
 *   +20.0      30.0%     50.0%   +20.0       30.0%      50.0%    +0.300 s     +0.300 s ...
 *   -10.0      10.0%         -   -10.0       10.0%          -    -0.100 s     -0.100 s ...
 *
 * and last the Status ("new", "gone") and the function with its module.
 *
 * Shares are of each side's own total (after the filters, which apply to
 * both sides), so a function that takes the same fraction of a longer run
 * shows no change in share but a change in time. Functions are matched by
 * name and module (not by address: the two profiles may come from
 * different builds).
 */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate.h"
#include "cli.h"
#include "filter.h"
#include "output.h"
#include "symbolize.h"

enum sort_key { SORT_CHANGE, SORT_SELF, SORT_TOTAL, SORT_TIME };

struct drow {
    const char *name, *module;
    int in[2]; /* seen in base, in new */
    struct sp_agg s[2];
    double dself, dtotal; /* percentage points */
    double key;
};

struct diff {
    struct drow *rows;
    size_t nrows, cap;
    struct strtab keys; /* "name\x01module" -> row, by interned pointer */
    struct u64map ix;
};

static void add_side(struct diff *d, const struct sp_profile *p, int side)
{
    struct sp_agg *fs = sp_aggregate_funcs(p);
    for (size_t f = 0; f < p->nfuncs; f++) {
        if (!fs[f].total) continue;
        const struct sp_func *fn = &p->funcs[f];
        char *k = xasprintf("%s\x01%s", fn->name, fn->module);
        const char *ik = strtab_intern(&d->keys, k);
        free(k);
        int added;
        uint64_t *v = u64map_put(&d->ix, (uintptr_t)ik, 0, d->nrows, &added);
        if (added) {
            GROW(d->rows, d->cap, d->nrows + 1);
            struct drow *r = &d->rows[d->nrows++];
            memset(r, 0, sizeof(*r));
            r->name = fn->name;
            r->module = fn->module;
        }
        struct drow *r = &d->rows[*v];
        r->in[side] = 1;
        /* two functions of one name in one module (static functions of
         * different files) are one row */
        r->s[side].self += fs[f].self;
        r->s[side].total += fs[f].total;
        r->s[side].self_ns += fs[f].self_ns;
        r->s[side].total_ns += fs[f].total_ns;
    }
    free(fs);
}

static double share(uint64_t part, uint64_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static int row_cmp(const void *a, const void *b)
{
    const struct drow *x = a, *y = b;
    if (x->key != y->key) return x->key > y->key ? -1 : 1;
    int r = strcmp(x->name, y->name);
    return r ? r : strcmp(x->module, y->module);
}

/* "+1.2", "-0.4", "0.0": points with a sign, never "-0.0". */
static char *fmt_points(char *buf, size_t n, double v)
{
    if (fabs(v) < 0.05)
        snprintf(buf, n, "0.0");
    else
        snprintf(buf, n, "%+.1f", v);
    return buf;
}

static char *fmt_dtime(char *buf, size_t n, uint64_t before, uint64_t after)
{
    double d = ((double)after - (double)before) / 1e9;
    if (fabs(d) < 0.0005)
        snprintf(buf, n, "0.000 s");
    else
        snprintf(buf, n, "%+.3f s", d);
    return buf;
}

static const char usage_text[] =
    "usage: sprof-report diff [OPTIONS] BASE NEW\n"
    "\n"
    "How each function changed from the profile BASE to the profile NEW: its\n"
    "self and total share of the samples (in percentage points, each of its\n"
    "own side's total) and its self and total CPU time. Functions are\n"
    "matched by name and module; 'new' marks those only NEW has, 'gone'\n"
    "those only BASE has. Filters apply to both sides.\n"
    "\n"
    "options:\n"
    "  --sort change|self|total|time\n"
    "                        order: the larger change of self and total share\n"
    "                        (default), self share, total share, or self CPU\n"
    "                        time; largest change first either way\n"
    "  --limit N             print at most N rows (default 30; 0 prints all)\n"
    "  -h, --help            this text\n" FILTER_USAGE "\n"
    "Columns: dSelf (points), Self-base, Self-new, dTotal (points), Total-base,\n"
    "Total-new, dSelf-time, dTotal-time, Status (new, gone) and the function.\n";

static int run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"sort", required_argument, NULL, 's'},
        {"limit", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        FILTER_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    struct filter_opts flt;
    filter_init(&flt);
    unsigned long long limit = 30;
    enum sort_key sk = SORT_CHANGE;
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (filter_is_option(c)) {
            if (filter_parse(&flt, "diff", c, optarg)) goto usage;
            continue;
        }
        switch (c) {
        case 's':
            if (strcmp(optarg, "change") == 0)
                sk = SORT_CHANGE;
            else if (strcmp(optarg, "self") == 0)
                sk = SORT_SELF;
            else if (strcmp(optarg, "total") == 0)
                sk = SORT_TOTAL;
            else if (strcmp(optarg, "time") == 0)
                sk = SORT_TIME;
            else {
                cli_usage_error("diff", "--sort takes change, self, total or time, not '%s'",
                                optarg);
                goto usage;
            }
            break;
        case 'n':
            if (cli_parse_uint(optarg, &limit)) {
                cli_usage_error("diff", "--limit takes a number, not '%s'", optarg);
                goto usage;
            }
            break;
        case 'h':
            fputs(usage_text, stdout);
            filter_release(&flt);
            return 0;
        default:
            cli_bad_option("diff", argv, c);
            goto usage;
        }
    }
    if (argc - optind != 2) {
        cli_usage_error("diff", "takes two profiles, BASE and NEW (%d given)", argc - optind);
        goto usage;
    }
    struct sp_profile *side[2] = {NULL, NULL};
    size_t before[2];
    for (int i = 0; i < 2; i++) {
        side[i] = cli_load("diff", 1, argv + optind + i);
        if (!side[i]) {
            sp_profile_free(side[0]);
            goto usage;
        }
        before[i] = side[i]->nsamples;
        filter_apply(side[i], &flt);
        sp_symbolize(side[i]);
    }

    struct diff d;
    memset(&d, 0, sizeof(d));
    add_side(&d, side[0], 0);
    add_side(&d, side[1], 1);
    uint64_t all[2] = {side[0]->nsamples, side[1]->nsamples};
    for (size_t i = 0; i < d.nrows; i++) {
        struct drow *r = &d.rows[i];
        r->dself = share(r->s[1].self, all[1]) - share(r->s[0].self, all[0]);
        r->dtotal = share(r->s[1].total, all[1]) - share(r->s[0].total, all[0]);
        switch (sk) {
        case SORT_SELF:
            r->key = fabs(r->dself);
            break;
        case SORT_TOTAL:
            r->key = fabs(r->dtotal);
            break;
        case SORT_TIME:
            r->key = fabs((double)r->s[1].self_ns - (double)r->s[0].self_ns);
            break;
        default:
            r->key = fmax(fabs(r->dself), fabs(r->dtotal));
            break;
        }
        /* below display precision is no change: then by name */
        if (sk != SORT_TIME) r->key = round(r->key * 10) / 10;
    }
    if (d.nrows) qsort(d.rows, d.nrows, sizeof(*d.rows), row_cmp);

    for (int i = 0; i < 2; i++) {
        struct sp_totals t;
        sp_profile_totals(side[i], &t);
        char w[64], x[64], y[64], z[64];
        printf("# %s %s: %s, %s CPU, %s, %s\n", i ? "new: " : "base:", argv[optind + i],
               fmt_count(w, sizeof(w), t.samples, "sample"), fmt_seconds(x, sizeof(x), t.weight_ns),
               fmt_count(y, sizeof(y), t.nprocs, "process"),
               fmt_count(z, sizeof(z), t.nthreads, "thread"));
    }
    if (filter_active(&flt)) {
        fputs("# filters: ", stdout);
        filter_describe(&flt, stdout);
        printf(" (kept %llu of %llu samples of BASE, %llu of %llu of NEW)\n",
               (unsigned long long)all[0], (unsigned long long)before[0],
               (unsigned long long)all[1], (unsigned long long)before[1]);
    }

    int color = out_use_color(stdout);
    struct table tb;
    table_init(&tb, 10);
    for (size_t i = 0; i < 8; i++)
        table_set(&tb, i, TABLE_RIGHT, 0);
    table_set(&tb, 8, TABLE_LEFT, 0);
    table_set(&tb, 9, TABLE_LEFT, 0);
    if (color) table_style_row(&tb, SGR_BOLD);
    static const char *const head[] = {"dSelf",      "Self-base", "Self-new",   "dTotal",
                                       "Total-base", "Total-new", "dSelf-time", "dTotal-time",
                                       "Status",     "Function"};
    for (size_t i = 0; i < 10; i++)
        table_add(&tb, head[i]);
    size_t shown = limit && limit < d.nrows ? (size_t)limit : d.nrows;
    char a[64];
    for (size_t i = 0; i < shown; i++) {
        const struct drow *r = &d.rows[i];
        table_add(&tb, fmt_points(a, sizeof(a), r->dself));
        table_add(&tb, r->in[0] ? fmt_percent(a, sizeof(a), r->s[0].self, all[0]) : "-");
        table_add(&tb, r->in[1] ? fmt_percent(a, sizeof(a), r->s[1].self, all[1]) : "-");
        table_add(&tb, fmt_points(a, sizeof(a), r->dtotal));
        table_add(&tb, r->in[0] ? fmt_percent(a, sizeof(a), r->s[0].total, all[0]) : "-");
        table_add(&tb, r->in[1] ? fmt_percent(a, sizeof(a), r->s[1].total, all[1]) : "-");
        table_add(&tb, fmt_dtime(a, sizeof(a), r->s[0].self_ns, r->s[1].self_ns));
        table_add(&tb, fmt_dtime(a, sizeof(a), r->s[0].total_ns, r->s[1].total_ns));
        table_add(&tb, !r->in[0] ? "new" : !r->in[1] ? "gone" : "");
        const char *m = r->module;
        if (!m[0])
            table_add(&tb, r->name);
        else if (m[0] == '[')
            table_addf(&tb, "%s  %s", r->name, m);
        else
            table_addf(&tb, "%s  [%s]", r->name, m);
    }
    table_print(&tb, stdout, "");
    if (shown < d.nrows)
        printf("# %zu more row%s (use --limit 0)\n", d.nrows - shown,
               d.nrows - shown == 1 ? "" : "s");
    table_release(&tb);
    free(d.rows);
    u64map_release(&d.ix);
    strtab_release(&d.keys);
    sp_profile_free(side[0]);
    sp_profile_free(side[1]);
    filter_release(&flt);
    return 0;
usage:
    filter_release(&flt);
    return EXIT_USAGE;
}

const struct command cmd_diff = {"diff", run, "change per function from one profile to another",
                                 usage_text};
