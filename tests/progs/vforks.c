/* SPDX-License-Identifier: MIT */
/*
 * vforks: vfork(2) in a loop, each child exiting at once, the parent
 * waiting for it. The parent resumes inside the C library's vfork with a
 * sample often pending, at an instruction where the return address is in a
 * register (glibc's x86_64 vfork pops it before the system call and pushes
 * it back after): such a sample must walk up through vforks_spawn to main.
 *
 * Usage: vforks [N]   (N children, default 3000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

__attribute__((noinline, noclone)) int vforks_spawn(void)
{
    pid_t pid = vfork();
    if (pid == 0) _exit(0);
    if (pid < 0) return -1;
    int st;
    return waitpid(pid, &st, 0) == pid && WIFEXITED(st) ? 0 : -1;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 3000, failed = 0;
    for (int i = 0; i < n; i++)
        failed += vforks_spawn() != 0;
    printf("vforks: %d children, %d failed\n", n, failed);
    return failed != 0;
}
