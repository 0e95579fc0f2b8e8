/* SPDX-License-Identifier: MIT */
/*
 * Sampling timers, one per thread, in order of preference:
 *   perf    perf_event_open software task-clock on the thread, its overflow
 *           signal sent to that thread (F_SETOWN_EX, F_OWNER_TID); any rate
 *   posix   timer_create on the thread's CPU clock, SIGEV_THREAD_ID; limited
 *           to the kernel tick (250 Hz on many kernels)
 *   itimer  setitimer(ITIMER_PROF), one for the process, also tick-limited
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include "log.h"
#include "sprof.h"

#ifndef F_SETSIG
#define F_SETSIG 10
#endif

const char *sprof_backend_name(int backend)
{
    switch (backend) {
    case BACKEND_PERF: return "perf-task-clock";
    case BACKEND_POSIX: return "posix-cpu-timer";
    default: return "itimer-prof";
    }
}

/* Samples are taken only when the period ends in user mode
 * (exclude_kernel). A period that ended inside a system call would queue
 * the signal there, and a blocking poll, select, nanosleep or sigwait then
 * returns EINTR (SA_RESTART does not restart those), which programs that do
 * not retry break on (tests/progs/eintr.c saw 54 in 3000 rounds). The signal
 * thus arrives as the thread returns to user mode, where it interrupts
 * nothing; the price is that CPU time spent in the kernel is not sampled. */
/* A descriptor sprof holds, to keep or for a moment, is never 0, 1 or 2: a
 * program started with one of them closed, or one that closes them to open
 * /dev/null in their place (a daemon), must find them where it expects
 * them. Returns FD, or a copy of it above 2 (FD then closed), or -1. The
 * kernel gives the lowest free number, so a number below 3 is held for one
 * system call (the copy's) and not for as long as a read takes: a scan of
 * /proc/self/task held 0 while a program with its standard descriptors
 * closed opened /dev/null there, which got another number (tests/e2e/208). */
SPROF_ONCE int sprof_fd_above_stdio(int fd)
{
    if (fd < 0 || fd > 2) return fd;
    int moved = sys_fcntl(fd, F_DUPFD_CLOEXEC, 3);
    int e = errno;
    sys_close(fd);
    errno = e;
    return moved;
}

/* Are 0, 1 and 2 all open? */
SPROF_ONCE int sprof_stdio_open(void)
{
    for (int fd = 0; fd <= 2; fd++)
        if (sys_fcntl(fd, F_GETFD) < 0) return 0;
    return 1;
}

/* open(2) for every file sprof opens: close-on-exec, above 2. */
SPROF_ONCE int sprof_open(const char *path, int flags, unsigned mode)
{
    return sprof_fd_above_stdio(sys_open(path, flags | O_CLOEXEC, (mode_t)mode));
}

/* Each name in the directory open at fd, read from where fd is (getdents64,
 * without libc's DIR and its heap buffer): fn(name, arg) for each; 0, or -1
 * with errno where a read failed (the names given before then are some of
 * them only). */
int sprof_dir_each(int fd, void (*fn)(const char *name, void *arg), void *arg)
{
    char buf[2048] __attribute__((aligned(8)));
    long got;
    while ((got = sys_callv(SYS_getdents64, fd, buf, sizeof(buf))) > 0)
        for (long at = 0; at < got;) {
            const struct dirent64 *e = (const struct dirent64 *)(const void *)(buf + at);
            at += e->d_reclen;
            fn(e->d_name, arg);
        }
    return got < 0 ? -1 : 0;
}

/* The attributes of every timer but its period, set at the start
 * (sprof_timer_select). Written data, not a constant: a child of fork has
 * page-table entries for the library's written pages, not for its
 * read-only ones (where the compiler put the constant for the first
 * fields), and arms its timer first thing: a page fault saved a fork. */
static struct perf_event_attr perf_attr;

SPROF_ONCE static void perf_attr_init(void)
{
    memset(&perf_attr, 0, sizeof(perf_attr));
    perf_attr.size = sizeof(perf_attr);
    perf_attr.type = PERF_TYPE_SOFTWARE;
    perf_attr.config = PERF_COUNT_SW_TASK_CLOCK;
    perf_attr.disabled = 1;
    perf_attr.exclude_kernel = 1;
    perf_attr.exclude_hv = 1;
    perf_attr.wakeup_events = 1;
}

SPROF_ONCE static int perf_open_period(pid_t tid, uint64_t period)
{
    struct perf_event_attr a = perf_attr;
    a.sample_period = period;
    return sprof_fd_above_stdio(
        (int)sys_callv(SYS_perf_event_open, &a, tid, -1, -1, PERF_FLAG_FD_CLOEXEC));
}

/* A thread's first period is a random part of the full one (the handler
 * then sets the full period): a counter that starts at zero in every new
 * thread would never sample threads shorter than a period, and a program
 * made of many short threads would look idle. The first period is
 * max(U, FIRST_PERIOD_MIN_NS) with U uniform in [0, period): a thread with
 * CPU time c, period > c >= the minimum, gets a sample (weighing one
 * period) with probability c / period, right on average; only threads
 * shorter than the minimum go unsampled.
 *
 * The minimum is the shortest full period (SPROF_FREQ at most 20000): the
 * kernel's task-clock timer fires every max(period, 10 us) until the
 * handler sets the full period, and on a virtual machine, where taking
 * the timer's interrupt costs about as much as 10 us, a first period of a
 * few us left the thread almost no time between interrupts: its first
 * sample (walking the stack, lazy binding of the handler's functions)
 * took seconds of CPU time (about 1 start in 100 of /bin/true). */
#define FIRST_PERIOD_MIN_NS 50000ull

/* From the thread's id and a time: its start's, which sprof has read
 * already (a process's, a thread's registration): no clock read of its
 * own. */
SPROF_ONCE static uint64_t first_period(pid_t tid, uint64_t when)
{
    uint64_t x = when ^ ((uint64_t)tid * 0x9e3779b97f4a7c15ull);
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x %= sprof.period_ns;
    return x < FIRST_PERIOD_MIN_NS ? FIRST_PERIOD_MIN_NS : x;
}

/* The event sprof_timer_select opened for the initial thread, kept for its
 * registration a moment later: one perf_event_open fewer at every start. */
static _Atomic int probe_fd = -1; /* taken with an exchange: the writer may arm threads */
static pid_t probe_tid;             /* set before the writer thread exists */

SPROF_ONCE void sprof_timer_drop_probe(void)
{
    int fd = atomic_exchange(&probe_fd, -1);
    if (fd >= 0) sys_close(fd);
}

/* Descriptors held for perf events: one a thread. A program with many
 * threads near its RLIMIT_NOFILE would find its own open() failing for
 * them (256 descriptors, 200 threads: 48 files left where 251 were), so
 * sprof holds at most an eighth of the limit (and 16 in any case); the
 * threads past that are sampled with POSIX CPU timers, which take no
 * descriptor (their samples weigh the CPU time since the thread's previous
 * one, as with the posix backend). The limit is read when the budget might
 * be near: the program may raise it. A descriptor is counted from before
 * it is opened (perf_budget_take) to its close: threads that make their
 * timers at once, each before taking the registry's lock, never hold more
 * than the budget together. */
#define PERF_FDS_FREE 16
static _Atomic unsigned perf_fds;
_Atomic unsigned sprof_posix_fallbacks; /* threads on POSIX timers past the budget */

/* One descriptor of the budget, if one is left: 1 (the caller opens it, or
 * gives it back), else 0. */
static int perf_budget_take(void)
{
    unsigned held = atomic_load(&perf_fds);
    do {
        struct rlimit rl;
        if (held >= PERF_FDS_FREE && sys_getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
            rl.rlim_cur != RLIM_INFINITY && held >= rl.rlim_cur / 8)
            return 0;
    } while (!atomic_compare_exchange_weak(&perf_fds, &held, held + 1));
    return 1;
}

/* Thread tid's perf event, opened disabled and set to signal it, into pre:
 * what takes system calls but no lock (sprof_timer_prepare). Its
 * descriptor of the budget taken; given back when it fails. */
static int perf_prepare(pid_t tid, uint64_t start_ns, struct sprof_timer_pre *pre)
{
    int fd = tid == probe_tid ? atomic_exchange(&probe_fd, -1) : -1;
    if (fd < 0) fd = perf_open_period(tid, first_period(tid, start_ns));
    int e = fd < 0 ? errno : fd >= FD_TABLE_SIZE ? EMFILE : 0;
    struct f_owner_ex owner = {F_OWNER_TID, tid};
    if (!e &&
        (sys_fcntl(fd, F_SETFL, O_ASYNC | O_NONBLOCK) < 0 ||
         sys_fcntl(fd, F_SETSIG, sprof.cfg.signo) < 0 || sys_fcntl(fd, F_SETOWN_EX, &owner) < 0 ||
         sys_ioctl(fd, PERF_EVENT_IOC_ID, &pre->id) < 0))
        e = errno;
    if (e) {
        if (fd >= 0) sys_close(fd);
        atomic_fetch_sub(&perf_fds, 1);
        return -e;
    }
    pre->fd = fd;
    return 0;
}

/* Gives t the event of pre and enables it. */
static int perf_attach(struct sprof_thread *t, struct sprof_timer_pre *pre)
{
    int fd = pre->fd;
    pre->fd = -1;
    t->perf_fd = fd;
    t->perf_id = pre->id;
    t->first_period = 1;
    __atomic_store_n(sprof_fd_ref((unsigned)fd), t, __ATOMIC_RELEASE);
    /* (opened disabled, it has counted nothing: no RESET) */
    if (sys_ioctl(fd, PERF_EVENT_IOC_ENABLE, 0) < 0) {
        int e = errno;
        __atomic_store_n(sprof_fd_ref((unsigned)fd), NULL, __ATOMIC_RELEASE);
        sys_close(fd);
        t->perf_fd = -1;
        atomic_fetch_sub(&perf_fds, 1);
        return -e;
    }
    return 0;
}

static int perf_arm(struct sprof_thread *t)
{
    struct sprof_timer_pre pre;
    int r = perf_prepare(t->tid, t->start_ns, &pre);
    return r ? r : perf_attach(t, &pre);
}

/* The CPU clock of any thread of this process, as clock_getcpuclockid and
 * pthread_getcpuclockid compute it (CPUCLOCK_SCHED, per thread). */
static clockid_t thread_cpu_clock(pid_t tid)
{
    return (clockid_t)((~(unsigned)tid << 3) | 6);
}

uint64_t sprof_thread_cpu_ns(pid_t tid)
{
    return sprof_clock_ns(thread_cpu_clock(tid));
}

static int posix_arm(struct sprof_thread *t)
{
    struct sigevent ev;
    memset(&ev, 0, sizeof(ev));
    ev.sigev_notify = SIGEV_THREAD_ID;
    ev.sigev_signo = sprof.cfg.signo;
    /* the slot's index, not its address: the handler takes a signal of
     * this kind for sprof's only when the index is of a slot with a timer */
    ev.sigev_value.sival_ptr = (void *)(uintptr_t)(t->index + 1);
    ev._sigev_un._tid = t->tid;
    int id;
    if (sys_timer_create(thread_cpu_clock(t->tid), &ev, &id) < 0) return -errno;
    t->posix_timer = id;
    /* the first sample weighs the CPU time since now, not a period: the
     * timer fires at the kernel's ticks, often several periods apart */
    __atomic_store_n(&t->last_cpu_ns, sprof_thread_cpu_ns(t->tid), __ATOMIC_RELAXED);
    __atomic_store_n(&t->has_posix_timer, 1, __ATOMIC_RELEASE); /* before its first signal */
    struct itimerspec its;
    its.it_interval.tv_sec = (time_t)(sprof.period_ns / 1000000000ull);
    its.it_interval.tv_nsec = (long)(sprof.period_ns % 1000000000ull);
    its.it_value = its.it_interval;
    if (sys_timer_settime(id, 0, &its, NULL) < 0) {
        int e = errno;
        __atomic_store_n(&t->has_posix_timer, 0, __ATOMIC_RELEASE);
        sys_timer_delete(id);
        return -e;
    }
    return 0;
}

void sprof_itimer_set(int on)
{
    struct itimerval v;
    memset(&v, 0, sizeof(v));
    if (on) {
        v.it_interval.tv_sec = (time_t)(sprof.period_ns / 1000000000ull);
        v.it_interval.tv_usec = (suseconds_t)(sprof.period_ns % 1000000000ull / 1000);
        if (!v.it_interval.tv_sec && !v.it_interval.tv_usec) v.it_interval.tv_usec = 1;
        v.it_value = v.it_interval;
    }
    sys_callv(SYS_setitimer, ITIMER_PROF, &v, NULL); /* not our interposed setitimer */
}

/* A new thread's timer in two steps, so that the registry's lock is held
 * for one system call, not six: a program that starts threads by the
 * thousand had them wait there for one another (tests/progs/shortthreads.c,
 * BENCHMARKS.md, session 38). Before the thread's slot is taken, without
 * the lock: its perf event opened and set up, where the perf backend has
 * room for one (pre->fd; -1 otherwise, for sprof_timer_arm_with to arm
 * under the lock as sprof_timer_arm does). Returns 0 or -errno. */
int sprof_timer_prepare(pid_t tid, uint64_t start_ns, struct sprof_timer_pre *pre)
{
    pre->fd = -1;
    if (sprof.backend != BACKEND_PERF || !perf_budget_take()) return 0;
    return perf_prepare(tid, start_ns, pre);
}

/* Under reg_lock: arms t with what sprof_timer_prepare made. */
int sprof_timer_arm_with(struct sprof_thread *t, struct sprof_timer_pre *pre)
{
    return pre->fd >= 0 ? perf_attach(t, pre) : sprof_timer_arm(t);
}

/* A prepared timer that no slot took. */
void sprof_timer_pre_drop(struct sprof_timer_pre *pre)
{
    if (pre->fd < 0) return;
    sys_close(pre->fd);
    pre->fd = -1;
    atomic_fetch_sub(&perf_fds, 1);
}

SPROF_ONCE int sprof_timer_arm(struct sprof_thread *t)
{
    switch (sprof.backend) {
    case BACKEND_PERF:
        if (perf_budget_take()) return perf_arm(t);
        atomic_fetch_add(&sprof_posix_fallbacks, 1);
        return posix_arm(t);
    case BACKEND_POSIX: return posix_arm(t);
    default:
        /* one process-wide timer, see sprof_itimer_set, armed after this;
         * the thread's first sample weighs its CPU time since now */
        __atomic_store_n(&t->last_cpu_ns, sprof_thread_cpu_ns(t->tid), __ATOMIC_RELAXED);
        return 0;
    }
}

/* Is T's perf fd still the event sprof opened for it? A program may close
 * descriptors it did not open: a daemon closes them all, a child about to
 * exec closes all but a few (close_range, closefrom) and puts its own at
 * chosen numbers with dup2, for the new image to find there. The number may
 * then be one of the program's, which sprof must neither change nor close:
 * the event's id tells. */
static int perf_fd_ours(const struct sprof_thread *t)
{
    uint64_t id;
    return sys_ioctl(t->perf_fd, PERF_EVENT_IOC_ID, &id) == 0 && id == t->perf_id;
}

/* Forgets T's perf fd (the caller closes it if it is still sprof's; the
 * number is otherwise the program's, and left alone). */
static void perf_forget(struct sprof_thread *t)
{
    struct sprof_thread *mine = t;
    __atomic_compare_exchange_n(sprof_fd_ref((unsigned)t->perf_fd), &mine, NULL, 0,
                                __ATOMIC_RELEASE, __ATOMIC_RELAXED);
    t->perf_fd = -1;
    atomic_fetch_sub(&perf_fds, 1);
}

/* The program closed T's timer (perf_fd_ours): 1 if it did, and T is then
 * left without one, for the caller to arm again. */
int sprof_timer_lost(struct sprof_thread *t)
{
    if (t->perf_fd < 0 || perf_fd_ours(t)) return 0;
    perf_forget(t);
    return 1;
}

/* In the child of fork: T's timer is the parent's. Its perf event, shared
 * through the inherited descriptor, must not be disabled (that would stop
 * the parent's): the descriptor is closed, if it is still sprof's. POSIX
 * timers are not inherited. */
SPROF_ONCE void sprof_timer_drop_inherited(struct sprof_thread *t)
{
    if (t->perf_fd >= 0) {
        int fd = t->perf_fd, ours = perf_fd_ours(t);
        perf_forget(t);
        if (ours) sys_close(fd);
    }
    t->has_posix_timer = 0;
}

int sprof_timer_resignal(struct sprof_thread *t)
{
    if (t->perf_fd >= 0) {
        if (!perf_fd_ours(t)) {
            perf_forget(t);
            return sprof_timer_arm(t); /* with the new signal */
        }
        return sys_fcntl(t->perf_fd, F_SETSIG, sprof.cfg.signo) < 0 ? -errno : 0;
    }
    if (t->has_posix_timer) {
        sys_timer_delete(t->posix_timer);
        __atomic_store_n(&t->has_posix_timer, 0, __ATOMIC_RELEASE);
        return posix_arm(t);
    }
    return 0;
}

SPROF_ONCE void sprof_timer_disarm(struct sprof_thread *t, int ending)
{
    if (t->perf_fd >= 0) {
        int fd = t->perf_fd, ours = perf_fd_ours(t);
        /* the close ends the event, but for a copy of the descriptor (a
         * child of vfork before its exec, a dup of the program's) that would
         * keep it counting and signalling the thread; one that ends takes
         * no signal once gone */
        if (ours && !ending) sys_ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
        perf_forget(t); /* out of the table before the number can be reused */
        if (ours) sys_close(fd);
    }
    if (t->has_posix_timer) {
        sys_timer_delete(t->posix_timer);
        __atomic_store_n(&t->has_posix_timer, 0, __ATOMIC_RELEASE);
    }
}

/* Tries the backends in order (or the one asked for) on a probe event for
 * the calling thread, tid; a perf event is kept for its arming (the caller
 * drops it with sprof_timer_drop_probe if that does not happen). */
SPROF_ONCE int sprof_timer_select(pid_t tid)
{
    int want = sprof.cfg.timer_request;
    perf_attr_init();
    if (want < 0 || want == BACKEND_PERF) {
        int fd = perf_open_period(tid, first_period(tid, sprof.start_ns));
        if (fd >= 0) {
            probe_tid = tid;
            atomic_store(&probe_fd, fd);
            sprof.backend = BACKEND_PERF;
            return 0;
        }
        int e = errno;
        if (want == BACKEND_PERF) {
            sprof_err("perf_event_open failed (%s); SPROF_TIMER=perf asked for it, not sampling",
                      strerror(e));
            return -1;
        }
        sprof_warn("perf_event_open failed (%s), using POSIX CPU timers (limited to the kernel "
                   "tick)",
                   strerror(e));
        sprof_writer_note(1, "perf_event_open failed (%s), fell back to POSIX CPU timers",
                          strerror(e));
    }
    if (want < 0 || want == BACKEND_POSIX) {
        struct sigevent ev;
        memset(&ev, 0, sizeof(ev));
        ev.sigev_notify = SIGEV_NONE;
        int id;
        if (sys_timer_create(thread_cpu_clock(0), &ev, &id) == 0) {
            sys_timer_delete(id);
            sprof.backend = BACKEND_POSIX;
            return 0;
        }
        int e = errno;
        if (want == BACKEND_POSIX) {
            sprof_err("timer_create failed (%s); SPROF_TIMER=posix asked for it, not sampling",
                      strerror(e));
            return -1;
        }
        sprof_warn("timer_create failed (%s), using setitimer(ITIMER_PROF)", strerror(e));
        sprof_writer_note(1, "timer_create failed (%s), fell back to setitimer", strerror(e));
    }
    sprof.backend = BACKEND_ITIMER;
    return 0;
}
