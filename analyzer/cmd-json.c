/* SPDX-License-Identifier: MIT */
/*
 * sprof-report json: the profile for scripts, in a stable schema
 * ("sprof-report/1", specified in man/sprof-report.md, JSON OUTPUT):
 *
 *   {"schema": "sprof-report/1", "generator": "sprof-report VERSION",
 *    "metadata": {"processes": [...], "threads": [...], "filters": {...},
 *                 "totals": {...}},
 *    "functions": [{"name", "module", "file", "line", "self_samples",
 *                   "total_samples", "self_ns", "total_ns"}, ...],
 *    "tree": {"function": null, ..., "children": [{"function": 0, ...}]}}
 *
 * Tree nodes name functions by their index in "functions". Every string is
 * written by json_put_string with JSON_ESCAPE_MARKUP (quotes, backslashes,
 * control characters and < > & escaped; invalid UTF-8 becomes U+FFFD), so
 * the output always parses. Fields are
 * only ever added within a schema version; a change of meaning or a removal
 * bumps it.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate.h"
#include "calltree.h"
#include "cli.h"
#include "filter.h"
#include "json.h"
#include "log.h"
#include "output.h"
#include "symbolize.h"

#ifndef SPROF_VERSION_STRING
#define SPROF_VERSION_STRING "unknown"
#endif

#define SCHEMA "sprof-report/1"

static const struct sp_profile *sort_p;
static const struct sp_agg *sort_fs;

static int fn_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    const struct sp_agg *fx = &sort_fs[x], *fy = &sort_fs[y];
    if (fx->self != fy->self) return fx->self > fy->self ? -1 : 1;
    if (fx->total != fy->total) return fx->total > fy->total ? -1 : 1;
    int r = strcmp(sort_p->funcs[x].name, sort_p->funcs[y].name);
    if (!r) r = strcmp(sort_p->funcs[x].module, sort_p->funcs[y].module);
    return r ? r : (x < y ? -1 : x > y);
}

static void key(FILE *o, const char *k)
{
    json_put_string(o, k, JSON_ESCAPE_MARKUP);
    fputs(": ", o);
}

static void kv_str(FILE *o, const char *k, const char *v)
{
    key(o, k);
    json_put_string(o, v ? v : "", JSON_ESCAPE_MARKUP);
}

static void kv_u64(FILE *o, const char *k, uint64_t v)
{
    key(o, k);
    fprintf(o, "%" PRIu64, v);
}

static void put_process(FILE *o, const struct sp_profile *p, uint32_t i, const uint64_t *kept,
                        const uint64_t *kept_ns)
{
    const struct sp_process *pr = &p->procs[i];
    fputs("{", o);
    kv_str(o, "file", pr->file);
    fputs(", ", o);
    kv_u64(o, "pid", pr->pid);
    fputs(", ", o);
    kv_u64(o, "ppid", pr->ppid);
    fputs(", ", o);
    kv_str(o, "command", pr->comm);
    fputs(", ", o);
    key(o, "argv");
    fputs("[", o);
    for (uint32_t a = 0; a < pr->argc; a++) {
        if (a) fputs(", ", o);
        json_put_string(o, pr->argv[a], JSON_ESCAPE_MARKUP);
    }
    fputs("], ", o);
    kv_str(o, "executable", pr->has_process ? pr->exe : "");
    fputs(", ", o);
    kv_u64(o, "start_realtime_ns", pr->start_realtime_ns);
    fputs(", ", o);
    uint64_t start = pr->has_process ? pr->start_mono_ns : pr->first_time;
    uint64_t end = pr->has_end ? pr->end_time : pr->last_time;
    kv_u64(o, "duration_ns", end > start ? end - start : 0);
    fputs(", ", o);
    key(o, "end");
    if (pr->has_end) {
        fputs("{", o);
        kv_str(o, "reason", pr->end_reason);
        fputs(", ", o);
        kv_u64(o, "status", pr->end_status);
        fputs("}", o);
    } else {
        fputs("null", o);
    }
    fputs(", ", o);
    key(o, "config");
    if (pr->has_config) {
        const struct sp_config *k = &pr->config;
        fputs("{", o);
        kv_str(o, "event", k->event);
        fputs(", ", o);
        kv_u64(o, "frequency_hz", k->freq_hz);
        fputs(", ", o);
        kv_u64(o, "period_ns", k->period_ns);
        fputs(", ", o);
        kv_u64(o, "signal", k->signal);
        fputs(", ", o);
        kv_str(o, "backend", k->backend);
        fputs(", ", o);
        kv_str(o, "unwinder", k->unwinder);
        fputs(", ", o);
        kv_u64(o, "max_depth", k->max_depth);
        fputs("}", o);
    } else {
        fputs("null", o);
    }
    fputs(", ", o);
    kv_u64(o, "samples_in_file", pr->nsamples);
    fputs(", ", o);
    kv_u64(o, "samples_lost", pr->has_counters ? pr->counters[SPROF_CTR_LOST] : 0);
    fputs(", ", o);
    kv_u64(o, "samples_truncated", pr->has_counters ? pr->counters[SPROF_CTR_TRUNCATED] : 0);
    fputs(", ", o);
    uint64_t n = 0, ns = 0;
    for (size_t t = 0; t < p->nthreads; t++)
        if (p->threads[t].proc == i) {
            n += kept[t];
            ns += kept_ns[t];
        }
    kv_u64(o, "samples", n);
    fputs(", ", o);
    kv_u64(o, "cpu_ns", ns);
    fputs("}", o);
}

static void put_strings(FILE *o, const char *k, char *const *v, size_t n)
{
    key(o, k);
    fputs("[", o);
    for (size_t i = 0; i < n; i++) {
        if (i) fputs(", ", o);
        json_put_string(o, v[i], JSON_ESCAPE_MARKUP);
    }
    fputs("]", o);
}

static void put_filters(FILE *o, const struct filter_opts *f)
{
    fputs("{", o);
    key(o, "pid");
    fputs("[", o);
    for (size_t i = 0; i < f->npids; i++)
        fprintf(o, "%s%u", i ? ", " : "", f->pids[i]);
    fputs("], ", o);
    put_strings(o, "tid", f->tids, f->ntids);
    fputs(", ", o);
    key(o, "time");
    if (f->has_time)
        json_put_string(o, f->time_src, JSON_ESCAPE_MARKUP);
    else
        fputs("null", o);
    fputs(", ", o);
    char **re = xmalloc((f->nfocus + f->nhide + 1) * sizeof(*re));
    for (size_t i = 0; i < f->nfocus; i++)
        re[i] = f->focus[i].src;
    put_strings(o, "focus", re, f->nfocus);
    fputs(", ", o);
    for (size_t i = 0; i < f->nhide; i++)
        re[i] = f->hide[i].src;
    put_strings(o, "hide", re, f->nhide);
    free(re);
    fputs(", ", o);
    key(o, "no_inline");
    fputs(f->no_inline ? "true" : "false", o);
    fputs(", ", o);
    key(o, "max_depth");
    if (f->max_depth)
        fprintf(o, "%u", f->max_depth);
    else
        fputs("null", o);
    fputs("}", o);
}

static char *lit(char *p, const char *s)
{
    size_t n = strlen(s);
    memcpy(p, s, n);
    return p + n;
}

/* A node, up to the opening of its children, after sep ("" or ",\n"):
 * made in a buffer and written at once (a tree of a million nodes is 120 MB
 * of these: fprintf was a tenth of the report's time). */
static void put_node_head(FILE *o, const char *sep, const struct ct_node *n, const uint32_t *id)
{
    char line[256], *p = lit(line, sep);
    p = lit(p, "{\"function\": ");
    if (n->func == SP_NONE) {
        p = lit(p, "null");
    } else {
        p = put_dec(p, id[n->func]);
        p = lit(p, n->inlined ? ", \"inlined\": true" : ", \"inlined\": false");
    }
    p = put_dec(lit(p, ", \"self_samples\": "), n->self);
    p = put_dec(lit(p, ", \"total_samples\": "), n->total);
    p = put_dec(lit(p, ", \"self_ns\": "), n->self_ns);
    p = put_dec(lit(p, ", \"total_ns\": "), n->total_ns);
    p = lit(p, ", \"children\": [");
    fwrite(line, 1, (size_t)(p - line), o);
}

/* The tree, depth first without recursion (trees can be very deep). */
static void put_tree(FILE *o, const struct calltree *t, const uint32_t *id, uint64_t min)
{
    struct item {
        uint32_t node, next;
    } *st = NULL;
    size_t n = 0, cap = 0;
    GROW(st, cap, 1);
    st[n++] = (struct item){0, 0};
    put_node_head(o, "", &t->nodes[0], id);
    while (n) {
        struct item *it = &st[n - 1];
        const struct ct_node *nd = &t->nodes[it->node];
        /* children are sorted by total: the kept ones come first */
        if (it->next >= nd->nkids || t->nodes[t->kids[nd->kids + it->next]].total < min) {
            fputs("]}", o);
            n--;
            continue;
        }
        uint32_t child = t->kids[nd->kids + it->next];
        put_node_head(o, it->next++ ? ",\n" : "\n", &t->nodes[child], id);
        GROW(st, cap, n + 1);
        st[n++] = (struct item){child, 0};
    }
    free(st);
}

static const char usage_text[] =
    "usage: sprof-report json [OPTIONS] FILE...\n"
    "\n"
    "The profile as JSON for scripts, schema \"" SCHEMA "\" (see the man page):\n"
    "metadata (processes, threads, filters, totals), per-function self and\n"
    "total samples and CPU time, and the call tree.\n"
    "\n"
    "options:\n"
    "  --inverted            the tree bottom-up (leaf functions at the top)\n"
    "  --min-percent P       leave tree nodes under P% of all samples out\n"
    "                        (default 0: the whole tree)\n"
    "  --no-tree             leave the tree out (\"tree\": null)\n"
    "  -o, --output FILE     write to FILE instead of standard output\n"
    "  -h, --help            this text\n" FILTER_USAGE;

static int run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"inverted", no_argument, NULL, 'i'},
        {"min-percent", required_argument, NULL, 'm'},
        {"no-tree", no_argument, NULL, 'T'},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        FILTER_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    struct filter_opts flt;
    filter_init(&flt);
    int inverted = 0, no_tree = 0;
    double min_pct = 0;
    const char *out_path = NULL;
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":ho:", opts, NULL)) != -1) {
        if (filter_is_option(c)) {
            if (filter_parse(&flt, "json", c, optarg)) goto usage;
            continue;
        }
        switch (c) {
        case 'i':
            inverted = 1;
            break;
        case 'T':
            no_tree = 1;
            break;
        case 'o':
            out_path = optarg;
            break;
        case 'm':
            if (cli_parse_percent(optarg, &min_pct)) {
                cli_usage_error("json", "--min-percent takes a number from 0 to 100, not '%s'",
                                optarg);
                goto usage;
            }
            break;
        case 'h':
            fputs(usage_text, stdout);
            filter_release(&flt);
            return 0;
        default:
            cli_bad_option("json", argv, c);
            goto usage;
        }
    }
    struct sp_profile *p = cli_load("json", argc - optind, argv + optind);
    if (!p) goto usage;
    size_t before = p->nsamples;
    filter_apply(p, &flt);
    sp_symbolize(p);

    FILE *o = stdout;
    if (out_path) {
        o = fopen(out_path, "w");
        if (!o) {
            sprof_err("json: cannot write '%s': %s", out_path, strerror(errno));
            sp_profile_free(p);
            goto usage;
        }
    }

    struct sp_agg *fs = sp_aggregate_funcs(p);
    uint32_t *order = xmalloc((p->nfuncs ? p->nfuncs : 1) * sizeof(*order));
    uint32_t *id = xmalloc((p->nfuncs ? p->nfuncs : 1) * sizeof(*id)); /* in "functions" */
    size_t nf = 0;
    for (size_t f = 0; f < p->nfuncs; f++) {
        id[f] = SP_NONE;
        if (fs[f].total) order[nf++] = (uint32_t)f;
    }
    sort_p = p;
    sort_fs = fs;
    if (nf) qsort(order, nf, sizeof(*order), fn_cmp);
    for (size_t i = 0; i < nf; i++)
        id[order[i]] = (uint32_t)i;

    uint64_t *kept = xcalloc(p->nthreads ? p->nthreads : 1, sizeof(*kept));
    uint64_t *kept_ns = xcalloc(p->nthreads ? p->nthreads : 1, sizeof(*kept_ns));
    for (size_t i = 0; i < p->nsamples; i++) {
        kept[p->samples[i].thread]++;
        kept_ns[p->samples[i].thread] += p->samples[i].weight_ns;
    }
    struct sp_totals tot;
    sp_profile_totals(p, &tot);

    fputs("{", o);
    kv_str(o, "schema", SCHEMA);
    fputs(",\n", o);
    kv_str(o, "generator", "sprof-report " SPROF_VERSION_STRING);
    fputs(",\n\"metadata\": {\n\"processes\": [", o);
    int first = 1;
    for (size_t i = 0; i < p->nprocs; i++) {
        if (!filter_selects_proc(&flt, p, (uint32_t)i)) continue;
        fputs(first ? "\n" : ",\n", o);
        first = 0;
        put_process(o, p, (uint32_t)i, kept, kept_ns);
    }
    fputs("],\n\"threads\": [", o);
    first = 1;
    for (size_t i = 0; i < p->nthreads; i++) {
        const struct sp_thread *th = &p->threads[i];
        if (!filter_selects_proc(&flt, p, th->proc)) continue;
        fputs(first ? "\n{" : ",\n{", o);
        first = 0;
        kv_u64(o, "pid", p->procs[th->proc].pid);
        fputs(", ", o);
        kv_u64(o, "tid", th->tid);
        fputs(", ", o);
        kv_str(o, "name", th->name);
        fputs(", ", o);
        kv_u64(o, "samples", kept[i]);
        fputs(", ", o);
        kv_u64(o, "cpu_ns", kept_ns[i]);
        fputs(", ", o);
        kv_u64(o, "thread_cpu_ns", th->cpu_ns);
        fputs("}", o);
    }
    fputs("],\n\"filters\": ", o);
    put_filters(o, &flt);
    fputs(",\n\"totals\": {", o);
    kv_u64(o, "samples", tot.samples);
    fputs(", ", o);
    kv_u64(o, "cpu_ns", tot.weight_ns);
    fputs(", ", o);
    kv_u64(o, "processes", tot.nprocs);
    fputs(", ", o);
    kv_u64(o, "threads", tot.nthreads);
    fputs(", ", o);
    kv_u64(o, "samples_before_filters", before);
    fputs(", ", o);
    kv_u64(o, "functions", nf);
    fputs("}},\n\"functions\": [", o);
    for (size_t i = 0; i < nf; i++) {
        const struct sp_func *fn = &p->funcs[order[i]];
        const struct sp_agg *f = &fs[order[i]];
        fputs(i ? ",\n{" : "\n{", o);
        kv_str(o, "name", fn->name);
        fputs(", ", o);
        kv_str(o, "module", fn->module);
        fputs(", ", o);
        kv_str(o, "file", fn->file);
        fputs(", ", o);
        kv_u64(o, "line", fn->line);
        fprintf(o,
                ", \"self_samples\": %" PRIu64 ", \"total_samples\": %" PRIu64
                ", \"self_ns\": %" PRIu64 ", \"total_ns\": %" PRIu64 "}",
                f->self, f->total, f->self_ns, f->total_ns);
    }
    fputs("],\n\"tree\": ", o);
    if (no_tree) {
        fputs("null", o);
    } else {
        struct calltree t;
        calltree_build(&t, p, inverted, CALLTREE_BY_TOTAL);
        double want = min_pct / 100.0 * (double)t.nodes[0].total;
        uint64_t min = (uint64_t)want;
        if ((double)min < want) min++;
        if (!min) min = 1;
        fprintf(o,
                "{\"inverted\": %s, \"min_percent\": %g, \"root\": ", inverted ? "true" : "false",
                min_pct);
        put_tree(o, &t, id, min);
        fputs("}", o);
        calltree_release(&t);
    }
    fputs("}\n", o);

    int rc = 0;
    if (out_path && fclose(o) != 0) {
        sprof_err("json: cannot write '%s': %s", out_path, strerror(errno));
        rc = EXIT_USAGE;
    }
    free(kept);
    free(kept_ns);
    free(order);
    free(id);
    free(fs);
    sp_profile_free(p);
    filter_release(&flt);
    return rc;
usage:
    filter_release(&flt);
    return EXIT_USAGE;
}

const struct command cmd_json = {"json", run, "the profile as JSON (stable schema) for scripts",
                                 usage_text};
