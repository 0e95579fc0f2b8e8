/* SPDX-License-Identifier: MIT */
#include "profile.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "chunk.h"
#include "log.h"
#include "stacks.h"
#include "symbolize.h"

struct sp_profile *sp_profile_new(void)
{
    return xcalloc(1, sizeof(struct sp_profile));
}

void sp_profile_free(struct sp_profile *p)
{
    if (!p) return;
    sp_symbolizer_free(p->sym);
    for (size_t i = 0; i < p->nprocs; i++) {
        free(p->procs[i].notes);
        free(p->procs[i].epochs);
    }
    free(p->procs);
    free(p->threads);
    free(p->maps);
    free(p->modules);
    FREE_BIG(p->raw, p->raw_cap);
    FREE_BIG(p->frames, p->frames_cap);
    FREE_BIG(p->samples, p->samples_cap);
    u64map_release(&p->thread_ix);
    idset_release(&p->module_ix);
    free(p->funcs);
    free(p->sframes);
    FREE_BIG(p->stacks, p->stacks_cap);
    FREE_BIG(p->stack_frames, p->stack_frames_cap);
    strtab_release(&p->strs);
    arena_release(&p->arena);
    free(p);
}

/* ---- reading ---- */

/* A stack new to the chunk being read: its id, and the hash of its frames
 * and flags (common/stacks.h), upper half. */
struct pending {
    uint64_t id;
    uint32_t hash;
};

/* State of the file being read. */
struct rd {
    struct sp_profile *p;
    uint32_t proc;
    /* file stack id -> raw stack index: the recorder numbers stacks 0, 1,
     * 2, ..., so ids go to an array (SP_NONE where undefined) while they
     * stay below a bound that grows with the stacks defined; any other
     * id goes to the map */
    uint32_t *ids;
    size_t ids_cap;
    uint64_t stack_recs;
    struct u64map stack_ids;
    /* this file's stacks by their frames and flags, to count a stack once
     * whatever its ids (the recorder gives a stack a new id when it sees it
     * again after it forgot its stacks: sprof-format(5)): open addressing,
     * each slot the stack's 32-bit hash above raw - raw0 + 1 (0 empty) */
    uint64_t *same;
    size_t same_cap;
    /* The chunk's new stacks, raw pend0 to p->nraw, are held apart until
     * its first record of another kind (or its end), and then looked up
     * in `same` all together, each probe's slot fetched from memory a few
     * stacks ahead: one at a time, each new id of a file of 600,000 waited
     * for a cache miss (BENCHMARKS.md, session 17) */
    size_t pend0;
    struct pending *pend; /* by raw - pend0 */
    size_t pend_cap;
    struct u64map live_maps; /* (start, end) -> index of the mapping live now */
    size_t first_sample;
    uint32_t flags; /* the file header's SPROF_FLAG_* */
    /* raw stack raw0 + i was last defined in chunk raw_chunk[i] (counted
     * from 1): a shared stack's base must be defined in its own chunk */
    uint32_t chunk;
    uint32_t *raw_chunk;
    size_t raw_chunk_cap, raw0;
    /* the stacks the chunk's STACK and STACKS records defined so far, and
     * the last one's id (shared stacks, STACKS: ids are differences); a
     * stack whose id could not be read leaves the ids of the chunk's later
     * ones unknown */
    uint64_t chunk_stacks, chunk_last_id;
    int chunk_ids_lost;
    /* scratch for a STACKS record: its columns, then its addresses */
    uint64_t *cols;
    size_t cols_cap;
};

/* sprof_get_uvarint, faster: away from the end of the input, a varint of
 * up to 8 bytes is decoded from one 8-byte load without a branch per byte
 * (their lengths vary from one to the next, which branches mispredict).
 * The same values and the same failures. */
static inline int get_uv(struct sprof_cur *c, uint64_t *v)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (c->end - c->p >= 8) {
        uint64_t w;
        memcpy(&w, c->p, 8);
        uint64_t stop = ~w & 0x8080808080808080ull; /* the high bit of the last byte */
        if (stop) {
            unsigned bits = (unsigned)__builtin_ctzll(stop) + 1; /* 8 per byte */
            if (bits < 64) w &= (1ull << bits) - 1;
            w &= 0x7f7f7f7f7f7f7f7full;
            /* gather the 7-bit groups: pairs, then fours, then eights */
            w = (w & 0x007f007f007f007full) | (w & 0x7f007f007f007f00ull) >> 1;
            w = (w & 0x00003fff00003fffull) | (w & 0x3fff00003fff0000ull) >> 2;
            w = (w & 0x000000000fffffffull) | (w & 0x0fffffff00000000ull) >> 4;
            c->p += bits / 8;
            *v = w;
            return 0;
        }
    }
#endif
    return sprof_get_uvarint(c, v);
}

/* Moves c past n varints, with the same failures as n get_uv calls: eight
 * bytes at a time, where a varint ends at each byte below 0x80. */
static int skip_uv(struct sprof_cur *c, uint64_t n)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    while (n && c->end - c->p >= 8) {
        uint64_t w;
        memcpy(&w, c->p, 8);
        uint64_t stop = ~w & 0x8080808080808080ull;
        if (!stop) break; /* one of more than 8 bytes: one at a time */
        /* how many: one bit a byte, summed by the multiplication */
        unsigned ends = (unsigned)(((stop >> 7) * 0x0101010101010101ull) >> 56), last;
        if (ends > n) { /* the nth end is in this word */
            for (uint64_t k = 1; k < n; k++)
                stop &= stop - 1;
            last = (unsigned)__builtin_ctzll(stop);
            ends = (unsigned)n;
        } else {
            last = 63 - (unsigned)__builtin_clzll(stop);
        }
        c->p += last / 8 + 1;
        n -= ends;
    }
#endif
    for (; n; n--) {
        uint64_t v;
        if (sprof_get_uvarint(c, &v)) return -1;
    }
    return 0;
}

static inline int get_sv(struct sprof_cur *c, int64_t *v)
{
    uint64_t u;
    if (get_uv(c, &u)) return -1;
    *v = sprof_unzigzag(u);
    return 0;
}

/* The raw stack index of file stack id, SP_NONE when undefined. */
static uint32_t stack_id_get(const struct rd *r, uint64_t id)
{
    if (id < r->ids_cap && r->ids[id] != SP_NONE) return r->ids[id];
    /* an id put in the map before the array reached it stays there */
    uint64_t *v = r->stack_ids.n ? u64map_get(&r->stack_ids, id, 0) : NULL;
    return v ? (uint32_t)*v : SP_NONE;
}

static void stack_id_put(struct rd *r, uint64_t id, uint32_t raw)
{
    if (id >= r->ids_cap && id < 2 * r->stack_recs + 4096) {
        size_t cap = r->ids_cap ? r->ids_cap : 1024;
        while (cap <= id)
            cap *= 2;
        r->ids = xreallocarray(r->ids, cap, sizeof(*r->ids));
        memset(r->ids + r->ids_cap, 0xff, (cap - r->ids_cap) * sizeof(*r->ids));
        r->ids_cap = cap;
    }
    if (id < r->ids_cap)
        r->ids[id] = raw;
    else
        *u64map_put(&r->stack_ids, id, 0, raw, NULL) = raw;
}

static struct sp_process *rd_proc(struct rd *r)
{
    return &r->p->procs[r->proc];
}

static void saw_time(struct sp_process *pr, uint64_t t)
{
    if (!t) return;
    if (!pr->first_time || t < pr->first_time) pr->first_time = t;
    if (t > pr->last_time) pr->last_time = t;
}

static int get_str(struct rd *r, struct sprof_cur *c, const char **out)
{
    const uint8_t *b;
    size_t n;
    if (sprof_get_bytes(c, &b, &n) || memchr(b, 0, n)) return -1;
    *out = strtab_intern_n(&r->p->strs, (const char *)b, n);
    return 0;
}

/* A string for display only (a thread's or program's name, a note): control
 * characters become '?', so that no name from a file can move the cursor
 * or break a line of a report. Paths of mappings stay as they are (they
 * are opened). */
static int get_text(struct rd *r, struct sprof_cur *c, const char **out)
{
    const uint8_t *b;
    size_t n;
    if (sprof_get_bytes(c, &b, &n) || memchr(b, 0, n)) return -1;
    size_t i = 0;
    while (i < n && b[i] >= 0x20 && b[i] != 0x7f)
        i++;
    if (i == n) {
        *out = strtab_intern_n(&r->p->strs, (const char *)b, n);
        return 0;
    }
    char *d = xmalloc(n + 1);
    for (i = 0; i < n; i++)
        d[i] = b[i] < 0x20 || b[i] == 0x7f ? '?' : (char)b[i];
    *out = strtab_intern_n(&r->p->strs, d, n);
    free(d);
    return 0;
}

static uint32_t thread_get(struct sp_profile *p, uint32_t proc, uint32_t tid)
{
    int added;
    uint64_t *v = u64map_put(&p->thread_ix, proc, tid, p->nthreads, &added);
    if (!added) return (uint32_t)*v;
    GROW(p->threads, p->threads_cap, p->nthreads + 1);
    struct sp_thread *t = &p->threads[p->nthreads];
    memset(t, 0, sizeof(*t));
    t->proc = proc;
    t->tid = tid;
    t->name = "";
    t->end = SP_TIME_MAX;
    return (uint32_t)p->nthreads++;
}

static int rec_process(struct rd *r, struct sprof_cur *c)
{
    struct sp_process *pr = rd_proc(r);
    uint64_t pid, ppid, rt, mono, argc;
    const char *exe;
    if (sprof_get_uvarint(c, &pid) || sprof_get_uvarint(c, &ppid) || sprof_get_uvarint(c, &rt) ||
        sprof_get_uvarint(c, &mono) || get_text(r, c, &exe) || sprof_get_uvarint(c, &argc))
        return -1;
    /* every string takes at least its length byte */
    if (argc > sprof_cur_left(c) || pid > UINT32_MAX || ppid > UINT32_MAX) return -1;
    const char **argv = arena_alloc(&r->p->arena, (argc ? argc : 1) * sizeof(*argv));
    for (uint64_t i = 0; i < argc; i++)
        if (get_text(r, c, &argv[i])) return -1;
    if (pr->has_process) return 0; /* the first one describes the file */
    pr->has_process = 1;
    pr->pid = (uint32_t)pid;
    pr->ppid = (uint32_t)ppid;
    pr->start_realtime_ns = rt;
    pr->start_mono_ns = mono;
    pr->exe = exe;
    pr->argv = argv;
    pr->argc = (uint32_t)argc;
    const char *comm = exe[0] ? exe : argc ? argv[0] : "";
    pr->comm = strtab_intern(&r->p->strs, path_basename(comm));
    saw_time(pr, mono);
    return 0;
}

static int rec_config(struct rd *r, struct sprof_cur *c)
{
    struct sp_config k;
    uint64_t sig;
    if (get_text(r, c, &k.event) || sprof_get_uvarint(c, &k.freq_hz) ||
        sprof_get_uvarint(c, &k.period_ns) || sprof_get_uvarint(c, &sig) ||
        get_text(r, c, &k.backend) || get_text(r, c, &k.unwinder) ||
        sprof_get_uvarint(c, &k.max_depth) || sig > UINT32_MAX)
        return -1;
    k.signal = (uint32_t)sig;
    struct sp_process *pr = rd_proc(r);
    pr->config = k;
    pr->has_config = 1;
    return 0;
}

static int rec_thread(struct rd *r, struct sprof_cur *c, int end)
{
    uint32_t tid;
    uint64_t time;
    const char *name = NULL;
    if (sprof_get_u32(c, &tid) || sprof_get_uvarint(c, &time)) return -1;
    if (!end && get_text(r, c, &name)) return -1;
    uint32_t ti = thread_get(r->p, r->proc, tid); /* may move p->threads */
    struct sp_thread *t = &r->p->threads[ti];
    if (end) {
        t->end = time;
        uint64_t cpu;
        if (sprof_cur_left(c) && sprof_get_uvarint(c, &cpu) == 0) t->cpu_ns = cpu;
    } else {
        if (!t->start || (time && time < t->start)) t->start = time;
        if (name[0]) t->name = name; /* a rename: the latest name wins */
    }
    saw_time(rd_proc(r), time);
    return 0;
}

static uint32_t module_get(struct sp_profile *p, const char *path, const uint8_t *bid, size_t n)
{
    uint64_t h = hash_mix(hash_bytes(path, strlen(path), 0), hash_bytes(bid, n, 1));
    size_t pos;
    for (uint32_t id = idset_first(&p->module_ix, h, &pos); id != IDSET_NONE;
         id = idset_next(&p->module_ix, h, &pos)) {
        struct sp_module *m = &p->modules[id];
        if (m->path == path && m->build_id_len == n && memcmp(m->build_id, bid, n) == 0) return id;
    }
    GROW(p->modules, p->modules_cap, p->nmodules + 1);
    struct sp_module *m = &p->modules[p->nmodules];
    memset(m, 0, sizeof(*m));
    m->path = path;
    m->kind = path[0] == '/' ? SP_MOD_FILE : SP_MOD_VDSO;
    m->name = m->kind == SP_MOD_FILE ? strtab_intern(&p->strs, path_basename(path)) : path;
    memcpy(m->build_id, bid, n);
    m->build_id_len = n;
    idset_insert(&p->module_ix, h, (uint32_t)p->nmodules);
    return (uint32_t)p->nmodules++;
}

static int rec_map(struct rd *r, struct sprof_cur *c)
{
    struct sp_mapping m;
    memset(&m, 0, sizeof(m));
    uint64_t prot;
    const uint8_t *bid;
    size_t bidn;
    if (sprof_get_uvarint(c, &m.t_map) || sprof_get_uvarint(c, &m.start) ||
        sprof_get_uvarint(c, &m.end) || sprof_get_uvarint(c, &m.offset) ||
        sprof_get_uvarint(c, &prot) || sprof_get_uvarint(c, &m.load_bias) ||
        sprof_get_bytes(c, &bid, &bidn) || get_str(r, c, &m.path))
        return -1;
    if (m.end <= m.start || bidn > sizeof(((struct sp_module *)0)->build_id)) return -1;
    struct sp_profile *p = r->p;
    m.proc = r->proc;
    m.prot = (unsigned)(prot & 7);
    m.t_unmap = SP_TIME_MAX;
    if (m.path[0] == '/' || strcmp(m.path, "[vdso]") == 0)
        m.module = module_get(p, m.path, bid, bidn);
    else
        m.module = SP_NONE;
    GROW(p->maps, p->maps_cap, p->nmaps + 1);
    uint32_t ix = (uint32_t)p->nmaps;
    p->maps[p->nmaps++] = m;
    rd_proc(r)->nmaps++;
    int added;
    uint64_t *v = u64map_put(&r->live_maps, m.start, m.end, ix, &added);
    if (!added) {
        if (*v != SP_NONE) {
            /* replaced without an UNMAP: the old one ends now */
            struct sp_mapping *old = &p->maps[*v];
            if (old->t_unmap == SP_TIME_MAX) old->t_unmap = m.t_map;
        }
        *v = ix;
    }
    saw_time(rd_proc(r), m.t_map);
    return 0;
}

static int rec_unmap(struct rd *r, struct sprof_cur *c)
{
    uint64_t t, start, end;
    if (sprof_get_uvarint(c, &t) || sprof_get_uvarint(c, &start) || sprof_get_uvarint(c, &end))
        return -1;
    uint64_t *v = u64map_get(&r->live_maps, start, end);
    if (v && *v != SP_NONE) {
        struct sp_mapping *m = &r->p->maps[*v];
        if (m->t_unmap == SP_TIME_MAX) m->t_unmap = t;
        *v = SP_NONE;
    }
    saw_time(rd_proc(r), t);
    return 0;
}

/* A shared stack's base, given as id + 1 (SPROF_FLAG_SHARED_STACKS): a
 * stack defined before it in the same chunk. Returns its raw index, or
 * SP_NONE. */
static uint32_t stack_base(const struct rd *r, uint64_t base)
{
    uint32_t raw = stack_id_get(r, base - 1);
    if (raw == SP_NONE || raw < r->raw0 || raw - r->raw0 >= r->raw_chunk_cap ||
        r->raw_chunk[raw - r->raw0] != r->chunk)
        return SP_NONE;
    return raw;
}

/* Whether stacks may take frames from a base, which must be defined in
 * their own chunk: the chunk that defined each stack last is kept. */
static int tracks_chunks(const struct rd *r)
{
    return !!(r->flags & (SPROF_FLAG_SHARED_STACKS | SPROF_FLAG_STACK_COLUMNS));
}

static void stack_defined(struct rd *r, uint32_t raw)
{
    GROW(r->raw_chunk, r->raw_chunk_cap, raw - r->raw0 + 1);
    r->raw_chunk[raw - r->raw0] = r->chunk;
}

static void same_grow(struct rd *r)
{
    size_t cap = r->same_cap ? r->same_cap * 2 : 1024;
    uint64_t *t = xcalloc(cap, sizeof(*t));
    for (size_t j = 0; j < r->same_cap; j++) {
        if (!r->same[j]) continue;
        size_t k = (r->same[j] >> 32) & (cap - 1);
        while (t[k])
            k = (k + 1) & (cap - 1);
        t[k] = r->same[j];
    }
    free(r->same);
    r->same = t;
    r->same_cap = cap;
}

/* The stack named by the home slot of the chunk's new stack j when their
 * hashes agree (most often the one it is), or NULL: a guess, to fetch. */
static const struct sp_rawstack *same_guess(const struct rd *r, size_t j)
{
    uint32_t h = r->pend[j].hash;
    uint64_t v = r->same[h & (r->same_cap - 1)];
    return v && (uint32_t)(v >> 32) == h ? &r->p->raw[r->raw0 + (uint32_t)v - 1] : NULL;
}

/* Settles the chunk's new stacks (struct rd, pend0): each one with the
 * frames and flags of a stack of this file before it takes that stack's
 * raw index, and the others move down over the gaps, in order, so that
 * this file's raw stacks stay distinct and contiguous. */
static void settle_stacks(struct rd *r)
{
    struct sp_profile *p = r->p;
    size_t m = p->nraw - r->pend0;
    if (!m) return;
    while ((p->nraw - r->raw0 + 1) * 2 > r->same_cap)
        same_grow(r);
    size_t mask = r->same_cap - 1, w = r->pend0;
    uint64_t fw = p->raw[w].off;
    for (size_t j = 0; j < m; j++) {
        /* memory fetched ahead of the probes: the slot of the stack 8
         * ahead, the stack its slot names for the one 4 ahead, and that
         * one's frames for the one 2 ahead (-10% for `info` of a file of
         * 680,000 ids, against the slot alone) */
        const struct sp_rawstack *o;
        if (j + 8 < m) __builtin_prefetch(&r->same[r->pend[j + 8].hash & mask]);
        if (j + 4 < m && (o = same_guess(r, j + 4)) != NULL) __builtin_prefetch(o);
        if (j + 2 < m && (o = same_guess(r, j + 2)) != NULL) __builtin_prefetch(p->frames + o->off);
        struct sp_rawstack s = p->raw[r->pend0 + j];
        const uint64_t *f = p->frames + s.off;
        uint32_t h = r->pend[j].hash, found = SP_NONE;
        size_t k = h & mask;
        for (uint64_t v; (v = r->same[k]) != 0; k = (k + 1) & mask) {
            if ((uint32_t)(v >> 32) != h) continue;
            o = &p->raw[r->raw0 + (uint32_t)v - 1];
            if (o->nframes == s.nframes && o->flags == s.flags &&
                (!s.nframes || memcmp(p->frames + o->off, f, s.nframes * sizeof(*f)) == 0)) {
                found = (uint32_t)(o - p->raw);
                break;
            }
        }
        if (found == SP_NONE) {
            /* down to fw: memmove, the two may overlap */
            if (s.off != fw) memmove(p->frames + fw, f, s.nframes * sizeof(*f));
            s.off = fw;
            fw += s.nframes;
            p->raw[w] = s;
            r->same[k] = (uint64_t)h << 32 | (uint32_t)(w - r->raw0 + 1);
            found = (uint32_t)w++;
            rd_proc(r)->nstacks++;
        }
        stack_id_put(r, r->pend[j].id, found);
        if (tracks_chunks(r)) stack_defined(r, found);
    }
    p->nraw = r->pend0 = w;
    p->nframes = fw;
}

/* The next id of the chunk's stacks, the difference d from the one before
 * (shared stacks, STACKS): -1 if it cannot be known. */
static int next_stack_id(struct rd *r, uint64_t d, uint64_t *id)
{
    if (r->chunk_ids_lost || (r->chunk_stacks && (d == 0 || d > UINT64_MAX - r->chunk_last_id))) {
        r->chunk_ids_lost = 1;
        return -1;
    }
    *id = r->chunk_stacks++ ? r->chunk_last_id + d : d;
    r->chunk_last_id = *id;
    return 0;
}

/* Room for a stack of n frames at p->frames + p->nframes. + 1: p->frames is
 * never NULL once a stack exists, even one of no frames, so that p->frames
 * + off is always a valid pointer. */
static uint64_t *stack_room(struct sp_profile *p, uint64_t n)
{
    GROW_BIG(p->frames, p->frames_cap, p->nframes + n + 1);
    return p->frames + p->nframes;
}

/* Defines stack id of flags: its n own frames, which the caller put at
 * stack_room, then the outermost shared frames of raw stack braw. Held
 * apart until settle_stacks, which may find it is an earlier one. */
static void stack_commit(struct rd *r, uint64_t id, uint64_t flags, uint64_t n, uint32_t braw,
                         uint64_t shared)
{
    struct sp_profile *p = r->p;
    uint64_t *f = p->frames + p->nframes;
    if (shared) {
        const struct sp_rawstack *b = &p->raw[braw];
        memcpy(f + n, p->frames + b->off + b->nframes - shared, shared * sizeof(*f));
    }
    GROW(r->pend, r->pend_cap, p->nraw - r->pend0 + 1);
    r->pend[p->nraw - r->pend0] =
        (struct pending){id, (uint32_t)(sprof_stack_hash(f, n + shared, flags) >> 32)};
    stack_id_put(r, id, (uint32_t)p->nraw);
    GROW_BIG(p->raw, p->raw_cap, p->nraw + 1);
    struct sp_rawstack *s = &p->raw[p->nraw++];
    s->proc = r->proc;
    s->nframes = (uint32_t)(n + shared);
    s->flags = (uint32_t)flags;
    s->off = p->nframes;
    s->sym = SP_NONE;
    p->nframes += n + shared;
    if (tracks_chunks(r)) stack_defined(r, (uint32_t)(p->nraw - 1));
}

static int rec_stack(struct rd *r, struct sprof_cur *c)
{
    uint64_t id, flags, n, base = 0, shared = 0;
    uint32_t braw = SP_NONE;
    if (r->flags & SPROF_FLAG_SHARED_STACKS) {
        /* ids increase through the chunk, each the previous one plus this */
        uint64_t d;
        if (r->chunk_ids_lost || get_uv(c, &d) || next_stack_id(r, d, &id)) {
            r->chunk_ids_lost = 1;
            return -1;
        }
    } else if (get_uv(c, &id)) {
        return -1;
    }
    if (get_uv(c, &flags) || get_uv(c, &n)) return -1;
    /* every frame takes at least one byte */
    if (n > SPROF_MAX_DEPTH || n > sprof_cur_left(c)) return -1;
    struct sp_profile *p = r->p;
    if (r->flags & SPROF_FLAG_SHARED_STACKS) {
        if (get_uv(c, &base)) return -1;
        if (base) {
            if (get_uv(c, &shared) || shared > SPROF_MAX_DEPTH - n) return -1;
            braw = stack_base(r, base);
            if (braw == SP_NONE || shared > p->raw[braw].nframes) return -1;
        }
    }
    r->stack_recs++;
    /* Every chunk defines the stacks it uses again: a later definition of
     * an id is the same stack, and the first wins. Its frames are only
     * checked, as decoding them would. */
    uint32_t known = stack_id_get(r, id);
    if (known != SP_NONE) {
        if (skip_uv(c, n)) return -1;
        if (tracks_chunks(r)) stack_defined(r, known);
        return 0;
    }
    uint64_t *f = stack_room(p, n + shared);
    if (n && get_uv(c, &f[0])) return -1;
    for (uint64_t i = 1; i < n; i++) {
        int64_t d;
        if (get_sv(c, &d)) return -1;
        f[i] = f[i - 1] + (uint64_t)d;
    }
    stack_commit(r, id, flags, n, braw, shared);
    return 0;
}

/* A STACKS record (SPROF_FLAG_STACK_COLUMNS): the stacks' columns, then the
 * record's addresses, then each stack's frames as codes into them. The
 * stacks before a malformed one stay defined; the ids of the chunk's later
 * stacks are unknown. */
static int rec_stacks(struct rd *r, struct sprof_cur *c)
{
    uint64_t count, naddrs;
    /* every stack takes at least four bytes: did, flags, nown, base */
    if (r->chunk_ids_lost || get_uv(c, &count) || count > sprof_cur_left(c) / 4) goto bad;
    if (!count) return 0;
    GROW(r->cols, r->cols_cap, 5 * count);
    uint64_t *col = r->cols; /* did, flags, nown, base, nbase: count each */
    for (uint64_t i = 0; i < 4 * count; i++)
        if (get_uv(c, &col[i])) goto bad;
    uint64_t *nbase = col + 4 * count; /* the base's frames not shared */
    for (uint64_t i = 0; i < count; i++) {
        nbase[i] = 0;
        if (col[3 * count + i] && get_uv(c, &nbase[i])) goto bad;
    }
    if (get_uv(c, &naddrs) || naddrs > sprof_cur_left(c)) goto bad;
    GROW(r->cols, r->cols_cap, 5 * count + naddrs);
    col = r->cols;
    nbase = col + 4 * count;
    /* the differences: an address is known when a code 0 takes it */
    uint64_t *addr = col + 5 * count, a = 0, taken = 0;
    for (uint64_t i = 0; i < naddrs; i++) {
        int64_t d;
        if (get_sv(c, &d)) goto bad;
        addr[i] = (uint64_t)d;
    }
    int siblings = !!(r->flags & SPROF_FLAG_STACK_SIBLINGS);
    struct sp_profile *p = r->p;
    for (uint64_t i = 0; i < count; i++) {
        uint64_t id, flags = col[count + i], n = col[2 * count + i], base = col[3 * count + i];
        uint64_t shared = 0;
        uint32_t braw = SP_NONE;
        if (next_stack_id(r, col[i], &id)) goto bad;
        if (base) {
            /* even: k ids back; odd: the id itself (stack_base takes id + 1) */
            uint64_t k = base / 2;
            if (base % 2 == 0 && k > id) goto bad;
            braw = stack_base(r, base % 2 ? k + 1 : id - k + 1);
            if (braw == SP_NONE || nbase[i] > p->raw[braw].nframes) goto bad;
            shared = p->raw[braw].nframes - nbase[i];
        }
        if (n > SPROF_MAX_DEPTH || shared > SPROF_MAX_DEPTH - n) goto bad;
        /* the frames are decoded even for a stack known already: later
         * codes name the addresses that its codes 0 took */
        uint64_t *f = stack_room(p, n + shared);
        for (uint64_t j = 0; j < n; j++) {
            uint64_t k;
            if (get_uv(c, &k) || k > taken || (k == 0 && taken == naddrs)) goto bad;
            if (k) {
                f[j] = addr[k - 1];
                continue;
            }
            /* where the stack leaves its base: from the base's frame there */
            if (siblings && braw != SP_NONE && nbase[i] && j == n - 1)
                a = p->frames[p->raw[braw].off + nbase[i] - 1];
            f[j] = addr[taken] = a += addr[taken];
            taken++;
        }
        r->stack_recs++;
        uint32_t known = stack_id_get(r, id);
        if (known != SP_NONE)
            stack_defined(r, known);
        else
            stack_commit(r, id, flags, n, braw, shared);
    }
    return 0;
bad:
    r->chunk_ids_lost = 1;
    return -1;
}

static int rec_samples(struct rd *r, struct sprof_cur *c)
{
    uint32_t tid;
    uint64_t t, count;
    if (sprof_get_u32(c, &tid) || sprof_get_uvarint(c, &t) || sprof_get_uvarint(c, &count))
        return -1;
    /* every sample takes at least three bytes */
    if (count > sprof_cur_left(c) / 3) return -1;
    uint64_t unit = 1; /* nanoseconds a dt */
    if ((r->flags & SPROF_FLAG_SAMPLE_TIME_UNITS) && (get_uv(c, &unit) || unit == 0)) return -1;
    struct sp_profile *p = r->p;
    uint32_t th = thread_get(p, r->proc, tid);
    if (!count) return 0; /* p->samples may still be NULL */
    GROW_BIG(p->samples, p->samples_cap, p->nsamples + count);
    struct sp_sample *s = p->samples + p->nsamples;
    uint64_t weight = 0, tmin = t, tmax = t, next = 0;
    int steps = !!(r->flags & SPROF_FLAG_SAMPLE_ID_STEPS);
    /* on failure nothing is committed: p->nsamples is unchanged */
    if (r->flags & SPROF_FLAG_SAMPLE_COLUMNS) {
        for (uint64_t i = 0; i < count; i++) {
            uint64_t dt;
            if (get_uv(c, &dt) || __builtin_mul_overflow(dt, unit, &dt)) return -1;
            s[i].time = t += dt;
        }
        tmax = t;
        for (uint64_t i = 0; i < count; i++) {
            if (get_uv(c, &s[i].weight_ns)) return -1;
            weight += s[i].weight_ns;
        }
        for (uint64_t i = 0; i < count; i++) {
            uint64_t id;
            if (get_uv(c, &id)) return -1;
            if (steps) id = sprof_sample_id_get(id, &next);
            s[i].stack = id < SP_NONE ? (uint32_t)id : SP_NONE; /* a file id until resolved */
            s[i].thread = th;
            s[i].sym = SP_NONE;
            s[i].proc = r->proc;
        }
    } else {
        for (uint64_t i = 0; i < count; i++) {
            uint64_t dt, w, id;
            if (get_uv(c, &dt) || get_uv(c, &w) || get_uv(c, &id) ||
                __builtin_mul_overflow(dt, unit, &dt))
                return -1;
            if (steps) id = sprof_sample_id_get(id, &next);
            t += dt;
            s[i].thread = th;
            s[i].stack = id < SP_NONE ? (uint32_t)id : SP_NONE;
            s[i].time = t;
            s[i].weight_ns = w;
            s[i].sym = SP_NONE;
            s[i].proc = r->proc;
            weight += w;
            if (t > tmax) tmax = t;
        }
    }
    p->nsamples += count;
    struct sp_thread *thr = &p->threads[th];
    thr->nsamples += count;
    thr->weight_ns += weight;
    struct sp_process *pr = rd_proc(r);
    pr->nsamples += count;
    pr->weight_ns += weight;
    if (count) {
        saw_time(pr, tmin);
        saw_time(pr, tmax);
    }
    return 0;
}

static int rec_counters(struct rd *r, struct sprof_cur *c)
{
    uint64_t t, n, ctr[SPROF_CTR_MAX_] = {0}, hist[SPROF_HIST_BUCKETS] = {0};
    if (sprof_get_uvarint(c, &t) || sprof_get_uvarint(c, &n) || n > sprof_cur_left(c) / 2)
        return -1;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t id, v;
        if (sprof_get_uvarint(c, &id) || sprof_get_uvarint(c, &v)) return -1;
        if (id < SPROF_CTR_MAX_) ctr[id] = v;
    }
    if (sprof_cur_left(c)) {
        uint64_t nb;
        if (sprof_get_uvarint(c, &nb) || nb > sprof_cur_left(c)) return -1;
        for (uint64_t i = 0; i < nb; i++) {
            uint64_t v;
            if (sprof_get_uvarint(c, &v)) return -1;
            hist[i < SPROF_HIST_BUCKETS ? i : SPROF_HIST_BUCKETS - 1] += v;
        }
    }
    struct sp_process *pr = rd_proc(r);
    if (pr->has_counters && t < pr->counters_time) return 0;
    pr->has_counters = 1;
    pr->counters_time = t;
    memcpy(pr->counters, ctr, sizeof(ctr));
    memcpy(pr->hist, hist, sizeof(hist));
    saw_time(pr, t);
    return 0;
}

static int rec_note(struct rd *r, struct sprof_cur *c)
{
    struct sp_note n;
    uint64_t level;
    if (sprof_get_uvarint(c, &n.time) || sprof_get_uvarint(c, &level) || get_text(r, c, &n.text))
        return -1;
    n.level = level > 2 ? 2 : (unsigned)level;
    struct sp_process *pr = rd_proc(r);
    GROW(pr->notes, pr->notes_cap, pr->nnotes + 1);
    pr->notes[pr->nnotes++] = n;
    return 0;
}

static int rec_end(struct rd *r, struct sprof_cur *c)
{
    uint64_t t, status;
    const char *reason;
    if (sprof_get_uvarint(c, &t) || get_text(r, c, &reason) || sprof_get_uvarint(c, &status))
        return -1;
    struct sp_process *pr = rd_proc(r);
    pr->has_end = 1;
    pr->end_time = t;
    pr->end_reason = reason;
    pr->end_status = status;
    saw_time(pr, t);
    return 0;
}

static int record(struct rd *r, unsigned type, struct sprof_cur *body)
{
    switch (type) {
    case SPROF_REC_PROCESS:
        return rec_process(r, body);
    case SPROF_REC_CONFIG:
        return rec_config(r, body);
    case SPROF_REC_THREAD:
        return rec_thread(r, body, 0);
    case SPROF_REC_THREAD_END:
        return rec_thread(r, body, 1);
    case SPROF_REC_MAP:
        return rec_map(r, body);
    case SPROF_REC_UNMAP:
        return rec_unmap(r, body);
    case SPROF_REC_STACK:
        return rec_stack(r, body);
    case SPROF_REC_STACKS:
        return r->flags & SPROF_FLAG_STACK_COLUMNS ? rec_stacks(r, body) : 0;
    case SPROF_REC_SAMPLES:
        return rec_samples(r, body);
    case SPROF_REC_COUNTERS:
        return rec_counters(r, body);
    case SPROF_REC_NOTE:
        return rec_note(r, body);
    case SPROF_REC_END:
        return rec_end(r, body);
    default:
        return 0; /* a newer record type: skipped */
    }
}

static int map_cmp(const void *a, const void *b)
{
    const struct sp_mapping *x = a, *y = b;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    if (x->t_map != y->t_map) return x->t_map < y->t_map ? -1 : 1;
    return 0;
}

static int u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Two mappings over the same addresses that symbolize them the same way. */
static int equivalent(const struct sp_mapping *a, const struct sp_mapping *b)
{
    return a->module == b->module && a->load_bias == b->load_bias &&
           a->start - a->offset == b->start - b->offset;
}

/* Sorts the process's mappings by address and finds ranges whose meaning
 * changes over time (dlclose, then something else mapped there): samples in
 * those are resolved per epoch. */
static void index_maps(struct sp_profile *p, struct sp_process *pr)
{
    size_t n = pr->nmaps;
    if (!n) return;
    struct sp_mapping *m = p->maps + pr->map_first;
    qsort(m, n, sizeof(*m), map_cmp);
    for (size_t i = 0; i < n; i++)
        m[i].reach = i && m[i - 1].reach > m[i].end ? m[i - 1].reach : m[i].end;
    /* A mapping is ambiguous when another one not equivalent to it covers
     * some of its addresses; the times of ambiguous mappings are the epoch
     * boundaries. In linear time, as a file may hold any number of mappings
     * of one range: looking forward, the first later mapping not equivalent
     * to m[i] (next[i]) is the one that starts first, so it tells whether
     * any overlaps; looking back, the highest end among earlier mappings not
     * equivalent to m[i] is top's end, or other's when top is equivalent. */
    uint8_t *amb = xcalloc(n, 1);
    size_t *next = xmalloc(n * sizeof(*next));
    next[n - 1] = n;
    for (size_t i = n - 1; i-- > 0;)
        next[i] = equivalent(&m[i], &m[i + 1]) ? next[i + 1] : i + 1;
    const struct sp_mapping *top = NULL; /* the earlier mapping with the highest end */
    uint64_t other = 0; /* the highest end of earlier mappings not equivalent to top */
    for (size_t i = 0; i < n; i++) {
        size_t j = next[i];
        if (j < n && m[j].start < m[i].end) amb[i] = amb[j] = 1;
        if (!top) {
            top = &m[i];
            continue;
        }
        int same = equivalent(top, &m[i]);
        if ((same ? other : top->end) > m[i].start) amb[i] = 1;
        if (m[i].end > top->end) {
            if (!same) other = top->end;
            top = &m[i];
        } else if (!same && m[i].end > other) {
            other = m[i].end;
        }
    }
    uint64_t *ep = NULL;
    size_t nep = 0, cap = 0;
    for (size_t i = 0; i < n; i++) {
        if (!amb[i]) continue;
        GROW(ep, cap, nep + 2);
        ep[nep++] = m[i].t_map;
        if (m[i].t_unmap != SP_TIME_MAX) ep[nep++] = m[i].t_unmap;
    }
    free(amb);
    free(next);
    if (!nep) return;
    qsort(ep, nep, sizeof(*ep), u64_cmp);
    size_t u = 0;
    for (size_t i = 0; i < nep; i++)
        if (!u || ep[u - 1] != ep[i]) ep[u++] = ep[i];
    pr->maps_ambiguous = 1;
    pr->epochs = ep;
    pr->nepochs = u;
}

const struct sp_mapping *sp_profile_find_map(const struct sp_profile *p, uint32_t proc,
                                             uint64_t addr, uint64_t t)
{
    const struct sp_process *pr = &p->procs[proc];
    if (!pr->nmaps) return NULL;
    const struct sp_mapping *m = p->maps + pr->map_first;
    size_t lo = 0, hi = pr->nmaps;
    while (lo < hi) { /* first mapping starting after addr */
        size_t mid = lo + (hi - lo) / 2;
        if (m[mid].start <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    const struct sp_mapping *best = NULL;
    uint64_t best_dist = UINT64_MAX;
    /* Look back over the mappings that start at or before addr while one of
     * them can still reach it. Overlaps exist only across time (one range
     * reused after an unmap), so the scan stays short. */
    for (size_t i = lo; i-- > 0 && m[i].reach > addr;) {
        const struct sp_mapping *c = &m[i];
        if (addr < c->end) {
            uint64_t d = 0;
            if (t < c->t_map)
                d = c->t_map - t;
            else if (t >= c->t_unmap)
                d = t - c->t_unmap + 1;
            if (!best || d < best_dist || (d == best_dist && c->t_map > best->t_map)) {
                best = c;
                best_dist = d;
            }
            if (!pr->maps_ambiguous) break;
        }
    }
    return best;
}

uint32_t sp_profile_epoch(const struct sp_profile *p, uint32_t proc, uint64_t t)
{
    const struct sp_process *pr = &p->procs[proc];
    size_t lo = 0, hi = pr->nepochs;
    while (lo < hi) { /* boundaries at or before t */
        size_t mid = lo + (hi - lo) / 2;
        if (pr->epochs[mid] <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (uint32_t)lo;
}

/* Points the file's samples at model stack indexes. */
static void resolve_samples(struct rd *r)
{
    struct sp_profile *p = r->p;
    struct sp_process *pr = rd_proc(r);
    for (size_t i = r->first_sample; i < p->nsamples; i++) {
        struct sp_sample *s = &p->samples[i];
        s->stack = s->stack == SP_NONE ? SP_NONE : stack_id_get(r, s->stack);
        if (s->stack == SP_NONE) pr->unknown_stack++;
    }
    if (pr->unknown_stack)
        sprof_warn("'%s': %llu samples refer to stacks missing from the file (lost with a "
                   "damaged chunk?), shown as [missing stack]",
                   pr->file, (unsigned long long)pr->unknown_stack);
}

/* ---- chunks checked and decompressed ahead, on a second thread ---- */

/* The checksum and decompression of chunks take about a third of the time
 * of reading a big file: on a file of more than a few chunks, a thread does
 * them (sprof_reader_next) one chunk ahead of the parser, into buffers that
 * go round: the reader decompresses into a free one, hands it over full,
 * and gets back an empty one. Only that thread uses the reader until it
 * has said the end; its warnings about damaged chunks come out in order,
 * before the parser's own warnings, which wait for the end. */
#define AHEAD_SLOTS 2
static size_t ahead_min_size = 1u << 20; /* smaller files are read in one thread */

struct ahead {
    struct sprof_reader *rdr;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct {
        struct sprof_buf buf;
        struct sprof_cur payload;
        int full, end;
    } slot[AHEAD_SLOTS];
};

static void *ahead_main(void *arg)
{
    struct ahead *a = arg;
    for (unsigned w = 0;; w = (w + 1) % AHEAD_SLOTS) {
        struct sprof_cur payload;
        int got = sprof_reader_next(a->rdr, &payload) == 1;
        pthread_mutex_lock(&a->mu);
        while (a->slot[w].full)
            pthread_cond_wait(&a->cv, &a->mu);
        if (got) { /* the payload's buffer for the slot's empty one */
            struct sprof_buf t = a->slot[w].buf;
            a->slot[w].buf = a->rdr->raw;
            a->rdr->raw = t;
            a->slot[w].payload = payload;
        }
        a->slot[w].end = !got;
        a->slot[w].full = 1;
        pthread_cond_broadcast(&a->cv);
        pthread_mutex_unlock(&a->mu);
        if (!got) return NULL;
    }
}

/* Starts the thread; returns 0, or -1 when it could not (read in one). */
static int ahead_start(struct ahead *a, struct sprof_reader *rdr)
{
    memset(a, 0, sizeof(*a));
    a->rdr = rdr;
    if (pthread_mutex_init(&a->mu, NULL)) return -1;
    if (pthread_cond_init(&a->cv, NULL)) {
        pthread_mutex_destroy(&a->mu);
        return -1;
    }
    if (pthread_create(&a->thread, NULL, ahead_main, a)) {
        pthread_cond_destroy(&a->cv);
        pthread_mutex_destroy(&a->mu);
        return -1;
    }
    return 0;
}

/* The next chunk's records in slot *k (released with ahead_done), or 0 at
 * the end, when the thread has been joined and everything freed. */
static int ahead_next(struct ahead *a, unsigned *k, struct sprof_cur *payload)
{
    pthread_mutex_lock(&a->mu);
    while (!a->slot[*k].full)
        pthread_cond_wait(&a->cv, &a->mu);
    int end = a->slot[*k].end;
    *payload = a->slot[*k].payload;
    pthread_mutex_unlock(&a->mu);
    if (!end) return 1;
    pthread_join(a->thread, NULL);
    for (unsigned i = 0; i < AHEAD_SLOTS; i++)
        sprof_buf_release(&a->slot[i].buf);
    pthread_cond_destroy(&a->cv);
    pthread_mutex_destroy(&a->mu);
    return 0;
}

static void ahead_done(struct ahead *a, unsigned *k)
{
    pthread_mutex_lock(&a->mu);
    a->slot[*k].full = 0;
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
    *k = (*k + 1) % AHEAD_SLOTS;
}

/* sprof_get_record with get_uv. */
static inline int get_record(struct sprof_cur *c, unsigned *type, struct sprof_cur *body)
{
    uint64_t t, n;
    if (get_uv(c, &t) || t > UINT32_MAX || get_uv(c, &n) || n > sprof_cur_left(c)) return -1;
    *type = (unsigned)t;
    sprof_cur_init(body, c->p, (size_t)n);
    c->p += n;
    return 0;
}

/* Parses the records of one chunk. */
static void parse_chunk(struct rd *r, struct sprof_cur *chunk)
{
    r->chunk++;
    r->chunk_stacks = r->chunk_last_id = 0;
    r->chunk_ids_lost = 0;
    while (sprof_cur_left(chunk)) {
        unsigned type;
        struct sprof_cur body;
        if (get_record(chunk, &type, &body)) {
            rd_proc(r)->bad_records++;
            break;
        }
        if (type != SPROF_REC_STACK && type != SPROF_REC_STACKS) settle_stacks(r);
        if (record(r, type, &body)) rd_proc(r)->bad_records++;
    }
    settle_stacks(r);
}

static void rd_release(struct rd *r)
{
    free(r->ids);
    free(r->raw_chunk);
    u64map_release(&r->stack_ids);
    free(r->same);
    free(r->pend);
    free(r->cols);
    u64map_release(&r->live_maps);
}

/* Reads the file rdr has open into p and closes rdr; as sp_profile_read. */
static int read_opened(struct sp_profile *p, struct sprof_reader *rdr, const char *path, char *err,
                       size_t errlen)
{
    GROW(p->procs, p->procs_cap, p->nprocs + 1);
    struct sp_process *pr = &p->procs[p->nprocs];
    memset(pr, 0, sizeof(*pr));
    pr->file = strtab_intern(&p->strs, path);
    pr->file_size = rdr->size;
    pr->session = rdr->hdr.session;
    pr->header_pid = rdr->hdr.pid;
    pr->pid = rdr->hdr.pid;
    pr->comm = "";
    pr->map_first = (uint32_t)p->nmaps;
    if (p->nprocs && pr->session != p->procs[0].session && !p->warned_session) {
        sprof_warn("'%s' and '%s' are from different profiling sessions, merged anyway",
                   p->procs[0].file, pr->file);
        p->warned_session = 1;
    }

    struct rd r;
    memset(&r, 0, sizeof(r));
    r.p = p;
    r.proc = (uint32_t)p->nprocs;
    r.first_sample = p->nsamples;
    r.flags = rdr->hdr.flags;
    r.raw0 = r.pend0 = p->nraw;
    p->nprocs++;

    struct sprof_cur chunk;
    struct ahead ah;
    if (rdr->size >= ahead_min_size && ahead_start(&ah, rdr) == 0) {
        unsigned k = 0;
        while (ahead_next(&ah, &k, &chunk)) {
            parse_chunk(&r, &chunk);
            ahead_done(&ah, &k);
            /* the first stacks tell which modules the samples are in */
            if (p->prefetch && rd_proc(&r)->nstacks) sp_symbolize_prefetch(p, r.proc);
        }
    } else {
        while (sprof_reader_next(rdr, &chunk) == 1)
            parse_chunk(&r, &chunk);
    }
    pr = rd_proc(&r);
    pr->chunks_ok = rdr->chunks_ok;
    pr->chunks_bad = rdr->chunks_bad;
    pr->bytes_skipped = rdr->bytes_skipped;
    pr->truncated = rdr->truncated;
    sprof_reader_close(rdr);

    if (!pr->chunks_ok) {
        if (pr->chunks_bad || pr->truncated)
            snprintf(err, errlen, "'%s': no intact data in the file", path);
        else
            snprintf(err, errlen, "'%s': no data in the file (header only)", path);
        rd_release(&r);
        return -1;
    }
    if (pr->bad_records)
        sprof_warn("'%s': skipped %llu malformed records", path,
                   (unsigned long long)pr->bad_records);
    if (!pr->has_process) sprof_warn("'%s': no process record (lost with a damaged chunk?)", path);
    resolve_samples(&r);
    index_maps(p, pr);
    rd_release(&r);
    return 0;
}

int sp_profile_read(struct sp_profile *p, const char *path, char *err, size_t errlen)
{
    struct sprof_reader rdr;
    if (sprof_reader_open(&rdr, path)) {
        snprintf(err, errlen, "%s", rdr.err);
        sprof_reader_close(&rdr);
        return -1;
    }
    return read_opened(p, &rdr, path, err, errlen);
}

int sp_profile_read_mem(struct sp_profile *p, const char *name, const void *data, size_t size,
                        char *err, size_t errlen)
{
    struct sprof_reader rdr;
    if (sprof_reader_open_mem(&rdr, name, data, size)) {
        snprintf(err, errlen, "%s", rdr.err);
        sprof_reader_close(&rdr);
        return -1;
    }
    return read_opened(p, &rdr, name, err, errlen);
}

void sp_profile_totals(const struct sp_profile *p, struct sp_totals *t)
{
    memset(t, 0, sizeof(*t));
    uint8_t *seen_t = xcalloc(p->nthreads ? p->nthreads : 1, 1);
    uint8_t *seen_p = xcalloc(p->nprocs ? p->nprocs : 1, 1);
    uint32_t last = SP_NONE;
    for (size_t i = 0; i < p->nsamples; i++) {
        const struct sp_sample *s = &p->samples[i];
        t->samples++;
        t->weight_ns += s->weight_ns;
        if (s->thread == last) continue;
        last = s->thread;
        if (!seen_t[s->thread]) {
            seen_t[s->thread] = 1;
            t->nthreads++;
        }
        if (!seen_p[s->proc]) {
            seen_p[s->proc] = 1;
            t->nprocs++;
        }
    }
    free(seen_t);
    free(seen_p);
}

const char *sp_thread_name(const struct sp_thread *t)
{
    return t->name[0] ? t->name : "thread";
}
