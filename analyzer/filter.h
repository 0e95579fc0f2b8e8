/* SPDX-License-Identifier: MIT */
/*
 * Filters of every report (ARCHITECTURE invariant 6): they apply to the one
 * model once, before any aggregation, so that every report is a view of the
 * same filtered profile and its percentages are of the filtered total.
 *
 *   --pid PID           samples of that process (repeatable: any of them)
 *   --tid TID|NAME      samples of that thread, by id or by name (repeatable)
 *   --time START..END   samples taken between START and END seconds after the
 *                       start of the profile (the earliest process start);
 *                       either end may be left out: "2..", "..0.5"
 *   --focus REGEX       only stacks with a frame whose function matches
 *                       (repeatable: any of them)
 *   --hide REGEX        drop the frames whose function matches (repeatable)
 *   --no-inline         drop inlined frames: the time of an inlined call is
 *                       its caller's, at the line of the call
 *   --max-depth N       keep the N outermost frames of each stack; the
 *                       frames below are folded into the Nth
 *
 * Regexes are POSIX extended, matched anywhere in the demangled function
 * name (anchor with ^ and $ for a whole name). Stack filters run in this
 * order: --no-inline, --focus, --hide, --max-depth; a stack left with no
 * frame (every frame hidden) drops its samples.
 *
 * Use in a command (cmd-NAME.c):
 *
 *   static const struct option opts[] = {{"limit", ...}, FILTER_LONG_OPTIONS, {NULL, 0, NULL, 0}};
 *   struct filter_opts flt;
 *   filter_init(&flt);
 *   while ((c = getopt_long(...)) != -1) {
 *       if (filter_is_option(c)) {
 *           if (filter_parse(&flt, "NAME", c, optarg)) { filter_release(&flt); return EXIT_USAGE; }
 *           continue;
 *       }
 *       switch (c) { ... }
 *   }
 *   p = cli_load(...);
 *   filter_apply(p, &flt);   // before any aggregation
 *   sp_symbolize(p);         // a no-op when filter_apply already did it
 *   ...
 *   filter_release(&flt);
 *
 * and FILTER_USAGE inside the command's usage text.
 */
#ifndef SPROF_FILTER_H
#define SPROF_FILTER_H

#include <getopt.h>
#include <regex.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "profile.h"

/* getopt_long values of the filter options; commands use other values */
enum {
    FILTER_OPT_PID = 0x4600,
    FILTER_OPT_TID,
    FILTER_OPT_TIME,
    FILTER_OPT_FOCUS,
    FILTER_OPT_HIDE,
    FILTER_OPT_NO_INLINE,
    FILTER_OPT_MAX_DEPTH,
    FILTER_OPT_END_
};

/* Entries for a command's struct option table (no trailing terminator). */
// clang-format off
#define FILTER_LONG_OPTIONS                                                                        \
    {"pid", required_argument, NULL, FILTER_OPT_PID},                                              \
    {"tid", required_argument, NULL, FILTER_OPT_TID},                                              \
    {"time", required_argument, NULL, FILTER_OPT_TIME},                                            \
    {"focus", required_argument, NULL, FILTER_OPT_FOCUS},                                          \
    {"hide", required_argument, NULL, FILTER_OPT_HIDE},                                            \
    {"no-inline", no_argument, NULL, FILTER_OPT_NO_INLINE},                                        \
    {"max-depth", required_argument, NULL, FILTER_OPT_MAX_DEPTH}
// clang-format on

/* The filters' lines for a command's --help text. */
#define FILTER_USAGE                                                                               \
    "filters (percentages are of what they keep):\n"                                               \
    "  --pid PID             samples of this process (repeatable)\n"                               \
    "  --tid TID|NAME        samples of this thread, by id or name (repeatable)\n"                 \
    "  --time START..END     samples from START to END seconds after the start;\n"                 \
    "                        either end may be left out (2.5.., ..10)\n"                           \
    "  --focus REGEX         only stacks through a function matching REGEX\n"                      \
    "  --hide REGEX          remove the frames of functions matching REGEX\n"                      \
    "  --no-inline           remove inlined frames (their time goes to the caller)\n"              \
    "  --max-depth N         keep the N outermost frames of every stack\n"

struct filter_regex {
    char *src;
    regex_t re;
};

struct filter_opts {
    uint32_t *pids;
    size_t npids, pids_cap;
    char **tids; /* "TID" or a thread name, as given */
    size_t ntids, tids_cap;
    int has_time;
    double time_from, time_to; /* seconds; time_to is INFINITY for an open end */
    char *time_src;
    struct filter_regex *focus, *hide;
    size_t nfocus, focus_cap, nhide, hide_cap;
    int no_inline;
    uint32_t max_depth; /* 0: no limit */
};

void filter_init(struct filter_opts *f);
/* Frees what f holds; accepts a zeroed or released f. */
void filter_release(struct filter_opts *f);

/* Whether opt (what getopt_long returned) is one of FILTER_LONG_OPTIONS. */
int filter_is_option(int opt);
/* Takes the value of filter option opt. Returns 0, or EXIT_USAGE after
 * printing a usage error for command cmd (bad number, range or regex). */
int filter_parse(struct filter_opts *f, const char *cmd, int opt, const char *arg);

/* Any filter set / one that needs symbolic stacks (focus, hide, no-inline,
 * max-depth). */
int filter_active(const struct filter_opts *f);
int filter_on_stacks(const struct filter_opts *f);

/* Whether process proc passes --pid (for reports that list processes). */
int filter_selects_proc(const struct filter_opts *f, const struct sp_profile *p, uint32_t proc);

/* Applies f to p once, before any aggregation: removes the samples of other
 * processes, threads and times from p->samples (order kept); with stack
 * filters, symbolizes p (sp_symbolize) and points every remaining sample at
 * a rewritten symbolic stack (appended to p->stacks; the stacks before stay
 * valid), dropping the samples --focus rejects or --hide leaves empty.
 * Raw stacks (sample.stack) are untouched. A --pid or --tid that selects
 * nothing is a warning. Returns the number of samples kept. */
size_t filter_apply(struct sp_profile *p, const struct filter_opts *f);

/* The monotonic time, in ns, that --time counts from: the earliest process
 * start (or first record) of p; 0 when p has none. */
uint64_t filter_time_origin(const struct sp_profile *p);

/* Writes the filters as command-line options ("--pid 12 --hide 'x'") to
 * out; nothing when none is set. For report headers. */
void filter_describe(const struct filter_opts *f, FILE *out);

/* For text reports: when a filter is set, writes the header line
 * "# filters: OPTIONS (kept N of M samples)" to out; M is the number of
 * samples before filter_apply. */
void filter_print_note(const struct filter_opts *f, size_t before, size_t after, FILE *out);

#endif
