/* SPDX-License-Identifier: MIT */
/*
 * A workload for unwinders: recursion through functions whose frames differ
 * in every way the call frame information can describe them, built -O2
 * without frame pointers:
 *   um_plain   a few pushes, rsp-based CFA
 *   um_regs    six callee-saved registers live across the call
 *   um_big     a 20 KiB frame (stack probes, a large CFA offset)
 *   um_vla     a variable-length array: rbp-based CFA
 *   um_align   a 64-byte aligned local: the stack is realigned, the CFA is
 *              read from memory (DW_CFA_def_cfa_expression)
 *   um_ptr     a call through a function pointer
 *   um_qsort   libc's qsort, whose comparator goes on recursing: the stack
 *              passes through libc's frames
 * Which function comes next is drawn from the seed, so stacks mix them all;
 * at the bottom um_leaf burns CPU (about 2 us a call). Used by
 * tests/progs/unwindme.c (the profiled program) and tests/tools/cfi-check.c.
 */
#ifndef SPROF_TEST_UNWINDME_H
#define SPROF_TEST_UNWINDME_H

#include <alloca.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define UM_NOINLINE __attribute__((noinline, noclone))

typedef uint64_t (*um_fn)(int depth, uint64_t seed);

static volatile uint64_t um_sink;
static long um_leaf_iters = 2000;

static uint64_t um_next(int depth, uint64_t seed);

UM_NOINLINE uint64_t um_leaf(uint64_t seed)
{
    uint64_t x = seed | 1;
    for (long i = 0; i < um_leaf_iters; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        x ^= x >> 29;
    }
    return x;
}

UM_NOINLINE uint64_t um_plain(int depth, uint64_t seed)
{
    uint64_t r = um_next(depth - 1, seed * 31 + 1);
    return r ^ (seed >> 3);
}

UM_NOINLINE uint64_t um_regs(int depth, uint64_t seed)
{
    uint64_t a = seed * 3, b = seed ^ 0x55, c = seed + 7, d = seed >> 1, e = seed << 2,
             f = seed * 11;
    uint64_t r = um_next(depth - 1, seed * 17 + 3);
    return r + (a ^ b) * (c | d) - (e & f) + a * f;
}

UM_NOINLINE uint64_t um_big(int depth, uint64_t seed)
{
    volatile unsigned char buf[20000];
    buf[seed % sizeof(buf)] = (unsigned char)seed;
    uint64_t r = um_next(depth - 1, seed * 13 + 5);
    return r + buf[(seed >> 7) % sizeof(buf)];
}

UM_NOINLINE uint64_t um_vla(int depth, uint64_t seed)
{
    size_t n = 16 + (size_t)(seed % 64);
    volatile unsigned char *p = alloca(n);
    p[0] = (unsigned char)seed;
    p[n - 1] = (unsigned char)(seed >> 8);
    uint64_t r = um_next(depth - 1, seed * 7 + 9);
    return r + p[0] + p[n - 1];
}

UM_NOINLINE uint64_t um_align(int depth, uint64_t seed)
{
    _Alignas(64) volatile uint64_t v[8];
    v[seed % 8] = seed;
    uint64_t r = um_next(depth - 1, seed * 5 + 11);
    return r + v[seed % 8] + (uint64_t)(uintptr_t)&v[0] % 64;
}

static um_fn um_indirect;

UM_NOINLINE uint64_t um_ptr(int depth, uint64_t seed)
{
    um_fn f = um_indirect;
    uint64_t r = f(depth - 1, seed * 19 + 13);
    return r * 3;
}

/* qsort's comparator goes one level deeper for the first comparison of
 * each sort, so the stack below it goes on through libc. */
static __thread int um_sort_depth;
static __thread uint64_t um_sort_seed, um_sort_result;
static __thread int um_sort_first;

static int um_cmp(const void *a, const void *b)
{
    if (um_sort_first) {
        um_sort_first = 0;
        um_sort_result = um_next(um_sort_depth, um_sort_seed);
    }
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

UM_NOINLINE uint64_t um_qsort(int depth, uint64_t seed)
{
    uint64_t v[12];
    for (int i = 0; i < 12; i++)
        v[i] = (seed * (uint64_t)(i + 1)) ^ (seed >> i);
    int saved_depth = um_sort_depth, saved_first = um_sort_first;
    uint64_t saved_seed = um_sort_seed;
    um_sort_depth = depth - 1;
    um_sort_seed = seed * 23 + 17;
    um_sort_first = 1;
    qsort(v, 12, sizeof(v[0]), um_cmp);
    uint64_t r = um_sort_result;
    um_sort_depth = saved_depth;
    um_sort_first = saved_first;
    um_sort_seed = saved_seed;
    return r + v[0];
}

static const um_fn um_fns[] = {um_plain, um_regs, um_big, um_vla, um_align, um_ptr, um_qsort};
#define UM_NFNS (sizeof(um_fns) / sizeof(um_fns[0]))

static uint64_t um_next(int depth, uint64_t seed)
{
    if (depth <= 0) return um_leaf(seed);
    seed ^= seed >> 31;
    seed *= 0x9e3779b97f4a7c15ull;
    return um_fns[(seed >> 40) % UM_NFNS](depth, seed);
}

/* One call of the workload: depth frames of the functions above, then
 * um_leaf. */
UM_NOINLINE uint64_t um_run(int depth, uint64_t seed)
{
    um_indirect = um_plain;
    uint64_t r = um_next(depth, seed);
    um_sink += r;
    return r;
}

#endif
