/* SPDX-License-Identifier: MIT */
/*
 * The STACK record in its shared form (SPROF_FLAG_SHARED_STACKS, see
 * format.h): a stack names the stack defined before it in the same chunk
 * that has the longest run of the same outermost frames, and writes only
 * its other frames. Deep programs (an interpreter's recursion, a compiler's
 * passes) define hundreds of stacks a chunk that differ in a few innermost
 * frames; every chunk defines again the stacks it uses (invariant 3), so
 * these definitions were most of a profile's bytes. A chunk's STACK records
 * come first, in increasing order of id, each id written as the difference
 * from the one before: most stacks are defined again chunk after chunk, and
 * their ids, random in the order of first use, cost a byte or two each.
 *
 * struct sprof_stack_trie finds that stack: a trie of the outermost frames
 * of the stacks defined in the pending chunk, each node (parent, address)
 * owned by the last stack that went through it. Reset it with every chunk.
 * Not for the signal handler: it allocates.
 */
#ifndef SPROF_STACKS_H
#define SPROF_STACKS_H

#include <stdint.h>

#include "buf.h"

struct sprof_trie_node {
    uint64_t addr;
    uint32_t parent; /* node index, or SPROF_TRIE_ROOT */
    uint32_t owner;  /* the id of the last stack added through it */
};

#define SPROF_TRIE_ROOT UINT32_MAX

#define SPROF_HASH_MIX(h, v) ((h) = ((h) ^ (v)) * 0xff51afd7ed558ccdull, (h) ^= (h) >> 32)

/* A hash of a stack's n frames and its flags, never 0: the writer finds a
 * stack it has interned by it, the reader a stack it has read (in memory
 * only: no file holds it). Four chains, each frame in one of them, mixed
 * at the end: a multiply's latency a frame in one chain was the writer's
 * largest cost with 200-frame stacks (317 ns a stack against 93 now; at
 * 10 kHz a third of its CPU; BENCHMARKS.md, session 40). */
static inline uint64_t sprof_stack_hash(const uint64_t *f, uint64_t n, uint64_t flags)
{
    uint64_t a = 0x9e3779b97f4a7c15ull ^ n ^ flags << 32, b = 0xc2b2ae3d27d4eb4full,
             c = 0x165667b19e3779f9ull, d = 0x27d4eb2f165667c5ull, i = 0;
    for (; i + 4 <= n; i += 4) {
        SPROF_HASH_MIX(a, f[i]);
        SPROF_HASH_MIX(b, f[i + 1]);
        SPROF_HASH_MIX(c, f[i + 2]);
        SPROF_HASH_MIX(d, f[i + 3]);
    }
    for (; i < n; i++)
        SPROF_HASH_MIX(a, f[i]);
    SPROF_HASH_MIX(a, b);
    SPROF_HASH_MIX(a, c);
    SPROF_HASH_MIX(a, d);
    return a ? a : 1;
}

struct sprof_stack_trie {
    struct sprof_trie_node *nodes;
    uint32_t *slots; /* hash table of node index + 1; 0: empty */
    uint32_t n, nodes_cap, nslots, max_nodes;
    /* the nodes of the last stack added, outermost first: the next one
     * most often shares many of them, which are then compared in place of
     * looked up */
    uint32_t *path;
    uint32_t path_len, path_cap;
};

/* A trie that holds at most max_nodes nodes: past them a stack is still
 * matched against the others, but not added. */
void sprof_stack_trie_init(struct sprof_stack_trie *t, uint32_t max_nodes);
void sprof_stack_trie_reset(struct sprof_stack_trie *t); /* empties it, keeps memory */
void sprof_stack_trie_release(struct sprof_stack_trie *t);

/* Adds the stack id of frames f[0..n) (f[0] innermost) and returns how many
 * of its outermost frames it shares with a stack added before it, whose id
 * goes to *base (0 frames: *base is unchanged). */
unsigned sprof_stack_trie_add(struct sprof_stack_trie *t, const uint64_t *f, unsigned n,
                              uint32_t id, uint32_t *base);

/* Puts a STACK body in its shared form: stack id (prev_id: the id of the
 * chunk's STACK record before it, 0 for the first; ids increase) of frames
 * f[0..n), whose outermost nshared frames are those of stack base (nshared
 * 0: no base). */
void sprof_put_stack_shared(struct sprof_buf *b, uint32_t id, uint32_t prev_id, unsigned flags,
                            const uint64_t *f, unsigned n, uint32_t base, unsigned nshared);

/* The STACKS record of a chunk (SPROF_FLAG_STACK_COLUMNS, format.h): its
 * stacks' fields by column, and their frames as codes into a list of the
 * record's distinct addresses. A tree-walking interpreter's new stacks
 * differ from their bases in a few frames from a few dozen return addresses;
 * a frame that was a 2-3 byte difference from its neighbour is a 1-byte
 * code, and the columns of ids, depths and bases, each alike within
 * itself, compress better apart than interleaved stack by stack. Reset it
 * with every chunk; not for the signal handler: it allocates. */
struct sprof_stacks_enc {
    struct sprof_buf col[5]; /* did, flags, nown, base, nbase */
    struct sprof_buf addrs;  /* the list of addresses, each from the one before */
    struct sprof_buf codes;  /* the frames' codes */
    struct sprof_buf rec;    /* scratch: the record's body */
    struct sprof_buf depths; /* uint32_t id, depth of each stack added, by id */
    uint64_t count, naddrs, last_addr, last_id;
    /* the list's addresses: open addressing, code (index + 1) 0: empty */
    uint64_t *keys;
    uint32_t *codes_of;
    uint32_t cap;
    int oom;
    int siblings; /* SPROF_FLAG_STACK_SIBLINGS: set by the caller, kept by reset */
};

void sprof_stacks_enc_init(struct sprof_stacks_enc *e);
void sprof_stacks_enc_reset(struct sprof_stacks_enc *e); /* empties it, keeps memory */
void sprof_stacks_enc_release(struct sprof_stacks_enc *e);

/* Adds stack id of frames f[0..n) (ids increase), whose outermost nshared
 * frames are those of stack base, added before it, of frames base_f
 * (nshared 0: no base, base_f unused). */
void sprof_stacks_enc_add(struct sprof_stacks_enc *e, uint32_t id, unsigned flags,
                          const uint64_t *f, unsigned n, uint32_t base, const uint64_t *base_f,
                          unsigned nshared);

/* Appends the STACKS record of the stacks added (none: nothing) to out;
 * -1 if memory ran out on the way (out holds no record then). */
int sprof_stacks_enc_put(struct sprof_stacks_enc *e, struct sprof_buf *out);

/* A sample's stack id as a step (SPROF_FLAG_SAMPLE_ID_STEPS): ids are given
 * in the order of first use, so that where nearly every sample has a stack
 * never seen before (an interpreter running ever new code) an id is most
 * often the greatest of its SAMPLES record so far plus one, written 0,
 * where the ids themselves would be a run of distinct numbers that
 * compresses poorly; any other id is written as itself plus one. *next: one
 * past the greatest id of the record's samples so far, 0 at its start. */
static inline uint64_t sprof_sample_id_put(uint64_t id, uint64_t *next)
{
    uint64_t v = id == *next ? 0 : id + 1;
    if (id >= *next) *next = id + 1;
    return v;
}

/* The id of a step v, *next as for sprof_sample_id_put. */
static inline uint64_t sprof_sample_id_get(uint64_t v, uint64_t *next)
{
    uint64_t id = v ? v - 1 : *next;
    if (id >= *next && id != UINT64_MAX) *next = id + 1; /* else malformed: no id is so large */
    return id;
}

#endif
