/* SPDX-License-Identifier: MIT */
/*
 * hotproc: a process started by tests/progs/procs.c in one of several ways.
 * ROLE picks the function it burns CPU in, so that each process's profile
 * is known by construction: vfork -> hot_vfork, system -> hot_system,
 * pipe-left -> hot_pipe_left, pipe-right -> hot_pipe_right, spawn ->
 * hot_spawn. Then it prints "ROLE PID" on stdout; pipe-right first copies
 * its standard input (the left side's line) to stdout.
 *
 * Usage: hotproc ROLE   (the environment variable HOT_MS sets the CPU
 * milliseconds, default 250)
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "burn.h"

static long iters;

__attribute__((noinline, noclone)) void hot_vfork(void)
{
    BURN(iters, 0x0f1e2d3c4b5a6978ull);
}
__attribute__((noinline, noclone)) void hot_system(void)
{
    BURN(iters, 0x1f2e3d4c5b6a7988ull);
}
__attribute__((noinline, noclone)) void hot_pipe_left(void)
{
    BURN(iters, 0x2f3e4d5c6b7a8998ull);
}
__attribute__((noinline, noclone)) void hot_pipe_right(void)
{
    BURN(iters, 0x3f4e5d6c7b8a99a8ull);
}
__attribute__((noinline, noclone)) void hot_spawn(void)
{
    BURN(iters, 0x4f5e6d7c8b9aa9b8ull);
}

static const struct {
    const char *role;
    void (*fn)(void);
} roles[] = {
    {"vfork", hot_vfork},           {"system", hot_system}, {"pipe-left", hot_pipe_left},
    {"pipe-right", hot_pipe_right}, {"spawn", hot_spawn},
};

int main(int argc, char **argv)
{
    const char *ms = getenv("HOT_MS");
    iters = burn_iters(ms ? atof(ms) : 250);
    for (size_t i = 0; argc > 1 && i < sizeof(roles) / sizeof(roles[0]); i++) {
        if (strcmp(argv[1], roles[i].role) != 0) continue;
        roles[i].fn();
        if (roles[i].fn == hot_pipe_right) {
            char line[256];
            while (fgets(line, sizeof(line), stdin)) fputs(line, stdout);
        }
        printf("%s %d\n", roles[i].role, (int)getpid());
        return 0;
    }
    fprintf(stderr, "usage: hotproc vfork|system|pipe-left|pipe-right|spawn\n");
    return 2;
}
