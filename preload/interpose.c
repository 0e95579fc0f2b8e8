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
 *                    are noticed by the writer within 100 ms)
 *   dl_iterate_phdr  marks the thread as holding the loader's lock (unwind.c)
 *   sigaction, signal, setitimer
 *                    the program keeps its signals (signals.c)
 * fork needs no wrapper: pthread_atfork handlers (init.c) do the work.
 */
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "sprof.h"

#define EXPORT __attribute__((visibility("default")))

/* Looks up the next definition of a function, once. */
#define REAL(name)                                                                                 \
    static __typeof__(name) *real_##name;                                                          \
    if (!real_##name) real_##name = (__typeof__(name) *)dlsym(RTLD_NEXT, #name)

/* The pthread_create after ours. */
static __typeof__(pthread_create) *next_pthread_create(void)
{
    static __typeof__(pthread_create) *fn;
    if (!fn) fn = (__typeof__(pthread_create) *)dlsym(RTLD_NEXT, "pthread_create");
    return fn;
}

/* For sprof's own threads: never registered, never sampled. */
int sprof_create_thread(pthread_t *th, void *(*fn)(void *), void *arg)
{
    __typeof__(pthread_create) *create = next_pthread_create();
    return create ? create(th, NULL, fn, arg) : EAGAIN;
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

EXPORT int pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *),
                          void *arg)
{
    __typeof__(pthread_create) *create = next_pthread_create();
    if (!create) return EAGAIN;
    if (!sprof_active()) return create(th, attr, fn, arg);
    struct start *s = malloc(sizeof(*s));
    if (!s) return create(th, attr, fn, arg);
    s->fn = fn;
    s->arg = arg;
    int r = create(th, attr, start_thread, s);
    if (r != 0) free(s);
    return r;
}

EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    REAL(execve);
    sprof_before_exec();
    int r = real_execve(path, argv, envp);
    sprof_after_exec_failed();
    return r;
}

EXPORT int execv(const char *path, char *const argv[])
{
    REAL(execv);
    sprof_before_exec();
    int r = real_execv(path, argv);
    sprof_after_exec_failed();
    return r;
}

EXPORT int execvp(const char *file, char *const argv[])
{
    REAL(execvp);
    sprof_before_exec();
    int r = real_execvp(file, argv);
    sprof_after_exec_failed();
    return r;
}

EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
    REAL(execvpe);
    sprof_before_exec();
    int r = real_execvpe(file, argv, envp);
    sprof_after_exec_failed();
    return r;
}

EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
    REAL(fexecve);
    sprof_before_exec();
    int r = real_fexecve(fd, argv, envp);
    sprof_after_exec_failed();
    return r;
}

/* execl, execle and execlp: the arguments gathered into an array for the
 * execv family (which the wrappers above cover). */
#define GATHER_ARGS(first, ap, argv, want_envp, envp_out)                                                     \
    do {                                                                                           \
        size_t n_ = 1;                                                                             \
        va_list c_;                                                                                \
        va_copy(c_, ap);                                                                           \
        while (va_arg(c_, char *)) n_++;                                                           \
        va_end(c_);                                                                                \
        argv = alloca((n_ + 1) * sizeof(char *));                                                  \
        argv[0] = (char *)(first);                                                                 \
        for (size_t i_ = 1; i_ <= n_; i_++) argv[i_] = va_arg(ap, char *);                         \
        if (want_envp) *(envp_out) = va_arg(ap, char **);                                 \
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
    sprof_in_loader++;
    int r = real_dlclose(handle);
    sprof_in_loader--;
    if (sprof_active()) {
        uint64_t now = sprof_now();
        sprof_writer_maps_changed(now, now);
    }
    return r;
}

/* The program's own handlers for sprof's signal: see signals.c. */
EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    int r;
    if (sprof_sigaction_hook(sig, act, old, &r)) return r;
    return sprof_real_sigaction(sig, act, old);
}

EXPORT sighandler_t signal(int sig, sighandler_t handler)
{
    struct sigaction act, old;
    memset(&act, 0, sizeof(act));
    act.sa_handler = handler;
    act.sa_flags = SA_RESTART; /* glibc's BSD semantics */
    sigemptyset(&act.sa_mask);
    sigaddset(&act.sa_mask, sig);
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
