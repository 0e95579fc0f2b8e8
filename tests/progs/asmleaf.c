/* SPDX-License-Identifier: MIT */
/*
 * asmleaf: hand-written assembly without call frame information, as GMP's
 * mpn functions are (a compiler's cc1 calls them): leaf_sum, a loop that
 * never moves rsp, called by a direct call from direct_caller and through a
 * pointer (an indirect call) from indirect_caller, in turns for MS ms of
 * CPU. Usage: asmleaf [MS [mid]] (default 2000); prints "asmleaf: done".
 * Expected profile: most samples in leaf_sum, under direct_caller and
 * indirect_caller, under main; none walked by libunwind.
 * With "mid", leaf_sum is called only through nocfi_mid, assembly without
 * call frame information either that counts down as long with rbp 0 (as
 * the x86-64 psABI marks the outermost frame, and as any code without
 * frame pointers may hold it) and then calls it: the samples in either
 * cannot be walked past nocfi_mid, and must say so (broken), not end there
 * as if complete.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* rdi: iterations (> 0); returns their sum. No .cfi directives. */
__asm__(".text\n"
        ".globl leaf_sum\n"
        ".type leaf_sum,@function\n"
        "leaf_sum:\n"
        "    xor %eax, %eax\n"
        "1:  add %rdi, %rax\n"
        "    dec %rdi\n"
        "    jnz 1b\n"
        "    ret\n"
        ".size leaf_sum, .-leaf_sum\n"
        ".globl nocfi_mid\n"
        ".type nocfi_mid,@function\n"
        "nocfi_mid:\n"
        "    push %rbp\n"
        "    xor %ebp, %ebp\n"
        "    mov %rdi, %rcx\n"
        "2:  dec %rcx\n"
        "    jnz 2b\n"
        "    call leaf_sum\n"
        "    pop %rbp\n"
        "    ret\n"
        ".size nocfi_mid, .-nocfi_mid\n");
long leaf_sum(long n);
long nocfi_mid(long n);

static long (*volatile leaf_ptr)(long) = leaf_sum;

__attribute__((noinline)) long direct_caller(long n)
{
    return leaf_sum(n) + 1; /* (not a tail call) */
}

__attribute__((noinline)) long indirect_caller(long n)
{
    return leaf_ptr(n) + 1;
}

__attribute__((noinline)) long mid_caller(long n)
{
    return nocfi_mid(n) + 1;
}

static double cpu_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
    double end = cpu_ms() + (argc > 1 ? atof(argv[1]) : 2000);
    int mid = argc > 2 && strcmp(argv[2], "mid") == 0;
    volatile long sink = 0;
    while (cpu_ms() < end) {
        if (mid) {
            sink += mid_caller(2000000);
        } else {
            sink += direct_caller(200000);
            sink += indirect_caller(200000);
        }
    }
    printf("asmleaf: done\n");
    return 0;
}
