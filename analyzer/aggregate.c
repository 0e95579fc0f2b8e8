/* SPDX-License-Identifier: MIT */
#include "aggregate.h"

#include <stdlib.h>
#include <string.h>

struct sp_agg *sp_aggregate(const struct sp_profile *p, sp_agg_row_fn row_of, void *ctx,
                            size_t *nrows)
{
    /* samples and weight per symbolic stack first: a stack is walked once */
    uint64_t *cnt = xcalloc(p->nstacks ? p->nstacks : 1, sizeof(*cnt));
    uint64_t *wt = xcalloc(p->nstacks ? p->nstacks : 1, sizeof(*wt));
    for (size_t i = 0; i < p->nsamples; i++) {
        if (i + 16 < p->nsamples && p->samples[i + 16].sym < p->nstacks) {
            __builtin_prefetch(&cnt[p->samples[i + 16].sym], 1);
            __builtin_prefetch(&wt[p->samples[i + 16].sym], 1);
        }
        uint32_t s = p->samples[i].sym;
        if (s >= p->nstacks) continue; /* not symbolized */
        cnt[s]++;
        wt[s] += p->samples[i].weight_ns;
    }
    struct sp_agg *rows = NULL;
    uint32_t *stamp = NULL; /* per row: the last stack counted in total, + 1 */
    size_t n = 0, cap = 0, stamp_cap = 0;
    /* per frame: its row, SP_NONE until row_of is asked */
    size_t nf = p->nsframes ? p->nsframes : 1;
    uint32_t *frame_row = xmalloc(nf * sizeof(*frame_row));
    memset(frame_row, 0xff, nf * sizeof(*frame_row));
    for (size_t s = 0; s < p->nstacks; s++) {
        const struct sp_stack *st = &p->stacks[s];
        if (!cnt[s] || !st->n) continue;
        const uint32_t *fr = p->stack_frames + st->off;
        for (uint32_t i = 0; i < st->n; i++) {
            uint32_t ri = frame_row[fr[i]];
            if (ri == SP_NONE) ri = frame_row[fr[i]] = row_of(ctx, fr[i]);
            if (ri >= n) {
                GROW(rows, cap, (size_t)ri + 1);
                GROW(stamp, stamp_cap, (size_t)ri + 1);
                memset(rows + n, 0, ((size_t)ri + 1 - n) * sizeof(*rows));
                memset(stamp + n, 0, ((size_t)ri + 1 - n) * sizeof(*stamp));
                n = (size_t)ri + 1;
            }
            struct sp_agg *r = &rows[ri];
            if (i == st->n - 1) {
                r->self += cnt[s];
                r->self_ns += wt[s];
            }
            if (stamp[ri] == s + 1) continue; /* recursion: once per stack */
            stamp[ri] = (uint32_t)s + 1;
            r->total += cnt[s];
            r->total_ns += wt[s];
        }
    }
    free(cnt);
    free(wt);
    free(stamp);
    free(frame_row);
    *nrows = n;
    return rows;
}

static uint32_t func_row(void *ctx, uint32_t fr)
{
    const struct sp_profile *p = ctx;
    return p->sframes[fr].func;
}

struct sp_agg *sp_aggregate_funcs(const struct sp_profile *p)
{
    size_t n, nf = p->nfuncs ? p->nfuncs : 1;
    struct sp_agg *rows = sp_aggregate(p, func_row, (void *)p, &n);
    if (n < nf) {
        rows = xreallocarray(rows, nf, sizeof(*rows));
        memset(rows + n, 0, (nf - n) * sizeof(*rows));
    }
    return rows;
}
