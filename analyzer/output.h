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

/* Number of characters (not bytes) in a UTF-8 string. */
size_t utf8_width(const char *s);

#endif
