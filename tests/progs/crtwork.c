/* SPDX-License-Identifier: MIT */
/*
 * crtwork: calls crtbegin's deregister_tm_clones, register_tm_clones and
 * frame_dummy (code without call frame information that every GCC-built
 * object has; with no transactional-memory clone table each returns at
 * once) in a loop for about MS milliseconds of CPU, so that samples land in
 * them as leaves. Their addresses are local symbols: the caller reads them
 * with nm and passes their offsets from main's.
 *
 * Usage: crtwork MS DEREGISTER-MAIN REGISTER-MAIN FRAME_DUMMY-MAIN
 *        (hexadecimal differences of the symbols' addresses, may be negative)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

__attribute__((noinline, noclone)) static void crtwork_loop(void (**fn)(void), double ms)
{
    double end = cpu_ms() + ms;
    unsigned long calls = 0;
    while (cpu_ms() < end) {
        for (int i = 0; i < 100000; i++)
            for (int k = 0; k < 3; k++)
                fn[k]();
        calls += 300000;
    }
    printf("crtwork: %lu calls\n", calls);
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: crtwork MS DEREGISTER-MAIN REGISTER-MAIN FRAME_DUMMY-MAIN\n");
        return 2;
    }
    void (*fn[3])(void);
    for (int k = 0; k < 3; k++)
        fn[k] = (void (*)(void))((uintptr_t)main + (uintptr_t)strtoll(argv[2 + k], NULL, 16));
    crtwork_loop(fn, atof(argv[1]));
    return 0;
}
