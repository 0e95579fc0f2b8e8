/* SPDX-License-Identifier: MIT */
/*
 * Unwind tables for the DWARF unwinder: the call frame information (.eh_frame)
 * of every loaded object, evaluated ahead of time into sorted rows that the
 * signal handler can binary-search without allocating, locking or calling
 * the loader.
 *
 * Who runs where:
 *   cfi.c      builds the tables and publishes them: writer thread (and the
 *              constructor, dlclose and fork paths, under the writer's lock)
 *   unwind.c   reads them from the signal handler (sprof_cfi_enter ...
 *              sprof_cfi_leave around every use)
 *
 * Data layout. A set lists the loaded objects sorted by address. Each object
 * gets a table lazily: a handler that meets an object without one counts the
 * sample in its wanted count and reads the rule it needs from the object's
 * .eh_frame in place (sprof_cfi_rule_at); once the count reaches the
 * object's want_after (about what building the table costs, in such
 * lookups: cfi.c), the handler wakes the writer, which builds the table on
 * its next step and publishes it in the same set. libunwind walks only what
 * neither can (no .eh_frame_hdr, rules the walk does not follow, code
 * outside every object).
 * A table is the object's rows sorted by pc: each row gives the rule that
 * holds from its pc up to the next row's; rows with the same rule in a row
 * are merged, and a CFI_NONE row closes every covered range (gaps between
 * FDEs, past the last one). Before packing (struct cfi_row) a row is
 *
 *   pc    u32   offset from the object's load bias
 *   rule  u32   bits 0-2   kind (enum cfi_kind)
 *               bits 3-4   where the caller's rbp is (enum cfi_rbp)
 *               bits 5-21  CFA offset / 8, signed
 *               bits 22-31 rbp offset / 8, signed (CFI_PLT: the threshold)
 *
 * and packed in the table (struct cfi_packed, cfitable.c) it is 4 bytes:
 * its pc as u16 from the start of its granule (the table's code is cut in
 * granules of 2^shift bytes, at most 64 KiB, each with the index of its
 * first row), its rule in 15 bits where it fits (98.8% of cc1's rows), else
 * as an index into the table's rules (an object has a few hundred distinct
 * rules: cc1 651 in 478,579 rows). Half the bytes of 8-byte rows: cc1's
 * table is 2 MiB, which a compiler's samples at 10 kHz read nearly all of.
 * The return address is always at CFA - 8 (other rules are CFI_UNSUP), and
 * the caller's rsp is the CFA.
 *
 * Cache: a table depends only on its object's bytes, so the writer keeps it
 * in SPROF_CACHE_DIR/<build-id>.cfi, and a process that loads the same
 * object maps the file instead of building the table (the same compiler run
 * twenty times by a build builds its table once). A descendant without its
 * writer thread maps it at a safe point of a handler (sprof_cfi_late_step).
 * See cfi.c.
 *
 * Memory: tables live until their object is unloaded; all of them together
 * are kept under CFI_MAX_BYTES, and an object whose table would not fit
 * (CFI_FAILED) is unwound by lookups in place.
 *
 * Reclamation: a set (with the tables only it holds) that was replaced
 * because objects came or went is freed only when no handler can still be
 * reading it. Handlers count themselves in one of two reader counters, the
 * one the epoch's parity names, around their use of the set; to retire sets
 * the writer flips the epoch and frees them once the old parity's counter
 * has been seen at zero (it never waits for that: it looks again on its next
 * step). A handler never waits for anything.
 */
#ifndef SPROF_CFI_H
#define SPROF_CFI_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Total bytes of unwind tables, all objects together. */
#define CFI_MAX_BYTES (6u << 20)

/* Functions an object may have without call frame information that the
 * walker knows by their code (struct cfi_obj's crt), and the bytes of one
 * that are read (crtcode.c) */
#define CFI_CRT_FUNCS 4
#define CRT_ARRAYS 2
#define CRT_CODE_MAX 128u

enum cfi_kind {
    CFI_NONE = 0,  /* no FDE covers this address */
    CFI_UNSUP = 1, /* a rule the table walk does not follow: libunwind does */
    CFI_OUTER = 2, /* the outermost frame: the return address is undefined */
    CFI_RSP = 3,   /* CFA = rsp + off */
    CFI_RBP = 4,   /* CFA = rbp + off */
    CFI_DEREF = 5, /* CFA = *(rbp + off): a function that realigned its stack */
    CFI_PLT = 6,   /* CFA = rsp + off + ((pc & 15) >= threshold ? 8 : 0): .plt */
};

enum cfi_rbp {
    CFI_RBP_SAME = 0,   /* the caller's rbp is this frame's */
    CFI_RBP_AT_CFA = 1, /* saved at CFA + rbp offset */
    CFI_RBP_AT_RBP = 2, /* saved at rbp + rbp offset (with CFI_DEREF) */
};

static inline unsigned cfi_kind(uint32_t rule)
{
    return rule & 7u;
}
static inline unsigned cfi_rbp(uint32_t rule)
{
    return (rule >> 3) & 3u;
}
static inline int64_t cfi_cfa_off(uint32_t rule)
{
    return (int64_t)((int32_t)(rule << 10) >> 15) * 8;
}
static inline int64_t cfi_rbp_off(uint32_t rule)
{
    return (int64_t)((int32_t)rule >> 22) * 8;
}
static inline unsigned cfi_plt_threshold(uint32_t rule)
{
    return rule >> 22;
}

/* A row before packing (see above): what the builder and the tests make. */
struct cfi_row {
    uint32_t pc;
    uint32_t rule;
};

/* A row in a table: pc - its granule's start, and its rule: the rule
 * itself when it fits 15 bits (CFI_INLINE set: what most rows have, CFA =
 * rsp or rbp + 0 to 504, the caller's rbp at -64 to +56 from it), else the
 * index of the rule in the table's dictionary. */
struct cfi_packed {
    uint16_t dpc;
    uint16_t rule;
};

/* An object's rows, packed; nrows, ngran and nrules >= 1. Immutable once
 * published. Granule g covers the code from base + (g << shift) for 2^shift
 * bytes; its rows are those whose pc is in it, each with its pc's offset
 * from the granule's start. After the rows: start[ngran + 1], the index of
 * each granule's first row (start[ngran] nrows); rules[nrules]. The shift is
 * the least (from CFI_MIN_SHIFT) that makes granules hold CFI_GRAN_ROWS rows
 * on average: an index of about a sixteenth of the rows' bytes (cc1's
 * 478,579 rows over 20 MiB of code: granules of 1 KiB, 79 KiB of index).
 * A lookup reads its granule's entry in the index and searches the few rows
 * after it, which nearly always hold their rule: two or three cache lines,
 * all cold in a compiler between two samples, where a binary search of a
 * block index and then of a block of 512 rows, and the rule from the
 * dictionary, read a dozen (BENCHMARKS.md, session 49). */
#define CFI_MIN_SHIFT 6u
#define CFI_MAX_SHIFT 16u
#define CFI_GRAN_ROWS 16u
#define CFI_MAX_RULES 32768u
#define CFI_INLINE 0x8000u

/* A rule that a row holds itself (CFI_INLINE set: bits 0-4 its kind and
 * rbp's place, 5-10 the CFA offset / 8 unsigned, 11-14 the rbp offset / 8
 * signed), whole. */
static inline uint32_t cfi_rule_from_inline(uint32_t c)
{
    return (c & 31u) | ((c >> 5) & 63u) << 5 | (((((c >> 11) & 15u) ^ 8u) - 8u) & 1023u) << 22;
}

/* rule as a row holds it, when it fits; else 0. */
static inline uint16_t cfi_rule_inline(uint32_t rule)
{
    uint32_t c = CFI_INLINE | (rule & 31u) | ((rule >> 5) & 63u) << 5 | ((rule >> 22) & 15u) << 11;
    return cfi_rule_from_inline(c) == rule ? (uint16_t)c : 0;
}

/* Lookups in place in an object (a few samples' worth) after which the
 * writer maps its table from the cache, if there is one (cfi.c) */
#define CFI_CACHE_WANT 16u

struct cfi_table {
    uint32_t nrows;
    uint32_t ngran;
    uint32_t nrules;
    uint32_t base;  /* the first granule's pc, a multiple of 2^shift */
    uint32_t shift; /* CFI_MIN_SHIFT to CFI_MAX_SHIFT */
    struct cfi_packed row[];
    /* uint32_t start[ngran + 1], rules[nrules]; */
};

static inline size_t cfi_table_bytes(uint32_t nrows, uint32_t ngran, uint32_t nrules)
{
    return sizeof(struct cfi_table) + (size_t)nrows * sizeof(struct cfi_packed) +
           ((size_t)ngran + 1 + nrules) * sizeof(uint32_t);
}

static inline const uint32_t *cfi_starts(const struct cfi_table *t)
{
    return (const uint32_t *)(const void *)&t->row[t->nrows];
}

/* The rule that holds at off: that of t's last row at or before it
 * (CFI_NONE before the first). Reads only within the counts of t's header,
 * whatever the rest holds (a damaged cache file gives wrong rules, never a
 * read out of bounds); the shift is checked where a table is taken in. */
static inline uint32_t sprof_cfi_table_rule(const struct cfi_table *t, uint32_t off)
{
    const uint32_t *start = cfi_starts(t), *rules = start + t->ngran + 1;
    if (off < t->base) return CFI_NONE;
    uint32_t g = (off - t->base) >> t->shift, d;
    uint32_t lo, hi;
    if (g >= t->ngran) { /* past the last granule: the last row's */
        lo = hi = t->nrows;
        d = 0;
    } else {
        lo = start[g];
        hi = start[g + 1];
        d = (off - t->base) & ((1u << t->shift) - 1);
        if (hi > t->nrows) hi = t->nrows;
        if (lo > hi) lo = hi;
    }
    while (lo < hi) { /* the granule's rows at or before d end at lo */
        uint32_t mid = lo + (hi - lo) / 2;
        if (t->row[mid].dpc <= d)
            lo = mid + 1;
        else
            hi = mid;
    }
    /* none in the granule: the row before it (rows are sorted) */
    if (!lo) return CFI_NONE; /* before the first row */
    uint32_t r = t->row[lo - 1].rule;
    if (r & CFI_INLINE) return cfi_rule_from_inline(r);
    return r < t->nrules ? rules[r] : CFI_NONE;
}

/* Packs n rows (pcs strictly increasing) into a table (malloc'd): NULL when
 * out of memory or over CFI_MAX_RULES distinct rules. cfitable.c. */
struct cfi_table *sprof_cfi_pack(const struct cfi_row *rows, uint32_t n);

enum cfi_state {
    CFI_PENDING = 0, /* no table yet; built when a handler wants it */
    CFI_READY = 1,   /* table set */
    CFI_FAILED = 2,  /* no table will be built: lookups in place (or libunwind) */
};

struct cfi_obj {
    uintptr_t lo, hi;                        /* its executable segments: [lo, hi) */
    int one_text;                            /* one executable segment: [lo, hi) mapped */
    int loader;                              /* the dynamic loader (AT_BASE) */
    uintptr_t bias;                          /* load bias: row pcs are offsets from it */
    _Atomic(const struct cfi_table *) table; /* NULL until built */
    _Atomic int state;                       /* enum cfi_state */
    _Atomic int wanted;                      /* samples that needed the table */
    uint32_t want_after;                     /* ... before the writer builds it */
    int cached;                              /* its table may be in the cache */
    _Atomic int cache_asked;                 /* a handler woke the writer for it */
    /* for sprof_cfi_rule_at: the .eh_frame_hdr's sorted table of
     * (initial location, FDE) pairs (ix_count of them; ix 0 when it is not
     * one the lookup reads), and the bounds of .eh_frame's segment, read
     * at the object's first lookup in place (cfi.c, index_of), not when the
     * set is made: most objects of a process are never sampled, and the
     * header is a page of its own that nothing else reads (a page fault) */
    _Atomic int ix_state; /* 0 not read yet, 1 being stored, 2 read: these hold */
    uintptr_t ix, ehf_lo, ehf_hi;
    uint32_t ix_count;
    const void *phdr;  /* the loader's program headers of the object (ElfW(Phdr)) */
    unsigned phnum;    /* ... and their count */
    uintptr_t hdr_end; /* the end of .eh_frame_hdr's segment */
    /* functions without call frame information that unwind.c knows by
     * their instructions (crtcode.c), 0 for none: DT_INIT and DT_FINI
     * (crti.o's _init and _fini), the first entries of DT_INIT_ARRAY and
     * DT_FINI_ARRAY (crtbegin's frame_dummy and __do_global_dtors_aux,
     * CRT_ARRAYS on: what they call or jump to, the tm_clones functions
     * just before them, is found when a lookup falls there) */
    uintptr_t crt[CFI_CRT_FUNCS];
    /* the writer's own */
    uintptr_t eh_frame_hdr; /* runtime address of .eh_frame_hdr, 0 if none */
    uint64_t name_hash;     /* of its name: with lo, hi, bias, the same object in the next set */
    int owns_table;       /* the table is freed with this set (not handed on) */
    void *map;            /* the table is in this mapping of a cache file... */
    size_t map_size;      /* ... of this size (else it was malloc'd) */
    uint8_t build_id[64]; /* the object's GNU build-id: its cache file's name */
    unsigned build_id_len;
    int cache_tried; /* the cache was looked in for its table */
    uint32_t price;  /* lookups in place a table is worth, in all (want_after) */
    int paid;        /* other processes' lookups in place paid for it: build now */
};

struct cfi_set {
    size_t nobj;
    uint64_t gen;         /* this set's number: rules cached under it (unwind.c) */
    struct cfi_obj obj[]; /* sorted by lo, not overlapping */
};

/* The object of s whose executable segments' span holds pc, or NULL. */
static inline const struct cfi_obj *cfi_obj_at(const struct cfi_set *s, uintptr_t pc)
{
    size_t lo = 0, hi = s->nobj;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->obj[mid].lo <= pc)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0 || pc >= s->obj[lo - 1].hi) return NULL;
    return &s->obj[lo - 1];
}

/* Handler side (unwind.c). */
extern _Atomic(const struct cfi_set *) sprof_cfi_current __attribute__((visibility("hidden")));
extern _Atomic unsigned sprof_cfi_epoch __attribute__((visibility("hidden")));
extern _Atomic unsigned long sprof_cfi_readers[2] __attribute__((visibility("hidden")));
/* Set by a handler that met code outside every object of the set (a library
 * loaded since, or code the loader does not know); cleared by
 * sprof_cfi_update. The handler wakes the writer when it sets it. */
extern _Atomic int sprof_cfi_unknown __attribute__((visibility("hidden")));

/* Starts a read of the current set: returns it, to be used until
 * sprof_cfi_leave(*slot), or NULL (none yet, or the epoch kept turning).
 * The reader registers in the slot of the epoch's parity, and again if the
 * parity changed before it was counted: the writer frees a set only after
 * a turn of the epoch and the old slot's count seen at zero, and a reader
 * that registered after that turn loads a newer set. Async-signal-safe,
 * never waits. */
static inline const struct cfi_set *sprof_cfi_enter(unsigned *slot)
{
    for (int tries = 0; tries < 3; tries++) {
        unsigned s = atomic_load(&sprof_cfi_epoch) & 1u;
        atomic_fetch_add(&sprof_cfi_readers[s], 1);
        if ((atomic_load(&sprof_cfi_epoch) & 1u) == s) {
            *slot = s;
            return atomic_load(&sprof_cfi_current);
        }
        atomic_fetch_sub(&sprof_cfi_readers[s], 1);
    }
    *slot = ~0u;
    return NULL;
}

static inline void sprof_cfi_leave(unsigned slot)
{
    if (slot != ~0u) atomic_fetch_sub(&sprof_cfi_readers[slot], 1);
}

/* The rule at pc look of o, which has no table yet (or never will), read
 * from the object's own .eh_frame: its .eh_frame_hdr is binary-searched for
 * the FDE, whose CIE and program are run up to look. No allocation, no lock,
 * no loader call: async-signal-safe, about a microsecond. Returns 0, or -1
 * when it cannot tell (no usable index, bad data, an object being unloaded
 * by dlclose right now): libunwind must. */
int sprof_cfi_rule_at(const struct cfi_obj *o, uintptr_t look, uint32_t *rule)
    __attribute__((visibility("hidden")));

/* A frame's rules in full, for the walk that also follows rbx (unwind.c):
 * CFA = cfa_reg (DWARF numbering: 7 rsp, 6 rbp, 3 rbx) + cfa_off, the
 * return address at CFA - 8, rbp and rbx either unchanged or saved at CFA +
 * their offset. The dynamic loader's lazy-binding trampoline keeps its CFA
 * in rbx, which the rules of the table have no room for. */
struct cfi_frame {
    int outer; /* the outermost frame */
    int cfa_reg;
    int64_t cfa_off;
    int rbp_saved, rbx_saved;
    int64_t rbp_off, rbx_off;
    /* 0: the return address is at CFA - 8; else it is in the register of
     * DWARF number ra_reg - 1, which only the interrupted frame knows */
    int ra_reg;
};

/* As sprof_cfi_rule_at, for any object with an index (whether it has a
 * table or not). Returns 0, 1 when no FDE covers look, or -1 for what this
 * does not follow. */
int sprof_cfi_frame_at(const struct cfi_obj *o, uintptr_t look, struct cfi_frame *f)
    __attribute__((visibility("hidden")));

/* Functions without call frame information that every GCC-built object
 * has (crti's _init and _fini, crtbegin's four): the walker knows them by
 * their code (crtcode.c). crt_rule gives the rule at code + at of the
 * function at code (the interrupted instruction if exact, else a return
 * address less one), CFI_NONE when its decoder cannot tell; targets gives
 * the direct calls and jumps of one (crtbegin's lead to the tm_clones
 * functions). Both read at most CRT_CODE_MAX bytes; crt_rule is
 * async-signal-safe. */
uint32_t sprof_crt_code_rule(const uint8_t *code, size_t n, size_t at, int exact)
    __attribute__((visibility("hidden")));
size_t sprof_crt_code_targets(const uint8_t *code, size_t n, uintptr_t base, uintptr_t *out,
                              size_t max) __attribute__((visibility("hidden")));

/* Copies n bytes of o's code at addr to buf, for the walker's checks of
 * code without call frame information: only inside an object with one
 * executable segment (all of it mapped), and, as a lookup in place, not
 * while a dlclose may be unmapping objects. Returns 0, or -1.
 * Async-signal-safe. */
int sprof_cfi_copy_code(const struct cfi_obj *o, uintptr_t addr, void *buf, size_t n)
    __attribute__((visibility("hidden")));

/* Around dlclose (interpose.c): no handler reads an object's .eh_frame in
 * place from the moment begin returns until end is called, after the set
 * without the object is published. begin waits (briefly) for the handlers
 * already reading. */
void sprof_cfi_unload_begin(void) __attribute__((visibility("hidden")));
void sprof_cfi_unload_end(void) __attribute__((visibility("hidden")));

/* Writer side (cfi.c). Each runs under the writer's lock: one at a time. */

/* Reads the loader's list of objects and publishes a set of them, handing
 * on the tables already built for objects still loaded at the same place;
 * the old set is retired. Never calls malloc while it holds the loader's
 * lock (a handler's libunwind fallback may wait for that lock while its
 * thread holds the allocator's). */
void sprof_cfi_update(void) __attribute__((visibility("hidden")));

/* Builds the tables handlers asked for and frees retired sets that no
 * handler can still be reading. Cheap when there is nothing to do. */
void sprof_cfi_step(void) __attribute__((visibility("hidden")));

/* A table of the cache was asked for (unwind.c): for sprof_cfi_late_step. */
extern _Atomic int sprof_cfi_cache_wanted __attribute__((visibility("hidden")));

/* At a safe point of a descendant without its writer thread (handler.c):
 * maps the tables asked for from the cache, as sprof_cfi_step would.
 * System calls and no allocation, in a process of one thread interrupted
 * outside sprof: the writer's state is this thread's. Returns 1 when a
 * table is wanted that only the writer can build (its price paid, counted
 * across processes): the writer is then due. */
int sprof_cfi_late_step(void) __attribute__((visibility("hidden")));
/* Before the first walks of a descendant without its writer thread, at its
 * interrupted pc (handler.c), in the same conditions: maps the table of the
 * object pc is in from the cache now, when that object is a big one (a
 * compiler's cc1) not tried yet. Returns the thread's CPU time that took
 * (nanoseconds, at least 1), or 0 when it tried nothing. */
uint64_t sprof_cfi_early(uintptr_t pc) __attribute__((visibility("hidden")));

/* At the end of the process (exit, exec, a signal): adds its lookups in
 * place of each cacheable object that has no table yet to the count the
 * cache keeps for it (cfi.c, "lookups in place, counted across
 * processes"). */
void sprof_cfi_at_end(void) __attribute__((visibility("hidden")));

/* In the child of fork: reader counts of the parent's other threads, which
 * do not exist here, are dropped. */
void sprof_cfi_after_fork_child(void) __attribute__((visibility("hidden")));

/* Tables built, and mapped from the cache (early: of those, by
 * sprof_cfi_early), since the process started. */
void sprof_cfi_tables(uint64_t *built, uint64_t *cached, uint64_t *early)
    __attribute__((visibility("hidden")));

/* Bytes of tables now held (for tests and notes). */
size_t sprof_cfi_bytes(void) __attribute__((visibility("hidden")));

#endif
