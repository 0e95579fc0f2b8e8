/* SPDX-License-Identifier: MIT */
/*
 * timer.c's sprof_open and sprof_opendir, for the tools that link cfi.c
 * without the rest of the preload: plain open and opendir (the tools never
 * run with their standard descriptors closed); and threads.c's start's
 * arena, which has no room here (cfi.c's sets go to the heap). Included
 * once by each.
 */
#include <dirent.h>
#include <fcntl.h>

int sprof_open(const char *path, int flags, unsigned mode)
{
    return open(path, flags | O_CLOEXEC, (mode_t)mode);
}

DIR *sprof_opendir(const char *path)
{
    return opendir(path);
}

void *sprof_start_alloc(size_t n)
{
    (void)n;
    return NULL;
}

int sprof_start_owns(const void *p)
{
    (void)p;
    return 0;
}
