/* SPDX-License-Identifier: MIT */
/*
 * runstat FILE [NAME=VALUE ...] -- PROG [ARGS...]
 *
 * Runs PROG with the NAME=VALUE pairs added to its environment (to it only:
 * an LD_PRELOAD given here does not load into runstat), waits for it with
 * wait4 and writes "USER SYS MAXRSS" to FILE: its CPU time in seconds and its
 * max RSS in KiB, its waited-for descendants included. bench.py runs every
 * workload through it: the max RSS that Python would see for a child it
 * forked starts at Python's own size (the parent's memory counts until the
 * exec), runstat's is a few hundred KiB; between `perf record` and the
 * workload it tells the workload's CPU time apart from perf's.
 * Exit status: the program's (128 + signal if it was killed).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int i = 2;
    if (argc < 4) goto usage;
    for (; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (!strchr(argv[i], '=')) goto usage;
    if (i + 1 >= argc) goto usage;
    pid_t pid = fork();
    if (pid < 0) return 127;
    if (pid == 0) {
        for (int k = 2; k < i; k++) putenv(argv[k]);
        execvp(argv[i + 1], argv + i + 1);
        perror(argv[i + 1]);
        _exit(127);
    }
    int status = 0;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0) return 127;
    FILE *f = fopen(argv[1], "w");
    if (f) {
        fprintf(f, "%ld.%06ld %ld.%06ld %ld\n", (long)ru.ru_utime.tv_sec, (long)ru.ru_utime.tv_usec,
                (long)ru.ru_stime.tv_sec, (long)ru.ru_stime.tv_usec, ru.ru_maxrss);
        fclose(f);
    }
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
usage:
    fprintf(stderr, "usage: runstat FILE [NAME=VALUE ...] -- PROG [ARGS...]\n");
    return 2;
}
