/* SPDX-License-Identifier: MIT */
/*
 * fork: the parent and a forked child each burn CPU in a function of their
 * own (parent_work, child_work). Prints the child's pid on stdout, then
 * exits with the child's exit status (0).
 *
 * Usage: fork [MS]   (MS: CPU milliseconds in each process, default 400)
 * Expected profiles: SPROF_OUTPUT holds parent_work only, SPROF_OUTPUT.PID
 * child_work only.
 */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "burn.h"

static long iters;

__attribute__((noinline, noclone)) void parent_work(void)
{
    BURN(iters, 0xa5a5a5a5a5a5a5a5ull);
}

__attribute__((noinline, noclone)) void child_work(void)
{
    BURN(iters, 0x5a5a5a5a5a5a5a5bull);
}

int main(int argc, char **argv)
{
    iters = burn_iters(argc > 1 ? atof(argv[1]) : 400);
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0) {
        child_work();
        return 0;
    }
    printf("child %d\n", (int)pid);
    parent_work();
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st)) return 1;
    return WEXITSTATUS(st);
}
