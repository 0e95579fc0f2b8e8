/* SPDX-License-Identifier: MIT */
#include "log.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *log_prefix = "sprof";
static int log_quiet;

/* cold: run at a preload's start (preload/sprof.h, SPROF_ONCE) */
__attribute__((cold)) void sprof_log_set_prefix(const char *prefix)
{
    log_prefix = prefix;
}

__attribute__((cold)) void sprof_log_set_quiet(int quiet)
{
    log_quiet = quiet;
}

/* One write(2) per message, so that lines from several processes sharing a
 * terminal do not interleave, and no stdio state of the host is touched. */
static void emit(const char *kind, const char *fmt, va_list ap)
{
    char line[1024];
    int n = snprintf(line, sizeof(line), "%s: %s", log_prefix, kind);
    if (n < 0) return;
    if ((size_t)n < sizeof(line)) {
        int m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
        if (m > 0) n += m;
    }
    if ((size_t)n >= sizeof(line) - 1) n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    ssize_t w = write(2, line, (size_t)n);
    (void)w;
}

void sprof_err(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit("", fmt, ap);
    va_end(ap);
}

void sprof_warn(const char *fmt, ...)
{
    if (log_quiet) return;
    va_list ap;
    va_start(ap, fmt);
    emit("warning: ", fmt, ap);
    va_end(ap);
}

void sprof_info(const char *fmt, ...)
{
    if (log_quiet) return;
    va_list ap;
    va_start(ap, fmt);
    emit("", fmt, ap);
    va_end(ap);
}
