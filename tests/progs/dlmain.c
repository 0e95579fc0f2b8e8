/* SPDX-License-Identifier: MIT */
/*
 * dlmain: dlopens LIBRARY at run time and calls its hot_in_library (about
 * MS milliseconds of CPU), then, with "close", dlcloses it and burns a
 * little more CPU in main_after_library, so that the library is gone well
 * before the process ends.
 *
 * Usage: dlmain LIBRARY [close|keep] [MS]   (default keep, 500 ms)
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "burn.h"

__attribute__((noinline, noclone)) void main_after_library(long n)
{
    BURN(n, 0x3c6ef372fe94f82bull);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: dlmain LIBRARY [close|keep] [MS]\n");
        return 2;
    }
    int close_it = argc > 2 && strcmp(argv[2], "close") == 0;
    double ms = argc > 3 ? atof(argv[3]) : 500;
    void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "dlmain: %s\n", dlerror());
        return 1;
    }
    void (*hot)(long) = (void (*)(long))dlsym(h, "hot_in_library");
    if (!hot) {
        fprintf(stderr, "dlmain: %s\n", dlerror());
        return 1;
    }
    hot(burn_iters(ms));
    if (close_it && dlclose(h) != 0) {
        fprintf(stderr, "dlmain: dlclose: %s\n", dlerror());
        return 1;
    }
    main_after_library(burn_iters(100));
    printf("dlmain: done\n");
    return 0;
}
