/* SPDX-License-Identifier: MIT */
/*
 * Ends in the way its first argument says, after `ending_work` burned about
 * 600 ms of CPU (a second argument changes that): return (status 3), exit
 * (4), _exit (5), abort, segv (a write to address 8), term (loops until it
 * is killed, e.g. by SIGTERM), daemon (daemon(3), then loops in the
 * background child until killed; the child's pid goes to daemon.pid),
 * thread-exit (exit(6) from a second thread while main burns), blocked (the
 * work runs in a thread that blocked every signal; it checks that it still
 * sees them blocked), pipe (writes to a pipe without reader: SIGPIPE, or
 * status 7 when SIGPIPE is ignored).
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "burn.h"

static double work_ms = 600;

__attribute__((noinline)) static void ending_work(double ms)
{
    long n = burn_iters(ms);
    BURN(n, 11);
}

__attribute__((noinline)) static void forever(void)
{
    for (;;)
        ending_work(50);
}

static void *exit_from_thread(void *arg)
{
    (void)arg;
    ending_work(work_ms);
    exit(6);
}

static void *blocked_thread(void *arg)
{
    sigset_t all, now;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, NULL);
    pthread_sigmask(SIG_SETMASK, NULL, &now);
    *(int *)arg = sigismember(&now, SIGPROF) == 1 && sigismember(&now, SIGTERM) == 1;
    ending_work(work_ms);
    return NULL;
}

int main(int argc, char **argv)
{
    const char *how = argc > 1 ? argv[1] : "return";
    if (argc > 2) work_ms = atof(argv[2]);
    if (!strcmp(how, "daemon")) {
        if (daemon(1, 1) < 0) return 1;
        FILE *f = fopen("daemon.pid.tmp", "w");
        if (!f) return 1;
        fprintf(f, "%d\n", (int)getpid());
        fclose(f);
        rename("daemon.pid.tmp", "daemon.pid");
        forever();
    }
    if (!strcmp(how, "thread-exit")) {
        pthread_t t;
        pthread_create(&t, NULL, exit_from_thread, NULL);
        forever();
    }
    if (!strcmp(how, "blocked")) {
        pthread_t t;
        int sees_blocked = 0;
        pthread_create(&t, NULL, blocked_thread, &sees_blocked);
        pthread_join(t, NULL);
        printf("thread saw its mask: %s\n", sees_blocked ? "all blocked" : "NOT as set");
        return 0;
    }
    ending_work(work_ms);
    printf("ending by %s\n", how);
    fflush(stdout);
    if (!strcmp(how, "return")) return 3;
    if (!strcmp(how, "exit")) exit(4);
    if (!strcmp(how, "_exit")) _exit(5);
    if (!strcmp(how, "abort")) abort();
    if (!strcmp(how, "segv")) *(volatile int *)8 = 1;
    if (!strcmp(how, "pipe")) {
        int p[2];
        if (pipe(p) < 0) return 1;
        close(p[0]);
        for (;;) {
            if (write(p[1], "x", 1) < 0) return 7; /* not reached: SIGPIPE */
        }
    }
    if (!strcmp(how, "term")) forever();
    return 0;
}
