/* SPDX-License-Identifier: MIT */
/*
 * stripme: built, then stripped with strip(1) so that only .dynsym is left.
 * visible_function is exported (in .dynsym, with its size); the hot code,
 * hidden_hot_function, comes right after it and has no symbol once
 * stripped. A symbolizer that takes the nearest symbol below an address
 * would call the hot code visible_function: it must show it as
 * stripme+0xOFFSET instead.
 *
 * Usage: stripme [MS]   (default 600)
 */
#include <stdio.h>

#include "burn.h"

__attribute__((noinline, noclone, visibility("default"))) void visible_function(long n)
{
    BURN(n, 0x243f6a8885a308d3ull);
}

__attribute__((noinline, noclone)) static void hidden_hot_function(long n)
{
    BURN(n, 0x13198a2e03707345ull);
}

int main(int argc, char **argv)
{
    long n = burn_iters(argc > 1 ? atof(argv[1]) : 600);
    visible_function(n / 100);
    hidden_hot_function(n);
    printf("stripme: done\n");
    return 0;
}
