/* SPDX-License-Identifier: MIT */
/*
 * The writer: a thread with every signal blocked that drains the per-thread
 * rings every 100 ms in the process's first second and every 250 ms after
 * (sooner when one is half full), deduplicates stacks,
 * and appends a zstd chunk to the profile about once a second, so that a
 * process killed outright loses at most about a second of samples. The same
 * drain-and-write step runs in the calling thread for the final flush at exit
 * and before exec. All of it is under W.lock; the handler never takes it.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <sched.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "buf.h"
#include "cfi.h"
#include "chunk.h"
#include "log.h"
#include "sprof.h"
#include "stacks.h"

/* The writer's sleep between drains (sooner when a ring is half full):
 * 100 ms before its first wake, which finds the threads made before the
 * constructor and gives a child of fork's writer back its CPUs, 250 ms
 * after. A wake costs the writer what its cold caches and TLB cost,
 * whatever it then does (330 us a wake here, a process with one thread at
 * 999 Hz; BENCHMARKS.md, session 28): ten a second were 4.5 ms of CPU a
 * second, four 2.8; the process's first second at 100 ms was a third of
 * the writer's CPU in a run of 1.7 s (session 43). */
#define FIRST_DRAIN_MS 100
#define DRAIN_INTERVAL_MS 250
/* A thread found by the scan (external) has its name read at every drain
 * of its first second, at most every EXTERNAL_NAME_MS: it may be gone
 * before the next second, and nothing reads its name at its end. */
#define EXTERNAL_NAME_MS 100
#define RESCAN_MIN_NS 2000000ull
#define NEW_STACKS_CHECKED 64u
/* Frames of new stacks looked up in the loader's mappings at most, at a
 * comparison of the maps (new_stacks_covered): about 5 ns each, where the
 * kernel's list takes 30 to 100 us (a compiler's cc1 at its end: 3,000) */
#define COVER_FRAMES 8192u
#define CHUNK_TARGET (1u << 20)
/* A smaller chunk is written uncompressed, and libzstd is loaded for the
 * first larger one (compress.c): compressing a process's few hundred bytes
 * of mappings and ending saved less than loading the library cost. Once it
 * is loaded, every chunk is compressed (and stored when that does not make
 * it smaller): a second chunk of 3.5 KiB, a second of pure Python, was
 * stored whole where compressed it is 1.3 KiB. A child of fork starts
 * over: small chunks stored until its first larger one. */
#define COMPRESS_MIN 4096u
#define STDIO_WAIT_NS 2000000000ull
/* Nodes of the pending chunk's stack trie (common/stacks.h), 16 bytes each:
 * 65,536 hold the new frames of about 4,000 stack definitions a chunk of
 * an interpreter's deep recursion (16 new frames each) */
#define TRIE_MAX_NODES (1u << 16)
/* Bytes of the stack table (frames, entries, slots) at which the writer
 * writes the pending chunk and forgets its stacks: the table holds every
 * distinct stack since the last time, and an interpreter running new code
 * makes new ones without end (tests/progs/interp.c at 10 kHz: 7,000 a
 * second, 2.5 MiB of frames). As every chunk defines again the stacks it
 * uses, forgetting changes nothing in the file but the ids of the stacks
 * seen again, which get new ones (ids are never reused: readers keep an
 * id's first definition). */
#define STACK_TABLE_MAX (2u << 20)

/* An interned stack, in W.by_id at its id. */
struct stack_entry {
    uint64_t hash;
    uint32_t id;
    uint32_t n, flags;
    uint32_t chunk; /* W.seq + 1 of the chunk that last defined it */
    size_t off;     /* into W.frames */
};

static struct {
    pthread_mutex_t lock;
    pthread_t thread;
    _Atomic int thread_running;
    _Atomic int stop;
    _Atomic pid_t tid;

    int fd;     /* -1 until opened */
    char *path; /* its name, dev and inode (output_ours) */
    /* In a child of fork, until its first write (forget_parent): its
     * parent's file, stack table and list of mappings, left as they were */
    int parent_fd;
    int inherited;
    unsigned nthreads_over; /* glibc counts the parent's writer (sprof_writer_settle_nthreads) */
    dev_t dev;
    ino_t ino;
    int failed; /* output is broken: write nothing more */
    uint32_t seq;
    uint64_t file_size;
    uint64_t fsize_limit;
    uint64_t last_write;
    uint64_t last_scan;                  /* when the maps were last compared */
    uint64_t last_unmap;                 /* when dlclose last removed something */
    unsigned long long dl_adds, dl_subs; /* the loader's counters at that scan */
    int fork_counted; /* read by this fork's prepare: its child has them as they are */
    int fork_lone;    /* this fork takes glibc's single-threaded path (sprof_writer_fork_begin) */
    unsigned lone_depth;                 /* wlock calls nested in that fork's, by its thread */
    int scanned;                         /* the maps were compared at least once */
    int unscanned;                       /* samples were drained since (see step) */
    int described;                       /* the PROCESS record is out (write_chunk) */
    char *exe;                           /* /proc/self/exe, once read (put_process) */
    uint32_t scan_id;                    /* the next stack's id at the last comparison */
    int have_samples;                    /* the pending chunk holds samples */
    uint64_t total_samples_written;

    struct sprof_buf chunk;   /* records of the next chunk */
    struct sprof_buf out;     /* encoded bytes to write */
    struct sprof_buf entries; /* scratch: a SAMPLES record's times */
    struct sprof_buf rec;     /* scratch: one record body */
    struct sprof_chunk_encoder enc;
    int enc_ready;
    int zstd_tried; /* sprof_zstd_load was called (W.enc.z: it worked) */
    int stdio_wait; /* no scan nor names read: 0, 1 or 2 is closed (stdio_wait) */
    int stdio_ask;  /* the writer's wake has not looked yet (stdio_wait) */
    uint64_t stdio_closed_at; /* when it first saw one closed, 0 */

    uint32_t *tab; /* open addressing by hash: index + 1 of a stack in by_id, 0 empty */
    size_t tabcap, ntab;
    uint32_t id_base;              /* the id of by_id's first entry */
    struct sprof_buf frames;       /* uint64_t frames of every interned stack */
    struct sprof_buf by_id;        /* struct stack_entry by id - id_base */
    struct sprof_buf chunk_ids;    /* uint32_t ids of the stacks the pending chunk uses */
    struct sprof_buf stk;          /* the chunk's payload: its STACKS record, then W.chunk */
    struct sprof_stack_trie trie;  /* the outer frames of the stacks put so far */
    struct sprof_stacks_enc senc;  /* the chunk's STACKS record */
    struct sprof_buf weights, ids; /* scratch: a SAMPLES record's columns */

    /* counters of slots already freed */
    uint64_t dead[SPROF_CTR_MAX_];
    uint64_t dead_hist[SPROF_HIST_BUCKETS];
    uint64_t threads_seen;
    uint64_t writer_cpu_ns;
    /* the writer's work done in the program's threads (a descendant's last
     * write, tables mapped at a safe point), and the CPU clock of the
     * thread doing such work now (0: none) */
    uint64_t inline_ns, inline_from;

    _Atomic uintptr_t lock_owner; /* pthread_self() of W.lock's holder, for endings.c */
    _Atomic int end_request;      /* a signal is ending the process (endings.c) */
    _Atomic int end_done;         /* ... and its END record is written */
    int ended;                    /* END "signal" written: nothing more */
    uint32_t wake_seen;           /* sprof.wake_word when the writer thread was started */
    int said_fallbacks;           /* the note of threads on POSIX timers is out */
    int glibc_exit;               /* the writer ends through glibc (sprof_writer_stop_early) */
    pid_t uncounted;              /* ... is not in glibc's count of this pid's (streams_alone) */
    int single_lent;              /* the program's __libc_single_threaded set (single_again) */
    int threads_coming;           /* the program made or may have made a thread */
    int born_pinned;              /* the writer began on its parent's CPU (sprof_writer_start) */
    int woken;                    /* the writer thread woke at least once (writer_main) */
    cpu_set_t cpus;               /* ... and runs where the program may once it wakes */

    /* a descendant's writer made late (sprof_writer_late) */
    _Atomic int late;        /* set: no writer thread yet, one may be made */
    _Atomic int late_failed; /* the errno of pthread_create in a handler, said at the end */
    pthread_attr_t stack_attr; /* the writer's stack (sprof_space), set once */
    int stack_attr_ok;
    sigset_t thread_mask; /* the signals the writer starts with blocked */
} W = {.lock = PTHREAD_MUTEX_INITIALIZER,
       .fd = -1,
       .parent_fd = -1,
       .trie = {.max_nodes = TRIE_MAX_NODES}};

static void wlock(void)
{
    /* a program's fork handler that calls into sprof (dlclose, say) while
     * sprof_writer_fork_begin holds the lock for the fork: nested, not a
     * deadlock */
    if (W.fork_lone &&
        atomic_load_explicit(&W.lock_owner, memory_order_relaxed) == (uintptr_t)pthread_self()) {
        W.lone_depth++;
        return;
    }
    pthread_mutex_lock(&W.lock);
    atomic_store_explicit(&W.lock_owner, (uintptr_t)pthread_self(), memory_order_relaxed);
}

static void wunlock(void)
{
    if (W.lone_depth) {
        W.lone_depth--;
        return;
    }
    atomic_store_explicit(&W.lock_owner, 0, memory_order_relaxed);
    pthread_mutex_unlock(&W.lock);
}

/* Does the calling thread hold the writer's lock? (pthread_self, not the
 * tid: no system call.) */
int sprof_writer_lock_is_mine(void)
{
    return atomic_load_explicit(&W.lock_owner, memory_order_relaxed) == (uintptr_t)pthread_self();
}

/* From a signal handler (endings.c): the writer thread writes a last chunk
 * with END "signal" and sets end_done. Without a writer thread, end_done is
 * set at once. */
void sprof_writer_request_end(int sig)
{
    if (!atomic_load(&W.thread_running)) {
        atomic_store(&W.end_done, 1);
        return;
    }
    atomic_store(&W.end_request, sig);
    sprof_wake_writer_now();
}

int sprof_writer_end_done(void)
{
    return atomic_load(&W.end_done);
}

pid_t sprof_writer_tid(void)
{
    return atomic_load(&W.tid);
}

/* ---- stack table ---- */

static struct stack_entry *stack_at(size_t index)
{
    return (struct stack_entry *)(void *)W.by_id.data + index;
}

/* The table starts small: most processes (a compiler's, a shell's) have a
 * few dozen stacks, and each page of a table they never fill would be a
 * page fault (about 10 us on a VM) for the probes scattered over it. Its
 * slots hold ids, 4 bytes, the entries being in W.by_id: a compiler's 1,600
 * stacks at 10 kHz took 40 page faults to grow a table of 32-byte entries
 * to 4,096 of them (BENCHMARKS.md, session 16). */
static int tab_grow(void)
{
    size_t cap = W.tabcap ? W.tabcap * 2 : 256;
    uint32_t *t = sprof_zalloc(cap, sizeof(*t));
    if (!t) return -1;
    for (size_t i = 0; i < W.ntab; i++) {
        size_t k = stack_at(i)->hash & (cap - 1);
        while (t[k])
            k = (k + 1) & (cap - 1);
        t[k] = (uint32_t)i + 1;
    }
    free(W.tab);
    W.tab = t;
    W.tabcap = cap;
    return 0;
}

/* Notes that the pending chunk uses stack e: write_chunk defines it. */
static void use_stack(struct stack_entry *e)
{
    sprof_buf_put(&W.chunk_ids, &e->id, sizeof(e->id));
    e->chunk = W.seq + 1;
}

/* The id of this stack, noted as used by the pending chunk the first time
 * it is seen there. Returns UINT32_MAX when out of memory. */
static uint32_t stack_intern(const uint64_t *f, unsigned n, unsigned flags)
{
    if (W.ntab * 2 >= W.tabcap && tab_grow()) return UINT32_MAX;
    uint64_t h = sprof_stack_hash(f, n, flags);
    size_t k = h & (W.tabcap - 1);
    for (; W.tab[k]; k = (k + 1) & (W.tabcap - 1)) {
        struct stack_entry *e = stack_at(W.tab[k] - 1);
        if (e->hash == h && e->n == n && e->flags == flags &&
            memcmp(W.frames.data + e->off, f, n * sizeof(uint64_t)) == 0) {
            if (e->chunk != W.seq + 1) use_stack(e);
            return e->id;
        }
    }
    uint64_t id = W.id_base + W.ntab;
    if (id >= UINT32_MAX) return UINT32_MAX;
    size_t off = W.frames.len;
    sprof_buf_put(&W.frames, f, n * sizeof(uint64_t));
    sprof_buf_put(
        &W.by_id,
        &(struct stack_entry){.hash = h, .id = (uint32_t)id, .n = n, .flags = flags, .off = off},
        sizeof(struct stack_entry));
    if (W.frames.oom || W.by_id.oom) return UINT32_MAX;
    struct stack_entry *e = stack_at(W.ntab);
    W.tab[k] = (uint32_t)++W.ntab;
    use_stack(e);
    return e->id;
}

static int id_cmp(const void *a, const void *b)
{
    uint32_t x, y;
    memcpy(&x, a, sizeof(x));
    memcpy(&y, b, sizeof(y));
    return (x > y) - (x < y);
}

/* The pending chunk's payload into W.stk: the STACKS record of the stacks
 * it uses, then its other records. Every chunk defines the stacks its
 * samples use (ids stay the same for the whole file), so that a damaged
 * chunk loses only its own samples (ARCHITECTURE.md, invariant 3:
 * self-contained chunks); in increasing order of id, each taking its
 * outermost frames from a stack defined before it, where two or more are
 * the same, and written by column (common/stacks.h). -1: out of memory. */
static int put_stacks(void)
{
    size_t k = W.chunk_ids.len / sizeof(uint32_t);
    if (k) qsort(W.chunk_ids.data, k, sizeof(uint32_t), id_cmp); /* data: NULL when empty */
    sprof_buf_reset(&W.stk);
    sprof_stack_trie_reset(&W.trie);
    sprof_stacks_enc_reset(&W.senc);
    W.senc.siblings = 1; /* SPROF_FLAG_STACK_SIBLINGS */
    for (size_t i = 0; i < k; i++) {
        uint32_t id, base = 0;
        memcpy(&id, W.chunk_ids.data + i * sizeof(id), sizeof(id));
        const struct stack_entry *e = stack_at(id - W.id_base);
        const uint64_t *f = (const uint64_t *)(W.frames.data + e->off);
        unsigned shared = sprof_stack_trie_add(&W.trie, f, e->n, id, &base);
        const struct stack_entry *b = shared >= 2 ? stack_at(base - W.id_base) : NULL;
        sprof_stacks_enc_add(&W.senc, id, e->flags, f, e->n, base,
                             b ? (const uint64_t *)(W.frames.data + b->off) : NULL, b ? shared : 0);
    }
    if (sprof_stacks_enc_put(&W.senc, &W.stk)) return -1;
    sprof_buf_put(&W.stk, W.chunk.data, W.chunk.len);
    return 0;
}

static size_t stacks_bytes(void)
{
    return W.frames.len + W.by_id.len + W.tabcap * sizeof(*W.tab);
}

/* Forgets every stack; the next one gets the next id. Only between chunks
 * (W.chunk_ids empty): the pending chunk's samples name stacks it defines.
 * The memory stays for the stacks to come: an interpreter that fills the
 * table once fills it again, and the pages of arrays freed and grown anew
 * were each a page fault in the writer (interp at 10 kHz: 500 a time, 1.5
 * times a second; BENCHMARKS.md, session 28). */
static void stacks_forget(void)
{
    W.id_base += (uint32_t)W.ntab;
    W.ntab = 0;
    if (W.tab) memset(W.tab, 0, W.tabcap * sizeof(*W.tab));
    sprof_buf_reset(&W.frames);
    sprof_buf_reset(&W.by_id);
}

/* A child of fork's new file: ids from 0, its parent's stacks gone. A
 * child that is ending (its exec, exit or deadly signal) leaves the
 * parent's arrays as they are, to go with the image: freeing them, or
 * clearing the trie's slots, would write to pages it shares with its
 * parent, a copy and a trap each. One that lives on frees them (one whose
 * exec failed has left them already: they stay, unused). */
static void stacks_leave_parent(int ending)
{
    if (ending) {
        W.tab = NULL;
        W.tabcap = W.ntab = 0;
        sprof_buf_init(&W.frames);
        sprof_buf_init(&W.by_id);
        sprof_stack_trie_init(&W.trie, TRIE_MAX_NODES);
    } else {
        sprof_stack_trie_release(&W.trie);
        free(W.tab);
        W.tab = NULL;
        W.tabcap = W.ntab = 0;
        sprof_buf_release(&W.frames);
        sprof_buf_release(&W.by_id);
    }
    W.id_base = 0;
    sprof_buf_reset(&W.chunk_ids);
}

/* ---- records ---- */

/* Under W.lock. */
static void put_note(int level, const char *text)
{
    sprof_buf_reset(&W.rec);
    sprof_buf_put_uvarint(&W.rec, sprof_now());
    sprof_buf_put_uvarint(&W.rec, (uint64_t)level);
    sprof_buf_put_str(&W.rec, text);
    sprof_buf_put_record(&W.chunk, SPROF_REC_NOTE, &W.rec);
}

static void put_thread(struct sprof_thread *t)
{
    sprof_buf_reset(&W.rec);
    sprof_buf_put_uvarint(&W.rec, (uint64_t)t->tid);
    sprof_buf_put_uvarint(&W.rec, t->start_ns);
    sprof_buf_put_str(&W.rec, t->name);
    sprof_buf_put_record(&W.chunk, SPROF_REC_THREAD, &W.rec);
    memcpy(t->announced_name, t->name, sizeof(t->name));
    t->announced = 1;
}

static void put_thread_end(struct sprof_thread *t)
{
    sprof_buf_reset(&W.rec);
    sprof_buf_put_uvarint(&W.rec, (uint64_t)t->tid);
    sprof_buf_put_uvarint(&W.rec, t->end_ns);
    sprof_buf_put_uvarint(&W.rec, t->cpu_ns);
    sprof_buf_put_record(&W.chunk, SPROF_REC_THREAD_END, &W.rec);
}

/* Sample times are kept to a sixteenth of the period, and to between 1 and
 * 100 us (62 us at 999 Hz, 6 us at 10 kHz): the digits below it are the
 * timer's and the scheduler's jitter, random digits that cost a compressed
 * file about 1.5 bytes a sample at 1 ns and 0.8 at 1 us (0.9 of pure
 * Python's 4.9 at 999 Hz), and no report needs them: a sample stands for a
 * period, and --time selects whole seconds or milliseconds of them. Rounded
 * down, so a sample never moves past an UNMAP of its range; by 100 us at
 * most, so it stays clear of MAPs, which are dated from a scan. */
static uint64_t sample_time_res(void)
{
    uint64_t q = sprof.period_ns / 16;
    return q < 1000 ? 1000 : q > 100000 ? 100000 : q;
}

/* An entry of t's ring is lost (it cannot be read): the writer no longer
 * knows the frames the next may share, and asks the handler for one that
 * shares none (handler.c, share). */
static void lost_entry(struct sprof_thread *t)
{
    t->share_w = t->prev_n = 0;
    t->prev_id_ok = 0;
    atomic_store_explicit(&t->resync, 1, memory_order_relaxed);
}

/* The id of the stack of an entry of t's ring: its k innermost frames at f,
 * its outermost `shared` those of t's previous entry (sprof.h), put
 * together in frames, which f may be. UINT32_MAX: none (out of memory, or
 * an entry lost before it: the sample is counted lost). */
static uint32_t entry_stack(struct sprof_thread *t, const uint64_t *f, unsigned k, unsigned shared,
                            int keep, unsigned flags, uint64_t *frames)
{
    unsigned n = k + shared;
    if (shared > t->share_w) {
        /* the frames it shares were in an entry lost: taken, then lost */
        atomic_fetch_sub_explicit(&t->samples, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&t->lost, 1, memory_order_relaxed);
        lost_entry(t);
        return UINT32_MAX;
    }
    if (shared && !k && n == t->prev_n && flags == t->prev_flags && t->prev_id_ok &&
        t->prev_id >= W.id_base && t->prev_id - W.id_base < W.ntab) {
        /* the same stack again: no frame to read, nor to look up */
        struct stack_entry *e = stack_at(t->prev_id - W.id_base);
        if (e->chunk != W.seq + 1) use_stack(e);
        return t->prev_id;
    }
    if (shared) {
        if (f != frames) memcpy(frames, f, k * sizeof(*frames));
        for (unsigned i = 0; i < shared; i++)
            frames[n - 1 - i] = t->outer->w[i];
        f = frames;
    }
    unsigned top = !keep ? 0 : n < RING_SHARE_MAX ? n : RING_SHARE_MAX;
    for (unsigned i = shared; i < top; i++)
        t->outer->w[i] = f[n - 1 - i];
    t->share_w = top;
    t->prev_n = n;
    t->prev_flags = flags;
    uint32_t id = stack_intern(f, n, flags);
    t->prev_id = id;
    t->prev_id_ok = id != UINT32_MAX;
    return id;
}

static void drain(struct sprof_thread *t)
{
    uint64_t head = atomic_load_explicit(&t->head, memory_order_acquire);
    uint64_t tail = atomic_load_explicit(&t->tail, memory_order_relaxed);
    if (head == tail) return;
    uint64_t *frames = sprof_space.drain_frames;
    uint64_t count = 0, prev = 0, base = 0, next_id = 0, res = sample_time_res();
    sprof_buf_reset(&W.entries);
    sprof_buf_reset(&W.weights);
    sprof_buf_reset(&W.ids);
    while (tail < head) {
        uint64_t hdr = t->ring[tail & RING_MASK];
        unsigned k = (unsigned)(hdr & 0xffffu), shared = (unsigned)(hdr >> 16) & 0x7fffu,
                 flags = (unsigned)(hdr >> 32) & 0xffffu;
        if (hdr >> 48 != RING_ENTRY_MAGIC || k + shared > SPROF_MAX_DEPTH ||
            shared > RING_SHARE_MAX || tail + RING_HDR_WORDS + k > head) {
            tail = head; /* cannot happen unless memory was overwritten: drop */
            lost_entry(t);
            break;
        }
        uint64_t ts = t->ring[(tail + 1) & RING_MASK], w = t->ring[(tail + 2) & RING_MASK];
        ts -= ts % res;
        /* the frames where they lie (the handler writes past head only),
         * copied out only where they wrap around the ring's end */
        uint64_t at = (tail + RING_HDR_WORDS) & RING_MASK;
        const uint64_t *f = t->ring + at;
        if (at + k > RING_WORDS) {
            uint64_t first = RING_WORDS - at;
            memcpy(frames, f, first * sizeof(*frames));
            memcpy(frames + first, t->ring, (k - first) * sizeof(*frames));
            f = frames;
        }
        tail += RING_HDR_WORDS + k;
        uint32_t id = entry_stack(t, f, k, shared, (hdr & RING_KEEP) != 0, flags, frames);
        if (id == UINT32_MAX) continue;
        if (count == 0) prev = base = ts;
        sprof_buf_put_uvarint(&W.entries, ts >= prev ? (ts - prev) / res : 0);
        sprof_buf_put_uvarint(&W.weights, w);
        sprof_buf_put_uvarint(&W.ids, sprof_sample_id_put(id, &next_id));
        prev = ts >= prev ? ts : prev;
        count++;
    }
    atomic_store_explicit(&t->tail, tail, memory_order_release);
    if (!count) return;
    if (!t->announced) put_thread(t);
    sprof_buf_reset(&W.rec);
    sprof_buf_put_uvarint(&W.rec, (uint64_t)t->tid);
    sprof_buf_put_uvarint(&W.rec, base);
    sprof_buf_put_uvarint(&W.rec, count);
    /* the times in units of their resolution (SPROF_FLAG_SAMPLE_TIME_UNITS):
     * at 10 kHz a period is 16 of 6,250 ns, a byte that varies in its few
     * low bits, where 100,000 ns were three bytes that all varied with the
     * jitter, and compressed to 0.27 bytes a sample against 0.18 */
    sprof_buf_put_uvarint(&W.rec, res);
    /* by column (SPROF_FLAG_SAMPLE_COLUMNS): the times, the weights (most
     * often all the same) and the stacks each compress better on their own;
     * the stacks as steps (SPROF_FLAG_SAMPLE_ID_STEPS, common/stacks.h) */
    sprof_buf_put(&W.rec, W.entries.data, W.entries.len);
    sprof_buf_put(&W.rec, W.weights.data, W.weights.len);
    sprof_buf_put(&W.rec, W.ids.data, W.ids.len);
    sprof_buf_put_record(&W.chunk, SPROF_REC_SAMPLES, &W.rec);
    W.have_samples = 1;
    W.unscanned = 1;
}

static void add_counters(struct sprof_thread *t, uint64_t *c, uint64_t *hist)
{
    c[SPROF_CTR_SAMPLES] += atomic_load(&t->samples);
    c[SPROF_CTR_LOST] += atomic_load(&t->lost);
    c[SPROF_CTR_TRUNCATED] += atomic_load(&t->truncated);
    c[SPROF_CTR_HANDLER_NS] += atomic_load(&t->handler_ns);
    c[SPROF_CTR_REENTERED] += atomic_load(&t->reentered);
    c[SPROF_CTR_UNWIND_FALLBACK] += atomic_load(&t->unwind_fallback);
    c[SPROF_CTR_UNWIND_INPLACE] += atomic_load(&t->unwind_inplace);
    for (unsigned i = 0; i < SPROF_HIST_BUCKETS; i++)
        hist[i] += atomic_load(&t->hist[i]);
}

#define RING_POPULATE_MIN 8    /* samples */
#define RING_AHEAD_MIN (2048u) /* words: 16 KiB */

/* Faults in t's ring up to word want (from the slot's start the first
 * time: its first page is the thread's struct, in place already). The
 * handler may be writing to the ring meanwhile (populating changes no
 * byte). Older kernels refuse the call: the handler faults the pages in,
 * as before. One system call: a handler may be the caller. */
static void populate_to(struct sprof_thread *t, uint64_t want)
{
    /* (once the ring has wrapped, the handler has written all of it) */
    if (want > RING_WORDS) want = RING_WORDS;
    if (want <= t->ring_ready) return;
    const char *from = t->ring_ready ? (const char *)(t->ring + t->ring_ready) : (const char *)t;
    t->ring_ready = want;
    (void)sprof_populate(from, (size_t)((const char *)(t->ring + want) - from));
}

/* A thread that keeps being sampled writes its whole ring sooner or later,
 * and the handler would fault its pages in one at a time: a trap in the
 * sampled thread each (9-10 us on a VM, against about 1.5 us a page
 * faulted in here by one call, and 3-4 us at its first touch). Once a
 * thread has taken RING_POPULATE_MIN samples, the writer faults in the part
 * of its ring that the samples up to its next look will write: twice what
 * was written since its last, at least RING_AHEAD_MIN words. A compiler's
 * hundred samples of 30 frames use a quarter of the ring: the rest is
 * neither faulted in nor counted in its RSS. */
static void populate_ring(struct sprof_thread *t)
{
    if (t->ring_ready >= RING_WORDS || atomic_load(&t->samples) < RING_POPULATE_MIN) return;
    uint64_t head = atomic_load(&t->head), ahead = 2 * (head - t->ring_seen);
    t->ring_seen = head;
    populate_to(t, head + (ahead < RING_AHEAD_MIN ? RING_AHEAD_MIN : ahead));
}

/* The same for the only thread of a descendant without its writer, from
 * its handler (handler.c's late_work), which has no look of the writer's
 * to wait for: when less than half of RING_AHEAD_MIN is left ahead of the
 * head, twice RING_AHEAD_MIN more. A compiler's cc1 took 7 traps in the
 * ring's pages a compile, now one or two calls (BENCHMARKS.md, session 26). */
void sprof_ring_populate_late(struct sprof_thread *t)
{
    uint64_t head = atomic_load_explicit(&t->head, memory_order_relaxed);
    if (t->ring_ready >= RING_WORDS || head + RING_AHEAD_MIN / 2 <= t->ring_ready ||
        atomic_load_explicit(&t->samples, memory_order_relaxed) < RING_POPULATE_MIN)
        return;
    populate_to(t, head + 2 * RING_AHEAD_MIN);
}

/* While the program has 0, 1 or 2 closed (a daemon between its close and
 * its open of /dev/null), the scan of /proc/self/task and the reading of
 * threads' names wait, STDIO_WAIT_NS at most: each opens a file at the
 * lowest free number, moved above 2 at once (sprof_open), but a writer
 * preempted there holds it longer: case 208 under ASan on a loaded machine
 * got 1 and 2 where it opened 0 and 1. The timers and the file are made
 * again all the same: the program's samples and chunks would be lost.
 * Looked at (three system calls) once a writer's wake, and only when a scan
 * or a name is due: with 200-frame stacks at 10 kHz the handlers wake the
 * writer every 4 ms, and the look was a tenth of its CPU (BENCHMARKS.md,
 * session 40). Elsewhere (a forced write in a program's thread) the last
 * answer holds. */
static int stdio_wait(void)
{
    if (!W.stdio_ask) return W.stdio_wait;
    W.stdio_ask = 0;
    uint64_t now = sprof_now();
    if (sprof_stdio_open())
        W.stdio_closed_at = 0;
    else if (!W.stdio_closed_at)
        W.stdio_closed_at = now;
    W.stdio_wait = W.stdio_closed_at && now - W.stdio_closed_at < STDIO_WAIT_NS;
    return W.stdio_wait;
}

/* Drains every ring; announces, renames and retires threads; populates
 * (not when the process ends) the rings of threads that are sampled. */
static void drain_all(int refresh_names, int populate)
{
    uint64_t now = sprof_now();
    pid_t me = 0; /* asked when a name is to be read */
    for (unsigned i = 0, used = sprof_slots_end(); i < used; i++) {
        struct sprof_thread *t = __atomic_load_n(sprof_slot_ref(i), __ATOMIC_ACQUIRE);
        if (!t) continue;
        int state = atomic_load(&t->state);
        /* at the drain that announces the thread, then every second (the
         * latest name wins, and a thread that registered itself reads its
         * own at its end); an external thread's also every
         * EXTERNAL_NAME_MS in its first second. Not at each drain the
         * handlers ask for: a compiler's cc1 at 10 kHz, its ring half full
         * every 36 ms, read its name 11 to 21 times (an open, a read and a
         * close of /proc each). Read without the lock, set under it (an
         * exiting thread sets its name). */
        char name[SPROF_NAME_MAX];
        int named = 0;
        if (state == SLOT_ACTIVE &&
            (refresh_names || !t->name_ns ||
             (t->external && now - t->start_ns < 1000000000ull &&
              now - t->name_ns >= EXTERNAL_NAME_MS * 1000000ull)) &&
            !stdio_wait()) {
            if (!me) me = (pid_t)sys_callv(SYS_gettid);
            named = sprof_thread_name_of(t->tid, t->tid == me, name) == 0;
            t->name_ns = now;
        }
        pthread_mutex_lock(&sprof.reg_lock);
        if (named && atomic_load(&t->state) == SLOT_ACTIVE) sprof_thread_set_name(t, name);
        if (!t->announced || strcmp(t->name, t->announced_name) != 0) put_thread(t);
        pthread_mutex_unlock(&sprof.reg_lock);
        if (sprof.cfg.unwinder != UNWIND_LIBUNWIND && !atomic_load(&t->stack_lo) &&
            atomic_load(&t->last_sp)) {
            uintptr_t lo, hi;
            if (sprof_maps_find_range(atomic_load(&t->last_sp), &lo, &hi) == 0) {
                atomic_store(&t->stack_hi, hi);
                atomic_store(&t->stack_lo, lo);
            }
        }
        if (populate && state == SLOT_ACTIVE) populate_ring(t);
        drain(t);
        if (state == SLOT_ENDED) {
            drain(t);
            put_thread_end(t);
            add_counters(t, W.dead, W.dead_hist);
            /* (a handler may be reading it: the itimer scan) */
            pthread_mutex_lock(&sprof.reg_lock);
            sprof_thread_publish(i, NULL);
            int kept = sprof_thread_keep(t);
            pthread_mutex_unlock(&sprof.reg_lock);
            if (!kept) sprof_thread_release(t);
            W.threads_seen++;
        }
    }
}

static void put_counters(uint64_t now)
{
    uint64_t c[SPROF_CTR_MAX_], hist[SPROF_HIST_BUCKETS];
    memcpy(c, W.dead, sizeof(c));
    memcpy(hist, W.dead_hist, sizeof(hist));
    uint64_t threads = W.threads_seen;
    for (unsigned i = 0, used = sprof_slots_end(); i < used; i++) {
        struct sprof_thread *t = __atomic_load_n(sprof_slot_ref(i), __ATOMIC_ACQUIRE);
        if (!t) continue;
        add_counters(t, c, hist);
        threads++;
    }
    if (atomic_load(&W.tid) && (pid_t)sys_callv(SYS_gettid) == atomic_load(&W.tid))
        W.writer_cpu_ns = sprof_clock_ns(CLOCK_THREAD_CPUTIME_ID);
    c[SPROF_CTR_WRITER_CPU_NS] = W.writer_cpu_ns + W.inline_ns;
    if (W.inline_from) c[SPROF_CTR_WRITER_CPU_NS] += sprof_thread_cpu_now() - W.inline_from;
    c[SPROF_CTR_BYTES] = W.file_size;
    c[SPROF_CTR_STACKS] = W.id_base + W.ntab;
    c[SPROF_CTR_THREADS] = threads;
    sprof_cfi_tables(&c[SPROF_CTR_TABLES_BUILT], &c[SPROF_CTR_TABLES_CACHED],
                     &c[SPROF_CTR_TABLES_EARLY]);
    /* the counters that are not 0 and the histogram's buckets up to its
     * last that is not: a short process writes this record twice in a
     * file of a few hundred bytes, stored uncompressed, where all of them
     * took about 100 bytes a record (a /bin/true's file: 848 bytes, now
     * 680) */
    unsigned n = 0, nb = SPROF_HIST_BUCKETS;
    for (unsigned i = 1; i < SPROF_CTR_MAX_; i++)
        n += c[i] != 0;
    while (nb && !hist[nb - 1])
        nb--;
    sprof_buf_reset(&W.rec);
    sprof_buf_put_uvarint(&W.rec, now);
    sprof_buf_put_uvarint(&W.rec, n);
    for (unsigned i = 1; i < SPROF_CTR_MAX_; i++) {
        if (!c[i]) continue;
        sprof_buf_put_uvarint(&W.rec, i);
        sprof_buf_put_uvarint(&W.rec, c[i]);
    }
    sprof_buf_put_uvarint(&W.rec, nb);
    for (unsigned i = 0; i < nb; i++)
        sprof_buf_put_uvarint(&W.rec, hist[i]);
    sprof_buf_put_record(&W.chunk, SPROF_REC_COUNTERS, &W.rec);
}

/* ---- the file ---- */

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    W.failed = 1;
    sprof_disable(msg);
}

/* Does path hold a profile of this session (an earlier image of this pid)? */
static int same_session(const char *path)
{
    int fd = sprof_open(path, O_RDONLY | O_NOFOLLOW, 0);
    if (fd < 0) return 0;
    uint8_t h[SPROF_FILE_HEADER_SIZE];
    ssize_t n = sys_read(fd, h, sizeof(h));
    sys_close(fd);
    return n == (ssize_t)sizeof(h) && memcmp(h, SPROF_MAGIC, SPROF_MAGIC_LEN) == 0 &&
           sprof_le64(h + 16) == sprof.session;
}

static int create_excl(const char *path)
{
    return sprof_open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0666);
}

/* The top process writes exactly the output path (an older file there is
 * kept as .old); descendants write PATH.PID, or PATH.PID.N for a later image
 * of the same pid. Files are never opened through a symlink. */
static int open_output(char *path, size_t cap)
{
    const char *tpl = sprof.out_base;
    char base[4096];
    /* %p expands to the pid */
    size_t o = 0;
    int had_p = 0;
    for (const char *s = tpl; *s && o + 16 < sizeof(base); s++) {
        if (s[0] == '%' && s[1] == 'p') {
            char d[24];
            size_t k = strlen(sprof_fmt_u64(d, (uint64_t)sprof.pid, 10, 0));
            memcpy(base + o, d, k);
            o += k;
            s++;
            had_p = 1;
        } else {
            base[o++] = *s;
        }
    }
    base[o] = 0;
    if (sprof.is_top) {
        sprof_concat(path, cap, base, NULL);
        struct stat st;
        if (sys_lstat(path, &st) == 0) {
            char old[4400];
            sprof_concat(old, sizeof(old), path, ".old", NULL);
            if (sys_rename(path, old) < 0) {
                fail("cannot move the existing '%s' aside: %s", path, strerror(errno));
                return -1;
            }
        }
        int fd = create_excl(path);
        if (fd < 0) fail("cannot create '%s': %s", path, strerror(errno));
        return fd;
    }
    char pid[24], nth[24];
    sprof_fmt_u64(pid, (uint64_t)sprof.pid, 10, 0);
    for (unsigned k = 0; k < 1000; k++) {
        sprof_fmt_u64(nth, k, 10, 0);
        if (had_p)
            sprof_concat(path, cap, base, k ? "." : "", k ? nth : "", NULL);
        else
            sprof_concat(path, cap, base, ".", pid, k ? "." : "", k ? nth : "", NULL);
        int fd = create_excl(path);
        if (fd >= 0) return fd;
        if (errno != EEXIST) break;
        if (same_session(path)) continue;
        /* left over from an earlier run with a recycled pid: replace it */
        if (sys_unlink(path) == 0 && (fd = create_excl(path)) >= 0) return fd;
        if (errno != EEXIST) break;
    }
    fail("cannot create '%s': %s", path, strerror(errno));
    return -1;
}

static int write_all(const uint8_t *p, size_t n)
{
    if (W.fsize_limit && W.file_size + n > W.fsize_limit) {
        /* writing past RLIMIT_FSIZE would raise SIGXFSZ in the program */
        fail("the profile would exceed the file size limit (RLIMIT_FSIZE), stopped");
        return -1;
    }
    while (n) {
        ssize_t w = write(W.fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            fail("cannot write the profile: %s", w < 0 ? strerror(errno) : "short write");
            return -1;
        }
        p += w;
        n -= (size_t)w;
        W.file_size += (uint64_t)w;
    }
    return 0;
}

/* The executable's path, read once: a child of fork's is its parent's
 * (fork copies it; only exec changes it), and its one write at its exec
 * reads no /proc for it. NULL when it cannot be read. */
static const char *exe_path(void)
{
    if (!W.exe) {
        char exe[4096];
        ssize_t n = sys_readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        if (n <= 0) return NULL;
        exe[n] = 0;
        W.exe = strdup(exe); /* (NULL: read again the next time) */
    }
    return W.exe;
}

/* The PROCESS and CONFIG records, which open the process's records. */
static void put_process(struct sprof_buf *out)
{
    struct sprof_buf *b = &W.rec;
    sprof_buf_reset(b);
    sprof_buf_put_uvarint(b, (uint64_t)sprof.pid);
    sprof_buf_put_uvarint(b, (uint64_t)sprof.ppid);
    if (!sprof.start_realtime_ns) {
        /* the start by the wall clock, read when first needed: most
         * descendants never write (one system call fewer at their start) */
        uint64_t mono = sprof_now(), real = sprof_clock_ns(CLOCK_REALTIME);
        sprof.start_realtime_ns = real - (mono - sprof.start_ns);
    }
    sprof_buf_put_uvarint(b, sprof.start_realtime_ns);
    sprof_buf_put_uvarint(b, sprof.start_ns);
    const char *exe = exe_path();
    sprof_buf_put_str(b, exe ? exe : "");
    /* argv from /proc/self/cmdline: NUL-separated */
    struct sprof_buf args;
    sprof_buf_init(&args);
    int fd = sprof_open("/proc/self/cmdline", O_RDONLY, 0);
    if (fd >= 0) {
        for (;;) {
            if (sprof_buf_reserve(&args, 4096)) break;
            ssize_t r = sys_read(fd, args.data + args.len, 4096);
            if (r <= 0) break;
            args.len += (size_t)r;
        }
        sys_close(fd);
    }
    uint64_t argc = 0;
    for (size_t i = 0; i < args.len; i++)
        argc += args.data[i] == 0;
    if (args.len && args.data[args.len - 1] != 0) argc++;
    sprof_buf_put_uvarint(b, argc);
    for (size_t i = 0; i < args.len;) {
        size_t k = i;
        while (k < args.len && args.data[k])
            k++;
        sprof_buf_put_bytes(b, args.data + i, k - i);
        i = k + 1;
    }
    sprof_buf_release(&args);
    sprof_buf_put_record(out, SPROF_REC_PROCESS, b);

    sprof_buf_reset(b);
    sprof_buf_put_str(b, "task-clock");
    sprof_buf_put_uvarint(b, sprof.cfg.freq);
    sprof_buf_put_uvarint(b, sprof.period_ns);
    sprof_buf_put_uvarint(b, (uint64_t)sprof.cfg.signo);
    sprof_buf_put_str(b, sprof_backend_name(sprof.backend));
    sprof_buf_put_str(b, sprof.cfg.unwinder == UNWIND_FP          ? "fp"
                         : sprof.cfg.unwinder == UNWIND_LIBUNWIND ? "libunwind"
                                                                  : "dwarf");
    sprof_buf_put_uvarint(b, sprof.cfg.max_depth);
    sprof_buf_put_record(out, SPROF_REC_CONFIG, b);
}

/* Puts PROCESS and CONFIG before the pending records, once: when the first
 * chunk is written, the top's at the start, a descendant's with its first
 * samples (one that takes none writes nothing, and reads nothing of /proc
 * for it: most processes of a build or a shell script). */
static void describe(void)
{
    if (W.described) return;
    struct sprof_buf pending = W.chunk;
    sprof_buf_init(&W.chunk);
    put_process(&W.chunk);
    sprof_buf_put(&W.chunk, pending.data, pending.len);
    sprof_buf_release(&pending);
    W.described = 1;
}

/* Is FD the profile's file (the one opened for it, W.dev and W.ino)? */
static int is_output(int fd)
{
    struct stat st;
    return sys_fstat(fd, &st) == 0 && st.st_dev == W.dev && st.st_ino == W.ino;
}

/* Is W.fd still the profile's file? The program may close descriptors it
 * did not open (a daemon at its start, a child about to exec: close_range,
 * closefrom) and the number be its own file's next, which sprof must never
 * write into nor close. If it is not, the file is opened again by its name,
 * provided the name still leads to it. */
static int output_ours(void)
{
    if (is_output(W.fd)) return 1;
    W.fd = -1; /* the number is not ours: left alone */
    int fd = sprof_open(W.path, O_WRONLY | O_APPEND | O_NOFOLLOW, 0);
    if (fd >= 0 && !is_output(fd)) {
        sys_close(fd);
        fd = -1;
        errno = ENOENT;
    }
    if (fd < 0) {
        fail("the program closed the profile's file descriptor, and '%s' cannot be opened "
             "again: %s",
             W.path, strerror(errno));
        return 0;
    }
    W.fd = fd;
    put_note(1, "the program closed the profile's file descriptor: the file was opened again");
    return 1;
}

/* Encodes the pending records as one chunk and appends it; last: the
 * image's last (its end, an exec, a signal's death); hold: leaves it in
 * W.out, for write_held. Returns 1 when it holds one. */
static int write_chunk(int last, int hold)
{
    if (W.failed || W.chunk.len == 0) return 0;
    if (W.fd >= 0 && !output_ours()) return 0;
    int fresh = W.fd < 0; /* the file's header goes out with the chunk, in one write */
    if (W.fd < 0) {
        if (!sprof.is_top && !W.have_samples) return 0; /* descendants: only with samples */
        char path[4300];
        W.fd = open_output(path, sizeof(path));
        if (W.fd < 0) return 0;
        struct stat st;
        free(W.path);
        W.path = strdup(path);
        if (!W.path || sys_fstat(W.fd, &st)) {
            fail("cannot keep the name of '%s': %s", path, strerror(errno));
            return 0;
        }
        W.dev = st.st_dev;
        W.ino = st.st_ino;
        struct rlimit rl;
        if (sys_getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
            W.fsize_limit = rl.rlim_cur;
        uint32_t flags = SPROF_FLAG_SHARED_STACKS | SPROF_FLAG_SAMPLE_COLUMNS |
                         SPROF_FLAG_SAMPLE_ID_STEPS | SPROF_FLAG_STACK_COLUMNS |
                         SPROF_FLAG_STACK_SIBLINGS | SPROF_FLAG_SAMPLE_TIME_UNITS;
        struct sprof_file_header h = {SPROF_VERSION, SPROF_FILE_HEADER_SIZE, flags, sprof.session,
                                      (uint32_t)sprof.pid};
        sprof_buf_reset(&W.out);
        sprof_file_header_put(&W.out, &h);
    }
    describe();
    if (!W.enc_ready) {
        sprof_chunk_encoder_init(&W.enc, NULL, SPROF_ZSTD_LEVEL, COMPRESS_MIN);
        W.enc_ready = 1;
    }
    W.enc.last = last;
    if (put_stacks()) {
        fail("out of memory in the writer");
        return 0;
    }
    /* by the whole payload, its stacks included: a short run of an
     * interpreter has few samples and many stacks */
    if (!W.enc.z && !W.zstd_tried && W.stk.len >= COMPRESS_MIN) {
        W.zstd_tried = 1;
        W.enc.z = sprof_zstd_load();
        if (W.enc.z) W.enc.min_size = 0;
        if (!W.enc.z) {
            const char *why = dlerror();
            sprof_warn("cannot load libzstd (%s): chunks are written uncompressed",
                       why ? why : "its functions are missing");
            size_t at = W.chunk.len; /* the note, in this chunk's payload too */
            put_note(1, "libzstd could not be loaded: chunks are written uncompressed");
            sprof_buf_put(&W.stk, W.chunk.data + at, W.chunk.len - at);
        }
    }
    if (W.chunk.oom || W.chunk_ids.oom || W.stk.oom) {
        fail("out of memory in the writer");
        return 0;
    }
    char err[256];
    if (!fresh) sprof_buf_reset(&W.out);
    if (sprof_chunk_encode(&W.enc, W.seq, W.stk.data, W.stk.len, &W.out, err, sizeof(err))) {
        fail("cannot compress a chunk: %s", err);
        return 0;
    }
    if (W.enc.z && W.stk.len >= COMPRESS_MIN) W.enc.min_size = 0; /* a child of fork's */
    if (!hold && write_all(W.out.data, W.out.len)) return 0;
    W.seq++;
    sprof_buf_reset(&W.chunk);
    sprof_buf_reset(&W.chunk_ids);
    W.have_samples = 0;
    if (stacks_bytes() >= STACK_TABLE_MAX) stacks_forget();
    return hold;
}

/* The records pending after a chunk write_chunk holds (the counters and the
 * END), stored as a chunk of their own after it (a few hundred bytes, not
 * worth a call of the compressor), and both written at once. */
static void write_held(void)
{
    char err[256];
    struct sprof_chunk_encoder stored;
    sprof_chunk_encoder_init(&stored, NULL, 0, 0);
    if (sprof_chunk_encode(&stored, W.seq, W.chunk.data, W.chunk.len, &W.out, err, sizeof(err))) {
        fail("cannot encode a chunk: %s", err);
        return;
    }
    if (write_all(W.out.data, W.out.len)) return;
    W.seq++;
    sprof_buf_reset(&W.chunk);
}

SPROF_ONCE static int loader_counters(struct dl_phdr_info *info, size_t size, void *arg)
{
    unsigned long long *v = arg;
    if (size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof(info->dlpi_subs)) {
        v[0] = info->dlpi_adds;
        v[1] = info->dlpi_subs;
    }
    return 1;
}

/* The mappings on record are this process's now: the stacks interned
 * from here on are the ones new_stacks_on_record looks at. */
static void maps_on_record(void)
{
    W.scanned = 1;
    W.scan_id = W.id_base + (uint32_t)W.ntab;
}

/* For sprof_maps_scan: does every frame of the stacks interned since the
 * last comparison lie in a mapping of the loader's objects? Not known of
 * stacks forgotten since (stacks_forget), nor looked at past COVER_FRAMES
 * frames (an interpreter's second of new stacks), where asking the kernel
 * costs less: the kernel is asked then. */
static int new_stacks_covered(void)
{
    uint32_t end = W.id_base + (uint32_t)W.ntab;
    if (W.scan_id < W.id_base) return 0;
    size_t frames = 0;
    for (uint32_t id = W.scan_id; id < end; id++) {
        const struct stack_entry *e = stack_at(id - W.id_base);
        if ((frames += e->n) > COVER_FRAMES ||
            !sprof_maps_covers((const uint64_t *)(W.frames.data + e->off), e->n))
            return 0;
    }
    return 1;
}

/* Compares the maps with what was reported. New mappings are dated from
 * the previous comparison (they appeared after it), so that samples taken
 * in a library dlopen'ed since then resolve to it; but never before the
 * last dlclose, whose range the new library may reuse. */
static void rescan_maps(uint64_t now)
{
    uint64_t t_new = W.last_scan > W.last_unmap ? W.last_scan : W.last_unmap;
    sprof_maps_scan(&W.chunk, t_new, now, exe_path(), new_stacks_covered);
    W.last_scan = now;
    W.unscanned = 0;
    maps_on_record();
}

/* Does every frame of the stacks interned since the last comparison of the
 * maps (W.scan_id on) lie in a mapping on record? Asked of a few stacks
 * only (NEW_STACKS_CHECKED): past that, or with stacks forgotten since,
 * the maps are compared. */
static int new_stacks_on_record(void)
{
    uint32_t end = W.id_base + (uint32_t)W.ntab;
    if (W.scan_id < W.id_base || end - W.scan_id > NEW_STACKS_CHECKED) return 0;
    for (uint32_t id = W.scan_id; id < end; id++) {
        const struct stack_entry *e = stack_at(id - W.id_base);
        if (!sprof_maps_on_record((const uint64_t *)(W.frames.data + e->off), e->n)) return 0;
    }
    return 1;
}

/* A descendant writes a file once it has samples (write_chunk): until then
 * a forced write has nothing to put anywhere, and reads nothing for the
 * records that would go nowhere (the names, clocks and counters: a dozen
 * system calls at the end of each /bin/true of a profiled shell script). */
SPROF_ONCE static int nothing_to_write(void)
{
    if (sprof.is_top || W.fd >= 0 || W.have_samples) return 0;
    for (unsigned i = 0, used = sprof_slots_end(); i < used; i++) {
        struct sprof_thread *t = __atomic_load_n(sprof_slot_ref(i), __ATOMIC_ACQUIRE);
        if (t && atomic_load(&t->head) != atomic_load(&t->tail)) return 0;
    }
    return 1;
}

/* A child of fork starts its own file with stacks of its own and the
 * mappings its parent had on record: the parent's stacks go, with its
 * descriptor (unless the program took its number meanwhile), and its list
 * of mappings becomes the child's first. Not in the child itself
 * (sprof_writer_after_fork_child): most such children exec at once, and
 * each page freed there (the list's strings, the stack table's arrays)
 * would cost the child a copy of it, a trap each, to no use (BENCHMARKS.md,
 * session 27). Under W.lock, before anything reads them. */
static void forget_parent(int ending)
{
    if (!W.inherited) return;
    W.inherited = 0;
    sprof_writer_close_parent_file();
    stacks_leave_parent(ending);
    /* the first chunk's mappings: the parent's as of its last comparison
     * (W.last_scan), which the next one starts from; none when the parent
     * made none, and the child compares at once */
    if (sprof_maps_restate(&W.chunk, sprof.start_ns)) maps_on_record();
}

SPROF_ONCE void sprof_writer_close_parent_file(void)
{
    if (W.parent_fd >= 0 && is_output(W.parent_fd)) sys_close(W.parent_fd);
    W.parent_fd = -1;
}

/* dlopen is not followed as it happens (see interpose.c): the loader's
 * counters tell, every drain, whether an object was added or removed. */
static void catch_up_loader(uint64_t now)
{
    unsigned long long c[2] = {W.dl_adds, W.dl_subs};
    dl_iterate_phdr(loader_counters, c);
    if (c[0] != W.dl_adds || c[1] != W.dl_subs) {
        W.dl_adds = c[0];
        W.dl_subs = c[1];
        rescan_maps(now);
        if (sprof.cfg.unwinder == UNWIND_DWARF) sprof_cfi_update();
    }
}

/* Before dlclose: objects loaded since the last drain go on record while
 * they are still mapped (a library loaded and unloaded between two drains,
 * or in a process whose writer thread is not made yet). */
void sprof_writer_before_unload(void)
{
    wlock();
    forget_parent(0);
    catch_up_loader(sprof_now());
    wunlock();
}

/* One step of the writer, under W.lock. */
static void step(int force_write, const char *end_reason, int status)
{
    if (force_write && nothing_to_write()) return;
    forget_parent(force_write);
    uint64_t now = sprof_now();
    /* here, not in the writer's loop alone: a short process's last write
     * may be the first after its threads fell back */
    if (!W.said_fallbacks && atomic_load(&sprof_posix_fallbacks)) {
        put_note(0, "threads past sprof's budget of perf descriptors (an eighth of "
                    "RLIMIT_NOFILE) are sampled with POSIX CPU timers");
        W.said_fallbacks = 1;
    }
    catch_up_loader(now);
    /* tables and libunwind serve samples to come: a forced write comes
     * when the timers are stopped (the end, an exec, a signal's death) */
    if (sprof.cfg.unwinder == UNWIND_DWARF && !force_write) {
        sprof_cfi_step();
        sprof_unwind_step();
    }
    if (sprof.cfg.unwinder == UNWIND_DWARF && end_reason) sprof_cfi_at_end();
    drain_all(force_write || now - W.last_write >= SPROF_WRITE_INTERVAL_NS,
              !end_reason && !force_write);
    if (force_write || now - W.last_write >= SPROF_WRITE_INTERVAL_NS ||
        W.chunk.len >= CHUNK_TARGET || (stacks_bytes() >= STACK_TABLE_MAX && !W.failed)) {
        /* The maps are compared for samples: the first time with the first
         * chunk that holds any, so that a process killed later has its
         * objects on file; then every second; and at a forced write, unless
         * it was done just now (exit's write may follow the writer's
         * last, or the one as the program's last thread ended, by
         * microseconds) or the few stacks since all lie in
         * mappings on record (a child of fork that took a sample or two
         * before its exec, in its parent's code, on the parent's list).
         * Each comparison walks the loader's list, and asks the kernel
         * (an open of /proc/self/maps and a query a mapping, 30-100 us)
         * only where that list falls short (maps.c). */
        if (W.unscanned &&
            (!W.scanned || now - W.last_scan >= SPROF_WRITE_INTERVAL_NS ||
             (force_write && now - W.last_scan >= RESCAN_MIN_NS && !new_stacks_on_record())))
            rescan_maps(now);
        /* the end: the samples' chunk first, held, so that the counters,
         * in a chunk of their own with the END record, count what making
         * it cost (the file's creation, the description, the compressor's
         * first call: most of a short process's writer), and one write for
         * both (the destructor's flush and the on_exit handler's were two
         * chunks and two writes; preload/init.c, sprof_fini) */
        int held = end_reason && write_chunk(1, 1);
        put_counters(now);
        if (end_reason) {
            /* the threads still running end with the process (or image) */
            for (unsigned i = 0, used = sprof_slots_end(); i < used; i++) {
                struct sprof_thread *t = __atomic_load_n(sprof_slot_ref(i), __ATOMIC_ACQUIRE);
                if (!t || atomic_load(&t->state) != SLOT_ACTIVE || !t->announced) continue;
                t->end_ns = now;
                t->cpu_ns = sprof_thread_cpu_ns(t->tid);
                put_thread_end(t);
            }
            sprof_buf_reset(&W.rec);
            sprof_buf_put_uvarint(&W.rec, now);
            sprof_buf_put_str(&W.rec, end_reason);
            sprof_buf_put_uvarint(&W.rec, (uint64_t)(unsigned)status);
            sprof_buf_put_record(&W.chunk, SPROF_REC_END, &W.rec);
        }
        if (held)
            write_held();
        else
            write_chunk(force_write, 0);
        W.last_write = now;
    }
}

static uint64_t drain_interval_ns(void)
{
    return (W.woken ? DRAIN_INTERVAL_MS : FIRST_DRAIN_MS) * 1000000ull;
}

static void *writer_main(void *arg)
{
    atomic_store(&W.tid, (pid_t)sys_callv(SYS_gettid));
    uint64_t last_threads_scan = 0, last_timers_check = sprof_now();
    int said_timers_lost = 0;
    /* read before the thread was made: a wake meanwhile (the first samples
     * asking for tables) is not slept through */
    uint32_t seen = W.wake_seen;
    while (!atomic_load(&W.stop)) {
        /* returns at once if the word changed since it was read */
        struct timespec ts = {0, (long)drain_interval_ns()};
        sys_callv(SYS_futex, &sprof.wake_word, FUTEX_WAIT_PRIVATE, seen, &ts, NULL, 0);
        if (W.born_pinned) {
            /* the process lived on: free to run beside the program */
            sys_sched_setaffinity(0, sizeof(W.cpus), &W.cpus);
            W.born_pinned = 0;
        }
        seen = atomic_load(&sprof.wake_word);
        atomic_store(&sprof.wake_pending, 0);
        W.woken = 1;
        int sig = atomic_load(&W.end_request);
        if (sig) {
            /* a signal is ending the process: the last chunk, then nothing */
            wlock();
            if (!W.ended) step(1, "signal", sig);
            W.ended = 1;
            wunlock();
            atomic_store(&W.end_done, 1);
            break;
        }
        if (atomic_load(&W.stop)) break;
        sprof_signals_tell_blocked();
        uint64_t now = sprof_now();
        /* All of the writer's work, the /proc scan's allocations included,
         * is under W.lock, which fork's prepare handler takes: no allocator
         * lock is copied held into a child. */
        wlock();
        W.stdio_ask = 1;
        if (atomic_load(&sprof.running) && sprof.backend != BACKEND_ITIMER &&
            now - last_threads_scan >= drain_interval_ns() && !stdio_wait()) {
            sprof_threads_scan(atomic_load(&W.tid));
            last_threads_scan = now;
        }
        if (atomic_load(&sprof.running) && now - last_timers_check >= SPROF_WRITE_INTERVAL_NS) {
            unsigned lost = sprof_threads_rearm_lost();
            if (lost && !said_timers_lost) {
                put_note(1, "the program closed the descriptors of sprof's timers (close_range, "
                            "closefrom or the like): they were made again");
                said_timers_lost = 1;
            }
            last_timers_check = now;
        }
        step(0, NULL, 0);
        W.stdio_ask = 0;
        wunlock();
    }
    wlock();
    if (!nothing_to_write()) W.writer_cpu_ns = sprof_clock_ns(CLOCK_THREAD_CPUTIME_ID);
    wunlock();
#if !SPROF_SANITIZED
    /* The process is ending (sprof_writer_stop, an ending signal): glibc's
     * cleanup of a returning thread (its resolver and RPC state, its malloc
     * cache, its keys' destructors) would run libc code nothing else of a
     * short process touches, for memory about to go: three page faults.
     * pthread_join sees the thread end all the same (the kernel clears its
     * tid), though glibc still counts it among the process's threads: not
     * when the program's threads are gone (sprof_writer_stop_early). Not
     * under a sanitizer, whose runtime must see the thread end. */
    if (!W.glibc_exit) sys_callv(SYS_exit, 0);
#endif
    return NULL;
}

void sprof_writer_note(int level, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    wlock();
    put_note(level, text);
    wunlock();
}

void sprof_writer_maps_changed(uint64_t t_new, uint64_t t_gone)
{
    wlock();
    forget_parent(0);
    /* a first scan dates what it finds from the start */
    sprof_maps_scan(&W.chunk, W.scanned ? t_new : W.last_scan, t_gone, exe_path(),
                    new_stacks_covered);
    W.last_scan = W.last_unmap = t_gone;
    W.unscanned = 0;
    maps_on_record();
    if (sprof.cfg.unwinder == UNWIND_DWARF) sprof_cfi_update();
    wunlock();
}

/* ---- glibc's state, as it would be without the writer ----
 *
 * The writer is a thread that glibc counts, and a process that has made a
 * thread runs glibc in its threaded modes for good: fork's (below,
 * sprof_writer_fork_begin) and stdio's. glibc locks a stream at each
 * getc, putc and the like only once the process has made a thread: the
 * first pthread_create, finding glibc's count of threads at one, sets a
 * flag of stdio's (_IO_enable_locks) that marks every stream open then and
 * every one opened later, and nothing clears it. A single-threaded
 * program's getc loop ran half as slow again under sprof (libc-modes.c;
 * BENCHMARKS.md, sessions 47 and 48), and its profile showed locking that
 * the program does not do without sprof. The writer touches no stream (it
 * writes with write(2) and formats into strings), so when its making is
 * the process's first, stdio is put back as it was: the flag cleared, the
 * marks taken off, and the writer left out of glibc's count, so that the
 * program's first thread, however it is made (pthread_create, thrd_create,
 * the helper threads that timer_create, mq_notify, aio and getaddrinfo_a
 * make inside libc), finds the count at one and sets them all again
 * itself, as it would have without sprof. glibc's allocator and its
 * cancellable system calls stay in their threaded mode: they read glibc's
 * own __libc_single_threaded, which the writer needs false (single_again;
 * libsprof(7), LIMITS).
 *
 * Out of the count, the writer no longer keeps glibc from ending the
 * process by exit(0) when the program's last thread ends by pthread_exit
 * (sprof_writer_stop_early has nothing to do). The flag is glibc's own:
 * found by the first instruction of _IO_enable_locks (GLIBC_PRIVATE,
 * "mov flag(%rip),%eax"), and trusted only when the writer's making was
 * seen to set it, with the count going from one to two and the newest
 * stream's mark coming on. Not under a sanitizer. */
static char *glibc_single;           /* glibc's own __libc_single_threaded (fork's) */
static char *program_single;         /* the one the program reads (a copy of its own) */
static unsigned int *glibc_nthreads; /* glibc's __nptl_nthreads (GLIBC_PRIVATE) */
static int *glibc_stdio_locks;       /* stdio's flag (_IO_enable_locks, GLIBC_PRIVATE) */
static FILE **glibc_streams;         /* _IO_list_all: the newest stream, then each _chain */
static unsigned glibc_minor;         /* 36 for glibc 2.36, 0 if unknown */
static int glibc_looked;

#define STREAM_NEEDS_LOCK 0x80 /* glibc's _IO_FLAGS2_NEED_LOCK, a bit of _flags2 */

/* Looks glibc's private state up, once a process image (a child of fork
 * has its parent's), when the writer is first made: not at every start,
 * where it would cost each short descendant, which never makes a writer,
 * 2-6 us (BENCHMARKS.md, session 48). A late writer is made in a
 * signal handler at a safe point (handler.c, late_point), where dlsym is
 * as safe as the pthread_create that follows: the interrupted code is not
 * in libc or the loader, and the process has no other thread. */
SPROF_ONCE static void glibc_lookup(void)
{
    if (glibc_looked) return;
    glibc_looked = 1;
#if !SPROF_SANITIZED
    /* libc's definition, after sprof's: a program that reads the flag
     * (libstdc++'s inline functions do) may have a copy of it of its own,
     * which is what sprof's own reference would reach */
    glibc_single = (char *)dlsym(RTLD_NEXT, "__libc_single_threaded");
    program_single = (char *)dlsym(RTLD_DEFAULT, "__libc_single_threaded");
    glibc_nthreads = (unsigned int *)dlsym(RTLD_NEXT, "__nptl_nthreads");
    /* these two public, but looked up, not imported: an import costs every
     * start (BENCHMARKS.md, session 46), and this one moved the loader's
     * data so that a child of fork took a page fault more at its first
     * lazy binding (session 48) */
    glibc_streams = (FILE **)dlsym(RTLD_NEXT, "_IO_list_all");
    const char *(*version)(void) = (const char *(*)(void))dlsym(RTLD_NEXT, "gnu_get_libc_version");
    const char *v = version ? version() : "";
    if (v[0] == '2' && v[1] == '.')
        for (v += 2; *v >= '0' && *v <= '9' && glibc_minor < 1000; v++)
            glibc_minor = glibc_minor * 10 + (unsigned)(*v - '0');
#if defined(__x86_64__)
    const unsigned char *f = dlsym(RTLD_NEXT, "_IO_enable_locks");
    if (f && f[0] == 0x8b && f[1] == 0x05) { /* mov rel32(%rip),%eax */
        int32_t rel;
        memcpy(&rel, f + 2, sizeof(rel));
        glibc_stdio_locks = (int *)(uintptr_t)(f + 6 + rel);
    }
#endif
#endif
}

/* The writer is out of glibc's count: in its process, not in a child of
 * fork, which has none (and whose count is right: no write in the child,
 * where each is a page fault). */
static int uncounted(void)
{
    return W.uncounted == sprof.pid;
}

struct glibc_state {
    int locks;        /* stdio's flag, -1 if unknown */
    unsigned threads; /* glibc's count of its threads */
    int marked;       /* the newest stream is marked, -1 if there is none */
};

static struct glibc_state glibc_state(void)
{
    struct glibc_state s = {-1, 0, -1};
    if (!glibc_stdio_locks || !glibc_nthreads || !glibc_streams || uncounted()) return s;
    s.locks = __atomic_load_n(glibc_stdio_locks, __ATOMIC_RELAXED);
    s.threads = __atomic_load_n(glibc_nthreads, __ATOMIC_RELAXED);
    FILE *newest = *glibc_streams;
    if (newest) s.marked = (newest->_flags2 & STREAM_NEEDS_LOCK) != 0;
    return s;
}

/* A glibc whose makers of threads sprof knows (interpose.c, THREAD_MAKER):
 * every caller of glibc's own pthread_create, the same from 2.34, which
 * moved libpthread and librt into libc, to 2.40 (checked by objdump in
 * 2.36: thrd_create, and the helper threads of timer_create, mq_notify,
 * aio and getaddrinfo_a). */
static int glibc_known(void)
{
    return glibc_minor >= 34 && glibc_minor <= 40;
}

/* __libc_single_threaded, which glibc's pthread_create clears, is read by
 * glibc itself (its allocator, its mutexes, its cancellable system calls:
 * the writer allocates and takes the loader's lock, so that one stays
 * false) and by the program: by libstdc++'s reference counts (shared_ptr's),
 * inlined in the program, to count without atomic instructions (shared_ptr
 * copies took a quarter longer with it false, BENCHMARKS.md, session 48).
 * A program that refers to it has a copy of its own (a copy relocation):
 * glibc reads its own, pthread_create clears both, and the program's copy
 * alone can be set back. Nothing in glibc clears it again at the program's
 * first thread (pthread_create finds its own already false): sprof's
 * functions that make threads do, first (sprof_writer_threads_coming). A
 * child of fork has its parent's. */
static void single_again(void)
{
    if (!program_single || program_single == glibc_single || W.threads_coming || *program_single ||
        !glibc_known())
        return;
    *program_single = 1;
    W.single_lent = 1;
}

/* The program is making a thread (pthread_create, thrd_create) or may
 * have libc make one for it (timer_create, mq_notify, aio, getaddrinfo_a):
 * the program's flag as glibc would have it (above), for good. */
void sprof_writer_threads_coming(void)
{
    if (!W.threads_coming) W.threads_coming = 1;
    if (W.single_lent) {
        W.single_lent = 0;
        *program_single = 0;
    }
}

/* The writer was just made, the first thread of the process if before
 * says so: stdio as it was (above). The program has one thread, this one,
 * which may be a signal handler's at a safe point (sprof_writer_late): no
 * other changes the list of streams meanwhile, and the writer never does. */
SPROF_ONCE static void streams_alone(struct glibc_state before)
{
    if (before.locks != 0 || before.threads != 1 || before.marked == 1) return;
    struct glibc_state now = glibc_state();
    if (now.locks != 1 || now.threads != 2 || now.marked != (before.marked < 0 ? -1 : 1)) return;
    __atomic_store_n(glibc_stdio_locks, 0, __ATOMIC_RELAXED);
    for (FILE *f = *glibc_streams; f; f = f->_chain)
        f->_flags2 &= ~STREAM_NEEDS_LOCK;
    __atomic_fetch_sub(glibc_nthreads, 1, __ATOMIC_RELAXED);
    W.uncounted = sprof.pid;
    single_again();
}

/* Makes the writer thread on the calling thread's CPU (pin): the thread
 * inherits its maker's CPUs, which for that moment are this one alone.
 *
 * Why, in the child of a fork: most such children exec at once (bash
 * forks for each command it runs). A writer thread that ran on another CPU
 * leaves this address space loaded there, idle: the exec then waits for it
 * to die, and the old address space's teardown interrupts that CPU to
 * flush its TLB, which on a virtual machine wakes a halted virtual CPU.
 * Born here, it touches no other CPU before its first wake, when it takes
 * back the CPUs the program may use (writer_main). Not at a process's
 * start, where the three calls cost more than they save (BENCHMARKS.md,
 * session 18). */
SPROF_ONCE static int create_writer(pthread_attr_t *attr, int pin)
{
    cpu_set_t here;
    int cpu = pin ? sched_getcpu() : -1;
    W.born_pinned = 0;
    if (cpu >= 0 && cpu < CPU_SETSIZE && sys_sched_getaffinity(0, sizeof(W.cpus), &W.cpus) == 0) {
        CPU_ZERO(&here);
        CPU_SET(cpu, &here);
        W.born_pinned = sys_sched_setaffinity(0, sizeof(here), &here) == 0;
    }
    int r = sprof_create_thread(&W.thread, attr, writer_main, NULL);
    if (W.born_pinned) sys_sched_setaffinity(0, sizeof(W.cpus), &W.cpus);
    if (r) W.born_pinned = 0;
    return r;
}

/* Makes the writer thread, with every signal blocked but, with the itimer
 * backend, sprof's: ITIMER_PROF's signal goes to the thread whose CPU time
 * fired it unless that thread blocks it, and then to another, to a program
 * thread asleep in nanosleep or poll, which fails with EINTR. The writer
 * takes its own (the handler drops them, handler.c). The mask is set with a
 * system call, as a handler may be the caller (sprof_writer_late). 0 or an
 * errno. */
SPROF_ONCE static int spawn(int forked, int late)
{
    sprof_writer_settle_nthreads();
    sigset_t old;
    sys_callv(SYS_rt_sigprocmask, SIG_SETMASK, &W.thread_mask, &old, _NSIG / 8);
    atomic_store(&W.stop, 0);
    /* a late writer is made for samples that wait: its first step is at
     * once (the handlers' wakes before it existed are not repeated) */
    W.wake_seen = atomic_load(&sprof.wake_word) - (late ? 1 : 0);
    glibc_lookup();
    struct glibc_state before = glibc_state();
    int r = W.stack_attr_ok ? create_writer(&W.stack_attr, forked) : EAGAIN;
    /* (a program's static TLS bigger than the stack: glibc's own stack) */
    if (r) r = create_writer(NULL, forked);
    sys_callv(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, _NSIG / 8);
    if (!r) {
        W.thread_running = 1;
        streams_alone(before);
    }
    return r;
}

/* Writes the top's file header, process, config and mapping records, and
 * starts the writer thread, or, in a descendant that late_ok allows, leaves
 * it to sprof_writer_late. A descendant reads its maps when samples need
 * them (step). forked: in the child of a fork (create_writer). */
SPROF_ONCE int sprof_writer_start(int forked, int late_ok)
{
    wlock();
    W.last_scan = sprof.start_ns; /* the first scan dates what it finds from here */
    W.last_write = sprof.start_ns;
    W.last_unmap = 0;
    /* A child of fork has its parent's set of objects, right unless one
     * came or went since the parent's writer last looked: describing them
     * again would read each one's headers, a page fault each in a child
     * (five a fork of bash). Its parent read the loader's counters just
     * before the fork (sprof_writer_prepare_fork): not again here, where
     * dl_iterate_phdr's lock is a write to a page of the loader's that the
     * child would copy (a fault in every child, BENCHMARKS.md, session 44).
     * An object loaded meanwhile by another of the parent's threads is
     * found as the child's own loads are: the child's next step compares
     * the counters again (catch_up_loader), and a handler that meets code
     * outside the set asks for that step (unwind.c, sprof_cfi_unknown). */
    unsigned long long c[2] = {W.dl_adds, W.dl_subs};
    if (!forked || !W.fork_counted) dl_iterate_phdr(loader_counters, c);
    W.fork_counted = 0;
    int same =
        forked && c[0] == W.dl_adds && c[1] == W.dl_subs && atomic_load(&sprof_cfi_current) != NULL;
    W.dl_adds = c[0];
    W.dl_subs = c[1];
    if (sprof.cfg.unwinder == UNWIND_DWARF && !same) sprof_cfi_update();
    if (sprof.is_top) {
        /* the file exists from the start, with the objects loaded then: a
         * chunk damaged later takes its own samples only */
        describe();
        rescan_maps(W.last_write);
        write_chunk(0, 0);
    }
    wunlock();
    if (W.failed) return -1;

    if (!forked) { /* a child of fork has its parent's */
        sys_sigfillset(&W.thread_mask);
        if (sprof.backend == BACKEND_ITIMER) sys_sigdelset(&W.thread_mask, sprof.cfg.signo);
    }
    if (!W.stack_attr_ok && pthread_attr_init(&W.stack_attr) == 0)
        W.stack_attr_ok = pthread_attr_setstack(&W.stack_attr, sprof_space.writer_stack,
                                                sizeof(sprof_space.writer_stack)) == 0;
    if (late_ok) {
        atomic_store(&W.late, 1);
        return 0;
    }
    int r = spawn(forked, 0);
    if (r != 0) {
        sprof_err("cannot start the writer thread: %s; not sampling", strerror(r));
        return -1;
    }
    return 0;
}

/* A descendant without its writer thread makes it now: from the signal
 * handler at a safe point (handler.c), or before the program makes a
 * thread (interpose.c). Once: whoever clears W.late makes it. In signal
 * context a failure stops sampling and is said at the end (late_said). */
SPROF_ONCE void sprof_writer_late(int from_handler)
{
    if (!atomic_exchange(&W.late, 0)) return;
    int r = spawn(0, 1);
    if (!r) {
        sprof_endings_init(); /* a writer to flush now */
        return;
    }
    atomic_store(&sprof.running, 0);
    if (from_handler)
        atomic_store(&W.late_failed, r);
    else
        sprof_err("cannot start the writer thread: %s; sampling stopped", strerror(r));
}

int sprof_writer_late_pending(void)
{
    return atomic_load_explicit(&W.late, memory_order_relaxed);
}

static void late_said(void)
{
    int r = atomic_exchange(&W.late_failed, 0);
    if (r) sprof_err("cannot start the writer thread: %s; sampling stopped", strerror(r));
}

SPROF_ONCE void sprof_writer_flush(const char *end_reason, int status)
{
    late_said();
    wlock();
    /* (step's own first test: a process with nothing to write does not
     * run the writer's code, nor read its CPU clock twice) */
    if (!W.ended && !nothing_to_write()) {
        W.inline_from = sprof_thread_cpu_now();
        step(1, end_reason, status);
        sprof_writer_add_inline(sprof_thread_cpu_now() - W.inline_from);
        W.inline_from = 0;
    }
    wunlock();
}

/* Under the writer's lock, or in a process of one thread interrupted
 * outside sprof (handler.c, late_work). */
void sprof_writer_add_inline(uint64_t ns)
{
    W.inline_ns += ns;
}

SPROF_ONCE void sprof_writer_halt(void)
{
    atomic_store(&W.late, 0);
#if !SPROF_SANITIZED
    /* A descendant that took no sample has nothing for the writer to do:
     * it is left asleep (it ends with the process), which spares the wake,
     * the join and two trips through the scheduler at the end of each
     * /bin/true of a profiled script. A sample that comes after this check
     * (a handler running as the timers stopped) is written by the flush
     * below, in this thread, as every last write is. Not when glibc must
     * see the writer end (sprof_writer_stop_early), and not under a
     * sanitizer, whose runtime must. */
    if (W.thread_running && !W.glibc_exit) {
        wlock();
        int idle = nothing_to_write();
        wunlock();
        if (idle) {
            atomic_store(&W.stop, 1);
            W.thread_running = 0;
        }
    }
#endif
    if (W.thread_running) {
        atomic_store(&W.stop, 1);
        sprof_wake_writer_now();
        pthread_join(W.thread, NULL);
        W.thread_running = 0;
    }
}

SPROF_ONCE void sprof_writer_stop(const char *end_reason, int status)
{
    sprof_writer_halt();
    sprof_writer_flush(end_reason, status);
}

/* The program's last thread of its own is ending (init.c, thread_exit):
 * the writer ends now, through glibc, so that glibc's count of threads
 * lets that thread's end call exit(0). */
void sprof_writer_stop_early(void)
{
    if (uncounted()) return; /* glibc does not count it (streams_alone) */
    W.glibc_exit = 1;
    sprof_writer_stop(NULL, 0);
}

/* ---- a fork with the writer as the process's one other thread ----
 *
 * glibc's fork takes its multi-threaded path when __libc_single_threaded
 * is false, as it is for good once the writer thread exists: it takes and
 * gives back the allocator's and stdio's locks around the fork, and the
 * child resets them, its stacks, its resolver state and more. Each of
 * those writes is a page fault on a page the fork just shared, 14 a fork
 * more than a single-threaded process takes, 4 in the parent and 10 in
 * the child (BENCHMARKS.md, session 47): a shell that forks for each
 * command paid them all. When the kernel counts two threads, the caller
 * and the writer, the fork is the program's alone, as glibc would see it
 * without sprof: the flag is set for glibc to read at fork's entry, with
 * the writer's lock held from before (the prepare handler's, taken here):
 * all the writer does in libc, the allocator included, it does under that
 * lock (writer_main), so none of libc's locks is held by it at the fork,
 * and what the multi-threaded path would reset in the child was never
 * taken. sprof's prepare handler, the last to run, clears the flag again.
 * glibc's count of its threads, which the child's multi-threaded path sets
 * to one, is put right in the child (sprof_writer_settle_nthreads). Not
 * under a sanitizer (its runtime has threads of its own and intercepts
 * fork), nor where glibc has no such flag. */
SPROF_ONCE int sprof_writer_fork_begin(void)
{
#if SPROF_SANITIZED
    return 0;
#else
    if (!atomic_load(&W.thread_running)) return 0;
    glibc_lookup();
    if (!glibc_single || !glibc_nthreads || *glibc_single) return 0;
    wlock();
    if (!atomic_load(&W.thread_running) || W.stop || sprof_threads_counted() != 2) {
        wunlock();
        return 0;
    }
    W.fork_lone = 1;
    *glibc_single = 1;
    return 1;
#endif
}

/* After the fork in the caller (r: fork's result), whether or not sprof's
 * handlers ran: the flag and the lock as they were, once. The flag is
 * cleared by the prepare handler already, after glibc read it and before
 * the fork: a write here would take a page fault in the parent. */
SPROF_ONCE void sprof_writer_fork_end(pid_t r)
{
    if (!W.fork_lone) return;
    W.fork_lone = 0;
    W.lone_depth = 0;
    if (r == 0) {
        sprof_mutex_renew(&W.lock);
        atomic_store(&W.lock_owner, 0);
        return;
    }
    if (*glibc_single) *glibc_single = 0;
    wunlock();
}

/* glibc's count of its threads in a child of such a fork still has the
 * parent's writer in it, where its multi-threaded path would have set it
 * to one: the initial thread ending by pthread_exit would then not end the
 * process by exit(), nor would the last of the threads made since. Put
 * right before it matters, when a thread is made or ends (a write to a
 * page of libc's at every fork, else: one page fault more in each child). */
void sprof_writer_settle_nthreads(void)
{
    unsigned over = W.nthreads_over;
    if (!over) return;
    W.nthreads_over = 0;
    __atomic_fetch_sub(glibc_nthreads, over, __ATOMIC_RELAXED);
}

/* Before a fork, in the parent. A parent that has not compared its maps
 * yet (it does with its first write, up to a second after its start)
 * does so now, once: each child of fork starts its file with its
 * parent's record (forget_parent), and a child that found none looked up
 * every object itself, reading their program headers and notes on pages
 * its page tables do not have yet: a shell's commands in its first
 * second, 20 lookups and some 300 us each (BENCHMARKS.md, session 31).
 * Objects loaded since the writer's last step (sprof's own libzstd and
 * libunwind among them) are caught up with here too: a child that finds
 * the loader's counters changed compares the maps itself. Not in a child
 * that has not started its own record (W.inherited): its children restate
 * the one it has from its parent. */
SPROF_ONCE void sprof_writer_prepare_fork(void)
{
    if (W.fork_lone)
        *glibc_single = 0; /* read by glibc at fork's entry, not after */
    else
        wlock();
    if (sprof.cfg.follow && !W.inherited && !W.failed && !W.ended && atomic_load(&sprof.running)) {
        uint64_t now = sprof_now();
        catch_up_loader(now);
        W.fork_counted = 1;
        if (!W.scanned) rescan_maps(now);
    }
    pthread_mutex_lock(&sprof.reg_lock);
    sprof_threads_before_fork();
}

SPROF_ONCE void sprof_writer_parent_fork(void)
{
    W.fork_counted = 0;
    pthread_mutex_unlock(&sprof.reg_lock);
    if (W.fork_lone)
        sprof_writer_fork_end(1);
    else
        wunlock();
}

/* In the child of fork: the writer thread does not exist here, the file is
 * the parent's. Start over with an empty state of our own. */
SPROF_ONCE void sprof_writer_after_fork_child(void)
{
    /* the child has one thread: any more in glibc's count are the
     * parent's, read here (a read takes no fault), put right later */
    unsigned counted = W.fork_lone ? __atomic_load_n(glibc_nthreads, __ATOMIC_RELAXED) : 1;
    unsigned over = counted > 1 ? counted - 1 : 0;
    if (W.nthreads_over != over) W.nthreads_over = over; /* most children: no write */
    sprof_writer_fork_end(0);
    sprof_mutex_renew(&W.lock);
    /* the parent's file, stacks and mappings: at the first write
     * (forget_parent), if the child lives to make one */
    if (W.fd >= 0) W.parent_fd = W.fd;
    W.fd = -1;
    W.inherited = 1;
    W.failed = 0;
    W.seq = 0;
    W.file_size = 0;
    W.thread_running = 0;
    atomic_store(&W.late, 0);
    atomic_store(&W.late_failed, 0);
    W.said_fallbacks = 0;
    atomic_store(&W.tid, 0);
    atomic_store(&W.lock_owner, 0);
    atomic_store(&W.end_request, 0);
    atomic_store(&W.end_done, 0);
    W.ended = 0;
    W.woken = 0;
    W.scanned = 0;
    W.unscanned = 0;
    W.described = 0;
    W.have_samples = 0;
    W.threads_seen = 0;
    W.writer_cpu_ns = 0;
    W.inline_ns = W.inline_from = 0;
    memset(W.dead, 0, sizeof(W.dead));
    memset(W.dead_hist, 0, sizeof(W.dead_hist));
    sprof_buf_reset(&W.chunk);
    /* small chunks stored until the first larger one, as in a new process:
     * the compressor's context is the parent's memory, and compressing a
     * child's one chunk of a few samples wrote to its pages, a copy and a
     * trap each: 11 of a sampled child's 87 page faults (BENCHMARKS.md,
     * session 30) for 130 bytes of its file */
    if (W.enc.z) W.enc.min_size = COMPRESS_MIN;
    sprof_cfi_after_fork_child();
}
