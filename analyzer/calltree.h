/* SPDX-License-Identifier: MIT */
/*
 * The call tree of a profile's samples, shared by the reports that draw
 * one (tree, json, flamegraph).
 *
 * Contract:
 * - calltree_build() reads p->samples as they are after filter_apply() and
 *   sp_symbolize() (it symbolizes nothing itself; p must be symbolized), and
 *   aggregates once per distinct symbolic stack weighted by its samples.
 * - Node 0 is the root: it stands for all samples (func SP_NONE, depth 0,
 *   total = every sample, self 0). Every other node is one function at one
 *   path from the root: the same function under another caller is another
 *   node, and recursion gives one node per level, so no sample is counted
 *   twice in a node. An inlined call is a node of its own (inlined = 1), not
 *   merged with a real call of the same function at the same place.
 * - Top-down (inverted = 0): depth 1 holds the outermost frames (_start,
 *   thread entry points), children are callees; self counts the samples
 *   whose leaf is the node, total the samples whose stack passes through
 *   it; a node's total is its self plus its children's totals.
 * - Inverted (bottom-up, inverted = 1): the stacks are read leaf first:
 *   depth 1 holds the leaf functions (their total is the function's self
 *   samples in the top-down sense), children are callers; self counts the
 *   samples whose stack ends (its outermost frame) at the node.
 * - *_ns are the same sums over the samples' CPU time (weights).
 * - Children of a node are t->kids[node.kids .. node.kids + node.nkids),
 *   sorted by the order given: CALLTREE_BY_TOTAL (total samples, largest
 *   first, then name) or CALLTREE_BY_NAME (function name, then module,
 *   inlined last: the left-to-right order of a flame graph). Ties are broken
 *   so that the order is deterministic.
 * - The tree holds function indexes into p->funcs: p must outlive it. The
 *   caller owns t and frees it with calltree_release().
 */
#ifndef SPROF_CALLTREE_H
#define SPROF_CALLTREE_H

#include <stddef.h>
#include <stdint.h>

#include "profile.h"

enum calltree_order { CALLTREE_BY_TOTAL, CALLTREE_BY_NAME };

struct ct_node {
    uint32_t func;    /* index into p->funcs; SP_NONE for the root */
    uint32_t inlined; /* 1: the frame is an inlined call */
    uint32_t parent;  /* SP_NONE for the root */
    uint32_t depth;   /* 0 for the root */
    uint32_t kids, nkids;
    uint64_t self, total;       /* samples */
    uint64_t self_ns, total_ns; /* CPU time in ns */
};

struct calltree {
    struct ct_node *nodes; /* nodes[0] is the root */
    size_t nnodes, cap;
    uint32_t *kids; /* child node indexes, grouped by parent */
    int inverted;
    uint32_t max_depth; /* deepest node's depth */
    /* (parent, func, inlined) -> node: open addressing over the high half
     * of the key's hash << 32 | the node index (0 empty: the root is no
     * one's child), the key itself read from the node */
    uint64_t *ix;
    size_t ix_cap;
};

/* Builds the tree of p's samples into t (which it initializes). */
void calltree_build(struct calltree *t, const struct sp_profile *p, int inverted,
                    enum calltree_order order);

/* The child of node with function func (and inlined flag), or SP_NONE. */
uint32_t calltree_child(const struct calltree *t, uint32_t node, uint32_t func, uint32_t inlined);

/* Frees what t holds; accepts a zeroed or released t. */
void calltree_release(struct calltree *t);

#endif
