/* SPDX-License-Identifier: MIT */
/*
 * forkmaps: children of fork whose samples fall in libraries their parent
 * dlopen'ed, at different times before the fork.
 *
 * The parent dlopens LIB_A and burns in a_work, then LIB_B and burns in
 * b_work (MS milliseconds each: the profiler's writer compares the maps
 * meanwhile, twice). The first child burns in a_work and b_work (MS/2
 * each) and exits. The parent then dlopens LIB_C and at once forks the
 * second child, which burns in hot_in_library and a_work (MS/2 each) and
 * execs /bin/true. The parent waits for each, burns in forkmaps_parent_work
 * (MS/4) and exits. Prints "child1 PID" and "child2 PID".
 *
 * Usage: forkmaps LIB_A LIB_B LIB_C [MS]   (default 300)
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "burn.h"

__attribute__((noinline, noclone)) void forkmaps_parent_work(long n)
{
    BURN(n, 0x510e527fade682d1ull);
}

typedef void (*work_fn)(long);

static work_fn open_work(const char *lib, const char *name)
{
    void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    work_fn f = h ? (work_fn)dlsym(h, name) : NULL;
    if (!f) {
        fprintf(stderr, "forkmaps: %s\n", dlerror());
        exit(1);
    }
    return f;
}

static int wait_for(pid_t pid)
{
    int st;
    if (waitpid(pid, &st, 0) != pid) {
        perror("forkmaps: waitpid");
        return 1;
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: forkmaps LIB_A LIB_B LIB_C [MS]\n");
        return 2;
    }
    double ms = argc > 4 ? atof(argv[4]) : 300;
    work_fn a = open_work(argv[1], "a_work");
    a(burn_iters(ms));
    work_fn b = open_work(argv[2], "b_work");
    b(burn_iters(ms));

    fflush(stdout);
    pid_t c1 = fork();
    if (c1 < 0) {
        perror("forkmaps: fork");
        return 1;
    }
    if (c1 == 0) {
        a(burn_iters(ms / 2));
        b(burn_iters(ms / 2));
        exit(0);
    }
    printf("child1 %d\n", (int)c1);
    fflush(stdout);
    int rc = wait_for(c1);

    work_fn c = open_work(argv[3], "hot_in_library");
    pid_t c2 = fork();
    if (c2 < 0) {
        perror("forkmaps: fork");
        return 1;
    }
    if (c2 == 0) {
        c(burn_iters(ms / 2));
        a(burn_iters(ms / 2));
        execl("/bin/true", "true", (char *)NULL);
        perror("forkmaps: execl");
        _exit(127);
    }
    printf("child2 %d\n", (int)c2);
    fflush(stdout);
    rc |= wait_for(c2);
    forkmaps_parent_work(burn_iters(ms / 4));
    return rc;
}
