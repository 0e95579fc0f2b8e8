/* SPDX-License-Identifier: MIT */
/*
 * clone: a thread made with clone(2), not pthread_create, burns CPU in
 * work_raw_clone while main sleeps. With "hidden", the thread is made
 * through glibc's __clone, which a profiler that interposes clone does not
 * see (as a runtime's own clone system call): it must find the thread by
 * itself; main first burns FIRST milliseconds in main_work, so that the
 * profiler's periodic search for threads has run before the thread exists.
 *
 * Usage: clone [MS [hidden FIRST]]   (MS: CPU milliseconds in the cloned
 * thread, default 600)
 * Expected profile: work_raw_clone holds most samples.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "burn.h"

static long iters;
static volatile int done;

__attribute__((noinline, noclone)) void work_raw_clone(void)
{
    BURN(iters, 0x7777777777777777ull);
}

__attribute__((noinline, noclone)) void main_work(long n)
{
    BURN(n, 0x1111111111111111ull);
}

/* glibc's clone itself, under the name a preloaded clone does not take */
extern int __clone(int (*fn)(void *), void *stack, int flags, void *arg, ...);

/* Runs on its own stack, sharing main's TLS: no libc calls that use it. */
static int child(void *arg)
{
    (void)arg;
    work_raw_clone();
    __atomic_store_n(&done, 1, __ATOMIC_RELEASE);
    return 0;
}

int main(int argc, char **argv)
{
    iters = burn_iters(argc > 1 ? atof(argv[1]) : 600);
    size_t size = 1 << 20;
    char *stack = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,
                       -1, 0);
    if (stack == MAP_FAILED) {
        perror("clone: mmap");
        return 1;
    }
    int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM;
    int hidden = argc > 3 && !strcmp(argv[2], "hidden");
    if (hidden) main_work(burn_iters(atof(argv[3])));
    if ((hidden ? __clone : clone)(child, stack + size, flags, NULL) < 0) {
        perror("clone: clone");
        return 1;
    }
    while (!__atomic_load_n(&done, __ATOMIC_ACQUIRE)) usleep(2000);
    usleep(20000); /* let the thread finish exiting */
    printf("clone: done\n");
    return 0;
}
