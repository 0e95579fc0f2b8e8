/* SPDX-License-Identifier: MIT */
#include "output.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

char *put_dec(char *p, uint64_t v)
{
    char d[20];
    int k = 0;
    do {
        d[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (k)
        *p++ = d[--k];
    return p;
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
        if (!cells[last][0]) { /* an empty row: an empty line */
            fputc('\n', out);
            continue;
        }
        fputs(indent ? indent : "", out);
        const char *sgr = row < t->nrow_sgr ? t->row_sgr[row] : NULL;
        if (sgr) fputs(sgr, out);
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
        if (sgr) fputs(SGR_RESET, out);
        fputc('\n', out);
    }
    free(w);
}

void table_style_row(struct table *t, const char *sgr)
{
    if (!t->ncols) return;
    size_t row = t->ncells / t->ncols;
    if (row >= t->nrow_sgr) {
        size_t n = t->nrow_sgr;
        GROW(t->row_sgr, t->nrow_sgr, row + 1);
        for (size_t i = n; i < t->nrow_sgr; i++)
            t->row_sgr[i] = NULL;
    }
    t->row_sgr[row] = sgr && sgr[0] ? sgr : NULL;
}

void table_release(struct table *t)
{
    free(t->row_sgr);
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
        /* two decimals under 10 ms: a writer's 2.31 ms, not 2.3 */
        snprintf(buf, n, "%.*f ms", ns >= 1e7 ? 1 : 2, ns / 1e6);
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

static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */

/* Whether the n bytes at s are U+FFFE or U+FFFF, valid UTF-8 but not XML
 * characters. */
static int xml_nonchar(const char *s, size_t n)
{
    return n == 3 && memcmp(s, "\xef\xbf", 2) == 0 && ((unsigned char)s[2] & 0xfe) == 0xbe;
}

void fput_xml(FILE *out, const char *s)
{
    size_t left = strlen(s);
    while (left) {
        unsigned char c = (unsigned char)*s;
        size_t n = utf8_seq_len(s, left);
        if (n == 0 || xml_nonchar(s, n) || (c < 0x20 && c != '\t') || c == 0x7f) {
            fputs(replacement, out);
            s++;
            left--;
            continue;
        }
        switch (c) {
        case '&':
            fputs("&amp;", out);
            break;
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        case '\'':
            fputs("&apos;", out);
            break;
        default:
            fwrite(s, 1, n, out);
            break;
        }
        s += n;
        left -= n;
    }
}

/* ---- terminals ---- */

int out_use_color(FILE *out)
{
    const char *nc = getenv("NO_COLOR");
    if (nc && nc[0]) return 0;
    return isatty(fileno(out));
}

int out_locale_utf8(void)
{
    static const char *const vars[] = {"LC_ALL", "LC_CTYPE", "LANG"};
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        const char *v = getenv(vars[i]);
        if (!v || !v[0]) continue;
        return strcasestr(v, "utf-8") || strcasestr(v, "utf8");
    }
    return 0;
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void progress_start(struct progress *pg, const char *what, uint64_t total)
{
    memset(pg, 0, sizeof(*pg));
    pg->what = what;
    pg->total = total;
    pg->enabled = isatty(STDERR_FILENO);
    if (pg->enabled) pg->t0_ns = mono_ns();
}

void progress_update(struct progress *pg, uint64_t done)
{
    if (!pg->enabled || (++pg->calls & 1023)) return;
    uint64_t now = mono_ns();
    if (now - pg->t0_ns < 1000000000u || (pg->shown && now - pg->last_ns < 100000000u)) return;
    pg->last_ns = now;
    pg->shown = 1;
    if (pg->total)
        fprintf(stderr, "\rsprof-report: %s %3.0f%% (%llu of %llu)\033[K", pg->what,
                100.0 * (double)done / (double)pg->total, (unsigned long long)done,
                (unsigned long long)pg->total);
    else
        fprintf(stderr, "\rsprof-report: %s (%llu)\033[K", pg->what, (unsigned long long)done);
    fflush(stderr);
}

void progress_end(struct progress *pg)
{
    if (pg->shown) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
    pg->shown = 0;
    pg->enabled = 0;
}
