/* SPDX-License-Identifier: MIT */
/*
 * threadkinds: six threads of three kinds do the same CPU work, each in a
 * function of its own, while main only waits:
 *   tk-early-1, tk-early-2   pthreads started from the program's
 *                            .preinit_array, which runs before every shared
 *                            library's constructor (libsprof.so's too), and
 *                            working at once: work_early_1, work_early_2
 *   tk-clone-1, tk-clone-2   threads made with libc's clone(2), not
 *                            pthread_create: work_clone_1, work_clone_2
 *   tk-pthr-1, tk-pthr-2     pthread_create from main: work_pthr_1,
 *                            work_pthr_2
 * The clone and pthread workers wait at a gate that main opens GATE_MS
 * milliseconds after creating them; "nogate" (what the test uses) opens it
 * at once. (A thread made by a raw clone system call, not libc's clone, is
 * found by sprof's /proc scan every 100 ms: there a gate would be needed.)
 *
 * Each worker measures its own CPU time over its work (thread CPU clock);
 * main also reads the early threads' CPU clocks when main starts, which is
 * after every constructor: CPU the early threads spent before then could
 * not be sampled. The work is done in slices of 0.2 ms, each timed by the
 * same clock: a slice that took over 1 ms more than the quickest one is a
 * stall, and its excess is counted apart. On a virtual machine whose host
 * takes the CPU away (steal time the guest does not report), the guest
 * counts the time away as CPU time of the thread that was running, while
 * no timer of the guest fires in it: a thread's CPU clock then runs ahead
 * of any sampler's count (and of perf's), and STALL_NS says by how much.
 * Printed on stdout, one line a thread:
 *     cpu NAME WORK_NS BEFORE_MAIN_NS STALL_NS
 * then "early: SIGPROF handled at preinit 0, in main 1" when the early
 * threads were started before the profiler's constructor installed its
 * handler (asked of the kernel: sprof hides it from sigaction), and
 * "threadkinds: done".
 *
 * Usage: threadkinds [MS [GATE_MS|nogate]]   (MS: CPU milliseconds of work
 * per thread, default 350; GATE_MS default 300)
 * Expected profile: each work_* function's share of the samples of all six
 * is its thread's share of their CPU time (about a sixth each).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "burn.h"

static long iters;
static volatile int gate;

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Sleeps without touching errno or other thread-local state: the raw clone
 * threads share main's TLS. */
static void wait_gate(void)
{
    struct timespec ts = {0, 1000000};
    while (!__atomic_load_n(&gate, __ATOMIC_ACQUIRE)) syscall(SYS_nanosleep, &ts, NULL);
}

#define WORK(fn, k)                                                                                \
    __attribute__((noinline, noclone)) void fn(long n)                                             \
    {                                                                                              \
        BURN(n, k);                                                                                \
    }
WORK(work_early_1, 0x1b873593cc9e2d51ull)
WORK(work_early_2, 0x85ebca6bc2b2ae35ull)
WORK(work_clone_1, 0x27d4eb2f165667c5ull)
WORK(work_clone_2, 0x94d049bb133111ebull)
WORK(work_pthr_1, 0xbf58476d1ce4e5b9ull)
WORK(work_pthr_2, 0x9e3779b97f4a7c15ull)

struct worker {
    const char *name;
    void (*work)(long);
    int gated;
    pthread_t th;      /* early and pthread workers */
    char *stack;       /* clone workers */
    volatile int done; /* clone workers: set when the work is over */
    uint64_t cpu_ns;   /* CPU time of the work */
    uint64_t stall_ns; /* of which slices' time beyond the quickest's, in stalls */
    uint64_t before_main_ns;
};

static struct worker workers[6] = {
    {.name = "tk-early-1", .work = work_early_1}, {.name = "tk-early-2", .work = work_early_2},
    {.name = "tk-clone-1", .work = work_clone_1, .gated = 1},
    {.name = "tk-clone-2", .work = work_clone_2, .gated = 1},
    {.name = "tk-pthr-1", .work = work_pthr_1, .gated = 1},
    {.name = "tk-pthr-2", .work = work_pthr_2, .gated = 1},
};

#define STALL_NS 1000000ull

/* The work in slices of 0.2 ms; a slice that took over STALL_NS more than
 * the quickest so far adds its excess to stall_ns. */
static void run_worker(struct worker *w)
{
    if (w->gated) wait_gate();
    long slice = burn_iters(0.2);
    if (slice < 1) slice = 1;
    uint64_t t0 = thread_cpu_ns(), prev = t0, least = UINT64_MAX;
    for (long done = 0; done < iters; done += slice) {
        long n = iters - done < slice ? iters - done : slice;
        w->work(n);
        uint64_t now = thread_cpu_ns(), d = now - prev;
        prev = now;
        if (n < slice) break;
        if (d < least) least = d;
        if (d > least + STALL_NS) w->stall_ns += d - least;
    }
    w->cpu_ns = prev - t0;
}

static void *pthread_worker(void *arg)
{
    struct worker *w = arg;
    pthread_setname_np(pthread_self(), w->name);
    run_worker(w);
    return NULL;
}

/* Runs on its own stack, sharing main's TLS: only raw system calls and the
 * vDSO clock, nothing of libc that uses thread-local state. */
static int clone_worker(void *arg)
{
    struct worker *w = arg;
    syscall(SYS_prctl, PR_SET_NAME, w->name, 0, 0, 0);
    run_worker(w);
    __atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
    return 0;
}

static int early_status;
static int sprof_ready_at_preinit = -1;

/* Whether SIGPROF has a handler, asked of the kernel directly (sprof hides
 * its own handler from sigaction): sprof installs it when it starts. */
static int sigprof_handled(void)
{
    struct {
        void *handler;
        unsigned long flags;
        void *restorer;
        unsigned long mask;
    } k;
    if (syscall(SYS_rt_sigaction, SIGPROF, NULL, &k, sizeof(k.mask)) != 0) return -1;
    return k.handler != (void *)SIG_DFL;
}

/* Before any constructor of any shared library. */
static void start_early(int argc, char **argv, char **envp)
{
    (void)envp;
    iters = burn_iters(argc > 1 ? atof(argv[1]) : 350);
    sprof_ready_at_preinit = sigprof_handled();
    for (int i = 0; i < 2; i++)
        if (pthread_create(&workers[i].th, NULL, pthread_worker, &workers[i]) != 0) early_status = 1;
}
__attribute__((section(".preinit_array"), used)) static void (*const preinit)(int, char **,
                                                                            char **) = start_early;

int main(int argc, char **argv)
{
    if (early_status) {
        fprintf(stderr, "threadkinds: pthread_create in .preinit_array failed\n");
        return 1;
    }
    for (int i = 0; i < 2; i++) {
        clockid_t c;
        struct timespec ts;
        if (pthread_getcpuclockid(workers[i].th, &c) == 0 && clock_gettime(c, &ts) == 0)
            workers[i].before_main_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    }
    int gate_ms = 300;
    if (argc > 2) gate_ms = strcmp(argv[2], "nogate") == 0 ? 0 : atoi(argv[2]);

    size_t size = 1 << 20;
    int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM;
    for (int i = 2; i < 4; i++) {
        struct worker *w = &workers[i];
        w->stack = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,
                        -1, 0);
        if (w->stack == MAP_FAILED) {
            perror("threadkinds: mmap");
            return 1;
        }
        if (clone(clone_worker, w->stack + size, flags, w) < 0) {
            perror("threadkinds: clone");
            return 1;
        }
    }
    for (int i = 4; i < 6; i++) {
        int e = pthread_create(&workers[i].th, NULL, pthread_worker, &workers[i]);
        if (e) {
            fprintf(stderr, "threadkinds: pthread_create: %s\n", strerror(e));
            return 1;
        }
    }
    if (gate_ms > 0) usleep((useconds_t)gate_ms * 1000);
    __atomic_store_n(&gate, 1, __ATOMIC_RELEASE);

    for (int i = 0; i < 6; i++) {
        if (i == 2 || i == 3) {
            while (!__atomic_load_n(&workers[i].done, __ATOMIC_ACQUIRE)) usleep(2000);
        } else {
            pthread_join(workers[i].th, NULL);
        }
    }
    usleep(20000); /* let the clone threads finish exiting */
    for (int i = 0; i < 6; i++)
        printf("cpu %s %llu %llu %llu\n", workers[i].name, (unsigned long long)workers[i].cpu_ns,
               (unsigned long long)workers[i].before_main_ns,
               (unsigned long long)workers[i].stall_ns);
    /* the early threads started before sprof did (if it runs at all) */
    printf("early: SIGPROF handled at preinit %d, in main %d\n", sprof_ready_at_preinit,
           sigprof_handled());
    printf("threadkinds: done\n");
    return 0;
}
