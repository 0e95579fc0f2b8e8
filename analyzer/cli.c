/* SPDX-License-Identifier: MIT */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "output.h"
#include "util.h"

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    sprof_err("%s: %s (see 'sprof-report help %s')", cmd, msg, cmd);
    return EXIT_USAGE;
}

int cli_bad_option(const char *cmd, char **argv, int opt)
{
    const char *arg = optind > 0 ? argv[optind - 1] : "";
    if (opt == ':') return cli_usage_error(cmd, "option '%s' needs a value", arg);
    if (optopt && arg[0] == '-' && arg[1] != '-')
        return cli_usage_error(cmd, "unknown option '-%c'", optopt);
    return cli_usage_error(cmd, "unknown option '%s'", arg);
}

int cli_parse_uint(const char *s, unsigned long long *out)
{
    if (!s || !*s || *s == '-' || *s == '+') return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end) return -1;
    *out = v;
    return 0;
}

int cli_parse_percent(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (!s[0] || *end || !(v >= 0 && v <= 100)) return -1;
    *out = v;
    return 0;
}

struct sp_profile *cli_load(const char *cmd, int n, char **files)
{
    if (n <= 0) {
        cli_usage_error(cmd, "no profile file given");
        return NULL;
    }
    mem_use_huge_pages();
    struct sp_profile *p = sp_profile_new();
    /* every report but info symbolizes the profile */
    p->prefetch = strcmp(cmd, "info") != 0;
    for (int i = 0; i < n; i++) {
        char err[600];
        if (sp_profile_read(p, files[i], err, sizeof(err))) {
            sprof_err("%s", err);
            sp_profile_free(p);
            return NULL;
        }
    }
    return p;
}

void cli_print_usage(const struct command *cmd, FILE *out)
{
    fputs(cmd->usage, out);
}

void cli_print_totals(const struct sp_profile *p, FILE *out)
{
    struct sp_totals t;
    sp_profile_totals(p, &t);
    char a[64], b[64], c[64], d[64];
    fprintf(out, "# %s, %s CPU, %s, %s\n", fmt_count(a, sizeof(a), t.samples, "sample"),
            fmt_seconds(b, sizeof(b), t.weight_ns), fmt_count(c, sizeof(c), t.nprocs, "process"),
            fmt_count(d, sizeof(d), t.nthreads, "thread"));
}

FILE *cli_open_output(const char *path)
{
    if (!path || strcmp(path, "-") == 0) return stdout;
    FILE *out = fopen(path, "w");
    if (!out) sprof_err("cannot create '%s': %s", path, strerror(errno));
    return out;
}

int cli_close_output(FILE *out, const char *path)
{
    if (out == stdout) return 0;
    if (ferror(out) | fclose(out)) {
        sprof_err("cannot write '%s': %s", path, strerror(errno));
        return EXIT_USAGE;
    }
    return 0;
}
