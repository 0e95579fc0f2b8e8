/* SPDX-License-Identifier: MIT */
/*
 * sigwork: CPU work inside a signal handler. ITIMER_VIRTUAL sends SIGVTALRM
 * every 3 ms of user time; its handler, sigwork_handler, burns about 1 ms in
 * sigwork_in_handler, interrupting sigwork_outer (called from main) at
 * whatever instruction it was. A sample in the handler must walk through
 * the kernel's signal frame into the interrupted code, up to main.
 *
 * Usage: sigwork [MS]   (MS of work outside the handler, default 1500)
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "burn.h"

static volatile sig_atomic_t calls;
static long handler_iters;

__attribute__((noinline, noclone)) void sigwork_in_handler(long n)
{
    BURN(n, 0x51a9e5d3c4b2a191ull);
}

__attribute__((noinline, noclone)) void sigwork_handler(int sig)
{
    (void)sig;
    sigwork_in_handler(handler_iters);
    calls++;
}

__attribute__((noinline, noclone)) void sigwork_outer(long n)
{
    BURN(n, 0x7f4a7c159e3779b9ull);
}

int main(int argc, char **argv)
{
    long total = burn_iters(argc > 1 ? atof(argv[1]) : 1500);
    handler_iters = burn_iters(1);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = sigwork_handler;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGVTALRM, &sa, NULL) < 0) {
        perror("sigaction");
        return 1;
    }
    struct itimerval it = {{0, 3000}, {0, 3000}};
    if (setitimer(ITIMER_VIRTUAL, &it, NULL) < 0) {
        perror("setitimer");
        return 1;
    }
    for (long done = 0; done < total; done += total / 100)
        sigwork_outer(total / 100);
    memset(&it, 0, sizeof(it));
    setitimer(ITIMER_VIRTUAL, &it, NULL);
    printf("sigwork: %d handler calls\n", (int)calls);
    return 0;
}
