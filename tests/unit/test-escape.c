/* SPDX-License-Identifier: MIT */
/*
 * The escaping of the structured exports: fput_xml (analyzer/output.c) for
 * the flamegraph SVG and json_put_string with JSON_ESCAPE_MARKUP
 * (analyzer/json.c) for the JSON exports, on names that
 * C++ and assemblers produce, control characters and bytes that are not
 * UTF-8. JSON output is read back with the strict reader of analyzer/json.c;
 * random byte strings always give well-formed output.
 *
 * The analyzer files are compiled into this test directly (tests/run.sh
 * links unit tests with common/ only).
 */
#include <string.h>

#include "../../analyzer/json.c"
#include "../../analyzer/output.c"
#include "../../analyzer/util.c"
#include "unit.h"

static char *captured;
static size_t captured_len;

/* What fn writes for s. The caller frees. */
static char *capture(void (*fn)(FILE *, const char *), const char *s)
{
    captured = NULL;
    captured_len = 0;
    FILE *f = open_memstream(&captured, &captured_len);
    if (!f) return NULL;
    fn(f, s);
    fclose(f);
    return captured;
}

/* The JSON exports' writer, in capture's shape. */
static void put_json_export(FILE *out, const char *s)
{
    json_put_string(out, s, JSON_ESCAPE_MARKUP);
}

/* utf8_seq_len on a C string */
static size_t seq_len(const char *s)
{
    return utf8_seq_len(s, strlen(s));
}

static int all_valid_utf8(const char *s)
{
    while (*s) {
        size_t n = seq_len(s);
        if (!n) return 0;
        s += n;
    }
    return 1;
}

static void utf8_sequences(void)
{
    CHECK(seq_len("a") == 1);
    CHECK(seq_len("\xc3\xa9") == 2);         /* é */
    CHECK(seq_len("\xe2\x82\xac") == 3);     /* € */
    CHECK(seq_len("\xf0\x9f\x94\xa5") == 4); /* U+1F525 */
    CHECK(seq_len("\x80") == 0);             /* stray continuation */
    CHECK(seq_len("\xc0\xaf") == 0);         /* overlong '/' */
    CHECK(seq_len("\xe0\x80\xaf") == 0);     /* overlong, 3 bytes */
    CHECK(seq_len("\xed\xa0\x80") == 0);     /* surrogate D800 */
    CHECK(seq_len("\xf4\x90\x80\x80") == 0); /* beyond U+10FFFF */
    CHECK(seq_len("\xe2\x82") == 0);         /* cut short */
    CHECK(seq_len("\xef\xbf\xbe") == 3);     /* U+FFFE: UTF-8, though not XML */
}

static void xml_names(void)
{
    char *s = capture(fput_xml, "operator<(Key const&, Key const&)");
    CHECKF(s && strcmp(s, "operator&lt;(Key const&amp;, Key const&amp;)") == 0, "%s", s);
    free(s);
    s = capture(fput_xml, "hot'quote\"<&>]]>");
    CHECKF(s && strcmp(s, "hot&apos;quote&quot;&lt;&amp;&gt;]]&gt;") == 0, "%s", s);
    free(s);
    s = capture(fput_xml, "std::map<int, std::string>");
    CHECKF(s && strcmp(s, "std::map&lt;int, std::string&gt;") == 0, "%s", s);
    free(s);
    /* control characters and broken UTF-8 become U+FFFD; tab and valid
     * UTF-8 stay */
    s = capture(fput_xml, "a\x01\tb\xff\xc3\xa9");
    CHECKF(s && strcmp(s, "a\xef\xbf\xbd\tb\xef\xbf\xbd\xc3\xa9") == 0, "%s", s);
    free(s);
    /* U+FFFE and U+FFFF are not XML characters */
    s = capture(fput_xml, "a\xef\xbf\xbe\xef\xbf\xbf"
                          "b");
    CHECKF(s && strcmp(s, "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                          "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                          "b") == 0,
           "%s", s);
    free(s);
}

static void json_names(void)
{
    char *s = capture(put_json_export, "operator\"\" _burn(unsigned long long)");
    CHECKF(s && strcmp(s, "\"operator\\\"\\\" _burn(unsigned long long)\"") == 0, "%s", s);
    free(s);
    s = capture(put_json_export, "a<b>&c\\d\n\x01\x7f");
    CHECKF(s && strcmp(s, "\"a\\u003cb\\u003e\\u0026c\\\\d\\n\\u0001\\u007f\"") == 0, "%s", s);
    free(s);
    s = capture(put_json_export, "x\xffy\xe2\x82\xac");
    CHECKF(s && strcmp(s, "\"x\\ufffdy\xe2\x82\xac\"") == 0, "%s", s);
    free(s);
}

/* Random bytes: the XML never holds a raw < & > " ' or control character,
 * the JSON parses back to the input with broken bytes as U+FFFD. */
static void random_bytes(void)
{
    unsigned long long seed = 0x5eed;
    char in[64];
    for (int round = 0; round < 2000; round++) {
        size_t n = (size_t)(unit_rand(&seed) % (sizeof(in) - 1));
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)unit_rand(&seed);
            in[i] = (char)(c ? c : 'z');
        }
        in[n] = 0;
        char *x = capture(fput_xml, in);
        CHECK(x && all_valid_utf8(x));
        for (const char *c = x; *c; c++)
            CHECKF(!strchr("<>\"'", *c) && ((unsigned char)*c >= 0x20 || *c == '\t') &&
                       (*c != '&' || strncmp(c, "&amp;", 5) == 0 || strncmp(c, "&lt;", 4) == 0 ||
                        strncmp(c, "&gt;", 4) == 0 || strncmp(c, "&quot;", 6) == 0 ||
                        strncmp(c, "&apos;", 6) == 0),
                   "round %d: %s", round, x);
        free(x);
        char *j = capture(put_json_export, in);
        CHECK(j && all_valid_utf8(j));
        CHECKF(!strpbrk(j, "<>&"), "round %d: %s", round, j);
        struct arena a = {0};
        char err[200];
        struct json *v = json_parse(j, strlen(j), &a, err, sizeof(err));
        CHECKF(v && v->type == JSON_STRING, "round %d: %s: %s", round, err, j);
        /* the input with each broken byte replaced by U+FFFD */
        char want[sizeof(in) * 3 + 1], *w = want;
        for (const char *c = in; *c;) {
            size_t k = seq_len(c);
            if (k) {
                memcpy(w, c, k);
                w += k;
                c += k;
            } else {
                memcpy(w, "\xef\xbf\xbd", 3);
                w += 3;
                c++;
            }
        }
        *w = 0;
        CHECKF(v->len == strlen(want) && memcmp(v->str, want, v->len) == 0, "round %d: %s", round,
               j);
        arena_release(&a);
        free(j);
    }
}

int main(void)
{
    unit_prefix = "unit/escape";
    RUN(utf8_sequences);
    RUN(xml_names);
    RUN(json_names);
    RUN(random_bytes);
    return unit_done();
}
