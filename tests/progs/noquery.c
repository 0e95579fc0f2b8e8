/* SPDX-License-Identifier: MIT */
/*
 * A preload that makes the kernel look older than Linux 6.11 to sprof: the
 * PROCMAP_QUERY ioctl on /proc/self/maps fails with ENOTTY, as it does
 * there, so that sprof reads the text of the maps instead (preload/maps.c).
 * Every other ioctl goes to libc. At exit it writes "noquery: N refused, X
 * executable" (X: the queries for executable mappings, the comparisons of
 * preload/maps.c, not a thread's stack's) to the file $NOQUERY_LOG names,
 * if any (not to stderr, which the cases check is clean).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define PROCMAP_QUERY 0xC0686611ul /* _IOWR('f', 17, struct procmap_query) */

#define VMA_EXECUTABLE 0x04 /* PROCMAP_QUERY_VMA_EXECUTABLE */

static long refused, executable;

int ioctl(int fd, unsigned long request, ...)
{
    va_list ap;
    va_start(ap, request);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    if (request == PROCMAP_QUERY) {
        __sync_fetch_and_add(&refused, 1);
        /* struct procmap_query: u64 size, u64 query_flags, ... */
        if (arg && ((const unsigned long long *)arg)[1] & VMA_EXECUTABLE)
            __sync_fetch_and_add(&executable, 1);
        errno = ENOTTY;
        return -1;
    }
    static int (*next)(int, unsigned long, ...);
    if (!next) *(void **)&next = dlsym(RTLD_NEXT, "ioctl");
    return next ? next(fd, request, arg) : (errno = ENOSYS, -1);
}

__attribute__((destructor)) static void report(void)
{
    const char *path = getenv("NOQUERY_LOG");
    if (!path) return;
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return;
    char line[64];
    int n =
        snprintf(line, sizeof(line), "noquery: %ld refused, %ld executable\n", refused, executable);
    if (n > 0) (void)!write(fd, line, (size_t)n);
    close(fd);
}
