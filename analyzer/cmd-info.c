/* SPDX-License-Identifier: MIT */
/*
 * sprof-report info: what each file says about its process and about the
 * recording itself, one block per file:
 *
 *   == profile.bin ==
 *   process     1234 (parent 1200)
 *   command     ./prog arg
 *   ...
 *
 * then threads, modules (with whether symbols were found) and notes. It
 * does not symbolize stacks, so it stays fast on big profiles.
 */
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "filter.h"
#include "output.h"
#include "symbolize.h"

static void field(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void field(const char *name, const char *fmt, ...)
{
    printf("%-12s", name);
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}

static const char *signal_name(uint32_t sig, char *buf, size_t n)
{
    const char *abbrev = sig < 128 ? sigabbrev_np((int)sig) : NULL;
    if (abbrev)
        snprintf(buf, n, "SIG%s", abbrev);
    else
        snprintf(buf, n, "signal %u", sig);
    return buf;
}

/* Lower and upper bound of the q-quantile of the handler-time histogram. */
static int hist_quantile(const uint64_t *hist, double q, uint64_t *lo, uint64_t *hi)
{
    uint64_t total = 0;
    for (unsigned i = 0; i < SPROF_HIST_BUCKETS; i++)
        total += hist[i];
    if (!total) return -1;
    uint64_t want = (uint64_t)(q * (double)total);
    if (want >= total) want = total - 1;
    uint64_t acc = 0;
    for (unsigned i = 0; i < SPROF_HIST_BUCKETS; i++) {
        acc += hist[i];
        if (acc > want) {
            *lo = i ? sprof_hist_bucket_lo(i) : 0;
            *hi = sprof_hist_bucket_lo(i + 1);
            return 0;
        }
    }
    return -1;
}

static const char *hist_range(const uint64_t *hist, double q, char *buf, size_t n)
{
    uint64_t lo, hi;
    if (hist_quantile(hist, q, &lo, &hi)) {
        snprintf(buf, n, "?");
        return buf;
    }
    char a[32], b[32];
    fmt_duration(a, sizeof(a), (double)lo);
    fmt_duration(b, sizeof(b), (double)hi);
    const char *ua = strchr(a, ' '), *ub = strchr(b, ' ');
    if (ua && ub && strcmp(ua, ub) == 0) /* same unit: "1.3-1.5 us" */
        snprintf(buf, n, "%.*s-%s", (int)(ua - a), a, b);
    else
        snprintf(buf, n, "%s-%s", a, b);
    return buf;
}

/* Samples and CPU time per thread after the filters (the whole file's
 * without filters). */
struct kept {
    uint64_t *samples, *ns;
};

static void print_threads(struct sp_profile *p, uint32_t proc, const struct kept *k)
{
    struct table t;
    table_init(&t, 6);
    table_set(&t, 0, TABLE_RIGHT, 0);
    table_set(&t, 1, TABLE_LEFT, 0);
    for (size_t i = 2; i < 6; i++)
        table_set(&t, i, TABLE_RIGHT, 0);
    table_add(&t, "TID");
    table_add(&t, "NAME");
    table_add(&t, "SAMPLES");
    table_add(&t, "SAMPLED");
    table_add(&t, "%");
    table_add(&t, "THREAD-CPU");
    const struct sp_process *pr = &p->procs[proc];
    size_t n = 0;
    char a[64];
    for (size_t i = 0; i < p->nthreads; i++) {
        const struct sp_thread *th = &p->threads[i];
        if (th->proc != proc) continue;
        n++;
        table_addf(&t, "%u", th->tid);
        table_add(&t, th->name[0] ? th->name : "-");
        table_addf(&t, "%llu", (unsigned long long)k->samples[i]);
        table_add(&t, fmt_seconds(a, sizeof(a), k->ns[i]));
        table_add(&t, fmt_percent(a, sizeof(a), k->ns[i], pr->weight_ns));
        table_add(&t, th->cpu_ns ? fmt_seconds(a, sizeof(a), th->cpu_ns) : "-");
    }
    field("threads", "%zu", n);
    if (n) table_print(&t, stdout, "    ");
    table_release(&t);
}

struct modrow {
    uint32_t module;
    uint64_t samples;
};

static int modrow_cmp(const void *a, const void *b)
{
    const struct modrow *x = a, *y = b;
    if (x->samples != y->samples) return x->samples > y->samples ? -1 : 1;
    return x->module < y->module ? -1 : x->module > y->module;
}

static void print_modules(struct sp_profile *p, uint32_t proc, const uint32_t *leafmod)
{
    const struct sp_process *pr = &p->procs[proc];
    struct modrow *rows = NULL;
    size_t n = 0, cap = 0;
    struct u64map ix = {0};
    for (uint32_t i = 0; i < pr->nmaps; i++) {
        const struct sp_mapping *m = &p->maps[pr->map_first + i];
        if (m->module == SP_NONE) continue;
        int added;
        u64map_put(&ix, m->module, 0, n, &added);
        if (!added) continue;
        GROW(rows, cap, n + 1);
        rows[n++] = (struct modrow){m->module, 0};
    }
    for (size_t i = 0; i < p->nsamples; i++) {
        const struct sp_sample *s = &p->samples[i];
        if (s->proc != proc || s->stack == SP_NONE) continue;
        uint32_t mod = leafmod[s->stack];
        if (pr->maps_ambiguous) { /* the leaf's module can change over time */
            const struct sp_rawstack *r = &p->raw[s->stack];
            const struct sp_mapping *m =
                r->nframes ? sp_profile_find_map(p, proc, p->frames[r->off], s->time) : NULL;
            mod = m ? m->module : SP_NONE;
        }
        uint64_t *v = mod == SP_NONE ? NULL : u64map_get(&ix, mod, 0);
        if (v) rows[*v].samples++;
    }
    if (n) qsort(rows, n, sizeof(*rows), modrow_cmp);

    struct table t;
    table_init(&t, 4);
    table_set(&t, 0, TABLE_RIGHT, 0);
    table_add(&t, "SELF");
    table_add(&t, "MODULE");
    table_add(&t, "BUILD-ID");
    table_add(&t, "SYMBOLS");
    for (size_t i = 0; i < n; i++) {
        const struct sp_module *mo = &p->modules[rows[i].module];
        char bid[129];
        sp_hex(mo->build_id, mo->build_id_len, bid);
        table_addf(&t, "%llu", (unsigned long long)rows[i].samples);
        table_add(&t, mo->path);
        table_add(&t, bid[0] ? bid : "-");
        struct sp_module_status st;
        sp_module_status(p, rows[i].module, &st);
        char text[PATH_MAX + 256];
        if (!st.found) {
            snprintf(text, sizeof(text), "no symbols (%s)", st.why ? st.why : "unreadable");
        } else {
            const char *what = st.has_dwarf    ? "debug info"
                               : st.has_symtab ? "symbol table, no debug info"
                               : st.nfuncs     ? "exported symbols only"
                                               : "no symbols (stripped)";
            int n2 = snprintf(text, sizeof(text), "%s", what);
            if (st.debug_file && n2 >= 0 && (size_t)n2 < sizeof(text))
                n2 += snprintf(text + n2, sizeof(text) - (size_t)n2, " in '%s'", st.debug_file);
            else if (strcmp(st.file, mo->path) != 0 && n2 >= 0 && (size_t)n2 < sizeof(text))
                n2 += snprintf(text + n2, sizeof(text) - (size_t)n2, " in '%s'", st.file);
            if (st.build_id_mismatch && n2 >= 0 && (size_t)n2 < sizeof(text))
                snprintf(text + n2, sizeof(text) - (size_t)n2,
                         " (the file on disk is another build: %s)", st.disk_build_id);
        }
        if (!st.found && st.build_id_mismatch) {
            size_t l = strlen(text);
            snprintf(text + l, sizeof(text) - l, ", on disk %s", st.disk_build_id);
        }
        table_add(&t, text);
    }
    field("modules", "%zu", n);
    if (n) table_print(&t, stdout, "    ");
    table_release(&t);
    u64map_release(&ix);
    free(rows);
}

static void print_process(struct sp_profile *p, uint32_t proc, const uint32_t *leafmod,
                          const struct kept *kp, const struct filter_opts *flt)
{
    const struct sp_process *pr = &p->procs[proc];
    char a[256], b[128], c[128], d[128];
    printf("== %s ==\n", pr->file);
    if (pr->has_process)
        field("process", "%u (parent %u)", pr->pid, pr->ppid);
    else
        field("process", "%u (no process record: lost with a damaged chunk?)", pr->header_pid);
    if (pr->has_process) {
        printf("%-12s", "command");
        for (uint32_t i = 0; i < pr->argc; i++)
            printf("%s%s", i ? " " : "", pr->argv[i]);
        putchar('\n');
        field("executable", "%s", pr->exe[0] ? pr->exe : "?");
        time_t sec = (time_t)(pr->start_realtime_ns / 1000000000u);
        struct tm tm;
        if (pr->start_realtime_ns && localtime_r(&sec, &tm)) {
            strftime(a, sizeof(a), "%Y-%m-%d %H:%M:%S", &tm);
            strftime(b, sizeof(b), "%Z", &tm);
            field("started", "%s.%03u %s", a,
                  (unsigned)(pr->start_realtime_ns % 1000000000u / 1000000u), b);
        }
    }
    uint64_t start = pr->has_process ? pr->start_mono_ns : pr->first_time;
    uint64_t end = pr->has_end ? pr->end_time : pr->last_time;
    uint64_t wall = end > start ? end - start : 0;
    field("duration", "%s%s", fmt_seconds(a, sizeof(a), wall),
          pr->has_end ? "" : " (until the last record)");
    if (pr->has_end) {
        if (strcmp(pr->end_reason, "signal") == 0)
            field("ended", "killed by signal %s%s",
                  signal_name((uint32_t)pr->end_status, a, sizeof(a)),
                  pr->end_status == SIGABRT ? " (abort)" : "");
        else if (strcmp(pr->end_reason, "exec") == 0)
            field("ended", "exec (the new program writes a file of its own)");
        else
            field("ended", "%s, status %llu", pr->end_reason, (unsigned long long)pr->end_status);
    } else {
        field("ended", "no end record: killed by SIGKILL, still running, or cut short; read up "
                       "to its last chunk");
    }
    if (pr->has_config) {
        const struct sp_config *k = &pr->config;
        field("config",
              "%s at %llu Hz (period %s), backend %s, unwinder %s, signal %s, "
              "max depth %llu",
              k->event[0] ? k->event : "?", (unsigned long long)k->freq_hz,
              fmt_duration(a, sizeof(a), (double)k->period_ns), k->backend, k->unwinder,
              signal_name(k->signal, b, sizeof(b)), (unsigned long long)k->max_depth);
    } else {
        field("config", "no config record");
    }

    const uint64_t *ctr = pr->counters;
    if (pr->has_counters)
        field("samples",
              "%llu in the file; recorder: %llu taken, %llu lost, %llu truncated, "
              "%llu reentered",
              (unsigned long long)pr->nsamples, (unsigned long long)ctr[SPROF_CTR_SAMPLES],
              (unsigned long long)ctr[SPROF_CTR_LOST], (unsigned long long)ctr[SPROF_CTR_TRUNCATED],
              (unsigned long long)ctr[SPROF_CTR_REENTERED]);
    else
        field("samples", "%llu in the file (no counters record)", (unsigned long long)pr->nsamples);
    field("cpu time", "%s sampled", fmt_seconds(a, sizeof(a), pr->weight_ns));
    if (filter_active(flt)) {
        uint64_t n = 0, ns = 0;
        for (size_t i = 0; i < p->nthreads; i++) {
            if (p->threads[i].proc != proc) continue;
            n += kp->samples[i];
            ns += kp->ns[i];
        }
        printf("%-12s%llu samples, %s CPU pass the filters (", "filtered", (unsigned long long)n,
               fmt_seconds(a, sizeof(a), ns));
        filter_describe(flt, stdout);
        printf(")\n");
    }
    if (pr->nsamples) {
        /* Honest rate: samples of threads whose real CPU time is known
         * (THREAD_END) per second of that time; then per second of sampled
         * CPU (the weights) and per wall second. */
        uint64_t known_cpu = 0, known_samples = 0;
        for (size_t i = 0; i < p->nthreads; i++) {
            const struct sp_thread *th = &p->threads[i];
            if (th->proc != proc || !th->cpu_ns) continue;
            known_cpu += th->cpu_ns;
            known_samples += th->nsamples;
        }
        char req[64] = "";
        if (pr->has_config)
            snprintf(req, sizeof(req), " (requested %llu Hz)",
                     (unsigned long long)pr->config.freq_hz);
        char *o = a;
        size_t left = sizeof(a);
        int w = 0;
        if (known_cpu)
            w = snprintf(o, left, "%.1f samples per second of thread CPU time%s; ",
                         (double)known_samples / ((double)known_cpu / 1e9), req);
        if (w > 0 && (size_t)w < left) o += w, left -= (size_t)w;
        if (pr->weight_ns)
            w = snprintf(o, left, "%.1f per second of sampled CPU%s",
                         (double)pr->nsamples / ((double)pr->weight_ns / 1e9),
                         known_cpu ? "" : req);
        else
            w = 0;
        if (w > 0 && (size_t)w < left) o += w, left -= (size_t)w;
        if (wall)
            snprintf(o, left, "%s%.1f per wall second", o == a ? "" : "; ",
                     (double)pr->nsamples / ((double)wall / 1e9));
        field("rate", "%s", a);
    }
    field("stacks", "%llu distinct", (unsigned long long)pr->nstacks);
    if (pr->nsamples)
        field("size", "%s, %.1f bytes per sample", fmt_bytes(a, sizeof(a), pr->file_size),
              (double)pr->file_size / (double)pr->nsamples);
    else
        field("size", "%s", fmt_bytes(a, sizeof(a), pr->file_size));
    if (pr->has_counters) {
        uint64_t taken = ctr[SPROF_CTR_SAMPLES];
        if (taken) {
            fmt_duration(a, sizeof(a), (double)ctr[SPROF_CTR_HANDLER_NS] / (double)taken);
            field("handler", "%s per sample on average, median %s, p99 %s", a,
                  hist_range(pr->hist, 0.5, b, sizeof(b)),
                  hist_range(pr->hist, 0.99, c, sizeof(c)));
        }
        if (taken && pr->has_config && strcmp(pr->config.unwinder, "dwarf") == 0) {
            field("fallbacks", "%llu of %llu samples walked by libunwind, not the unwind tables",
                  (unsigned long long)ctr[SPROF_CTR_UNWIND_FALLBACK], (unsigned long long)taken);
            char early[64] = "";
            if (ctr[SPROF_CTR_TABLES_EARLY])
                snprintf(early, sizeof(early), " (%llu before a first walk)",
                         (unsigned long long)ctr[SPROF_CTR_TABLES_EARLY]);
            field("tables",
                  "%llu built, %llu mapped from the cache%s; %llu frames looked up in "
                  ".eh_frame in place",
                  (unsigned long long)ctr[SPROF_CTR_TABLES_BUILT],
                  (unsigned long long)ctr[SPROF_CTR_TABLES_CACHED], early,
                  (unsigned long long)ctr[SPROF_CTR_UNWIND_INPLACE]);
        }
        fmt_duration(a, sizeof(a), (double)ctr[SPROF_CTR_WRITER_CPU_NS]);
        if (pr->weight_ns)
            field("writer", "%s CPU (%s of the profiled CPU time)", a,
                  fmt_percent(d, sizeof(d), ctr[SPROF_CTR_WRITER_CPU_NS], pr->weight_ns));
        else
            field("writer", "%s CPU", a);
    }
    snprintf(a, sizeof(a), "%llu intact, %llu damaged", (unsigned long long)pr->chunks_ok,
             (unsigned long long)pr->chunks_bad);
    if (pr->bytes_skipped)
        snprintf(b, sizeof(b), ", %llu bytes skipped", (unsigned long long)pr->bytes_skipped);
    else
        b[0] = 0;
    field("chunks", "%s%s%s", a, b, pr->truncated ? ", truncated at the end" : "");
    if (pr->bad_records || pr->unknown_stack)
        field("damage", "%llu malformed records skipped, %llu samples with a missing stack",
              (unsigned long long)pr->bad_records, (unsigned long long)pr->unknown_stack);
    print_threads(p, proc, kp);
    print_modules(p, proc, leafmod);
    if (pr->nnotes) {
        field("notes", "%zu", pr->nnotes);
        static const char *const level[] = {"info", "warning", "error"};
        for (size_t i = 0; i < pr->nnotes; i++) {
            const struct sp_note *n = &pr->notes[i];
            double at = n->time > start ? (double)(n->time - start) / 1e9 : 0.0;
            printf("    +%.3f s  %s: %s\n", at, level[n->level], n->text);
        }
    }
}

static const char usage_text[] =
    "usage: sprof-report info FILE...\n"
    "\n"
    "For each file: the process (pid, command, executable, start,\n"
    "duration, how it ended), the recording (event, rate requested and\n"
    "achieved, backend, unwinder), samples lost and truncated, the\n"
    "recorder's own cost (signal handler time per sample, writer CPU),\n"
    "threads with their samples and CPU time, modules and whether their\n"
    "symbols were found, notes from the recorder, and file damage.\n"
    "With filters, only the processes --pid selects are shown, and the\n"
    "thread and module tables count the samples the filters keep.\n"
    "\n"
    "options:\n"
    "  -h, --help            this text\n" FILTER_USAGE;

static int run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'},
        FILTER_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    struct filter_opts flt;
    filter_init(&flt);
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (filter_is_option(c)) {
            if (filter_parse(&flt, "info", c, optarg)) goto usage;
            continue;
        }
        switch (c) {
        case 'h':
            fputs(usage_text, stdout);
            filter_release(&flt);
            return 0;
        default:
            cli_bad_option("info", argv, c);
            goto usage;
        }
    }
    struct sp_profile *p = cli_load("info", argc - optind, argv + optind);
    if (!p) goto usage;
    filter_apply(p, &flt);
    struct kept k;
    k.samples = xcalloc(p->nthreads ? p->nthreads : 1, sizeof(*k.samples));
    k.ns = xcalloc(p->nthreads ? p->nthreads : 1, sizeof(*k.ns));
    for (size_t i = 0; i < p->nsamples; i++) {
        k.samples[p->samples[i].thread]++;
        k.ns[p->samples[i].thread] += p->samples[i].weight_ns;
    }

    /* the module of each raw stack's leaf, at the time it was first sampled */
    uint32_t *leafmod = xmalloc((p->nraw ? p->nraw : 1) * sizeof(*leafmod));
    memset(leafmod, 0xff, (p->nraw ? p->nraw : 1) * sizeof(*leafmod));
    uint8_t *done = xcalloc(p->nraw ? p->nraw : 1, 1);
    for (size_t i = 0; i < p->nsamples; i++) {
        const struct sp_sample *s = &p->samples[i];
        if (s->stack == SP_NONE || done[s->stack]) continue;
        done[s->stack] = 1;
        const struct sp_rawstack *r = &p->raw[s->stack];
        if (!r->nframes) continue;
        const struct sp_mapping *m = sp_profile_find_map(p, r->proc, p->frames[r->off], s->time);
        if (m) leafmod[s->stack] = m->module;
    }
    free(done);

    int first = 1;
    for (size_t i = 0; i < p->nprocs; i++) {
        if (!filter_selects_proc(&flt, p, (uint32_t)i)) continue;
        if (!first) putchar('\n');
        first = 0;
        print_process(p, (uint32_t)i, leafmod, &k, &flt);
    }
    if (p->nprocs > 1) {
        struct sp_totals t;
        sp_profile_totals(p, &t);
        char a[64], b[64], d[64], e[64];
        printf("\n== total ==\n");
        field("merged", "%s, %s, %s, %s CPU", fmt_count(a, sizeof(a), p->nprocs, "file"),
              fmt_count(b, sizeof(b), t.samples, "sample"),
              fmt_count(d, sizeof(d), p->nthreads, "thread"),
              fmt_seconds(e, sizeof(e), t.weight_ns));
    }
    free(leafmod);
    free(k.samples);
    free(k.ns);
    sp_profile_free(p);
    filter_release(&flt);
    return 0;
usage:
    filter_release(&flt);
    return EXIT_USAGE;
}

const struct command cmd_info = {"info", run, "processes, threads, modules and recording details",
                                 usage_text};
