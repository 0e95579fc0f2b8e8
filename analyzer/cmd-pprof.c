/* SPDX-License-Identifier: MIT */
/*
 * sprof-report pprof: the profile as pprof's profile.proto, gzip-compressed,
 * for go tool pprof and continuous-profiling servers (Pyroscope, Parca).
 * The protobuf encoding is written here by hand (a handful of message
 * types, varints and length-delimited fields); zlib compresses it.
 *
 * What goes in:
 * - sample types samples/count and cpu/nanoseconds (the last one is what
 *   pprof shows unless told -sample_index=samples); period type
 *   cpu/nanoseconds with the sampling period; time_nanos (the earliest
 *   process start) and duration_nanos (to the last sample kept).
 * - one Sample per distinct (raw stack, symbolic stack, thread), leaf
 *   first, with labels pid, tid and thread (the thread's name).
 * - one Location per address in a mapping, the address as looked up (a
 *   return address less one, inside its call instruction), its frames as
 *   Lines, innermost (inlined) first.
 * - Functions with name (demangled), declaration file and line, and
 *   system_name for C names (see put_functions).
 * - Mappings with start, limit, offset, path, build-id, and has_functions /
 *   has_filenames / has_line_numbers / has_inline_frames from what the
 *   symbolizer found; the main executable first.
 * - comments: the exporter, the command lines, the filters.
 *
 * Filters (filter.h) that rewrite stacks (--hide, --focus, --no-inline,
 * --max-depth) keep a subsequence of each stack's frames: an address keeps
 * the Lines of its frames that are left, and an address with none left is
 * dropped from the sample. A location with some of its frames dropped is a
 * Location of its own (same address, fewer Lines).
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "buf.h"
#include "cli.h"
#include "filter.h"
#include "log.h"
#include "output.h"
#include "symbolize.h"

#ifndef SPROF_VERSION_STRING
#define SPROF_VERSION_STRING "unknown"
#endif

/* ---- protobuf encoding ---- */

enum { PB_VARINT = 0, PB_LEN = 2 };

static void pb_key(struct sprof_buf *b, unsigned field, unsigned type)
{
    sprof_buf_put_uvarint(b, (uint64_t)field << 3 | type);
}

/* A varint field; proto3 leaves out zero values. */
static void pb_uint(struct sprof_buf *b, unsigned field, uint64_t v)
{
    if (!v) return;
    pb_key(b, field, PB_VARINT);
    sprof_buf_put_uvarint(b, v);
}

static void pb_bytes(struct sprof_buf *b, unsigned field, const void *p, size_t n)
{
    pb_key(b, field, PB_LEN);
    sprof_buf_put_bytes(b, p, n);
}

/* Appends message m as field of b and empties m for the next one. */
static void pb_msg(struct sprof_buf *b, unsigned field, struct sprof_buf *m)
{
    pb_bytes(b, field, m->data, m->len);
    sprof_buf_reset(m);
}

/* A packed repeated varint field. */
static void pb_packed(struct sprof_buf *b, unsigned field, const uint64_t *v, size_t n,
                      struct sprof_buf *tmp)
{
    if (!n) return;
    sprof_buf_reset(tmp);
    for (size_t i = 0; i < n; i++)
        sprof_buf_put_uvarint(tmp, v[i]);
    pb_msg(b, field, tmp);
}

/* profile.proto field numbers */
enum {
    PROFILE_SAMPLE_TYPE = 1,
    PROFILE_SAMPLE = 2,
    PROFILE_MAPPING = 3,
    PROFILE_LOCATION = 4,
    PROFILE_FUNCTION = 5,
    PROFILE_STRING_TABLE = 6,
    PROFILE_TIME_NANOS = 9,
    PROFILE_DURATION_NANOS = 10,
    PROFILE_PERIOD_TYPE = 11,
    PROFILE_PERIOD = 12,
    PROFILE_COMMENT = 13,
    VALUETYPE_TYPE = 1,
    VALUETYPE_UNIT = 2,
    SAMPLE_LOCATION_ID = 1,
    SAMPLE_VALUE = 2,
    SAMPLE_LABEL = 3,
    LABEL_KEY = 1,
    LABEL_STR = 2,
    LABEL_NUM = 3,
    MAPPING_ID = 1,
    MAPPING_MEMORY_START = 2,
    MAPPING_MEMORY_LIMIT = 3,
    MAPPING_FILE_OFFSET = 4,
    MAPPING_FILENAME = 5,
    MAPPING_BUILD_ID = 6,
    MAPPING_HAS_FUNCTIONS = 7,
    MAPPING_HAS_FILENAMES = 8,
    MAPPING_HAS_LINE_NUMBERS = 9,
    MAPPING_HAS_INLINE_FRAMES = 10,
    LOCATION_ID = 1,
    LOCATION_MAPPING_ID = 2,
    LOCATION_ADDRESS = 3,
    LOCATION_LINE = 4,
    LINE_FUNCTION_ID = 1,
    LINE_LINE = 2,
    FUNCTION_ID = 1,
    FUNCTION_NAME = 2,
    FUNCTION_SYSTEM_NAME = 3,
    FUNCTION_FILENAME = 4,
    FUNCTION_START_LINE = 5,
};

/* ---- the tables of the profile ---- */

/* Where a location is: a mapping (index into p->maps), an address of a
 * process outside any mapping, or no address (a frame the raw stack does
 * not explain, such as "[missing stack]"). */
#define WHERE_UNMAPPED (1ull << 62) /* | process index */
#define WHERE_NONE UINT64_MAX

struct loc {
    uint64_t where, addr;
    uint32_t off, n; /* frame ids in pp.loc_frames[off..off+n), innermost first */
};

struct pprof {
    struct sp_profile *p;
    struct strtab strs;   /* the string table's strings, interned */
    struct u64map str_ix; /* interned pointer -> string index */
    const char **str_list;
    size_t nstr, str_cap;
    struct loc *locs;
    size_t nlocs, locs_cap;
    uint32_t *loc_frames;
    size_t nloc_frames, loc_frames_cap;
    struct idset loc_ix;
    struct u64map func_ix; /* sp_func -> pprof function id */
    uint32_t *funcs;       /* pprof function id - 1 -> sp_func */
    size_t nfuncs, funcs_cap;
    struct u64map map_ix; /* p->maps index -> pprof mapping id */
    uint32_t *maps;       /* pprof mapping id - 1 -> p->maps index */
    size_t nmaps, maps_cap;
};

/* s with every byte that is not valid UTF-8 replaced by U+FFFD: protobuf
 * strings must be UTF-8. Returns s itself when it is valid, else a new
 * allocation stored in *tofree. */
static const char *valid_utf8(const char *s, char **tofree)
{
    *tofree = NULL;
    const char *c = s, *end = s + strlen(s);
    size_t bad = 0;
    while (*c) {
        size_t n = utf8_seq_len(c, (size_t)(end - c));
        if (!n) bad++;
        c += n ? n : 1;
    }
    if (!bad) return s;
    char *d = xmalloc((size_t)(end - s) + 2 * bad + 1), *o = d;
    for (c = s; *c;) {
        size_t n = utf8_seq_len(c, (size_t)(end - c));
        if (n) {
            memcpy(o, c, n);
            o += n;
            c += n;
        } else {
            memcpy(o, "\xef\xbf\xbd", 3);
            o += 3;
            c++;
        }
    }
    *o = 0;
    *tofree = d;
    return d;
}

/* The string table index of s. */
static uint64_t str_id(struct pprof *pp, const char *s)
{
    char *tmp;
    const char *v = strtab_intern(&pp->strs, valid_utf8(s ? s : "", &tmp));
    free(tmp);
    int added;
    uint64_t *id = u64map_put(&pp->str_ix, (uintptr_t)v, 0, pp->nstr, &added);
    if (added) {
        GROW(pp->str_list, pp->str_cap, pp->nstr + 1);
        pp->str_list[pp->nstr++] = v;
    }
    return *id;
}

static uint64_t func_id(struct pprof *pp, uint32_t func)
{
    int added;
    uint64_t *id = u64map_put(&pp->func_ix, func, 0, pp->nfuncs + 1, &added);
    if (added) {
        GROW(pp->funcs, pp->funcs_cap, pp->nfuncs + 1);
        pp->funcs[pp->nfuncs++] = func;
    }
    return *id;
}

static uint64_t map_id(struct pprof *pp, uint32_t map)
{
    int added;
    uint64_t *id = u64map_put(&pp->map_ix, map, 0, pp->nmaps + 1, &added);
    if (added) {
        GROW(pp->maps, pp->maps_cap, pp->nmaps + 1);
        pp->maps[pp->nmaps++] = map;
    }
    return *id;
}

/* The id of the location (where, addr) with frames fr[0..n) (innermost
 * first), created on first use. */
static uint64_t loc_id(struct pprof *pp, uint64_t where, uint64_t addr, const uint32_t *fr,
                       size_t n)
{
    uint64_t h = hash_mix(hash_mix(hash_u64(where), addr), hash_bytes(fr, n * sizeof(*fr), 5));
    size_t pos;
    for (uint32_t id = idset_first(&pp->loc_ix, h, &pos); id != IDSET_NONE;
         id = idset_next(&pp->loc_ix, h, &pos)) {
        const struct loc *l = &pp->locs[id];
        if (l->where == where && l->addr == addr && l->n == n &&
            memcmp(pp->loc_frames + l->off, fr, n * sizeof(*fr)) == 0)
            return (uint64_t)id + 1;
    }
    if (pp->nloc_frames + n > UINT32_MAX || pp->nlocs >= UINT32_MAX - 1) {
        sprof_err("pprof: too many locations");
        exit(EXIT_USAGE);
    }
    GROW(pp->loc_frames, pp->loc_frames_cap, pp->nloc_frames + n);
    memcpy(pp->loc_frames + pp->nloc_frames, fr, n * sizeof(*fr));
    GROW(pp->locs, pp->locs_cap, pp->nlocs + 1);
    pp->locs[pp->nlocs] = (struct loc){where, addr, (uint32_t)pp->nloc_frames, (uint32_t)n};
    pp->nloc_frames += n;
    idset_insert(&pp->loc_ix, h, (uint32_t)pp->nlocs);
    return ++pp->nlocs;
}

/* ---- samples ---- */

struct group {
    uint32_t stack, sym, thread;
    uint64_t time; /* of its first sample: which mappings were live */
    uint64_t count, ns;
};

/* Scratch space for the locations of one group. */
struct walk {
    uint32_t *uf;  /* the raw stack's frames, root first (unfiltered) */
    uint32_t *ua;  /* for each, the raw frame index it came from */
    uint8_t *keep; /* for each, whether the filtered stack keeps it */
    size_t nu, cap;
    uint32_t *one; /* the frames of one address */
    size_t one_cap;
    uint32_t *lf; /* kept frames of one address, innermost first */
    size_t lf_cap;
    uint64_t *ids; /* the sample's location ids, leaf first */
    size_t nids, ids_cap;
};

/* The frames of address addr (raw frame i) into w->one; returns how many. */
static size_t addr_frames(struct pprof *pp, struct walk *w, uint32_t proc, uint64_t addr, int ret,
                          uint64_t t)
{
    size_t n = sp_symbolize_addr(pp->p, proc, addr, ret, t, w->one, w->one_cap);
    if (n > w->one_cap) {
        GROW(w->one, w->one_cap, n);
        n = sp_symbolize_addr(pp->p, proc, addr, ret, t, w->one, w->one_cap);
    }
    return n;
}

/* Fills w->ids with the location ids of group g, leaf first. */
static void group_locations(struct pprof *pp, struct walk *w, const struct group *g)
{
    struct sp_profile *p = pp->p;
    const struct sp_stack *st = &p->stacks[g->sym];
    const uint32_t *F = p->stack_frames + st->off;
    const struct sp_rawstack *r = g->stack != SP_NONE ? &p->raw[g->stack] : NULL;
    uint32_t proc = p->threads[g->thread].proc;
    w->nu = 0;
    w->nids = 0;
    if (r) {
        const uint64_t *raw = p->frames + r->off;
        for (uint32_t i = r->nframes; i-- > 0;) {
            size_t n = addr_frames(pp, w, proc, raw[i], i > 0, g->time), cap = w->cap;
            GROW(w->uf, w->cap, w->nu + n);
            if (w->cap != cap) {
                w->ua = xreallocarray(w->ua, w->cap, sizeof(*w->ua));
                w->keep = xreallocarray(w->keep, w->cap, sizeof(*w->keep));
            }
            for (size_t k = 0; k < n; k++) {
                w->uf[w->nu] = w->one[k];
                w->ua[w->nu] = i;
                w->keep[w->nu++] = 0;
            }
        }
    }
    /* the filtered stack F is a subsequence of the raw stack's frames U */
    size_t k = 0;
    for (size_t j = 0; j < w->nu && k < st->n; j++)
        if (w->uf[j] == F[k]) {
            w->keep[j] = 1;
            k++;
        }
    if (!r || k < st->n || !w->nu) {
        /* not explained by addresses: one location per frame, no address */
        for (uint32_t i = st->n; i-- > 0;) {
            GROW(w->ids, w->ids_cap, w->nids + 1);
            w->ids[w->nids++] = loc_id(pp, WHERE_NONE, 0, &F[i], 1);
        }
        return;
    }
    /* leaf first: raw frame 0 is the last address in U */
    size_t end = w->nu;
    while (end > 0) {
        uint32_t i = w->ua[end - 1];
        size_t start = end;
        while (start > 0 && w->ua[start - 1] == i)
            start--;
        size_t n = 0;
        GROW(w->lf, w->lf_cap, end - start);
        for (size_t j = end; j-- > start;)
            if (w->keep[j]) w->lf[n++] = w->uf[j];
        end = start;
        if (!n) continue;
        uint64_t addr = p->frames[r->off + i];
        uint64_t look = i > 0 && addr ? addr - 1 : addr;
        const struct sp_mapping *m = sp_profile_find_map(p, proc, addr, g->time);
        uint64_t where = m ? (uint64_t)(m - p->maps) : WHERE_UNMAPPED | proc;
        GROW(w->ids, w->ids_cap, w->nids + 1);
        w->ids[w->nids++] = loc_id(pp, where, look, w->lf, n);
    }
}

/* Groups the samples by (raw stack, symbolic stack, thread). */
static struct group *group_samples(const struct sp_profile *p, size_t *ngroups)
{
    struct u64map ix = {0};
    struct group *gs = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0; i < p->nsamples; i++) {
        const struct sp_sample *s = &p->samples[i];
        int added;
        uint64_t *v = u64map_put(&ix, (uint64_t)s->stack << 32 | s->sym, s->thread, n, &added);
        if (added) {
            GROW(gs, cap, n + 1);
            gs[n++] = (struct group){s->stack, s->sym, s->thread, s->time, 0, 0};
        }
        gs[*v].count++;
        gs[*v].ns += s->weight_ns;
    }
    u64map_release(&ix);
    *ngroups = n;
    return gs;
}

/* ---- the whole profile ---- */

static void put_value_type(struct sprof_buf *b, unsigned field, struct pprof *pp, const char *type,
                           const char *unit, struct sprof_buf *m)
{
    pb_uint(m, VALUETYPE_TYPE, str_id(pp, type));
    pb_uint(m, VALUETYPE_UNIT, str_id(pp, unit));
    pb_msg(b, field, m);
}

static void put_label(struct sprof_buf *b, struct pprof *pp, const char *key, const char *str,
                      uint64_t num, struct sprof_buf *m)
{
    pb_uint(m, LABEL_KEY, str_id(pp, key));
    if (str)
        pb_uint(m, LABEL_STR, str_id(pp, str));
    else
        pb_uint(m, LABEL_NUM, num);
    pb_msg(b, SAMPLE_LABEL, m);
}

/* Whether mapping m is the main executable of its process. */
static int is_main(const struct sp_profile *p, const struct sp_mapping *m)
{
    const struct sp_process *pr = &p->procs[m->proc];
    return pr->exe && m->path && strcmp(pr->exe, m->path) == 0;
}

static void put_mappings(struct sprof_buf *b, struct pprof *pp, struct sprof_buf *m)
{
    struct sp_profile *p = pp->p;
    /* mapping[0] is the main binary: the first-used mapping of an executable */
    size_t first = 0;
    for (size_t i = 0; i < pp->nmaps; i++)
        if (is_main(p, &p->maps[pp->maps[i]])) {
            first = i;
            break;
        }
    for (size_t k = 0; k < pp->nmaps; k++) {
        size_t i = k == 0 ? first : k <= first ? k - 1 : k;
        const struct sp_mapping *mp = &p->maps[pp->maps[i]];
        pb_uint(m, MAPPING_ID, i + 1);
        pb_uint(m, MAPPING_MEMORY_START, mp->start);
        pb_uint(m, MAPPING_MEMORY_LIMIT, mp->end);
        pb_uint(m, MAPPING_FILE_OFFSET, mp->offset);
        pb_uint(m, MAPPING_FILENAME, str_id(pp, mp->path));
        if (mp->module != SP_NONE) {
            const struct sp_module *mo = &p->modules[mp->module];
            if (mo->build_id_len) {
                char hex[2 * sizeof(mo->build_id) + 1];
                sp_hex(mo->build_id, mo->build_id_len, hex);
                pb_uint(m, MAPPING_BUILD_ID, str_id(pp, hex));
            }
            struct sp_module_status st;
            sp_module_status(p, mp->module, &st);
            int funcs = st.found && (st.has_symtab || st.has_dynsym || st.has_dwarf);
            pb_uint(m, MAPPING_HAS_FUNCTIONS, funcs);
            pb_uint(m, MAPPING_HAS_FILENAMES, st.found && st.has_dwarf);
            pb_uint(m, MAPPING_HAS_LINE_NUMBERS, st.found && st.has_dwarf);
            pb_uint(m, MAPPING_HAS_INLINE_FRAMES, st.found && st.has_dwarf);
        }
        pb_msg(b, PROFILE_MAPPING, m);
    }
}

static void put_locations(struct sprof_buf *b, struct pprof *pp, struct sprof_buf *m,
                          struct sprof_buf *l)
{
    const struct sp_profile *p = pp->p;
    for (size_t i = 0; i < pp->nlocs; i++) {
        const struct loc *lo = &pp->locs[i];
        pb_uint(m, LOCATION_ID, i + 1);
        if (lo->where < WHERE_UNMAPPED)
            pb_uint(m, LOCATION_MAPPING_ID, map_id(pp, (uint32_t)lo->where));
        pb_uint(m, LOCATION_ADDRESS, lo->addr);
        for (uint32_t k = 0; k < lo->n; k++) {
            const struct sp_frame *f = &p->sframes[pp->loc_frames[lo->off + k]];
            pb_uint(l, LINE_FUNCTION_ID, func_id(pp, f->func));
            pb_uint(l, LINE_LINE, f->line);
            pb_msg(m, LOCATION_LINE, l);
        }
        pb_msg(b, PROFILE_LOCATION, m);
    }
}

static void put_functions(struct sprof_buf *b, struct pprof *pp, struct sprof_buf *m)
{
    for (size_t i = 0; i < pp->nfuncs; i++) {
        const struct sp_func *f = &pp->p->funcs[pp->funcs[i]];
        uint64_t name = str_id(pp, f->name);
        pb_uint(m, FUNCTION_ID, i + 1);
        pb_uint(m, FUNCTION_NAME, name);
        /* A C name is its own system name. A demangled one's is the mangled
         * form, which the model does not keep: left out, so that pprof
         * shows the name as given instead of cutting what looks like
         * parameters and template arguments out of it. */
        if (!strpbrk(f->name, "()<>[]:")) pb_uint(m, FUNCTION_SYSTEM_NAME, name);
        pb_uint(m, FUNCTION_FILENAME, str_id(pp, f->file));
        pb_uint(m, FUNCTION_START_LINE, f->line);
        pb_msg(b, PROFILE_FUNCTION, m);
    }
}

static void put_comments(struct sprof_buf *b, struct pprof *pp, const struct filter_opts *flt)
{
    const struct sp_profile *p = pp->p;
    pb_uint(b, PROFILE_COMMENT, str_id(pp, "exported by sprof-report " SPROF_VERSION_STRING));
    for (size_t i = 0; i < p->nprocs && i < 16; i++) {
        const struct sp_process *pr = &p->procs[i];
        if (!pr->has_process) continue;
        char *cmd = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&cmd, &len);
        if (!f) continue;
        fprintf(f, "pid %u:", pr->pid);
        for (uint32_t k = 0; k < pr->argc; k++)
            fprintf(f, " %s", pr->argv[k]);
        if (fclose(f) == 0) pb_uint(b, PROFILE_COMMENT, str_id(pp, cmd));
        free(cmd);
    }
    if (filter_active(flt)) {
        char *txt = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&txt, &len);
        if (f) {
            fputs("filters: ", f);
            filter_describe(flt, f);
            if (fclose(f) == 0) pb_uint(b, PROFILE_COMMENT, str_id(pp, txt));
        }
        free(txt);
    }
}

/* Encodes the profile into b. */
static void encode(struct pprof *pp, struct sprof_buf *b, const struct filter_opts *flt)
{
    struct sp_profile *p = pp->p;
    struct sprof_buf m, l;
    sprof_buf_init(&m);
    sprof_buf_init(&l);
    str_id(pp, ""); /* string_table[0] */

    put_value_type(b, PROFILE_SAMPLE_TYPE, pp, "samples", "count", &m);
    put_value_type(b, PROFILE_SAMPLE_TYPE, pp, "cpu", "nanoseconds", &m);

    size_t ngroups;
    struct group *gs = group_samples(p, &ngroups);
    struct walk w;
    memset(&w, 0, sizeof(w));
    uint64_t last = 0;
    for (size_t i = 0; i < ngroups; i++) {
        const struct group *g = &gs[i];
        group_locations(pp, &w, g);
        pb_packed(&m, SAMPLE_LOCATION_ID, w.ids, w.nids, &l);
        uint64_t values[2] = {g->count, g->ns};
        pb_packed(&m, SAMPLE_VALUE, values, 2, &l);
        const struct sp_thread *t = &p->threads[g->thread];
        put_label(&m, pp, "pid", NULL, p->procs[t->proc].pid, &l);
        put_label(&m, pp, "tid", NULL, t->tid, &l);
        put_label(&m, pp, "thread", sp_thread_name(t), 0, &l);
        pb_msg(b, PROFILE_SAMPLE, &m);
    }
    for (size_t i = 0; i < p->nsamples; i++)
        if (p->samples[i].time > last) last = p->samples[i].time;
    /* locations first: they give the mappings and functions their ids */
    struct sprof_buf locs;
    sprof_buf_init(&locs);
    put_locations(&locs, pp, &m, &l);
    put_mappings(b, pp, &m);
    sprof_buf_put(b, locs.data, locs.len);
    if (locs.oom) b->oom = 1;
    sprof_buf_release(&locs);
    put_functions(b, pp, &m);

    /* time and period */
    uint64_t t0 = filter_time_origin(p), rt = 0, period = 0;
    for (size_t i = 0; i < p->nprocs; i++) {
        const struct sp_process *pr = &p->procs[i];
        if (pr->has_process && pr->start_mono_ns == t0 && !rt) rt = pr->start_realtime_ns;
        if (pr->has_config && !period)
            period = pr->config.period_ns ? pr->config.period_ns
                     : pr->config.freq_hz ? 1000000000ull / pr->config.freq_hz
                                          : 0;
    }
    pb_uint(b, PROFILE_TIME_NANOS, rt);
    pb_uint(b, PROFILE_DURATION_NANOS, last > t0 ? last - t0 : 0);
    put_value_type(b, PROFILE_PERIOD_TYPE, pp, "cpu", "nanoseconds", &m);
    pb_uint(b, PROFILE_PERIOD, period);
    put_comments(b, pp, flt);

    /* the string table last: everything above added to it */
    for (size_t i = 0; i < pp->nstr; i++)
        pb_bytes(b, PROFILE_STRING_TABLE, pp->str_list[i], strlen(pp->str_list[i]));

    free(gs);
    free(w.uf);
    free(w.ua);
    free(w.keep);
    free(w.one);
    free(w.lf);
    free(w.ids);
    sprof_buf_release(&m);
    sprof_buf_release(&l);
}

static void pprof_release(struct pprof *pp)
{
    strtab_release(&pp->strs);
    u64map_release(&pp->str_ix);
    free(pp->str_list);
    free(pp->locs);
    free(pp->loc_frames);
    idset_release(&pp->loc_ix);
    u64map_release(&pp->func_ix);
    free(pp->funcs);
    u64map_release(&pp->map_ix);
    free(pp->maps);
}

/* Writes data gzip-compressed to out; 0 or -1 (errno or zlib's message
 * in *why). */
static int write_gzip(FILE *out, const uint8_t *data, size_t n, const char **why)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    *why = NULL;
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16 /* gzip */, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK) {
        *why = z.msg ? z.msg : "cannot start zlib";
        return -1;
    }
    unsigned char buf[1 << 16];
    int rc = 0, flush;
    do {
        size_t chunk = n > (1u << 30) ? (1u << 30) : n;
        z.next_in = (Bytef *)(uintptr_t)data;
        z.avail_in = (uInt)chunk;
        data += chunk;
        n -= chunk;
        flush = n ? Z_NO_FLUSH : Z_FINISH;
        do {
            z.next_out = buf;
            z.avail_out = sizeof(buf);
            int zr = deflate(&z, flush);
            if (zr == Z_STREAM_ERROR) {
                *why = "zlib failed";
                rc = -1;
                break;
            }
            size_t have = sizeof(buf) - z.avail_out;
            if (have && fwrite(buf, 1, have, out) != have) {
                rc = -1;
                break;
            }
        } while (z.avail_out == 0);
    } while (rc == 0 && flush != Z_FINISH);
    deflateEnd(&z);
    return rc;
}

static const char usage_text[] =
    "usage: sprof-report pprof [-o FILE] [OPTIONS] FILE...\n"
    "\n"
    "The profile in pprof's format (profile.proto, gzip-compressed), for\n"
    "'go tool pprof' and continuous-profiling servers: samples with their\n"
    "stacks and threads, locations with inlined frames as lines, functions\n"
    "with source files, mappings with build-ids. Sample types samples/count\n"
    "and cpu/nanoseconds (pprof shows the last unless -sample_index=samples).\n"
    "\n"
    "options:\n"
    "  -o, --output FILE     write to FILE (usual name: NAME.pb.gz); without it,\n"
    "                        to standard output unless that is a terminal\n"
    "  -h, --help            this text\n"
    "\n" FILTER_USAGE;

static int run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        FILTER_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    const char *path = NULL;
    struct filter_opts flt;
    filter_init(&flt);
    optind = 0;
    opterr = 0;
    int c, rc = EXIT_USAGE;
    while ((c = getopt_long(argc, argv, ":ho:", opts, NULL)) != -1) {
        if (filter_is_option(c)) {
            if (filter_parse(&flt, "pprof", c, optarg)) goto out;
            continue;
        }
        switch (c) {
        case 'o':
            path = optarg;
            break;
        case 'h':
            fputs(usage_text, stdout);
            rc = 0;
            goto out;
        default:
            cli_bad_option("pprof", argv, c);
            goto out;
        }
    }
    int to_stdout = !path || strcmp(path, "-") == 0;
    if (to_stdout && isatty(STDOUT_FILENO)) {
        cli_usage_error("pprof", "the profile is binary: name a file with -o FILE, or redirect");
        goto out;
    }
    struct sp_profile *p = cli_load("pprof", argc - optind, argv + optind);
    if (!p) goto out;
    filter_apply(p, &flt);
    sp_symbolize(p);

    struct pprof pp;
    memset(&pp, 0, sizeof(pp));
    pp.p = p;
    struct sprof_buf b;
    sprof_buf_init(&b);
    encode(&pp, &b, &flt);
    if (b.oom) {
        sprof_err("pprof: out of memory");
    } else {
        FILE *out = to_stdout ? stdout : fopen(path, "wb");
        const char *why = NULL;
        if (!out) {
            sprof_err("cannot create '%s': %s", path, strerror(errno));
        } else if (write_gzip(out, b.data, b.len, &why) || fflush(out) || ferror(out)) {
            sprof_err("cannot write '%s': %s", to_stdout ? "standard output" : path,
                      why ? why : strerror(errno));
            if (!to_stdout) {
                fclose(out);
                unlink(path);
            }
        } else if (!to_stdout && fclose(out)) {
            sprof_err("cannot write '%s': %s", path, strerror(errno));
            unlink(path);
        } else {
            rc = 0;
        }
    }
    sprof_buf_release(&b);
    pprof_release(&pp);
    sp_profile_free(p);
out:
    filter_release(&flt);
    return rc;
}

const struct command cmd_pprof = {
    "pprof", run, "export to pprof's profile.proto (gzip), for go tool pprof", usage_text};
