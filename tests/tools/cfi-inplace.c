/* SPDX-License-Identifier: MIT */
/*
 * cfi-inplace: the rule sprof_cfi_rule_at reads from an object's .eh_frame
 * in place against the rule of the table built from the same .eh_frame, at
 * every byte of code of every object loaded (this program, libc, ld.so, the
 * vdso, and the libraries named on the command line, dlopen'ed). cfi.c is
 * included, for its table builder.
 *
 * Usage: cfi-inplace [LIBRARY...]
 * Prints one line per object (pcs, differing, not found in place, mean ns
 * a lookup) and the first differences; exits 1 if any rule differs or an
 * object with a table has no lookup in place at all.
 */
#include <dlfcn.h>
#include <time.h>

#include "cfi.c"
#include "open-stubs.h"

struct sprof_state sprof;

/* maps.c's: no build-ids, no cache */
size_t sprof_note_build_id(const uint8_t *p, size_t n, uint8_t *out)
{
    (void)p;
    (void)n;
    (void)out;
    return 0;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!dlopen(argv[i], RTLD_NOW)) {
            fprintf(stderr, "cfi-inplace: %s\n", dlerror());
            return 2;
        }
    sprof_cfi_update();
    struct cfi_set *s = (struct cfi_set *)atomic_load(&sprof_cfi_current);
    int bad = 0;
    for (size_t i = 0; s && i < s->nobj; i++) {
        struct cfi_obj *o = &s->obj[i];
        Dl_info di;
        const char *name = dladdr((void *)o->lo, &di) && di.dli_fname && di.dli_fname[0]
                               ? di.dli_fname
                               : "(main program)";
        if (!o->eh_frame_hdr || build(o)) {
            printf("%s: no table\n", name);
            continue;
        }
        const struct cfi_table *t = atomic_load(&o->table);
        uint64_t n = 0, differ = 0, missing = 0, ns = 0;
        struct timespec a, b;
        for (uintptr_t pc = o->lo; pc < o->hi; pc++) {
            uint32_t want = sprof_cfi_table_rule(t, (uint32_t)(pc - o->bias)), got = 0;
            clock_gettime(CLOCK_MONOTONIC, &a);
            int r = sprof_cfi_rule_at(o, pc, &got);
            clock_gettime(CLOCK_MONOTONIC, &b);
            ns += (uint64_t)((b.tv_sec - a.tv_sec) * 1000000000 + (b.tv_nsec - a.tv_nsec));
            n++;
            if (r) {
                missing++; /* the walk falls back */
                continue;
            }
            if (got != want) {
                if (differ < 5)
                    printf("  %s+%#lx: table %#x, in place %#x\n", name,
                           (unsigned long)(pc - o->bias), want, got);
                differ++;
            }
        }
        printf("%s: %llu pcs, %llu differ, %llu not found in place, %.0f ns a lookup\n", name,
               (unsigned long long)n, (unsigned long long)differ, (unsigned long long)missing,
               n ? (double)ns / (double)n : 0.0);
        if (differ || (n && missing == n)) bad = 1;
    }
    return bad;
}
