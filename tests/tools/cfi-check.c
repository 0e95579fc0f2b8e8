/* SPDX-License-Identifier: MIT */
/*
 * cfi-check: the unwind tables of libsprof (preload/cfi.c, linked in, walked
 * by preload/unwind.c, included below) against libunwind, on the same
 * interrupted contexts. A high-resolution timer interrupts the workload of
 * tests/progs/unwindme.h 200 us after the previous handler returned (a
 * periodic timer starved the workload on a virtual machine where
 * libunwind's walk, two system calls a frame, took longer than the
 * period); the handler walks the interrupted stack both ways and compares
 * the frames and flags. A thread of its own
 * plays the writer: it builds the tables the handler asks for.
 *
 * Build it with -fPIC (tests/e2e/012-cfi-unwind.sh shows how): unwind.c
 * reads the loader's _r_debug, of which a non-PIC executable gets a copy
 * that the loader does not update.
 *
 * With CFI_CHECK_NO_TABLES=1 in the environment no table is ever built:
 * every frame is looked up in place in .eh_frame (sprof_cfi_rule_at).
 *
 * Usage: cfi-check [SECONDS [MIN_DEPTH [MAX_DEPTH]]]   (default 2 8 39)
 * Every 16th sample the tables walked on their own (not walk_full, which
 * follows rbx through the loader's lazy-binding trampoline but does not step
 * through a signal frame) is also walked as if it had interrupted
 * __restore_rt (check_restore).
 * Prints one line of counts,
 *   cfi-check: samples=N tables=N fallback=N differ=N
 * one for the walks from __restore_rt, one of timings (ns per frame of each walk, over the samples
 * both did), and the first few differences frame by frame. Exits 1 if any differ.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cfi.h"
#include "open-stubs.h"
#include "sprof.h"
#include "unwindme.h"

/* included, not linked: walk_tables tells which samples the tables walked
 * on their own (check_sample) */
#include "unwind.c"

struct sprof_state sprof; /* the preload's, for unwind.c */

/* maps.c's, for cfi.c: no build-ids, so no table cache here
 * (sprof.cfg.cache_dir is empty anyway) */
size_t sprof_note_build_id(const uint8_t *p, size_t n, uint8_t *out)
{
    (void)p;
    (void)n;
    (void)out;
    return 0;
}

/* maps.c's, for unwind.c: the workload runs on its thread's stack */
int sprof_stack_region(uintptr_t sp, uintptr_t *lo, uintptr_t *hi)
{
    (void)sp;
    (void)lo;
    (void)hi;
    return -1;
}

/* the preload's, for unwind.c */
__thread int sprof_internal;
void sprof_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("cfi-check: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

#define MAX_FRAMES 256
#define KEEP_DIFFS 5

static struct sprof_thread thread;                     /* the workload's */
static struct sprof_rule_slot rules[RULE_CACHE_SLOTS]; /* its rule cache */
static uint64_t ring_a[RING_WORDS], ring_b[RING_WORDS];

static struct {
    uint64_t samples, tables, fallback, differ, full;
    uint64_t ns_tables, ns_libunwind, frames_tables, frames_libunwind;
    unsigned ndiff;
    struct {
        unsigned na, nb, fa, fb;
        uint64_t a[MAX_FRAMES], b[MAX_FRAMES];
    } diff[KEEP_DIFFS];
} S;

static volatile int stop;
static timer_t timer;

/* A sample that interrupted __restore_rt itself, where this very handler
 * will return: pc at its first instruction or at its syscall, sp at the
 * ucontext_t the kernel put on the stack. Made from the handler's own
 * signal frame, whose return address is __restore_rt: the tables must
 * walk it, giving that pc, then the frames of the real walk (frames, n:
 * of uc). */
static struct {
    uint64_t checked, differ;
} R;
static uint64_t ring_r[RING_WORDS];

static void check_restore(void *uc, const uint64_t *frames, unsigned n, unsigned flags)
{
    uintptr_t restore = ((const uintptr_t *)uc)[-1];
    for (unsigned at = 0; at <= 7 && n < MAX_FRAMES; at += 7) {
        ucontext_t fake = *(const ucontext_t *)uc;
        fake.uc_mcontext.gregs[REG_RIP] = (greg_t)(restore + at);
        fake.uc_mcontext.gregs[REG_RSP] = (greg_t)(uintptr_t)uc;
        uint64_t before = atomic_load(&thread.unwind_fallback);
        unsigned f = 0, m = sprof_unwind(&thread, &fake, ring_r, 0, MAX_FRAMES, &f,
                                         sprof_now() + 1000000000ull);
        R.checked++;
        /* by the tables: libunwind would give the same frames */
        int fell = atomic_load(&thread.unwind_fallback) != before;
        if (fell || m != n + 1 || f != flags || ring_r[0] != restore + at ||
            memcmp(ring_r + 1, frames, n * sizeof(uint64_t)) != 0) {
            if (R.differ++ < 3)
                printf("cfi-check: at __restore_rt+%u: %u frames (flags %u)%s, want %u (flags "
                       "%u)\n",
                       at, m, f, fell ? " by libunwind" : "", n + 1, flags);
        }
    }
}

static void check_sample(void *uc)
{
    unsigned fa = 0, fb = 0;
    uint64_t before = atomic_load(&thread.unwind_fallback);
    sprof.cfg.unwinder = UNWIND_DWARF;
    uint64_t t0 = sprof_now();
    unsigned na = sprof_unwind(&thread, uc, ring_a, 0, MAX_FRAMES, &fa, t0 + 1000000000ull);
    uint64_t t1 = sprof_now();
    sprof.cfg.unwinder = UNWIND_LIBUNWIND;
    unsigned nb = sprof_unwind(&thread, uc, ring_b, 0, MAX_FRAMES, &fb, t1 + 1000000000ull);
    uint64_t t2 = sprof_now();
    S.samples++;
    if (atomic_load(&thread.unwind_fallback) != before) {
        S.fallback++;
        return;
    }
    S.tables++;
    if (S.tables % 16 == 0) {
        /* a walk from __restore_rt of a sample walk_full walked (one in
         * the loader's lazy binding, as an ASan build's first call of
         * __asan_alloca_poison) falls back to libunwind, as it should */
        unsigned fr = 0, partial = 0;
        if (walk_tables(&thread, uc, ring_r, 0, MAX_FRAMES, &fr, sprof_now() + 1000000000ull,
                        &partial) == WALK_FALLBACK)
            S.full++;
        else {
            sprof.cfg.unwinder = UNWIND_DWARF;
            check_restore(uc, ring_a, na, fa);
        }
    }
    S.ns_tables += t1 - t0;
    S.ns_libunwind += t2 - t1;
    S.frames_tables += na;
    S.frames_libunwind += nb;
    if (na == nb && fa == fb && memcmp(ring_a, ring_b, na * sizeof(uint64_t)) == 0) return;
    if (S.ndiff < KEEP_DIFFS) {
        S.diff[S.ndiff].na = na;
        S.diff[S.ndiff].nb = nb;
        S.diff[S.ndiff].fa = fa;
        S.diff[S.ndiff].fb = fb;
        memcpy(S.diff[S.ndiff].a, ring_a, na * sizeof(uint64_t));
        memcpy(S.diff[S.ndiff].b, ring_b, nb * sizeof(uint64_t));
        S.ndiff++;
    }
    S.differ++;
}

static void on_timer(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)si;
    if (stop) return;
    check_sample(uc);
    struct itimerspec its = {{0, 0}, {0, 200000}};
    timer_settime(timer, 0, &its, NULL);
}

static int no_tables; /* CFI_CHECK_NO_TABLES=1: lookups in place only */
static pthread_mutex_t cfi_lock = PTHREAD_MUTEX_INITIALIZER; /* cfi.c: one call at a time */

/* The writer's part: build the tables handlers asked for. */
static void *writer(void *arg)
{
    while (!stop) {
        pthread_mutex_lock(&cfi_lock);
        if (!no_tables) sprof_cfi_step();
        pthread_mutex_unlock(&cfi_lock);
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static const char *sym(uint64_t pc, char *buf, size_t n)
{
    Dl_info di;
    if (dladdr((void *)pc, &di) && di.dli_sname)
        snprintf(buf, n, "%s+%#lx", di.dli_sname, (unsigned long)(pc - (uint64_t)di.dli_saddr));
    else
        snprintf(buf, n, "?");
    return buf;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 2;
    int min_depth = argc > 2 ? atoi(argv[2]) : 8, max_depth = argc > 3 ? atoi(argv[3]) : 39;
    if (max_depth < min_depth) max_depth = min_depth;
    sprof.cfg.max_depth = MAX_FRAMES;
    thread.rules = rules;
    const char *nt = getenv("CFI_CHECK_NO_TABLES");
    no_tables = nt && *nt == '1';

    pthread_attr_t a;
    void *addr;
    size_t size;
    if (pthread_getattr_np(pthread_self(), &a) || pthread_attr_getstack(&a, &addr, &size)) {
        fprintf(stderr, "cfi-check: no stack bounds\n");
        return 2;
    }
    pthread_attr_destroy(&a);
    atomic_store(&thread.stack_lo, (uintptr_t)addr);
    atomic_store(&thread.stack_hi, (uintptr_t)addr + size);

    if (sprof_unwind_load() < 0) return 2;
    sprof_cfi_update();
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_t w;
    if (pthread_create(&w, NULL, writer, NULL)) return 2;
    pthread_sigmask(SIG_SETMASK, &old, NULL);

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_timer;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGPROF, &sa, NULL);
    struct sigevent ev;
    memset(&ev, 0, sizeof(ev));
    ev.sigev_notify = SIGEV_THREAD_ID;
    ev.sigev_signo = SIGPROF;
    ev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
    if (timer_create(CLOCK_MONOTONIC, &ev, &timer)) {
        perror("cfi-check: timer_create");
        return 2;
    }
    struct itimerspec its = {{0, 0}, {0, 200000}};
    timer_settime(timer, 0, &its, NULL);

    uint64_t end = sprof_now() + (uint64_t)(seconds * 1e9), seed = 88172645463325252ull;
    uint64_t half = end - (uint64_t)(seconds * 0.5e9);
    int stale = 0;
    while (sprof_now() < end) {
        if (!stale && sprof_now() >= half) {
            /* The handler's rule cache (sprof.h) holds rules of the set of
             * objects it was filled under. Make every rule it holds wrong,
             * then publish a new set, as a dlopen would: the walks after
             * must not use them (they would end at once). */
            stale = 1;
            sigset_t prof;
            sigemptyset(&prof);
            sigaddset(&prof, SIGPROF);
            pthread_sigmask(SIG_BLOCK, &prof, NULL);
            unsigned filled = 0;
            for (unsigned i = 0; i < RULE_CACHE_SLOTS; i++) {
                if (!rules[i].look) continue;
                rules[i].rule = CFI_OUTER;
                filled++;
            }
            pthread_mutex_lock(&cfi_lock);
            sprof_cfi_update();
            pthread_mutex_unlock(&cfi_lock);
            pthread_sigmask(SIG_UNBLOCK, &prof, NULL);
            printf("cfi-check: %u cached rules made stale, a new set published\n", filled);
        }
        for (int i = 0; i < 64; i++) {
            seed = seed * 6364136223846793005ull + 1;
            um_run(min_depth + (int)((seed >> 33) % (uint64_t)(max_depth - min_depth + 1)), seed);
        }
    }
    stop = 1;
    timer_delete(timer);
    pthread_join(w, NULL);

    printf("cfi-check: samples=%llu tables=%llu fallback=%llu differ=%llu\n",
           (unsigned long long)S.samples, (unsigned long long)S.tables,
           (unsigned long long)S.fallback, (unsigned long long)S.differ);
    printf("cfi-check: interrupted in __restore_rt: %llu walks, %llu differ\n",
           (unsigned long long)R.checked, (unsigned long long)R.differ);
    printf("cfi-check: not made into one (walked by walk_full): %llu\n",
           (unsigned long long)S.full);
    if (S.frames_tables && S.frames_libunwind)
        printf("cfi-check: tables %.1f ns per frame (%.1f frames per walk), libunwind %.1f ns "
               "per frame, table bytes %zu\n",
               (double)S.ns_tables / (double)S.frames_tables,
               (double)S.frames_tables / (double)S.tables,
               (double)S.ns_libunwind / (double)S.frames_libunwind, sprof_cfi_bytes());
    for (unsigned i = 0; i < S.ndiff; i++) {
        printf("difference %u: tables %u frames (flags %u), libunwind %u frames (flags %u)\n", i,
               S.diff[i].na, S.diff[i].fa, S.diff[i].nb, S.diff[i].fb);
        unsigned n = S.diff[i].na > S.diff[i].nb ? S.diff[i].na : S.diff[i].nb;
        for (unsigned k = 0; k < n; k++) {
            char x[128], y[128];
            uint64_t pa = k < S.diff[i].na ? S.diff[i].a[k] : 0;
            uint64_t pb = k < S.diff[i].nb ? S.diff[i].b[k] : 0;
            printf("  %c %3u %16llx %-40s %16llx %s\n", pa == pb ? ' ' : '*', k,
                   (unsigned long long)pa, pa ? sym(pa, x, sizeof(x)) : "-", (unsigned long long)pb,
                   pb ? sym(pb, y, sizeof(y)) : "-");
        }
    }
    return S.differ || R.differ || !R.checked ? 1 : 0;
}
