/* SPDX-License-Identifier: MIT */
#include "demangle.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* From the C++ runtime (linked with -lstdc++). */
char *__cxa_demangle(const char *mangled, char *out, size_t *len, int *status);

/* ---- legacy Rust ---- */

static const struct {
    const char *esc, *rep;
} rust_escapes[] = {
    {"$SP$", "@"}, {"$BP$", "*"}, {"$RF$", "&"}, {"$LT$", "<"},
    {"$GT$", ">"}, {"$LP$", "("}, {"$RP$", ")"}, {"$C$", ","},
};

/* Legacy Rust symbols demangle as C++ with a trailing "::h" and 16 hex
 * digits of hash; strips the hash and undoes Rust's escapes in place.
 * Leaves anything else alone. */
static void rust_legacy_fix(char *d)
{
    size_t n = strlen(d);
    if (n < 19 || memcmp(d + n - 19, "::h", 3) != 0) return;
    for (size_t i = n - 16; i < n; i++)
        if (!isxdigit((unsigned char)d[i])) return;
    d[n - 19] = 0;
    char *out = d;
    int seg_start = 1;
    for (const char *in = d; *in;) {
        if (seg_start && in[0] == '_' && in[1] == '$') in++;
        seg_start = 0;
        if ((in[0] == '.' && in[1] == '.') || (in[0] == ':' && in[1] == ':')) {
            *out++ = ':';
            *out++ = ':';
            in += 2;
            seg_start = 1;
            continue;
        }
        if (in[0] == '$') {
            size_t k, nesc = sizeof(rust_escapes) / sizeof(rust_escapes[0]);
            for (k = 0; k < nesc; k++) {
                size_t len = strlen(rust_escapes[k].esc);
                if (strncmp(in, rust_escapes[k].esc, len) == 0) {
                    *out++ = rust_escapes[k].rep[0];
                    in += len;
                    break;
                }
            }
            if (k < nesc) continue;
            unsigned v;
            int used = 0;
            if (in[1] == 'u' && sscanf(in + 2, "%2x$%n", &v, &used) == 1 && used == 3 &&
                v >= 0x20 && v < 0x7f) {
                *out++ = (char)v;
                in += 5;
                continue;
            }
        }
        *out++ = *in++;
    }
    *out = 0;
}

/* ---- Rust v0 ---- */

struct v0 {
    const char *s; /* after "_R" */
    size_t n, pos;
    char *out;
    size_t len, cap;
    int quiet; /* > 0: parse without printing */
    int depth;
    int err;
};

#define V0_MAX_DEPTH 64

static void put(struct v0 *v, const char *s, size_t n)
{
    if (v->quiet || v->err) return;
    GROW(v->out, v->cap, v->len + n + 1);
    memcpy(v->out + v->len, s, n);
    v->len += n;
    v->out[v->len] = 0;
}

static void puts_(struct v0 *v, const char *s)
{
    put(v, s, strlen(s));
}

static int peek(const struct v0 *v)
{
    return v->pos < v->n ? (unsigned char)v->s[v->pos] : 0;
}

static int eat(struct v0 *v, int c)
{
    if (peek(v) != c) return 0;
    v->pos++;
    return 1;
}

static int next(struct v0 *v)
{
    if (v->pos >= v->n) {
        v->err = 1;
        return 0;
    }
    return (unsigned char)v->s[v->pos++];
}

/* base-62-number: "_" is 0, else digits then "_" is value + 1. */
static uint64_t base62(struct v0 *v)
{
    if (eat(v, '_')) return 0;
    uint64_t x = 0;
    for (;;) {
        int c = next(v);
        if (v->err) return 0;
        if (c == '_') break;
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'z' ? c - 'a' + 10
                : c >= 'A' && c <= 'Z' ? c - 'A' + 36
                                       : -1;
        if (d < 0 || x > (UINT64_MAX - 62) / 62) {
            v->err = 1;
            return 0;
        }
        x = x * 62 + (uint64_t)d;
    }
    return x + 1;
}

static uint64_t disambiguator(struct v0 *v)
{
    return eat(v, 's') ? base62(v) + 1 : 0;
}

static uint64_t decimal(struct v0 *v)
{
    if (!isdigit(peek(v))) {
        v->err = 1;
        return 0;
    }
    uint64_t x = 0;
    while (isdigit(peek(v))) {
        if (x > UINT64_MAX / 10 - 10) {
            v->err = 1;
            return 0;
        }
        x = x * 10 + (uint64_t)(next(v) - '0');
    }
    return x;
}

/* undisambiguated-identifier; points *p at its bytes */
static void ident(struct v0 *v, const char **p, size_t *len)
{
    eat(v, 'u'); /* punycode: printed as encoded */
    uint64_t n = decimal(v);
    eat(v, '_');
    if (v->err || n > v->n - v->pos) {
        v->err = 1;
        *p = "";
        *len = 0;
        return;
    }
    *p = v->s + v->pos;
    *len = (size_t)n;
    v->pos += (size_t)n;
}

static void path(struct v0 *v, int in_value);
static void type(struct v0 *v);

static int enter(struct v0 *v)
{
    if (++v->depth > V0_MAX_DEPTH) v->err = 1;
    return !v->err;
}

/* Runs f at the position a backref names, then comes back. */
static void backref(struct v0 *v, void (*f)(struct v0 *, int), int arg)
{
    size_t at = v->pos - 1; /* the 'B' */
    uint64_t to = base62(v);
    if (v->err || to >= at) { /* backrefs point strictly backwards */
        v->err = 1;
        return;
    }
    size_t save = v->pos;
    v->pos = (size_t)to;
    f(v, arg);
    v->pos = save;
}

static void path_cb(struct v0 *v, int in_value)
{
    path(v, in_value);
}

static void type_cb(struct v0 *v, int unused)
{
    (void)unused;
    type(v);
}

static void lifetime(struct v0 *v)
{
    base62(v);
    puts_(v, "'_");
}

static void konst(struct v0 *v);

static void konst_cb(struct v0 *v, int unused)
{
    (void)unused;
    konst(v);
}

static void konst(struct v0 *v)
{
    int c = peek(v);
    if (c == 'p') {
        v->pos++;
        puts_(v, "_");
        return;
    }
    if (c == 'B') {
        v->pos++;
        backref(v, konst_cb, 0);
        return;
    }
    int t = next(v);
    int neg = eat(v, 'n');
    uint64_t x = 0;
    int digits = 0;
    while (isxdigit(peek(v))) {
        int d = next(v);
        d = isdigit(d) ? d - '0' : tolower(d) - 'a' + 10;
        if (x >> 60) v->err = 1;
        x = x << 4 | (uint64_t)d;
        digits++;
    }
    if (!eat(v, '_')) v->err = 1;
    if (v->err) return;
    char buf[64];
    if (t == 'b')
        snprintf(buf, sizeof(buf), "%s", x ? "true" : "false");
    else if (t == 'c' && x >= 0x20 && x < 0x7f)
        snprintf(buf, sizeof(buf), "'%c'", (char)x);
    else if (digits || t != 'c')
        snprintf(buf, sizeof(buf), "%s%llu", neg ? "-" : "", (unsigned long long)x);
    else
        snprintf(buf, sizeof(buf), "?");
    puts_(v, buf);
}

static void generic_args(struct v0 *v)
{
    for (int i = 0; !v->err && !eat(v, 'E'); i++) {
        if (i) puts_(v, ", ");
        if (eat(v, 'L'))
            lifetime(v);
        else if (eat(v, 'K'))
            konst(v);
        else
            type(v);
        if (v->pos >= v->n) v->err = 1;
    }
}

static const char *basic(int c)
{
    switch (c) {
    case 'a':
        return "i8";
    case 'b':
        return "bool";
    case 'c':
        return "char";
    case 'd':
        return "f64";
    case 'e':
        return "str";
    case 'f':
        return "f32";
    case 'h':
        return "u8";
    case 'i':
        return "isize";
    case 'j':
        return "usize";
    case 'l':
        return "i32";
    case 'm':
        return "u32";
    case 'n':
        return "i128";
    case 'o':
        return "u128";
    case 's':
        return "i16";
    case 't':
        return "u16";
    case 'u':
        return "()";
    case 'v':
        return "...";
    case 'x':
        return "i64";
    case 'y':
        return "u64";
    case 'z':
        return "!";
    case 'p':
        return "_";
    default:
        return NULL;
    }
}

static void fn_sig(struct v0 *v)
{
    if (eat(v, 'G')) base62(v);
    if (eat(v, 'U')) puts_(v, "unsafe ");
    if (eat(v, 'K')) {
        if (eat(v, 'C')) {
            puts_(v, "extern \"C\" ");
        } else {
            const char *p;
            size_t n;
            ident(v, &p, &n);
            puts_(v, "extern \"");
            for (size_t i = 0; i < n; i++)
                put(v, p[i] == '_' ? "-" : p + i, 1);
            puts_(v, "\" ");
        }
    }
    puts_(v, "fn(");
    for (int i = 0; !v->err && !eat(v, 'E'); i++) {
        if (i) puts_(v, ", ");
        type(v);
    }
    puts_(v, ")");
    if (eat(v, 'u')) return;
    puts_(v, " -> ");
    type(v);
}

static void type(struct v0 *v)
{
    if (!enter(v)) return;
    int c = next(v);
    const char *b = basic(c);
    if (b) {
        puts_(v, b);
    } else {
        switch (c) {
        case 'A':
            puts_(v, "[");
            type(v);
            puts_(v, "; ");
            konst(v);
            puts_(v, "]");
            break;
        case 'S':
            puts_(v, "[");
            type(v);
            puts_(v, "]");
            break;
        case 'T': {
            puts_(v, "(");
            int i = 0;
            for (; !v->err && !eat(v, 'E'); i++) {
                if (i) puts_(v, ", ");
                type(v);
            }
            puts_(v, i == 1 ? ",)" : ")");
            break;
        }
        case 'R':
        case 'Q':
            puts_(v, c == 'R' ? "&" : "&mut ");
            if (eat(v, 'L')) {
                base62(v); /* lifetimes of references are not shown */
            }
            type(v);
            break;
        case 'P':
            puts_(v, "*const ");
            type(v);
            break;
        case 'O':
            puts_(v, "*mut ");
            type(v);
            break;
        case 'F':
            fn_sig(v);
            break;
        case 'D': {
            if (eat(v, 'G')) base62(v);
            puts_(v, "dyn ");
            for (int i = 0; !v->err && !eat(v, 'E'); i++) {
                if (i) puts_(v, " + ");
                path(v, 0);
                /* associated type bindings join the trait's generic
                 * arguments: Fn<(), Output = i32> */
                while (!v->err && eat(v, 'p')) {
                    const char *p;
                    size_t n;
                    ident(v, &p, &n);
                    if (!v->quiet && v->len && v->out[v->len - 1] == '>') {
                        v->len--;
                        puts_(v, ", ");
                    } else {
                        puts_(v, "<");
                    }
                    put(v, p, n);
                    puts_(v, " = ");
                    type(v);
                    puts_(v, ">");
                }
            }
            if (eat(v, 'L')) base62(v);
            break;
        }
        case 'B':
            backref(v, type_cb, 0);
            break;
        case 'C':
        case 'N':
        case 'M':
        case 'X':
        case 'Y':
        case 'I':
            v->pos--;
            path(v, 0);
            break;
        default:
            v->err = 1;
            break;
        }
    }
    v->depth--;
}

static void path(struct v0 *v, int in_value)
{
    if (!enter(v)) return;
    int c = next(v);
    switch (c) {
    case 'C': {
        disambiguator(v);
        const char *p;
        size_t n;
        ident(v, &p, &n);
        put(v, p, n);
        break;
    }
    case 'N': {
        int ns = next(v);
        path(v, in_value);
        uint64_t dis = disambiguator(v);
        const char *p;
        size_t n;
        ident(v, &p, &n);
        if (ns >= 'A' && ns <= 'Z') {
            char buf[64];
            const char *kind = ns == 'C' ? "closure" : ns == 'S' ? "shim" : NULL;
            if (kind)
                snprintf(buf, sizeof(buf), "::{%s", kind);
            else
                snprintf(buf, sizeof(buf), "::{%c", ns);
            puts_(v, buf);
            if (n) {
                puts_(v, ":");
                put(v, p, n);
            }
            snprintf(buf, sizeof(buf), "#%llu}", (unsigned long long)(dis ? dis - 1 : 0));
            puts_(v, buf);
        } else if (ns >= 'a' && ns <= 'z') {
            puts_(v, "::");
            put(v, p, n);
        } else {
            v->err = 1;
        }
        break;
    }
    case 'M':
    case 'X':
    case 'Y':
        if (c != 'Y') { /* the impl's own path is not shown */
            disambiguator(v);
            v->quiet++;
            path(v, 0);
            v->quiet--;
        }
        puts_(v, "<");
        type(v);
        if (c != 'M') {
            puts_(v, " as ");
            path(v, 0);
        }
        puts_(v, ">");
        break;
    case 'I':
        path(v, in_value);
        puts_(v, in_value ? "::<" : "<");
        generic_args(v);
        puts_(v, ">");
        break;
    case 'B':
        backref(v, path_cb, in_value);
        break;
    default:
        v->err = 1;
        break;
    }
    v->depth--;
}

static char *rust_v0(const char *name)
{
    const char *s = name + 2; /* backrefs count from here */
    struct v0 v;
    memset(&v, 0, sizeof(v));
    v.s = s;
    v.n = strlen(s);
    /* symbols may carry a ".llvm.123" style suffix */
    const char *dot = memchr(s, '.', v.n);
    if (dot) v.n = (size_t)(dot - s);
    path(&v, 1);
    if (v.err || !v.out) {
        free(v.out);
        return NULL;
    }
    return v.out;
}

char *sp_demangle(const char *name)
{
    if (name[0] == '_' && name[1] == 'R' && isupper((unsigned char)name[2])) return rust_v0(name);
    if (name[0] != '_' || name[1] != 'Z') return NULL;
    int st = -1;
    char *d = __cxa_demangle(name, NULL, NULL, &st);
    if (!d || st != 0) {
        free(d);
        return NULL;
    }
    rust_legacy_fix(d);
    return d;
}
