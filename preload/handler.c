/* SPDX-License-Identifier: MIT */
/*
 * The sampling signal handler. Signal context: everything here and in
 * unwind.c is async-signal-safe. No allocation, no locks, no stdio; errno is
 * saved and restored; reentry is guarded per thread; the only memory written
 * is the interrupted thread's own slot, set up before its timer was armed.
 * One exception (ARCHITECTURE.md, invariant 1): a descendant's writer thread
 * is made here, once, at a safe point (late_point, sprof.h's sprof_late).
 */
#include <errno.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "cfi.h"
#include "sprof.h"

/* Which thread's slot does this signal belong to? The perf backend names its
 * fd in si_fd, a POSIX timer its slot's index in si_value (the posix backend,
 * and the perf one's threads past its budget of descriptors, timer.c); both
 * were chosen at arm time for exactly one thread. setitimer signals go to
 * whichever thread runs, found by tid. */
static struct sprof_thread *slot_for(const siginfo_t *si)
{
    switch (sprof.backend) {
    case BACKEND_PERF:
    case BACKEND_POSIX:
        if (si->si_code == SI_TIMER) {
            uintptr_t i = (uintptr_t)si->si_value.sival_ptr - 1;
            if (i >= sprof_slots_end()) return NULL;
            struct sprof_thread *t = __atomic_load_n(sprof_slot_ref(i), __ATOMIC_ACQUIRE);
            return t && __atomic_load_n(&t->has_posix_timer, __ATOMIC_ACQUIRE) ? t : NULL;
        }
        if (sprof.backend != BACKEND_PERF || (si->si_code != POLL_IN && si->si_code != POLL_HUP))
            return NULL;
        if (si->si_fd < 0 || si->si_fd >= FD_TABLE_SIZE) return NULL;
        return __atomic_load_n(sprof_fd_ref((unsigned)si->si_fd), __ATOMIC_ACQUIRE);
    default: {
        if (si->si_code != SI_KERNEL) return NULL;
        pid_t tid = (pid_t)sys_callv(SYS_gettid);
        for (unsigned i = 0, used = sprof_slots_end(); i < used; i++) {
            struct sprof_thread *t = __atomic_load_n(sprof_slot_ref(i), __ATOMIC_ACQUIRE);
            /* (atomic: a slot freed and given to a new thread meanwhile,
             * threads.c, has its tid written) */
            if (t && __atomic_load_n(&t->tid, __ATOMIC_RELAXED) == tid &&
                atomic_load_explicit(&t->state, memory_order_acquire) == SLOT_ACTIVE)
                return t;
        }
        return NULL;
    }
    }
}

static uint64_t sample_weight(struct sprof_thread *t)
{
    if (!__atomic_load_n(&t->has_posix_timer, __ATOMIC_RELAXED) && sprof.backend != BACKEND_ITIMER)
        return sprof.period_ns;
    /* The kernel tick limits CPU timers, so a sample stands for its
     * thread's CPU time since the previous one, not for the requested
     * period. So too with setitimer, though its one timer runs on the
     * process's clock: the thread that catches its signal weighs its own
     * time only, not the time other threads spent meanwhile in their own
     * functions, which their samples weigh. (Relaxed atomics: the timer's
     * arming sets the baseline, from another thread after a failed exec.) */
    uint64_t now = sprof_clock_ns(CLOCK_THREAD_CPUTIME_ID);
    uint64_t prev = __atomic_exchange_n(&t->last_cpu_ns, now, __ATOMIC_RELAXED);
    return prev && now > prev ? now - prev : sprof.period_ns;
}

/* The walk's budget protects the program from a handler that keeps eating
 * the CPU time it samples (init.c). A thread's first walks read cold memory,
 * the unwind information and the stack, whose page faults cost 12-16 us each
 * on a VM: a shell's first walk of 30-40 frames took 200-400 us, over the
 * 200 us of 999 Hz, and lost its root. A few first walks do not starve
 * anything: they get at least COLD_BUDGET_NS. */
#define COLD_WALKS 4
#define COLD_BUDGET_NS 2000000ull

/* Where a signal handler returns (glibc's __restore_rt): the return
 * address of sprof's own handler, as the kernel set it up. */
static _Atomic uintptr_t sig_restorer;

/* Could the restorer's address at x, on a stack whose top is hi, start a
 * live signal frame? Its ucontext_t follows: a null uc_link (the kernel
 * writes one) and, where the thread had no alternate signal stack (whose
 * frames may lie anywhere, below or above the code they interrupted: one
 * in main's locals), the interrupted code's sp above it and below the top,
 * the saved FPU state between the two (the kernel puts it above the
 * frame). A stale copy whose words the frames made since wrote over fails
 * one of these, most often; one left whole counts as a frame. */
#define UC_WORD(uc, field) (*(const uintptr_t *)((uc) + offsetof(ucontext_t, field)))
static STACK_READS int maybe_signal_frame(uintptr_t x, uintptr_t hi)
{
    uintptr_t uc = x + sizeof(uintptr_t); /* 8-aligned: read by words */
    if (uc + sizeof(ucontext_t) > hi) return 1;
    if (UC_WORD(uc, uc_link)) return 0;
    if (UC_WORD(uc, uc_stack.ss_sp) || UC_WORD(uc, uc_stack.ss_size) ||
        *(const int *)(uc + offsetof(ucontext_t, uc_stack.ss_flags)) != SS_DISABLE)
        return 1;
    uintptr_t usp = UC_WORD(uc, uc_mcontext.gregs[REG_RSP]), fp = UC_WORD(uc, uc_mcontext.fpregs);
    return usp > x && usp <= hi && (!fp || (fp > x && fp < usp));
}

/* Does the stack from sp (the interrupted code's) to its top hold no
 * signal frame, which a walk cut short may not have reached? A signal
 * frame starts with the address of the code its handler returns to (the
 * restorer, which glibc's sigaction sets for every handler): no word of
 * the stack is that address where a frame could start. A stale copy (a
 * signal frame of an earlier sample's, left whole below the frames made
 * since) answers no, as a handler's frame would: a walk that is not
 * complete is then no safe point, as it was for any program with a
 * handler of its own (a recursion deeper than SPROF_DEPTH, in a program
 * that handles SIGUSR1, lost 3,257 of 5,212 samples at 10 kHz). Not on an
 * alternate signal stack or a stack of unknown bounds, nor past
 * SIGFRAME_SCAN_MAX bytes (the default stack limit); after each no, the
 * next scans wait for twice as many samples as the last did (up to
 * SIGFRAME_WAIT_MAX), as a stale copy would answer each. The scan's time
 * is the writer's, as late_work's is. The process has one thread: the
 * only caller. */
#define SIGFRAME_SCAN_MAX (8u * 1024u * 1024u)
#define SIGFRAME_WAIT_MAX 64u
static unsigned sigframe_wait, sigframe_backoff;
static STACK_READS int no_signal_frame(const struct sprof_thread *t, uintptr_t sp)
{
    uintptr_t lo = atomic_load_explicit(&t->stack_lo, memory_order_relaxed);
    uintptr_t hi = atomic_load_explicit(&t->stack_hi, memory_order_relaxed);
    uintptr_t ret = atomic_load_explicit(&sig_restorer, memory_order_relaxed);
    if (!ret || !hi || sp < lo || sp >= hi || hi - sp > SIGFRAME_SCAN_MAX) return 0;
    if (sigframe_wait) {
        sigframe_wait--;
        return 0;
    }
    uint64_t cpu = sprof_thread_cpu_now();
    const uintptr_t *w = (const uintptr_t *)(sp & ~(uintptr_t)7);
    while ((uintptr_t)w < hi && (*w != ret || !maybe_signal_frame((uintptr_t)w, hi)))
        w++;
    sprof_writer_add_inline(sprof_thread_cpu_now() - cpu);
    if ((uintptr_t)w >= hi) return 1;
    sigframe_backoff = sigframe_backoff ? 2 * sigframe_backoff : 1;
    if (sigframe_backoff > SIGFRAME_WAIT_MAX) sigframe_backoff = SIGFRAME_WAIT_MAX;
    sigframe_wait = sigframe_backoff;
    return 0;
}

/* Is the point where the frames just stored at ring[pos, pos + n)
 * interrupted the program a safe point to make the writer thread at (sprof.h,
 * sprof_late)? The interrupted instruction, which is exact, must not be in
 * libc, the loader or sprof. Below it, a frame of libc or the loader may be
 * one that holds a lock while calling back into the program (dl_iterate_phdr)
 * or a signal frame over code interrupted anywhere: none of the walk's
 * frames may be one, but for the start routine's in libc at the bottom of a
 * complete walk. A walk cut short (too deep, or through code without unwind
 * tables: a library loaded since the start, a JIT's code) leaves frames
 * unseen: it will do only while the program has no signal handler of its
 * own, whose frame could be one of them, or the stack holds no signal
 * frame (no_signal_frame). Never while the thread is in the
 * loader or the loader's list is changing (a library's code run by a
 * dlopen of a bare name, which is not marked), nor within fork (the
 * program's atfork handlers: glibc chose its path at fork's entry, by
 * whether the process had threads then; unwind.c). */
static int late_point(const struct sprof_thread *t, uint64_t pos, unsigned n, unsigned flags,
                      uintptr_t sp)
{
    int complete = !(flags & (SPROF_STACK_TRUNCATED | SPROF_STACK_BROKEN));
    if (sprof_internal != 1 || sprof_loader_busy() || sprof_in_fork || !n) return 0;
    for (unsigned i = 0; i < n; i++) {
        uintptr_t pc = (uintptr_t)t->ring[(pos + i) & RING_MASK];
        for (unsigned k = 0; k < sprof_late.n; k++) {
            if (pc < sprof_late.r[k].lo || pc >= sprof_late.r[k].hi) continue;
            if (sprof_late.r[k].kind == LATE_NEVER || i == 0 || !complete || i + 3 < n) return 0;
        }
    }
    if (!complete && atomic_load_explicit(&sprof_program_handlers, memory_order_relaxed) &&
        !no_signal_frame(t, sp))
        return 0;
    /* not a child of vfork, which shares this memory */
    return (pid_t)sys_callv(SYS_getpid) == sprof.pid;
}

/* Is a descendant's writer thread, left for later, due (sprof.h,
 * sprof_late)? A second thread costs a process more than its making: once
 * a process has one, glibc's allocator and stdio take their locks at every
 * call (valgrind's count of a build's cc1: 0.3% more instructions, in
 * malloc, free and putc, most of them locked ones). So a short process,
 * such as each compiler of a build, keeps its samples in its ring and its
 * exit writes them, as it writes a process's that took no sample; the
 * writer is made only once something needs it: the ring half full, a
 * write interval since the start (a process killed outright loses no more
 * than its writer's interval would lose), or a walk that waits for the
 * writer's help (libunwind to load, an object loaded since the start).
 * Tables from the cache are mapped at a safe point without it (cfi.c,
 * sprof_cfi_late_step); a table to build makes it due. */
static int late_due(uint64_t now, uint64_t used)
{
    return used > RING_WORDS / 2 || now - sprof.start_ns >= SPROF_WRITE_INTERVAL_NS ||
           sprof_unwind_needs_writer();
}

/* A sample just recorded: its frames at ring[pos, pos + n), and the ring's
 * words in use with it. */
struct recorded {
    uint64_t pos, used;
    unsigned n, flags;
    int probe;    /* in the ring's reserve (record): kept only if it makes the writer */
    uintptr_t sp; /* the interrupted code's stack pointer */
};

/* After a sample of a descendant without its writer: faults in its ring
 * ahead of the samples to come; at a safe point, maps the tables asked for
 * from the cache, and makes the writer if it is due. */
static void late_work(struct sprof_thread *t, const struct recorded *r, uint64_t now)
{
    sprof_ring_populate_late(t);
    int due = late_due(now, r->used);
    int tables = atomic_load_explicit(&sprof_cfi_cache_wanted, memory_order_relaxed);
    if ((!due && !tables) || !late_point(t, r->pos, r->n, r->flags, r->sp)) return;
    if (tables) {
        uint64_t cpu = sprof_thread_cpu_now();
        due |= sprof_cfi_late_step();
        sprof_writer_add_inline(sprof_thread_cpu_now() - cpu);
    }
    if (due) sprof_writer_late(1);
}

/* Before a walk of one of a descendant's first samples, without its writer
 * thread (the one thread it has), interrupted outside sprof, the loader and
 * fork: maps from the cache the table of a big object the thread was
 * interrupted in, before the walk looks its frames up in place (cfi.c,
 * sprof_cfi_early). Its time is the writer's, as late_work's is. */
static void early_tables(const struct sprof_thread *t, const void *uc)
{
    if (atomic_load_explicit(&t->samples, memory_order_relaxed) >= COLD_WALKS ||
        sprof.cfg.unwinder != UNWIND_DWARF || !sprof_writer_late_pending() || sprof_internal != 1 ||
        sprof_loader_busy() || sprof_in_fork)
        return;
    uint64_t ns = sprof_cfi_early((uintptr_t)((const ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP]);
    if (ns) sprof_writer_add_inline(ns);
}

/* How many of the outermost frames of the n just stored at ring[pos, pos +
 * n) are those of the thread's last entry (sprof.h): the entry keeps the
 * others only. The stacks of a program that stays in one part of its work
 * (a deep recursion, a compiler's pass, an interpreter's loop) differ in
 * their few innermost frames; their whole stacks filled the ring in 40
 * samples of 200 frames, each read again by the writer on another CPU
 * (BENCHMARKS.md, session 42). From a thread's RING_SHARE_FROM-th sample
 * on: before, the shared frames' page is not touched (a child of fork
 * that samples once before its exec). *keep: this entry's frames are the
 * ones the next may share (RING_KEEP). */
static unsigned share(struct sprof_thread *t, uint64_t pos, unsigned n, int *keep)
{
    *keep = 0;
    if (atomic_load_explicit(&t->samples, memory_order_relaxed) < RING_SHARE_FROM) {
        t->share_h = 0;
        return 0;
    }
    *keep = 1;
    unsigned s = 0, m = n < t->share_h ? n : t->share_h;
    if (atomic_load_explicit(&t->resync, memory_order_relaxed)) {
        atomic_store_explicit(&t->resync, 0, memory_order_relaxed);
        m = 0;
    }
    const uint64_t *r = t->ring;
    while (s < m && r[(pos + n - 1 - s) & RING_MASK] == t->outer->h[s])
        s++;
    unsigned top = n < RING_SHARE_MAX ? n : RING_SHARE_MAX;
    for (unsigned i = s; i < top; i++)
        t->outer->h[i] = r[(pos + n - 1 - i) & RING_MASK];
    t->share_h = top;
    return s;
}

/* Records a sample (into *r); returns 1 when its point may be one to do a
 * late writer's work at (late_work). */
static int record(struct sprof_thread *t, void *uc, uint64_t t0, struct recorded *r)
{
    uint64_t head = atomic_load_explicit(&t->head, memory_order_relaxed);
    uint64_t tail = atomic_load_explicit(&t->tail, memory_order_acquire);
    uint64_t room = RING_WORDS - (head - tail);
    unsigned max = sprof.cfg.max_depth;
    /* A descendant without its writer keeps the ring's last words for a
     * whole walk: a ring filled before a sample came at a safe point
     * (time in a libc callback, in the loader) recorded nothing more, and
     * no later sample could make the writer (late qsort at 10 kHz lost
     * 8,561 of 11,862). Such a walk is kept if it makes the writer, taken
     * back if not (sprof_handler). */
    int late = sprof_writer_late_pending();
    uint64_t reserve = late ? RING_HDR_WORDS + max : 0;
    r->probe = late && room < reserve + RING_HDR_WORDS + 1;
    if (!r->probe) room -= reserve;
    if (room < RING_HDR_WORDS + 1) {
        atomic_fetch_add_explicit(&t->lost, 1, memory_order_relaxed);
        return 0;
    }
    if (room < RING_HDR_WORDS + max) max = (unsigned)(room - RING_HDR_WORDS);

    /* Unwind straight into the ring, after the entry header. */
    unsigned flags = 0;
    uint64_t budget = sprof.walk_budget_ns;
    if (budget < COLD_BUDGET_NS &&
        atomic_load_explicit(&t->samples, memory_order_relaxed) < COLD_WALKS)
        budget = COLD_BUDGET_NS;
    unsigned n = sprof_unwind(t, uc, t->ring, head + RING_HDR_WORDS, max, &flags, t0 + budget);
    if (flags & SPROF_STACK_TRUNCATED)
        atomic_fetch_add_explicit(&t->truncated, 1, memory_order_relaxed);
    int keep;
    unsigned shared = share(t, head + RING_HDR_WORDS, n, &keep), k = n - shared;
    t->ring[head & RING_MASK] = RING_ENTRY_MAGIC << 48 | (uint64_t)flags << 32 |
                                (keep ? RING_KEEP : 0) | (uint64_t)shared << 16 | k;
    t->ring[(head + 1) & RING_MASK] = t0;
    t->ring[(head + 2) & RING_MASK] = sample_weight(t);
    atomic_store_explicit(&t->head, head + RING_HDR_WORDS + k, memory_order_release);
    atomic_fetch_add_explicit(&t->samples, 1, memory_order_relaxed);

    /* Wake the writer early when the ring is half full (a descendant's,
     * not made yet, is made by late_work instead). */
    uint64_t used = head + RING_HDR_WORDS + k - tail;
    if (RING_WORDS - used < RING_WORDS / 2 && !late) sprof_wake_writer();
    r->pos = head + RING_HDR_WORDS;
    r->sp = (uintptr_t)((const ucontext_t *)uc)->uc_mcontext.gregs[REG_RSP];
    r->used = used;
    r->n = n;
    r->flags = flags;
    return late;
}

/* A walk in the reserve that did not make the writer: taken back, counted
 * lost. The thread is the process's only one (no writer reads the ring),
 * and the next sample shares no frame with this one. */
static void take_back(struct sprof_thread *t, const struct recorded *r)
{
    atomic_store_explicit(&t->head, r->pos - RING_HDR_WORDS, memory_order_relaxed);
    t->share_h = 0;
    atomic_fetch_sub_explicit(&t->samples, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&t->lost, 1, memory_order_relaxed);
    if (r->flags & SPROF_STACK_TRUNCATED)
        atomic_fetch_sub_explicit(&t->truncated, 1, memory_order_relaxed);
}

#if SPROF_TSAN
/* Under ThreadSanitizer a signal that lands in plain code is delivered
 * later, at the thread's next intercepted call, with copies of its siginfo
 * and context kept in the runtime's own memory for the thread. The runtime
 * unmaps that memory when the thread ends without forgetting the accesses
 * recorded there, and a library mapped at the same address afterwards
 * inherits them: libunwind, loaded by the writer on the first sample that
 * needs it, "raced" with a handler's read of a thread long gone (CI, case
 * 214). So the handler reads copies on its own stack, made unseen. */
static NOT_INSTRUMENTED void copy_unseen(void *to, const void *from, size_t n)
{
    const volatile uint64_t *s = from;
    uint64_t *d = to;
    for (size_t i = 0; i < n / sizeof(*d); i++)
        d[i] = s[i];
}
#endif

void sprof_handler(int sig, siginfo_t *si, void *uc)
{
    int saved_errno = errno;
#if SPROF_TSAN
    siginfo_t si_copy;
    ucontext_t uc_copy;
    _Static_assert(sizeof(si_copy) % 8 == 0 && sizeof(uc_copy) % 8 == 0, "copied by words");
    copy_unseen(&si_copy, si, sizeof(si_copy));
    copy_unseen(&uc_copy, uc, sizeof(uc_copy));
    si = &si_copy;
    uc = &uc_copy;
#endif
    struct sprof_thread *t = slot_for(si);
    /* (with setitimer, !t: the writer's CPU time, writer.c, or a thread
     * not registered yet; dropped, no other thread's sample weighs it) */
    if (!t || !atomic_load_explicit(&sprof.running, memory_order_relaxed) ||
        atomic_load_explicit(&t->state, memory_order_acquire) != SLOT_ACTIVE)
        goto out;
    if (t->in_handler) {
        atomic_fetch_add_explicit(&t->reentered, 1, memory_order_relaxed);
        goto out;
    }
    t->in_handler = 1;
    sprof_internal++;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    /* from now on the vDSO's clock (sprof.h); stored once, not by every
     * sample: the line is read by every handler */
    if (!atomic_load_explicit(&sprof.clock_warm, memory_order_relaxed))
        atomic_store_explicit(&sprof.clock_warm, 1, memory_order_relaxed);
    early_tables(t, uc); /* before the sample's time: not the walk's cost */
    uint64_t t0 = sprof_now();
    if (t->first_period) {
        /* the random first period is over: the full period from now on
         * (timer.c), set before the walk, which the short period's
         * interrupts would slow down; ioctl is a plain system call */
        uint64_t period = sprof.period_ns;
        sys_ioctl(t->perf_fd, PERF_EVENT_IOC_PERIOD, &period);
        t->first_period = 0;
    }
    struct recorded r = {0, 0, 0, 0, 0, 0};
    int late = record(t, uc, t0, &r);
    uint64_t t1 = sprof_now(), dt = t1 - t0;
    atomic_fetch_add_explicit(&t->handler_ns, dt, memory_order_relaxed);
    atomic_fetch_add_explicit(&t->hist[sprof_hist_bucket(dt)], 1, memory_order_relaxed);
    /* after the sample's own time: a table's mapping or the writer's
     * making is not the walk's cost */
    if (late) {
#if !SPROF_TSAN
        if (!atomic_load_explicit(&sig_restorer, memory_order_relaxed))
            atomic_store_explicit(&sig_restorer, (uintptr_t)__builtin_return_address(0),
                                  memory_order_relaxed);
#endif
        late_work(t, &r, t1);
    }
    if (r.probe && sprof_writer_late_pending()) take_back(t, &r);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    sprof_internal--;
    t->in_handler = 0;
out:
    errno = saved_errno;
}
