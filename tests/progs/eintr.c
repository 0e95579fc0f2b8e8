/* SPDX-License-Identifier: MIT */
/*
 * eintr: a program that does not retry poll, select or read on EINTR.
 * Each round does a little CPU work, then blocks briefly in poll, select and
 * read (on an empty pipe with a timeout, or a pipe a thread fills). Any
 * EINTR is counted; the program prints "eintr: N interrupted" and exits 1
 * when N > 0. Usage: eintr [ROUNDS] (default 3000).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include "burn.h"

static int feed[2];

static void *feeder(void *arg)
{
    long rounds = (long)arg;
    struct timespec ts = {0, 200000};
    for (long i = 0; i < rounds; i++) {
        nanosleep(&ts, NULL);
        if (write(feed[1], "x", 1) != 1) break;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    long rounds = argc > 1 ? atol(argv[1]) : 3000;
    int empty[2];
    if (pipe(empty) || pipe(feed)) return 2;
    pthread_t t;
    pthread_create(&t, NULL, feeder, (void *)rounds);
    long iters = burn_iters(0.05), interrupted = 0;
    for (long i = 0; i < rounds; i++) {
        BURN(iters, 0x1234567);
        struct pollfd p = {empty[0], POLLIN, 0};
        if (poll(&p, 1, 1) < 0 && errno == EINTR) interrupted++;
        BURN(iters, 0x7654321);
        fd_set s;
        FD_ZERO(&s);
        FD_SET(empty[0], &s);
        struct timeval tv = {0, 500};
        if (select(empty[0] + 1, &s, NULL, NULL, &tv) < 0 && errno == EINTR) interrupted++;
        BURN(iters, 0x2345678);
        char c;
        if (read(feed[0], &c, 1) < 0 && errno == EINTR) interrupted++;
    }
    pthread_join(t, NULL);
    printf("eintr: %ld interrupted\n", interrupted);
    return interrupted ? 1 : 0;
}
