/* SPDX-License-Identifier: MIT */
/*
 * Stack walking from a signal context (called only by handler.c). Three
 * unwinders behind one function:
 *   dwarf      each library's .eh_frame (cfi.h): looked up in place, or in
 *              a table built from it ahead of time, every stack read
 *              checked against the thread's stack; a sample it cannot walk
 *              (no .eh_frame_hdr, a rule it does not follow, a signal
 *              frame, unknown stack bounds) is walked by libunwind instead,
 *              and counted
 *   libunwind  DWARF CFI read by libunwind at each step (SPROF_UNWIND=
 *              libunwind, and the fallback of dwarf). libsprof.so is not
 *              linked with libunwind: it is loaded (dlopen) when first
 *              needed, by the writer thread for dwarf, since most
 *              processes never need it and loading it and its liblzma
 *              costs each process about 0.1 ms
 *   fp         a frame-pointer walk whose every read is checked against
 *              the thread's stack
 */
#define UNW_LOCAL_ONLY
#include <dlfcn.h>
#include <libunwind.h>
#include <link.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#include "cfi.h"
#include "log.h"
#include "sprof.h"

/* Set while this thread is inside dlopen (of a path), dlclose or
 * dl_iterate_phdr (interpose.c): the loader's lock may be held, or being
 * taken, by this very thread. */
__thread int sprof_in_loader __attribute__((tls_model("initial-exec")));

/* Set while this thread is inside fork (interpose.c): glibc chose its path
 * at fork's entry, by whether the process had threads then; a writer
 * thread made by a handler meanwhile (in a program's atfork handler) would
 * be a thread that fork did not prepare for (handler.c, late_point). */
__thread int sprof_in_fork __attribute__((tls_model("initial-exec")));

/* libunwind finds unwind tables with dl_iterate_phdr, which takes the
 * loader's lock. A handler on a thread that holds that lock, or is halfway
 * through taking it, must not call it (seen: a self-deadlock inside dlopen),
 * so while this thread is in the loader, or the loader is changing its list
 * (r_state; glibc sets it only after taking the lock for a dlopen, hence the
 * per-thread mark as well), the DWARF walk is skipped and only the
 * interrupted instruction is recorded. The other cycle, through libunwind's
 * own lock across two handlers, is closed by unwind_lock below. */
int sprof_loader_busy(void)
{
    return sprof_in_loader || __atomic_load_n(&_r_debug.r_state, __ATOMIC_RELAXED) != RT_CONSISTENT;
}

/* libunwind's functions, once loaded (uw_state 1). The names are
 * libunwind.h's macros expanded (_ULx86_64_step, ...). */
#define UW_STR_(x) #x
#define UW_STR(x) UW_STR_(x)
static struct {
    int (*getcontext)(unw_context_t *);
    int (*init_local)(unw_cursor_t *, unw_context_t *);
    int (*init_local2)(unw_cursor_t *, unw_context_t *, int);
    int (*step)(unw_cursor_t *);
    int (*get_reg)(unw_cursor_t *, unw_regnum_t, unw_word_t *);
    int (*set_caching_policy)(unw_addr_space_t, unw_caching_policy_t);
    unw_addr_space_t *local_as;
} U;
static _Atomic int uw_state;  /* 0 not loaded, 1 ready, -1 cannot be */
static _Atomic int uw_wanted; /* a handler needed it (the writer loads it) */

#ifndef SPROF_LIBUNWIND_SONAME
#define SPROF_LIBUNWIND_SONAME "libunwind.so.8"
#endif

int sprof_unwind_load(void)
{
    int st = atomic_load(&uw_state);
    if (st) return st > 0 ? 0 : -1;
    void *h = dlopen(SPROF_LIBUNWIND_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (h) {
        *(void **)&U.getcontext = dlsym(h, UW_STR(unw_tdep_getcontext));
        *(void **)&U.init_local = dlsym(h, UW_STR(unw_init_local));
        *(void **)&U.init_local2 = dlsym(h, UW_STR(unw_init_local2));
        *(void **)&U.step = dlsym(h, UW_STR(unw_step));
        *(void **)&U.get_reg = dlsym(h, UW_STR(unw_get_reg));
        *(void **)&U.set_caching_policy = dlsym(h, UW_STR(unw_set_caching_policy));
        U.local_as = dlsym(h, UW_STR(unw_local_addr_space));
    }
    if (!h || !U.getcontext || !U.init_local || !U.init_local2 || !U.step || !U.get_reg ||
        !U.set_caching_policy || !U.local_as) {
        sprof_warn("cannot load %s (%s): samples the unwind tables cannot walk keep only what "
                   "they walked",
                   SPROF_LIBUNWIND_SONAME, h ? "a function is missing" : dlerror());
        atomic_store(&uw_state, -1);
        return -1;
    }
    /* Per-thread caches: no lock shared between threads in the handler.
     * One step here makes libunwind set itself up outside any signal
     * handler (a whole walk would also look up each library of this
     * stack). */
    sprof_internal++;
    U.set_caching_policy(*U.local_as, UNW_CACHE_PER_THREAD);
    unw_context_t ctx;
    unw_cursor_t c;
    if (U.getcontext(&ctx) == 0 && U.init_local(&c, &ctx) == 0) U.step(&c);
    sprof_internal--;
    atomic_store(&uw_state, 1);
    return 0;
}

/* Does a walk wait for the writer's help: libunwind to load, or an object
 * loaded since the set of objects was made (handler.c, late_due)? */
int sprof_unwind_needs_writer(void)
{
    return (atomic_load_explicit(&uw_wanted, memory_order_relaxed) &&
            !atomic_load_explicit(&uw_state, memory_order_relaxed)) ||
           atomic_load_explicit(&sprof_cfi_unknown, memory_order_relaxed);
}

/* From the writer: loads libunwind if a handler asked for it. */
void sprof_unwind_step(void)
{
    if (atomic_load(&uw_wanted) && !atomic_load(&uw_state)) sprof_unwind_load();
}

SPROF_ONCE void sprof_unwind_init(void)
{
    /* the dwarf unwinder loads libunwind when a sample first needs it;
     * SPROF_UNWIND=libunwind needs it from the first sample */
    if (sprof.cfg.unwinder == UNWIND_LIBUNWIND) sprof_unwind_load();
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
 * lock. With this flag (sprof.unwinding) only one handler is ever inside
 * libunwind, so its lock is never contended by another handler; a handler
 * that cannot have the flag within a few microseconds records the
 * interrupted instruction only, and the handler that holds it always
 * finishes. */
#define UNWIND_WAIT_NS 20000

static int unwind_lock(void)
{
    uint64_t give_up = 0;
    for (;;) {
        int expected = 0;
        if (atomic_compare_exchange_weak_explicit(&sprof.unwinding, &expected, 1,
                                                  memory_order_acquire, memory_order_relaxed))
            return 1;
        uint64_t now = sprof_now();
        if (!give_up)
            give_up = now + UNWIND_WAIT_NS;
        else if (now > give_up)
            return 0;
        __builtin_ia32_pause();
    }
}

static void unwind_unlock(void)
{
    atomic_store_explicit(&sprof.unwinding, 0, memory_order_release);
}

/* fork: no thread may be inside libunwind (its lock would be copied held
 * into the child); wait for the current walk, at most 100 ms. */
void sprof_unwind_prepare_fork(void)
{
    for (int i = 0; i < 100000; i++) {
        int expected = 0;
        if (atomic_compare_exchange_weak(&sprof.unwinding, &expected, 1)) return;
        struct timespec ts = {0, 1000};
        sys_nanosleep(&ts, NULL);
    }
}

SPROF_ONCE void sprof_unwind_after_fork(void)
{
    unwind_unlock();
}

static unsigned walk_dwarf(unw_cursor_t *c, uint64_t *ring, uint64_t pos, unsigned max,
                           unsigned *flags, uint64_t deadline);

/* partial: frames a table walk already put in the ring (at least the
 * interrupted instruction), kept, marked broken, when libunwind cannot be
 * used now; 0 for the interrupted instruction alone. */
static unsigned unwind_libunwind(void *uc, uint64_t *ring, uint64_t pos, unsigned max,
                                 unsigned *flags, uint64_t deadline, unsigned partial)
{
    unw_cursor_t c;
    /* On x86_64 unw_context_t is a ucontext_t: start from the interrupted
     * registers, marked as a signal frame so the first IP is exact. Not
     * loaded yet: the writer loads it, this sample keeps what it has. */
    int st = atomic_load_explicit(&uw_state, memory_order_acquire);
    if (st != 1 && !atomic_exchange(&uw_wanted, 1)) sprof_wake_writer();
    /* Not under ThreadSanitizer: it delivers a signal that lands in plain
     * code at the thread's next intercepted call, when the stack has moved
     * on from the context; libunwind, which trusts what it reads, followed
     * such a stack out of the thread's memory (a crash, case 214's
     * throw-dlopen). sprof's own walks check each read against the stack. */
    if (SPROF_TSAN || st != 1 || sprof_loader_busy() || !unwind_lock()) {
        ucontext_t *u = uc;
        ring[pos & RING_MASK] = (uint64_t)u->uc_mcontext.gregs[REG_RIP];
        *flags |= SPROF_STACK_BROKEN;
        return partial ? partial : 1;
    }
    unsigned n = 1;
    if (U.init_local2(&c, (unw_context_t *)uc, UNW_INIT_SIGNAL_FRAME) < 0) {
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
        if (U.get_reg(c, UNW_REG_IP, &ip) < 0 || ip == 0) break;
        ring[(pos + n) & RING_MASK] = ip;
        if (++n == max || (n % BUDGET_EVERY == 0 && over_budget(deadline))) {
            if (U.step(c) > 0) *flags |= SPROF_STACK_TRUNCATED;
            break;
        }
        int r = U.step(c);
        if (r <= 0) {
            if (r < 0) *flags |= SPROF_STACK_BROKEN;
            break;
        }
    }
    return n;
}

/* A word of the interrupted thread's stack, which the caller checked to be
 * inside it. Not instrumented under ASan: a register that held some stack
 * address, followed as a frame pointer, may point into a redzone of an
 * instrumented frame, a read the walk may make but ASan would report (seen
 * under the sanitizer runtime's memset interceptor, case 203). */
#ifdef __SANITIZE_ADDRESS__
#define STACK_WORD_ATTR STACK_READS __attribute__((noinline))
#else
#define STACK_WORD_ATTR inline
#endif
static STACK_WORD_ATTR uintptr_t stack_word(uintptr_t at)
{
    return *(const uintptr_t *)at;
}

/* The stack sp is on, [*lo, *hi): its thread's (0), another that the
 * kernel names (1: a coroutine's, an alternate signal stack; maps.c,
 * sprof_stack_region), or none known (-1: also a thread whose own bounds
 * are not known yet, which its writer looks up from its last_sp). */
static int stack_bounds(struct sprof_thread *t, uintptr_t sp, uintptr_t *lo, uintptr_t *hi)
{
    *lo = atomic_load_explicit(&t->stack_lo, memory_order_relaxed);
    *hi = atomic_load_explicit(&t->stack_hi, memory_order_relaxed);
    if (!*lo || !*hi) {
        atomic_store_explicit(&t->last_sp, sp, memory_order_relaxed);
        return -1;
    }
    if (sp >= *lo && sp < *hi) return 0;
    return sprof_stack_region(sp, lo, hi) == 0 && sp >= *lo && sp < *hi ? 1 : -1;
}

static unsigned unwind_fp(struct sprof_thread *t, void *uc, uint64_t *ring, uint64_t pos,
                          unsigned max, unsigned *flags, uint64_t deadline)
{
    ucontext_t *u = uc;
    uintptr_t pc = (uintptr_t)u->uc_mcontext.gregs[REG_RIP];
    uintptr_t fp = (uintptr_t)u->uc_mcontext.gregs[REG_RBP];
    uintptr_t sp = (uintptr_t)u->uc_mcontext.gregs[REG_RSP];
    uintptr_t lo, hi;
    unsigned n = 0;
    ring[(pos + n++) & RING_MASK] = pc;
    if (stack_bounds(t, sp, &lo, &hi) < 0) {
        /* bounds not known (yet: a thread found by the /proc scan, whose
         * writer looks sp up): the leaf only */
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
        uintptr_t next = stack_word(fp), ret = stack_word(fp + 8);
        if (ret == 0) return n;
        ring[(pos + n++) & RING_MASK] = ret;
        if (next <= fp) {
            if (next != 0) *flags |= SPROF_STACK_BROKEN;
            return n;
        }
        fp = next;
    }
    if (fp >= sp && fp <= hi - 16 && !(fp & 7) && stack_word(fp + 8) != 0)
        *flags |= SPROF_STACK_TRUNCATED;
    return n;
}

/* ---- the table walk (cfi.h) ---- */

#define WALK_FALLBACK (~0u) /* walk_tables could not: libunwind must */

enum step { STEP_OK, STEP_END, STEP_BROKEN, STEP_FALLBACK };

/* An object without a table: one more lookup that needed it; the writer
 * is woken when they reach the object's want_after (cfi.h). fallback: the
 * lookup in place could not tell, libunwind must. */
static void want_table(const struct cfi_obj *o, int fallback)
{
    struct cfi_obj *w = (struct cfi_obj *)o;
    if (atomic_load_explicit(&w->state, memory_order_relaxed) != CFI_PENDING) return;
    /* when libunwind is busy (another handler, the loader), this sample
     * will likely keep only what the tables walked: the table is wanted
     * now, whatever it costs */
    unsigned add = fallback && (sprof_loader_busy() ||
                                atomic_load_explicit(&sprof.unwinding, memory_order_relaxed))
                       ? w->want_after
                       : 1;
    unsigned was = (unsigned)atomic_fetch_add_explicit(&w->wanted, (int)add, memory_order_relaxed);
    if (was < w->want_after && was + add >= w->want_after) sprof_wake_writer();
    /* after CFI_CACHE_WANT lookups, the writer maps the table from the cache if
     * it is there: a compiler run by a build lives a hundred ms, and each of
     * its first lookups in place may fault in cold pages of its .eh_frame
     * (tens of us); a process that samples an object once or twice does not
     * pay for its table */
    if (w->cached && was + add >= CFI_CACHE_WANT &&
        !atomic_load_explicit(&w->cache_asked, memory_order_relaxed) &&
        !atomic_exchange_explicit(&w->cache_asked, 1, memory_order_relaxed)) {
        atomic_store_explicit(&sprof_cfi_cache_wanted, 1, memory_order_relaxed);
        sprof_wake_writer();
    }
}

/* Registers of the frame being unwound, and what the walk knows. */
struct walk {
    const struct cfi_set *set;
    const struct cfi_obj *obj; /* of the previous frame: likely this one's too */
    const struct cfi_table *tab;
    struct sprof_rule_slot *rules; /* the thread's cache (sprof.h) */
    unsigned inplace;              /* frames looked up in place */
    int interrupted; /* pc is where a signal interrupted the code, not a return address */
    uintptr_t pc, sp, fp;
    uintptr_t floor, hi; /* [floor, hi) may be read: the stack from sp up,
                          * and the red zone below the interrupted sp */
    uintptr_t own_lo, own_hi; /* the thread's own stack */
    unsigned moves;           /* onto another stack (one counted for a walk that starts
                               * on another than the thread's): at most 2 */
    /* the last step's: did it go by the tables' rule alone (not by code:
     * a signal frame, a leaf without rules), so that the same registers
     * and the same words read give the same caller? and the words it read
     * (0: none) for rbp, the CFA and the return address (walk_tables'
     * record of the walk, sprof.h's struct sprof_memo) */
    int plain;
    uintptr_t rbp_at, cfa_at, ra_at;
};

/* x86_64: the 128 bytes below rsp belong to the interrupted function (the
 * kernel puts the signal frame below them), and the CFI of an epilogue
 * still names a register's slot there after the pop that restored it. */
#define RED_ZONE 128

static int readable(const struct walk *w, uintptr_t a)
{
    return a >= w->floor && a <= w->hi - sizeof(uintptr_t);
}

/* x86-64 glibc's __restore_rt, where a signal handler returns: mov $15, %rax
 * (rt_sigreturn); syscall. */
static const unsigned char sigreturn_code[9] = {0x48, 0xc7, 0xc0, 0x0f, 0x00,
                                                0x00, 0x00, 0x0f, 0x05};
#define SIGRETURN_SYSCALL_AT 7

/* glibc's __start_context (x86-64), where a function that makecontext
 * started returns: mov %rbx,%rsp; mov (%rsp),%rdi (the uc_link); test
 * %rdi,%rdi. The outermost frame of a coroutine's stack: its return
 * address is the function's first byte, and pc - 1, before it, is in no
 * FDE (CFI_NONE), as libunwind finds it. Known by its code, as
 * __restore_rt is (step_sigframe). */
static const unsigned char start_context_code[10] = {0x48, 0x89, 0xdc, 0x48, 0x8b,
                                                     0x3c, 0x24, 0x48, 0x85, 0xff};

static int context_start(struct walk *w)
{
    const struct cfi_obj *o = w->obj;
    if (!o || w->pc - 1 < o->lo || w->pc - 1 >= o->hi) o = cfi_obj_at(w->set, w->pc - 1);
    unsigned char at[sizeof(start_context_code)];
    return o && sprof_cfi_copy_code(o, w->pc, at, sizeof(at)) == 0 &&
           memcmp(at, start_context_code, sizeof(at)) == 0;
}

/* The signal frame's interrupted code, on another stack than the handler's
 * (sp outside [floor, hi)): the thread's own, or one the kernel names,
 * holding neither the handler's frames nor the walk's last sp. */
static enum step step_other_stack(struct walk *w, uintptr_t pc, uintptr_t sp, uintptr_t fp)
{
    uintptr_t lo = w->own_lo, hi = w->own_hi;
    if (w->moves >= 2) return STEP_BROKEN;
    if ((sp < lo || sp >= hi) && sprof_stack_region(sp, &lo, &hi) != 0) return STEP_BROKEN;
    if (sp < lo || sp > hi - sizeof(uintptr_t) || (w->sp >= lo && w->sp < hi)) return STEP_BROKEN;
    w->moves++;
    w->pc = pc;
    w->hi = hi;
    w->floor = sp - lo >= RED_ZONE ? sp - RED_ZONE : lo;
    w->sp = sp;
    w->fp = fp;
    w->interrupted = 1;
    return pc ? STEP_OK : STEP_END;
}

/* A signal handler's caller, the kernel's signal frame: the handler returns
 * to __restore_rt with sp at the ucontext_t that holds the registers the
 * signal interrupted. The C library's CFI for it uses expressions the
 * tables do not hold (CFI_UNSUP); it is known by its code, as libunwind and
 * gdb know it. The code is read only inside an object with one executable
 * segment (all of it mapped), whatever the return address on the stack, and
 * not during a dlclose (sprof_cfi_copy_code).
 * code: where __restore_rt would start (w->pc, or before it when a sample
 * interrupted __restore_rt itself: sp is at the ucontext_t all along). */
static enum step step_sigframe(struct walk *w, uintptr_t code)
{
    const struct cfi_obj *o = w->obj; /* (a cached rule leaves it unset) */
    if (!o || code - 1 < o->lo || code - 1 >= o->hi) o = cfi_obj_at(w->set, code - 1);
    unsigned char at[sizeof(sigreturn_code)];
    if (!o || sprof_cfi_copy_code(o, code, at, sizeof(at)) < 0 ||
        memcmp(at, sigreturn_code, sizeof(at)) != 0)
        return STEP_FALLBACK;
    uintptr_t regs = w->sp + offsetof(ucontext_t, uc_mcontext.gregs);
    uintptr_t at_pc = regs + REG_RIP * sizeof(greg_t), at_sp = regs + REG_RSP * sizeof(greg_t);
    uintptr_t at_fp = regs + REG_RBP * sizeof(greg_t);
    if (!readable(w, at_pc) || !readable(w, at_sp) || !readable(w, at_fp)) return STEP_BROKEN;
    uintptr_t pc = stack_word(at_pc), sp = stack_word(at_sp), fp = stack_word(at_fp);
    /* the interrupted code's stack is above the frame, or it is another
     * (a handler's on an alternate signal stack over the thread's own, or
     * over a coroutine's) */
    if (sp <= w->sp || sp > w->hi - sizeof(uintptr_t)) return step_other_stack(w, pc, sp, fp);
    w->pc = pc;
    w->floor = sp - RED_ZONE > w->floor ? sp - RED_ZONE : w->floor;
    w->sp = sp;
    w->fp = fp;
    w->interrupted = 1;
    return pc ? STEP_OK : STEP_END;
}

/* Code without call frame information that the walker knows by its
 * instructions (crtcode.c): crti's _init and _fini, crtbegin's functions.
 * The rule at look in the function of o's crt list it falls in, CFI_NONE
 * if none or if the decoder cannot tell. crtbegin's tm_clones functions,
 * just before __do_global_dtors_aux and frame_dummy, are what those two
 * call and jump to: found when look falls there. The code is copied as
 * sprof_cfi_copy_code allows (not during a dlclose). */
#define CRT_BEFORE 256u

/* Copies up to CRT_CODE_MAX bytes of o's code from a to code: how many, 0
 * if it may not. */
static size_t crt_code(const struct cfi_obj *o, uintptr_t a, uint8_t *code)
{
    if (a >= o->hi) return 0;
    size_t room = o->hi - a < CRT_CODE_MAX ? o->hi - a : CRT_CODE_MAX;
    return sprof_cfi_copy_code(o, a, code, room) == 0 ? room : 0;
}

static uint32_t crt_rule(const struct cfi_obj *o, uintptr_t look, int exact)
{
    uint8_t code[CRT_CODE_MAX];
    uintptr_t f = 0, t[4];
    for (unsigned i = 0; i < CFI_CRT_FUNCS; i++)
        if (o->crt[i] && o->crt[i] <= look && o->crt[i] > f) f = o->crt[i];
    for (unsigned i = CRT_ARRAYS; i < CFI_CRT_FUNCS; i++) {
        uintptr_t a = o->crt[i];
        size_t room = a > look && a - look <= CRT_BEFORE ? crt_code(o, a, code) : 0;
        size_t n = room ? sprof_crt_code_targets(code, room, a, t, 4) : 0;
        for (size_t k = 0; k < n; k++)
            if (t[k] <= look && t[k] > f) f = t[k];
    }
    size_t room = f && look - f < CRT_CODE_MAX ? crt_code(o, f, code) : 0;
    return room ? sprof_crt_code_rule(code, room, look - f, exact) : CFI_NONE;
}

/* Does a call instruction end at ra, in o's code? The forms compilers emit:
 * call rel32 (E8, a PLT stub's call too), call *disp32(%rip) (FF 15), and
 * call through a register (FF D0+r), through memory at a register (FF
 * 10+r) or at a register plus disp8 or disp32 (FF 50+r, FF 90+r); a REX
 * prefix before FF does not move it. Not the forms with a SIB byte. */
static int after_call(const struct cfi_obj *o, uintptr_t ra)
{
    uint8_t b[7]; /* b[i] at ra - 7 + i */
    if (ra - o->lo < sizeof(b) || sprof_cfi_copy_code(o, ra - sizeof(b), b, sizeof(b)) < 0)
        return 0;
    unsigned r1 = b[2] & 7, r2 = b[6] & 7, r3 = b[5] & 7;
    return b[2] == 0xe8 || (b[1] == 0xff && (b[2] == 0x15 || ((b[2] & 0xf8) == 0x90 && r1 != 4))) ||
           (b[5] == 0xff &&
            ((b[6] & 0xf8) == 0xd0 || ((b[6] & 0xf8) == 0x10 && r2 != 4 && r2 != 5))) ||
           (b[4] == 0xff && (b[5] & 0xf8) == 0x50 && r3 != 4);
}

/* The interrupted instruction in an object's code that no FDE covers:
 * hand-written assembly (GMP's mpn functions, under a compiler's constant
 * folding) is most often a leaf that never moves rsp, its return address
 * at rsp. Taken when it is one: a known object's code right after a call
 * instruction (a value the leaf pushed is rarely that). Else the sample
 * goes to libunwind, which can do no better than guess from rbp (for
 * cc1's samples in libgmp: loaded, 1.1-1.7 ms, for one-frame stacks it
 * called complete; BENCHMARKS.md, session 32). */
static enum step step_leaf(struct walk *w)
{
    if (!readable(w, w->sp)) return STEP_FALLBACK;
    uintptr_t ra = stack_word(w->sp);
    const struct cfi_obj *o = cfi_obj_at(w->set, ra - 1);
    if (!o || !after_call(o, ra)) return STEP_FALLBACK;
    w->pc = ra;
    w->sp = w->floor = w->sp + sizeof(uintptr_t);
    return STEP_OK;
}

/* Is look in the dynamic loader? (a cached rule leaves w->obj unset) */
static int in_loader(struct walk *w, uintptr_t look)
{
    const struct cfi_obj *o = w->obj;
    if (!o || look < o->lo || look >= o->hi) o = cfi_obj_at(w->set, look);
    return o && o->loader;
}

/* One frame up: the caller's pc, sp (the CFA) and rbp. exact: pc is the
 * interrupted instruction (else a return address, looked up at pc - 1). */
static inline __attribute__((always_inline)) enum step step_tables(struct walk *w, int exact)
{
    exact |= w->interrupted;
    w->interrupted = 0;
    w->plain = 0;
    w->rbp_at = w->cfa_at = w->ra_at = 0;
    uintptr_t look = exact ? w->pc : w->pc - 1;
    struct sprof_rule_slot *cached =
        &w->rules[(look * 0x9e3779b97f4a7c15ull) >> (64 - RULE_CACHE_BITS)];
    uint32_t rule;
    if (cached->look == look && look) {
        rule = cached->rule;
        goto have_rule;
    }
    if (!w->obj || look < w->obj->lo || look >= w->obj->hi) {
        w->obj = cfi_obj_at(w->set, look);
        if (!w->obj) {
            /* loaded since the set was made? the writer looks, once per set */
            if (!atomic_exchange_explicit(&sprof_cfi_unknown, 1, memory_order_relaxed))
                sprof_wake_writer();
            return STEP_FALLBACK;
        }
        w->tab = atomic_load_explicit(&w->obj->table, memory_order_acquire);
    }
    if (look - w->obj->bias > UINT32_MAX) return STEP_FALLBACK;
    if (w->tab) {
        rule = sprof_cfi_table_rule(w->tab, (uint32_t)(look - w->obj->bias));
        if (rule == CFI_NONE) rule = crt_rule(w->obj, look, exact);
        /* (rules read in place are not kept: each such lookup counts
         * towards the object's table, want_table) */
        cached->look = look;
        cached->rule = rule;
    } else if (sprof_cfi_rule_at(w->obj, look, &rule) == 0) {
        if (rule == CFI_NONE) rule = crt_rule(w->obj, look, exact);
        w->inplace++;
        want_table(w->obj, 0);
    } else {
        want_table(w->obj, 1);
        return STEP_FALLBACK;
    }
have_rule:;
    int64_t off = cfi_cfa_off(rule);
    uintptr_t cfa;
    switch (cfi_kind(rule)) {
    case CFI_OUTER:
        w->plain = 1;
        return STEP_END;
    case CFI_NONE:
        if (!exact && context_start(w)) return STEP_END;
        /* a caller without call frame information whose rbp is 0: the
         * outermost frame as the x86-64 psABI marks it, in the dynamic
         * loader (its _dl_start_user calling the constructors has no FDE);
         * elsewhere rbp is most often a register like any other, and 0
         * says nothing (cc1's samples in GMP's __gmpn_divrem_1 ended so,
         * as if complete): the walk stops there, broken */
        if (!exact && w->fp == 0) {
            if (!in_loader(w, look)) return STEP_BROKEN;
            w->plain = 1;
            return STEP_END;
        }
        return exact ? step_leaf(w) : step_sigframe(w, w->pc);
    case CFI_RSP:
        cfa = w->sp + (uintptr_t)off;
        break;
    case CFI_RBP:
        cfa = w->fp + (uintptr_t)off;
        break;
    case CFI_DEREF:
        if (!readable(w, w->fp + (uintptr_t)off)) return STEP_BROKEN;
        w->cfa_at = w->fp + (uintptr_t)off;
        cfa = stack_word(w->cfa_at);
        break;
    case CFI_PLT:
        cfa = w->sp + (uintptr_t)off + ((w->pc & 15) >= cfi_plt_threshold(rule) ? 8 : 0);
        break;
    default: /* a rule only libunwind follows, unless a signal frame's */
        if (!exact) return step_sigframe(w, w->pc);
        /* interrupted in __restore_rt: at its mov, or at its syscall */
        enum step st = step_sigframe(w, w->pc);
        return st == STEP_FALLBACK ? step_sigframe(w, w->pc - SIGRETURN_SYSCALL_AT) : st;
    }
    /* the frame's return address sits above sp: the walk only goes up */
    if (cfa < w->sp + sizeof(uintptr_t) || cfa > w->hi) return STEP_BROKEN;
    uintptr_t fp = w->fp;
    if (cfi_rbp(rule) != CFI_RBP_SAME) {
        uintptr_t base = cfi_rbp(rule) == CFI_RBP_AT_CFA ? cfa : w->fp;
        uintptr_t at = base + (uintptr_t)cfi_rbp_off(rule);
        if (!readable(w, at)) return STEP_BROKEN;
        fp = stack_word(at);
        w->rbp_at = at;
    }
    w->plain = 1;
    w->ra_at = cfa - sizeof(uintptr_t);
    w->pc = stack_word(w->ra_at);
    w->sp = w->floor = cfa;
    w->fp = fp;
    return w->pc ? STEP_OK : STEP_END;
}

/* How many frames of the thread's last walk (sprof.h, struct sprof_memo),
 * from its frame f[s], whose pc, sp and rbp the walk has now, outward, are
 * this walk's too, up to room of them: f[s] and each caller whose step read
 * the words it read then, which still hold what they held (a step's caller
 * is the rule at its pc, from the same set of objects, applied to its
 * registers and to the words it reads: the same registers and words, the
 * same caller). *whole: all of them, and the last walk's end. */
static unsigned memo_check(const struct sprof_thread *t, unsigned s, unsigned room, int *whole)
{
    const struct sprof_memo_frame *f = t->memo->f;
    unsigned i = s, lim = s + 1 > room ? s + 1 - room : 0;
    for (; i > lim; i--) {
        const struct sprof_memo_frame *a = &f[i], *b = &f[i - 1];
        if (stack_word(b->sp - sizeof(uintptr_t)) != b->pc ||
            (a->rbp_at && stack_word(a->rbp_at) != b->fp) ||
            (a->cfa_at && stack_word(a->cfa_at) != b->sp))
            break;
    }
    /* the last step: the return address of 0 where it read one */
    uintptr_t end = t->memo_end_at;
    *whole =
        i == 0 && (!end || (stack_word(end) == 0 &&
                            (!f[0].cfa_at || stack_word(f[0].cfa_at) == end + sizeof(uintptr_t))));
    return s - i + 1;
}

/* Walks without the record after one that took too few frames from it. */
#define MEMO_REST 128u

/* After a walk of n frames that ended at the outermost one: its record for
 * the next (sprof.h). Its frames past bad may be matched (each step from
 * there on went by the rules alone, and none is an interrupted
 * instruction's); at its frame k it took memo->f[s] on (memo_check), or k
 * is n (none): the frames it walked past bad go after f[s], or from f[0]. */
static void memo_keep(struct sprof_thread *t, unsigned n, unsigned bad, unsigned k, unsigned s,
                      uintptr_t end_at, uint64_t gen, uintptr_t hi)
{
    struct sprof_memo *m = t->memo;
    unsigned off = k == n ? n - 1 : s + k; /* f[off - i] is frame i */
    if (k == n) t->memo_end_at = end_at;
    for (unsigned i = k - 1; i > bad && off - i < MEMO_MAX; i--)
        m->f[off - i] = m->walk[i & (MEMO_MAX - 1)];
    t->memo_n = off - bad < MEMO_MAX ? off - bad : MEMO_MAX;
    t->memo_gen = gen;
    t->memo_hi = hi;
}

/* After the step s from frame n - 1: 0 for the walk to go on, else 1, its
 * flags in *f, and *n WALK_FALLBACK when libunwind must walk the sample
 * (*partial: the frames this walk put in the ring). */
static inline int walk_over(enum step s, unsigned *n, unsigned max, unsigned *f, uint64_t deadline,
                            unsigned *partial)
{
    switch (s) {
    case STEP_END:
        return 1;
    case STEP_BROKEN:
        *f |= SPROF_STACK_BROKEN;
        return 1;
    case STEP_FALLBACK:
        if (*n == max) {
            *f |= SPROF_STACK_TRUNCATED; /* deeper than max: not worth a rewalk */
        } else {
            *partial = *n;
            *n = WALK_FALLBACK;
        }
        return 1;
    default:
        if (*n == max || (*n % BUDGET_EVERY == 0 && over_budget(deadline))) {
            *f |= SPROF_STACK_TRUNCATED;
            return 1;
        }
        return 0;
    }
}

/* walk_tables' walk with the thread's record of its last walk (sprof.h):
 * each frame is looked for among the recorded ones, and where one matches
 * and memo_check finds its words unchanged, the frames above it are taken
 * from there. Kept out of walk_tables' own loop, whose code it slowed by
 * half (an evaluator's samples, which use it little: MEMO_REST). Returns
 * the frames, or WALK_FALLBACK. */
static __attribute__((noinline)) unsigned walk_memo(struct sprof_thread *t, struct walk *w,
                                                    uint64_t *ring, uint64_t pos, unsigned max,
                                                    unsigned *f, uint64_t deadline,
                                                    unsigned *partial)
{
    struct sprof_memo *memo = t->memo;
    unsigned p = t->memo_gen == w->set->gen && t->memo_hi == w->hi ? t->memo_n : 0;
    /* frames up to bad may not be met; had: a record to take from; kept:
     * this walk left one */
    unsigned n = 0, bad = 0, taken = 0, had = p, kept = 0;
    for (;;) {
        if (p && n > bad) {
            /* memo->f[p - 1] is the last walk's lowest frame not below sp */
            while (p && memo->f[p - 1].sp < w->sp)
                p--;
            const struct sprof_memo_frame *m = p ? &memo->f[p - 1] : NULL;
            if (m && m->sp == w->sp && m->pc == w->pc && m->fp == w->fp) {
                int whole;
                unsigned s = p - 1, got = memo_check(t, s, max - n, &whole);
                for (unsigned i = 0; i < got - !whole; i++)
                    ring[(pos + n + i) & RING_MASK] = memo->f[s - i].pc;
                taken += got - !whole;
                if (whole) {
                    memo_keep(t, n + got, bad, n, s, 0, w->set->gen, w->hi);
                    kept = 1;
                    n += got;
                    break;
                }
                /* the stack changed above f[s - got + 1]: the frames up
                 * to it are taken (and recorded as walked), its step is
                 * walked, and the frames further out may be met again */
                for (unsigned i = 0; i < got - 1; i++)
                    memo->walk[(n + i) & (MEMO_MAX - 1)] = memo->f[s - i];
                n += got - 1;
                m = &memo->f[s - got + 1];
                w->pc = m->pc;
                w->sp = w->floor = m->sp;
                w->fp = m->fp;
                p = s - got + 1;
            }
        }
        struct sprof_memo_frame *r = &memo->walk[n & (MEMO_MAX - 1)];
        r->pc = w->pc;
        r->sp = w->sp;
        r->fp = w->fp;
        ring[(pos + n++) & RING_MASK] = w->pc;
        enum step s = step_tables(w, n == 1);
        r->rbp_at = w->rbp_at;
        r->cfa_at = w->cfa_at;
        if (!w->plain) bad = n; /* nor the caller, maybe an interrupted instruction */
        if (s == STEP_END && w->plain && !w->moves) { /* (all on the thread's stack) */
            memo_keep(t, n, bad, n, 0, w->ra_at, w->set->gen, w->hi);
            kept = 1;
        }
        if (walk_over(s, &n, max, f, deadline, partial)) break;
    }
    /* the record pays where the frames it saves outnumber those it keeps:
     * a program whose walks take few (an evaluator, each sample's inner
     * frames new) does without it for MEMO_REST walks, then tries again.
     * A walk that had no record to take from says nothing of its worth:
     * the next walk tries the one it left (a thread's first walk with the
     * record, or the first after a new set of objects, had rested the
     * record for MEMO_REST walks, those of a 200-frame program's first
     * eighth of a second at 999 Hz: BENCHMARKS.md, session 45); one that
     * left none either (a walk that ends broken) rests it. */
    if (n != WALK_FALLBACK && (had ? taken < 2 * (n - taken) : !kept)) t->memo_rest = MEMO_REST;
    return n;
}

/* The walk over the tables of cfi.h; WALK_FALLBACK when libunwind must do
 * this sample (nothing of it is kept then, flags included). */
static unsigned walk_tables(struct sprof_thread *t, void *uc, uint64_t *ring, uint64_t pos,
                            unsigned max, unsigned *flags, uint64_t deadline, unsigned *partial)
{
    ucontext_t *u = uc;
    struct walk w;
    w.inplace = 0;
    w.pc = (uintptr_t)u->uc_mcontext.gregs[REG_RIP];
    w.sp = (uintptr_t)u->uc_mcontext.gregs[REG_RSP];
    w.fp = (uintptr_t)u->uc_mcontext.gregs[REG_RBP];
    uintptr_t lo;
    int other = stack_bounds(t, w.sp, &lo, &w.hi);
    if (other < 0) return WALK_FALLBACK;
    w.floor = w.sp - lo >= RED_ZONE ? w.sp - RED_ZONE : lo;
    w.own_lo = atomic_load_explicit(&t->stack_lo, memory_order_relaxed);
    w.own_hi = atomic_load_explicit(&t->stack_hi, memory_order_relaxed);
    w.moves = (unsigned)other;

    unsigned slot, n = 0, f = 0;
    w.set = sprof_cfi_enter(&slot);
    if (!w.set) {
        n = WALK_FALLBACK;
        goto out;
    }
    w.obj = NULL;
    w.tab = NULL;
    w.interrupted = 0;
    if (t->rules_gen != w.set->gen) {
        /* objects came or went since the cache was filled: other rules
         * (a thread's first walk finds it empty, untouched) */
        if (t->rules_gen)
            for (unsigned i = 0; i < RULE_CACHE_SLOTS; i++) /* (no libc call here) */
                t->rules[i].look = 0;
        else
            /* a write before the first probe's read: read first, a page
             * never touched is the kernel's zero page, and the first
             * write then a second fault, a copy, and a TLB flush that
             * interrupts the CPUs running the process's other threads */
            *(volatile uintptr_t *)&t->rules[0].look = 0;
        t->rules_gen = w.set->gen;
    }
    w.rules = t->rules;
    /* the last walk's record (sprof.h, struct sprof_memo), from a thread's
     * RING_SHARE_FROM-th sample on (before, its pages are not touched), on
     * the thread's own stack (another may be gone by the next walk) */
    if (!other && atomic_load_explicit(&t->samples, memory_order_relaxed) >= RING_SHARE_FROM) {
        if (t->memo_rest) {
            t->memo_rest--;
        } else {
            n = walk_memo(t, &w, ring, pos, max, &f, deadline, partial);
            goto out;
        }
    }
    for (;;) {
        ring[(pos + n++) & RING_MASK] = w.pc;
        if (walk_over(step_tables(&w, n == 1), &n, max, &f, deadline, partial)) break;
    }
out:
    sprof_cfi_leave(slot);
    if (w.inplace) atomic_fetch_add_explicit(&t->unwind_inplace, w.inplace, memory_order_relaxed);
    if (n != WALK_FALLBACK) *flags |= f;
    return n;
}

/* ucontext_t's index of each DWARF register number below 16 (rsp's, 7, is
 * never a return address's) */
static const unsigned char dwarf_greg[16] = {
    REG_RAX, REG_RDX, REG_RCX, REG_RBX, REG_RSI, REG_RDI, REG_RBP, REG_RSP,
    REG_R8,  REG_R9,  REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15,
};

/* The walk again from the interrupted registers for a sample the tables
 * could not walk, before libunwind: every frame looked up in place with its
 * full rules, rbx followed as well (the dynamic loader's lazy-binding
 * trampoline keeps its CFA in rbx: it is on many samples of a short
 * process). WALK_FALLBACK if it cannot either. */
static unsigned walk_full(struct sprof_thread *t, void *uc, uint64_t *ring, uint64_t pos,
                          unsigned max, unsigned *flags, uint64_t deadline)
{
    ucontext_t *u = uc;
    uintptr_t pc = (uintptr_t)u->uc_mcontext.gregs[REG_RIP];
    uintptr_t sp = (uintptr_t)u->uc_mcontext.gregs[REG_RSP];
    uintptr_t fp = (uintptr_t)u->uc_mcontext.gregs[REG_RBP];
    uintptr_t bx = (uintptr_t)u->uc_mcontext.gregs[REG_RBX];
    uintptr_t lo, hi;
    if (stack_bounds(t, sp, &lo, &hi) < 0) return WALK_FALLBACK;
    uintptr_t floor = sp - lo >= RED_ZONE ? sp - RED_ZONE : lo;
    unsigned slot, n = 0, f = 0, inplace = 0;
    const struct cfi_set *set = sprof_cfi_enter(&slot);
    const struct cfi_obj *o = NULL;
    if (!set) {
        n = WALK_FALLBACK;
        goto out;
    }
    for (;;) {
        ring[(pos + n++) & RING_MASK] = pc;
        uintptr_t look = n == 1 ? pc : pc - 1;
        if (!o || look < o->lo || look >= o->hi) o = cfi_obj_at(set, look);
        struct cfi_frame fr;
        int k = o && look - o->bias <= UINT32_MAX ? sprof_cfi_frame_at(o, look, &fr) : -1;
        uint32_t crt = k == 1 ? crt_rule(o, look, n == 1) : CFI_NONE;
        if (crt != CFI_NONE) {
            memset(&fr, 0, sizeof(fr));
            fr.cfa_reg = 7;
            fr.cfa_off = cfi_cfa_off(crt);
            fr.rbp_saved = cfi_rbp(crt) == CFI_RBP_AT_CFA;
            fr.rbp_off = cfi_rbp_off(crt);
            k = 0;
        }
        if (k == 1 && n > 1 && fp == 0) { /* the psABI's outermost frame (step_tables) */
            if (!o->loader) f |= SPROF_STACK_BROKEN;
            break;
        }
        if (k != 0) {
            n = WALK_FALLBACK;
            break;
        }
        inplace++;
        if (fr.outer) break;
        /* a return address in a register: only the interrupted frame's are
         * known (vfork's, where its caller resumes with a pending signal) */
        if (fr.ra_reg && n > 1) {
            n = WALK_FALLBACK;
            break;
        }
        uintptr_t base = fr.cfa_reg == 7 ? sp : fr.cfa_reg == 6 ? fp : bx;
        uintptr_t cfa = base + (uintptr_t)fr.cfa_off, at;
        /* (with the return address in a register, the CFA may be sp) */
        if (cfa < sp + (fr.ra_reg ? 0 : sizeof(uintptr_t)) || cfa > hi) {
            f |= SPROF_STACK_BROKEN;
            break;
        }
        if (fr.rbp_saved) {
            at = cfa + (uintptr_t)fr.rbp_off;
            if (at < floor || at > hi - sizeof(uintptr_t)) {
                f |= SPROF_STACK_BROKEN;
                break;
            }
            fp = stack_word(at);
        }
        if (fr.rbx_saved) {
            at = cfa + (uintptr_t)fr.rbx_off;
            if (at < floor || at > hi - sizeof(uintptr_t)) {
                f |= SPROF_STACK_BROKEN;
                break;
            }
            bx = stack_word(at);
        }
        pc = fr.ra_reg ? (uintptr_t)u->uc_mcontext.gregs[dwarf_greg[fr.ra_reg - 1]]
                       : stack_word(cfa - sizeof(uintptr_t));
        sp = floor = cfa;
        if (!pc) break;
        if (n == max || (n % BUDGET_EVERY == 0 && over_budget(deadline))) {
            f |= SPROF_STACK_TRUNCATED;
            break;
        }
    }
out:
    sprof_cfi_leave(slot);
    if (inplace) atomic_fetch_add_explicit(&t->unwind_inplace, inplace, memory_order_relaxed);
    if (n != WALK_FALLBACK) *flags |= f;
    return n;
}

/* Did libunwind end its walk, as complete, where the tables would have? It
 * ends at an outermost frame's CFI, and where it guesses from rbp, at an
 * rbp of 0 in code without any: that is the end only in the dynamic
 * loader, as step_tables takes it. A known object's code that no FDE
 * covers (a sample inside a CFI-less function of GMP's after its push,
 * under cc1) is not. */
static int libunwind_end_known(const uint64_t *ring, uint64_t pos, unsigned n)
{
    if (!n) return 1;
    uintptr_t pc = (uintptr_t)ring[(pos + n - 1) & RING_MASK], look = n == 1 ? pc : pc - 1;
    unsigned slot;
    const struct cfi_set *set = sprof_cfi_enter(&slot);
    if (!set) return 1;
    const struct cfi_obj *o = cfi_obj_at(set, look);
    struct cfi_frame fr;
    int guess =
        o && !o->loader && look - o->bias <= UINT32_MAX && sprof_cfi_frame_at(o, look, &fr) == 1;
    sprof_cfi_leave(slot);
    return !guess;
}

unsigned sprof_unwind(struct sprof_thread *t, void *uc, uint64_t *ring, uint64_t pos, unsigned max,
                      unsigned *flags, uint64_t deadline)
{
    switch (sprof.cfg.unwinder) {
    case UNWIND_FP:
        return unwind_fp(t, uc, ring, pos, max, flags, deadline);
    case UNWIND_LIBUNWIND:
        return unwind_libunwind(uc, ring, pos, max, flags, deadline, 0);
    default: {
        unsigned partial = 0;
        unsigned n = walk_tables(t, uc, ring, pos, max, flags, deadline, &partial);
        if (n != WALK_FALLBACK) return n;
        n = walk_full(t, uc, ring, pos, max, flags, deadline);
        if (n != WALK_FALLBACK) return n;
        atomic_fetch_add_explicit(&t->unwind_fallback, 1, memory_order_relaxed);
        n = unwind_libunwind(uc, ring, pos, max, flags, deadline, partial);
        if (!(*flags & (SPROF_STACK_BROKEN | SPROF_STACK_TRUNCATED)) &&
            !libunwind_end_known(ring, pos, n))
            *flags |= SPROF_STACK_BROKEN;
        return n;
    }
    }
}
