/* SPDX-License-Identifier: MIT */
/*
 * Byte buffers and the varint encodings of the profile format.
 *
 * struct sprof_buf is a growable output buffer (not for the signal handler:
 * it allocates). struct sprof_cur reads from memory it does not own and never
 * reads past its end: every getter returns 0 on success, -1 when the input is
 * short or malformed, and leaves the cursor unusable after a failure.
 */
#ifndef SPROF_BUF_H
#define SPROF_BUF_H

#include <stddef.h>
#include <stdint.h>

struct sprof_buf {
    uint8_t *data;
    size_t len, cap;
    int oom; /* set once an allocation failed; later puts do nothing */
};

void sprof_buf_init(struct sprof_buf *b);
void sprof_buf_release(struct sprof_buf *b); /* frees; accepts a zeroed buf */
/* len = 0, keeps memory; inline: a child of fork resets its buffers
 * first thing, and a call would run code on a page of its own */
static inline void sprof_buf_reset(struct sprof_buf *b)
{
    b->len = 0;
}
int sprof_buf_reserve(struct sprof_buf *b, size_t extra);
void sprof_buf_put(struct sprof_buf *b, const void *p, size_t n);
void sprof_buf_put_u8(struct sprof_buf *b, uint8_t v);
void sprof_buf_put_le16(struct sprof_buf *b, uint16_t v);
void sprof_buf_put_le32(struct sprof_buf *b, uint32_t v);
void sprof_buf_put_le64(struct sprof_buf *b, uint64_t v);
void sprof_buf_put_uvarint(struct sprof_buf *b, uint64_t v);
void sprof_buf_put_svarint(struct sprof_buf *b, int64_t v);
/* uvarint length, then the bytes; a NULL string is written as empty */
void sprof_buf_put_str(struct sprof_buf *b, const char *s);
void sprof_buf_put_bytes(struct sprof_buf *b, const void *p, size_t n);
/* Appends a record: uvarint type, uvarint body length, body. */
void sprof_buf_put_record(struct sprof_buf *b, unsigned type, const struct sprof_buf *body);

/* calloc for a table probed before it is written: nmemb * size zeroed
 * bytes, or NULL. calloc leaves fresh memory as the kernel gave it, and a
 * probe's read maps its zero page, which the first write then replaces: a
 * copy-on-write that flushes the TLB of every CPU the process runs on, an
 * interrupt to each of the program's running threads (on a VM, an exit to
 * the host each). Writing the zeros first takes each page in one fault. */
void *sprof_zalloc(size_t nmemb, size_t size);

/* Encodes v into out (at least 10 bytes); returns the number of bytes used. */
size_t sprof_uvarint_encode(uint8_t *out, uint64_t v);

static inline uint64_t sprof_zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}
static inline int64_t sprof_unzigzag(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

struct sprof_cur {
    const uint8_t *p, *end;
};

static inline void sprof_cur_init(struct sprof_cur *c, const void *p, size_t n)
{
    c->p = p;
    c->end = c->p + n;
}
static inline size_t sprof_cur_left(const struct sprof_cur *c)
{
    return (size_t)(c->end - c->p);
}
int sprof_get_uvarint(struct sprof_cur *c, uint64_t *v);
int sprof_get_svarint(struct sprof_cur *c, int64_t *v);
/* A uvarint that must fit in 32 bits. */
int sprof_get_u32(struct sprof_cur *c, uint32_t *v);
/* Points *p at n bytes inside the input (not terminated); no copy. */
int sprof_get_bytes(struct sprof_cur *c, const uint8_t **p, size_t *n);
/* A length-prefixed string copied into a new NUL-terminated allocation,
 * which the caller owns. Embedded NULs are rejected. */
int sprof_get_strdup(struct sprof_cur *c, char **s);
/* Reads one record header; *body is a cursor over its body. */
int sprof_get_record(struct sprof_cur *c, unsigned *type, struct sprof_cur *body);

/* Strings without printf, for the preload: libc's formatting code is pages
 * that a program which never prints has not faulted in (4 page faults of a
 * /bin/true started under sprof). sprof_concat: buf (of size n) = the
 * strings up to a NULL, one after the other; 0, or -1 (buf then empty)
 * when they do not fit. sprof_fmt_u64: v in decimal (base 10) or lowercase
 * hexadecimal (16), at least width digits (at most 20), into out (24 bytes
 * or more); returns out. sprof_parse_u64: the reverse, for a whole string
 * of digits (lowercase or uppercase in base 16, no sign, no space); 0, or -1
 * for anything else or a number over UINT64_MAX. */
int sprof_concat(char *buf, size_t n, ...) __attribute__((sentinel));
const char *sprof_fmt_u64(char *out, uint64_t v, unsigned base, unsigned width);
int sprof_parse_u64(const char *s, unsigned base, uint64_t *out);

static inline uint16_t sprof_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}
static inline uint32_t sprof_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t sprof_le64(const uint8_t *p)
{
    return (uint64_t)sprof_le32(p) | (uint64_t)sprof_le32(p + 4) << 32;
}

#endif
