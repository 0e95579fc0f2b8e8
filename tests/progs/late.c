/* SPDX-License-Identifier: MIT */
/*
 * When a descendant makes its writer thread (preload/init.c, sprof_late):
 * prints "WHERE threads N term T" lines, N from /proc/self/status and T 1
 * when a handler catches SIGTERM there (sprof's ending handlers come with
 * the writer: preload/endings.c), for tests/e2e/081-late-writer.sh.
 *   late now            at once: a process that took no sample yet
 *   late burn MS        after MS ms of CPU in late_burn (the program's code)
 *   late short MS       the same, printing "short"
 *   late qsort MS       from inside qsort's comparator after MS ms of CPU
 *                       there (a libc frame below: no safe point), then
 *                       after MS ms more in late_burn
 *   late thread         before pthread_create, and from the new thread
 *   late fork MS        a child of fork that prints at once and one that
 *                       burns MS ms first (it does not exec)
 *   late term MS        burns MS ms, then sends itself SIGTERM
 *   late sigdeep MS [D] with a SIGUSR1 handler of its own, burns MS ms D
 *                       calls deep (default 300, past SPROF_DEPTH's 256:
 *                       every walk cut short), printing "sigdeep" there
 *                       ("sigdeep-D" with D given)
 *   late inhandler MS   the same inside its SIGUSR1 handler, printing
 *                       "in-handler"
 *   late altstack MS    the same on an alternate signal stack in main's
 *                       locals, printing "in-altstack"
 *   late altdeep MS [D] as sigdeep, its handler on an alternate signal
 *                       stack in the heap (as a Lisp's), after 30 ms of
 *                       samples with that stack set (their frames' copies
 *                       left below), printing "altdeep" ("altdeep-D")
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "burn.h"

#ifdef TAKE_FREE
/* built without -fPIE (tests/run.sh), free's address taken in code makes
 * the program's PLT entry the address of free for everyone, dlsym included */
void (*volatile late_free)(void *);
#endif

static void say(const char *where)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    int n = -1;
    unsigned long long caught = 0;
    while (f && fgets(line, sizeof(line), f)) {
        sscanf(line, "Threads: %d", &n);
        sscanf(line, "SigCgt: %llx", &caught);
    }
    if (f) fclose(f);
    printf("%s threads %d term %d\n", where, n, (int)(caught >> (SIGTERM - 1) & 1));
    fflush(stdout);
}

__attribute__((noinline)) void late_burn(double ms)
{
    double end = burn_cpu_ms() + ms;
    long n = burn_iters(1); /* once: getenv over a long environment is libc's time */
    while (burn_cpu_ms() < end)
        BURN(n, 7);
}

static double cmp_end;
static int cmp_said;

__attribute__((noinline)) static int late_compare(const void *a, const void *b)
{
    BURN(2000, 11);
    if (!cmp_said && burn_cpu_ms() >= cmp_end) {
        cmp_said = 1;
        say("in-qsort");
    }
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static volatile unsigned deep_calls;

/* depth calls down, then late_burn(ms) and a line */
__attribute__((noinline)) static void late_deep(unsigned depth, double ms, const char *where)
{
    if (depth == 0) {
        late_burn(ms);
        say(where);
        return;
    }
    late_deep(depth - 1, ms, where);
    deep_calls++; /* (no tail call: the frame stays) */
}

static double usr1_ms = -1;
static const char *usr1_where = "in-handler";

static void on_usr1(int sig)
{
    (void)sig;
    if (usr1_ms >= 0) late_deep(300, usr1_ms, usr1_where);
}

static void *in_thread(void *arg)
{
    (void)arg;
    say("in-thread");
    return NULL;
}

int main(int argc, char **argv)
{
#ifdef TAKE_FREE
    late_free = free;
#endif
    const char *mode = argc > 1 ? argv[1] : "now";
    double ms = argc > 2 ? atof(argv[2]) : 300;
    if (!strcmp(mode, "now")) {
        say("now");
    } else if (!strcmp(mode, "burn") || !strcmp(mode, "short")) {
        late_burn(ms);
        say(mode);
    } else if (!strcmp(mode, "qsort")) {
        cmp_end = burn_cpu_ms() + ms;
        /* sorted again until the comparator has said its line */
        size_t n = 4096; /* a sort of 50,000 comparisons, 0.1 s */
        int *v = malloc(n * sizeof(int));
        while (v && !cmp_said) {
            for (size_t i = 0; i < n; i++)
                v[i] = (int)((i * 2654435761u) % 100003u);
            qsort(v, n, sizeof(int), late_compare);
        }
        free(v);
        late_burn(ms);
        say("after-qsort");
    } else if (!strcmp(mode, "sigdeep")) {
        static char where[32] = "sigdeep";
        unsigned depth = argc > 3 ? (unsigned)atoi(argv[3]) : 300;
        if (argc > 3) snprintf(where, sizeof(where), "sigdeep-%u", depth);
        signal(SIGUSR1, on_usr1);
        late_deep(depth, ms, where);
    } else if (!strcmp(mode, "altdeep")) {
        static char where[32] = "altdeep";
        unsigned depth = argc > 3 ? (unsigned)atoi(argv[3]) : 300;
        if (argc > 3) snprintf(where, sizeof(where), "altdeep-%u", depth);
        stack_t ss = {.ss_sp = malloc(SIGSTKSZ * 4), .ss_size = SIGSTKSZ * 4, .ss_flags = 0};
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_usr1;
        sa.sa_flags = SA_ONSTACK;
        if (ss.ss_sp && sigaltstack(&ss, NULL) == 0 && sigaction(SIGUSR1, &sa, NULL) == 0) {
            late_burn(30);
            late_deep(depth, ms, where);
        }
    } else if (!strcmp(mode, "inhandler")) {
        usr1_ms = ms;
        signal(SIGUSR1, on_usr1);
        raise(SIGUSR1);
    } else if (!strcmp(mode, "altstack")) {
        /* above the frames of raise and the kernel's signal delivery */
        static const size_t size = 256 * 1024;
        char *alt = __builtin_alloca(size);
        stack_t ss = {.ss_sp = alt, .ss_size = size, .ss_flags = 0};
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_usr1;
        sa.sa_flags = SA_ONSTACK;
        usr1_ms = ms;
        usr1_where = "in-altstack";
        if (sigaltstack(&ss, NULL) == 0 && sigaction(SIGUSR1, &sa, NULL) == 0) raise(SIGUSR1);
    } else if (!strcmp(mode, "term")) {
        late_burn(ms);
        say("term");
        raise(SIGTERM);
    } else if (!strcmp(mode, "thread")) {
        say("before-thread");
        pthread_t th;
        if (pthread_create(&th, NULL, in_thread, NULL) == 0) pthread_join(th, NULL);
    } else if (!strcmp(mode, "fork")) {
        for (int k = 0; k < 2; k++) {
            pid_t p = fork();
            if (p == 0) {
                if (k == 1) late_burn(ms);
                say(k ? "child-burn" : "child-now");
                exit(0);
            }
            if (p > 0) waitpid(p, NULL, 0);
        }
    } else {
        fprintf(stderr, "late: unknown mode %s\n", mode);
        return 2;
    }
    return 0;
}
