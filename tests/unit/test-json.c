/* SPDX-License-Identifier: MIT */
/*
 * The strict JSON reader and the string writer of the analyzer
 * (analyzer/json.c), which reads the baselines of sprof-report check:
 * valid documents, every kind of malformed input (each rejected with a
 * line and column), and strings written by json_put_string read back the
 * same.
 *
 * analyzer/json.c and analyzer/util.c are compiled into this test directly
 * (tests/run.sh links unit tests with common/ only).
 */
#include <string.h>

#include "../../analyzer/json.c"
#include "../../analyzer/util.c"
#include "unit.h"

static struct arena ar;
static char err[300];

static struct json *parse(const char *s)
{
    return json_parse(s, strlen(s), &ar, err, sizeof(err));
}

static void valid_documents(void)
{
    struct json *v = parse(" {\"a\": [1, -2.5e3, true, false, null, \"x\"], \"b\": {}} \n");
    CHECKF(v, "%s", err);
    CHECK(v->type == JSON_OBJECT && v->n == 2);
    const struct json *a = json_member(v, "a");
    CHECK(a && a->type == JSON_ARRAY && a->n == 6);
    CHECK(a->items[0]->type == JSON_NUMBER && a->items[0]->num == 1);
    CHECK(a->items[1]->num == -2500);
    CHECK(a->items[2]->type == JSON_TRUE && a->items[3]->type == JSON_FALSE);
    CHECK(a->items[4]->type == JSON_NULL);
    CHECK(a->items[5]->type == JSON_STRING && strcmp(a->items[5]->str, "x") == 0);
    const struct json *b = json_member(v, "b");
    CHECK(b && b->type == JSON_OBJECT && b->n == 0);
    CHECK(json_member(v, "c") == NULL);
    CHECK(json_member(a, "a") == NULL);
    CHECK(parse("[]") && parse("0") && parse("\"\"") && parse("-0.0E+1"));
}

static void strings(void)
{
    struct json *v =
        parse("\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t \\u00e9 \\u20ac \\ud83d\\ude00 \xc3\xa9\"");
    CHECKF(v, "%s", err);
    CHECK(strcmp(v->str, "q\" b\\ s/ \b\f\n\r\t \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xc3\xa9") ==
          0);
    CHECK(v->len == strlen(v->str));
}

static void numbers(void)
{
    uint64_t u;
    struct json *v = parse("18446744073709551615");
    CHECK(v && json_uint(v, &u) == 0 && u == UINT64_MAX);
    v = parse("18446744073709551616");
    CHECK(v && json_uint(v, &u) == -1);
    CHECK(json_uint(parse("-1"), &u) == -1);
    CHECK(json_uint(parse("1.0"), &u) == -1);
    CHECK(json_uint(parse("1e3"), &u) == -1);
    CHECK(json_uint(parse("\"12\""), &u) == -1);
    CHECK(json_uint(parse("0"), &u) == 0 && u == 0);
}

/* s is rejected with a message that mentions want */
#define REJECT(s, want)                                                                            \
    do {                                                                                           \
        CHECKF(parse(s) == NULL, "accepted '%s'", s);                                              \
        CHECKF(strstr(err, want) != NULL, "'%s': message '%s' lacks '%s'", s, err, want);          \
        CHECKF(strncmp(err, "line ", 5) == 0, "'%s': message '%s' has no line", s, err);           \
    } while (0)

static void malformed(void)
{
    REJECT("", "expected a value");
    REJECT("   ", "end of the text");
    REJECT("{", "member name");
    REJECT("[1,]", "expected a value");
    REJECT("[1 2]", "expected ','");
    REJECT("{\"a\" 1}", "expected ':'");
    REJECT("{\"a\": 1,}", "member name");
    REJECT("{a: 1}", "member name");
    REJECT("{\"a\": 1, \"a\": 2}", "duplicate member");
    REJECT("[1] x", "after the end");
    REJECT("[1]\n[2]", "line 2");
    REJECT("01", "cannot start with 0");
    REJECT("1.", "decimal point");
    REJECT("1e", "exponent");
    REJECT("-", "digits");
    REJECT("+1", "expected a value");
    REJECT(".5", "expected a value");
    REJECT("tru", "expected a value");
    REJECT("nul", "expected a value");
    REJECT("NaN", "expected a value");
    REJECT("\"abc", "never ends");
    REJECT("\"a\\x\"", "unknown escape");
    REJECT("\"\\u12\"", "four hex digits");
    REJECT("\"\\u0000\"", "not supported");
    REJECT("\"\\udc00\"", "lone low surrogate");
    REJECT("\"\\ud800x\"", "without its low half");
    REJECT("\"\\ud800\\u0041\"", "without its low half");
    REJECT("\"a\tb\"", "control character");
    REJECT("\"a\nb\"", "control character");
    REJECT("\"\xff\"", "invalid UTF-8");
    REJECT("\"\xc0\xaf\"", "invalid UTF-8");     /* overlong '/' */
    REJECT("\"\xed\xa0\x80\"", "invalid UTF-8"); /* a surrogate */
    REJECT("\"\xe2\x82\"", "invalid UTF-8");     /* cut short */
    REJECT("\xef\xbb\xbf{}", "byte order mark");
    /* a NUL byte inside the text */
    CHECK(json_parse("[1]\0", 4, &ar, err, sizeof(err)) == NULL);
}

static void depth_limit(void)
{
    char deep[JSON_MAX_DEPTH * 2 + 8];
    size_t n = 0;
    for (int i = 0; i < JSON_MAX_DEPTH; i++)
        deep[n++] = '[';
    for (int i = 0; i < JSON_MAX_DEPTH; i++)
        deep[n++] = ']';
    deep[n] = 0;
    CHECKF(parse(deep), "%s", err);
    char deeper[JSON_MAX_DEPTH * 2 + 8];
    n = 0;
    for (int i = 0; i <= JSON_MAX_DEPTH; i++)
        deeper[n++] = '[';
    for (int i = 0; i <= JSON_MAX_DEPTH; i++)
        deeper[n++] = ']';
    deeper[n] = 0;
    CHECK(parse(deeper) == NULL && strstr(err, "nested deeper"));
}

static void value_limit(void)
{
    size_t n = 2 * JSON_MAX_VALUES + 8;
    char *s = xmalloc(n + 1);
    size_t k = 0;
    s[k++] = '[';
    for (int i = 0; i < JSON_MAX_VALUES; i++) {
        s[k++] = '0';
        s[k++] = ',';
    }
    s[k - 1] = ']';
    CHECK(json_parse(s, k, &ar, err, sizeof(err)) == NULL && strstr(err, "more than"));
    free(s);
}

static void error_position(void)
{
    CHECK(parse("{\n  \"a\": [1,\n   x]\n}") == NULL);
    CHECKF(strncmp(err, "line 3, column 4:", 17) == 0, "%s", err);
}

/* json_put_string output, read back */
static void writer_round_trip(void)
{
    static const char *const in[] = {
        "plain",
        "q\"uote",
        "back\\slash",
        "ctl\x01\x1f\x7f",
        "nl\ntab\t",
        "<&>'",
        "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
        "",
    };
    for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        json_put_string(f, in[i], 0);
        fclose(f);
        struct json *v = json_parse(buf, len, &ar, err, sizeof(err));
        CHECKF(v && v->type == JSON_STRING, "'%s': %s", buf, err);
        CHECKF(strcmp(v->str, in[i]) == 0, "'%s' read back as '%s'", in[i], v->str);
        free(buf);
    }
    /* bytes that are not UTF-8 become U+FFFD, so the output stays JSON */
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    json_put_string(f, "a\xff\xc3(b", 0);
    fclose(f);
    CHECKF(strcmp(buf, "\"a\\ufffd\\ufffd(b\"") == 0, "%s", buf);
    CHECK(json_parse(buf, len, &ar, err, sizeof(err)) != NULL);
    free(buf);
}

static void doubles(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    json_put_double(f, 0.1);
    fputc(' ', f);
    json_put_double(f, 1.0 / 3);
    fputc(' ', f);
    json_put_double(f, NAN);
    fclose(f);
    CHECKF(strcmp(buf, "0.1 0.33333333333333331 null") == 0, "%s", buf);
    free(buf);
}

int main(void)
{
    unit_prefix = "unit/json";
    RUN(valid_documents);
    RUN(strings);
    RUN(numbers);
    RUN(malformed);
    RUN(depth_limit);
    RUN(value_limit);
    RUN(error_position);
    RUN(writer_round_trip);
    RUN(doubles);
    arena_release(&ar);
    return unit_done();
}
