/* SPDX-License-Identifier: MIT */
/*
 * The overhead floor: an LD_PRELOAD library that arms the same per-thread
 * perf_event task-clock timer as sprof (SPROF_FREQ Hz) with an empty signal
 * handler. What it costs is what taking the interrupt and the signal alone
 * costs on this machine; sprof's overhead is quoted against it.
 *
 * Like sprof it covers every thread and every process of the workload: the
 * main thread at load, each thread made with pthread_create (the start
 * routine is wrapped), the child of a fork (its own timer; the parent's
 * descriptor is closed there), and exec'd programs, which load this library
 * again through the inherited LD_PRELOAD (the descriptors are close-on-exec).
 *
 * FLOOR_THREAD=1 adds what sprof's writer costs a process before it does
 * any work: an idle thread with every signal blocked and no timer, made at
 * load and in the child of a fork, left asleep to the end (bench.py's mode
 * floor-thread).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static unsigned long hits;
static unsigned long period_ns = 1000000000ul / 999;
static __thread int timer_fd = -1;
static int with_thread;
static int (*real_create)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

static void empty(int sig, siginfo_t *si, void *uc)
{
    (void)sig, (void)si, (void)uc;
    __atomic_fetch_add(&hits, 1, __ATOMIC_RELAXED);
}

static void arm_this_thread(void)
{
    struct perf_event_attr a;
    memset(&a, 0, sizeof(a));
    a.size = sizeof(a);
    a.type = PERF_TYPE_SOFTWARE;
    a.config = PERF_COUNT_SW_TASK_CLOCK;
    a.sample_period = period_ns;
    a.disabled = 1;
    a.exclude_kernel = 1; /* as sprof: periods that end in user mode only */
    a.exclude_hv = 1;
    a.wakeup_events = 1;
    pid_t tid = (pid_t)syscall(SYS_gettid);
    int fd = (int)syscall(SYS_perf_event_open, &a, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
    if (fd < 0) return;
    struct f_owner_ex o = {F_OWNER_TID, tid};
    fcntl(fd, F_SETFL, O_ASYNC | O_NONBLOCK);
    fcntl(fd, F_SETSIG, SIGPROF);
    fcntl(fd, F_SETOWN_EX, &o);
    ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
    timer_fd = fd;
}

static void *idle(void *arg)
{
    (void)arg;
    for (;;)
        pause();
    return NULL;
}

static void make_idle_thread(void)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_t t;
    if (real_create && real_create(&t, NULL, idle, NULL) == 0) pthread_detach(t);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* The forked child: the inherited descriptor still counts the parent's
   thread (and signals it); drop it and time the child's own thread. */
static void after_fork_child(void)
{
    if (timer_fd >= 0) close(timer_fd);
    timer_fd = -1;
    arm_this_thread();
    if (with_thread) make_idle_thread();
}

struct start {
    void *(*fn)(void *);
    void *arg;
};

static void *trampoline(void *p)
{
    struct start s = *(struct start *)p;
    free(p);
    arm_this_thread();
    void *r = s.fn(s.arg);
    if (timer_fd >= 0) close(timer_fd);
    timer_fd = -1;
    return r;
}

int pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
    if (!real_create) real_create = dlsym(RTLD_NEXT, "pthread_create");
    struct start *s = malloc(sizeof(*s));
    if (!s) return real_create(t, attr, fn, arg);
    s->fn = fn;
    s->arg = arg;
    int rc = real_create(t, attr, trampoline, s);
    if (rc) free(s);
    return rc;
}

__attribute__((constructor)) static void floor_init(void)
{
    const char *f = getenv("SPROF_FREQ");
    unsigned long hz = f ? strtoul(f, NULL, 10) : 999;
    if (!hz) hz = 999;
    period_ns = 1000000000ul / hz;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = empty;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGPROF, &sa, NULL);
    pthread_atfork(NULL, NULL, after_fork_child);
    arm_this_thread();
    const char *t = getenv("FLOOR_THREAD");
    with_thread = t && *t == '1';
    if (!real_create) real_create = dlsym(RTLD_NEXT, "pthread_create");
    if (with_thread) make_idle_thread();
}

/* FLOOR_DEBUG=1: one line per process on stderr with its signal count, to
   check that every process of a workload was covered. */
__attribute__((destructor)) static void floor_fini(void)
{
    if (!getenv("FLOOR_DEBUG")) return;
    char buf[96];
    unsigned long h = __atomic_load_n(&hits, __ATOMIC_RELAXED), p = (unsigned long)getpid();
    char num[2][24];
    unsigned long v[2] = {p, h};
    for (int k = 0; k < 2; k++) {
        char t[24];
        int n = 0;
        do t[n++] = (char)('0' + v[k] % 10); while ((v[k] /= 10) && n < 23);
        for (int i = 0; i < n; i++) num[k][i] = t[n - 1 - i];
        num[k][n] = 0;
    }
    size_t len = 0;
    const char *parts[] = {"floor: pid ", num[0], " ", num[1], " signals\n"};
    for (int k = 0; k < 5; k++)
        for (const char *c = parts[k]; *c && len < sizeof(buf); c++) buf[len++] = *c;
    if (write(2, buf, len) < 0) return;
}
