/* SPDX-License-Identifier: MIT */
/*
 * Stack walking from a signal context (called only by handler.c). Two
 * unwinders behind one function: libunwind (DWARF CFI, for code without
 * frame pointers) and a frame-pointer walk whose every read is checked
 * against the thread's stack.
 */
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <link.h>
#include <ucontext.h>

#include "sprof.h"

/* Set while this thread is inside dlopen (of a path), dlclose or
 * dl_iterate_phdr (interpose.c): the loader's lock may be held, or being
 * taken, by this very thread. */
__thread int sprof_in_loader __attribute__((tls_model("initial-exec")));

/* libunwind finds unwind tables with dl_iterate_phdr, which takes the
 * loader's lock. A handler on a thread that holds that lock, or is halfway
 * through taking it, must not call it (seen: a self-deadlock inside dlopen),
 * so while this thread is in the loader, or the loader is changing its list
 * (r_state; glibc sets it only after taking the lock for a dlopen, hence the
 * per-thread mark as well), the DWARF walk is skipped and only the
 * interrupted instruction is recorded. The other cycle, through libunwind's
 * own lock across two handlers, is closed by unwind_lock below. */
static int loader_busy(void)
{
    return sprof_in_loader || __atomic_load_n(&_r_debug.r_state, __ATOMIC_RELAXED) != RT_CONSISTENT;
}

void sprof_unwind_init(void)
{
    /* Per-thread caches: no lock shared between threads in the handler.
     * One unwind at start makes libunwind initialize itself here, outside
     * any signal handler. */
    unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
    unw_context_t ctx;
    unw_cursor_t c;
    if (unw_getcontext(&ctx) == 0 && unw_init_local(&c, &ctx) == 0) {
        for (int i = 0; i < 64 && unw_step(&c) > 0; i++) {
        }
    }
}

/* A walk may take at most this long: a deep stack must not let the handler
 * eat the CPU time it is sampling (its own time counts toward the next
 * sample, so an unbounded walk can starve the program). The walk stops,
 * marked truncated, once the budget is spent; the clock is read every
 * BUDGET_EVERY frames. */
#define BUDGET_EVERY 32u

static int over_budget(uint64_t deadline)
{
    return sprof_now() > deadline;
}

/* One thread at a time inside libunwind. libunwind takes a lock of its own
 * around dl_iterate_phdr (Debian's build has no per-thread cache, so
 * UNW_CACHE_PER_THREAD falls back to the global cache and its lock). A
 * thread interrupted inside dlopen holds the loader's lock, which glibc
 * takes before it announces the change in r_debug: its handler would wait
 * for libunwind's lock, held by another handler waiting for the loader's
 * lock. With this flag only one handler is ever inside libunwind, so its
 * lock is never contended by another handler; a handler that cannot have
 * the flag within a few microseconds records the interrupted instruction
 * only, and the handler that holds it always finishes. */
static _Atomic int unwinding;
#define UNWIND_WAIT_NS 20000

static int unwind_lock(void)
{
    uint64_t give_up = 0;
    for (;;) {
        int expected = 0;
        if (atomic_compare_exchange_weak_explicit(&unwinding, &expected, 1, memory_order_acquire,
                                                  memory_order_relaxed))
            return 1;
        uint64_t now = sprof_now();
        if (!give_up) give_up = now + UNWIND_WAIT_NS;
        else if (now > give_up) return 0;
        __builtin_ia32_pause();
    }
}

static void unwind_unlock(void)
{
    atomic_store_explicit(&unwinding, 0, memory_order_release);
}

/* fork: no thread may be inside libunwind (its lock would be copied held
 * into the child); wait for the current walk, at most 100 ms. */
void sprof_unwind_prepare_fork(void)
{
    for (int i = 0; i < 100000; i++) {
        int expected = 0;
        if (atomic_compare_exchange_weak(&unwinding, &expected, 1)) return;
        struct timespec ts = {0, 1000};
        nanosleep(&ts, NULL);
    }
}

void sprof_unwind_after_fork(void)
{
    unwind_unlock();
}

static unsigned walk_dwarf(unw_cursor_t *c, uint64_t *ring, uint64_t pos, unsigned max,
                           unsigned *flags, uint64_t deadline);

static unsigned unwind_dwarf(void *uc, uint64_t *ring, uint64_t pos, unsigned max,
                             unsigned *flags, uint64_t deadline)
{
    unw_cursor_t c;
    /* On x86_64 unw_context_t is a ucontext_t: start from the interrupted
     * registers, marked as a signal frame so the first IP is exact. */
    if (loader_busy() || !unwind_lock()) {
        ucontext_t *u = uc;
        ring[pos & RING_MASK] = (uint64_t)u->uc_mcontext.gregs[REG_RIP];
        *flags |= SPROF_STACK_BROKEN;
        return 1;
    }
    unsigned n = 1;
    if (unw_init_local2(&c, (unw_context_t *)uc, UNW_INIT_SIGNAL_FRAME) < 0) {
        ucontext_t *u = uc;
        ring[pos & RING_MASK] = (uint64_t)u->uc_mcontext.gregs[REG_RIP];
        *flags |= SPROF_STACK_BROKEN;
    } else {
        n = walk_dwarf(&c, ring, pos, max, flags, deadline);
    }
    unwind_unlock();
    return n;
}

/* The walk itself, under unwind_lock. The cursor points to itself inside:
 * it is used in place, never copied. */
static unsigned walk_dwarf(unw_cursor_t *c, uint64_t *ring, uint64_t pos, unsigned max,
                           unsigned *flags, uint64_t deadline)
{
    unsigned n = 0;
    for (;;) {
        unw_word_t ip;
        if (unw_get_reg(c, UNW_REG_IP, &ip) < 0 || ip == 0) break;
        ring[(pos + n) & RING_MASK] = ip;
        if (++n == max || (n % BUDGET_EVERY == 0 && over_budget(deadline))) {
            if (unw_step(c) > 0) *flags |= SPROF_STACK_TRUNCATED;
            break;
        }
        int r = unw_step(c);
        if (r <= 0) {
            if (r < 0) *flags |= SPROF_STACK_BROKEN;
            break;
        }
    }
    return n;
}

static unsigned unwind_fp(struct sprof_thread *t, void *uc, uint64_t *ring, uint64_t pos,
                          unsigned max, unsigned *flags, uint64_t deadline)
{
    ucontext_t *u = uc;
    uintptr_t pc = (uintptr_t)u->uc_mcontext.gregs[REG_RIP];
    uintptr_t fp = (uintptr_t)u->uc_mcontext.gregs[REG_RBP];
    uintptr_t sp = (uintptr_t)u->uc_mcontext.gregs[REG_RSP];
    uintptr_t lo = atomic_load_explicit(&t->stack_lo, memory_order_relaxed);
    uintptr_t hi = atomic_load_explicit(&t->stack_hi, memory_order_relaxed);
    unsigned n = 0;
    ring[(pos + n++) & RING_MASK] = pc;
    if (!lo || !hi || sp < lo || sp >= hi) {
        /* Bounds not known yet (a thread found by the /proc scan): leave sp
         * for the writer to look up, and record the leaf only. */
        atomic_store_explicit(&t->last_sp, sp, memory_order_relaxed);
        *flags |= SPROF_STACK_BROKEN;
        return n;
    }
    /* Each frame: [fp] = caller's fp, [fp + 8] = return address. Frames
     * move strictly up the stack and stay inside [sp, hi). */
    while (n < max && !(n % BUDGET_EVERY == 0 && over_budget(deadline))) {
        if (fp < sp || fp > hi - 16 || (fp & 7)) {
            if (fp != 0) *flags |= SPROF_STACK_BROKEN;
            return n;
        }
        const uintptr_t *f = (const uintptr_t *)fp;
        uintptr_t next = f[0], ret = f[1];
        if (ret == 0) return n;
        ring[(pos + n++) & RING_MASK] = ret;
        if (next <= fp) {
            if (next != 0) *flags |= SPROF_STACK_BROKEN;
            return n;
        }
        fp = next;
    }
    if (fp >= sp && fp <= hi - 16 && !(fp & 7) && ((const uintptr_t *)fp)[1] != 0)
        *flags |= SPROF_STACK_TRUNCATED;
    return n;
}

unsigned sprof_unwind(struct sprof_thread *t, void *uc, uint64_t *ring, uint64_t pos,
                      unsigned max, unsigned *flags, uint64_t deadline)
{
    if (sprof.cfg.unwinder == UNWIND_FP) return unwind_fp(t, uc, ring, pos, max, flags, deadline);
    return unwind_dwarf(uc, ring, pos, max, flags, deadline);
}
