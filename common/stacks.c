/* SPDX-License-Identifier: MIT */
#include "stacks.h"

#include <stdlib.h>
#include <string.h>

#include "format.h"

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
        uint32_t *slots = sprof_zalloc(nslots, sizeof(*slots));
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
    /* the shared nodes pass to this stack: the next stack through them
     * names the latest such, most often a few ids back, not the first
     * (from the path held, not up the parents: a chain of loads) */
    struct sprof_trie_node *nodes = t->nodes;
    if (keep_path)
        for (unsigned d = 0; d < depth; d++)
            nodes[t->path[d]].owner = id;
    else
        for (uint32_t x = node; x != SPROF_TRIE_ROOT; x = nodes[x].parent)
            nodes[x].owner = id;
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

void sprof_stacks_enc_init(struct sprof_stacks_enc *e)
{
    memset(e, 0, sizeof(*e));
    for (int k = 0; k < 5; k++)
        sprof_buf_init(&e->col[k]);
    sprof_buf_init(&e->addrs);
    sprof_buf_init(&e->codes);
    sprof_buf_init(&e->rec);
    sprof_buf_init(&e->depths);
}

void sprof_stacks_enc_reset(struct sprof_stacks_enc *e)
{
    for (int k = 0; k < 5; k++)
        sprof_buf_reset(&e->col[k]);
    sprof_buf_reset(&e->addrs);
    sprof_buf_reset(&e->codes);
    sprof_buf_reset(&e->depths);
    if (e->naddrs) memset(e->codes_of, 0, e->cap * sizeof(*e->codes_of));
    e->count = e->naddrs = e->last_addr = e->last_id = 0;
    e->oom = 0;
}

void sprof_stacks_enc_release(struct sprof_stacks_enc *e)
{
    for (int k = 0; k < 5; k++)
        sprof_buf_release(&e->col[k]);
    sprof_buf_release(&e->addrs);
    sprof_buf_release(&e->codes);
    sprof_buf_release(&e->rec);
    sprof_buf_release(&e->depths);
    free(e->keys);
    free(e->codes_of);
    sprof_stacks_enc_init(e);
}

static uint32_t addr_slot(uint64_t addr, uint32_t mask)
{
    return (uint32_t)((addr * 0x9e3779b97f4a7c15ull) >> 32) & mask;
}

/* Room for one more address, the table at most half full. */
static int addrs_grow(struct sprof_stacks_enc *e)
{
    if (2 * (e->naddrs + 1) <= e->cap) return 0;
    uint32_t cap = e->cap ? e->cap * 2 : 1024, mask = cap - 1;
    uint64_t *keys = malloc(cap * sizeof(*keys));
    uint32_t *codes = sprof_zalloc(cap, sizeof(*codes));
    if (!keys || !codes) {
        free(keys);
        free(codes);
        return -1;
    }
    for (uint32_t i = 0; i < e->cap; i++) {
        if (!e->codes_of[i]) continue;
        uint32_t k = addr_slot(e->keys[i], mask);
        while (codes[k])
            k = (k + 1) & mask;
        keys[k] = e->keys[i];
        codes[k] = e->codes_of[i];
    }
    free(e->keys);
    free(e->codes_of);
    e->keys = keys;
    e->codes_of = codes;
    e->cap = cap;
    return 0;
}

/* The code of a frame: k for the list's k-th address, 0 for one new to it,
 * which joins it as the difference from ref. */
static uint64_t addr_code(struct sprof_stacks_enc *e, uint64_t addr, uint64_t ref)
{
    if (e->cap) {
        uint32_t mask = e->cap - 1;
        for (uint32_t k = addr_slot(addr, mask); e->codes_of[k]; k = (k + 1) & mask)
            if (e->keys[k] == addr) return e->codes_of[k];
    }
    if (addrs_grow(e)) {
        e->oom = 1;
        return 0;
    }
    uint32_t mask = e->cap - 1, k = addr_slot(addr, mask);
    while (e->codes_of[k])
        k = (k + 1) & mask;
    e->keys[k] = addr;
    e->codes_of[k] = (uint32_t)++e->naddrs;
    sprof_buf_put_svarint(&e->addrs, (int64_t)(addr - ref));
    e->last_addr = addr;
    return 0;
}

/* The depth of stack id, added before (0 if not: cannot happen). */
static uint32_t depth_of(const struct sprof_stacks_enc *e, uint32_t id)
{
    size_t lo = 0, hi = e->depths.len / 8;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        uint32_t v[2];
        memcpy(v, e->depths.data + 8 * mid, 8);
        if (v[0] == id) return v[1];
        if (v[0] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

void sprof_stacks_enc_add(struct sprof_stacks_enc *e, uint32_t id, unsigned flags,
                          const uint64_t *f, unsigned n, uint32_t base, const uint64_t *base_f,
                          unsigned nshared)
{
    unsigned own = n - nshared, nbase = 0;
    uint32_t depth[2] = {id, n};
    sprof_buf_put(&e->depths, depth, sizeof(depth));
    sprof_buf_put_uvarint(&e->col[0], id - e->last_id);
    sprof_buf_put_uvarint(&e->col[1], flags);
    sprof_buf_put_uvarint(&e->col[2], own);
    if (nshared) {
        /* the base by the smaller of its distance back and its id: an
         * interpreter's stacks most often share with one defined just
         * before, a Python program's with a few early ones */
        uint32_t back = id - base;
        sprof_buf_put_uvarint(&e->col[3],
                              back <= base ? 2 * (uint64_t)back : 2 * (uint64_t)base + 1);
        /* the base's frames it does not share: the base most often differs
         * in a few frames near its leaf, at any depth */
        nbase = depth_of(e, base) - nshared;
        sprof_buf_put_uvarint(&e->col[4], nbase);
    } else {
        sprof_buf_put_uvarint(&e->col[3], 0);
    }
    /* where the stack leaves its base, its frame is most often in the same
     * function as the base's there (a Python program's stacks differ from
     * one another in their leaf's instruction alone): a new address there
     * is a difference from the base's frame (SPROF_FLAG_STACK_SIBLINGS),
     * of a byte or two where the one from the list's last address is 3 */
    for (unsigned i = 0; i < own; i++) {
        uint64_t ref = e->siblings && nbase && i == own - 1 ? base_f[nbase - 1] : e->last_addr;
        sprof_buf_put_uvarint(&e->codes, addr_code(e, f[i], ref));
    }
    e->last_id = id;
    e->count++;
}

int sprof_stacks_enc_put(struct sprof_stacks_enc *e, struct sprof_buf *out)
{
    if (!e->count) return 0;
    struct sprof_buf *rec = &e->rec;
    sprof_buf_reset(rec);
    sprof_buf_put_uvarint(rec, e->count);
    for (int k = 0; k < 5; k++)
        sprof_buf_put(rec, e->col[k].data, e->col[k].len);
    sprof_buf_put_uvarint(rec, e->naddrs);
    sprof_buf_put(rec, e->addrs.data, e->addrs.len);
    sprof_buf_put(rec, e->codes.data, e->codes.len);
    int bad = e->oom || rec->oom || e->addrs.oom || e->codes.oom || e->depths.oom;
    for (int k = 0; k < 5; k++)
        bad |= e->col[k].oom;
    if (bad) return -1;
    sprof_buf_put_record(out, SPROF_REC_STACKS, rec);
    return out->oom ? -1 : 0;
}
