/* SPDX-License-Identifier: MIT */
/*
 * A small strict JSON reader (RFC 8259), and a writer of JSON strings and
 * numbers, for the exports (json, speedscope) as for the files meant to be
 * read by people too (baselines, the reports of check).
 *
 * The reader trusts nothing: it accepts exactly one value with optional
 * white space around it, UTF-8 text only (no byte order mark), no control
 * characters inside strings, no duplicate member names, no nesting deeper
 * than JSON_MAX_DEPTH and no more than JSON_MAX_VALUES values (so memory
 * is bounded whatever the text), and refuses "\u0000" (names are C
 * strings). Numbers keep their text, so that integers up to 2^64 - 1 are
 * read exactly. Problems are reported as "line L, column C: WHAT" (columns
 * count bytes, from 1).
 */
#ifndef SPROF_JSON_H
#define SPROF_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util.h"

#define JSON_MAX_DEPTH 64
#define JSON_MAX_VALUES 1000000

enum json_type {
    JSON_NULL,
    JSON_FALSE,
    JSON_TRUE,
    JSON_NUMBER,
    JSON_STRING,
    JSON_ARRAY,
    JSON_OBJECT
};

struct json {
    enum json_type type;
    unsigned line, col;  /* where the value starts */
    const char *str;     /* JSON_STRING: the decoded UTF-8; JSON_NUMBER: its text */
    size_t len;          /* of str, in bytes */
    double num;          /* JSON_NUMBER */
    size_t n;            /* JSON_ARRAY items, JSON_OBJECT members */
    struct json **items; /* values, in the order of the text */
    const char **keys;   /* JSON_OBJECT: the member names, parallel to items */
};

/* Parses text[0..len) as one JSON value. Every node and string lives in
 * arena a (freed with it). Returns the root, or NULL with a one-line
 * message in err. */
struct json *json_parse(const char *text, size_t len, struct arena *a, char *err, size_t errlen);

/* The member key of an object, or NULL (also when obj is not an object). */
const struct json *json_member(const struct json *obj, const char *key);

/* A number without fraction, exponent or sign that fits 64 bits: 0 and the
 * value in *out; else -1. */
int json_uint(const struct json *v, uint64_t *out);

/* Name of a type for messages: "an object", "a string", ... */
const char *json_type_name(enum json_type t);

/* json_put_string flags. JSON_ESCAPE_MARKUP: < > & as \u003c \u003e
 * \u0026, so that the string is also inert inside an HTML or XML <script>
 * element or CDATA section (the exports). Without it they stay as they are,
 * so that C++ names stay readable in a diff of a committed baseline. */
#define JSON_ESCAPE_MARKUP 1u

/* Writes s as a JSON string with its quotes: '"' and '\' escaped, \n \t \r
 * as such, other control characters and DEL as \u00XX, and every byte that
 * is not part of valid UTF-8 as \ufffd (so that the output is always valid
 * JSON). flags: 0 or JSON_ESCAPE_MARKUP. */
void json_put_string(FILE *out, const char *s, unsigned flags);

/* Writes a double as JSON: a number with up to 17 significant digits, or
 * null when it is not finite. */
void json_put_double(FILE *out, double v);

#endif
