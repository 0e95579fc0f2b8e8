/* SPDX-License-Identifier: MIT */
/*
 * closefds: a program that closes descriptors it did not open, as daemons
 * and children about to exec do, and then uses the same numbers for its own.
 *
 *   closefds daemon   burns about 200 ms in work_before_close, closes every
 *                     descriptor from 3 up (close_range, or one by one),
 *                     opens a.txt to h.txt (the lowest numbers: those sprof
 *                     had), forks a child that writes "a child" to
 *                     "h child" to them through the descriptors it
 *                     inherits, then 15 times burns about 100 ms in
 *                     work_after_close and writes "a N" to "h N".
 *                     The files are closed only by the end of the process.
 *   closefds exec     forks; the child closes every descriptor from 3 up,
 *                     puts the write end of a pipe at 3 (dup2), and execs
 *                     sh -c 'echo passed-through >&3'; the parent prints
 *                     what it reads from the pipe.
 *   closefds stdio    run with stdin closed: opens /dev/null (which must
 *                     be 0), burns about 200 ms, closes every descriptor
 *                     from 0 up, burns about 1.5 s, opens /dev/null as 0
 *                     and 1 and dups 1 to 2 (as daemons do), and writes the
 *                     four numbers to stdio.txt ("0 0 1 2" expected).
 *
 * Exits 0 when its own writes and reads went as asked.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "burn.h"

/* Closes every descriptor from first to last. */
static void close_range_from(unsigned first, unsigned last)
{
#ifdef SYS_close_range
    if (syscall(SYS_close_range, first, last, 0u) == 0) return;
#endif
    for (unsigned fd = first; fd <= last && fd < 4096; fd++)
        close((int)fd);
}

__attribute__((noinline)) static void work_before_close(void)
{
    long n = burn_iters(200);
    BURN(n, 3);
}

__attribute__((noinline)) static void work_after_close(void)
{
    long n = burn_iters(100);
    BURN(n, 5);
}

static int daemon_mode(void)
{
    work_before_close();
    close_range_from(3, ~0u);
    /* eight files: the numbers of every descriptor sprof may hold (its
     * timer's, its profile's, its scan's of /proc/self/task) */
    enum { NFILES = 8 };
    int fd[NFILES];
    for (int k = 0; k < NFILES; k++) {
        char name[8] = {(char)('a' + k), '.', 't', 'x', 't', 0};
        if ((fd[k] = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0) {
            perror("closefds: open");
            return 1;
        }
    }
    printf("closefds: a.txt is fd %d, b.txt fd %d, h.txt fd %d\n", fd[0], fd[1], fd[NFILES - 1]);
    fflush(stdout);
    /* a worker forked at once writes through the descriptors it inherits */
    pid_t pid = fork();
    if (pid < 0) return 1;
    if (pid == 0) {
        for (int k = 0; k < NFILES; k++) {
            char line[] = {(char)('a' + k), ' ', 'c', 'h', 'i', 'l', 'd', '\n'};
            if (write(fd[k], line, sizeof(line)) != (ssize_t)sizeof(line)) _exit(1);
        }
        _exit(0);
    }
    int st = 0;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "closefds: the forked child could not write to a.txt to h.txt\n");
        return 1;
    }
    for (int i = 0; i < 15; i++) {
        work_after_close();
        for (int k = 0; k < NFILES; k++) {
            char line[32];
            int n = snprintf(line, sizeof(line), "%c %d\n", 'a' + k, i);
            if (write(fd[k], line, (size_t)n) != n) return 1;
        }
    }
    return 0;
}

static int exec_mode(void)
{
    int p[2];
    if (pipe(p)) return 1;
    pid_t pid = fork();
    if (pid < 0) return 1;
    if (pid == 0) {
        work_before_close();
        if (dup2(p[1], 1000) < 0) _exit(2);
        close_range_from(3, 999);
        if (dup2(1000, 3) < 0) _exit(3);
        close(1000);
        execl("/bin/sh", "sh", "-c", "echo passed-through >&3", (char *)NULL);
        _exit(4);
    }
    close(p[1]);
    char buf[64];
    ssize_t n = read(p[0], buf, sizeof(buf) - 1);
    int st = 0;
    if (waitpid(pid, &st, 0) != pid) return 1;
    buf[n > 0 ? n : 0] = 0;
    printf("closefds: read from the child: %s", n > 0 ? buf : "nothing\n");
    if (n <= 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) return 1;
    return 0;
}

static int stdio_mode(void)
{
    int z = open("/dev/null", O_RDONLY);
    work_before_close();
    close_range_from(0, ~0u);
    for (int i = 0; i < 15; i++)
        work_after_close();
    int a = open("/dev/null", O_RDONLY), b = open("/dev/null", O_WRONLY), c = dup(b);
    int f = open("stdio.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (f < 0) return 1;
    char line[64];
    int n = snprintf(line, sizeof(line), "%d %d %d %d\n", z, a, b, c);
    if (write(f, line, (size_t)n) != n) return 1;
    return z == 0 && a == 0 && b == 1 && c == 2 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "daemon") == 0) return daemon_mode();
    if (argc > 1 && strcmp(argv[1], "exec") == 0) return exec_mode();
    if (argc > 1 && strcmp(argv[1], "stdio") == 0) return stdio_mode();
    fprintf(stderr, "usage: closefds daemon|exec|stdio\n");
    return 2;
}
