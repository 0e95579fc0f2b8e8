/* SPDX-License-Identifier: MIT */
/*
 * fdlimit: a program with many threads near its limit of descriptors.
 * Lowers its soft RLIMIT_NOFILE to 256, starts 120 threads that each burn
 * about 10 ms of CPU in thread_work and wait, then opens /dev/null until
 * open fails and prints "fdlimit: N files" (N: how many it could open),
 * and ends the threads. Without sprof N is 253 (0-2 are taken).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "burn.h"

#define NTHREADS 120

static pthread_barrier_t worked, done;

__attribute__((noinline)) static void thread_work(void)
{
    long n = burn_iters(10);
    BURN(n, 11);
}

static void *worker(void *arg)
{
    thread_work();
    pthread_barrier_wait(&worked);
    pthread_barrier_wait(&done);
    return arg;
}

int main(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 1;
    rl.rlim_cur = rl.rlim_max < 256 ? rl.rlim_max : 256;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) return 1;
    pthread_barrier_init(&worked, NULL, NTHREADS + 1);
    pthread_barrier_init(&done, NULL, NTHREADS + 1);
    pthread_t t[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        int e = pthread_create(&t[i], NULL, worker, NULL);
        if (e) {
            fprintf(stderr, "fdlimit: pthread_create: %s\n", strerror(e));
            return 1;
        }
    }
    pthread_barrier_wait(&worked);
    int fds[1024], n = 0;
    while (n < 1024 && (fds[n] = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
        n++;
    int e = errno;
    printf("fdlimit: %d files (then: %s)\n", n, strerror(e));
    fflush(stdout);
    for (int i = 0; i < n; i++)
        close(fds[i]);
    pthread_barrier_wait(&done);
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(t[i], NULL);
    return 0;
}
