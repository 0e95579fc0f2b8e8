/* SPDX-License-Identifier: MIT */
/*
 * ownsig: a program that profiles itself the old way: it installs its own
 * SIGPROF handler after start and arms ITIMER_PROF at 100 Hz, burns about
 * 600 ms of CPU in ownsig_work, and reports how often its handler ran (about
 * 60 times, by CPU time) and whether sigaction shows its own handler. A
 * profiler that shares SIGPROF with it would inflate the count or take the
 * handler away.
 *
 * Usage: ownsig [MS]
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "burn.h"

static volatile sig_atomic_t calls, foreign;

static void on_prof(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    if (si->si_code == SI_KERNEL) calls++;
    else foreign++; /* not from setitimer */
}

__attribute__((noinline, noclone)) void ownsig_work(long n)
{
    BURN(n, 0x2545f4914f6cdd1dull);
}

int main(int argc, char **argv)
{
    long n = burn_iters(argc > 1 ? atof(argv[1]) : 600);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_prof;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGPROF, &sa, NULL) < 0) {
        perror("sigaction");
        return 1;
    }
    struct sigaction cur;
    memset(&cur, 0, sizeof(cur));
    sigaction(SIGPROF, NULL, &cur);
    int own = (cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == on_prof;
    struct itimerval it = {{0, 10000}, {0, 10000}};
    if (setitimer(ITIMER_PROF, &it, NULL) < 0) {
        perror("setitimer");
        return 1;
    }
    ownsig_work(n);
    struct itimerval off;
    memset(&off, 0, sizeof(off));
    setitimer(ITIMER_PROF, &off, NULL);
    printf("disposition: %s\n", own ? "own" : "NOT OWN");
    printf("handler calls: %d\n", (int)calls);
    printf("foreign signals: %d\n", (int)foreign);
    return 0;
}
