/* SPDX-License-Identifier: MIT */
/*
 * forkexec: forks a child that immediately execs PROGRAM (another test
 * program), while the parent burns CPU in forkexec_parent_work and waits.
 * Prints the child's pid; exits with the child's exit status.
 *
 * Usage: forkexec PROGRAM [ARGS...]
 */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "burn.h"

__attribute__((noinline, noclone)) void forkexec_parent_work(long n)
{
    BURN(n, 0x0123456789abcdefull);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: forkexec PROGRAM [ARGS...]\n");
        return 2;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0) {
        execv(argv[1], argv + 1);
        perror("forkexec: execv");
        _exit(127);
    }
    printf("child %d\n", (int)pid);
    fflush(stdout);
    forkexec_parent_work(burn_iters(200));
    int st;
    if (waitpid(pid, &st, 0) != pid) return 1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
