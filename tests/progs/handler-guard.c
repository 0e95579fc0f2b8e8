/* SPDX-License-Identifier: MIT */
/*
 * A preload placed before libsprof.so that fails loudly if sprof's signal
 * handler reaches malloc or a pthread lock. It recognizes the handler by
 * the signal mask: inside a SIGPROF handler SIGPROF is blocked while
 * SIGSEGV is not (sprof's writer thread blocks every signal, and so does
 * glibc around fork and posix_spawn). The test program must not block
 * SIGPROF itself. Violations are counted and reported at exit on stderr as
 * "handler-guard: N calls from the signal handler (first: NAME)".
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern int __pthread_mutex_lock(pthread_mutex_t *);
extern int __pthread_mutex_trylock(pthread_mutex_t *);

static volatile long violations;
static const char *volatile first;

static void check(const char *what)
{
    sigset_t cur;
    /* the raw syscall: no libc state, no locks */
    if (syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &cur, 8) != 0) return;
    if (sigismember(&cur, SIGPROF) && !sigismember(&cur, SIGSEGV)) {
        if (__sync_fetch_and_add(&violations, 1) == 0) first = what;
    }
}

void *malloc(size_t n)
{
    check("malloc");
    return __libc_malloc(n);
}

void *calloc(size_t a, size_t b)
{
    check("calloc");
    return __libc_calloc(a, b);
}

void *realloc(void *p, size_t n)
{
    check("realloc");
    return __libc_realloc(p, n);
}

void free(void *p)
{
    check("free");
    __libc_free(p);
}

int pthread_mutex_lock(pthread_mutex_t *m)
{
    check("pthread_mutex_lock");
    return __pthread_mutex_lock(m);
}

int pthread_mutex_trylock(pthread_mutex_t *m)
{
    check("pthread_mutex_trylock");
    return __pthread_mutex_trylock(m);
}

__attribute__((destructor(101))) static void report(void)
{
    char line[200];
    int n = snprintf(line, sizeof(line), "handler-guard: %ld calls from the signal handler%s%s%s\n",
                     violations, violations ? " (first: " : "", violations ? first : "",
                     violations ? ")" : "");
    if (write(2, line, (size_t)n) < 0) return;
}
