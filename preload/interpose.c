/* SPDX-License-Identifier: MIT */
/*
 * Functions of libc interposed by the preload: these are the only symbols
 * libsprof.so exports.
 *   pthread_create   every new thread registers itself and arms its timer
 *                    before running the program's start routine
 *   exec*            timers stop and the profile is flushed before the image
 *                    is replaced; if exec fails, sampling resumes
 *   dlopen, dlclose  mark the thread as inside the loader (unwind.c); the
 *                    unmapping is recorded with its exact time (new objects
 *                    are noticed by the writer at its next drain)
 *   dl_iterate_phdr  marks the thread as holding the loader's lock (unwind.c)
 *   sigaction, signal, setitimer, pthread_sigmask, sigprocmask
 *                    the program keeps its signals, sprof keeps its own
 *                    unblocked (signals.c), a fatal signal ends the profile
 *                    properly (endings.c)
 *   _exit, _Exit     the profile is flushed first (endings.c)
 *   clone            a thread made with libc's clone is registered at once
 *   thrd_create, timer_create, mq_notify, aio_*, lio_listio, getaddrinfo_a
 *                    may make the program's first thread: the program's
 *                    __libc_single_threaded as glibc would leave it
 *                    (writer.c, sprof_writer_threads_coming)
 *   fork             with the writer as the one other thread, glibc's
 *                    single-threaded fork (writer.c, sprof_writer_fork_begin);
 *                    the rest is pthread_atfork handlers' (init.c)
 */
#include <aio.h>
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <mqueue.h>
#include <netdb.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <threads.h>
#include <time.h>
#include <unistd.h>

#include "cfi.h"
#include "sprof.h"

#define EXPORT __attribute__((visibility("default")))

/*
 * Under ThreadSanitizer (make SAN=thread) libsprof.so is preloaded ahead of
 * the TSan runtime: LD_PRELOAD="libsprof.so libtsan.so". Then the program's
 * calls go through libsprof, then TSan's interceptors, then libc, so that
 * sprof's threads start inside TSan's thread start and its signal handler is
 * installed through TSan. (The other order cannot work: TSan's own "real"
 * sigaction, pthread_create, ... would be libsprof's instrumented wrappers,
 * and TSan calls sigaction from its initializer, before instrumented code
 * may run.) TSan's initializer still calls dl_iterate_phdr, which resolves
 * to ours: that wrapper must not be instrumented.
 */
int dl_iterate_phdr(int (*cb)(struct dl_phdr_info *, size_t, void *), void *data) NOT_INSTRUMENTED;

/* Looks up the next definition of a function, once (*cache); threads that
 * race on the first call both store the same pointer. */
static NOT_INSTRUMENTED void *next_of(void **cache, const char *name)
{
    void *p = __atomic_load_n(cache, __ATOMIC_RELAXED);
    if (!p) {
        p = dlsym(RTLD_NEXT, name);
        __atomic_store_n(cache, p, __ATOMIC_RELAXED);
    }
    return p;
}
#define REAL(name)                                                                                 \
    static __typeof__(name) *real_##name##_cache;                                                  \
    __typeof__(name) *real_##name =                                                                \
        (__typeof__(name) *)next_of((void **)&real_##name##_cache, #name)

/* The pthread_create after ours. */
static NOT_INSTRUMENTED __typeof__(pthread_create) *next_pthread_create(void)
{
    REAL(pthread_create);
    return real_pthread_create;
}

/* For sprof's own threads: never registered, never sampled. */
int sprof_create_thread(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
    __typeof__(pthread_create) *create = next_pthread_create();
    return create ? create(th, attr, fn, arg) : EAGAIN;
}

/* Looks up the next pthread_create now: whether a writer can be made late
 * at all (init.c, late_setup), by a signal handler (writer.c,
 * sprof_writer_late). */
SPROF_ONCE int sprof_create_thread_ready(void)
{
    return next_pthread_create() != NULL;
}

struct start {
    void *(*fn)(void *);
    void *arg;
};

static void *start_thread(void *p)
{
    struct start s = *(struct start *)p;
    free(p);
    sprof_thread_started();
    return s.fn(s.arg);
}

/* The program is about to make a thread, or to have libc make one (writer.c,
 * sprof_writer_threads_coming). Not under a sanitizer, whose runtime may
 * not be ready when a library's constructor makes a thread (below). */
static NOT_INSTRUMENTED void threads_coming(void)
{
#if !SPROF_SANITIZED
    sprof_writer_threads_coming();
#endif
}

/* Not instrumented either: the constructor of a library the program links
 * runs before TSan's and may create a thread. sprof's constructor runs after
 * TSan's (libsprof.so needs libtsan.so): until it set sprof.pid, nothing of
 * sprof's (instrumented) may run. */
EXPORT NOT_INSTRUMENTED int pthread_create(pthread_t *th, const pthread_attr_t *attr,
                                           void *(*fn)(void *), void *arg)
{
    __typeof__(pthread_create) *create = next_pthread_create();
    if (!create) return EAGAIN;
    threads_coming();
    if (!sprof.pid || !sprof_active()) return create(th, attr, fn, arg);
    /* once the program has a thread, no handler may make the writer */
    if (sprof_writer_late_pending()) sprof_writer_late(0);
    sprof_writer_settle_nthreads();
    struct start *s = malloc(sizeof(*s));
    if (!s) return create(th, attr, fn, arg);
    s->fn = fn;
    s->arg = arg;
    int r = create(th, attr, start_thread, s);
    if (r != 0) free(s);
    return r;
}

/* glibc's other ways to a thread: C11's thrd_create calls glibc's own
 * pthread_create, not sprof's; timer_create and mq_notify with
 * SIGEV_THREAD, aio and getaddrinfo_a make helper threads inside libc,
 * which run the program's functions. Before each call that may make one
 * (when), the program's __libc_single_threaded is cleared (writer.c,
 * single_again); nothing else changes. */
#define THREAD_MAKER(name, params, args, failed, when)                                             \
    EXPORT NOT_INSTRUMENTED int name params                                                        \
    {                                                                                              \
        REAL(name);                                                                                \
        if (when) threads_coming();                                                                \
        if (!real_##name) {                                                                        \
            errno = ENOSYS;                                                                        \
            return failed;                                                                         \
        }                                                                                          \
        return real_##name args;                                                                   \
    }
THREAD_MAKER(thrd_create, (thrd_t * t, thrd_start_t fn, void *arg), (t, fn, arg), thrd_error, 1)
THREAD_MAKER(timer_create, (clockid_t c, struct sigevent *ev, timer_t *id), (c, ev, id), -1,
             ev && ev->sigev_notify == SIGEV_THREAD)
THREAD_MAKER(mq_notify, (mqd_t q, const struct sigevent *ev), (q, ev), -1,
             ev && ev->sigev_notify == SIGEV_THREAD)
THREAD_MAKER(aio_read, (struct aiocb * cb), (cb), -1, 1)
THREAD_MAKER(aio_read64, (struct aiocb64 * cb), (cb), -1, 1)
THREAD_MAKER(aio_write, (struct aiocb * cb), (cb), -1, 1)
THREAD_MAKER(aio_write64, (struct aiocb64 * cb), (cb), -1, 1)
THREAD_MAKER(aio_fsync, (int op, struct aiocb *cb), (op, cb), -1, 1)
THREAD_MAKER(aio_fsync64, (int op, struct aiocb64 *cb), (op, cb), -1, 1)
THREAD_MAKER(lio_listio, (int mode, struct aiocb *const list[], int n, struct sigevent *ev),
             (mode, list, n, ev), -1, 1)
THREAD_MAKER(lio_listio64, (int mode, struct aiocb64 *const list[], int n, struct sigevent *ev),
             (mode, list, n, ev), -1, 1)
THREAD_MAKER(getaddrinfo_a, (int mode, struct gaicb *list[], int n, struct sigevent *ev),
             (mode, list, n, ev), EAI_SYSTEM, 1)

/* The exec functions after sprof's, looked up at the first exec or before
 * the first fork, whichever comes first: a child of fork that execs at once,
 * as a shell's commands do, would otherwise look one up in every child,
 * each time in pages of the loader's and the libraries' symbol tables that
 * it had not touched (page faults). */
static __typeof__(execve) *next_execve;
static __typeof__(execv) *next_execv;
static __typeof__(execvp) *next_execvp;
static __typeof__(execvpe) *next_execvpe;
static __typeof__(fexecve) *next_fexecve;
#define NEXT(name) ((__typeof__(name) *)next_of((void **)&next_##name, #name))

static __typeof__(fork) *next_fork;

/* With the rest of what a fork runs (SPROF_ONCE): a child returns into it,
 * and a child has no page-table entries for the text it has not run yet. */
EXPORT SPROF_ONCE pid_t fork(void)
{
    __typeof__(fork) *real_fork = NEXT(fork);
    if (!real_fork) {
        errno = ENOSYS;
        return -1;
    }
    sprof_in_fork++;
    int lone = sprof.pid && sprof_active() && sprof_writer_fork_begin();
    pid_t r = real_fork();
    if (lone) sprof_writer_fork_end(r); /* errno as fork left it */
    sprof_in_fork--;
    return r;
}

SPROF_ONCE void sprof_interpose_before_fork(void)
{
    NEXT(execve);
    NEXT(execv);
    NEXT(execvp);
    NEXT(execvpe);
    NEXT(fexecve);
}

EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    __typeof__(execve) *real_execve = NEXT(execve);
    sprof_before_exec();
    int r = real_execve(path, argv, envp);
    sprof_after_exec_failed();
    return r;
}

EXPORT int execv(const char *path, char *const argv[])
{
    __typeof__(execv) *real_execv = NEXT(execv);
    sprof_before_exec();
    int r = real_execv(path, argv);
    sprof_after_exec_failed();
    return r;
}

EXPORT int execvp(const char *file, char *const argv[])
{
    __typeof__(execvp) *real_execvp = NEXT(execvp);
    sprof_before_exec();
    int r = real_execvp(file, argv);
    sprof_after_exec_failed();
    return r;
}

EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
    __typeof__(execvpe) *real_execvpe = NEXT(execvpe);
    sprof_before_exec();
    int r = real_execvpe(file, argv, envp);
    sprof_after_exec_failed();
    return r;
}

EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
    __typeof__(fexecve) *real_fexecve = NEXT(fexecve);
    sprof_before_exec();
    int r = real_fexecve(fd, argv, envp);
    sprof_after_exec_failed();
    return r;
}

/* execl, execle and execlp: the arguments gathered into an array for the
 * execv family (which the wrappers above cover). */
#define GATHER_ARGS(first, ap, argv, want_envp, envp_out)                                          \
    do {                                                                                           \
        size_t n_ = 1;                                                                             \
        va_list c_;                                                                                \
        va_copy(c_, ap);                                                                           \
        while (va_arg(c_, char *))                                                                 \
            n_++;                                                                                  \
        va_end(c_);                                                                                \
        argv = alloca((n_ + 1) * sizeof(char *));                                                  \
        argv[0] = (char *)(first);                                                                 \
        for (size_t i_ = 1; i_ <= n_; i_++)                                                        \
            argv[i_] = va_arg(ap, char *);                                                         \
        if (want_envp) *(envp_out) = va_arg(ap, char **);                                          \
    } while (0)

EXPORT int execl(const char *path, const char *arg, ...)
{
    char **argv, **unused = NULL;
    va_list ap;
    va_start(ap, arg);
    GATHER_ARGS(arg, ap, argv, 0, &unused);
    va_end(ap);
    return execv(path, argv);
}

EXPORT int execlp(const char *file, const char *arg, ...)
{
    char **argv, **unused = NULL;
    va_list ap;
    va_start(ap, arg);
    GATHER_ARGS(arg, ap, argv, 0, &unused);
    va_end(ap);
    return execvp(file, argv);
}

EXPORT int execle(const char *path, const char *arg, ...)
{
    char **argv, **envp = NULL;
    va_list ap;
    va_start(ap, arg);
    GATHER_ARGS(arg, ap, argv, 1, &envp);
    va_end(ap);
    return execve(path, argv, envp);
}

/* dlopen of a path: the thread holds the loader's lock for part of it, and
 * glibc announces the change in r_debug only after taking it, so the thread
 * is marked for the handler (unwind.c) as in dl_iterate_phdr. glibc looks
 * at the caller (its RUNPATH, its namespace) only for a name without '/' or
 * with '$': that call goes on untouched, as a tail call, so that glibc
 * still sees the program's return address. */
EXPORT void *dlopen(const char *file, int mode)
{
    REAL(dlopen);
    if (file && strchr(file, '/') && !strchr(file, '$')) {
        sprof_in_loader++;
        void *h = real_dlopen(file, mode);
        sprof_in_loader--;
        return h;
    }
    return real_dlopen(file, mode);
}

EXPORT int dlclose(void *handle)
{
    REAL(dlclose);
    if (sprof_active()) sprof_writer_before_unload();
    /* no handler reads an object's .eh_frame in place while it may be
     * unmapped, until the set without it is out (cfi.h) */
    sprof_cfi_unload_begin();
    sprof_in_loader++;
    int r = real_dlclose(handle);
    sprof_in_loader--;
    if (sprof_active()) {
        uint64_t now = sprof_now();
        sprof_writer_maps_changed(now, now);
    }
    sprof_cfi_unload_end();
    return r;
}

/* The program's own handlers for sprof's signal: see signals.c. */
EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    int r;
    struct sigaction copy;
    if (act && act->sa_handler != SIG_DFL && act->sa_handler != SIG_IGN)
        atomic_store_explicit(&sprof_program_handlers, 1, memory_order_relaxed);
    act = sprof_signals_unmask_action(act, &copy);
    if (sprof_sigaction_hook(sig, act, old, &r)) return r;
    if (sprof_endings_sigaction_hook(sig, act, old, &r)) return r;
    return sprof_real_sigaction(sig, act, old);
}

/* Masks: sprof's signal stays unblocked (signals.c). */
EXPORT int pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
    return sprof_sigmask(how, set, old, 0);
}

EXPORT int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
    return sprof_sigmask(how, set, old, 1);
}

EXPORT sighandler_t signal(int sig, sighandler_t handler)
{
    struct sigaction act, old;
    memset(&act, 0, sizeof(act));
    act.sa_handler = handler;
    act.sa_flags = SA_RESTART; /* glibc's BSD semantics */
    sys_sigemptyset(&act.sa_mask);
    sys_sigaddset(&act.sa_mask, sig);
    if (sigaction(sig, &act, &old) < 0) return SIG_ERR;
    return old.sa_handler;
}

EXPORT int setitimer(__itimer_which_t which, const struct itimerval *v, struct itimerval *old)
{
    REAL(setitimer);
    if (which == ITIMER_PROF && v && (v->it_value.tv_sec || v->it_value.tv_usec))
        sprof_program_uses_itimer_prof();
    return real_setitimer(which, v, old);
}

/* Marks the thread as holding the loader's lock while it iterates, for the
 * handler (unwind.c); libunwind's own calls come through here too. */
EXPORT int dl_iterate_phdr(int (*cb)(struct dl_phdr_info *, size_t, void *), void *data)
{
    REAL(dl_iterate_phdr);
    sprof_in_loader++;
    int r = real_dl_iterate_phdr(cb, data);
    sprof_in_loader--;
    return r;
}

/* clone(3) through libc: a new thread (CLONE_THREAD) is registered by its
 * parent the moment clone returns, as the /proc scan would up to 250 ms
 * later, so that none of its samples are missed. The optional arguments
 * are passed on as glibc's clone reads them, whether given or not. A raw
 * clone system call is still left to the scan. */
EXPORT int clone(int (*fn)(void *), void *stack, int flags, void *arg, ...)
{
    REAL(clone);
    va_list ap;
    va_start(ap, arg);
    pid_t *ptid = va_arg(ap, pid_t *);
    void *tls = va_arg(ap, void *);
    pid_t *ctid = va_arg(ap, pid_t *);
    va_end(ap);
    if ((flags & CLONE_THREAD) && sprof_active() && sprof_writer_late_pending())
        sprof_writer_late(0);
    int r = real_clone(fn, stack, flags, arg, ptid, tls, ctid);
    if (r > 0 && (flags & CLONE_THREAD)) sprof_thread_adopt((pid_t)r);
    return r;
}

/* _exit and _Exit end the process without exit's handlers: the profile is
 * flushed with END "_exit" first (init.c). exit itself needs no wrapper:
 * an on_exit handler sees its status. The process then ends as libc's
 * _exit ends it, with exit_group, and without a dlsym: the caller may be
 * a vfork child, whose parent's other threads may hold the loader's or the
 * allocator's lock. */
EXPORT void _exit(int status)
{
    sprof_end("_exit", status);
    for (;;)
        sys_callv(SYS_exit_group, status);
}

EXPORT void _Exit(int status)
{
    sprof_end("_exit", status);
    for (;;)
        sys_callv(SYS_exit_group, status);
}
