/* SPDX-License-Identifier: MIT */
/*
 * What the subcommands share: their entry points (one file cmd-NAME.c each,
 * listed in main.c's table), loading the files named on the command line,
 * and usage errors. Commands return the process exit status: 0 success,
 * 2 usage or input error.
 */
#ifndef SPROF_CLI_H
#define SPROF_CLI_H

#include <stdio.h>

#include "profile.h"

#define EXIT_USAGE 2

/* A subcommand: argv[0] is its name; options are parsed by the command. */
struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
    const char *usage; /* full help text, ends with a newline */
};

extern const struct command cmd_info, cmd_flat, cmd_folded;
extern const struct command cmd_tree;
extern const struct command cmd_callgraph;
extern const struct command cmd_json;
extern const struct command cmd_diff;
extern const struct command cmd_annotate;
extern const struct command cmd_flamegraph, cmd_pprof, cmd_speedscope;
extern const struct command cmd_baseline, cmd_check;

/* Prints "sprof-report: CMD: MESSAGE" and a hint to use --help; returns
 * EXIT_USAGE for the caller to return. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Reports getopt_long's complaint about argv[optind - 1] (opt is what
 * getopt_long returned, '?' or ':'); returns EXIT_USAGE. */
int cli_bad_option(const char *cmd, char **argv, int opt);

/* Parses a whole unsigned decimal number; 0 or -1. */
int cli_parse_uint(const char *s, unsigned long long *out);

/* Parses a whole number from 0 to 100 (a percentage, fractions allowed);
 * 0 or -1. */
int cli_parse_percent(const char *s, double *out);

/* Reads files[0..n) into one model. Prints the error and returns NULL when
 * one cannot be read (or when n is 0). */
struct sp_profile *cli_load(const char *cmd, int n, char **files);

/* The text output of -o FILE: path NULL or "-" is standard output, else
 * the file, created or truncated. Returns NULL after printing "cannot
 * create" when it cannot be opened. */
FILE *cli_open_output(const char *path);
/* Ends what cli_open_output returned (standard output stays open): 0, or
 * EXIT_USAGE after printing "cannot write" when the file could not be
 * written whole. */
int cli_close_output(FILE *out, const char *path);

/* Prints the text of the --help of cmd to out. */
void cli_print_usage(const struct command *cmd, FILE *out);

/* Prints the header line of a text report to out: "# N samples, X s CPU,
 * P processes, T threads" over p->samples as they are (after filters). */
void cli_print_totals(const struct sp_profile *p, FILE *out);

#endif
