/* SPDX-License-Identifier: MIT */
#include "buf.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void sprof_buf_init(struct sprof_buf *b)
{
    memset(b, 0, sizeof(*b));
}

void sprof_buf_release(struct sprof_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}

void *sprof_zalloc(size_t nmemb, size_t size)
{
    /* not malloc and memset, which compilers make a calloc: a zero written
     * to each page (calloc's own zeros, or a fresh page's); the overflow
     * tested here, where a sanitizer's calloc would abort */
    if (size && nmemb > SIZE_MAX / size) return NULL;
    volatile uint8_t *p = calloc(nmemb, size);
    size_t n = nmemb * size;
    if (p && n) {
        for (size_t i = 0; i < n; i += 4096)
            p[i] = 0;
        p[n - 1] = 0;
    }
    return (void *)p;
}

int sprof_buf_reserve(struct sprof_buf *b, size_t extra)
{
    if (b->oom) return -1;
    if (b->cap - b->len >= extra) return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < extra) {
        if (cap > SIZE_MAX / 2) {
            b->oom = 1;
            return -1;
        }
        cap *= 2;
    }
    uint8_t *d = realloc(b->data, cap);
    if (!d) {
        b->oom = 1;
        return -1;
    }
    b->data = d;
    b->cap = cap;
    return 0;
}

void sprof_buf_put(struct sprof_buf *b, const void *p, size_t n)
{
    if (n == 0 || sprof_buf_reserve(b, n)) return;
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void sprof_buf_put_u8(struct sprof_buf *b, uint8_t v)
{
    sprof_buf_put(b, &v, 1);
}

void sprof_buf_put_le16(struct sprof_buf *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    sprof_buf_put(b, x, 2);
}

void sprof_buf_put_le32(struct sprof_buf *b, uint32_t v)
{
    uint8_t x[4];
    for (int i = 0; i < 4; i++)
        x[i] = (uint8_t)(v >> (8 * i));
    sprof_buf_put(b, x, 4);
}

void sprof_buf_put_le64(struct sprof_buf *b, uint64_t v)
{
    sprof_buf_put_le32(b, (uint32_t)v);
    sprof_buf_put_le32(b, (uint32_t)(v >> 32));
}

size_t sprof_uvarint_encode(uint8_t *out, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

void sprof_buf_put_uvarint(struct sprof_buf *b, uint64_t v)
{
    if (sprof_buf_reserve(b, 10)) return;
    b->len += sprof_uvarint_encode(b->data + b->len, v);
}

void sprof_buf_put_svarint(struct sprof_buf *b, int64_t v)
{
    sprof_buf_put_uvarint(b, sprof_zigzag(v));
}

void sprof_buf_put_bytes(struct sprof_buf *b, const void *p, size_t n)
{
    sprof_buf_put_uvarint(b, n);
    sprof_buf_put(b, p, n);
}

void sprof_buf_put_str(struct sprof_buf *b, const char *s)
{
    sprof_buf_put_bytes(b, s, s ? strlen(s) : 0);
}

void sprof_buf_put_record(struct sprof_buf *b, unsigned type, const struct sprof_buf *body)
{
    sprof_buf_put_uvarint(b, type);
    sprof_buf_put_bytes(b, body->data, body->len);
}

int sprof_get_uvarint(struct sprof_cur *c, uint64_t *v)
{
    uint64_t r = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (c->p >= c->end) return -1;
        uint8_t x = *c->p++;
        if (shift == 63 && x > 1) return -1; /* would overflow 64 bits */
        r |= (uint64_t)(x & 0x7f) << shift;
        if (!(x & 0x80)) {
            *v = r;
            return 0;
        }
    }
    return -1;
}

int sprof_get_svarint(struct sprof_cur *c, int64_t *v)
{
    uint64_t u;
    if (sprof_get_uvarint(c, &u)) return -1;
    *v = sprof_unzigzag(u);
    return 0;
}

int sprof_get_u32(struct sprof_cur *c, uint32_t *v)
{
    uint64_t u;
    if (sprof_get_uvarint(c, &u) || u > UINT32_MAX) return -1;
    *v = (uint32_t)u;
    return 0;
}

int sprof_get_bytes(struct sprof_cur *c, const uint8_t **p, size_t *n)
{
    uint64_t len;
    if (sprof_get_uvarint(c, &len) || len > sprof_cur_left(c)) return -1;
    *p = c->p;
    *n = (size_t)len;
    c->p += len;
    return 0;
}

int sprof_get_strdup(struct sprof_cur *c, char **s)
{
    const uint8_t *p;
    size_t n;
    if (sprof_get_bytes(c, &p, &n) || memchr(p, 0, n)) return -1;
    char *r = malloc(n + 1);
    if (!r) return -1;
    memcpy(r, p, n);
    r[n] = 0;
    *s = r;
    return 0;
}

int sprof_get_record(struct sprof_cur *c, unsigned *type, struct sprof_cur *body)
{
    uint64_t t;
    const uint8_t *p;
    size_t n;
    if (sprof_get_uvarint(c, &t) || t > UINT32_MAX || sprof_get_bytes(c, &p, &n)) return -1;
    *type = (unsigned)t;
    sprof_cur_init(body, p, n);
    return 0;
}

/* cold: run at a preload's start (preload/sprof.h, SPROF_ONCE) */
__attribute__((cold)) int sprof_concat(char *buf, size_t n, ...)
{
    va_list ap;
    va_start(ap, n);
    size_t len = 0;
    int r = 0;
    for (const char *s; (s = va_arg(ap, const char *));) {
        size_t k = strlen(s);
        if (k >= n - len) {
            r = -1;
            break;
        }
        memcpy(buf + len, s, k);
        len += k;
    }
    va_end(ap);
    if (n) buf[r ? 0 : len] = 0;
    return r;
}

const char *sprof_fmt_u64(char *out, uint64_t v, unsigned base, unsigned width)
{
    char d[24];
    unsigned k = 0;
    do {
        d[k++] = "0123456789abcdef"[v % base];
        v /= base;
    } while ((v || k < width) && k < 20);
    for (unsigned i = 0; i < k; i++)
        out[i] = d[k - 1 - i];
    out[k] = 0;
    return out;
}

__attribute__((cold)) int sprof_parse_u64(const char *s, unsigned base, uint64_t *out)
{
    uint64_t v = 0;
    if (!*s) return -1;
    for (; *s; s++) {
        unsigned d;
        if (*s >= '0' && *s <= '9')
            d = (unsigned)(*s - '0');
        else if (*s >= 'a' && *s <= 'f')
            d = (unsigned)(*s - 'a' + 10);
        else if (*s >= 'A' && *s <= 'F')
            d = (unsigned)(*s - 'A' + 10);
        else
            return -1;
        if (d >= base || v > (UINT64_MAX - d) / base) return -1;
        v = v * base + d;
    }
    *out = v;
    return 0;
}
