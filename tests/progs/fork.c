/* SPDX-License-Identifier: MIT */
/*
 * fork: the parent and a forked child each burn CPU in a function of their
 * own (parent_work, child_work). Prints the child's pid on stdout, then
 * exits with the child's exit status (0).
 *
 * After its work the child prints the CPUs each of its threads may run on,
 * "cpus same N" when its N threads all have the first one's (a profiler's
 * thread, made on one CPU in a forked child, must be free again by then),
 * "cpus differ ..." otherwise. Then "parent file N": how many of its
 * descriptors lead to its parent's profile ($SPROF_OUTPUT, as the parent
 * names it): a profiler's child that has written must hold none. Then
 * "parent task N": how many lead to its parent's /proc/PID/task (a profiler
 * that keeps its own open must not leave it to a child it does not
 * profile).
 *
 * Usage: fork [MS [FIRST]]   (MS: CPU milliseconds in each process, default
 * 400; FIRST: CPU milliseconds the parent works in parent_work before it
 * forks, default 0, when a profiler's writer may have scanned its threads)
 * Expected profiles: SPROF_OUTPUT holds parent_work only, SPROF_OUTPUT.PID
 * child_work only.
 */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* The Cpus_allowed_list of thread tid, into out. */
static int cpus_of(const char *tid, char *out, size_t n)
{
    char path[64], line[512];
    snprintf(path, sizeof(path), "/proc/self/task/%s/status", tid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    int found = -1;
    while (fgets(line, sizeof(line), f))
        if (!strncmp(line, "Cpus_allowed_list:", 18)) {
            snprintf(out, n, "%s", line + 18 + strspn(line + 18, " \t"));
            out[strcspn(out, "\n")] = 0;
            found = 0;
        }
    fclose(f);
    return found;
}

static void print_thread_cpus(void)
{
    char mine[256], other[256], tid[32];
    snprintf(tid, sizeof(tid), "%d", (int)getpid());
    if (cpus_of(tid, mine, sizeof(mine))) {
        printf("cpus unknown\n");
        return;
    }
    DIR *d = opendir("/proc/self/task");
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        if (cpus_of(e->d_name, other, sizeof(other))) continue;
        if (strcmp(mine, other)) {
            printf("cpus differ: thread %s on %s, the child on %s\n", e->d_name, other, mine);
            closedir(d);
            return;
        }
        n++;
    }
    if (d) closedir(d);
    printf("cpus same %d\n", n);
}

/* How many of this process's descriptors lead to the path want. */
static int fds_leading_to(const char *want)
{
    char fd[64], got[PATH_MAX];
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        snprintf(fd, sizeof(fd), "/proc/self/fd/%s", e->d_name);
        ssize_t k = readlink(fd, got, sizeof(got) - 1);
        if (k <= 0) continue;
        got[k] = 0;
        if (!strcmp(got, want)) n++;
    }
    if (d) closedir(d);
    return n;
}

static void print_parent_file(void)
{
    const char *out = getenv("SPROF_OUTPUT");
    char want[PATH_MAX];
    if (!out || !realpath(out, want)) {
        printf("parent file unknown\n");
        return;
    }
    printf("parent file %d\n", fds_leading_to(want));
}

static void print_parent_task(void)
{
    char want[64];
    snprintf(want, sizeof(want), "/proc/%d/task", (int)getppid());
    printf("parent task %d\n", fds_leading_to(want));
}

int main(int argc, char **argv)
{
    iters = burn_iters(argc > 1 ? atof(argv[1]) : 400);
    if (argc > 2) {
        long all = iters;
        iters = burn_iters(atof(argv[2]));
        parent_work();
        iters = all;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0) {
        child_work();
        print_thread_cpus();
        print_parent_file();
        print_parent_task();
        return 0;
    }
    printf("child %d\n", (int)pid);
    parent_work();
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st)) return 1;
    return WEXITSTATUS(st);
}
