/* SPDX-License-Identifier: MIT */
/*
 * sprof-report check: compares runs of a benchmark with a baseline (see
 * cmd-baseline.c and baseline.h) and says whether the program, or any
 * function in it, became significantly slower. Exit status 1 on a
 * regression, 0 when there is none, 2 on an error.
 *
 * Rows: the program's total CPU time, and every function whose CPU time (self
 * by default) is at least --min-share of the program's on either side.
 * For a row, mean CPU time per run on each side and its relative change.
 *
 * A function regressed when two one-sided tests both reject, at --alpha
 * after Holm's correction over all rows (an intersection-union test, whose
 * p-value is the larger of the two):
 *   time:     its CPU time per run grew by more than the threshold (the null
 *             hypothesis is "now <= (1 + threshold) * baseline", so that
 *             sampling noise around a change under the threshold is not
 *             flagged however many samples there are);
 *   relative: its CPU time relative to the rest of the program grew (the
 *             odds f / (1 - f) of its share f), so that a machine that is
 *             slower as a whole, which changes every function's time but no
 *             function's share, does not flag every function.
 * A function that got slower does not make the others look faster either:
 * their own time did not change. The total has only the time test.
 * Improvements are the mirror image: time shrank by more than the
 * threshold, and relative time shrank.
 *
 * With at least two runs on each side, both tests are Welch's t-test on
 * per-run values (CPU nanoseconds; log odds of the share, counts + 1/2).
 * With one run on a side, they are tests on the sample counts: the exact
 * conditional (binomial) test of two Poisson rates for the time, Woolf's
 * log odds ratio test (counts + 1/2) for the relative time. The total has
 * no relative test to shield it from a machine that is slower as a whole,
 * so when the other side has several runs, its time test is a t-test
 * against their run-to-run variation instead (total_spread).
 */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "baseline.h"
#include "cli.h"
#include "filter.h"
#include "json.h"
#include "log.h"
#include "output.h"
#include "stats.h"

#define TOTAL_NAME "[total CPU time]"

enum verdict { V_OK, V_REGRESSED, V_IMPROVED, V_NEW, V_GONE };
static const char *const verdict_names[] = {"ok", "regressed", "improved", "new", "gone"};

enum format { FMT_TEXT, FMT_JSON, FMT_JUNIT };

struct opts {
    const char *baseline;
    double threshold, alpha, min_share;
    int total_metric; /* --metric total */
    enum format format;
    int update;
};

struct row {
    const char *name, *module;
    int is_total;
    double base_ns, now_ns;       /* mean per run */
    double share_base, share_now; /* of the side's CPU time */
    double change;                /* now / base - 1; NAN when base is 0 */
    int tested;
    double p_up, p_down;         /* raw one-sided p-values (max of the two tests) */
    double p_up_adj, p_down_adj; /* Holm */
    double p;                    /* shown: adjusted, in the direction of the change */
    enum verdict v;
};

struct side {
    struct baseline *b;
    size_t n;         /* runs */
    uint64_t samples; /* over all runs */
    double cpu_ns;
    double *run_ns; /* per run CPU time, as doubles */
};

struct check {
    struct opts o;
    const struct filter_opts *flt;
    struct side base, now;
    int counts; /* one run on a side: tests on sample counts */
    struct row *rows;
    size_t nrows, cap;
    size_t ntested, nskipped, nreg, nimp;
    double *tmp_y, *tmp_x; /* per-run scratch */
};

static void side_init(struct side *s, struct baseline *b)
{
    s->b = b;
    s->n = b->nruns;
    s->run_ns = xmalloc(s->n * sizeof(*s->run_ns));
    for (size_t r = 0; r < s->n; r++) {
        s->samples += b->runs[r].samples;
        s->cpu_ns += (double)b->runs[r].cpu_ns;
        s->run_ns[r] = (double)b->runs[r].cpu_ns;
    }
}

/* The per-run samples and ns of function fi of a side under the metric. */
static const uint64_t *f_samples(const struct check *c, const struct side *s, size_t fi)
{
    const struct bl_func *f = &s->b->funcs[fi];
    return c->o.total_metric ? f->total : f->self;
}

static const uint64_t *f_ns(const struct check *c, const struct side *s, size_t fi)
{
    const struct bl_func *f = &s->b->funcs[fi];
    return c->o.total_metric ? f->total_ns : f->self_ns;
}

static uint64_t sum(const uint64_t *v, size_t n)
{
    uint64_t s = 0;
    for (size_t i = 0; i < n; i++)
        s += v[i];
    return s;
}

static double dmax(double a, double b)
{
    return a > b ? a : b;
}

/* One-sided p-values of "grew by more than the threshold" (up) and "shrank
 * by more than the threshold" (down) for a function: the larger p of the
 * time test and the relative test. */
static void test_function(struct check *c, const uint64_t *kb, const uint64_t *nsb,
                          const uint64_t *kn, const uint64_t *nsn, double *up, double *down)
{
    double cu = 1 + c->o.threshold, cd = 1 - c->o.threshold;
    const struct side *B = &c->base, *N = &c->now;
    if (c->counts) {
        uint64_t sb = sum(kb, B->n), sn = sum(kn, N->n);
        double t_up = st_poisson_ratio(sn, (double)N->n, sb, (double)B->n, cu, 1);
        double t_dn = st_poisson_ratio(sn, (double)N->n, sb, (double)B->n, cd, 0);
        double r_up = st_odds_ratio(sb, B->samples, sn, N->samples, 1, 1);
        double r_dn = st_odds_ratio(sb, B->samples, sn, N->samples, 1, 0);
        *up = dmax(t_up, r_up);
        *down = dmax(t_dn, r_dn);
        return;
    }
    double *y = c->tmp_y, *x = c->tmp_x;
    for (size_t r = 0; r < N->n; r++)
        y[r] = (double)nsn[r];
    for (size_t r = 0; r < B->n; r++)
        x[r] = (double)nsb[r];
    double t_up = st_welch(y, N->n, x, B->n, cu, 0, 1, NULL, NULL);
    double t_dn = st_welch(y, N->n, x, B->n, cd, 0, 0, NULL, NULL);
    for (size_t r = 0; r < N->n; r++) {
        double k = (double)kn[r], n = (double)N->b->runs[r].samples;
        y[r] = log((k + 0.5) / (n - k + 0.5));
    }
    for (size_t r = 0; r < B->n; r++) {
        double k = (double)kb[r], n = (double)B->b->runs[r].samples;
        x[r] = log((k + 0.5) / (n - k + 0.5));
    }
    double r_up = st_welch(y, N->n, x, B->n, 1, 0, 1, NULL, NULL);
    double r_dn = st_welch(y, N->n, x, B->n, 1, 0, 0, NULL, NULL);
    *up = dmax(t_up, r_up);
    *down = dmax(t_dn, r_dn);
}

/* The total's time test with one run on a side and several on the other:
 * the several runs measure the run-to-run variation (a busy machine, a
 * cold cache), which sample counts alone cannot show; the relative
 * variance of a run is at least the Poisson one of its samples. */
static double total_spread(const struct check *c, double cc, int upper)
{
    const struct side *B = &c->base, *N = &c->now, *S = B->n >= 2 ? B : N;
    double mean, var;
    st_mean_var(S->run_ns, S->n, &mean, &var);
    double cv2 = mean > 0 ? var / (mean * mean) : 0;
    double poisson = S->samples ? (double)S->n / (double)S->samples : 1;
    if (cv2 < poisson) cv2 = poisson;
    return st_t_cv(N->cpu_ns / (double)N->n, N->n, B->cpu_ns / (double)B->n, B->n, cc, cv2, S->n,
                   upper);
}

static void test_total(struct check *c, double *up, double *down)
{
    double cu = 1 + c->o.threshold, cd = 1 - c->o.threshold;
    const struct side *B = &c->base, *N = &c->now;
    if (c->counts && (B->n >= 2 || N->n >= 2)) {
        *up = total_spread(c, cu, 1);
        *down = total_spread(c, cd, 0);
        return;
    }
    if (c->counts) {
        *up = st_poisson_ratio(N->samples, (double)N->n, B->samples, (double)B->n, cu, 1);
        *down = st_poisson_ratio(N->samples, (double)N->n, B->samples, (double)B->n, cd, 0);
        return;
    }
    *up = st_welch(N->run_ns, N->n, B->run_ns, B->n, cu, 0, 1, NULL, NULL);
    *down = st_welch(N->run_ns, N->n, B->run_ns, B->n, cd, 0, 0, NULL, NULL);
}

static struct row *new_row(struct check *c)
{
    GROW(c->rows, c->cap, c->nrows + 1);
    struct row *r = &c->rows[c->nrows++];
    memset(r, 0, sizeof(*r));
    r->change = NAN;
    r->p = NAN;
    r->p_up = r->p_down = r->p_up_adj = r->p_down_adj = NAN;
    return r;
}

/* A function present on one side or both: bi and ni index the sides'
 * functions, SIZE_MAX when absent. */
static void add_function(struct check *c, size_t bi, size_t ni, const uint64_t *zeros)
{
    const struct side *B = &c->base, *N = &c->now;
    const uint64_t *kb = bi != SIZE_MAX ? f_samples(c, B, bi) : zeros;
    const uint64_t *nsb = bi != SIZE_MAX ? f_ns(c, B, bi) : zeros;
    const uint64_t *kn = ni != SIZE_MAX ? f_samples(c, N, ni) : zeros;
    const uint64_t *nsn = ni != SIZE_MAX ? f_ns(c, N, ni) : zeros;
    if (!sum(kb, B->n) && !sum(kn, N->n)) return; /* e.g. no self time on either side */
    double sb = (double)sum(nsb, B->n), sn = (double)sum(nsn, N->n);
    double share_b = B->cpu_ns > 0 ? sb / B->cpu_ns : 0;
    double share_n = N->cpu_ns > 0 ? sn / N->cpu_ns : 0;
    if (share_b < c->o.min_share && share_n < c->o.min_share) {
        c->nskipped++;
        return;
    }
    struct row *r = new_row(c);
    const struct bl_func *f = ni != SIZE_MAX ? &N->b->funcs[ni] : &B->b->funcs[bi];
    r->name = f->name;
    r->module = f->module;
    r->base_ns = sb / (double)B->n;
    r->now_ns = sn / (double)N->n;
    r->share_base = share_b;
    r->share_now = share_n;
    if (!sum(kb, B->n)) {
        r->v = V_NEW;
        return;
    }
    r->change = r->base_ns > 0 ? r->now_ns / r->base_ns - 1 : NAN;
    if (!sum(kn, N->n)) {
        r->v = V_GONE;
        return;
    }
    r->tested = 1;
    test_function(c, kb, nsb, kn, nsn, &r->p_up, &r->p_down);
}

static int row_cmp(const void *x, const void *y)
{
    const struct row *a = x, *b = y;
    if (a->is_total != b->is_total) return a->is_total ? -1 : 1;
    double ka = dmax(a->base_ns, a->now_ns), kb = dmax(b->base_ns, b->now_ns);
    if (ka != kb) return ka > kb ? -1 : 1;
    int k = strcmp(a->name, b->name);
    return k ? k : strcmp(a->module, b->module);
}

static void compare(struct check *c)
{
    struct side *B = &c->base, *N = &c->now;
    c->counts = B->n < 2 || N->n < 2;
    size_t most = B->n > N->n ? B->n : N->n;
    c->tmp_y = xmalloc(most * sizeof(double));
    c->tmp_x = xmalloc(most * sizeof(double));
    uint64_t *zeros = xcalloc(most, sizeof(uint64_t));

    struct row *t = new_row(c);
    t->name = TOTAL_NAME;
    t->module = "";
    t->is_total = 1;
    t->base_ns = B->cpu_ns / (double)B->n;
    t->now_ns = N->cpu_ns / (double)N->n;
    t->share_base = t->share_now = 1;
    t->change = t->base_ns > 0 ? t->now_ns / t->base_ns - 1 : NAN;
    t->tested = 1;
    test_total(c, &t->p_up, &t->p_down);

    for (size_t i = 0; i < N->b->nfuncs; i++)
        add_function(c, bl_find(B->b, N->b->funcs[i].name, N->b->funcs[i].module), i, zeros);
    for (size_t i = 0; i < B->b->nfuncs; i++)
        if (bl_find(N->b, B->b->funcs[i].name, B->b->funcs[i].module) == SIZE_MAX)
            add_function(c, i, SIZE_MAX, zeros);
    free(zeros);

    /* Holm over the tested rows, separately for each direction */
    double *pu = xmalloc(c->nrows * sizeof(double)), *pd = xmalloc(c->nrows * sizeof(double));
    size_t n = 0;
    for (size_t i = 0; i < c->nrows; i++)
        if (c->rows[i].tested) {
            pu[n] = c->rows[i].p_up;
            pd[n] = c->rows[i].p_down;
            n++;
        }
    st_holm(pu, n, pu);
    st_holm(pd, n, pd);
    c->ntested = n;
    n = 0;
    for (size_t i = 0; i < c->nrows; i++) {
        struct row *r = &c->rows[i];
        if (!r->tested) continue;
        r->p_up_adj = pu[n];
        r->p_down_adj = pd[n];
        n++;
        r->p = r->change >= 0 ? r->p_up_adj : r->p_down_adj;
        if (r->p_up_adj < c->o.alpha && r->change > 0) {
            r->v = V_REGRESSED;
            c->nreg++;
        } else if (r->p_down_adj < c->o.alpha && r->change < 0) {
            r->v = V_IMPROVED;
            c->nimp++;
        }
    }
    free(pu);
    free(pd);
    qsort(c->rows, c->nrows, sizeof(*c->rows), row_cmp);
}

/* ---- output ---- */

static char *fmt_change(char *buf, size_t n, double change)
{
    if (isnan(change))
        snprintf(buf, n, "-");
    else
        snprintf(buf, n, "%+.1f%%", change * 100);
    return buf;
}

static char *fmt_p(char *buf, size_t n, double p)
{
    if (isnan(p))
        snprintf(buf, n, "-");
    else if (p < 0.0001)
        snprintf(buf, n, "<0.0001");
    else
        snprintf(buf, n, "%.2g", p);
    return buf;
}

static char *fmt_pct(char *buf, size_t n, double frac)
{
    snprintf(buf, n, "%.1f%%", frac * 100);
    return buf;
}

static const char *test_name(const struct check *c)
{
    if (!c->counts) return "Welch's t-test on per-run values";
    if (c->base.n >= 2 || c->now.n >= 2)
        return "sample counts (one run on a side): exact Poisson rate test and log odds ratio "
               "test; the total against the other side's run-to-run variation";
    return "sample counts (one run on a side): exact Poisson rate test and log odds ratio test";
}

static void print_text(const struct check *c, FILE *out)
{
    const struct side *B = &c->base, *N = &c->now;
    char a[64], b[64], d[64];
    fprintf(out, "# baseline '%s': %s of '%s' (sprof %s); now: %s\n", c->o.baseline,
            fmt_count(a, sizeof(a), B->n, "run"), B->b->command[0] ? B->b->command : "?",
            B->b->sprof[0] ? B->b->sprof : "?", fmt_count(b, sizeof(b), N->n, "run"));
    if (B->b->command[0] && N->b->command[0] && strcmp(B->b->command, N->b->command) != 0)
        fprintf(out, "# note: these runs are of '%s', not of the baseline's command\n",
                N->b->command);
    filter_print_note(c->flt, N->b->read_samples, N->b->kept_samples, out);
    if (strcmp(B->b->filters, N->b->filters) != 0)
        fprintf(out, "# note: the baseline was made with %s%s%s, these runs with %s%s%s\n",
                B->b->filters[0] ? "the filters '" : "no filters", B->b->filters,
                B->b->filters[0] ? "'" : "", N->b->filters[0] ? "the filters '" : "no filters",
                N->b->filters, N->b->filters[0] ? "'" : "");
    fprintf(out,
            "# regression = %s time up by more than %s, significant at alpha %g (Holm over %zu "
            "tests); test: %s\n",
            c->o.total_metric ? "total (inclusive)" : "self", fmt_pct(a, sizeof(a), c->o.threshold),
            c->o.alpha, c->ntested, test_name(c));

    struct table tb;
    table_init(&tb, 7);
    table_set(&tb, 0, TABLE_LEFT, 48);
    table_set(&tb, 1, TABLE_LEFT, 20);
    for (size_t i = 2; i < 6; i++)
        table_set(&tb, i, TABLE_RIGHT, 0);
    table_set(&tb, 6, TABLE_LEFT, 0);
    int color = out_use_color(out);
    if (color) table_style_row(&tb, SGR_BOLD);
    table_add(&tb, "Function");
    table_add(&tb, "Module");
    table_add(&tb, "Baseline");
    table_add(&tb, "Now");
    table_add(&tb, "Change");
    table_add(&tb, "p");
    table_add(&tb, "Verdict");
    for (size_t i = 0; i < c->nrows; i++) {
        const struct row *r = &c->rows[i];
        if (color && r->v == V_REGRESSED) table_style_row(&tb, SGR_RED);
        table_add(&tb, r->name);
        table_add(&tb, r->module[0] ? r->module : "");
        table_add(&tb,
                  r->base_ns > 0 || r->v != V_NEW ? fmt_duration(a, sizeof(a), r->base_ns) : "-");
        table_add(&tb, r->v == V_GONE ? "-" : fmt_duration(a, sizeof(a), r->now_ns));
        table_add(&tb, fmt_change(a, sizeof(a), r->change));
        table_add(&tb, fmt_p(a, sizeof(a), r->p));
        table_add(&tb, verdict_names[r->v]);
    }
    table_print(&tb, out, "");
    table_release(&tb);

    for (size_t i = 0; i < c->nrows; i++) {
        const struct row *r = &c->rows[i];
        if (r->v == V_NEW)
            fprintf(out, "# new: %s [%s], %s of the CPU time, not in the baseline\n", r->name,
                    r->module, fmt_pct(a, sizeof(a), r->share_now));
        else if (r->v == V_GONE)
            fprintf(out, "# gone: %s [%s], %s of the CPU time in the baseline, not in these runs\n",
                    r->name, r->module, fmt_pct(a, sizeof(a), r->share_base));
    }
    if (c->nskipped)
        fprintf(out, "# %s under %s of the CPU time on both sides not checked (--min-share)\n",
                fmt_count(a, sizeof(a), c->nskipped, "function"),
                fmt_pct(b, sizeof(b), c->o.min_share));
    if (c->nreg) {
        fprintf(out, "# result: %s:", fmt_count(a, sizeof(a), c->nreg, "regression"));
        for (size_t i = 0; i < c->nrows; i++) {
            const struct row *r = &c->rows[i];
            if (r->v != V_REGRESSED) continue;
            if (r->is_total)
                fprintf(out, " %s %s", r->name, fmt_change(d, sizeof(d), r->change));
            else
                fprintf(out, " %s [%s] %s", r->name, r->module,
                        fmt_change(d, sizeof(d), r->change));
        }
        fputc('\n', out);
    } else {
        fprintf(out, "# result: no regression (%s)\n",
                fmt_count(a, sizeof(a), c->nimp, "improvement"));
    }
}

static void put_num(FILE *out, const char *key, double v, int comma)
{
    fprintf(out, "\"%s\": ", key);
    json_put_double(out, v);
    if (comma) fputs(", ", out);
}

static void print_json(const struct check *c, FILE *out)
{
    fputs("{\n  \"alpha\": ", out);
    json_put_double(out, c->o.alpha);
    fputs(",\n  \"baseline\": ", out);
    json_put_string(out, c->o.baseline, 0);
    fprintf(out, ",\n  \"baseline_runs\": %zu,\n  \"filters\": ", c->base.n);
    json_put_string(out, c->now.b->filters, 0);
    fprintf(out, ",\n  \"improvements\": %zu,\n  \"metric\": \"%s\",\n  \"min_share\": ", c->nimp,
            c->o.total_metric ? "total" : "self");
    json_put_double(out, c->o.min_share);
    fprintf(out, ",\n  \"regressions\": %zu,\n  \"rows\": [\n", c->nreg);
    for (size_t i = 0; i < c->nrows; i++) {
        const struct row *r = &c->rows[i];
        fputs("    {", out);
        put_num(out, "baseline_ns", r->base_ns, 1);
        put_num(out, "change", r->change, 1);
        fprintf(out, "\"kind\": \"%s\", \"module\": ", r->is_total ? "total" : "function");
        json_put_string(out, r->module, 0);
        fputs(", \"name\": ", out);
        json_put_string(out, r->name, 0);
        fputs(", ", out);
        put_num(out, "now_ns", r->now_ns, 1);
        put_num(out, "p", r->p, 1);
        put_num(out, "p_down", r->p_down, 1);
        put_num(out, "p_up", r->p_up, 1);
        put_num(out, "share_baseline", r->share_base, 1);
        put_num(out, "share_now", r->share_now, 1);
        fprintf(out, "\"verdict\": \"%s\"}%s\n", verdict_names[r->v], i + 1 < c->nrows ? "," : "");
    }
    fprintf(out, "  ],\n  \"runs\": %zu,\n  \"skipped\": %zu,\n  \"test\": \"%s\",\n", c->now.n,
            c->nskipped, c->counts ? "counts" : "welch");
    fputs("  \"threshold\": ", out);
    json_put_double(out, c->o.threshold);
    fputs("\n}\n", out);
}

static void print_junit(const struct check *c, FILE *out)
{
    char a[64], b[64], d[64], e[64];
    size_t ncases = c->nrows;
    fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(out, "<testsuites name=\"sprof-report check\" tests=\"%zu\" failures=\"%zu\">\n",
            ncases, c->nreg);
    fprintf(out,
            "  <testsuite name=\"sprof-report check\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" "
            "skipped=\"0\">\n",
            ncases, c->nreg);
    fputs("    <properties>\n      <property name=\"baseline\" value=\"", out);
    fput_xml(out, c->o.baseline);
    fprintf(out, "\"/>\n      <property name=\"threshold\" value=\"%g\"/>\n", c->o.threshold);
    fprintf(out, "      <property name=\"alpha\" value=\"%g\"/>\n", c->o.alpha);
    fprintf(out, "      <property name=\"test\" value=\"%s\"/>\n", c->counts ? "counts" : "welch");
    fputs("    </properties>\n", out);
    for (size_t i = 0; i < c->nrows; i++) {
        const struct row *r = &c->rows[i];
        fputs("    <testcase classname=\"", out);
        if (r->is_total) {
            fputs("sprof.check", out);
        } else {
            fputs("sprof.check.", out);
            fput_xml(out, r->module[0] ? r->module : "unknown");
        }
        fputs("\" name=\"", out);
        fput_xml(out, r->name);
        fputs("\"", out);
        char msg[256];
        snprintf(msg, sizeof(msg), "%s -> %s (%s), p %s: %s",
                 fmt_duration(a, sizeof(a), r->base_ns), fmt_duration(b, sizeof(b), r->now_ns),
                 fmt_change(d, sizeof(d), r->change), fmt_p(e, sizeof(e), r->p),
                 verdict_names[r->v]);
        if (r->v == V_REGRESSED) {
            fputs(">\n      <failure type=\"regression\" message=\"", out);
            fput_xml(out, msg);
            fputs("\">", out);
            fput_xml(out, r->name);
            fputs(": ", out);
            fput_xml(out, msg);
            fputs("</failure>\n    </testcase>\n", out);
        } else {
            fputs(">\n      <system-out>", out);
            fput_xml(out, msg);
            fputs("</system-out>\n    </testcase>\n", out);
        }
    }
    fputs("  </testsuite>\n</testsuites>\n", out);
}

/* ---- options ---- */

/* A fraction from "5%" or a plain number, which is a percentage when
 * percent is set ("5" = 5%) and a fraction otherwise ("0.01"). */
static int parse_fraction(const char *s, int percent, double *out)
{
    if (!s || !*s) return -1;
    char *end;
    double v = strtod(s, &end);
    if (end == s) return -1;
    if (*end == '%') {
        end++;
        v /= 100;
    } else if (percent) {
        v /= 100;
    }
    if (*end || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

static const char usage_text[] =
    "usage: sprof-report check --baseline FILE [OPTIONS] RUN...\n"
    "\n"
    "Compares runs of a benchmark with a baseline saved by 'sprof-report\n"
    "baseline': the program's total CPU time and every function with at least\n"
    "--min-share of it, matched by name and module. A row regressed when its\n"
    "CPU time per run grew by more than --threshold, and so did its share of\n"
    "the program relative to the rest, both significant at --alpha after Holm's\n"
    "correction over all rows: Welch's t-test on per-run values when both sides\n"
    "have two runs or more, else tests on the sample counts. Prints a table\n"
    "(function, baseline, now, change, p-value, verdict) and the functions that\n"
    "appeared or vanished. Exit status 1 when something regressed, 0 when not,\n"
    "2 on an error.\n"
    "\n"
    "Each RUN is a profile file, or a directory with the profile files of one\n"
    "run (a program and its children).\n"
    "\n"
    "options:\n"
    "  -b, --baseline FILE   the baseline to compare with (required)\n"
    "  -t, --threshold P     smallest change that counts, a percentage (default 5%)\n"
    "  -a, --alpha A         significance level after correction (default 0.01)\n"
    "  -m, --min-share P     check functions with at least this share of the CPU\n"
    "                        time on either side (default 1%)\n"
    "  --metric self|total   compare self time (default) or total (inclusive) time\n"
    "  -f, --format text|json|junit\n"
    "                        the report: a table (default), JSON, or JUnit XML\n"
    "  -u, --update          then rewrite the baseline from these runs; exit 0\n"
    "  -h, --help            this text\n" FILTER_USAGE "\n"
    "Filters apply to every run; give the ones the baseline was made with.\n";

/* Parses the options into o and flt. Returns 0, 1 after printing the help,
 * or EXIT_USAGE after a usage error. */
static int parse_options(int argc, char **argv, struct opts *o, struct filter_opts *flt)
{
    static const struct option longopts[] = {
        {"baseline", required_argument, NULL, 'b'},
        {"threshold", required_argument, NULL, 't'},
        {"alpha", required_argument, NULL, 'a'},
        {"min-share", required_argument, NULL, 'm'},
        {"metric", required_argument, NULL, 'M'},
        {"format", required_argument, NULL, 'f'},
        {"update", no_argument, NULL, 'u'},
        {"help", no_argument, NULL, 'h'},
        FILTER_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    o->threshold = 0.05;
    o->alpha = 0.01;
    o->min_share = 0.01;
    optind = 0;
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, ":b:t:a:m:f:uh", longopts, NULL)) != -1) {
        if (filter_is_option(opt)) {
            if (filter_parse(flt, "check", opt, optarg)) return EXIT_USAGE;
            continue;
        }
        switch (opt) {
        case 'b':
            if (!*optarg) return cli_usage_error("check", "--baseline needs a file name");
            o->baseline = optarg;
            break;
        case 't':
            if (parse_fraction(optarg, 1, &o->threshold) || o->threshold < 0 || o->threshold >= 1)
                return cli_usage_error("check",
                                       "--threshold takes a percentage from 0%% to under 100%%, "
                                       "not '%s'",
                                       optarg);
            break;
        case 'a':
            if (parse_fraction(optarg, 0, &o->alpha) || !(o->alpha > 0) || !(o->alpha < 1))
                return cli_usage_error("check",
                                       "--alpha takes a level between 0 and 1 (such as 0.01), "
                                       "not '%s'",
                                       optarg);
            break;
        case 'm':
            if (parse_fraction(optarg, 1, &o->min_share) || o->min_share < 0 || o->min_share > 1)
                return cli_usage_error("check", "--min-share takes a percentage, not '%s'", optarg);
            break;
        case 'M':
            if (strcmp(optarg, "self") == 0)
                o->total_metric = 0;
            else if (strcmp(optarg, "total") == 0)
                o->total_metric = 1;
            else
                return cli_usage_error("check", "--metric takes self or total, not '%s'", optarg);
            break;
        case 'f':
            if (strcmp(optarg, "text") == 0)
                o->format = FMT_TEXT;
            else if (strcmp(optarg, "json") == 0)
                o->format = FMT_JSON;
            else if (strcmp(optarg, "junit") == 0)
                o->format = FMT_JUNIT;
            else
                return cli_usage_error("check", "--format takes text, json or junit, not '%s'",
                                       optarg);
            break;
        case 'u':
            o->update = 1;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return 1;
        default:
            return cli_bad_option("check", argv, opt);
        }
    }
    if (!o->baseline) return cli_usage_error("check", "--baseline FILE is required");
    if (argc - optind <= 0) return cli_usage_error("check", "no run given");
    return 0;
}

static int run(int argc, char **argv)
{
    struct check c;
    memset(&c, 0, sizeof(c));
    struct filter_opts flt;
    filter_init(&flt);
    c.flt = &flt;
    int rc = parse_options(argc, argv, &c.o, &flt);
    if (rc) {
        filter_release(&flt);
        return rc == 1 ? 0 : rc;
    }
    int n = argc - optind;
    char **runs = argv + optind;

    struct baseline base, now;
    char err[700];
    int have_base = 1;
    if (bl_read(&base, c.o.baseline, err, sizeof(err))) {
        if (!c.o.update) {
            sprof_err("%s", err);
            filter_release(&flt);
            return EXIT_USAGE;
        }
        sprof_warn("%s; writing a new baseline", err);
        have_base = 0;
    }
    bl_init(&now, (size_t)n);
    if (bl_load_runs(&now, "check", n, runs, &flt)) {
        bl_release(&now);
        bl_release(&base);
        filter_release(&flt);
        return EXIT_USAGE;
    }
    if (have_base) {
        side_init(&c.base, &base);
        side_init(&c.now, &now);
        compare(&c);
        if (c.o.format == FMT_JSON)
            print_json(&c, stdout);
        else if (c.o.format == FMT_JUNIT)
            print_junit(&c, stdout);
        else
            print_text(&c, stdout);
        rc = c.nreg ? 1 : 0;
    }
    if (c.o.update) {
        if (bl_save(&now, "check", c.o.baseline) == 0) {
            sprof_info("baseline '%s' rewritten from %s", c.o.baseline,
                       n == 1 ? "1 run" : "these runs");
            rc = 0;
        } else {
            rc = EXIT_USAGE;
        }
    }
    free(c.rows);
    free(c.tmp_x);
    free(c.tmp_y);
    free(c.base.run_ns);
    free(c.now.run_ns);
    bl_release(&base);
    bl_release(&now);
    filter_release(&flt);
    return rc;
}

const struct command cmd_check = {
    "check", run, "compare runs with a baseline: exit 1 on a regression", usage_text};
