/* SPDX-License-Identifier: MIT */
#include "calltree.h"

#include <stdlib.h>
#include <string.h>

static uint64_t node_hash(uint32_t parent, uint32_t func, uint32_t inlined)
{
    return hash_u64((uint64_t)parent << 32 ^ (uint64_t)func << 1 ^ inlined);
}

static uint32_t node_find(const struct calltree *t, uint32_t parent, uint32_t func,
                          uint32_t inlined, size_t *slot)
{
    uint64_t h = node_hash(parent, func, inlined), tag = h >> 32 << 32;
    for (size_t i = h & (t->ix_cap - 1);; i = (i + 1) & (t->ix_cap - 1)) {
        uint64_t e = t->ix[i];
        if (!e) {
            *slot = i;
            return SP_NONE;
        }
        if ((e & ~0xffffffffull) != tag) continue;
        const struct ct_node *n = &t->nodes[(uint32_t)e];
        if (n->parent == parent && n->func == func && n->inlined == inlined) return (uint32_t)e;
    }
}

static void ix_grow(struct calltree *t)
{
    size_t cap = t->ix_cap ? t->ix_cap * 2 : 1024;
    uint64_t *ix = xcalloc(cap, sizeof(*ix));
    for (size_t i = 0; i < t->ix_cap; i++) {
        uint64_t e = t->ix[i];
        if (!e) continue;
        const struct ct_node *n = &t->nodes[(uint32_t)e];
        size_t k = node_hash(n->parent, n->func, n->inlined) & (cap - 1);
        while (ix[k])
            k = (k + 1) & (cap - 1);
        ix[k] = e;
    }
    free(t->ix);
    t->ix = ix;
    t->ix_cap = cap;
}

static uint32_t node_get(struct calltree *t, uint32_t parent, uint32_t func, uint32_t inlined)
{
    if ((t->nnodes + 1) * 2 > t->ix_cap) ix_grow(t);
    size_t slot;
    uint32_t id = node_find(t, parent, func, inlined, &slot);
    if (id != SP_NONE) return id;
    GROW_BIG(t->nodes, t->cap, t->nnodes + 1);
    struct ct_node *n = &t->nodes[t->nnodes];
    memset(n, 0, sizeof(*n));
    n->func = func;
    n->inlined = inlined;
    n->parent = parent;
    n->depth = t->nodes[parent].depth + 1;
    if (n->depth > t->max_depth) t->max_depth = n->depth;
    t->ix[slot] = node_hash(parent, func, inlined) >> 32 << 32 | t->nnodes;
    return (uint32_t)t->nnodes++;
}

struct sort_ctx {
    const struct calltree *t;
    const struct sp_profile *p;
    enum calltree_order order;
};

static int by_name(const struct sort_ctx *c, const struct ct_node *x, const struct ct_node *y)
{
    const struct sp_func *fx = &c->p->funcs[x->func], *fy = &c->p->funcs[y->func];
    int r = strcmp(fx->name, fy->name);
    if (!r) r = strcmp(fx->module, fy->module);
    if (!r) r = strcmp(fx->file, fy->file);
    if (!r && x->inlined != y->inlined) r = x->inlined < y->inlined ? -1 : 1;
    if (!r && x->func != y->func) r = x->func < y->func ? -1 : 1;
    return r;
}

static int kid_cmp(const void *a, const void *b, void *arg)
{
    const struct sort_ctx *c = arg;
    const struct ct_node *x = &c->t->nodes[*(const uint32_t *)a];
    const struct ct_node *y = &c->t->nodes[*(const uint32_t *)b];
    if (c->order == CALLTREE_BY_TOTAL && x->total != y->total) return x->total > y->total ? -1 : 1;
    return by_name(c, x, y);
}

void calltree_build(struct calltree *t, const struct sp_profile *p, int inverted,
                    enum calltree_order order)
{
    memset(t, 0, sizeof(*t));
    t->inverted = inverted;
    GROW_BIG(t->nodes, t->cap, 1);
    memset(&t->nodes[0], 0, sizeof(t->nodes[0]));
    t->nodes[0].func = SP_NONE;
    t->nodes[0].parent = SP_NONE;
    t->nnodes = 1;

    /* samples and weight per distinct stack: the tree is walked once per
     * stack, not once per sample */
    size_t ns = p->nstacks ? p->nstacks : 1;
    uint64_t *cnt = xcalloc(ns, sizeof(*cnt)), *wt = xcalloc(ns, sizeof(*wt));
    for (size_t i = 0; i < p->nsamples; i++) {
        cnt[p->samples[i].sym]++;
        wt[p->samples[i].sym] += p->samples[i].weight_ns;
    }
    /* path[i]: the node at depth i + 1 of the stack walked last, where the
     * next stack, which often shares its first frames, starts looking */
    uint32_t *path = NULL;
    uint64_t *keys = NULL;
    size_t path_cap = 0, keys_cap = 0, npath = 0;
    for (size_t s = 0; s < p->nstacks; s++) {
        if (!cnt[s]) continue;
        const struct sp_stack *st = &p->stacks[s];
        const uint32_t *fr = p->stack_frames + st->off;
        uint32_t node = 0;
        t->nodes[0].total += cnt[s];
        t->nodes[0].total_ns += wt[s];
        GROW(path, path_cap, st->n);
        GROW(keys, keys_cap, st->n);
        for (uint32_t i = 0; i < st->n; i++) {
            const struct sp_frame *f = &p->sframes[fr[inverted ? st->n - 1 - i : i]];
            uint64_t key = (uint64_t)f->func << 1 | (f->inlined ? 1 : 0);
            if (i < npath && keys[i] == key) {
                node = path[i];
            } else {
                node = node_get(t, node, f->func, f->inlined ? 1 : 0);
                keys[i] = key;
                path[i] = node;
                npath = i + 1; /* what follows was another path */
            }
            t->nodes[node].total += cnt[s];
            t->nodes[node].total_ns += wt[s];
        }
        npath = st->n;
        t->nodes[node].self += cnt[s];
        t->nodes[node].self_ns += wt[s];
    }
    free(path);
    free(keys);
    free(cnt);
    free(wt);

    /* children grouped by parent: count, place, sort */
    t->kids = xmalloc(t->nnodes * sizeof(*t->kids));
    for (size_t i = 1; i < t->nnodes; i++)
        t->nodes[t->nodes[i].parent].nkids++;
    uint32_t at = 0;
    for (size_t i = 0; i < t->nnodes; i++) {
        t->nodes[i].kids = at;
        at += t->nodes[i].nkids;
        t->nodes[i].nkids = 0;
    }
    for (size_t i = 1; i < t->nnodes; i++) {
        struct ct_node *par = &t->nodes[t->nodes[i].parent];
        t->kids[par->kids + par->nkids++] = (uint32_t)i;
    }
    struct sort_ctx c = {t, p, order};
    for (size_t i = 0; i < t->nnodes; i++)
        if (t->nodes[i].nkids > 1)
            qsort_r(t->kids + t->nodes[i].kids, t->nodes[i].nkids, sizeof(*t->kids), kid_cmp, &c);
}

uint32_t calltree_child(const struct calltree *t, uint32_t node, uint32_t func, uint32_t inlined)
{
    size_t slot;
    return t->ix_cap ? node_find(t, node, func, inlined ? 1 : 0, &slot) : SP_NONE;
}

void calltree_release(struct calltree *t)
{
    if (!t) return;
    FREE_BIG(t->nodes, t->cap);
    free(t->kids);
    free(t->ix);
    memset(t, 0, sizeof(*t));
}
