/* SPDX-License-Identifier: MIT */
/*
 * sprof-report annotate FUNCTION: where inside a function the samples fell.
 *
 * FUNCTION is a name (every function of that name) or, when no function has
 * exactly that name, a regular expression (POSIX extended, matched anywhere
 * in the name). For each function matched, most samples first:
 *
 *   == work_a  [prog]  split.c:12 ==
 *   # 500 self samples (50.0% of all), 500 total (50.0%)
 *   # source: /home/me/src/split.c
 *   Self   Self%  Total  Total%  Line  Source
 *                                  12  static void work_a(void)
 *    480   96.0%    480   96.0%    14      for (i = 0; i < n; i++)
 *     20    4.0%     20    4.0%    15          x += i;
 *
 * Self samples are attributed to the line of the function's frame in the
 * leaf's physical frame: the leaf's own line when the function is the leaf,
 * or the line of the inlined call when the leaf is code inlined into it
 * (marked "<- inlined: NAME"); an inlined function itself is annotated at
 * its own lines. Total samples go to the line of the innermost frame of the
 * function in the stack (a call line for time spent in callees). Self% is
 * of the function's self samples, Total% of its total samples.
 *
 * When the source file cannot be found (or with --addresses), a table per
 * address: the instruction addresses of the leaf samples, as ELF addresses
 * of the module and as offsets from the start of the symbol that holds them.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "aggregate.h"
#include "cli.h"
#include "filter.h"
#include "log.h"
#include "output.h"
#include "symbolize.h"

struct lstat {
    const char *file;
    uint32_t line;
    uint64_t self, total;
    const char *inl; /* the inlined callee whose code ran at this line */
    int several;     /* more than one inlined callee */
};

struct astat {
    uint32_t module;
    uint64_t rel;
    int file_offset, has_sym;
    uint64_t sym_start;
    uint64_t samples;
    const char *file;
    uint32_t line;
};

struct target {
    uint32_t func;
    uint64_t self, total;
};

struct annotate {
    struct sp_profile *p;
    char **source_dirs;
    size_t nsource_dirs;
    int addresses, color;
    uint64_t *cnt; /* samples per symbolic stack */
};

/* ---- per line ---- */

static int lstat_cmp(const void *a, const void *b)
{
    const struct lstat *x = a, *y = b;
    int r = strcmp(x->file, y->file);
    if (r) return r;
    return x->line < y->line ? -1 : x->line > y->line;
}

/* The index in stack st of the frame that self samples of func go to, or
 * -1: the leaf's frame when it is func, else up through inlined frames. */
static int self_frame(const struct sp_profile *p, const struct sp_stack *st, uint32_t func)
{
    const uint32_t *fr = p->stack_frames + st->off;
    for (int i = (int)st->n - 1; i >= 0; i--) {
        const struct sp_frame *f = &p->sframes[fr[i]];
        if (f->func == func) return i;
        if (!f->inlined) break; /* the leaf's physical function ends here */
    }
    return -1;
}

static struct lstat *line_of(struct lstat **ls, size_t *n, size_t *cap, struct u64map *ix,
                             const struct sp_frame *f)
{
    int added;
    uint64_t *v = u64map_put(ix, (uintptr_t)f->file, f->line, *n, &added);
    if (added) {
        GROW(*ls, *cap, *n + 1);
        memset(&(*ls)[*n], 0, sizeof(**ls));
        (*ls)[*n].file = f->file;
        (*ls)[*n].line = f->line;
        (*n)++;
    }
    return &(*ls)[*v];
}

/* ---- source files ---- */

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Finds the source file path names: under each --source-dir (the whole
 * path, then shorter and shorter tails of it), then the path itself.
 * Writes the path found to out and returns 0, or -1. */
static int find_source(const struct annotate *an, const char *path, char *out, size_t n)
{
    if (!path[0]) return -1;
    for (size_t d = 0; d < an->nsource_dirs; d++) {
        const char *dir = an->source_dirs[d];
        for (const char *tail = path; tail;) {
            while (*tail == '/')
                tail++;
            if (!*tail) break;
            if ((size_t)snprintf(out, n, "%s/%s", dir, tail) < n && is_file(out)) return 0;
            const char *slash = strchr(tail, '/');
            tail = slash ? slash + 1 : NULL;
        }
    }
    if ((size_t)snprintf(out, n, "%s", path) < n && is_file(out)) return 0;
    return -1;
}

/* The lines of a text file (at most 64 MiB), '\r' and '\n' stripped.
 * Returns the number of lines, *buf and *lines to free, or -1. */
static long read_lines(const char *path, char **buf, char ***lines)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    size_t cap = 0, len = 0;
    char *b = NULL;
    for (;;) {
        GROW(b, cap, len + 65536);
        size_t r = fread(b + len, 1, cap - len - 1, f);
        len += r;
        if (r == 0 || len > (64u << 20)) break;
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        free(b);
        return -1;
    }
    b[len] = 0;
    size_t nl = 0, lcap = 0;
    char **ls = NULL;
    char *s = b;
    while (s < b + len) {
        char *e = memchr(s, '\n', (size_t)(b + len - s));
        if (!e) e = b + len;
        *e = 0;
        if (e > s && e[-1] == '\r') e[-1] = 0;
        GROW(ls, lcap, nl + 1);
        ls[nl++] = s;
        s = e + 1;
    }
    *buf = b;
    *lines = ls;
    return (long)nl;
}

/* Replaces tabs with spaces (to the next multiple of 8) in a new string. */
static char *expand_tabs(const char *s)
{
    size_t n = 0, w = 0;
    for (const char *c = s; *c; c++)
        n += *c == '\t' ? 8 : 1;
    char *d = xmalloc(n + 1);
    for (const char *c = s; *c; c++) {
        if (*c == '\t') {
            do
                d[w++] = ' ';
            while (w % 8);
        } else {
            d[w++] = *c;
        }
    }
    d[w] = 0;
    return d;
}

static void add_line_row(struct annotate *an, struct table *tb, const struct lstat *l,
                         const struct target *tg, uint32_t line, const char *text)
{
    char a[64];
    if (l && (l->self || l->total)) {
        if (an->color && l->self * 10 >= tg->self && l->self) table_style_row(tb, SGR_RED);
        table_addf(tb, "%llu", (unsigned long long)l->self);
        table_add(tb, fmt_percent(a, sizeof(a), l->self, tg->self));
        table_addf(tb, "%llu", (unsigned long long)l->total);
        table_add(tb, fmt_percent(a, sizeof(a), l->total, tg->total));
    } else {
        for (int i = 0; i < 4; i++)
            table_add(tb, "");
    }
    table_addf(tb, "%u", line);
    char *t = expand_tabs(text ? text : "");
    if (l && l->inl)
        table_addf(tb, "%s%s<- inlined: %s%s", t, t[0] ? "    " : "", l->inl,
                   l->several ? " and others" : "");
    else
        table_add(tb, t);
    free(t);
}

static void table_head(struct annotate *an, struct table *tb, size_t ncols, const char *const *h)
{
    table_init(tb, ncols);
    for (size_t i = 0; i + 1 < ncols; i++)
        table_set(tb, i, TABLE_RIGHT, 0);
    table_set(tb, ncols - 1, TABLE_LEFT, 0);
    if (an->color) table_style_row(tb, SGR_BOLD);
    for (size_t i = 0; i < ncols; i++)
        table_add(tb, h[i]);
}

/* Prints the lines of one source file; returns 0, or -1 when the file
 * could not be found or read (nothing printed but a note). */
static int print_source(struct annotate *an, const struct target *tg, const struct lstat *ls,
                        size_t n, uint32_t decl_line)
{
    char path[PATH_MAX];
    char *buf = NULL, **lines = NULL;
    long nl = -1;
    if (find_source(an, ls[0].file, path, sizeof(path)) == 0) nl = read_lines(path, &buf, &lines);
    if (nl < 0) {
        printf("# source '%s' not found%s\n", ls[0].file,
               an->nsource_dirs ? " (nor under --source-dir)" : " (try --source-dir DIR)");
        return -1;
    }
    printf("# source: %s\n", path);
    uint32_t lo = ls[0].line, hi = ls[n - 1].line;
    if (decl_line && decl_line <= lo && lo - decl_line <= 200) lo = decl_line;
    lo = lo > 2 && lo != decl_line ? lo - 2 : lo ? lo : 1;
    hi += 2;
    int gaps = hi - lo > 300; /* a long range: only the context of sampled lines */
    static const char *const head[] = {"Self", "Self%", "Total", "Total%", "Line", "Source"};
    struct table tb;
    table_head(an, &tb, 6, head);
    size_t k = 0;
    uint32_t last = 0;
    for (uint32_t line = lo; line <= hi; line++) {
        while (k < n && ls[k].line < line)
            k++;
        if (gaps) {
            int near = 0;
            for (size_t j = k > 0 ? k - 1 : 0; j < n && ls[j].line <= line + 3; j++)
                if (ls[j].line + 3 >= line && ls[j].line <= line + 3) near = 1;
            if (!near) continue;
            if (last && line > last + 1) {
                for (int i = 0; i < 4; i++)
                    table_add(&tb, "");
                table_add(&tb, "...");
                table_add(&tb, "");
            }
            last = line;
        }
        const struct lstat *l = k < n && ls[k].line == line ? &ls[k] : NULL;
        if ((long)line > nl && !l) continue;
        add_line_row(an, &tb, l, tg, line,
                     (long)line <= nl ? lines[line - 1] : "(past the end of the file: edited?)");
    }
    table_print(&tb, stdout, "");
    table_release(&tb);
    free(lines);
    free(buf);
    return 0;
}

/* ---- per address ---- */

static int astat_cmp(const void *a, const void *b)
{
    const struct astat *x = a, *y = b;
    if (x->module != y->module) return x->module < y->module ? -1 : 1;
    return x->rel < y->rel ? -1 : x->rel > y->rel;
}

static void print_addresses(struct annotate *an, const struct target *tg)
{
    struct sp_profile *p = an->p;
    /* which symbolic stacks give func self samples: 1 no, 2 yes */
    uint8_t *self_of = xcalloc(p->nstacks ? p->nstacks : 1, 1);
    struct u64map ix = {0};
    struct astat *as = NULL;
    size_t n = 0, cap = 0;
    uint64_t unknown = 0;
    for (size_t i = 0; i < p->nsamples; i++) {
        const struct sp_sample *s = &p->samples[i];
        if (!self_of[s->sym]) {
            int fi = self_frame(p, &p->stacks[s->sym], tg->func);
            self_of[s->sym] = fi < 0 ? 1 : 2;
        }
        if (self_of[s->sym] != 2) continue;
        if (s->stack == SP_NONE || !p->raw[s->stack].nframes) {
            unknown++;
            continue;
        }
        const struct sp_rawstack *r = &p->raw[s->stack];
        struct sp_addr_info ai;
        if (sp_symbolize_locate(p, r->proc, p->frames[r->off], s->time, &ai)) {
            unknown++;
            continue;
        }
        int added;
        uint64_t *v = u64map_put(&ix, ai.module, ai.rel << 1 | (uint64_t)ai.file_offset, n, &added);
        if (added) {
            GROW(as, cap, n + 1);
            struct astat *a = &as[n++];
            memset(a, 0, sizeof(*a));
            a->module = ai.module;
            a->rel = ai.rel;
            a->file_offset = ai.file_offset;
            a->has_sym = ai.has_sym;
            a->sym_start = ai.sym_start;
            const struct sp_stack *st = &p->stacks[s->sym];
            const struct sp_frame *f =
                &p->sframes[p->stack_frames[st->off + (uint32_t)self_frame(p, st, tg->func)]];
            a->file = f->file;
            a->line = f->line;
        }
        as[*v].samples++;
    }
    if (n) qsort(as, n, sizeof(*as), astat_cmp);
    static const char *const head[] = {"Self", "Self%", "Address", "Offset", "Line"};
    struct table tb;
    table_head(an, &tb, 5, head);
    table_set(&tb, 2, TABLE_LEFT, 0);
    table_set(&tb, 3, TABLE_LEFT, 0);
    char a[64];
    for (size_t i = 0; i < n; i++) {
        const struct astat *x = &as[i];
        if (an->color && x->samples * 10 >= tg->self) table_style_row(&tb, SGR_RED);
        table_addf(&tb, "%llu", (unsigned long long)x->samples);
        table_add(&tb, fmt_percent(a, sizeof(a), x->samples, tg->self));
        const char *mod = p->modules[x->module].name;
        table_addf(&tb, "%s%s0x%llx", mod, x->file_offset ? "@file+" : "+",
                   (unsigned long long)x->rel);
        if (x->has_sym)
            table_addf(&tb, "+0x%llx", (unsigned long long)(x->rel - x->sym_start));
        else
            table_add(&tb, "?");
        if (x->line)
            table_addf(&tb, "%s:%u", path_basename(x->file), x->line);
        else
            table_add(&tb, "");
    }
    printf("# by address (the leaf's instruction; offset from the start of its symbol)\n");
    table_print(&tb, stdout, "");
    if (unknown) printf("# %llu samples without an address\n", (unsigned long long)unknown);
    table_release(&tb);
    free(as);
    u64map_release(&ix);
    free(self_of);
}

/* ---- one function ---- */

static void annotate_one(struct annotate *an, const struct target *tg, uint64_t all)
{
    struct sp_profile *p = an->p;
    const struct sp_func *fn = &p->funcs[tg->func];
    struct lstat *ls = NULL;
    size_t n = 0, cap = 0;
    struct u64map ix = {0};
    for (size_t s = 0; s < p->nstacks; s++) {
        if (!an->cnt[s]) continue;
        const struct sp_stack *st = &p->stacks[s];
        const uint32_t *fr = p->stack_frames + st->off;
        for (int i = (int)st->n - 1; i >= 0; i--) { /* innermost occurrence */
            if (p->sframes[fr[i]].func != tg->func) continue;
            line_of(&ls, &n, &cap, &ix, &p->sframes[fr[i]])->total += an->cnt[s];
            break;
        }
        int si = self_frame(p, st, tg->func);
        if (si < 0) continue;
        struct lstat *l = line_of(&ls, &n, &cap, &ix, &p->sframes[fr[si]]);
        l->self += an->cnt[s];
        if ((uint32_t)si + 1 < st->n) {
            const char *callee = p->funcs[p->sframes[fr[si + 1]].func].name;
            if (!l->inl)
                l->inl = callee;
            else if (l->inl != callee)
                l->several = 1;
        }
    }
    char a[64], b[64];
    const char *mod = fn->module;
    printf("== %s%s%s%s", fn->name, mod[0] ? "  " : "", mod[0] && mod[0] != '[' ? "[" : "", mod);
    printf("%s", mod[0] && mod[0] != '[' ? "]" : "");
    if (fn->file[0]) {
        printf("  %s", path_basename(fn->file));
        if (fn->line) printf(":%u", fn->line);
    }
    printf(" ==\n# %llu self samples (%s of all), %llu total (%s)\n", (unsigned long long)tg->self,
           fmt_percent(a, sizeof(a), tg->self, all), (unsigned long long)tg->total,
           fmt_percent(b, sizeof(b), tg->total, all));
    if (n) qsort(ls, n, sizeof(*ls), lstat_cmp);
    /* lines per file: the function's own file first */
    int shown_source = 0, missing = 0;
    size_t nolines = 0;
    for (size_t pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n;) {
            size_t j = i;
            while (j < n && ls[j].file == ls[i].file)
                j++;
            int own =
                ls[i].file == fn->file ||
                (fn->file[0] && strcmp(path_basename(ls[i].file), path_basename(fn->file)) == 0);
            if (!ls[i].file[0] || (pass == 0) != own) {
                if (pass == 0 && !ls[i].file[0])
                    for (size_t k = i; k < j; k++)
                        nolines += ls[k].self;
                i = j;
                continue;
            }
            if (shown_source || missing) putchar('\n');
            if (print_source(an, tg, ls + i, j - i, own ? fn->line : 0) == 0)
                shown_source = 1;
            else
                missing = 1;
            i = j;
        }
    }
    if (nolines)
        printf("# %llu self samples have no line information\n", (unsigned long long)nolines);
    if (an->addresses || !shown_source) {
        if (shown_source || missing) putchar('\n');
        print_addresses(an, tg);
    }
    free(ls);
    u64map_release(&ix);
}

static int target_cmp(const void *a, const void *b)
{
    const struct target *x = a, *y = b;
    if (x->self != y->self) return x->self > y->self ? -1 : 1;
    if (x->total != y->total) return x->total > y->total ? -1 : 1;
    return x->func < y->func ? -1 : x->func > y->func;
}

static const char usage_text[] =
    "usage: sprof-report annotate [OPTIONS] FUNCTION FILE...\n"
    "\n"
    "The source lines of FUNCTION with the samples on each: self (the\n"
    "function was running there, code inlined into it included) and total\n"
    "(also in callees called from that line). FUNCTION is a name, or a\n"
    "regular expression when no function has exactly that name. Without\n"
    "the source file, the samples per instruction address.\n"
    "\n"
    "options:\n"
    "  --source-dir DIR      look for source files under DIR too (repeatable):\n"
    "                        DIR/PATH, then DIR/ with shorter tails of PATH\n"
    "  --addresses           also print the samples per address\n"
    "  --limit N             annotate at most N matching functions (default 5;\n"
    "                        0 for all)\n"
    "  -h, --help            this text\n" FILTER_USAGE "\n"
    "Columns: Self, Self% (of the function's self samples), Total, Total% (of\n"
    "its total samples), Line, Source.\n";

static int run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"source-dir", required_argument, NULL, 'S'},
        {"addresses", no_argument, NULL, 'A'},
        {"limit", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        FILTER_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    struct filter_opts flt;
    filter_init(&flt);
    struct annotate an;
    memset(&an, 0, sizeof(an));
    size_t dirs_cap = 0;
    unsigned long long limit = 5;
    int rc = EXIT_USAGE;
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (filter_is_option(c)) {
            if (filter_parse(&flt, "annotate", c, optarg)) goto out;
            continue;
        }
        switch (c) {
        case 'S':
            GROW(an.source_dirs, dirs_cap, an.nsource_dirs + 1);
            an.source_dirs[an.nsource_dirs++] = optarg;
            break;
        case 'A':
            an.addresses = 1;
            break;
        case 'n':
            if (cli_parse_uint(optarg, &limit)) {
                cli_usage_error("annotate", "--limit takes a number, not '%s'", optarg);
                goto out;
            }
            break;
        case 'h':
            fputs(usage_text, stdout);
            rc = 0;
            goto out;
        default:
            cli_bad_option("annotate", argv, c);
            goto out;
        }
    }
    if (optind >= argc) {
        cli_usage_error("annotate", "no function given");
        goto out;
    }
    const char *want = argv[optind++];
    struct sp_profile *p = cli_load("annotate", argc - optind, argv + optind);
    if (!p) goto out;
    an.p = p;
    filter_apply(p, &flt);
    sp_symbolize(p);
    an.color = out_use_color(stdout);

    size_t ns = p->nstacks ? p->nstacks : 1;
    an.cnt = xcalloc(ns, sizeof(*an.cnt));
    for (size_t i = 0; i < p->nsamples; i++)
        an.cnt[p->samples[i].sym]++;
    struct sp_agg *fs = sp_aggregate_funcs(p); /* the totals */
    /* self as annotate counts it: code inlined into a function is its own */
    struct target *tg = NULL;
    size_t nt = 0, tcap = 0;
    int by_regex = 0;
    regex_t re;
    for (int pass = 0; pass < 2 && !nt; pass++) {
        if (pass == 1) {
            int e = regcomp(&re, want, REG_EXTENDED | REG_NOSUB);
            if (e) {
                char msg[256];
                regerror(e, &re, msg, sizeof(msg));
                regfree(&re);
                sprof_err("annotate: no function is named '%s' (and it is not a regular "
                          "expression: %s)",
                          want, msg);
                goto done;
            }
            by_regex = 1;
        }
        for (size_t f = 0; f < p->nfuncs; f++) {
            if (!fs[f].total) continue;
            const char *name = p->funcs[f].name;
            if (pass == 0 ? strcmp(name, want) != 0 : regexec(&re, name, 0, NULL, 0) != 0) continue;
            GROW(tg, tcap, nt + 1);
            tg[nt++] = (struct target){(uint32_t)f, 0, fs[f].total};
        }
    }
    if (by_regex) regfree(&re);
    if (!nt) {
        sprof_err("annotate: no function with samples matches '%s' (see 'sprof-report flat')",
                  want);
        goto done;
    }
    for (size_t i = 0; i < nt; i++) {
        for (size_t s = 0; s < p->nstacks; s++)
            if (an.cnt[s] && self_frame(p, &p->stacks[s], tg[i].func) >= 0) tg[i].self += an.cnt[s];
    }
    qsort(tg, nt, sizeof(*tg), target_cmp);
    size_t shown = limit && limit < nt ? (size_t)limit : nt;
    cli_print_totals(p, stdout);
    for (size_t i = 0; i < shown; i++) {
        putchar('\n');
        annotate_one(&an, &tg[i], p->nsamples);
    }
    if (shown < nt)
        printf("\n# %zu more matching function%s (use --limit 0)\n", nt - shown,
               nt - shown == 1 ? "" : "s");
    rc = 0;
done:
    free(tg);
    free(fs);
    free(an.cnt);
    sp_profile_free(p);
out:
    free(an.source_dirs);
    filter_release(&flt);
    return rc;
}

const struct command cmd_annotate = {
    "annotate", run, "samples per source line (or address) of a function", usage_text};
