/* SPDX-License-Identifier: MIT */
/*
 * timer.c's sprof_open and sprof_opendir, for the tools that link cfi.c
 * without the rest of the preload: plain open and opendir (the tools never
 * run with their standard descriptors closed). Included once by each.
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
