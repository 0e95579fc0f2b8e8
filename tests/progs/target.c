/* SPDX-License-Identifier: MIT */
/*
 * target: a program other programs exec (fork+exec, the #! shim). Burns CPU
 * in target_hot_function, then prints "target: ARGS..." and a fixed line
 * of text on stdout, and exits with status 0.
 *
 * Usage: target [ARGS...]   (the environment variable TARGET_MS sets the
 * CPU milliseconds, default 500)
 */
#include <stdio.h>

#include "burn.h"

__attribute__((noinline, noclone)) void target_hot_function(long n)
{
    BURN(n, 0xfeedfacecafebeefull);
}

int main(int argc, char **argv)
{
    const char *ms = getenv("TARGET_MS");
    target_hot_function(burn_iters(ms ? atof(ms) : 500));
    printf("target:");
    for (int i = 1; i < argc; i++) printf(" %s", argv[i]);
    printf("\nthe quick brown fox jumps over the lazy dog\n");
    return 0;
}
