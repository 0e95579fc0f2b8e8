/* SPDX-License-Identifier: MIT */
/*
 * child-clock: what a page fault costs a child of fork, against a system
 * call, on this machine. A child of fork gets no page-table entries for
 * its parent's file-backed pages (code, the vDSO): its first touch of each
 * is a page fault, which libsprof weighs against other ways to the same
 * end (the clock by system call until a process's first sample, rather
 * than through the vDSO; libsprof(7)). For ROUNDS forks, the child reads
 * CLOCK_MONOTONIC three times by raw system call, then three times
 * through the vDSO (clock_gettime), timing each read with the TSC, and
 * prints the mean of each read in microseconds:
 *
 *   child-clock: 200 children of fork, mean us a read (TSC at 2695 MHz)
 *   system call   10.5   1.2   1.2
 *   vDSO          31.1   0.1   0.0
 *
 * The first system call writes its result to a stack page the child has
 * not written yet (a copy-on-write fault); the first vDSO read faults on
 * the vDSO's code and data. Then the child touches PAGES pages of
 * anonymous memory its parent wrote before the fork, one byte a page: a
 * read of each, a second read, a write (a copy-on-write fault each), and
 * prints the mean of each touch of a page:
 *
 *   anon page     5.0   0.0  17.7
 *
 * fork copies the page-table entries of anonymous memory, so the first
 * read takes no fault the guest counts; on a virtual machine with shadow
 * page tables (PVM) it still costs the hypervisor's filling of its own
 * entry. x86-64 only (rdtsc, the syscall instruction).
 *
 * Build and run: cc -O2 scripts/bench/child-clock.c -o child-clock &&
 *                ./child-clock [ROUNDS]   (default 200). A figure, never
 * a pass/fail check.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#define READS 3
#define PAGES 256

static inline long raw_clock(struct timespec *t)
{
    long r;
    __asm__ volatile("syscall"
                     : "=a"(r)
                     : "0"((long)SYS_clock_gettime), "D"((long)CLOCK_MONOTONIC), "S"(t)
                     : "rcx", "r11", "memory");
    return r;
}

/* TSC ticks a microsecond, against CLOCK_MONOTONIC over 100 ms */
static double tsc_mhz(void)
{
    struct timespec a, b, d = {0, 100000000};
    clock_gettime(CLOCK_MONOTONIC, &a);
    uint64_t t0 = __rdtsc();
    nanosleep(&d, NULL);
    uint64_t t1 = __rdtsc();
    clock_gettime(CLOCK_MONOTONIC, &b);
    double us = (b.tv_sec - a.tv_sec) * 1e6 + (b.tv_nsec - a.tv_nsec) / 1e3;
    return (double)(t1 - t0) / us;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 200;
    if (rounds < 1) {
        fprintf(stderr, "usage: child-clock [ROUNDS]\n");
        return 2;
    }
    double mhz = tsc_mhz(), sum[2 * READS + 3] = {0};
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts); /* the parent's vDSO pages in place */
    long pg = sysconf(_SC_PAGESIZE);
    volatile char *anon = mmap(NULL, (size_t)PAGES * (size_t)pg, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (anon == MAP_FAILED) {
        perror("child-clock: mmap");
        return 1;
    }
    memset((char *)anon, 1, (size_t)PAGES * (size_t)pg); /* the parent's pages */
    for (int i = 0; i < rounds; i++) {
        int p[2];
        if (pipe(p)) {
            perror("child-clock: pipe");
            return 1;
        }
        pid_t c = fork();
        if (c < 0) {
            perror("child-clock: fork");
            return 1;
        }
        if (c == 0) {
            uint64_t v[2 * READS + 3], a = __rdtsc(), b;
            for (int k = 0; k < READS; k++, a = b) {
                raw_clock(&ts);
                v[k] = (b = __rdtsc()) - a;
            }
            for (int k = READS; k < 2 * READS; k++, a = b) {
                clock_gettime(CLOCK_MONOTONIC, &ts);
                v[k] = (b = __rdtsc()) - a;
            }
            char sink = 0;
            for (int pass = 0; pass < 2; pass++, a = b) {
                for (int i = 0; i < PAGES; i++)
                    sink += anon[(size_t)i * (size_t)pg];
                v[2 * READS + pass] = ((b = __rdtsc()) - a) / PAGES;
            }
            for (int i = 0; i < PAGES; i++)
                anon[(size_t)i * (size_t)pg] = sink;
            v[2 * READS + 2] = ((b = __rdtsc()) - a) / PAGES;
            _exit(write(p[1], v, sizeof(v)) == (ssize_t)sizeof(v) ? 0 : 1);
        }
        uint64_t v[2 * READS + 3];
        ssize_t n = read(p[0], v, sizeof(v));
        close(p[0]);
        close(p[1]);
        int st;
        if (waitpid(c, &st, 0) != c || n != (ssize_t)sizeof(v)) {
            fprintf(stderr, "child-clock: a child reported nothing\n");
            return 1;
        }
        for (int k = 0; k < 2 * READS + 3; k++)
            sum[k] += (double)v[k];
    }
    printf("child-clock: %d children of fork, mean us a read (TSC at %.0f MHz)\n", rounds, mhz);
    for (int m = 0; m < 2; m++) {
        printf("%-12s", m ? "vDSO" : "system call");
        for (int k = 0; k < READS; k++)
            printf(" %5.1f", sum[m * READS + k] / rounds / mhz);
        printf("\n");
    }
    printf("%-12s", "anon page");
    for (int k = 2 * READS; k < 2 * READS + 3; k++)
        printf(" %5.1f", sum[k] / rounds / mhz);
    printf("\n");
    return 0;
}
