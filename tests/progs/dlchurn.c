/* SPDX-License-Identifier: MIT */
/*
 * dlchurn: mapping churn, in three phases, each in a thread of its own:
 *   churn-a    dlopen LIB_A, run its a_work for MS/2 milliseconds of CPU,
 *              dlclose it
 *   churn-b    dlopen LIB_B, which must land where LIB_A was, run its
 *              b_work for MS milliseconds, dlclose it
 *   churn-a2   LIB_A again, at the same place, a_work for MS/2
 * After each dlclose the library is checked to be gone. The libraries are
 * built alike (tests/progs/libchurn.c), so that a_work and b_work have the
 * same address: only the time of a sample tells which library it was in.
 * a_work and b_work each get half of the CPU time.
 *
 * Keeping the place: a page on each side of LIB_A is held by an
 * inaccessible mapping, so that the gap LIB_A leaves is no bigger than
 * itself (a larger mapping made meanwhile, by the profiler, a sanitizer's
 * allocator, cannot go there); right after each dlclose the program maps
 * a placeholder over LIB_A's range, so that nothing at all takes it, and
 * unmaps it just before the next dlopen. The loader puts a library in the
 * highest free gap that fits; when the library lands elsewhere all the
 * same, that place is blocked by a placeholder too and the dlopen tried
 * again (the blocks are removed once it is in place).
 *
 * Prints where each phase's library and function are, then "cpu PHASE NS"
 * for each phase (its thread's CPU time over the work) and "dlchurn: done".
 * When a library does not land at LIB_A's first address even so, it says
 * so on stdout with "dlchurn: not at the same address" and exits 3.
 *
 * Usage: dlchurn LIB_A LIB_B [MS]   (default 400)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "burn.h"

struct job {
    const char *name;
    void (*work)(long);
    long iters;
    unsigned long long cpu_ns;
};

static void *run(void *arg)
{
    struct job *j = arg;
    pthread_setname_np(pthread_self(), j->name);
    struct timespec a, b;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
    j->work(j->iters);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
    j->cpu_ns = (unsigned long long)(b.tv_sec - a.tv_sec) * 1000000000ull +
                (unsigned long long)(b.tv_nsec - a.tv_nsec);
    return NULL;
}

static int run_job(struct job *j)
{
    pthread_t th;
    if (pthread_create(&th, NULL, run, j) != 0) return -1;
    return pthread_join(th, NULL);
}

/* Opens path, finds sym; its base address in *base. */
static void *open_lib(const char *path, const char *sym, void **fn, void **base)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "dlchurn: %s\n", dlerror());
        return NULL;
    }
    Dl_info info;
    *fn = dlsym(h, sym);
    if (!*fn || !dladdr(*fn, &info)) {
        fprintf(stderr, "dlchurn: no %s in %s\n", sym, path);
        return NULL;
    }
    *base = info.dli_fbase;
    return h;
}

/* The extent of the object based at base: from base to the end of its last
 * PT_LOAD segment, in pages. */
struct extent {
    uintptr_t base, size;
};

static int find_extent(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct extent *e = arg;
    if (info->dlpi_addr != e->base) return 0;
    uintptr_t end = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && ph->p_vaddr + ph->p_memsz > end) end = ph->p_vaddr + ph->p_memsz;
    }
    long page = sysconf(_SC_PAGESIZE);
    e->size = (end + (uintptr_t)page - 1) & ~((uintptr_t)page - 1);
    return 1;
}

/* An inaccessible mapping over [addr, addr + size), only where nothing is
 * mapped yet. */
static int hold(uintptr_t addr, size_t size)
{
    void *p = mmap((void *)addr, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
                   -1, 0);
    if (p == MAP_FAILED) return -1;
    if ((uintptr_t)p != addr) { /* a kernel without MAP_FIXED_NOREPLACE */
        munmap(p, size);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: dlchurn LIB_A LIB_B [MS]\n");
        return 2;
    }
    double ms = argc > 3 ? atof(argv[3]) : 400;
    struct phase {
        const char *path, *sym;
        struct job job;
    } phases[3] = {
        {argv[1], "a_work", {"churn-a", NULL, burn_iters(ms / 2), 0}},
        {argv[2], "b_work", {"churn-b", NULL, burn_iters(ms), 0}},
        {argv[1], "a_work", {"churn-a2", NULL, burn_iters(ms / 2), 0}},
    };
    struct extent place = {0, 0};
    void *fn0 = NULL;
    for (int i = 0; i < 3; i++) {
        struct phase *p = &phases[i];
        void *h = NULL, *fn = NULL, *base = NULL;
        uintptr_t blocked[8];
        int nblocked = 0;
        for (int tries = 0; !h; tries++) {
            if (i > 0) munmap((void *)place.base, place.size); /* the placeholder */
            h = open_lib(p->path, p->sym, &fn, &base);
            if (!h) return 1;
            if (i == 0) {
                place.base = (uintptr_t)base;
                fn0 = fn;
                dl_iterate_phdr(find_extent, &place);
                if (!place.size) {
                    fprintf(stderr, "dlchurn: %s is not in dl_iterate_phdr\n", p->path);
                    return 1;
                }
                printf("%s spans %#lx bytes\n", p->path, (unsigned long)place.size);
                /* a page held on each side (where nothing is mapped): the gap
                 * it leaves when unmapped cannot merge with free space next
                 * to it into one big enough for others' larger mappings */
                long page = sysconf(_SC_PAGESIZE);
                hold(place.base - (uintptr_t)page, (size_t)page);
                hold(place.base + place.size, (size_t)page);
            } else if ((uintptr_t)base != place.base || fn != fn0) {
                printf("%s at %p (%s at %p), not at %#lx\n", p->path, base, p->sym, fn,
                       (unsigned long)place.base);
                dlclose(h);
                h = NULL;
                int kept = hold(place.base, place.size) == 0;
                if (tries == 7 || !kept) {
                    if (!kept) printf("dlchurn: something else was mapped at %#lx\n", (unsigned long)place.base);
                    printf("dlchurn: not at the same address\n");
                    return 3;
                }
                if (hold((uintptr_t)base, place.size) == 0) blocked[nblocked++] = (uintptr_t)base;
            }
        }
        while (nblocked > 0) munmap((void *)blocked[--nblocked], place.size);
        printf("%s: %s at %p, %s at %p\n", p->job.name, p->path, base, p->sym, fn);
        p->job.work = (void (*)(long))fn;
        if (run_job(&p->job)) return 1;
        if (dlclose(h) != 0) {
            fprintf(stderr, "dlchurn: dlclose: %s\n", dlerror());
            return 1;
        }
        if (i < 2 && hold(place.base, place.size) != 0) {
            printf("dlchurn: something else was mapped at %#lx right after dlclose\n",
                   (unsigned long)place.base);
            printf("dlchurn: not at the same address\n");
            return 3;
        }
        if (dlopen(p->path, RTLD_NOW | RTLD_NOLOAD)) {
            fprintf(stderr, "dlchurn: %s is still loaded after dlclose\n", p->path);
            return 1;
        }
    }
    for (int i = 0; i < 3; i++) printf("cpu %s %llu\n", phases[i].job.name, phases[i].job.cpu_ns);
    printf("dlchurn: done\n");
    return 0;
}
