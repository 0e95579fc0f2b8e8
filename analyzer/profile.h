/* SPDX-License-Identifier: MIT */
/*
 * The analyzer's one in-memory model of a profile (ARCHITECTURE invariant 6).
 *
 * sp_profile_read() adds one file to the model; several files merge (a
 * parent and its children). Each file describes one process image: its
 * process and config records, threads, mappings over time, raw stacks (ids
 * are per file; the model renumbers them) and samples. sp_symbolize()
 * (symbolize.h) then adds the symbolic side: an interned function table,
 * frames (function + source line) and deduplicated symbolic stacks, and
 * points every sample at its symbolic stack.
 *
 * Every report is a view of this model: it walks p->samples (after filters,
 * which will drop samples from that array before aggregation) and follows
 * sample.sym -> stack -> frames -> functions.
 *
 * Nothing read from a file is trusted: counts are checked against the bytes
 * that remain before anything is allocated, samples that name an unknown
 * stack are counted and reported once per file, malformed records are
 * skipped and counted.
 */
#ifndef SPROF_PROFILE_H
#define SPROF_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "format.h"
#include "util.h"

#define SP_NONE UINT32_MAX
#define SP_TIME_MAX UINT64_MAX

struct sp_note {
    uint64_t time;
    unsigned level; /* 0 info, 1 warning, 2 error */
    const char *text;
};

struct sp_config {
    const char *event;
    uint64_t freq_hz, period_ns;
    uint32_t signal;
    const char *backend, *unwinder;
    uint64_t max_depth;
};

/* One file, one process image. Strings are interned in the profile. */
struct sp_process {
    const char *file; /* the profile file it came from */
    uint64_t file_size;
    uint64_t session; /* from the file header */
    uint32_t header_pid;

    int has_process;
    uint32_t pid, ppid;
    uint64_t start_realtime_ns, start_mono_ns;
    const char *exe;
    const char **argv;
    uint32_t argc;
    const char *comm; /* short name: basename of exe or argv[0] */

    int has_config;
    struct sp_config config;

    int has_end;
    uint64_t end_time;
    const char *end_reason;
    uint64_t end_status;

    int has_counters;
    uint64_t counters_time;
    uint64_t counters[SPROF_CTR_MAX_];
    uint64_t hist[SPROF_HIST_BUCKETS];

    struct sp_note *notes;
    size_t nnotes, notes_cap;

    /* what reading found */
    uint64_t chunks_ok, chunks_bad, bytes_skipped;
    int truncated;
    uint64_t bad_records;           /* malformed records skipped */
    uint64_t unknown_stack;         /* samples naming a stack id never defined */
    uint64_t nstacks;               /* STACK records */
    uint64_t nsamples;              /* samples read */
    uint64_t weight_ns;             /* their summed weight */
    uint64_t first_time, last_time; /* of samples and records with times */

    /* mappings of this process, indexes into p->maps, sorted by start after
     * reading (see sp_profile_read) */
    uint32_t map_first, nmaps;
    int maps_ambiguous; /* address ranges reused by different files over time */
    uint64_t *epochs;   /* sorted times at which ambiguous mappings change */
    size_t nepochs;
};

struct sp_thread {
    uint32_t proc;
    uint32_t tid;
    const char *name;    /* "" when never named */
    uint64_t start, end; /* 0 / SP_TIME_MAX when unknown */
    uint64_t cpu_ns;     /* CPU time it used in all, from THREAD_END; 0 unknown */
    uint64_t nsamples, weight_ns;
};

struct sp_mapping {
    uint32_t proc;
    uint64_t start, end, offset;
    unsigned prot;
    uint64_t load_bias;
    uint64_t t_map, t_unmap; /* SP_TIME_MAX while still mapped */
    uint32_t module;         /* index into p->modules, SP_NONE for [anon] etc. */
    const char *path;
    uint64_t reach; /* the highest end of this and the process's mappings before it */
};

enum sp_module_kind { SP_MOD_FILE, SP_MOD_VDSO, SP_MOD_OTHER };

/* A distinct (path, build-id): what the symbolizer opens once. */
struct sp_module {
    const char *path;
    const char *name; /* basename for display */
    enum sp_module_kind kind;
    uint8_t build_id[64];
    size_t build_id_len;
    uint64_t nsamples; /* samples whose leaf frame is in it */
};

struct sp_rawstack {
    uint64_t off; /* into p->frames */
    uint32_t proc;
    uint32_t nframes;
    uint32_t flags; /* SPROF_STACK_* */
    uint32_t sym;   /* symbolic stack for epoch 0, SP_NONE before symbolizing */
};

struct sp_sample {
    uint32_t thread; /* index into p->threads */
    uint32_t stack;  /* raw stack index; SP_NONE for an unknown stack id */
    uint64_t time;
    uint64_t weight_ns;
    uint32_t sym; /* symbolic stack, set by sp_symbolize (SP_NONE before) */
    uint32_t proc;
};

/* ---- symbolic side, filled by sp_symbolize ---- */

struct sp_func {
    const char *name;   /* demangled; "module+0x..." or "[unknown]" if no symbol */
    const char *module; /* module basename, "" when unknown */
    const char *file;   /* declaration file (full path as in DWARF), "" if unknown */
    uint32_t line;      /* declaration line, 0 if unknown */
};

/* One frame: a function at a source line (inline frames are frames). */
struct sp_frame {
    uint32_t func;
    const char *file; /* "" when unknown */
    uint32_t line;
    uint32_t inlined; /* 1: an inlined call (DW_TAG_inlined_subroutine) inside the
                         frame before it in a stack, not a real call */
};

struct sp_stack {
    uint32_t off, n; /* frame ids in p->stack_frames[off..off+n), root first */
    uint32_t flags;  /* SPROF_STACK_* of the raw stack it came from */
};

struct sp_profile {
    struct strtab strs;
    struct arena arena;

    struct sp_process *procs;
    size_t nprocs, procs_cap;
    struct sp_thread *threads;
    size_t nthreads, threads_cap;
    struct sp_mapping *maps;
    size_t nmaps, maps_cap;
    struct sp_module *modules;
    size_t nmodules, modules_cap;
    struct sp_rawstack *raw;
    size_t nraw, raw_cap;
    uint64_t *frames;
    size_t nframes, frames_cap;
    struct sp_sample *samples;
    size_t nsamples, samples_cap;

    struct u64map thread_ix; /* (proc, tid) -> thread index */
    struct idset module_ix;

    /* symbolic side */
    struct sp_func *funcs;
    size_t nfuncs, funcs_cap;
    struct sp_frame *sframes;
    size_t nsframes, sframes_cap;
    struct sp_stack *stacks;
    size_t nstacks, stacks_cap;
    uint32_t *stack_frames;
    size_t nstack_frames, stack_frames_cap;
    int symbolized;
    struct sp_symbolizer *sym; /* kept for per-module queries (info) */

    int warned_session;
    int prefetch; /* set before reading: reports will be symbolized, so
                     debug info may load while big files are read */
};

struct sp_profile *sp_profile_new(void);
void sp_profile_free(struct sp_profile *p);

/* Reads one file into p. Returns 0 when something usable was read (damage
 * is salvaged with warnings on stderr), or -1 with a one-line message naming
 * the file in err (missing, not a profile, newer version, nothing intact). */
int sp_profile_read(struct sp_profile *p, const char *path, char *err, size_t errlen);
/* The same over size bytes at data, which the caller owns (the model keeps
 * copies); name stands for the file in messages. For the fuzzers. */
int sp_profile_read_mem(struct sp_profile *p, const char *name, const void *data, size_t size,
                        char *err, size_t errlen);

/* Totals over p->samples (what reports call the filtered total). */
struct sp_totals {
    uint64_t samples, weight_ns;
    size_t nprocs, nthreads; /* with at least one sample */
};
void sp_profile_totals(const struct sp_profile *p, struct sp_totals *t);

/* The mapping of process proc containing addr at time t (the one live at t,
 * else the nearest in time), or NULL. */
const struct sp_mapping *sp_profile_find_map(const struct sp_profile *p, uint32_t proc,
                                             uint64_t addr, uint64_t t);

/* Index of the epoch of time t in process proc (0 when its mappings never
 * change meaning over time). */
uint32_t sp_profile_epoch(const struct sp_profile *p, uint32_t proc, uint64_t t);

/* A display name for a thread: its name, or "thread" when it has none. */
const char *sp_thread_name(const struct sp_thread *t);

#endif
