/* SPDX-License-Identifier: MIT */
/*
 * Internal interfaces of libsprof.so. Nothing here is exported: the library
 * is built with -fvisibility=hidden and only the interposed libc functions
 * (interpose.c) are visible.
 *
 * Who runs where:
 *   handler.c, unwind.c   signal context only (async-signal-safe, see
 *                          ARCHITECTURE.md invariant 1)
 *   cfi.c                 unwind tables for unwind.c, built by the writer
 *                          (cfi.h)
 *   timer.c               arms/disarms per-thread timers (any thread, never
 *                          the handler)
 *   threads.c             the thread registry: slots with per-thread rings
 *   writer.c              the writer thread: drains rings, writes chunks;
 *                          sprof_writer_late makes it, also from the handler
 *                          at a safe point (init.c, sprof_late)
 *   compress.c            libzstd, loaded for the first chunk worth it
 *   maps.c                executable mappings and build-ids (writer side)
 *   init.c                configuration, start, stop, fork, exec
 *   interpose.c           pthread_create, fork, exec*, dlopen, dlclose
 */
#ifndef SPROF_PRELOAD_H
#define SPROF_PRELOAD_H

#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "format.h"
#include "sys.h"

#define SPROF_HIDDEN __attribute__((visibility("hidden")))
/* Code a process runs once or a few times (its start and end, a fork's
 * child, an exec, a thread's making and end): the compiler puts it all
 * together, at the start of the text (.text.unlikely, beside the
 * constructor's .text.startup), away from the sampling path. Each 64 KiB
 * window of the text a process first runs code in is a page fault (the
 * kernel maps the window at once), in every process and in every child of
 * fork (which gets no page-table entries for the text): a /bin/true under
 * sprof ran code in two or three of libsprof.so's windows, and now in one
 * most often (BENCHMARKS.md, session 29). Also optimized for size. */
#define SPROF_ONCE __attribute__((cold))

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SPROF_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SPROF_SANITIZED 1
#endif
#endif
#ifndef SPROF_SANITIZED
#define SPROF_SANITIZED 0
#endif
#if defined(__SANITIZE_THREAD__)
#define SPROF_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SPROF_TSAN 1
#endif
#endif
#ifndef SPROF_TSAN
#define SPROF_TSAN 0
#endif

/* A function ThreadSanitizer does not instrument: its reads and writes are
 * not recorded (interpose.c, handler.c say where that is needed). */
#if defined(__clang__) && defined(__has_attribute)
#if __has_attribute(disable_sanitizer_instrumentation)
#define NOT_INSTRUMENTED __attribute__((disable_sanitizer_instrumentation))
#endif
#endif
#ifndef NOT_INSTRUMENTED
#define NOT_INSTRUMENTED __attribute__((no_sanitize_thread))
#endif

/* A function that reads the program's stack words, its frames' redzones
 * included, which ASan would report (unwind.c's stack_word, handler.c's
 * scan for a signal frame). */
#ifdef __SANITIZE_ADDRESS__
#define STACK_READS __attribute__((no_sanitize_address))
#else
#define STACK_READS
#endif

/* A lock held across fork, new in the child. glibc's pthread_mutex_init
 * writes the initializer's bytes; called instead, its first call in each
 * child of a process that never calls it was a symbol lookup, in pages of
 * the loader's and the libraries' tables the child had not touched (with
 * that of execve, interpose.c: ten page faults a fork of bash). The
 * sanitizers see the call. */
static inline void sprof_mutex_renew(pthread_mutex_t *m)
{
#if SPROF_SANITIZED
    pthread_mutex_init(m, NULL);
#else
    *m = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
#endif
}

enum sprof_backend { BACKEND_PERF, BACKEND_POSIX, BACKEND_ITIMER };
/* dwarf: the tables of cfi.h, libunwind where they fall short (unwind.c) */
enum sprof_unwinder { UNWIND_DWARF, UNWIND_FP, UNWIND_LIBUNWIND };

/* Paths are at most this long, terminator included. The configuration
 * keeps them in the start's arena or on the heap (sprof_start_join), not
 * in sprof_state: a 4 KiB array of which a few bytes are written costs
 * every process a page fault (BENCHMARKS.md). */
#define SPROF_PATH_MAX 4096
/* the writer appends a chunk at least this often (writer.c) */
#define SPROF_WRITE_INTERVAL_NS 1000000000ull

struct sprof_config {
    const char *output; /* SPROF_OUTPUT as given (template); during sprof_init only */
    unsigned freq;      /* SPROF_FREQ */
    int signo;          /* SPROF_SIGNAL */
    int timer_request;  /* -1 auto, else enum sprof_backend */
    int unwinder;       /* enum sprof_unwinder */
    unsigned max_depth; /* SPROF_DEPTH */
    int follow;         /* SPROF_FOLLOW */
    int quiet;          /* SPROF_QUIET */
    char *cache_dir;    /* SPROF_CACHE_DIR: unwind tables kept by build-id; NULL off */
};

/* Ring entry layout, in 64-bit words:
 *   [0] magic 0x5350 << 48 | flags << 32 | keep << 31 | shared << 16 | nframes
 *   [1] timestamp (CLOCK_MONOTONIC ns)
 *   [2] weight (ns of CPU time)
 *   [3..3+nframes) the stack's innermost frames
 * and its outermost `shared` frames are those of the thread's previous
 * entry, which had keep set (at most RING_SHARE_MAX of them; handler.c,
 * share): a sample of a program whose outer frames stay put is a few
 * words, not its whole stack. An entry without keep shares nor keeps
 * anything (a thread's first samples).
 * The handler is the only producer, the writer the only consumer. */
#define RING_WORDS (16u * 1024u) /* 128 KiB per thread; a power of two */
#define RING_MASK (RING_WORDS - 1u)
#define RING_ENTRY_MAGIC 0x5350ull
#define RING_HDR_WORDS 3u
#define RING_SHARE_MAX 256u
#define RING_SHARE_FROM 16u /* a thread's samples before its entries share frames */
#define RING_KEEP (1ull << 31)

enum slot_state { SLOT_FREE = 0, SLOT_ACTIVE = 1, SLOT_ENDED = 2 };

/* A thread's cache of unwind rules by address, direct-mapped: the outer
 * frames of a deep program (a compiler's main, its passes, an interpreter's
 * dispatch loop) come back sample after sample, and the table search they
 * would each need reads memory that the program has long evicted. look 0:
 * an empty slot. */
#define RULE_CACHE_BITS 8
#define RULE_CACHE_SLOTS (1u << RULE_CACHE_BITS)

struct sprof_rule_slot {
    uintptr_t look;
    uint32_t rule;
};

#define SPROF_NAME_MAX 16 /* a thread's name and its NUL, as the kernel keeps it */

struct sprof_share {
    uint64_t h[RING_SHARE_MAX], w[RING_SHARE_MAX];
};

/* The handler's record of the thread's last walk through the unwind tables
 * (unwind.c, walk_memo): for each of its outermost frames, up to
 * MEMO_MAX, the registers the walk had there and the stack words its step
 * to the caller read. A walk that comes to a frame with the pc, sp and rbp
 * of one of them checks that those words still hold what they held (the
 * steps above it then go as they went) and takes its outer frames from
 * here: a deep program's samples walk their few new frames, not the 200
 * under them. */
#define MEMO_MAX 256u
struct sprof_memo_frame {
    uint64_t pc, sp, fp;
    /* where the step to the caller read rbp and the CFA (0: nowhere); it
     * read the return address at the caller's sp - 8 */
    uint64_t rbp_at, cfa_at;
};

struct sprof_memo {
    struct sprof_memo_frame f[MEMO_MAX];    /* outermost first, as sprof_share's */
    struct sprof_memo_frame walk[MEMO_MAX]; /* the walk under way's, modulo MEMO_MAX */
};
_Static_assert((MEMO_MAX & (MEMO_MAX - 1)) == 0, "a power of two");

struct sprof_thread {
    _Atomic int state;
    pid_t tid;
    unsigned index; /* in the registry (sprof_slot_ref) */
    int external;   /* found by the /proc scan, not by pthread_create */
    int announced;  /* the writer wrote its THREAD record */
    char name[SPROF_NAME_MAX];
    char announced_name[SPROF_NAME_MAX];
    uint64_t name_ns; /* when the writer last read name (writer.c, drain_all) */
    uint64_t start_ns, end_ns;
    uint64_t cpu_ns; /* CPU time used, read when it ended (0: unknown) */

    /* timer */
    int perf_fd;
    uint64_t perf_id;    /* the event's id (PERF_EVENT_IOC_ID): is perf_fd still it? */
    int first_period;    /* perf: the first, random period is running */
    int has_posix_timer; /* the POSIX backend's, or the perf one's past its budget (timer.c) */
    int posix_timer;     /* the kernel's id (sys.h) */

    /* stack bounds for the frame-pointer and table unwinders; 0 when unknown */
    _Atomic uintptr_t stack_lo, stack_hi;
    _Atomic uintptr_t last_sp; /* set by the handler while bounds are unknown */

    /* ring: producer = handler, consumer = writer */
    uint64_t *ring;
    _Atomic uint64_t head, tail;

    /* written by the handler, read (racily, monotonic) by the writer */
    volatile sig_atomic_t in_handler;
    _Atomic uint64_t samples, lost, truncated, handler_ns, reentered;
    _Atomic uint64_t unwind_fallback; /* dwarf: samples libunwind walked */
    _Atomic uint64_t unwind_inplace;  /* dwarf: frames looked up in place */
    _Atomic uint32_t hist[SPROF_HIST_BUCKETS];
    uint64_t last_cpu_ns; /* posix, itimer: the thread's CPU clock at its previous sample */

    /* the handler's own: unwind rules it read from tables lately (unwind.c),
     * RULE_CACHE_SLOTS of them on the first page after the ring and the
     * shared frames (one page, which a thread touches only once it walks
     * through a table) */
    struct sprof_rule_slot *rules;
    uint64_t rules_gen; /* the set of objects (cfi.h) they were read from; 0: none yet;
                         * UINT64_MAX: none, and the cache to be cleared (threads.c) */

    /* the writer's (before it is made, the handler's: sprof_ring_populate_late):
     * words of the ring from its start whose pages it faulted in, and the
     * head at its last look (writer.c) */
    uint64_t ring_ready, ring_seen;
    int wipe_on_fork; /* its ring and rule cache are (threads.c, sprof_threads_before_fork) */

    /* A ring entry's shared frames (above): each side's copy of the
     * outermost frames of the thread's last stack kept, the handler's of
     * the last it put in the ring (outer->h), the writer's of the last it
     * took out (outer->w), outermost first: h[i] is frame n - 1 - i of an
     * n-frame stack. After the ring (threads.c, slot_alloc): before it,
     * the ring's first words moved to a page of their own, a fault more
     * for a process that samples a few times, each child of a shell's
     * fork; in the struct, its size moved the start's arena to a page of
     * its own. The two copies apart: side by side, the writer's stores
     * took the lines the handler reads next (a forking shell's samples,
     * 1.6 us more each). BENCHMARKS.md, session 42. */
    struct sprof_share *outer;
    unsigned share_h;         /* the handler's: outer->h[0, share_h) hold frames */
    unsigned share_w, prev_n; /* the writer's: outer->w[0, share_w); its last stack's depth */
    unsigned prev_flags;      /* and flags */
    uint32_t prev_id;         /* and id, when prev_id_ok */
    int prev_id_ok;
    _Atomic int resync; /* the writer lost an entry: the next is to share nothing */

    /* The last walk's outer frames (above), after the shared frames, from
     * a thread's RING_SHARE_FROM-th sample on. memo->f[0, memo_n) hold
     * frames; memo_end_at: where its last step read a return address of 0
     * (0: it ended without); memo_gen, memo_hi: the set of objects and the
     * stack's top it walked with. */
    struct sprof_memo *memo;
    unsigned memo_n;
    unsigned memo_rest; /* walks to go without it (unwind.c, MEMO_REST) */
    uint64_t memo_end_at, memo_gen, memo_hi;
};

#define MAX_THREADS 4096
#define FD_TABLE_SIZE 65536
/* a slot: the thread's struct, its ring, its rule cache at the start of a
 * page (the first slot, in the .bss, starts on no page boundary: room for
 * up to a page of padding; threads.c) */
#define SPROF_SLOT_BYTES                                                                           \
    (((sizeof(struct sprof_thread) + 63) & ~(size_t)63) + RING_WORDS * sizeof(uint64_t) +          \
     sizeof(struct sprof_share) + sizeof(struct sprof_memo) + 4096 +                               \
     RULE_CACHE_SLOTS * sizeof(struct sprof_rule_slot))
_Static_assert(RULE_CACHE_SLOTS * sizeof(struct sprof_rule_slot) <= 4096, "a page of rules");

struct sprof_state {
    struct sprof_config cfg;
    _Atomic int running; /* the handler records only while set */
    int backend;         /* enum sprof_backend in use */
    uint64_t period_ns;
    uint64_t walk_budget_ns; /* longest stack walk: a fifth of the period */
    pid_t pid;
    pid_t ppid;
    int is_top; /* writes exactly SPROF_OUTPUT */
    uint64_t session;
    char *out_base; /* absolute output template of the session */
    uint64_t start_ns;
    uint64_t start_realtime_ns; /* 0 until put_process (writer.c) needs it */

    pthread_mutex_t reg_lock; /* registry changes; never taken by the handler */

    /* the writer sleeps on this futex word until it changes (or for its
     * drain interval, writer.c), and stays awake while wake_pending is set */
    _Atomic uint32_t wake_word;
    _Atomic int wake_pending;
    _Atomic int clock_warm; /* the vDSO's clock was read (sprof_clock_ns) */

    /* sprof_slot_ref(i) for i >= nslots has never been used: the loops
     * over the registry stop there (a loop over all of it read 32 KiB,
     * eight pages the process faulted in, four times in a /bin/true). Grows
     * under reg_lock, after the slot it covers is published. */
    _Atomic unsigned nslots;

    /* set by the thread inside libunwind (unwind.c, unwind_lock). Here, on
     * the page of reg_lock and the writer's lock, not among unwind.c's own
     * variables: fork takes all three in its parent and releases them after
     * (init.c, fork_prepare), and each page a parent writes after its fork
     * is a copy-on-write fault while the child lives, 2-3.4 us on a KVM VM
     * (BENCHMARKS.md, session 44). On a cache line of its own: with
     * SPROF_UNWIND=libunwind every walk writes it twice, where the line
     * before holds clock_warm, which every handler reads. */
    _Atomic int unwinding __attribute__((aligned(64)));
};

extern struct sprof_state sprof SPROF_HIDDEN;

/* The registry's first entries and those of the first perf fds, which
 * every process writes at its start (sprof_slot_ref, sprof_fd_ref), share
 * a page with the first slot's struct: each array's first entry on a page
 * of its own cost a /bin/true two page faults more (91 against 88, the
 * floor's 86), and a child of fork that took a sample two more again. */
#define SLOTS_NEAR 8u
#define FDS_NEAR 64u

/* space.c: the large arrays, after every small variable in the .bss. The
 * first thread's slot comes first: its struct shares the small variables'
 * page, and its ring's pages are faulted in as it fills (writer.c). */
struct sprof_space {
    struct sprof_thread *slots_near[SLOTS_NEAR];                       /* the registry's first */
    struct sprof_thread *fds_near[FDS_NEAR];                           /* perf fd -> slot */
    /* threads.c: and the start's arena between its struct and its ring */
    uint8_t first_slot[SPROF_SLOT_BYTES + 4096] __attribute__((aligned(64)));
    struct sprof_thread *slots[MAX_THREADS - SLOTS_NEAR];              /* the registry's rest */
    struct sprof_thread *fd_table[FD_TABLE_SIZE - FDS_NEAR];           /* and the fds' */
    uint64_t drain_frames[SPROF_MAX_DEPTH];                            /* writer.c */
    struct sigaction end_view[NSIG];                                   /* endings.c */
    /* The writer's stack: glibc's default is an mmap of 8 MiB, a guard
     * page made with mprotect and, at the thread's exit, an madvise of what
     * it used, three changes to the process's mappings that cost a short
     * process 10-14 us (scripts/bench/starts.py, /bin/true). Untouched
     * pages of it cost nothing. glibc keeps the thread's descriptor and
     * static TLS at its top (24 KiB here); the deepest writer measured used
     * 85 KiB more (loading libunwind for SPROF_UNWIND=libunwind): 1 MiB
     * leaves room for a sanitizer build's bigger frames. */
    uint8_t writer_stack[1u << 20] __attribute__((aligned(64)));
    struct sprof_thread *free_slots[MAX_THREADS]; /* threads.c */
    /* the tids of the registry's entries but the first (the initial
     * thread's, most often), side by side: sprof_thread_find reads them,
     * not a page of each slot, a TLB miss each (threads.c) */
    pid_t slot_tids[MAX_THREADS];
};
extern struct sprof_space sprof_space SPROF_HIDDEN;

/* The start's arena (threads.c): what a process image keeps from its
 * start, before its first thread's slot is taken (the output template,
 * the cache directory, the first set of objects of cfi.c), in the rest of
 * the page of the first slot's struct, which every process writes at its
 * start; the ring follows what it used. Zeroed memory, never freed; NULL
 * when it has no room left or the slot was taken, and the caller uses the
 * heap. A program that never calls malloc (a /bin/true) then never sets
 * up its heap for sprof (two system calls, the heap's first pages,
 * malloc's code and data): its start costs 90 us less on a VM, 40% of
 * what it cost over the floor's (BENCHMARKS.md, session 36). It has to be
 * memory the start touches anyway: a .bss array of its own cost a program
 * that mallocs its pages. */
void *sprof_start_alloc(size_t n) SPROF_HIDDEN;
int sprof_start_owns(const void *p) SPROF_HIDDEN;
/* a followed by b, in the start's arena, else on the heap; NULL when out
 * of memory */
char *sprof_start_join(const char *a, const char *b) SPROF_HIDDEN;

/* The registry's entry i (< MAX_THREADS) */
static inline struct sprof_thread **sprof_slot_ref(unsigned i)
{
    return i < SLOTS_NEAR ? &sprof_space.slots_near[i] : &sprof_space.slots[i - SLOTS_NEAR];
}

/* The slot of the thread whose perf event has fd (< FD_TABLE_SIZE) */
static inline struct sprof_thread **sprof_fd_ref(unsigned fd)
{
    return fd < FDS_NEAR ? &sprof_space.fds_near[fd] : &sprof_space.fd_table[fd - FDS_NEAR];
}

/* Wakes the writer thread: one futex system call, async-signal-safe, and
 * no file descriptor to make at every start (an eventfd was one). */
static inline void sprof_wake_writer_now(void)
{
    atomic_fetch_add_explicit(&sprof.wake_word, 1, memory_order_release);
    sys_callv(SYS_futex, &sprof.wake_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}
/* ... once until the writer has looked (it clears wake_pending) */
static inline void sprof_wake_writer(void)
{
    if (!atomic_exchange(&sprof.wake_pending, 1)) sprof_wake_writer_now();
}

/* the end of the registry's used part: see nslots */
static inline unsigned sprof_slots_end(void)
{
    return atomic_load_explicit(&sprof.nslots, memory_order_acquire);
}

/* time: the vDSO's clock once the process has taken a sample (the handler
 * sets clock_warm), a system call before. The vDSO's first read faults in
 * its data pages, three page faults (25-40 us on a VM) in a process that
 * may never read the clock itself, such as each /bin/true of a shell
 * script, which takes no sample either; the dozen reads of a process's
 * start and end cost less as system calls. */
static inline uint64_t sprof_clock_ns(clockid_t c)
{
    struct timespec ts;
    if (__builtin_expect(atomic_load_explicit(&sprof.clock_warm, memory_order_relaxed), 1)) {
        if (clock_gettime(c, &ts)) return 0;
    } else if (sys_callv(SYS_clock_gettime, c, &ts)) {
        return 0;
    }
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
static inline uint64_t sprof_now(void)
{
    return sprof_clock_ns(CLOCK_MONOTONIC);
}

static inline uint64_t sprof_thread_cpu_now(void)
{
    return sprof_clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif

/* Faults in the pages of fresh memory that [p, p + n) touches, in one
 * system call, where each first touch would be a trap. On the PVM VM of
 * BENCHMARKS.md (session 32), whose shadow page tables make each entry
 * again at its page's first touch without a trap the kernel sees, that
 * touch still costs: 1 MiB of fresh memory 3.4-3.9 ms touched a page at a
 * time, 0.2 ms by the call and 1.3-1.6 ms at the touches after it. (A
 * file's pages are read in by cfi.c, where the kernel maps 16 at a fault.)
 * 0, or -1 and errno (EINVAL: a kernel before 5.14). */
static inline int sprof_populate(const void *p, size_t n)
{
    uintptr_t from = (uintptr_t)p & ~(uintptr_t)4095,
              to = ((uintptr_t)p + n + 4095) & ~(uintptr_t)4095;
    if (to <= from) return 0;
    return sys_madvise((void *)from, to - from, MADV_POPULATE_WRITE);
}

/* handler.c */
void sprof_handler(int sig, siginfo_t *si, void *uc) SPROF_HIDDEN;

/* unwind.c: walks the interrupted stack, storing at most max frames at
 * ring[(pos + i) & RING_MASK], and stopping (truncated) once
 * CLOCK_MONOTONIC passes deadline; returns the number of frames and sets
 * *flags (SPROF_STACK_*). Signal context only. */
unsigned sprof_unwind(struct sprof_thread *t, void *ucontext, uint64_t *ring, uint64_t pos,
                      unsigned max, unsigned *flags, uint64_t deadline) SPROF_HIDDEN;
void sprof_unwind_init(void) SPROF_HIDDEN;
int sprof_unwind_load(void) SPROF_HIDDEN;
void sprof_unwind_step(void) SPROF_HIDDEN;
int sprof_unwind_needs_writer(void) SPROF_HIDDEN;
void sprof_unwind_prepare_fork(void) SPROF_HIDDEN;
void sprof_unwind_after_fork(void) SPROF_HIDDEN;
extern __thread int sprof_in_loader SPROF_HIDDEN __attribute__((tls_model("initial-exec")));
extern __thread int sprof_in_fork SPROF_HIDDEN __attribute__((tls_model("initial-exec")));
int sprof_loader_busy(void) SPROF_HIDDEN; /* this thread in the loader, or its list changing */
/* Set while this thread runs sprof's own code that calls libraries
 * (libunwind blocks signals with sigprocmask): the interposed functions
 * pass such calls straight through. */
extern __thread int sprof_internal SPROF_HIDDEN __attribute__((tls_model("initial-exec")));

/* timer.c */
int sprof_timer_select(pid_t tid) SPROF_HIDDEN; /* picks the backend, 0 or -1 */
void sprof_timer_drop_probe(void) SPROF_HIDDEN; /* closes the probe if still unused */
int sprof_timer_arm(struct sprof_thread *t) SPROF_HIDDEN;
/* Re-targets an armed timer at sprof.cfg.signo after the signal moved. */
int sprof_timer_resignal(struct sprof_thread *t) SPROF_HIDDEN;
void sprof_timer_disarm(struct sprof_thread *t, int ending) SPROF_HIDDEN;
struct sprof_timer_pre {
    int fd;      /* a perf event opened for the thread, or -1 */
    uint64_t id; /* its PERF_EVENT_IOC_ID */
};
int sprof_timer_prepare(pid_t tid, uint64_t start_ns, struct sprof_timer_pre *pre) SPROF_HIDDEN;
int sprof_timer_arm_with(struct sprof_thread *t, struct sprof_timer_pre *pre) SPROF_HIDDEN;
void sprof_timer_pre_drop(struct sprof_timer_pre *pre) SPROF_HIDDEN;
int sprof_timer_lost(struct sprof_thread *t) SPROF_HIDDEN;
void sprof_timer_drop_inherited(struct sprof_thread *t) SPROF_HIDDEN;
int sprof_fd_above_stdio(int fd) SPROF_HIDDEN;
int sprof_open(const char *path, int flags, unsigned mode) SPROF_HIDDEN;
int sprof_stdio_open(void) SPROF_HIDDEN;
int sprof_dir_each(int fd, void (*fn)(const char *name, void *arg), void *arg) SPROF_HIDDEN;
extern _Atomic unsigned sprof_posix_fallbacks SPROF_HIDDEN;
const char *sprof_backend_name(int backend) SPROF_HIDDEN;
void sprof_itimer_set(int on) SPROF_HIDDEN;

/* threads.c */
struct sprof_thread *sprof_thread_register(pid_t tid, int external, int self,
                                           uint64_t when) SPROF_HIDDEN;
unsigned sprof_thread_end(struct sprof_thread *t, int self) SPROF_HIDDEN;
uint64_t sprof_thread_cpu_ns(pid_t tid) SPROF_HIDDEN;           /* any thread of ours */
struct sprof_thread *sprof_thread_find(pid_t tid) SPROF_HIDDEN; /* under reg_lock */
void sprof_thread_publish(unsigned i, struct sprof_thread *t) SPROF_HIDDEN; /* under reg_lock */
int sprof_thread_keep(struct sprof_thread *t) SPROF_HIDDEN;                 /* under reg_lock */
void sprof_thread_release(struct sprof_thread *t) SPROF_HIDDEN;
void sprof_threads_scan(pid_t writer_tid) SPROF_HIDDEN;
unsigned sprof_threads_rearm_lost(void) SPROF_HIDDEN;
int sprof_thread_name_of(pid_t tid, int self, char name[SPROF_NAME_MAX]) SPROF_HIDDEN;
void sprof_thread_set_name(struct sprof_thread *t, const char *name) SPROF_HIDDEN;
void sprof_threads_before_fork(void) SPROF_HIDDEN; /* under reg_lock */
void sprof_threads_after_fork_child(pid_t parent_tid, pid_t self_tid, uint64_t now) SPROF_HIDDEN;
/* In a child of fork that is not profiled: closes the scan's descriptor of
 * its parent's /proc/self/task (threads.c) */
void sprof_threads_close_parent_dir(void) SPROF_HIDDEN;
int sprof_threads_counted(void) SPROF_HIDDEN;
void sprof_threads_disarm_all(void) SPROF_HIDDEN;
void sprof_threads_arm_all(void) SPROF_HIDDEN;

/* compress.c: libzstd for chunk.h's encoder, or NULL when it cannot be
 * loaded */
struct sprof_zstd_api;
const struct sprof_zstd_api *sprof_zstd_load(void) SPROF_HIDDEN;

/* writer.c */
/* late_ok: a descendant may leave its writer thread to sprof_writer_late
 * (init.c, sprof_late) */
int sprof_writer_start(int forked, int late_ok) SPROF_HIDDEN;
/* Makes the writer thread if it was left for later; from_handler: at a
 * safe point (handler.c). */
void sprof_writer_late(int from_handler) SPROF_HIDDEN;
int sprof_writer_late_pending(void) SPROF_HIDDEN;
/* Faults in the part of t's ring its next samples will write, for a
 * descendant's only thread before its writer is made (handler.c). */
void sprof_ring_populate_late(struct sprof_thread *t) SPROF_HIDDEN;
/* Adds to the writer's CPU time what the program's thread did for it. */
void sprof_writer_add_inline(uint64_t ns) SPROF_HIDDEN;
/* Drains everything and writes it; with end_reason, an END record too.
 * Waits until it is on disk. */
void sprof_writer_flush(const char *end_reason, int status) SPROF_HIDDEN;
/* Ends the writer thread (or leaves an idle one asleep); what is left is
 * for the next flush, in the calling thread. */
void sprof_writer_halt(void) SPROF_HIDDEN;
/* sprof_writer_halt, then sprof_writer_flush. */
void sprof_writer_stop(const char *end_reason, int status) SPROF_HIDDEN;
void sprof_writer_stop_early(void) SPROF_HIDDEN;
void sprof_writer_note(int level, const char *fmt, ...) SPROF_HIDDEN
    __attribute__((format(printf, 2, 3)));
void sprof_writer_maps_changed(uint64_t t_new, uint64_t t_gone) SPROF_HIDDEN;
void sprof_writer_before_unload(void) SPROF_HIDDEN;
void sprof_writer_after_fork_child(void) SPROF_HIDDEN;
/* In a child of fork that is not profiled: its parent's file is closed now
 * (a profiled one closes it at its first write). */
void sprof_writer_close_parent_file(void) SPROF_HIDDEN;
void sprof_writer_prepare_fork(void) SPROF_HIDDEN;
int sprof_writer_fork_begin(void) SPROF_HIDDEN; /* 1: this fork is the lone thread's */
void sprof_writer_fork_end(pid_t r) SPROF_HIDDEN;
void sprof_writer_settle_nthreads(void) SPROF_HIDDEN;
/* Before the program makes a thread, or has libc make one (interpose.c). */
void sprof_writer_threads_coming(void) SPROF_HIDDEN;
void sprof_writer_parent_fork(void) SPROF_HIDDEN;
pid_t sprof_writer_tid(void) SPROF_HIDDEN;
/* endings.c, from a signal handler: ask the writer thread for a last chunk
 * with END "signal"; end_done tells when it is written. */
void sprof_writer_request_end(int sig) SPROF_HIDDEN;
int sprof_writer_end_done(void) SPROF_HIDDEN;
int sprof_writer_lock_is_mine(void) SPROF_HIDDEN;

/* maps.c: compares the executable mappings with what was reported before
 * and appends MAP / UNMAP records to out: those of the loader's objects,
 * and the kernel's too when covered() says no (exe: the executable's path,
 * NULL if not known: the kernel's alone). covered() asks
 * sprof_maps_covers of every frame it must (the stacks since the last
 * comparison): 1 when the loader's objects hold them all. */
struct sprof_buf;
void sprof_maps_scan(struct sprof_buf *out, uint64_t t_new, uint64_t t_gone, const char *exe,
                     int (*covered)(void)) SPROF_HIDDEN;
int sprof_maps_covers(const uint64_t *addr, size_t n) SPROF_HIDDEN;
size_t sprof_maps_restate(struct sprof_buf *out, uint64_t time) SPROF_HIDDEN;
int sprof_maps_on_record(const uint64_t *addr, size_t n) SPROF_HIDDEN;
int sprof_maps_find_range(uintptr_t addr, uintptr_t *lo, uintptr_t *hi) SPROF_HIDDEN;
/* the readable and writable mapping that holds sp, a stack other than its
 * thread's: 0, or -1 (unknown now). Async-signal-safe. */
int sprof_stack_region(uintptr_t sp, uintptr_t *lo, uintptr_t *hi) SPROF_HIDDEN;
void sprof_stack_region_forget(void) SPROF_HIDDEN; /* a child of fork's */
/* The GNU build-id in the notes p[0..n), copied to out (64 bytes): its
 * length, or 0. */
size_t sprof_note_build_id(const uint8_t *p, size_t n, uint8_t *out) SPROF_HIDDEN;

/* init.c: where the writer may be made late. A descendant (not the top)
 * starts without its writer thread, and a sample taken at a safe point
 * once the writer is due (handler.c, late_due: a second of the process's
 * life, its ring half full, a walk that needs libunwind) makes it: the
 * process has no thread of the program's own (the interposed
 * pthread_create and clone make the writer first), and the stack walked
 * holds no frame of libc or the loader, whose locks and allocator state
 * pthread_create needs, nor of sprof. A descendant that takes no sample
 * (most of a shell script's commands, a fork's child that execs at once)
 * or ends sooner (a build's compilers) never makes a thread: its flush at
 * exit or exec writes what it has (BENCHMARKS.md). The ranges are those
 * objects' loadable segments; libc may also hold the last 3 frames of a
 * complete stack (the start routine: __libc_start_call_main,
 * __libc_start_main). */
enum { LATE_NONE = 0, LATE_LIBC = 1, LATE_NEVER = 2 };
#define LATE_RANGES 8
struct sprof_late {
    unsigned n;
    struct {
        uintptr_t lo, hi;
        int kind; /* LATE_LIBC, LATE_NEVER */
    } r[LATE_RANGES];
};
extern struct sprof_late sprof_late SPROF_HIDDEN;

void sprof_disable(const char *why) SPROF_HIDDEN; /* says it once, stops sampling */
void sprof_before_exec(void) SPROF_HIDDEN;
void sprof_after_exec_failed(void) SPROF_HIDDEN;
int sprof_active(void) SPROF_HIDDEN;
void sprof_thread_started(void) SPROF_HIDDEN;    /* a new thread registers itself */
void sprof_thread_adopt(pid_t tid) SPROF_HIDDEN; /* a clone'd thread, from its parent */

/* signals.c: the sampling signal, kept out of the program's way */
/* the program has installed a signal handler of its own (interpose.c) */
extern _Atomic int sprof_program_handlers SPROF_HIDDEN;
int sprof_signals_init(void) SPROF_HIDDEN;
void sprof_signals_before_exec(void) SPROF_HIDDEN;
int sprof_real_sigmask(int how, const sigset_t *set, sigset_t *old) SPROF_HIDDEN;
/* pthread_sigmask (procmask 0) or sigprocmask (1) for the program: sprof's
 * signal stays unblocked, the program is told what it asked for. */
int sprof_sigmask(int how, const sigset_t *set, sigset_t *old, int procmask) SPROF_HIDDEN;
const struct sigaction *sprof_signals_unmask_action(const struct sigaction *act,
                                                    struct sigaction *copy) SPROF_HIDDEN;
void sprof_signals_tell_blocked(void) SPROF_HIDDEN; /* writer thread only */
void sprof_signals_after_exec_failed(void) SPROF_HIDDEN;
int sprof_real_sigaction(int sig, const struct sigaction *act, struct sigaction *old) SPROF_HIDDEN;
/* The program's sigaction() for sprof's signal: returns 1 and sets *ret when
 * it was handled here, 0 when the call should go to libc unchanged. */
int sprof_sigaction_hook(int sig, const struct sigaction *act, struct sigaction *old,
                         int *ret) SPROF_HIDDEN;
/* The program arms ITIMER_PROF itself. */
void sprof_program_uses_itimer_prof(void) SPROF_HIDDEN;

/* interpose.c: creates one of sprof's own threads (not sampled) */
int sprof_create_thread(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *),
                        void *arg) SPROF_HIDDEN;
int sprof_create_thread_ready(void) SPROF_HIDDEN; /* looks it up now: 0 when there is none */
/* Before fork: looks up the exec functions after sprof's, once, for the
 * children to inherit */
void sprof_interpose_before_fork(void) SPROF_HIDDEN;

/* endings.c: how the process ends (END records) */
void sprof_endings_init(void) SPROF_HIDDEN;
void sprof_endings_after_fork_child(void) SPROF_HIDDEN;
int sprof_endings_sigaction_hook(int sig, const struct sigaction *act, struct sigaction *old,
                                 int *ret) SPROF_HIDDEN;
/* _exit, _Exit: flush with END reason (init.c) */
void sprof_end(const char *reason, int status) SPROF_HIDDEN;

#endif
