/* SPDX-License-Identifier: MIT */
/*
 * forks: what a fork costs a process, and what the pages written around it
 * cost. Forks N children one after the other; each child exits at once
 * (_exit), or execs PROGRAM with -e; the parent reaps each before the next.
 * Times, with CLOCK_MONOTONIC, the parent's fork() call (its atfork
 * handlers, the kernel's copy of its address space) and the child's life
 * from there to its reaping (its atfork handlers, its exec or exit), and
 * prints the median and p90 of each in microseconds, and the CPU time and
 * minor page faults a fork, the parent's (the calling thread's own,
 * RUSAGE_THREAD: not a thread of a preload's) and each child's (wait4):
 *
 *   forks: 2000 children (exit), us: fork() 61.1 (p90 88.0), child 161.5 (p90 219.4)
 *   forks: a fork: parent 80.2 us CPU, 3.05 faults; child 96.4 us CPU, 23.00 faults
 *
 * With -w K the parent writes one byte to each of K pages it wrote before,
 * right after each fork (a copy-on-write fault a page while the child
 * lives); with -W K the child does (a copy each). Against a run with 0,
 * the difference divided by N * K is what such a page costs.
 *
 * Under LD_PRELOAD=libsprof.so or the floor (bench.py's floor.so), and
 * under perf stat, faults.py or selfcost.py (its CPU time, faults and
 * sprof's own time):
 *
 *   cc -O2 scripts/bench/forks.c -o build/bench/forks
 *   python3 scripts/bench/faults.py --build build -- $PWD/build/bench/forks 2000
 *
 * A figure, never a pass/fail check.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_PAGES 256

static volatile char pages[MAX_PAGES * 4096] __attribute__((aligned(4096)));

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static double cpu_us(const struct rusage *r)
{
    return (double)(r->ru_utime.tv_sec + r->ru_stime.tv_sec) * 1e6 +
           (double)(r->ru_utime.tv_usec + r->ru_stime.tv_usec);
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void touch(int k, int v)
{
    for (int i = 0; i < k; i++)
        pages[(size_t)i * 4096] = (char)v;
}

static void usage(void)
{
    fprintf(stderr, "usage: forks [-e PROGRAM] [-w PAGES] [-W PAGES] N\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *prog = NULL;
    int parent_pages = 0, child_pages = 0, opt;
    while ((opt = getopt(argc, argv, "e:w:W:")) != -1) {
        if (opt == 'e')
            prog = optarg;
        else if (opt == 'w')
            parent_pages = atoi(optarg);
        else if (opt == 'W')
            child_pages = atoi(optarg);
        else
            usage();
    }
    if (optind != argc - 1) usage();
    int n = atoi(argv[optind]);
    if (n < 1 || parent_pages < 0 || parent_pages > MAX_PAGES || child_pages < 0 ||
        child_pages > MAX_PAGES)
        usage();
    double *fork_us = malloc((size_t)n * sizeof(*fork_us));
    double *life_us = malloc((size_t)n * sizeof(*life_us));
    if (!fork_us || !life_us) return 1;
    touch(MAX_PAGES, 1); /* the pages exist before the first fork */
    double child_cpu = 0, child_faults = 0;
    struct rusage before, after;
    getrusage(RUSAGE_THREAD, &before);
    for (int i = 0; i < n; i++) {
        double t0 = now_us();
        pid_t p = fork();
        if (p == 0) {
            touch(child_pages, i);
            if (prog) {
                execl(prog, prog, (char *)NULL);
                _exit(127);
            }
            _exit(0);
        }
        double t1 = now_us();
        if (p < 0) {
            perror("forks: fork");
            return 1;
        }
        touch(parent_pages, i);
        int status;
        struct rusage ru;
        if (wait4(p, &status, 0, &ru) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "forks: child %d failed\n", (int)p);
            return 1;
        }
        child_cpu += cpu_us(&ru);
        child_faults += (double)ru.ru_minflt;
        fork_us[i] = t1 - t0;
        life_us[i] = now_us() - t1;
    }
    getrusage(RUSAGE_THREAD, &after);
    qsort(fork_us, (size_t)n, sizeof(*fork_us), by_value);
    qsort(life_us, (size_t)n, sizeof(*life_us), by_value);
    printf("forks: %d children (%s), us: fork() %.1f (p90 %.1f), child %.1f (p90 %.1f)\n", n,
           prog ? prog : "exit", fork_us[n / 2], fork_us[n * 9 / 10], life_us[n / 2],
           life_us[n * 9 / 10]);
    printf("forks: a fork: parent %.1f us CPU, %.2f faults; child %.1f us CPU, %.2f faults\n",
           (cpu_us(&after) - cpu_us(&before)) / n,
           (double)(after.ru_minflt - before.ru_minflt) / n, child_cpu / n, child_faults / n);
    return 0;
}
