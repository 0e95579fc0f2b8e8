/* SPDX-License-Identifier: MIT */
/*
 * Logging for both programs. Messages are lowercase, without a full stop,
 * with names in quotes. Each program sets its prefix once ("sprof",
 * "sprof-report"); messages go to stderr as "PREFIX: [warning: ]TEXT\n".
 * The preload must not use these from the signal handler.
 */
#ifndef SPROF_LOG_H
#define SPROF_LOG_H

#include <stdarg.h>

void sprof_log_set_prefix(const char *prefix);
void sprof_log_set_quiet(int quiet); /* suppresses info and warnings */
void sprof_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void sprof_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void sprof_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
