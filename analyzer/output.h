/* SPDX-License-Identifier: MIT */
/*
 * Output helpers for reports: aligned text tables and the formatting of
 * counts, times and percentages, so that every report prints them the same
 * way.
 */
#ifndef SPROF_OUTPUT_H
#define SPROF_OUTPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum table_align { TABLE_LEFT, TABLE_RIGHT };

/* A table of text cells, printed with every column as wide as its widest
 * cell (in characters, UTF-8 aware), columns separated by two spaces,
 * trailing blanks trimmed. A left-aligned column may have a maximum width:
 * longer cells are printed whole and push the rest of their row right. */
struct table {
    size_t ncols;
    enum table_align *align;
    size_t *maxw;
    char **cells; /* row-major, owned */
    size_t ncells, cap;
    const char **row_sgr; /* per row, NULL for plain (see table_style_row) */
    size_t nrow_sgr;
};

void table_init(struct table *t, size_t ncols);
void table_set(struct table *t, size_t col, enum table_align align, size_t maxw);
/* Appends one cell to the current row (rows fill left to right). */
void table_add(struct table *t, const char *cell);
void table_addf(struct table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints every row, each line starting with indent. */
void table_print(const struct table *t, FILE *out, const char *indent);
void table_release(struct table *t);

/* Formatters write into buf (size n) and return buf. */

/* Seconds with three decimals and the unit: "12.345 s". */
char *fmt_seconds(char *buf, size_t n, uint64_t ns);
/* A duration in a readable unit: "2.35 s", "12.3 ms", "850 us", "95 ns". */
char *fmt_duration(char *buf, size_t n, double ns);
/* part of whole as a percentage with one decimal: "50.0%" ("0.0%" when whole is 0). */
char *fmt_percent(char *buf, size_t n, uint64_t part, uint64_t whole);
/* A byte count: "123456 bytes (120.6 KiB)". */
char *fmt_bytes(char *buf, size_t n, uint64_t bytes);
/* "N WORD" or "N WORDs": fmt_count(buf, n, 3, "thread") -> "3 threads". */
char *fmt_count(char *buf, size_t n, uint64_t count, const char *word);

/* v in decimal at p (at most 20 bytes, no NUL); returns the end. For the
 * exporters' millions of numbers, where fprintf's reading of its format
 * was a fifth of their time (common/buf.h's sprof_fmt_u64, the preload's,
 * takes any base, which makes each digit a division). */
char *put_dec(char *p, uint64_t v);

/* Number of characters (not bytes) in a UTF-8 string. */
size_t utf8_width(const char *s);

/* s whole as XML text or attribute value (flamegraph SVG, JUnit): & < > " '
 * as entities; a byte that is not valid UTF-8, and control characters and
 * U+FFFE/U+FFFF, which XML cannot hold, as U+FFFD, so that the output is
 * always well-formed. (JSON strings: json_put_string in json.h.) */
void fput_xml(FILE *out, const char *s);

/* ---- terminals: colour, tree lines, progress ---- */

/* Whether to colour what goes to out: out is a terminal and NO_COLOR is
 * unset or empty (https://no-color.org). */
int out_use_color(FILE *out);
/* Whether the locale's character set is UTF-8 (LC_ALL, LC_CTYPE or LANG,
 * the first one set), for box-drawing characters. */
int out_locale_utf8(void);

/* SGR sequences for table_style_row and plain printf. */
#define SGR_BOLD "\033[1m"
#define SGR_RED "\033[31m"
#define SGR_RESET "\033[0m"

/* Prints the row being filled (the one the next table_add starts or
 * continues) between sgr and SGR_RESET; sgr NULL or "" for none. The
 * escape sequences do not count in the column widths. */
void table_style_row(struct table *t, const char *sgr);

/* A progress line on stderr for long work: nothing unless stderr is a
 * terminal and the work has taken more than a second; then
 * "sprof-report: WHAT 42% (DONE of TOTAL)" redrawn at most every 100 ms,
 * and erased by progress_end. progress_update is cheap enough to call per
 * item (it reads the clock every 1024 calls). */
struct progress {
    const char *what;
    uint64_t total, t0_ns, last_ns;
    unsigned calls;
    int enabled, shown;
};
void progress_start(struct progress *pg, const char *what, uint64_t total);
void progress_update(struct progress *pg, uint64_t done);
void progress_end(struct progress *pg);

#endif
