/* SPDX-License-Identifier: MIT */
/*
 * hostile: hot functions whose names break naive escaping, for the report
 * formats (text, SVG, JSON, protobuf):
 *
 *   operator<(Key const&, Key const&)          '<' and '&'
 *   Box<std::map<int, std::string ...> >::churn(long)
 *                                              templates, ',' and ' '; its
 *                                              work is in twist<3>, inlined
 *   void twist<3>(long)                        an inlined frame
 *   operator"" _burn(unsigned long long)       '"'
 *   hot'quote"<&>]]>                           an assembler symbol with ''',
 *                                              '"', '<', '&', '>' and "]]>"
 *                                              (no debug info: ELF symbol)
 *
 * Usage: hostile [MS [A B C D]]: MS CPU milliseconds in all (default 600);
 * A..D the shares in percent of operator<, Box::churn, operator"" _burn and
 * the assembler function (default 40 30 20 10). The work is interleaved in
 * rounds, so that every share is spread over the run.
 */
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "burn.h"

struct Key {
    long v;
};

__attribute__((noinline)) bool operator<(const Key &a, const Key &b)
{
    BURN(a.v, 0x9e3779b97f4a7c15ull);
    return a.v < b.v;
}

template <int N> static inline __attribute__((always_inline)) void twist(long n)
{
    BURN(n, 0xbf58476d1ce4e5b9ull + N);
}

template <typename T> struct Box {
    static __attribute__((noinline)) void churn(long n)
    {
        twist<3>(n);
        __asm__ volatile("" ::: "memory"); /* keep a caller frame around twist */
    }
};

static long burn_literal_iters;

__attribute__((noinline)) unsigned long long operator"" _burn(unsigned long long k)
{
    BURN(burn_literal_iters, k | 1);
    return k;
}

/* A function only an assembler symbol names: quotes, '<', '&' and "]]>". */
extern "C" void (*const hostile_asm_ptr)(long);
__asm__(".pushsection .text.hostile,\"ax\",@progbits\n"
        ".globl \"hot'quote\\\"<&>]]>\"\n"
        ".type \"hot'quote\\\"<&>]]>\",@function\n"
        "\"hot'quote\\\"<&>]]>\":\n"
        "    .cfi_startproc\n"
        "    mov $1, %rax\n"
        "1:  imul $0x5851f42d, %rax, %rax\n"
        "    add %rdi, %rax\n"
        "    dec %rdi\n"
        "    jnz 1b\n"
        "    ret\n"
        "    .cfi_endproc\n"
        ".size \"hot'quote\\\"<&>]]>\", .-\"hot'quote\\\"<&>]]>\"\n"
        ".popsection\n"
        ".pushsection .data.rel.ro,\"aw\"\n"
        ".globl hostile_asm_ptr\n"
        ".p2align 3\n"
        "hostile_asm_ptr: .quad \"hot'quote\\\"<&>]]>\"\n"
        ".popsection\n");

int main(int argc, char **argv)
{
    double ms = argc > 1 ? atof(argv[1]) : 600;
    double share[4] = {40, 30, 20, 10};
    for (int i = 0; i < 4 && i + 2 < argc; i++)
        share[i] = atof(argv[i + 2]);
    const int rounds = 100;
    long unit[4];
    for (int i = 0; i < 4; i++)
        unit[i] = burn_iters(ms * share[i] / 100.0 / rounds);
    Key a{unit[0]}, b{1};
    int less = 0;
    for (int r = 0; r < rounds; r++) {
        if (unit[0]) less += a < b;
        if (unit[1]) Box<std::map<int, std::string>>::churn(unit[1]);
        if (unit[2]) {
            burn_literal_iters = unit[2];
            less += (int)(1234_burn & 1);
        }
        if (unit[3]) hostile_asm_ptr(unit[3]);
    }
    printf("hostile: %d\n", less);
    return 0;
}
