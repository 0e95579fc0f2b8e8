/* SPDX-License-Identifier: MIT */
/*
 * spawn: starts PROGRAM twice, once with system(3) (through /bin/sh) and
 * once with posix_spawn(3) (which glibc runs as a vfork-like clone and an
 * exec the preload does not see), waits for both, and prints their exit
 * statuses.
 *
 * Usage: spawn PROGRAM
 */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

extern char **environ;

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: spawn PROGRAM\n");
        return 2;
    }
    char cmd[4200];
    snprintf(cmd, sizeof(cmd), "'%s' by-system", argv[1]);
    fflush(stdout);
    int r = system(cmd);
    printf("system: %d\n", WIFEXITED(r) ? WEXITSTATUS(r) : -1);
    fflush(stdout);
    char *args[] = {argv[1], "by-posix-spawn", NULL};
    pid_t pid;
    int e = posix_spawn(&pid, argv[1], NULL, NULL, args, environ);
    if (e) {
        printf("posix_spawn: error %d\n", e);
        return 1;
    }
    int st;
    if (waitpid(pid, &st, 0) != pid) return 1;
    printf("posix_spawn: %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return 0;
}
