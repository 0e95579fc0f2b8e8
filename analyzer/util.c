/* SPDX-License-Identifier: MIT */
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#ifdef __GLIBC__
#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>
#endif

#include "log.h"

static void oom(size_t n) __attribute__((noreturn));
static void oom(size_t n)
{
    sprof_err("out of memory (allocating %zu bytes)", n);
    exit(2);
}

/* ---- the analyzer's memory on huge pages ----
 * Reading a profile builds tables of about 150 bytes a sample, and libdw
 * decompresses the debug sections it reads (libc's: 9.5 MiB) and builds
 * its own tables over them: each 4 KiB page of that costs a page fault at
 * its first touch, 44,500 of them in a flat report of a million samples,
 * 6,300 in one of a few thousand; on a virtual machine, where a fault
 * costs 10 us or more, half the report's time (BENCHMARKS.md). Transparent
 * huge pages in "madvise" mode (Debian's default) give memory the program
 * advised one fault per 2 MiB. glibc advises its heap only under its
 * glibc.malloc.hugetlb tunable, which a program cannot set for itself; so
 * here every allocation of the C library's comes from the heap of the
 * main arena (no block gets a mapping of its own, no thread an arena of
 * its own; the largest arrays have mappings of ours, grow_big), the heap
 * grows 256 MiB at a time (address space, not memory) and is not given
 * back before exit, and each growth is advised as the allocation functions
 * below see it. Not where the address space or the data segment is
 * limited, where a growth of 256 MiB could fail. */
#ifdef __GLIBC__
static int huge;
static uintptr_t heap_lo, heap_advised;

void mem_use_huge_pages(void)
{
    struct rlimit as, data;
    if (huge || getrlimit(RLIMIT_AS, &as) || getrlimit(RLIMIT_DATA, &data) ||
        as.rlim_cur != RLIM_INFINITY || data.rlim_cur != RLIM_INFINITY || !mallopt(M_MMAP_MAX, 0))
        return;
    mallopt(M_ARENA_MAX, 1);
    mallopt(M_TOP_PAD, 256 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    heap_lo = heap_advised = (uintptr_t)sbrk(0) & ~(uintptr_t)4095;
    huge = 1;
}

static void advise_growth(void)
{
    if (!huge) return;
    uintptr_t hi = (uintptr_t)sbrk(0);
    if (hi <= heap_advised) return;
    madvise((void *)heap_lo, hi - heap_lo, MADV_HUGEPAGE);
    heap_advised = hi;
}
#else
void mem_use_huge_pages(void) {}
static void advise_growth(void) {}
#endif

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) oom(n);
    advise_growth();
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) oom(n * size);
    advise_growth();
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) oom(n);
    advise_growth();
    return q;
}

void *xreallocarray(void *p, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) oom(SIZE_MAX);
    return xrealloc(p, n * size);
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
    char *r = xmalloc(n + 1);
    memcpy(r, s, n);
    r[n] = 0;
    return r;
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    char *s = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* The capacity, doubled from cap (16 at first), that holds need elements
 * of size bytes. */
static size_t doubled(size_t cap, size_t need, size_t size)
{
    size_t c = cap ? cap : 16;
    while (c < need) {
        if (c > SIZE_MAX / 2 / size) oom(SIZE_MAX);
        c *= 2;
    }
    return c;
}

void grow_array(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap) return;
    size_t c = doubled(*cap, need, size);
    *p = xreallocarray(*p, c, size);
    *cap = c;
}

/* ---- arrays that grow large ----
 * A profile's frames, stacks and samples: 100 MiB and more for a million
 * samples. Once past BIG_BYTES an array has a mapping of its own, advised
 * for huge pages (mem_use_huge_pages: one fault per 2 MiB), and grows by
 * mremap, which moves its page tables where growing it in the heap would
 * copy it and leave the old block behind (info of a million samples: 188
 * MiB of RSS with the three arrays in the heap, BENCHMARKS.md). Whether a
 * block is mapped follows from its size alone, whatever the heap does. */
#if defined(__SANITIZE_ADDRESS__)
#define ASAN_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASAN_BUILD 1
#endif
#endif
#ifdef ASAN_BUILD
/* every array in the heap, where AddressSanitizer checks what lies past
 * its end */
#define BIG_BYTES SIZE_MAX
#else
#define BIG_BYTES ((size_t)2 << 20)
#endif

/* Whole huge pages: the kernel puts a mapping of whole ones at an address
 * a huge page can back, a mapping of 3 MiB anywhere. */
static size_t big_len(size_t cap, size_t size)
{
    size_t n = cap * size;
    return n < BIG_BYTES ? n : (n + BIG_BYTES - 1) & ~(size_t)(BIG_BYTES - 1);
}

void grow_big(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap) return;
    size_t c = doubled(*cap, need, size);
    size_t was = big_len(*cap, size), len = big_len(c, size);
    if (len < BIG_BYTES) {
        *p = xreallocarray(*p, c, size);
        *cap = c;
        return;
    }
    void *q;
    if (was >= BIG_BYTES) {
        q = mremap(*p, was, len, MREMAP_MAYMOVE);
    } else {
        q = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (q != MAP_FAILED) {
            madvise(q, len, MADV_HUGEPAGE);
            if (*cap) memcpy(q, *p, *cap * size);
            free(*p);
        }
    }
    if (q == MAP_FAILED) oom(len);
    *p = q;
    *cap = c;
}

void free_big(void *p, size_t cap, size_t size)
{
    size_t len = big_len(cap, size);
    if (len < BIG_BYTES)
        free(p);
    else
        munmap(p, len);
}

size_t utf8_seq_len(const void *str, size_t n)
{
    const unsigned char *s = str;
    unsigned char c = s[0];
    if (c < 0x80) return 1;
    size_t len;
    uint32_t cp, min;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
        min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
        min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
        min = 0x10000;
    } else {
        return 0; /* continuation byte, overlong lead, or beyond U+10FFFF */
    }
    if (n < len) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0; /* also stops at a NUL */
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return len;
}

/* ---- hashing ---- */

uint64_t hash_bytes(const void *p, size_t n, uint64_t seed)
{
    /* FNV-1a over 8-byte words, finished with a strong mix */
    const uint8_t *b = p;
    uint64_t h = 0xcbf29ce484222325ull ^ seed ^ (n * 0x9e3779b97f4a7c15ull);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, b, 8);
        h = (h ^ w) * 0x100000001b3ull;
        h ^= h >> 29;
        b += 8;
        n -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, b, n);
    h = (h ^ w) * 0x100000001b3ull;
    return hash_u64(h);
}

/* ---- arena ---- */

struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    _Alignas(8) unsigned char data[];
};

#define ARENA_BLOCK (64u * 1024u)

void *arena_alloc(struct arena *a, size_t n)
{
    n = (n + 7) & ~(size_t)7;
    struct arena_block *b = a->blocks;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > ARENA_BLOCK / 4 ? n : ARENA_BLOCK;
        if (cap > SIZE_MAX - sizeof(*b)) oom(SIZE_MAX);
        b = xmalloc(sizeof(*b) + cap);
        b->used = 0;
        b->cap = cap;
        if (n > ARENA_BLOCK / 4 && a->blocks) {
            /* a big one: keep filling the current block afterwards */
            b->next = a->blocks->next;
            a->blocks->next = b;
        } else {
            b->next = a->blocks;
            a->blocks = b;
        }
    }
    void *p = b->data + b->used;
    b->used += n;
    return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
    char *r = arena_alloc(a, n + 1);
    memcpy(r, s, n);
    r[n] = 0;
    return r;
}

char *arena_strdup(struct arena *a, const char *s)
{
    return arena_strndup(a, s, strlen(s));
}

void arena_release(struct arena *a)
{
    struct arena_block *b = a->blocks;
    while (b) {
        struct arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->blocks = NULL;
}

/* ---- u64map ---- */

struct u64map_slot {
    uint64_t k1, k2, v;
    uint64_t used;
};

static size_t slot_of(uint64_t k1, uint64_t k2, size_t cap)
{
    return (size_t)(hash_mix(hash_u64(k1), k2) & (cap - 1));
}

uint64_t *u64map_get(const struct u64map *m, uint64_t k1, uint64_t k2)
{
    if (!m->cap) return NULL;
    for (size_t i = slot_of(k1, k2, m->cap);; i = (i + 1) & (m->cap - 1)) {
        struct u64map_slot *s = &m->slots[i];
        if (!s->used) return NULL;
        if (s->k1 == k1 && s->k2 == k2) return &s->v;
    }
}

static void u64map_grow(struct u64map *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    struct u64map_slot *t = xcalloc(cap, sizeof(*t));
    for (size_t i = 0; i < m->cap; i++) {
        struct u64map_slot *s = &m->slots[i];
        if (!s->used) continue;
        size_t k = slot_of(s->k1, s->k2, cap);
        while (t[k].used)
            k = (k + 1) & (cap - 1);
        t[k] = *s;
    }
    free(m->slots);
    m->slots = t;
    m->cap = cap;
}

uint64_t *u64map_put(struct u64map *m, uint64_t k1, uint64_t k2, uint64_t v, int *added)
{
    if ((m->n + 1) * 4 >= m->cap * 3) u64map_grow(m);
    size_t i = slot_of(k1, k2, m->cap);
    for (;; i = (i + 1) & (m->cap - 1)) {
        struct u64map_slot *s = &m->slots[i];
        if (!s->used) break;
        if (s->k1 == k1 && s->k2 == k2) {
            if (added) *added = 0;
            return &s->v;
        }
    }
    struct u64map_slot *s = &m->slots[i];
    s->k1 = k1;
    s->k2 = k2;
    s->v = v;
    s->used = 1;
    m->n++;
    if (added) *added = 1;
    return &s->v;
}

void u64map_release(struct u64map *m)
{
    free(m->slots);
    m->slots = NULL;
    m->cap = m->n = 0;
}

/* ---- idset ---- */

/* A slot holds the high half of an id's hash << 32 | the id, and that half
 * also chooses the slot, so that growing needs nothing but the slots. */
#define IDSET_EMPTY UINT64_MAX /* id IDSET_NONE */

static size_t idset_home(uint64_t h, size_t cap)
{
    return (size_t)(h >> 32) & (cap - 1);
}

uint32_t idset_next(const struct idset *s, uint64_t h, size_t *pos)
{
    if (!s->cap) return IDSET_NONE;
    uint64_t hi = h >> 32;
    for (size_t i = *pos;; i = (i + 1) & (s->cap - 1)) {
        uint64_t e = s->slots[i];
        if (e == IDSET_EMPTY) {
            *pos = i;
            return IDSET_NONE;
        }
        if (e >> 32 == hi) {
            *pos = (i + 1) & (s->cap - 1);
            return (uint32_t)e;
        }
    }
}

uint32_t idset_first(const struct idset *s, uint64_t h, size_t *pos)
{
    *pos = s->cap ? idset_home(h, s->cap) : 0;
    return idset_next(s, h, pos);
}

static void idset_place(uint64_t *slots, size_t cap, uint64_t e)
{
    size_t i = idset_home(e, cap);
    while (slots[i] != IDSET_EMPTY)
        i = (i + 1) & (cap - 1);
    slots[i] = e;
}

void idset_insert(struct idset *s, uint64_t h, uint32_t id)
{
    if ((s->n + 1) * 4 >= s->cap * 3) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        uint64_t *slots = xreallocarray(NULL, cap, sizeof(*slots));
        memset(slots, 0xff, cap * sizeof(*slots));
        for (size_t i = 0; i < s->cap; i++)
            if (s->slots[i] != IDSET_EMPTY) idset_place(slots, cap, s->slots[i]);
        free(s->slots);
        s->slots = slots;
        s->cap = cap;
    }
    idset_place(s->slots, s->cap, (h >> 32) << 32 | id);
    s->n++;
}

void idset_release(struct idset *s)
{
    free(s->slots);
    memset(s, 0, sizeof(*s));
}

/* ---- strtab ---- */

const char *strtab_intern_n(struct strtab *t, const char *s, size_t n)
{
    uint64_t h = hash_bytes(s, n, 0);
    size_t pos;
    for (uint32_t id = idset_first(&t->set, h, &pos); id != IDSET_NONE;
         id = idset_next(&t->set, h, &pos)) {
        const char *c = t->strs[id];
        if (strncmp(c, s, n) == 0 && c[n] == 0) return c;
    }
    char *c = arena_strndup(&t->arena, s, n);
    GROW(t->strs, t->cap, t->n + 1);
    t->strs[t->n] = c;
    idset_insert(&t->set, h, (uint32_t)t->n);
    t->n++;
    return c;
}

const char *strtab_intern(struct strtab *t, const char *s)
{
    return strtab_intern_n(t, s, strlen(s));
}

void strtab_release(struct strtab *t)
{
    arena_release(&t->arena);
    idset_release(&t->set);
    free(t->strs);
    memset(t, 0, sizeof(*t));
}

const char *path_basename(const char *path)
{
    const char *s = strrchr(path, '/');
    return s && s[1] ? s + 1 : path;
}
