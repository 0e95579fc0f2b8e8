/* SPDX-License-Identifier: MIT */
/*
 * Self and total aggregation over the symbolic stacks of a profile, shared
 * by the reports that put one row per function (or line, or module): flat,
 * baseline, check, diff, json and annotate.
 *
 * Self counts the samples whose leaf frame falls in a row; total counts the
 * samples with the row anywhere on the stack, once per sample even when the
 * row occurs several times on it (recursion). Both also sum the samples'
 * weights (CPU nanoseconds).
 */
#ifndef SPROF_AGGREGATE_H
#define SPROF_AGGREGATE_H

#include <stddef.h>
#include <stdint.h>

#include "profile.h"

struct sp_agg {
    uint64_t self, total;       /* samples */
    uint64_t self_ns, total_ns; /* their summed weight */
};

/* Chooses the row of frame fr (an id into p->sframes). Rows are numbered
 * densely by the caller: 0, 1, 2, ..., a new row getting the next number.
 * It is asked once per frame, the first time a stack holds it; the row of
 * a frame never changes. */
typedef uint32_t (*sp_agg_row_fn)(void *ctx, uint32_t fr);

/* Aggregates every sample of p (which sp_symbolize has symbolized) into the
 * rows that row_of chooses. Returns an array of *nrows cells, indexed by
 * row number, that the caller frees (NULL when there are no rows). */
struct sp_agg *sp_aggregate(const struct sp_profile *p, sp_agg_row_fn row_of, void *ctx,
                            size_t *nrows);

/* sp_aggregate with one row per function: returns an array indexed like
 * p->funcs (p->nfuncs cells, at least one allocated, zero for a function
 * no sample has) that the caller frees. */
struct sp_agg *sp_aggregate_funcs(const struct sp_profile *p);

#endif
