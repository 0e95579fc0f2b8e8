/* SPDX-License-Identifier: MIT */
/*
 * libc-modes: what glibc's multi-threaded mode costs a program with one
 * thread of its own. Once a process has made a second thread (the floor's
 * idle thread under FLOOR_THREAD=1), glibc takes a lock in each stdio call
 * and in its allocator where a single-threaded process takes none, makes
 * each cancellable system call (read, write and the like) asynchronously
 * cancellable for its length, and __libc_single_threaded turns false,
 * which libstdc++'s reference counts (shared_ptr's) read to count without
 * atomic instructions; beside sprof's writer, in its allocator and its
 * system calls only (preload/writer.c, streams_alone). Times, by the
 * process's CPU clock, getc over FILE (read to its end), ROUNDS rounds of
 * 64 malloc and free pairs of 16-2000 bytes, REFS (default 100,000,000)
 * reference counts as libstdc++'s __exchange_and_add_dispatch makes them
 * and REFS / 50 reads of a byte from /dev/zero, and prints them in
 * seconds:
 *
 *   cc -O2 scripts/bench/libc-modes.c -o build/bench/libc-modes
 *   head -c 100000000 /dev/urandom >/tmp/big
 *   build/bench/libc-modes /tmp/big 2000000
 *   FLOOR_THREAD=1 LD_PRELOAD=build/bench/floor.so build/bench/libc-modes /tmp/big 2000000
 *   LD_PRELOAD=build/libsprof.so SPROF_OUTPUT=/tmp/p.bin build/bench/libc-modes /tmp/big 2000000
 *
 *   libc-modes: getc 0.351 s (100000000 bytes), malloc 4.633 s (2000000 rounds),
 *   refcount 0.164 s (100000000), read 0.462 s (2000000)
 *
 * A figure, never a pass/fail check.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/single_threaded.h>
#include <time.h>
#include <unistd.h>

static double cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: libc-modes FILE ROUNDS [REFS]\n");
        return 2;
    }
    long rounds = atol(argv[2]);
    long refs = argc > 3 ? atol(argv[3]) : 100000000;
    FILE *f = fopen(argv[1], "r");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    double t0 = cpu_s();
    long n = 0;
    while (getc(f) != EOF)
        n++;
    double t1 = cpu_s();
    fclose(f);
    void *p[64];
    unsigned x = 1;
    for (long i = 0; i < rounds; i++) {
        for (int k = 0; k < 64; k++) {
            x = x * 1103515245u + 12345u;
            p[k] = malloc(16 + (x >> 16) % 1985);
        }
        for (int k = 0; k < 64; k++)
            free(p[k]);
    }
    double t2 = cpu_s();
    /* the flag read at each count, as the inline function does */
    static int count;
    for (long i = 0; i < refs; i++) {
        if (__atomic_load_n(&__libc_single_threaded, __ATOMIC_RELAXED))
            *(volatile int *)&count += 1;
        else
            __atomic_fetch_add(&count, 1, __ATOMIC_ACQ_REL);
    }
    double t3 = cpu_s();
    int zero = open("/dev/zero", O_RDONLY);
    long reads = 0;
    char c;
    while (zero >= 0 && reads < refs / 50 && read(zero, &c, 1) == 1)
        reads++;
    double t4 = cpu_s();
    printf("libc-modes: getc %.3f s (%ld bytes), malloc %.3f s (%ld rounds), refcount %.3f s "
           "(%d), read %.3f s (%ld)\n",
           t1 - t0, n, t2 - t1, rounds, t3 - t2, count, t4 - t3, reads);
    return 0;
}
