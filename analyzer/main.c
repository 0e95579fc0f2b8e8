/* SPDX-License-Identifier: MIT */
/*
 * sprof-report: reads sprof profiles and prints reports. main() dispatches
 * to one subcommand from the table below; each lives in cmd-NAME.c and owns
 * its options. Exit status: 0 success, 2 usage or input error.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "log.h"

#ifndef SPROF_VERSION_STRING
#define SPROF_VERSION_STRING "unknown"
#endif

static const struct command *const commands[] = {
    &cmd_info,
    &cmd_flat,
    &cmd_folded,
    &cmd_tree,
    &cmd_callgraph,
    &cmd_json,
    &cmd_diff,
    &cmd_annotate,
    &cmd_flamegraph,
    &cmd_pprof,
    &cmd_speedscope,
    &cmd_baseline,
    &cmd_check,
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct command *find(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i]->name, name) == 0) return commands[i];
    return NULL;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: sprof-report COMMAND [OPTIONS] FILE...\n"
                 "       sprof-report help COMMAND\n"
                 "       sprof-report --version\n"
                 "\n"
                 "Reads profiles written by libsprof.so (several files merge: a parent and\n"
                 "its children, as in 'profile.bin*') and prints a report.\n"
                 "\n"
                 "commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(out, "\n'sprof-report help COMMAND' describes a command's options.\n");
}

int main(int argc, char **argv)
{
    sprof_log_set_prefix("sprof-report");
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0) {
        printf("sprof-report %s\n", SPROF_VERSION_STRING);
        return 0;
    }
    if (strcmp(name, "help") == 0) {
        if (argc < 3) {
            usage(stdout);
            return 0;
        }
        const struct command *c = find(argv[2]);
        if (!c) {
            sprof_err("unknown command '%s' (see 'sprof-report --help')", argv[2]);
            return EXIT_USAGE;
        }
        cli_print_usage(c, stdout);
        return 0;
    }
    const struct command *c = find(name);
    if (!c) {
        if (name[0] == '-')
            sprof_err("unknown option '%s' (see 'sprof-report --help')", name);
        else
            sprof_err("unknown command '%s' (see 'sprof-report --help')", name);
        return EXIT_USAGE;
    }
    int rc = c->run(argc - 1, argv + 1);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        sprof_err("cannot write the report: %s", strerror(errno));
        return EXIT_USAGE;
    }
    return rc;
}
