/* SPDX-License-Identifier: MIT */
/*
 * timer.c's sprof_open and sprof_dir_each, for the tools that link cfi.c
 * without the rest of the preload: plain open and readdir (the tools never
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

int sprof_dir_each(int fd, void (*fn)(const char *name, void *arg), void *arg)
{
    DIR *d = fdopendir(dup(fd));
    if (!d) return -1;
    for (struct dirent *e; (e = readdir(d));)
        fn(e->d_name, arg);
    closedir(d);
    return 0;
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
