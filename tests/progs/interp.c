/* SPDX-License-Identifier: MIT */
/*
 * interp: a tree-walking evaluator, the shape of an interpreter's profile:
 * eval() recurses through a random expression tree 14 levels deep and
 * dispatches on each node to op_add, op_mul or op_pick, each calling eval
 * on its operands from its own call sites; the CPU is burnt in leaf_work at
 * the leaves. The stacks are many (every path through the tree is one) and
 * deep, and share their outermost frames (main, run, the first evals).
 *
 * Usage: interp MS   evaluates the tree until about MS ms of CPU are used.
 *        interp -c MS   the same, then prints how many evaluations that was
 *                       and the iterations of a leaf: "EVALS ITERS"
 *        interp -n EVALS ITERS   a fixed amount of work: EVALS evaluations,
 *                       ITERS iterations a leaf (a benchmark's runs under
 *                       different profilers must do the same work, where
 *                       MS and the leaf's calibration would shrink it)
 * Expected profile: leaf_work has most of the self time, under 15 eval
 * frames (the root's and 14 levels').
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "burn.h"

#define DEPTH 14

struct node {
    int op; /* 0 leaf, 1 add, 2 mul, 3 pick */
    struct node *a, *b;
};

static long leaf_iters;
static uint64_t rng = 0x853c49e6748fea9bull;

static unsigned next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng >> 11);
}

static struct node *build(int depth)
{
    struct node *n = calloc(1, sizeof(*n));
    if (!n) exit(1);
    if (depth == 0) return n;
    n->op = 1 + (int)(next_rand() % 3);
    n->a = build(depth - 1);
    n->b = build(depth - 1);
    return n;
}

long eval(const struct node *n);

__attribute__((noinline)) long leaf_work(void)
{
    BURN(leaf_iters, 0x2545f4914f6cdd1dull);
    return 1;
}

__attribute__((noinline)) long op_add(const struct node *n)
{
    long r = eval(n->a);
    return r + eval(n->b);
}

__attribute__((noinline)) long op_mul(const struct node *n)
{
    long r = eval(n->a);
    return r * (eval(n->b) | 1);
}

__attribute__((noinline)) long op_pick(const struct node *n)
{
    long r = eval(n->a) & 1 ? eval(n->b) : eval(n->a);
    return r + 1;
}

__attribute__((noinline)) long eval(const struct node *n)
{
    long r;
    switch (n->op) {
    case 1: r = op_add(n); break;
    case 2: r = op_mul(n); break;
    case 3: r = op_pick(n); break;
    default: r = leaf_work(); break;
    }
    __asm__ volatile("" : : "r"(r) : "memory"); /* not a tail call */
    return r;
}

/* Evaluates root until ms of CPU are used (evals 0) or evals times. */
__attribute__((noinline)) long run(const struct node *root, double ms, long evals, long *done)
{
    long sum = 0, k = 0;
    double start = burn_cpu_ms();
    for (; evals ? k < evals : burn_cpu_ms() - start < ms; k++)
        sum += eval(root);
    *done = k;
    return sum;
}

int main(int argc, char **argv)
{
    int calibrate = argc > 2 && strcmp(argv[1], "-c") == 0;
    int fixed = argc > 3 && strcmp(argv[1], "-n") == 0;
    double ms = calibrate ? atof(argv[2]) : argc > 1 && !fixed ? atof(argv[1]) : 1000;
    long evals = fixed ? atol(argv[2]) : 0, done;
    leaf_iters = fixed ? atol(argv[3]) : burn_iters(0.005); /* 5 us a leaf */
    struct node *root = build(DEPTH);
    long sum = run(root, ms, evals, &done);
    if (calibrate)
        printf("%ld %ld\n", done, leaf_iters);
    else
        printf("interp: %ld\n", sum != 0);
    return 0;
}
