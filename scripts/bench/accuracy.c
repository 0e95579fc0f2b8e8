/* SPDX-License-Identifier: MIT */
/*
 * accuracy: CPU time spent in known functions, as each thread's own clock
 * measured it, for scripts/bench/accuracy.py to hold a profiler's
 * attribution against. Four threads on this 2-CPU machine, each with its
 * own pattern of calls, the same work every run:
 *
 *   mixer   acc_tiny (25 us calls), acc_small (100 us), acc_big (1 ms), in
 *           rounds of 8, 2 and 1: short calls between long ones
 *   random  acc_rand_a and acc_rand_b, 7 calls in 10 to a, each of 50 us
 *           to 2 ms (a fixed pseudo-random sequence)
 *   sleeper acc_wake, 300 us of CPU then 700 us asleep: a thread that
 *           runs a third of the time, beside ones that run all of it
 *   main    acc_steady, 10 ms calls
 *
 * Every call's CPU time is read from CLOCK_THREAD_CPUTIME_ID around it (a
 * system call each side, under 1% of the shortest call) and added to its
 * function's. At the end it prints one line a function, "NAME MS".
 *
 * Usage: accuracy [SCALE]   (SCALE: a percentage of the work, default 100:
 * about 1.5 s of CPU in all)
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../../tests/progs/burn.h"

enum { TINY, SMALL, BIG, RAND_A, RAND_B, WAKE, STEADY, NFUNC };
static const char *const names[NFUNC] = {"acc_tiny",   "acc_small", "acc_big",   "acc_rand_a",
                                         "acc_rand_b", "acc_wake",  "acc_steady"};
static double spent_ms[NFUNC]; /* each function is one thread's */
static double scale = 1.0;

static double thread_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* each a function of its own, none inlined nor folded into another */
#define ACC_FUNC(name, k)                                                                          \
    __attribute__((noinline, noclone)) void name(long n)                                           \
    {                                                                                              \
        BURN(n, k);                                                                                \
    }
ACC_FUNC(acc_tiny, 0x1001)
ACC_FUNC(acc_small, 0x2002)
ACC_FUNC(acc_big, 0x3003)
ACC_FUNC(acc_rand_a, 0x4004)
ACC_FUNC(acc_rand_b, 0x5005)
ACC_FUNC(acc_wake, 0x6006)
ACC_FUNC(acc_steady, 0x7007)

static void (*const funcs[NFUNC])(long) = {acc_tiny,   acc_small, acc_big,   acc_rand_a,
                                           acc_rand_b, acc_wake,  acc_steady};

static void call(int f, double ms)
{
    long n = burn_iters(ms);
    double t0 = thread_ms();
    funcs[f](n);
    spent_ms[f] += thread_ms() - t0;
}

static int rounds(double base)
{
    int n = (int)(base * scale + 0.5);
    return n > 0 ? n : 1;
}

static void *mixer(void *arg)
{
    (void)arg;
    for (int r = rounds(300); r > 0; r--) {
        for (int i = 0; i < 8; i++)
            call(TINY, 0.025);
        for (int i = 0; i < 2; i++)
            call(SMALL, 0.1);
        call(BIG, 1.0);
    }
    return NULL;
}

static void *random_calls(void *arg)
{
    (void)arg;
    uint64_t s = 0x9e3779b97f4a7c15ull; /* the same sequence every run */
    for (int r = rounds(400); r > 0; r--) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        double ms = 0.05 + (double)(s % 1951) / 1000.0; /* 0.05 to 2 ms */
        call(s / 1951 % 10 < 7 ? RAND_A : RAND_B, ms);
    }
    return NULL;
}

static void *sleeper(void *arg)
{
    (void)arg;
    struct timespec nap = {0, 700000};
    for (int r = rounds(1000); r > 0; r--) {
        call(WAKE, 0.3);
        nanosleep(&nap, NULL);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc > 1) scale = atof(argv[1]) / 100.0;
    if (scale <= 0) scale = 1.0;
    void *(*const starts[])(void *) = {mixer, random_calls, sleeper};
    pthread_t th[3];
    for (int i = 0; i < 3; i++)
        if (pthread_create(&th[i], NULL, starts[i], NULL)) return 1;
    for (int r = rounds(40); r > 0; r--)
        call(STEADY, 10.0);
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    for (int f = 0; f < NFUNC; f++)
        printf("%s %.3f\n", names[f], spent_ms[f]);
    return 0;
}
