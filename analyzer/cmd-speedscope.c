/* SPDX-License-Identifier: MIT */
/*
 * sprof-report speedscope: the profile in speedscope's file format
 * (https://www.speedscope.app/file-format-schema.json), for its time-order,
 * left-heavy and sandwich views:
 *
 *   {"$schema": "...", "exporter": "sprof-report 0.1.0", "name": "...",
 *    "activeProfileIndex": 0,
 *    "shared": {"frames": [{"name": "main", "file": "/src/x.c", "line": 12}, ...]},
 *    "profiles": [{"type": "sampled", "name": "prog 123/124 worker",
 *                  "unit": "nanoseconds", "startValue": 0, "endValue": 5000000,
 *                  "samples": [[0, 3, 7], ...], "weights": [1000000, ...]}, ...]}
 *
 * One frame per function (name, declaration file and line). One sampled
 * profile per thread that has samples, its samples in time order, each a
 * stack of frame indexes from the root, weighted by its CPU time; runs of
 * one stack in a row are one entry with the summed weight. endValue is the
 * thread's CPU time in the profile. activeProfileIndex is the busiest
 * thread.
 */
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "filter.h"
#include "json.h"
#include "log.h"
#include "output.h"
#include "symbolize.h"

#ifndef SPROF_VERSION_STRING
#define SPROF_VERSION_STRING "unknown"
#endif

static const char usage_text[] =
    "usage: sprof-report speedscope [-o FILE] [OPTIONS] FILE...\n"
    "\n"
    "The profile in speedscope's JSON format (https://www.speedscope.app): one\n"
    "sampled profile per thread, samples in time order, weights in nanoseconds\n"
    "of CPU time.\n"
    "\n"
    "options:\n"
    "  -o, --output FILE     write to FILE (default: standard output)\n"
    "  -h, --help            this text\n"
    "\n" FILTER_USAGE;

static const struct sp_sample *sort_samples;

/* by thread, then time, then position (a stable order) */
static int by_thread_time(const void *a, const void *b)
{
    uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
    const struct sp_sample *x = &sort_samples[i], *y = &sort_samples[j];
    if (x->thread != y->thread) return x->thread < y->thread ? -1 : 1;
    if (x->time != y->time) return x->time < y->time ? -1 : 1;
    return i < j ? -1 : i > j;
}

/* Writes the JSON to out. */
static void write_json(FILE *out, struct sp_profile *p)
{
    /* frames: the functions that occur, in order of first use */
    uint32_t *frame_of = xmalloc((p->nfuncs ? p->nfuncs : 1) * sizeof(*frame_of));
    memset(frame_of, 0xff, (p->nfuncs ? p->nfuncs : 1) * sizeof(*frame_of));
    uint32_t *funcs = NULL;
    size_t nframes = 0, fcap = 0;
    uint32_t *order = xmalloc((p->nsamples ? p->nsamples : 1) * sizeof(*order));
    for (size_t i = 0; i < p->nsamples; i++)
        order[i] = (uint32_t)i;
    sort_samples = p->samples;
    if (p->nsamples) qsort(order, p->nsamples, sizeof(*order), by_thread_time);
    for (size_t k = 0; k < p->nsamples; k++) {
        const struct sp_stack *st = &p->stacks[p->samples[order[k]].sym];
        for (uint32_t i = 0; i < st->n; i++) {
            uint32_t fn = p->sframes[p->stack_frames[st->off + i]].func;
            if (frame_of[fn] != SP_NONE) continue;
            frame_of[fn] = (uint32_t)nframes;
            GROW(funcs, fcap, nframes + 1);
            funcs[nframes++] = fn;
        }
    }

    const struct sp_process *pr0 = p->nprocs ? &p->procs[0] : NULL;
    fputs("{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\",\n", out);
    fputs("\"exporter\":\"sprof-report " SPROF_VERSION_STRING "\",\n\"name\":", out);
    {
        char name[256];
        snprintf(name, sizeof(name), "%s%s", pr0 && pr0->comm[0] ? pr0->comm : "sprof profile",
                 p->nprocs > 1 ? " and children" : "");
        json_put_string(out, name, JSON_ESCAPE_MARKUP);
    }
    /* the busiest thread is shown first */
    uint32_t active = 0, nprof = 0;
    uint64_t best = 0;
    for (size_t k = 0; k < p->nsamples;) {
        uint32_t th = p->samples[order[k]].thread;
        uint64_t w = 0;
        for (; k < p->nsamples && p->samples[order[k]].thread == th; k++)
            w += p->samples[order[k]].weight_ns;
        if (w > best || nprof == 0) {
            best = w;
            active = nprof;
        }
        nprof++;
    }
    fprintf(out, ",\n\"activeProfileIndex\":%u,\n\"shared\":{\"frames\":[", active);
    for (size_t i = 0; i < nframes; i++) {
        const struct sp_func *f = &p->funcs[funcs[i]];
        fputs(i ? ",\n{\"name\":" : "\n{\"name\":", out);
        json_put_string(out, f->name, JSON_ESCAPE_MARKUP);
        if (f->file[0]) {
            fputs(",\"file\":", out);
            json_put_string(out, f->file, JSON_ESCAPE_MARKUP);
        }
        if (f->line) fprintf(out, ",\"line\":%u", f->line);
        fputc('}', out);
    }
    fputs("]},\n\"profiles\":[", out);
    size_t k = 0;
    for (uint32_t np = 0; k < p->nsamples; np++) {
        uint32_t th = p->samples[order[k]].thread;
        const struct sp_thread *t = &p->threads[th];
        const struct sp_process *pr = &p->procs[t->proc];
        size_t end = k;
        uint64_t total = 0;
        while (end < p->nsamples && p->samples[order[end]].thread == th)
            total += p->samples[order[end++]].weight_ns;
        char name[512];
        snprintf(name, sizeof(name), "%s %u/%u %s", pr->comm[0] ? pr->comm : "pid", pr->pid, t->tid,
                 sp_thread_name(t));
        fputs(np ? ",\n{\"type\":\"sampled\",\"name\":" : "\n{\"type\":\"sampled\",\"name\":", out);
        json_put_string(out, name, JSON_ESCAPE_MARKUP);
        fprintf(out, ",\"unit\":\"nanoseconds\",\"startValue\":0,\"endValue\":%llu,\n\"samples\":[",
                (unsigned long long)total);
        /* runs of one stack are one entry */
        size_t nruns = 0;
        for (size_t i = k; i < end;) {
            uint32_t sym = p->samples[order[i]].sym;
            while (i < end && p->samples[order[i]].sym == sym)
                i++;
            const struct sp_stack *st = &p->stacks[sym];
            /* made in a buffer, not a fprintf a frame (output.h, put_dec) */
            char buf[4096], *q = buf;
            if (nruns++) *q++ = ',';
            *q++ = '[';
            for (uint32_t j = 0; j < st->n; j++) {
                if (q - buf > (ptrdiff_t)sizeof(buf) - 24) {
                    fwrite(buf, 1, (size_t)(q - buf), out);
                    q = buf;
                }
                if (j) *q++ = ',';
                q = put_dec(q, frame_of[p->sframes[p->stack_frames[st->off + j]].func]);
            }
            *q++ = ']';
            fwrite(buf, 1, (size_t)(q - buf), out);
        }
        fputs("],\n\"weights\":[", out);
        nruns = 0;
        for (size_t i = k; i < end;) {
            uint32_t sym = p->samples[order[i]].sym;
            uint64_t w = 0;
            for (; i < end && p->samples[order[i]].sym == sym; i++)
                w += p->samples[order[i]].weight_ns;
            char num[24], *q = num;
            if (nruns++) *q++ = ',';
            q = put_dec(q, w);
            fwrite(num, 1, (size_t)(q - num), out);
        }
        fputs("]}", out);
        k = end;
    }
    fputs("]}\n", out);
    free(order);
    free(funcs);
    free(frame_of);
}

static int run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        FILTER_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    const char *path = NULL;
    struct filter_opts flt;
    filter_init(&flt);
    optind = 0;
    opterr = 0;
    int c, rc = EXIT_USAGE;
    while ((c = getopt_long(argc, argv, ":ho:", opts, NULL)) != -1) {
        if (filter_is_option(c)) {
            if (filter_parse(&flt, "speedscope", c, optarg)) goto out;
            continue;
        }
        switch (c) {
        case 'o':
            path = optarg;
            break;
        case 'h':
            fputs(usage_text, stdout);
            rc = 0;
            goto out;
        default:
            cli_bad_option("speedscope", argv, c);
            goto out;
        }
    }
    struct sp_profile *p = cli_load("speedscope", argc - optind, argv + optind);
    if (!p) goto out;
    filter_apply(p, &flt);
    sp_symbolize(p);
    FILE *out = cli_open_output(path);
    if (out) {
        write_json(out, p);
        rc = cli_close_output(out, path);
    }
    sp_profile_free(p);
out:
    filter_release(&flt);
    return rc;
}

const struct command cmd_speedscope = {
    "speedscope", run, "export to speedscope's JSON format, a profile per thread", usage_text};
