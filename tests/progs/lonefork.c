/* SPDX-License-Identifier: MIT */
/*
 * lonefork: forks while it has no thread of its own but the initial one,
 * so that under sprof the process's one other thread is sprof's writer and
 * the fork takes glibc's single-threaded path (sprof's fork wrapper). Each
 * child checks what glibc's multi-threaded path would have put right:
 *
 *   made   makes a thread that allocates and frees for 50 ms, then ends
 *          its initial thread by pthread_exit: the process ends by exit()
 *          when that thread returns, with its atexit handler
 *   alone  ends its initial thread by pthread_exit at once: the same
 *   again  forks a grandchild, which ends by pthread_exit: the same
 *   heap   four threads allocate and free for 100 ms, and are joined
 *
 * "alone" prints "lonefork: alone count N" first, glibc's count of its
 * threads (__nptl_nthreads, looked up by name; -1 without it): 1 after
 * glibc's multi-threaded fork or without sprof, and after the
 * single-threaded one the parent's count. sprof's writer is in that count
 * only when it was not the process's first thread (preload/writer.c,
 * streams_alone): with LONEFORK_EARLY_THREAD=1 in the environment, a
 * thread made and joined from .preinit_array, before sprof's constructor,
 * is the first, and the single-threaded fork's child counts 2 (sprof puts
 * it right when the child makes or ends a thread). An atfork prepare handler
 * loads and unloads libm (into sprof's dlopen and dlclose, while sprof holds
 * its writer's lock for the fork): it must not deadlock. The parent works
 * in lonefork_parent_work between forks. Prints "lonefork: NAME atexit"
 * from each child's atexit handler, then "lonefork: done"; the exit status
 * is nonzero if a child failed.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "burn.h"

static const char *name = "parent";

static void at_exit(void)
{
    printf("lonefork: %s atexit\n", name);
    fflush(stdout);
}

static void prepare(void)
{
    void *m = dlopen("libm.so.6", RTLD_NOW);
    if (m) dlclose(m);
}

__attribute__((noinline, noclone)) void lonefork_parent_work(long n)
{
    BURN(n, 0x2545f4914f6cdd1dull);
}

static void *churn(void *arg)
{
    long ms = (long)arg;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    unsigned x = 1;
    for (;;) {
        void *p[64];
        for (int i = 0; i < 64; i++) {
            x = x * 1103515245u + 12345u;
            p[i] = malloc(16 + (x >> 20) % 4000);
            if (p[i]) memset(p[i], 1, 16);
        }
        for (int i = 0; i < 64; i++)
            free(p[i]);
        clock_gettime(CLOCK_MONOTONIC, &t);
        if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 >= ms) break;
    }
    return NULL;
}

static int count(void)
{
    unsigned *n = dlsym(RTLD_DEFAULT, "__nptl_nthreads");
    return n ? (int)__atomic_load_n(n, __ATOMIC_RELAXED) : -1;
}

static void child(const char *what)
{
    name = what;
    atexit(at_exit);
    if (!strcmp(what, "made")) {
        pthread_t t;
        if (pthread_create(&t, NULL, churn, (void *)50L)) _exit(3);
        pthread_exit(NULL);
    }
    if (!strcmp(what, "alone")) {
        printf("lonefork: alone count %d\n", count());
        fflush(stdout);
        pthread_exit(NULL);
    }
    if (!strcmp(what, "again")) {
        pid_t g = fork();
        if (g < 0) _exit(4);
        if (g == 0) {
            name = "grandchild";
            pthread_exit(NULL);
        }
        int st;
        _exit(waitpid(g, &st, 0) == g && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 5);
    }
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        if (pthread_create(&t[i], NULL, churn, (void *)100L)) _exit(6);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    exit(0);
}

static void *nothing(void *arg)
{
    return arg;
}

/* Before every shared library's constructor, libsprof.so's too. */
static void early_thread(int argc, char **argv, char **envp)
{
    (void)argc;
    (void)argv;
    for (char **e = envp; *e; e++) {
        if (strcmp(*e, "LONEFORK_EARLY_THREAD=1") != 0) continue;
        pthread_t t;
        if (pthread_create(&t, NULL, nothing, NULL) == 0) pthread_join(t, NULL);
    }
}
__attribute__((section(".preinit_array"),
               used)) static void (*const preinit)(int, char **, char **) = early_thread;

int main(void)
{
    static const char *kinds[] = {"made", "alone", "again", "heap"};
    if (pthread_atfork(prepare, NULL, NULL)) return 2;
    int bad = 0;
    for (int i = 0; i < 4; i++) {
        lonefork_parent_work(burn_iters(30));
        fflush(stdout);
        pid_t p = fork();
        if (p < 0) return 2;
        if (p == 0) child(kinds[i]);
        int st;
        if (waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            printf("lonefork: %s failed (status %d)\n", kinds[i], st);
            bad = 1;
        }
    }
    printf("lonefork: done\n");
    return bad;
}
