/* SPDX-License-Identifier: MIT */
#include "filter.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "log.h"
#include "symbolize.h"

void filter_init(struct filter_opts *f)
{
    memset(f, 0, sizeof(*f));
    f->time_to = INFINITY;
}

static void regexes_release(struct filter_regex *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        regfree(&r[i].re);
        free(r[i].src);
    }
    free(r);
}

void filter_release(struct filter_opts *f)
{
    if (!f) return;
    free(f->pids);
    for (size_t i = 0; i < f->ntids; i++)
        free(f->tids[i]);
    free(f->tids);
    free(f->time_src);
    regexes_release(f->focus, f->nfocus);
    regexes_release(f->hide, f->nhide);
    filter_init(f);
}

int filter_is_option(int opt)
{
    return opt >= FILTER_OPT_PID && opt < FILTER_OPT_END_;
}

/* A non-negative decimal number of seconds, whole; -1 if not one. */
static int parse_seconds(const char *s, size_t n, double *out)
{
    char buf[64];
    if (!n || n >= sizeof(buf)) return -1;
    memcpy(buf, s, n);
    buf[n] = 0;
    if (buf[0] == '-' || buf[0] == '+') return -1;
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (errno || *end || !isfinite(v) || v < 0) return -1;
    *out = v;
    return 0;
}

static int add_regex(struct filter_regex **arr, size_t *n, size_t *cap, const char *cmd,
                     const char *opt, const char *src)
{
    regex_t re;
    int rc = regcomp(&re, src, REG_EXTENDED | REG_NOSUB);
    if (rc) {
        char msg[256];
        regerror(rc, &re, msg, sizeof(msg));
        regfree(&re);
        return cli_usage_error(cmd, "%s: bad regular expression '%s': %s", opt, src, msg);
    }
    GROW(*arr, *cap, *n + 1);
    (*arr)[*n].src = xstrdup(src);
    (*arr)[*n].re = re;
    (*n)++;
    return 0;
}

int filter_parse(struct filter_opts *f, const char *cmd, int opt, const char *arg)
{
    unsigned long long v;
    switch (opt) {
    case FILTER_OPT_PID:
        if (cli_parse_uint(arg, &v) || v > UINT32_MAX)
            return cli_usage_error(cmd, "--pid takes a process id, not '%s'", arg);
        GROW(f->pids, f->pids_cap, f->npids + 1);
        f->pids[f->npids++] = (uint32_t)v;
        return 0;
    case FILTER_OPT_TID:
        if (!arg[0]) return cli_usage_error(cmd, "--tid takes a thread id or name");
        GROW(f->tids, f->tids_cap, f->ntids + 1);
        f->tids[f->ntids++] = xstrdup(arg);
        return 0;
    case FILTER_OPT_TIME: {
        const char *dots = strstr(arg, "..");
        double from = 0, to = INFINITY;
        if (!dots || (dots > arg && parse_seconds(arg, (size_t)(dots - arg), &from)) ||
            (dots[2] && parse_seconds(dots + 2, strlen(dots + 2), &to)) || from > to)
            return cli_usage_error(cmd,
                                   "--time takes START..END in seconds from the start "
                                   "(2..5, 2.., ..5), not '%s'",
                                   arg);
        f->has_time = 1;
        f->time_from = from;
        f->time_to = to;
        free(f->time_src);
        f->time_src = xstrdup(arg);
        return 0;
    }
    case FILTER_OPT_FOCUS:
        return add_regex(&f->focus, &f->nfocus, &f->focus_cap, cmd, "--focus", arg);
    case FILTER_OPT_HIDE:
        return add_regex(&f->hide, &f->nhide, &f->hide_cap, cmd, "--hide", arg);
    case FILTER_OPT_NO_INLINE:
        f->no_inline = 1;
        return 0;
    case FILTER_OPT_MAX_DEPTH:
        if (cli_parse_uint(arg, &v) || v == 0 || v > SPROF_MAX_DEPTH * 16ull)
            return cli_usage_error(
                cmd, "--max-depth takes a number of frames (1 or more), not '%s'", arg);
        f->max_depth = (uint32_t)v;
        return 0;
    default:
        return cli_usage_error(cmd, "unknown filter option");
    }
}

int filter_on_stacks(const struct filter_opts *f)
{
    return f->nfocus || f->nhide || f->no_inline || f->max_depth;
}

int filter_active(const struct filter_opts *f)
{
    return f->npids || f->ntids || f->has_time || filter_on_stacks(f);
}

int filter_selects_proc(const struct filter_opts *f, const struct sp_profile *p, uint32_t proc)
{
    if (!f->npids) return 1;
    for (size_t i = 0; i < f->npids; i++)
        if (p->procs[proc].pid == f->pids[i]) return 1;
    return 0;
}

uint64_t filter_time_origin(const struct sp_profile *p)
{
    uint64_t t0 = 0;
    for (size_t i = 0; i < p->nprocs; i++) {
        const struct sp_process *pr = &p->procs[i];
        uint64_t t = pr->has_process && pr->start_mono_ns ? pr->start_mono_ns : pr->first_time;
        if (t && (!t0 || t < t0)) t0 = t;
    }
    return t0;
}

/* Marks in ok the threads that pass --tid; warns about a value that
 * selects none. */
static void select_threads(const struct sp_profile *p, const struct filter_opts *f, uint8_t *ok)
{
    for (size_t k = 0; k < f->ntids; k++) {
        unsigned long long tid;
        int numeric = cli_parse_uint(f->tids[k], &tid) == 0;
        size_t hits = 0;
        for (size_t i = 0; i < p->nthreads; i++) {
            const struct sp_thread *t = &p->threads[i];
            if ((numeric && t->tid == tid) || strcmp(t->name, f->tids[k]) == 0) {
                ok[i] = 1;
                hits++;
            }
        }
        if (!hits) sprof_warn("--tid '%s': no thread with that id or name", f->tids[k]);
    }
}

static double seconds_to_ns(double s)
{
    double ns = s * 1e9;
    return ns > 1.8e19 ? 1.8e19 : ns;
}

/* Keeps the samples that pass --pid, --tid and --time; returns how many. */
static size_t select_samples(struct sp_profile *p, const struct filter_opts *f)
{
    uint8_t *proc_ok = xcalloc(p->nprocs ? p->nprocs : 1, 1);
    uint8_t *thr_ok = xcalloc(p->nthreads ? p->nthreads : 1, 1);
    for (size_t i = 0; i < p->nprocs; i++)
        proc_ok[i] = (uint8_t)filter_selects_proc(f, p, (uint32_t)i);
    for (size_t k = 0; k < f->npids; k++) {
        size_t i = 0;
        while (i < p->nprocs && p->procs[i].pid != f->pids[k])
            i++;
        if (i == p->nprocs) sprof_warn("--pid %u: no process with that id", f->pids[k]);
    }
    if (f->ntids)
        select_threads(p, f, thr_ok);
    else
        memset(thr_ok, 1, p->nthreads ? p->nthreads : 1);
    uint64_t lo = 0, hi = UINT64_MAX;
    if (f->has_time) {
        uint64_t t0 = filter_time_origin(p);
        lo = t0 + (uint64_t)seconds_to_ns(f->time_from);
        if (isfinite(f->time_to)) hi = t0 + (uint64_t)seconds_to_ns(f->time_to);
    }
    size_t n = 0;
    for (size_t i = 0; i < p->nsamples; i++) {
        const struct sp_sample *s = &p->samples[i];
        if (!proc_ok[s->proc] || !thr_ok[s->thread]) continue;
        if (f->has_time && (s->time < lo || s->time >= hi)) continue;
        p->samples[n++] = *s;
    }
    p->nsamples = n;
    free(proc_ok);
    free(thr_ok);
    return n;
}

/* ---- stack filters ---- */

#define DROP (SP_NONE - 1) /* a stack whose samples go */

struct rewrite {
    struct sp_profile *p;
    const struct filter_opts *f;
    uint8_t *focus_m, *hide_m; /* per function: 0 not tried, 1 no match, 2 match */
    uint32_t *tmp;
    size_t tmp_cap;
    struct idset ix; /* the rewritten stacks, for sharing */
};

static int matches(struct rewrite *w, uint8_t *memo, const struct filter_regex *re, size_t n,
                   uint32_t func)
{
    if (!memo[func]) {
        memo[func] = 1;
        for (size_t i = 0; i < n; i++)
            if (regexec(&re[i].re, w->p->funcs[func].name, 0, NULL, 0) == 0) {
                memo[func] = 2;
                break;
            }
    }
    return memo[func] == 2;
}

static uint32_t add_stack(struct rewrite *w, const uint32_t *fr, uint32_t n, uint32_t flags)
{
    struct sp_profile *p = w->p;
    uint64_t h = hash_bytes(fr, n * sizeof(*fr), flags);
    size_t pos;
    for (uint32_t id = idset_first(&w->ix, h, &pos); id != IDSET_NONE;
         id = idset_next(&w->ix, h, &pos)) {
        const struct sp_stack *st = &p->stacks[id];
        if (st->n == n && st->flags == flags &&
            memcmp(p->stack_frames + st->off, fr, n * sizeof(*fr)) == 0)
            return id;
    }
    if (p->nstack_frames + n > UINT32_MAX || p->nstacks + 1 >= DROP) {
        sprof_err("too many distinct stacks");
        exit(2);
    }
    GROW_BIG(p->stack_frames, p->stack_frames_cap, p->nstack_frames + n);
    memcpy(p->stack_frames + p->nstack_frames, fr, n * sizeof(*fr));
    GROW_BIG(p->stacks, p->stacks_cap, p->nstacks + 1);
    p->stacks[p->nstacks] = (struct sp_stack){(uint32_t)p->nstack_frames, n, flags};
    p->nstack_frames += n;
    idset_insert(&w->ix, h, (uint32_t)p->nstacks);
    return (uint32_t)p->nstacks++;
}

/* The rewritten stack of stack s, or DROP. */
static uint32_t rewrite(struct rewrite *w, uint32_t s)
{
    struct sp_profile *p = w->p;
    const struct filter_opts *f = w->f;
    const struct sp_stack st = p->stacks[s]; /* a copy: add_stack moves p->stacks */
    GROW(w->tmp, w->tmp_cap, st.n ? st.n : 1);
    uint32_t n = 0;
    int focused = !f->nfocus;
    for (uint32_t i = 0; i < st.n; i++) {
        uint32_t fr = p->stack_frames[st.off + i];
        const struct sp_frame *frame = &p->sframes[fr];
        if (f->no_inline && frame->inlined) continue;
        if (!focused && matches(w, w->focus_m, f->focus, f->nfocus, frame->func)) focused = 1;
        if (f->nhide && matches(w, w->hide_m, f->hide, f->nhide, frame->func)) continue;
        w->tmp[n++] = fr;
    }
    if (!focused || !n) return DROP;
    if (f->max_depth && n > f->max_depth) n = f->max_depth;
    return add_stack(w, w->tmp, n, st.flags);
}

static void rewrite_stacks(struct sp_profile *p, const struct filter_opts *f)
{
    sp_symbolize(p);
    struct rewrite w;
    memset(&w, 0, sizeof(w));
    w.p = p;
    w.f = f;
    w.focus_m = xcalloc(p->nfuncs ? p->nfuncs : 1, 1);
    w.hide_m = xcalloc(p->nfuncs ? p->nfuncs : 1, 1);
    size_t nold = p->nstacks;
    uint32_t *map = xmalloc((nold ? nold : 1) * sizeof(*map));
    memset(map, 0xff, (nold ? nold : 1) * sizeof(*map)); /* SP_NONE: not seen yet */
    size_t n = 0;
    for (size_t i = 0; i < p->nsamples; i++) {
        struct sp_sample *s = &p->samples[i];
        uint32_t to = map[s->sym];
        if (to == SP_NONE) to = map[s->sym] = rewrite(&w, s->sym);
        if (to == DROP) continue;
        s->sym = to;
        p->samples[n++] = *s;
    }
    p->nsamples = n;
    free(map);
    free(w.focus_m);
    free(w.hide_m);
    free(w.tmp);
    idset_release(&w.ix);
}

size_t filter_apply(struct sp_profile *p, const struct filter_opts *f)
{
    if (f->npids || f->ntids || f->has_time) select_samples(p, f);
    if (filter_on_stacks(f)) rewrite_stacks(p, f);
    return p->nsamples;
}

/* Writes s as one shell word. */
static void put_word(FILE *out, const char *s)
{
    int plain = *s != 0;
    for (const char *c = s; *c; c++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:/,=+@", *c))
            plain = 0;
    if (plain) {
        fputs(s, out);
        return;
    }
    fputc('\'', out);
    for (const char *c = s; *c; c++) {
        if (*c == '\'')
            fputs("'\\''", out);
        else
            fputc(*c, out);
    }
    fputc('\'', out);
}

void filter_describe(const struct filter_opts *f, FILE *out)
{
    const char *sep = "";
    for (size_t i = 0; i < f->npids; i++, sep = " ")
        fprintf(out, "%s--pid %u", sep, f->pids[i]);
    for (size_t i = 0; i < f->ntids; i++, sep = " ") {
        fprintf(out, "%s--tid ", sep);
        put_word(out, f->tids[i]);
    }
    if (f->has_time) {
        fprintf(out, "%s--time ", sep);
        put_word(out, f->time_src);
        sep = " ";
    }
    for (size_t i = 0; i < f->nfocus; i++, sep = " ") {
        fprintf(out, "%s--focus ", sep);
        put_word(out, f->focus[i].src);
    }
    for (size_t i = 0; i < f->nhide; i++, sep = " ") {
        fprintf(out, "%s--hide ", sep);
        put_word(out, f->hide[i].src);
    }
    if (f->no_inline) {
        fprintf(out, "%s--no-inline", sep);
        sep = " ";
    }
    if (f->max_depth) fprintf(out, "%s--max-depth %u", sep, f->max_depth);
}

void filter_print_note(const struct filter_opts *f, size_t before, size_t after, FILE *out)
{
    if (!filter_active(f)) return;
    fputs("# filters: ", out);
    filter_describe(f, out);
    fprintf(out, " (kept %zu of %zu samples)\n", after, before);
}
