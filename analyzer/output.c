/* SPDX-License-Identifier: MIT */
#include "output.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void table_init(struct table *t, size_t ncols)
{
    memset(t, 0, sizeof(*t));
    t->ncols = ncols;
    t->align = xcalloc(ncols, sizeof(*t->align));
    t->maxw = xcalloc(ncols, sizeof(*t->maxw));
}

void table_set(struct table *t, size_t col, enum table_align align, size_t maxw)
{
    if (col >= t->ncols) return;
    t->align[col] = align;
    t->maxw[col] = maxw;
}

void table_add(struct table *t, const char *cell)
{
    GROW(t->cells, t->cap, t->ncells + 1);
    t->cells[t->ncells++] = xstrdup(cell ? cell : "");
}

void table_addf(struct table *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = xmalloc(n > 0 ? (size_t)n + 1 : 1);
    s[0] = 0;
    va_start(ap, fmt);
    if (n > 0) vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    GROW(t->cells, t->cap, t->ncells + 1);
    t->cells[t->ncells++] = s;
}

size_t utf8_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80) w++;
    return w;
}

static void pad(FILE *out, size_t n)
{
    while (n--)
        fputc(' ', out);
}

void table_print(const struct table *t, FILE *out, const char *indent)
{
    if (!t->ncols) return;
    size_t *w = xcalloc(t->ncols, sizeof(*w));
    for (size_t i = 0; i < t->ncells; i++) {
        size_t c = i % t->ncols, cw = utf8_width(t->cells[i]);
        if (t->maxw[c] && cw > t->maxw[c]) cw = t->maxw[c];
        if (cw > w[c]) w[c] = cw;
    }
    for (size_t row = 0; row * t->ncols < t->ncells; row++) {
        char **cells = t->cells + row * t->ncols;
        size_t have = t->ncells - row * t->ncols;
        if (have > t->ncols) have = t->ncols;
        /* the last non-empty cell of the row: nothing is padded after it */
        size_t last = 0;
        for (size_t c = 0; c < have; c++)
            if (cells[c][0]) last = c;
        fputs(indent ? indent : "", out);
        size_t debt = 0; /* columns pushed right by an over-wide cell */
        for (size_t c = 0; c <= last; c++) {
            size_t cw = utf8_width(cells[c]);
            if (c) pad(out, 2);
            size_t fill = cw < w[c] ? w[c] - cw : 0;
            fill = fill > debt ? fill - debt : 0;
            if (t->align[c] == TABLE_RIGHT) pad(out, fill);
            fputs(cells[c], out);
            if (t->align[c] == TABLE_LEFT && c < last) pad(out, fill);
            size_t used = cw + fill;
            debt = used > w[c] ? used - w[c] : 0;
        }
        fputc('\n', out);
    }
    free(w);
}

void table_release(struct table *t)
{
    for (size_t i = 0; i < t->ncells; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t->align);
    free(t->maxw);
    memset(t, 0, sizeof(*t));
}

char *fmt_seconds(char *buf, size_t n, uint64_t ns)
{
    snprintf(buf, n, "%.3f s", (double)ns / 1e9);
    return buf;
}

char *fmt_duration(char *buf, size_t n, double ns)
{
    if (ns >= 1e9)
        snprintf(buf, n, "%.3f s", ns / 1e9);
    else if (ns >= 1e6)
        snprintf(buf, n, "%.1f ms", ns / 1e6);
    else if (ns >= 1e3)
        snprintf(buf, n, "%.1f us", ns / 1e3);
    else
        snprintf(buf, n, "%.0f ns", ns);
    return buf;
}

char *fmt_percent(char *buf, size_t n, uint64_t part, uint64_t whole)
{
    snprintf(buf, n, "%.1f%%", whole ? 100.0 * (double)part / (double)whole : 0.0);
    return buf;
}

char *fmt_bytes(char *buf, size_t n, uint64_t bytes)
{
    if (bytes >= 1024ull * 1024 * 1024)
        snprintf(buf, n, "%llu bytes (%.1f GiB)", (unsigned long long)bytes,
                 (double)bytes / (1024.0 * 1024 * 1024));
    else if (bytes >= 1024ull * 1024)
        snprintf(buf, n, "%llu bytes (%.1f MiB)", (unsigned long long)bytes,
                 (double)bytes / (1024.0 * 1024));
    else if (bytes >= 1024)
        snprintf(buf, n, "%llu bytes (%.1f KiB)", (unsigned long long)bytes,
                 (double)bytes / 1024.0);
    else
        snprintf(buf, n, "%llu bytes", (unsigned long long)bytes);
    return buf;
}

char *fmt_count(char *buf, size_t n, uint64_t count, const char *word)
{
    size_t len = strlen(word);
    const char *suffix = count == 1 ? "" : (len && word[len - 1] == 's') ? "es" : "s";
    snprintf(buf, n, "%llu %s%s", (unsigned long long)count, word, suffix);
    return buf;
}
