/* SPDX-License-Identifier: MIT */
/*
 * forkjit: a child of fork that maps machine code of its own and runs in it
 * before its exec. The parent works in forkjit_parent_work and in a
 * counting loop copied into an anonymous executable page (code without
 * CFI: sprof's walks through it load what they need in the parent), then
 * forks; the child copies the loop into a page of its own, runs it for
 * about MS milliseconds, then execs PROGRAM. Prints "child PID" and "jit
 * ADDRESS" (the child's page); exits with the child's status.
 *
 * Usage: forkjit MS PROGRAM [ARGS...]
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "burn.h"

__attribute__((noinline, noclone)) void forkjit_parent_work(long n)
{
    BURN(n, 0x0f0e0d0c0b0a0908ull);
}

/* A page of its own holding a counting loop (1: dec %rdi; jnz 1b; ret). */
static void (*jit_loop(void))(long)
{
    static const uint8_t loop[] = {0x48, 0xff, 0xcf, 0x75, 0xfb, 0xc3};
    uint8_t *page =
        mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) {
        perror("mmap");
        _exit(1);
    }
    memcpy(page, loop, sizeof(loop));
    return (void (*)(long))page;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: forkjit MS PROGRAM [ARGS...]\n");
        return 2;
    }
    double ms = atof(argv[1]);
    forkjit_parent_work(burn_iters(ms));
    jit_loop()(burn_iters(ms) * 2);
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0) {
        void (*loop)(long) = jit_loop();
        printf("child %d\njit %p\n", (int)getpid(), (void *)loop);
        fflush(stdout);
        loop(burn_iters(ms) * 2);
        execv(argv[2], argv + 2);
        perror("execv");
        _exit(127);
    }
    int st;
    if (waitpid(pid, &st, 0) < 0) return 1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
