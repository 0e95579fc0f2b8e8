/* SPDX-License-Identifier: MIT */
/*
 * Small building blocks of the analyzer: allocation that dies on failure,
 * growable arrays, an arena for strings, string interning and hash tables.
 *
 * Allocation failure in the analyzer is not recoverable in any useful way,
 * so xmalloc and friends print one line and exit 2 ("only main may die" is
 * relaxed for out-of-memory, as in git). Every free function accepts NULL or
 * a zeroed structure.
 */
#ifndef SPROF_UTIL_H
#define SPROF_UTIL_H

#include <stddef.h>
#include <stdint.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
/* xrealloc of n elements of size bytes, checking the multiplication */
void *xreallocarray(void *p, size_t n, size_t size);
/* Before reading profiles: the memory allocated from then on on
 * transparent huge pages where the system allows (util.c says how). */
void mem_use_huge_pages(void);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a new allocation the caller owns */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Makes room for at least need elements in *p (capacity *cap, in elements
 * of size bytes), doubling. */
void grow_array(void **p, size_t *cap, size_t need, size_t size);
#define GROW(arr, cap, need) grow_array((void **)&(arr), &(cap), (need), sizeof(*(arr)))

/* GROW for arrays that may reach megabytes, freed with FREE_BIG and its
 * capacity, never with free or realloc (util.c says why). */
void grow_big(void **p, size_t *cap, size_t need, size_t size);
void free_big(void *p, size_t cap, size_t size);
#define GROW_BIG(arr, cap, need) grow_big((void **)&(arr), &(cap), (need), sizeof(*(arr)))
#define FREE_BIG(arr, cap) free_big((arr), (cap), sizeof(*(arr)))

/* Length of the valid UTF-8 sequence at s (1 to 4 bytes), or 0 when the
 * bytes there are not one (stray continuation byte, overlong form,
 * surrogate, beyond U+10FFFF, cut short). s holds at least one byte; n is
 * how many are left. A NUL ends a sequence, so for a C string any n that
 * reaches its end will do. Noncharacters such as U+FFFE are valid UTF-8:
 * writers of formats that exclude them (XML) check for them themselves. */
size_t utf8_seq_len(const void *s, size_t n);

/* ---- hashing ---- */

uint64_t hash_bytes(const void *p, size_t n, uint64_t seed);
static inline uint64_t hash_u64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}
static inline uint64_t hash_mix(uint64_t h, uint64_t x)
{
    return hash_u64(h ^ (x + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2)));
}

/* ---- arena: many small allocations freed together ---- */

struct arena {
    struct arena_block *blocks;
};

void *arena_alloc(struct arena *a, size_t n); /* 8-byte aligned, never NULL */
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
void arena_release(struct arena *a);

/* ---- map from a pair of 64-bit keys to a 64-bit value ---- */

struct u64map {
    struct u64map_slot *slots;
    size_t cap, n;
};

/* Returns a pointer to the value for (k1, k2), or NULL when absent. The
 * pointer is valid until the next insertion. */
uint64_t *u64map_get(const struct u64map *m, uint64_t k1, uint64_t k2);
/* Returns a pointer to the value for (k1, k2), inserting it with value v
 * when absent (*added tells which, if not NULL). */
uint64_t *u64map_put(struct u64map *m, uint64_t k1, uint64_t k2, uint64_t v, int *added);
void u64map_release(struct u64map *m);

/* ---- set of 32-bit ids, hashed by the caller ----
 *
 * For interning records that live in a caller's array: the set stores the
 * id and part of its hash, in one word (one cache miss a probe); the caller
 * compares candidates. Iterate with idset_first/idset_next over the ids
 * whose stored hash matches h (rarely, one whose full hash differs). */
struct idset {
    uint64_t *slots; /* the hash's high half << 32 | id; id UINT32_MAX: empty */
    size_t cap, n;
};

#define IDSET_NONE UINT32_MAX
/* Slot cursor: start with idset_first, continue with idset_next; both return
 * IDSET_NONE when no candidates remain. */
uint32_t idset_first(const struct idset *s, uint64_t h, size_t *pos);
uint32_t idset_next(const struct idset *s, uint64_t h, size_t *pos);
void idset_insert(struct idset *s, uint64_t h, uint32_t id);
void idset_release(struct idset *s);

/* ---- string interning ---- */

struct strtab {
    struct arena arena;
    struct idset set;
    const char **strs;
    size_t n, cap;
};

/* Returns the one stable copy of s (valid until strtab_release). */
const char *strtab_intern(struct strtab *t, const char *s);
const char *strtab_intern_n(struct strtab *t, const char *s, size_t n);
void strtab_release(struct strtab *t);

/* The part of a path after the last '/' (the path itself if none). */
const char *path_basename(const char *path);

#endif
