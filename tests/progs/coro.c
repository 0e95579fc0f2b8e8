/* SPDX-License-Identifier: MIT */
/*
 * Code on stacks that are not its thread's, for
 * tests/e2e/223-other-stacks.sh:
 *   coro MS DEPTH      two makecontext coroutines, one on a 64 KiB stack
 *                      (in the heap), one on a 512 KiB stack (a mapping of
 *                      its own), burn MS ms of CPU in all in coro_leaf
 *                      DEPTH calls deep, in slices of 2 ms between which
 *                      main burns 1 ms in main_leaf
 *   altstack MS        a SIGUSR1 handler on an alternate signal stack in
 *                      the heap burns MS ms in alt_leaf, 10 calls deep,
 *                      raised from main through outer_call
 *   fork MS DEPTH      coro in the parent, then again in a child of fork
 *   closefds MS DEPTH  coro MS/2; then every descriptor above 2 closed and
 *                      mine.txt opened (on sprof's numbers); coro again,
 *                      1.2 s more (sprof checks its timers once a second);
 *                      then "ok" written to mine.txt
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include "burn.h"

static ucontext_t main_ctx, coro_ctx[2];
static int depth;
static double slice_end;

__attribute__((noinline)) static void coro_leaf(void)
{
    BURN(20000, 3);
}

__attribute__((noinline)) static void coro_rec(int d)
{
    if (d == 0) {
        while (burn_cpu_ms() < slice_end)
            coro_leaf();
        return;
    }
    coro_rec(d - 1);
    burn_sink++; /* (no tail call: the frame stays) */
}

static void coro_body(int which)
{
    for (;;) {
        coro_rec(depth);
        swapcontext(&coro_ctx[which], &main_ctx);
    }
}

__attribute__((noinline)) static void main_leaf(double ms)
{
    double end = burn_cpu_ms() + ms;
    while (burn_cpu_ms() < end)
        BURN(20000, 5);
}

static void coro_run(double ms)
{
    static const size_t size[2] = {64 * 1024, 512 * 1024};
    static int made;
    for (int i = 0; i < 2 && !made; i++) {
        getcontext(&coro_ctx[i]);
        coro_ctx[i].uc_stack.ss_sp = malloc(size[i]);
        coro_ctx[i].uc_stack.ss_size = size[i];
        coro_ctx[i].uc_link = &main_ctx;
        if (!coro_ctx[i].uc_stack.ss_sp) exit(3);
        makecontext(&coro_ctx[i], (void (*)(void))coro_body, 1, i);
    }
    made = 1;
    for (int k = 0; ms > 0; k++, ms -= 2) {
        slice_end = burn_cpu_ms() + 2;
        swapcontext(&main_ctx, &coro_ctx[k & 1]);
        main_leaf(1);
    }
}

static double alt_ms;

__attribute__((noinline)) static void alt_leaf(void)
{
    BURN(20000, 7);
}

__attribute__((noinline)) static void alt_rec(int d, double end)
{
    if (d == 0) {
        while (burn_cpu_ms() < end)
            alt_leaf();
        return;
    }
    alt_rec(d - 1, end);
    burn_sink++;
}

static void on_usr1(int sig)
{
    (void)sig;
    alt_rec(10, burn_cpu_ms() + alt_ms);
}

__attribute__((noinline)) static void outer_call(void)
{
    raise(SIGUSR1);
    burn_sink++;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "coro";
    double ms = argc > 2 ? atof(argv[2]) : 300;
    depth = argc > 3 ? atoi(argv[3]) : 30;
    if (!strcmp(mode, "coro")) {
        coro_run(ms);
    } else if (!strcmp(mode, "altstack")) {
        stack_t ss = {.ss_sp = malloc(64 * 1024), .ss_size = 64 * 1024, .ss_flags = 0};
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_usr1;
        sa.sa_flags = SA_ONSTACK;
        alt_ms = ms;
        if (!ss.ss_sp || sigaltstack(&ss, NULL) || sigaction(SIGUSR1, &sa, NULL)) return 3;
        outer_call();
    } else if (!strcmp(mode, "fork")) {
        coro_run(ms / 2);
        pid_t p = fork();
        if (p == 0) {
            coro_run(ms);
            _exit(0);
        }
        int st;
        if (p < 0 || waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st)) return 3;
    } else if (!strcmp(mode, "closefds")) {
        coro_run(ms / 2);
        for (int fd = 3; fd < 1024; fd++)
            close(fd);
        FILE *f = fopen("mine.txt", "w");
        if (!f) return 3;
        coro_run(ms / 2 + 1200);
        fputs("ok\n", f);
        if (fclose(f)) return 3;
    } else {
        fprintf(stderr, "coro: unknown mode %s\n", mode);
        return 2;
    }
    printf("coro: %s done\n", mode);
    return 0;
}
