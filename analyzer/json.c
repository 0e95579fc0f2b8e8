/* SPDX-License-Identifier: MIT */
#include "json.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct parser {
    const unsigned char *s, *end, *line_start;
    unsigned line;
    size_t values;
    struct arena *a;
    char *err;
    size_t errlen;
    int failed;
};

static unsigned col_of(const struct parser *ps, const unsigned char *at)
{
    return (unsigned)(at - ps->line_start) + 1;
}

__attribute__((format(printf, 3, 4))) static struct json *
fail_at(struct parser *ps, const unsigned char *at, const char *fmt, ...)
{
    if (ps->failed) return NULL;
    ps->failed = 1;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(ps->err, ps->errlen, "line %u, column %u: %s", ps->line, col_of(ps, at), msg);
    return NULL;
}

/* What the byte at p is, for messages. */
static const char *what_at(const struct parser *ps, const unsigned char *p, char *buf, size_t n)
{
    if (p >= ps->end) return "the end of the text";
    if (*p >= 0x21 && *p < 0x7f)
        snprintf(buf, n, "'%c'", *p);
    else
        snprintf(buf, n, "byte 0x%02x", *p);
    return buf;
}

static void skip_ws(struct parser *ps)
{
    while (ps->s < ps->end) {
        unsigned char c = *ps->s;
        if (c == '\n') {
            ps->line++;
            ps->line_start = ++ps->s;
        } else if (c == ' ' || c == '\t' || c == '\r') {
            ps->s++;
        } else {
            break;
        }
    }
}

static void put_utf8(char *out, size_t *o, uint32_t cp)
{
    if (cp < 0x80) {
        out[(*o)++] = (char)cp;
    } else if (cp < 0x800) {
        out[(*o)++] = (char)(0xc0 | cp >> 6);
        out[(*o)++] = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        out[(*o)++] = (char)(0xe0 | cp >> 12);
        out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[(*o)++] = (char)(0x80 | (cp & 0x3f));
    } else {
        out[(*o)++] = (char)(0xf0 | cp >> 18);
        out[(*o)++] = (char)(0x80 | ((cp >> 12) & 0x3f));
        out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[(*o)++] = (char)(0x80 | (cp & 0x3f));
    }
}

static int hex4(const unsigned char *p, const unsigned char *end, uint32_t *out)
{
    if (end - p < 4) return -1;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (uint32_t)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* At the opening quote. Decodes into the arena; the decoded text is never
 * longer than the encoded one. */
static const char *parse_string(struct parser *ps, size_t *lenp)
{
    const unsigned char *start = ps->s++;
    /* find the closing quote first, to size the copy */
    const unsigned char *q = ps->s;
    while (q < ps->end && *q != '"') {
        if (*q == '\\' && q + 1 < ps->end) q++;
        q++;
    }
    if (q >= ps->end) return fail_at(ps, start, "a string that never ends"), NULL;
    char *out = arena_alloc(ps->a, (size_t)(q - ps->s) + 1);
    size_t o = 0;
    while (ps->s < q) {
        const unsigned char *p = ps->s;
        unsigned char c = *p;
        if (c < 0x20) return fail_at(ps, p, "control character 0x%02x in a string", c), NULL;
        if (c != '\\') {
            size_t n = utf8_seq_len(p, (size_t)(q - p));
            if (!n) return fail_at(ps, p, "invalid UTF-8 (byte 0x%02x) in a string", c), NULL;
            memcpy(out + o, p, n);
            o += n;
            ps->s += n;
            continue;
        }
        c = p[1];
        ps->s += 2;
        switch (c) {
        case '"':
            out[o++] = '"';
            break;
        case '\\':
            out[o++] = '\\';
            break;
        case '/':
            out[o++] = '/';
            break;
        case 'b':
            out[o++] = '\b';
            break;
        case 'f':
            out[o++] = '\f';
            break;
        case 'n':
            out[o++] = '\n';
            break;
        case 'r':
            out[o++] = '\r';
            break;
        case 't':
            out[o++] = '\t';
            break;
        case 'u': {
            uint32_t cp;
            if (hex4(ps->s, q, &cp)) return fail_at(ps, p, "\\u needs four hex digits"), NULL;
            ps->s += 4;
            if (cp >= 0xdc00 && cp <= 0xdfff)
                return fail_at(ps, p, "a lone low surrogate \\u%04x", cp), NULL;
            if (cp >= 0xd800 && cp <= 0xdbff) {
                uint32_t lo;
                if (q - ps->s < 6 || ps->s[0] != '\\' || ps->s[1] != 'u' ||
                    hex4(ps->s + 2, q, &lo) || lo < 0xdc00 || lo > 0xdfff)
                    return fail_at(ps, p, "a high surrogate \\u%04x without its low half", cp),
                           NULL;
                ps->s += 6;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            }
            if (cp == 0) return fail_at(ps, p, "\\u0000 in a string is not supported"), NULL;
            put_utf8(out, &o, cp);
            break;
        }
        default:
            return fail_at(ps, p, "unknown escape '\\%c'", c >= 0x20 && c < 0x7f ? c : '?'), NULL;
        }
    }
    out[o] = 0;
    ps->s = q + 1;
    *lenp = o;
    return out;
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static struct json *parse_number(struct parser *ps, struct json *v)
{
    const unsigned char *p = ps->s, *start = p;
    if (p < ps->end && *p == '-') p++;
    if (p >= ps->end || !is_digit(*p)) return fail_at(ps, start, "a number needs digits");
    if (*p == '0') {
        p++;
        if (p < ps->end && is_digit(*p))
            return fail_at(ps, start, "a number cannot start with 0 and another digit");
    } else {
        while (p < ps->end && is_digit(*p))
            p++;
    }
    if (p < ps->end && *p == '.') {
        p++;
        if (p >= ps->end || !is_digit(*p))
            return fail_at(ps, p, "a digit must follow the decimal point");
        while (p < ps->end && is_digit(*p))
            p++;
    }
    if (p < ps->end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < ps->end && (*p == '+' || *p == '-')) p++;
        if (p >= ps->end || !is_digit(*p)) return fail_at(ps, p, "an exponent needs digits");
        while (p < ps->end && is_digit(*p))
            p++;
    }
    size_t n = (size_t)(p - start);
    char *text = arena_strndup(ps->a, (const char *)start, n);
    v->type = JSON_NUMBER;
    v->str = text;
    v->len = n;
    v->num = strtod(text, NULL); /* out of range: +-HUGE_VAL or 0, which is fine */
    ps->s = p;
    return v;
}

static struct json *parse_value(struct parser *ps, unsigned depth);

static struct json *parse_container(struct parser *ps, struct json *v, unsigned depth)
{
    int object = *ps->s == '{';
    unsigned char close = object ? '}' : ']';
    if (depth >= JSON_MAX_DEPTH)
        return fail_at(ps, ps->s, "nested deeper than %d levels", JSON_MAX_DEPTH);
    v->type = object ? JSON_OBJECT : JSON_ARRAY;
    ps->s++;
    struct json **items = NULL;
    const char **keys = NULL;
    size_t n = 0, cap = 0, kcap = 0;
    char buf[32];
    skip_ws(ps);
    if (ps->s < ps->end && *ps->s == close) {
        ps->s++;
        return v;
    }
    for (;;) {
        skip_ws(ps);
        const char *key = NULL;
        if (object) {
            if (ps->s >= ps->end || *ps->s != '"') {
                fail_at(ps, ps->s, "expected a member name in quotes, found %s",
                        what_at(ps, ps->s, buf, sizeof(buf)));
                goto bad;
            }
            const unsigned char *at = ps->s;
            size_t klen;
            key = parse_string(ps, &klen);
            if (!key) goto bad;
            for (size_t i = 0; i < n; i++)
                if (strcmp(keys[i], key) == 0) {
                    fail_at(ps, at, "duplicate member \"%.60s\"", key);
                    goto bad;
                }
            skip_ws(ps);
            if (ps->s >= ps->end || *ps->s != ':') {
                fail_at(ps, ps->s, "expected ':' after a member name, found %s",
                        what_at(ps, ps->s, buf, sizeof(buf)));
                goto bad;
            }
            ps->s++;
        }
        struct json *item = parse_value(ps, depth + 1);
        if (!item) goto bad;
        GROW(items, cap, n + 1);
        if (object) {
            GROW(keys, kcap, n + 1);
            keys[n] = key;
        }
        items[n++] = item;
        skip_ws(ps);
        if (ps->s < ps->end && *ps->s == ',') {
            ps->s++;
            continue;
        }
        if (ps->s < ps->end && *ps->s == close) {
            ps->s++;
            break;
        }
        fail_at(ps, ps->s, "expected ',' or '%c', found %s", close,
                what_at(ps, ps->s, buf, sizeof(buf)));
        goto bad;
    }
    v->n = n;
    v->items = arena_alloc(ps->a, n * sizeof(*items));
    memcpy(v->items, items, n * sizeof(*items));
    if (object) {
        v->keys = arena_alloc(ps->a, n * sizeof(*keys));
        memcpy(v->keys, keys, n * sizeof(*keys));
    }
    free(items);
    free(keys);
    return v;
bad:
    free(items);
    free(keys);
    return NULL;
}

static int literal(struct parser *ps, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->s) < n || memcmp(ps->s, word, n) != 0) return 0;
    ps->s += n;
    return 1;
}

static struct json *parse_value(struct parser *ps, unsigned depth)
{
    skip_ws(ps);
    if (++ps->values > JSON_MAX_VALUES)
        return fail_at(ps, ps->s, "more than %d values", JSON_MAX_VALUES);
    struct json *v = arena_alloc(ps->a, sizeof(*v));
    memset(v, 0, sizeof(*v));
    v->line = ps->line;
    v->col = col_of(ps, ps->s);
    char buf[32];
    if (ps->s >= ps->end) return fail_at(ps, ps->s, "expected a value, found the end of the text");
    switch (*ps->s) {
    case '{':
    case '[':
        return parse_container(ps, v, depth);
    case '"':
        v->type = JSON_STRING;
        v->str = parse_string(ps, &v->len);
        return v->str ? v : NULL;
    case 't':
        if (!literal(ps, "true")) break;
        v->type = JSON_TRUE;
        return v;
    case 'f':
        if (!literal(ps, "false")) break;
        v->type = JSON_FALSE;
        return v;
    case 'n':
        if (!literal(ps, "null")) break;
        v->type = JSON_NULL;
        return v;
    default:
        if (*ps->s == '-' || is_digit(*ps->s)) return parse_number(ps, v);
        break;
    }
    return fail_at(ps, ps->s, "expected a value, found %s", what_at(ps, ps->s, buf, sizeof(buf)));
}

struct json *json_parse(const char *text, size_t len, struct arena *a, char *err, size_t errlen)
{
    struct parser ps = {
        .s = (const unsigned char *)text,
        .end = (const unsigned char *)text + len,
        .line_start = (const unsigned char *)text,
        .line = 1,
        .a = a,
        .err = err,
        .errlen = errlen,
    };
    if (errlen) err[0] = 0;
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
        return fail_at(&ps, ps.s, "a byte order mark is not allowed");
    struct json *root = parse_value(&ps, 0);
    if (!root) return NULL;
    skip_ws(&ps);
    if (ps.s < ps.end) {
        char buf[32];
        return fail_at(&ps, ps.s, "%s after the end of the value",
                       what_at(&ps, ps.s, buf, sizeof(buf)));
    }
    return root;
}

const struct json *json_member(const struct json *obj, const char *key)
{
    if (!obj || obj->type != JSON_OBJECT) return NULL;
    for (size_t i = 0; i < obj->n; i++)
        if (strcmp(obj->keys[i], key) == 0) return obj->items[i];
    return NULL;
}

int json_uint(const struct json *v, uint64_t *out)
{
    if (!v || v->type != JSON_NUMBER || !v->len) return -1;
    uint64_t x = 0;
    for (size_t i = 0; i < v->len; i++) {
        char c = v->str[i];
        if (c < '0' || c > '9') return -1;
        uint64_t d = (uint64_t)(c - '0');
        if (x > (UINT64_MAX - d) / 10) return -1;
        x = x * 10 + d;
    }
    *out = x;
    return 0;
}

const char *json_type_name(enum json_type t)
{
    switch (t) {
    case JSON_NULL:
        return "null";
    case JSON_FALSE:
    case JSON_TRUE:
        return "a boolean";
    case JSON_NUMBER:
        return "a number";
    case JSON_STRING:
        return "a string";
    case JSON_ARRAY:
        return "an array";
    case JSON_OBJECT:
        return "an object";
    }
    return "a value";
}

void json_put_string(FILE *out, const char *s, unsigned flags)
{
    size_t left = strlen(s);
    putc('"', out);
    while (left) {
        unsigned char c = (unsigned char)*s;
        size_t n = utf8_seq_len(s, left);
        if (!n) {
            fputs("\\ufffd", out);
            n = 1;
        } else if (c == '"') {
            fputs("\\\"", out);
        } else if (c == '\\') {
            fputs("\\\\", out);
        } else if (c == '\n') {
            fputs("\\n", out);
        } else if (c == '\t') {
            fputs("\\t", out);
        } else if (c == '\r') {
            fputs("\\r", out);
        } else if (c < 0x20 || c == 0x7f ||
                   ((flags & JSON_ESCAPE_MARKUP) && (c == '<' || c == '>' || c == '&'))) {
            fprintf(out, "\\u%04x", c);
        } else {
            fwrite(s, 1, n, out);
        }
        s += n;
        left -= n;
    }
    putc('"', out);
}

void json_put_double(FILE *out, double v)
{
    if (!isfinite(v)) {
        fputs("null", out);
        return;
    }
    char buf[64];
    /* the shortest of %.15g and %.17g that reads back the same */
    snprintf(buf, sizeof(buf), "%.15g", v);
    if (strtod(buf, NULL) != v) snprintf(buf, sizeof(buf), "%.17g", v);
    fputs(buf, out);
}
