/* SPDX-License-Identifier: MIT */
/*
 * Per-function CPU time of a set of runs: what `sprof-report baseline`
 * saves, what `sprof-report check` reads back and compares with new runs.
 *
 * A run is one execution of a benchmark: one profile file, or a directory
 * holding the files of one run (a program and its children). Functions are
 * matched by name and module basename, never by address, so rebuilding and
 * ASLR do not matter; static functions of one module that share a name are
 * one function here. Names are cleaned so that they are valid UTF-8 without
 * control characters (bytes that are not UTF-8 become "\xHH", control
 * characters '?'), the same way on both sides, so they still match.
 *
 * The file is JSON (format "sprof-baseline", version 1), keys sorted, one
 * function per line, functions sorted by name and module:
 *
 *   {
 *     "command": "./bench --size 10",
 *     "filters": "",                     (the filter options, as given)
 *     "format": "sprof-baseline",
 *     "functions": [
 *       {"module": "bench", "name": "parse", "self_ns": [..], "self_samples": [..],
 *        "total_ns": [..], "total_samples": [..]},        (one line in the file)
 *       ...
 *     ],
 *     "runs": [{"cpu_ns": N, "samples": N}, ...],
 *     "sprof": "0.1.0",
 *     "total": {"cpu_ns": N, "samples": N},
 *     "version": 1
 *   }
 *
 * Every per-function array has one value per run, in the order of "runs".
 * "total" is the sum over the runs. Functions with less than
 * BL_KEEP_SHARE of the samples (self and total) are left out.
 */
#ifndef SPROF_BASELINE_H
#define SPROF_BASELINE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "filter.h"
#include "profile.h"
#include "util.h"

#define BL_FORMAT "sprof-baseline"
#define BL_VERSION 1
#define BL_KEEP_SHARE 0.001 /* 0.1% */
#define BL_MAX_RUNS 100000

struct bl_func {
    const char *name, *module; /* cleaned; module "" when unknown */
    uint64_t *self, *total;    /* samples, one per run */
    uint64_t *self_ns, *total_ns;
};

struct bl_run {
    uint64_t samples, cpu_ns;
};

struct baseline {
    struct strtab strs;
    struct arena arena;
    const char *command;                 /* "" when unknown */
    const char *filters;                 /* the filter options of the runs, "" for none */
    const char *sprof;                   /* the sprof version that wrote it */
    uint64_t read_samples, kept_samples; /* bl_load_runs: before and after filters */
    size_t nruns;
    struct bl_run *runs;
    struct bl_func *funcs;
    size_t nfuncs, cap;
    struct u64map ix; /* (name, module) interned pointers -> index */
};

/* An empty set of nruns runs (at least 1). */
void bl_init(struct baseline *b, size_t nruns);
void bl_release(struct baseline *b);

/* The index of function (name, module) (cleaned names), or SIZE_MAX. (It
 * interns the names in b, hence not const.) */
size_t bl_find(struct baseline *b, const char *name, const char *module);

/* Reads the runs named by args[0..n) (each a profile file or a directory
 * with the profile files of one run) into b, which bl_init made for n
 * runs, with the filters flt (NULL for none) applied to each run. Prints
 * the error and returns -1 when a run cannot be read or has no samples;
 * cmd names the subcommand in messages. */
int bl_load_runs(struct baseline *b, const char *cmd, int n, char **args,
                 const struct filter_opts *flt);

/* Writes b as JSON. Returns 0, or -1 when writing failed (errno set). */
int bl_write(const struct baseline *b, FILE *out);

/* Writes b to path through a temporary file and a rename, so that a failure
 * leaves the old file whole; "-" is standard output. Prints the error and
 * returns -1 on failure. */
int bl_save(const struct baseline *b, const char *cmd, const char *path);

/* Reads a baseline file into b (not initialized before). Returns 0, or -1
 * with a one-line message naming the file in err (missing, not JSON, not a
 * baseline, a newer version, inconsistent values). */
int bl_read(struct baseline *b, const char *path, char *err, size_t errlen);

#endif
