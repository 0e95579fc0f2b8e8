/* SPDX-License-Identifier: MIT */
/*
 * sprof-report baseline: saves the per-function CPU time of one or more
 * runs of a benchmark as a small JSON file (baseline.h describes it), for
 * `sprof-report check` to compare later runs with.
 */
#include <getopt.h>
#include <string.h>

#include "baseline.h"
#include "cli.h"
#include "filter.h"

static const char usage_text[] =
    "usage: sprof-report baseline [-o FILE] RUN...\n"
    "\n"
    "Saves what 'sprof-report check' compares later runs with: per function\n"
    "(matched by name and module, never by address) the self and total CPU\n"
    "time and samples of each run, the runs' totals, the command and the sprof\n"
    "version, as JSON meant to be committed next to the code.\n"
    "\n"
    "Each RUN is one run of the benchmark: a profile file, or a directory that\n"
    "holds the profile files of one run (a program and its children). Several\n"
    "runs let check see how much the time varies from run to run.\n"
    "\n"
    "options:\n"
    "  -o, --output FILE     write the baseline to FILE (default: standard output)\n"
    "  -h, --help            this text\n" FILTER_USAGE "\n"
    "Filters apply to every run; give check the same ones.\n";

static int run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        FILTER_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    struct filter_opts flt;
    filter_init(&flt);
    const char *out = "-";
    int rc = EXIT_USAGE;
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":ho:", opts, NULL)) != -1) {
        if (filter_is_option(c)) {
            if (filter_parse(&flt, "baseline", c, optarg)) goto out;
            continue;
        }
        switch (c) {
        case 'o':
            if (!*optarg) {
                cli_usage_error("baseline", "-o needs a file name");
                goto out;
            }
            out = optarg;
            break;
        case 'h':
            fputs(usage_text, stdout);
            rc = 0;
            goto out;
        default:
            cli_bad_option("baseline", argv, c);
            goto out;
        }
    }
    int n = argc - optind;
    if (n <= 0) {
        cli_usage_error("baseline", "no run given");
        goto out;
    }
    struct baseline b;
    bl_init(&b, (size_t)n);
    if (bl_load_runs(&b, "baseline", n, argv + optind, &flt) == 0 &&
        bl_save(&b, "baseline", out) == 0)
        rc = 0;
    bl_release(&b);
out:
    filter_release(&flt);
    return rc;
}

const struct command cmd_baseline = {
    "baseline", run, "save per-function CPU time of runs for later checks", usage_text};
