/* SPDX-License-Identifier: MIT */
/*
 * procs: burns CPU in procs_top_work (half of it before, half right after
 * the vfork child has exec'd), and starts tests/progs/hotproc in every way
 * a program starts another, one after the other, each waited for:
 *   vfork + execv                 hotproc vfork
 *   system(3)                     hotproc system (through /bin/sh -c)
 *   system(3) of a pipeline       hotproc pipe-left | hotproc pipe-right
 *                                 (sh forks both sides, CPU-bound at once)
 *   posix_spawn(3)                hotproc spawn
 * and prints the exit status of each ("vfork: 0", "system: 0",
 * "pipeline: 0", "posix_spawn: 0") after the children's own lines. Exits 0
 * when every child exited 0.
 *
 * Usage: procs HOTPROC   (the path of hotproc; HOT_MS passes on to it; MS
 * of procs_top_work: the environment variable TOP_MS, default 250)
 */
#include <spawn.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "burn.h"

extern char **environ;

__attribute__((noinline, noclone)) void procs_top_work(long n)
{
    BURN(n, 0x6c8e9cf570932bd5ull);
}

static int status_of(int st)
{
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: procs HOTPROC\n");
        return 2;
    }
    const char *hot = argv[1];
    const char *ms = getenv("TOP_MS");
    long half = burn_iters(ms ? atof(ms) / 2 : 125);
    procs_top_work(half);
    int bad = 0, st;

    fflush(stdout);
    char *vargs[] = {(char *)hot, "vfork", NULL};
    pid_t pid = vfork();
    if (pid < 0) {
        perror("procs: vfork");
        return 1;
    }
    if (pid == 0) {
        execv(hot, vargs);
        _exit(127);
    }
    if (waitpid(pid, &st, 0) != pid) return 1;
    printf("vfork: %d\n", status_of(st));
    bad |= status_of(st);
    /* the vfork child ran in our memory: we are still profiled as before */
    procs_top_work(half);

    char cmd[8400];
    snprintf(cmd, sizeof(cmd), "'%s' system", hot);
    fflush(stdout);
    st = system(cmd);
    printf("system: %d\n", status_of(st));
    bad |= status_of(st);

    snprintf(cmd, sizeof(cmd), "'%s' pipe-left | '%s' pipe-right", hot, hot);
    fflush(stdout);
    st = system(cmd);
    printf("pipeline: %d\n", status_of(st));
    bad |= status_of(st);

    char *sargs[] = {(char *)hot, "spawn", NULL};
    fflush(stdout);
    int e = posix_spawn(&pid, hot, NULL, NULL, sargs, environ);
    if (e) {
        printf("posix_spawn: error %d\n", e);
        return 1;
    }
    if (waitpid(pid, &st, 0) != pid) return 1;
    printf("posix_spawn: %d\n", status_of(st));
    bad |= status_of(st);
    return bad ? 1 : 0;
}
