/* SPDX-License-Identifier: MIT */
/*
 * bigtable: an executable whose unwind table is over 1 MiB, which sprof's
 * table cache pads to a 2 MiB huge page (preload/cfi.c, cache_file_size).
 * NFUNCS functions of assembly, big_0 ... big_19999, each pushing 8 words
 * and popping them with call frame information at every instruction (a row
 * of the table each: 340,000 rows, about 1.4 MB of table; 20,000 FDEs, as
 * many as a big program's, whose table a descendant maps before its first
 * walk: cfi.c, sprof_cfi_early), called in turn by work for MS ms of CPU. Usage: bigtable [MS]
 * (default 1000); prints "bigtable: done", and the Rss and FilePmdMapped of sprof's cached tables
 * mapped in it as "bigtable: cache FILE RSS_KB PMD_KB" (what the kernel
 * and the file system make of the padding: nothing is asserted of it).
 * Expected profile: most samples in big_* functions, under work, under
 * main, at every depth of their pushes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "burn.h"

#define NFUNCS 20000 /* and the two .rept 20000 below */

__asm__(".text\n"
        ".altmacro\n"
        ".macro big_fn n\n"
        ".globl big_\\n\n"
        ".type big_\\n,@function\n"
        "big_\\n:\n"
        ".cfi_startproc\n"
        ".rept 8\n"
        "    push %rax\n"
        "    .cfi_adjust_cfa_offset 8\n"
        ".endr\n"
        ".rept 8\n"
        "    pop %rax\n"
        "    .cfi_adjust_cfa_offset -8\n"
        ".endr\n"
        "    ret\n"
        ".cfi_endproc\n"
        ".size big_\\n, .-big_\\n\n"
        ".endm\n"
        ".macro big_ptr n\n"
        "    .quad big_\\n\n"
        ".endm\n"
        ".set big_i, 0\n"
        ".rept 20000\n"
        "big_fn %big_i\n"
        ".set big_i, big_i + 1\n"
        ".endr\n"
        ".section .data.rel.ro\n"
        ".balign 8\n"
        ".globl big_table\n"
        "big_table:\n"
        ".set big_i, 0\n"
        ".rept 20000\n"
        "big_ptr %big_i\n"
        ".set big_i, big_i + 1\n"
        ".endr\n"
        ".noaltmacro\n"
        ".text\n");
extern void (*const big_table[NFUNCS])(void);

__attribute__((noinline)) void work(double ms)
{
    double end = burn_cpu_ms() + ms;
    while (burn_cpu_ms() < end)
        for (int i = 0; i < NFUNCS; i++)
            big_table[i]();
}

/* sprof's cached tables mapped here, with their Rss and FilePmdMapped */
static void cache_maps(void)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[4608], name[4096] = "";
    long rss = -1;
    if (!f) return;
    while (fgets(line, sizeof(line), f)) {
        char *path = strchr(line, '/');
        long kb;
        if (strchr(line, '-') && strchr(line, '-') < strchr(line, ' ') && strstr(line, " r")) {
            name[0] = 0;
            if (path && strstr(path, ".cfi")) {
                snprintf(name, sizeof(name), "%s", path);
                name[strcspn(name, "\n")] = 0;
            }
        } else if (name[0] && sscanf(line, "Rss: %ld kB", &kb) == 1) {
            rss = kb;
        } else if (name[0] && sscanf(line, "FilePmdMapped: %ld kB", &kb) == 1) {
            printf("bigtable: cache %s %ld %ld\n", name, rss, kb);
            name[0] = 0;
        }
    }
    fclose(f);
}

int main(int argc, char **argv)
{
    work(argc > 1 ? atof(argv[1]) : 1000);
    cache_maps();
    printf("bigtable: done\n");
    return 0;
}
