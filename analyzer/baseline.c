/* SPDX-License-Identifier: MIT */
#include "baseline.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aggregate.h"
#include "cli.h"
#include "format.h"
#include "json.h"
#include "log.h"
#include "symbolize.h"

#ifndef SPROF_VERSION_STRING
#define SPROF_VERSION_STRING "unknown"
#endif

#define BL_MAX_FILE (16u << 20)

/* ---- names ---- */

/* s made valid UTF-8 without control characters, interned in t. */
static const char *clean(struct strtab *t, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t left = strlen(s), bad = 0;
    for (size_t i = 0; i < left;) {
        size_t n = utf8_seq_len(p + i, left - i);
        if (!n || p[i] < 0x20 || p[i] == 0x7f) {
            bad++;
            n = 1;
        }
        i += n;
    }
    if (!bad) return strtab_intern(t, s);
    char *d = xmalloc(left + 3 * bad + 1), *o = d;
    for (size_t i = 0; i < left;) {
        size_t n = utf8_seq_len(p + i, left - i);
        if (!n) {
            o += sprintf(o, "\\x%02x", p[i]);
            i++;
        } else if (p[i] < 0x20 || p[i] == 0x7f) {
            *o++ = '?';
            i++;
        } else {
            memcpy(o, p + i, n);
            o += n;
            i += n;
        }
    }
    *o = 0;
    const char *r = strtab_intern(t, d);
    free(d);
    return r;
}

/* ---- the model ---- */

void bl_init(struct baseline *b, size_t nruns)
{
    memset(b, 0, sizeof(*b));
    b->nruns = nruns ? nruns : 1;
    b->runs = arena_alloc(&b->arena, b->nruns * sizeof(*b->runs));
    memset(b->runs, 0, b->nruns * sizeof(*b->runs));
    b->command = "";
    b->filters = "";
    b->sprof = SPROF_VERSION_STRING;
}

void bl_release(struct baseline *b)
{
    if (!b) return;
    free(b->funcs);
    u64map_release(&b->ix);
    strtab_release(&b->strs);
    arena_release(&b->arena);
    memset(b, 0, sizeof(*b));
}

size_t bl_find(struct baseline *b, const char *name, const char *module)
{
    /* interned strings compare by address */
    const char *n = strtab_intern(&b->strs, name), *m = strtab_intern(&b->strs, module);
    uint64_t *v = u64map_get(&b->ix, (uintptr_t)n, (uintptr_t)m);
    return v ? (size_t)*v : SIZE_MAX;
}

/* The function (name, module), interned already; added with zeros when new. */
static size_t func_get(struct baseline *b, const char *name, const char *module, int *added)
{
    int a;
    uint64_t *v = u64map_put(&b->ix, (uintptr_t)name, (uintptr_t)module, b->nfuncs, &a);
    if (added) *added = a;
    if (!a) return (size_t)*v;
    GROW(b->funcs, b->cap, b->nfuncs + 1);
    struct bl_func *f = &b->funcs[b->nfuncs];
    f->name = name;
    f->module = module;
    uint64_t *vals = arena_alloc(&b->arena, 4 * b->nruns * sizeof(uint64_t));
    memset(vals, 0, 4 * b->nruns * sizeof(uint64_t));
    f->self = vals;
    f->total = vals + b->nruns;
    f->self_ns = vals + 2 * b->nruns;
    f->total_ns = vals + 3 * b->nruns;
    return b->nfuncs++;
}

/* ---- reading runs ---- */

struct runagg {
    struct baseline *b;
    const struct sp_profile *p;
    uint32_t *frame_row;  /* per symbolic frame: its row, UINT32_MAX unknown */
    struct u64map row_ix; /* function index -> row */
    size_t *row_func;     /* row -> function index */
    size_t nrows, cap;
};

static uint32_t run_row(void *ctx, uint32_t fr)
{
    struct runagg *r = ctx;
    if (r->frame_row[fr] != UINT32_MAX) return r->frame_row[fr];
    const struct sp_func *fn = &r->p->funcs[r->p->sframes[fr].func];
    const char *name = clean(&r->b->strs, fn->name);
    const char *module = clean(&r->b->strs, fn->module ? fn->module : "");
    size_t fi = func_get(r->b, name, module, NULL);
    int added;
    uint64_t *v = u64map_put(&r->row_ix, fi, 0, r->nrows, &added);
    if (added) {
        GROW(r->row_func, r->cap, r->nrows + 1);
        r->row_func[r->nrows++] = fi;
    }
    r->frame_row[fr] = (uint32_t)*v;
    return (uint32_t)*v;
}

/* Adds the samples of p (symbolized) as run number run. */
static void add_profile(struct baseline *b, size_t run, const struct sp_profile *p)
{
    struct runagg r = {.b = b, .p = p};
    r.frame_row = xmalloc((p->nsframes ? p->nsframes : 1) * sizeof(*r.frame_row));
    memset(r.frame_row, 0xff, (p->nsframes ? p->nsframes : 1) * sizeof(*r.frame_row));
    size_t n;
    struct sp_agg *cells = sp_aggregate(p, run_row, &r, &n);
    for (size_t i = 0; i < n; i++) {
        struct bl_func *f = &b->funcs[r.row_func[i]];
        f->self[run] += cells[i].self;
        f->total[run] += cells[i].total;
        f->self_ns[run] += cells[i].self_ns;
        f->total_ns[run] += cells[i].total_ns;
    }
    free(cells);
    free(r.frame_row);
    free(r.row_func);
    u64map_release(&r.row_ix);
}

/* The command line of the first process of p, words joined by blanks, with
 * quotes around words that need them. */
static const char *command_of(struct baseline *b, const struct sp_profile *p)
{
    if (!p->nprocs || !p->procs[0].has_process || !p->procs[0].argc) return "";
    const struct sp_process *pr = &p->procs[0];
    size_t len = 1;
    for (uint32_t i = 0; i < pr->argc; i++)
        len += 4 * strlen(pr->argv[i]) + 3;
    char *s = xmalloc(len), *o = s;
    for (uint32_t i = 0; i < pr->argc; i++) {
        const char *a = pr->argv[i];
        if (i) *o++ = ' ';
        int plain = *a != 0;
        for (const char *c = a; *c; c++)
            if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+%@",
                        *c))
                plain = 0;
        if (plain) {
            o = stpcpy(o, a);
            continue;
        }
        *o++ = '\'';
        for (const char *c = a; *c; c++) {
            if (*c == '\'')
                o = stpcpy(o, "'\\''");
            else
                *o++ = *c;
        }
        *o++ = '\'';
    }
    *o = 0;
    const char *r = clean(&b->strs, s);
    free(s);
    return r;
}

static int is_profile(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    char buf[SPROF_MAGIC_LEN];
    ssize_t n = read(fd, buf, sizeof(buf));
    close(fd);
    return n == SPROF_MAGIC_LEN && memcmp(buf, SPROF_MAGIC, SPROF_MAGIC_LEN) == 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The profile files of the run in directory dir, sorted by name (so that
 * profile.bin comes before profile.bin.PID); NULL with *n 0 when none. */
static char **dir_files(const char *dir, size_t *n, int *err)
{
    *n = 0;
    *err = 0;
    DIR *d = opendir(dir);
    if (!d) {
        *err = errno;
        return NULL;
    }
    char **files = NULL;
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char *path = xasprintf("%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || !is_profile(path)) {
            free(path);
            continue;
        }
        GROW(files, cap, *n + 1);
        files[(*n)++] = path;
    }
    closedir(d);
    if (*n) qsort(files, *n, sizeof(*files), cmp_str);
    return files;
}

int bl_load_runs(struct baseline *b, const char *cmd, int n, char **args,
                 const struct filter_opts *flt)
{
    if (n <= 0) {
        cli_usage_error(cmd, "no run given");
        return -1;
    }
    if ((size_t)n > BL_MAX_RUNS) {
        cli_usage_error(cmd, "more than %d runs", BL_MAX_RUNS);
        return -1;
    }
    if (flt && filter_active(flt)) {
        char *desc = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&desc, &len);
        if (!m) {
            sprof_err("%s: out of memory", cmd);
            return -1;
        }
        filter_describe(flt, m);
        fclose(m);
        b->filters = clean(&b->strs, desc);
        free(desc);
    }
    for (int i = 0; i < n; i++) {
        struct stat st;
        char **files = &args[i];
        size_t nfiles = 1;
        char **owned = NULL;
        if (stat(args[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            int err;
            owned = dir_files(args[i], &nfiles, &err);
            if (err) {
                sprof_err("cannot read the directory '%s': %s", args[i], strerror(err));
                return -1;
            }
            if (!nfiles) {
                sprof_err("'%s': no sprof profile in this directory", args[i]);
                free(owned);
                return -1;
            }
            files = owned;
        }
        struct sp_profile *p = cli_load(cmd, (int)nfiles, files);
        for (size_t j = 0; owned && j < nfiles; j++)
            free(owned[j]);
        free(owned);
        if (!p) return -1;
        b->read_samples += p->nsamples;
        if (flt) filter_apply(p, flt);
        sp_symbolize(p);
        struct sp_totals t;
        sp_profile_totals(p, &t);
        b->kept_samples += t.samples;
        if (!t.samples) {
            if (flt && filter_active(flt))
                sprof_err("'%s': no samples left after the filters", args[i]);
            else
                sprof_err("'%s': no samples (the run took less CPU time than one sampling "
                          "period?)",
                          args[i]);
            sp_profile_free(p);
            return -1;
        }
        b->runs[i].samples = t.samples;
        b->runs[i].cpu_ns = t.weight_ns;
        if (i == 0) b->command = command_of(b, p);
        add_profile(b, (size_t)i, p);
        sp_profile_free(p);
    }
    return 0;
}

/* ---- writing ---- */

static const struct baseline *sort_b;

static int func_cmp(const void *x, const void *y)
{
    const struct bl_func *f = &sort_b->funcs[*(const size_t *)x];
    const struct bl_func *g = &sort_b->funcs[*(const size_t *)y];
    int c = strcmp(f->name, g->name);
    return c ? c : strcmp(f->module, g->module);
}

static void put_array(FILE *out, const uint64_t *v, size_t n)
{
    putc('[', out);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s%llu", i ? ", " : "", (unsigned long long)v[i]);
    putc(']', out);
}

int bl_write(const struct baseline *b, FILE *out)
{
    uint64_t samples = 0, cpu_ns = 0;
    for (size_t r = 0; r < b->nruns; r++) {
        samples += b->runs[r].samples;
        cpu_ns += b->runs[r].cpu_ns;
    }
    /* the functions worth keeping, sorted */
    size_t *order = xmalloc((b->nfuncs ? b->nfuncs : 1) * sizeof(*order)), n = 0;
    for (size_t i = 0; i < b->nfuncs; i++) {
        uint64_t self = 0, total = 0;
        for (size_t r = 0; r < b->nruns; r++) {
            self += b->funcs[i].self[r];
            total += b->funcs[i].total[r];
        }
        if (!total) continue;
        if ((double)self >= BL_KEEP_SHARE * (double)samples ||
            (double)total >= BL_KEEP_SHARE * (double)samples)
            order[n++] = i;
    }
    sort_b = b;
    if (n) qsort(order, n, sizeof(*order), func_cmp);

    fputs("{\n  \"command\": ", out);
    json_put_string(out, b->command, 0);
    fputs(",\n  \"filters\": ", out);
    json_put_string(out, b->filters, 0);
    fputs(",\n  \"format\": \"" BL_FORMAT "\",\n  \"functions\": [\n", out);
    for (size_t k = 0; k < n; k++) {
        const struct bl_func *f = &b->funcs[order[k]];
        fputs("    {\"module\": ", out);
        json_put_string(out, f->module, 0);
        fputs(", \"name\": ", out);
        json_put_string(out, f->name, 0);
        fputs(", \"self_ns\": ", out);
        put_array(out, f->self_ns, b->nruns);
        fputs(", \"self_samples\": ", out);
        put_array(out, f->self, b->nruns);
        fputs(", \"total_ns\": ", out);
        put_array(out, f->total_ns, b->nruns);
        fputs(", \"total_samples\": ", out);
        put_array(out, f->total, b->nruns);
        fputs(k + 1 < n ? "},\n" : "}\n", out);
    }
    fputs("  ],\n  \"runs\": [\n", out);
    for (size_t r = 0; r < b->nruns; r++)
        fprintf(out, "    {\"cpu_ns\": %llu, \"samples\": %llu}%s\n",
                (unsigned long long)b->runs[r].cpu_ns, (unsigned long long)b->runs[r].samples,
                r + 1 < b->nruns ? "," : "");
    fputs("  ],\n  \"sprof\": ", out);
    json_put_string(out, b->sprof, 0);
    fprintf(out, ",\n  \"total\": {\"cpu_ns\": %llu, \"samples\": %llu},\n  \"version\": %d\n}\n",
            (unsigned long long)cpu_ns, (unsigned long long)samples, BL_VERSION);
    free(order);
    return ferror(out) ? -1 : 0;
}

int bl_save(const struct baseline *b, const char *cmd, const char *path)
{
    if (strcmp(path, "-") == 0) {
        if (bl_write(b, stdout) || fflush(stdout)) {
            sprof_err("%s: cannot write the baseline: %s", cmd, strerror(errno));
            return -1;
        }
        return 0;
    }
    char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) {
        sprof_err("cannot write '%s': %s", path, strerror(errno));
        free(tmp);
        return -1;
    }
    int bad = bl_write(b, f);
    int e = errno;
    if (fclose(f) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    if (!bad && rename(tmp, path) != 0) {
        bad = 1;
        e = errno;
    }
    if (bad) {
        sprof_err("cannot write '%s': %s", path, strerror(e));
        unlink(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}

/* ---- reading a baseline file ---- */

struct rd {
    const char *path;
    char *err;
    size_t errlen;
};

__attribute__((format(printf, 3, 4))) static int bad(struct rd *r, const struct json *at,
                                                     const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (at)
        snprintf(r->err, r->errlen, "'%s': line %u: %s", r->path, at->line, msg);
    else
        snprintf(r->err, r->errlen, "'%s': %s", r->path, msg);
    return -1;
}

/* member key of obj, of type want (JSON_TRUE stands for either boolean) */
static const struct json *need(struct rd *r, const struct json *obj, const char *key,
                               enum json_type want, const char *where)
{
    const struct json *v = json_member(obj, key);
    if (!v) {
        bad(r, obj, "%s has no \"%s\"", where, key);
        return NULL;
    }
    if (v->type != want) {
        bad(r, v, "\"%s\" of %s is %s, not %s", key, where, json_type_name(v->type),
            json_type_name(want));
        return NULL;
    }
    return v;
}

static int need_uint(struct rd *r, const struct json *obj, const char *key, const char *where,
                     uint64_t *out)
{
    const struct json *v = need(r, obj, key, JSON_NUMBER, where);
    if (!v) return -1;
    if (json_uint(v, out)) return bad(r, v, "\"%s\" of %s is not a whole number", key, where);
    return 0;
}

static int need_counts(struct rd *r, const struct json *obj, const char *key, const char *where,
                       uint64_t *out, size_t nruns)
{
    const struct json *v = need(r, obj, key, JSON_ARRAY, where);
    if (!v) return -1;
    if (v->n != nruns)
        return bad(r, v, "\"%s\" of %s has %zu values, but there are %zu runs", key, where, v->n,
                   nruns);
    for (size_t i = 0; i < nruns; i++)
        if (json_uint(v->items[i], &out[i]))
            return bad(r, v->items[i], "\"%s\" of %s holds something that is not a whole number",
                       key, where);
    return 0;
}

static int read_file(const char *path, char **text, size_t *len, char *why, size_t whylen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, whylen, "%s", strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        snprintf(why, whylen, "%s", strerror(errno));
        close(fd);
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        snprintf(why, whylen, "is a directory, not a baseline file");
        close(fd);
        return -1;
    }
    size_t cap = 65536, n = 0;
    char *buf = xmalloc(cap + 1);
    for (;;) {
        if (n == cap) {
            if (cap >= BL_MAX_FILE) {
                snprintf(why, whylen, "larger than %u MiB: not a baseline", BL_MAX_FILE >> 20);
                free(buf);
                close(fd);
                return -1;
            }
            cap *= 2;
            buf = xrealloc(buf, cap + 1);
        }
        ssize_t k = read(fd, buf + n, cap - n);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) {
            snprintf(why, whylen, "%s", strerror(errno));
            free(buf);
            close(fd);
            return -1;
        }
        if (k == 0) break;
        n += (size_t)k;
    }
    close(fd);
    buf[n] = 0;
    *text = buf;
    *len = n;
    return 0;
}

static int read_doc(struct baseline *b, struct rd *r, const struct json *root)
{
    if (root->type != JSON_OBJECT)
        return bad(r, NULL, "not an sprof baseline (the text is %s, not an object)",
                   json_type_name(root->type));
    const struct json *fmt = json_member(root, "format");
    if (!fmt || fmt->type != JSON_STRING || strcmp(fmt->str, BL_FORMAT) != 0)
        return bad(r, NULL, "not an sprof baseline (no \"format\": \"" BL_FORMAT "\")");
    uint64_t version;
    if (need_uint(r, root, "version", "the baseline", &version)) return -1;
    if (version > BL_VERSION)
        return bad(r, NULL,
                   "baseline format version %llu is newer than this sprof-report reads (%d)",
                   (unsigned long long)version, BL_VERSION);
    if (version < 1) return bad(r, NULL, "baseline format version 0 does not exist");
    const struct json *cmd = json_member(root, "command");
    if (cmd && cmd->type != JSON_STRING)
        return bad(r, cmd, "\"command\" is %s, not a string", json_type_name(cmd->type));
    const struct json *filters = json_member(root, "filters");
    if (filters && filters->type != JSON_STRING)
        return bad(r, filters, "\"filters\" is %s, not a string", json_type_name(filters->type));
    const struct json *ver = json_member(root, "sprof");
    if (ver && ver->type != JSON_STRING)
        return bad(r, ver, "\"sprof\" is %s, not a string", json_type_name(ver->type));
    const struct json *runs = need(r, root, "runs", JSON_ARRAY, "the baseline");
    if (!runs) return -1;
    if (!runs->n) return bad(r, runs, "\"runs\" is empty");
    if (runs->n > BL_MAX_RUNS) return bad(r, runs, "more than %d runs", BL_MAX_RUNS);
    const struct json *funcs = need(r, root, "functions", JSON_ARRAY, "the baseline");
    if (!funcs) return -1;

    bl_init(b, runs->n);
    b->command = cmd ? clean(&b->strs, cmd->str) : "";
    b->filters = filters ? clean(&b->strs, filters->str) : "";
    b->sprof = ver ? clean(&b->strs, ver->str) : "";
    for (size_t i = 0; i < runs->n; i++) {
        const struct json *run = runs->items[i];
        char where[48];
        snprintf(where, sizeof(where), "run %zu", i + 1);
        if (run->type != JSON_OBJECT)
            return bad(r, run, "%s is %s, not an object", where, json_type_name(run->type));
        if (need_uint(r, run, "samples", where, &b->runs[i].samples) ||
            need_uint(r, run, "cpu_ns", where, &b->runs[i].cpu_ns))
            return -1;
        if (!b->runs[i].samples) return bad(r, run, "%s has no samples", where);
    }
    for (size_t i = 0; i < funcs->n; i++) {
        const struct json *fj = funcs->items[i];
        char where[64];
        snprintf(where, sizeof(where), "function %zu", i + 1);
        if (fj->type != JSON_OBJECT)
            return bad(r, fj, "%s is %s, not an object", where, json_type_name(fj->type));
        const struct json *name = need(r, fj, "name", JSON_STRING, where);
        const struct json *module = name ? need(r, fj, "module", JSON_STRING, where) : NULL;
        if (!module) return -1;
        if (!name->len) return bad(r, name, "%s has an empty name", where);
        int added;
        size_t k = func_get(b, clean(&b->strs, name->str), clean(&b->strs, module->str), &added);
        if (!added)
            return bad(r, fj, "function \"%.80s\" of module \"%.80s\" is listed twice", name->str,
                       module->str);
        struct bl_func *f = &b->funcs[k];
        if (need_counts(r, fj, "self_samples", where, f->self, b->nruns) ||
            need_counts(r, fj, "total_samples", where, f->total, b->nruns) ||
            need_counts(r, fj, "self_ns", where, f->self_ns, b->nruns) ||
            need_counts(r, fj, "total_ns", where, f->total_ns, b->nruns))
            return -1;
        for (size_t run = 0; run < b->nruns; run++) {
            if (f->self[run] > f->total[run] || f->self_ns[run] > f->total_ns[run])
                return bad(r, fj, "function \"%.80s\": self exceeds total in run %zu", f->name,
                           run + 1);
            if (f->total[run] > b->runs[run].samples)
                return bad(r, fj, "function \"%.80s\": more samples than its run in run %zu",
                           f->name, run + 1);
        }
    }
    return 0;
}

int bl_read(struct baseline *b, const char *path, char *err, size_t errlen)
{
    memset(b, 0, sizeof(*b));
    struct rd r = {path, err, errlen};
    char *text;
    size_t len;
    char why[256];
    if (read_file(path, &text, &len, why, sizeof(why))) {
        snprintf(err, errlen, "cannot read the baseline '%s': %s", path, why);
        return -1;
    }
    if (!len) {
        free(text);
        snprintf(err, errlen, "'%s': empty file, not a baseline", path);
        return -1;
    }
    struct arena a = {0};
    char jerr[300];
    struct json *root = json_parse(text, len, &a, jerr, sizeof(jerr));
    int rc;
    if (!root) {
        snprintf(err, errlen, "'%s': not valid JSON: %s", path, jerr);
        rc = -1;
    } else {
        rc = read_doc(b, &r, root);
    }
    arena_release(&a);
    free(text);
    if (rc) bl_release(b);
    return rc;
}
