/* SPDX-License-Identifier: MIT */
/*
 * stdio-holes: how long a profiler holds descriptor 0, 1 or 2 of a program
 * that has closed them. A daemon closes its standard descriptors and opens
 * /dev/null three times, counting on getting 0, 1 and 2; a descriptor that
 * a preloaded library holds there at that moment, even for a few
 * microseconds, gives the program another number. This program closes 0, 1
 * and 2 (it reports on a copy of standard output), then for SECONDS asks
 * again and again whether any of them is open, and prints what it saw:
 *
 *   stdio-holes: 2653969 looks in 3.0 s: 0, 1 or 2 open in 1967 (35 times,
 *   the longest 1035.6 us)
 *
 * Each look is one fcntl(F_GETFD) a descriptor, about a microsecond on a
 * VM: a time is the time between the first and the last look that saw it.
 *
 * Build and run: cc -O2 scripts/bench/stdio-holes.c -o stdio-holes &&
 *                LD_PRELOAD=build/libsprof.so ./stdio-holes [SECONDS]
 * (default 3). A figure, never a pass/fail check: the kernel gives the
 * lowest free number, so any library that opens a file while 0 is free
 * holds it for a moment.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 3.0;
    int out = fcntl(1, F_DUPFD_CLOEXEC, 3);
    if (out < 0 || seconds <= 0) {
        perror("stdio-holes");
        return 1;
    }
    close(0);
    close(1);
    close(2);
    long looks = 0, open_in = 0, times = 0;
    int was_open = 0;
    double t0 = now(), t = t0, since = 0, longest = 0;
    while (t - t0 < seconds) {
        int open_now = fcntl(0, F_GETFD) >= 0 || fcntl(1, F_GETFD) >= 0 || fcntl(2, F_GETFD) >= 0;
        t = now();
        looks++;
        if (open_now) {
            open_in++;
            if (!was_open) {
                times++;
                since = t;
            } else if (t - since > longest) {
                longest = t - since;
            }
        }
        was_open = open_now;
    }
    dprintf(out,
            "stdio-holes: %ld looks in %.1f s: 0, 1 or 2 open in %ld (%ld times, the longest %.1f "
            "us)\n",
            looks, t - t0, open_in, times, longest * 1e6);
    return 0;
}
