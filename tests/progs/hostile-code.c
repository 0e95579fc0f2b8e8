/* SPDX-License-Identifier: MIT */
/*
 * Code that unwinders trip on, run in turns for MS milliseconds of CPU:
 *   plt     a tight loop of calls through the PLT (div from libc)
 *   nocfi   a hand-written assembly loop with no CFI that keeps a garbage
 *           value in %rbp while it runs
 *   nosize  an assembly loop with no CFI and no symbol size, which keeps a
 *           frame pointer
 *   jit     machine code copied into an mmap'd page (no unwind info, not
 *           backed by a file) that also puts garbage in %rbp
 * Usage: hostile-code [MS]. Prints "hostile-code: done" at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

/* rdi: iterations. No .cfi directives: no unwind information at all.
 * nosize_loop has no symbol size either (as crtstuff's functions and some
 * hand-written assembly): it is named up to the next symbol, nocfi_loop. */
__asm__(".text\n"
        ".globl nosize_loop\n"
        ".type nosize_loop,@function\n"
        "nosize_loop:\n"
        "    push %rbp\n"
        "    mov %rsp, %rbp\n"
        "1:  dec %rdi\n"
        "    jnz 1b\n"
        "    pop %rbp\n"
        "    ret\n"
        ".globl nocfi_loop\n"
        ".type nocfi_loop,@function\n"
        "nocfi_loop:\n"
        "    push %rbp\n"
        "    movabs $0x5a5a5a5a5a5a5a5a, %rbp\n"
        "1:  dec %rdi\n"
        "    jnz 1b\n"
        "    pop %rbp\n"
        "    ret\n"
        ".size nocfi_loop, .-nocfi_loop\n");
void nocfi_loop(long n);
void nosize_loop(long n);

/* The same loop as bytes, for the anonymous executable page:
 * push %rbp; movabs $0x...,%rbp; 1: dec %rdi; jnz 1b; pop %rbp; ret */
static const unsigned char jit_code[] = {
    0x55, 0x48, 0xbd, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x08, /* movabs rbp */
    0x48, 0xff, 0xcf,                                                 /* dec %rdi */
    0x75, 0xfb,                                                       /* jnz -5 */
    0x5d, 0xc3};

__attribute__((noinline)) static long plt_loop(long n)
{
    long s = 0;
    for (long i = 0; i < n; i++) s += div((int)i, 7).rem;
    return s;
}

static double cpu_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
    double ms = argc > 1 ? atof(argv[1]) : 3000;
    void *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
                      -1, 0);
    if (page == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    memcpy(page, jit_code, sizeof(jit_code));
    void (*jit)(long) = (void (*)(long))page;
    volatile long sink = 0;
    double end = cpu_ms() + ms;
    while (cpu_ms() < end) {
        sink += plt_loop(200000);
        nocfi_loop(400000);
        nosize_loop(400000);
        jit(400000);
    }
    printf("hostile-code: done\n");
    return (int)(sink & 0);
}
