/* SPDX-License-Identifier: MIT */
/*
 * shapes: stacks each frame of which is known from their leaf. Each thread
 * runs the shapes over and over in a pseudo-random order for about MS
 * milliseconds of CPU time: shape k goes down depth[k] frames below run,
 * each one of eight functions, step_0 to step_7, as step_of(k, level)
 * says (never the same twice in a row), then burns about US microseconds
 * in leaf_k. The shapes share their outer frames with one
 * another to different depths (split[k]), and their depths go past 256,
 * the most a ring entry shares with the one before it (preload/sprof.h).
 *
 * Usage: shapes [-t THREADS] [-f] [MS] [US]
 *        shapes -p
 * -t runs the shapes in THREADS threads (1: in main's); -f forks at the
 * half-way point, parent and child going on; -p prints each leaf's stack
 * from run down, as `sprof-report folded` names the frames: "run;step_0;
 * step_3;...;leaf_3". Its stacks are deeper than 256 frames: profile it with
 * SPROF_DEPTH=512.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "burn.h"

#define NSHAPES 8
static const int depth[NSHAPES] = {2, 30, 31, 120, 121, 300, 330, 260};
/* levels above split[k] follow the pattern all shapes share */
static const int split[NSHAPES] = {0, 30, 20, 100, 60, 290, 270, 256};
static long leaf_iters;
static volatile long sink;

#define NSTEPS 8
static int step_of(int k, int level)
{
    /* consecutive levels 3 apart, or 3 + k + 1 or 3 + k + 2 where the
     * shape leaves the common pattern: never 0 apart mod 8 */
    return (level * 3 + (level < split[k] ? 0 : k < 4 ? k + 1 : k + 2)) % NSTEPS;
}

#define LEAF(k)                                                                                    \
    __attribute__((noinline, noclone)) void leaf_##k(void)                                         \
    {                                                                                              \
        BURN(leaf_iters, 0x9e3779b97f4a7c15ull + (k));                                             \
    }
LEAF(0)
LEAF(1)
LEAF(2)
LEAF(3)
LEAF(4)
LEAF(5)
LEAF(6)
LEAF(7)
static void (*const leaves[NSHAPES])(void) = {leaf_0, leaf_1, leaf_2, leaf_3,
                                              leaf_4, leaf_5, leaf_6, leaf_7};

typedef void step_fn(int k, int level);
static step_fn *const steps[NSTEPS];

/* (not tail calls: each step adds to sink after its callee returns) */
#define DESCEND(k, level)                                                                          \
    do {                                                                                           \
        if ((level) == depth[k])                                                                   \
            leaves[k]();                                                                           \
        else                                                                                       \
            steps[step_of(k, level)](k, (level) + 1);                                              \
    } while (0)

#define STEP(s)                                                                                    \
    __attribute__((noinline, noclone)) void step_##s(int k, int level)                             \
    {                                                                                              \
        DESCEND(k, level);                                                                         \
        sink += (s) + 1;                                                                           \
    }
STEP(0)
STEP(1)
STEP(2)
STEP(3)
STEP(4)
STEP(5)
STEP(6)
STEP(7)
static step_fn *const steps[NSTEPS] = {step_0, step_1, step_2, step_3,
                                       step_4, step_5, step_6, step_7};

static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double run_ms;
static int fork_half;

__attribute__((noinline, noclone)) void run(unsigned seed)
{
    double start = cpu_ms();
    int forked = !fork_half;
    pid_t child = 0;
    while (cpu_ms() - start < run_ms) {
        if (!forked && cpu_ms() - start >= run_ms / 2) {
            forked = 1;
            child = fork();
            if (child == 0) seed = seed * 7 + 1; /* the child's own order */
        }
        for (int i = 0; i < 16; i++) {
            seed = seed * 1103515245u + 12345u;
            int k = (int)(seed >> 16) % NSHAPES;
            DESCEND(k, 0);
        }
    }
    if (child > 0) {
        int status;
        waitpid(child, &status, 0);
        sink += status;
    }
    sink++;
}

static void *thread_main(void *arg)
{
    run((unsigned)(uintptr_t)arg);
    return NULL;
}

int main(int argc, char **argv)
{
    int threads = 1, opt;
    while ((opt = getopt(argc, argv, "t:fp")) != -1) {
        if (opt == 't') {
            threads = atoi(optarg);
        } else if (opt == 'f') {
            fork_half = 1;
        } else if (opt == 'p') {
            for (int k = 0; k < NSHAPES; k++) {
                printf("run");
                for (int level = 0; level < depth[k]; level++)
                    printf(";step_%d", step_of(k, level));
                printf(";leaf_%d\n", k);
            }
            return 0;
        } else {
            fprintf(stderr, "usage: shapes [-t THREADS] [-f] [MS] [US] | -p\n");
            return 2;
        }
    }
    run_ms = optind < argc ? atof(argv[optind]) : 500;
    double us = optind + 1 < argc ? atof(argv[optind + 1]) : 150;
    leaf_iters = burn_iters(us / 1000.0);
    if (threads < 1 || threads > 64) threads = 1;
    if (threads == 1) {
        run(1);
    } else {
        pthread_t t[64];
        for (int i = 0; i < threads; i++)
            pthread_create(&t[i], NULL, thread_main, (void *)(uintptr_t)(i + 1));
        for (int i = 0; i < threads; i++)
            pthread_join(t[i], NULL);
    }
    printf("shapes: %ld\n", sink > 0 ? 1L : 0L);
    return 0;
}
