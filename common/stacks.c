/* SPDX-License-Identifier: MIT */
#include "stacks.h"

#include <stdlib.h>
#include <string.h>

void sprof_stack_trie_init(struct sprof_stack_trie *t, uint32_t max_nodes)
{
    memset(t, 0, sizeof(*t));
    t->max_nodes = max_nodes;
}

void sprof_stack_trie_reset(struct sprof_stack_trie *t)
{
    if (t->n) memset(t->slots, 0, t->nslots * sizeof(*t->slots));
    t->n = 0;
    t->path_len = 0;
}

void sprof_stack_trie_release(struct sprof_stack_trie *t)
{
    free(t->nodes);
    free(t->slots);
    free(t->path);
    sprof_stack_trie_init(t, t->max_nodes);
}

static uint32_t slot_of(uint32_t parent, uint64_t addr, uint32_t mask)
{
    uint64_t h = (addr ^ ((uint64_t)parent << 32 | parent)) * 0x9e3779b97f4a7c15ull;
    return (uint32_t)(h >> 32) & mask;
}

static uint32_t find(const struct sprof_stack_trie *t, uint32_t parent, uint64_t addr)
{
    if (!t->nslots) return SPROF_TRIE_ROOT;
    uint32_t mask = t->nslots - 1;
    for (uint32_t k = slot_of(parent, addr, mask); t->slots[k]; k = (k + 1) & mask) {
        const struct sprof_trie_node *x = &t->nodes[t->slots[k] - 1];
        if (x->addr == addr && x->parent == parent) return t->slots[k] - 1;
    }
    return SPROF_TRIE_ROOT;
}

/* Room for one more node, the table at most half full. */
static int grow(struct sprof_stack_trie *t)
{
    if (t->n >= t->max_nodes) return -1;
    if (t->n == t->nodes_cap) {
        uint32_t cap = t->nodes_cap ? t->nodes_cap * 2 : 256;
        if (cap > t->max_nodes) cap = t->max_nodes;
        struct sprof_trie_node *nodes = realloc(t->nodes, cap * sizeof(*nodes));
        if (!nodes) return -1;
        t->nodes = nodes;
        t->nodes_cap = cap;
    }
    if (2 * (t->n + 1) > t->nslots) {
        uint32_t nslots = t->nslots ? t->nslots * 2 : 512, mask = nslots - 1;
        uint32_t *slots = calloc(nslots, sizeof(*slots));
        if (!slots) return -1;
        for (uint32_t i = 0; i < t->n; i++) {
            uint32_t k = slot_of(t->nodes[i].parent, t->nodes[i].addr, mask);
            while (slots[k])
                k = (k + 1) & mask;
            slots[k] = i + 1;
        }
        free(t->slots);
        t->slots = slots;
        t->nslots = nslots;
    }
    return 0;
}

unsigned sprof_stack_trie_add(struct sprof_stack_trie *t, const uint64_t *f, unsigned n,
                              uint32_t id, uint32_t *base)
{
    if (n > t->path_cap) {
        uint32_t *path = realloc(t->path, n * sizeof(*path));
        if (path) {
            t->path = path;
            t->path_cap = n;
        }
    }
    int keep_path = n <= t->path_cap;
    uint32_t node = SPROF_TRIE_ROOT;
    unsigned depth = 0;
    /* the outer frames the last stack added has too, then the others */
    if (keep_path)
        for (; depth < n && depth < t->path_len; depth++) {
            if (t->nodes[t->path[depth]].addr != f[n - 1 - depth]) break;
            node = t->path[depth];
        }
    for (; depth < n; depth++) {
        uint32_t next = find(t, node, f[n - 1 - depth]);
        if (next == SPROF_TRIE_ROOT) break;
        node = next;
        if (keep_path) t->path[depth] = node;
    }
    if (depth) *base = t->nodes[node].owner;
    unsigned i = depth;
    for (; i < n && grow(t) == 0; i++) {
        uint32_t k = slot_of(node, f[n - 1 - i], t->nslots - 1);
        while (t->slots[k])
            k = (k + 1) & (t->nslots - 1);
        t->nodes[t->n] = (struct sprof_trie_node){f[n - 1 - i], node, id};
        t->slots[k] = ++t->n;
        node = t->n - 1;
        if (keep_path) t->path[i] = node;
    }
    t->path_len = keep_path ? i : 0;
    return depth;
}

void sprof_put_stack_shared(struct sprof_buf *b, uint32_t id, uint32_t prev_id, unsigned flags,
                            const uint64_t *f, unsigned n, uint32_t base, unsigned nshared)
{
    unsigned own = n - nshared;
    sprof_buf_put_uvarint(b, id - prev_id);
    sprof_buf_put_uvarint(b, flags);
    sprof_buf_put_uvarint(b, own);
    sprof_buf_put_uvarint(b, nshared ? (uint64_t)base + 1 : 0);
    if (nshared) sprof_buf_put_uvarint(b, nshared);
    for (unsigned i = 0; i < own; i++) {
        if (i == 0)
            sprof_buf_put_uvarint(b, f[0]);
        else
            sprof_buf_put_svarint(b, (int64_t)(f[i] - f[i - 1]));
    }
}
