/* SPDX-License-Identifier: MIT */
/*
 * A small strict JSON reader (RFC 8259), and a writer of JSON strings and
 * numbers for the files meant to be read by people too (baselines, the
 * reports of check): unlike fput_json_str (output.h) it leaves < > & as
 * they are, so C++ names stay readable in a diff.
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

/* Writes s as a JSON string with its quotes: '"' and '\' escaped, control
 * characters as \n, \t, ... or \u00XX, and every byte that is not part of
 * valid UTF-8 as \ufffd (so that the output is always valid JSON). */
void json_put_string(FILE *out, const char *s);

/* Writes a double as JSON: a number with up to 17 significant digits, or
 * null when it is not finite. */
void json_put_double(FILE *out, double v);

/* Length of the valid UTF-8 sequence at s (1..4 bytes), or 0 when the bytes
 * at s are not one (overlong, surrogate, beyond U+10FFFF, cut short). s
 * holds at least one byte; n is how many are left. */
size_t utf8_valid_seq(const unsigned char *s, size_t n);

#endif
