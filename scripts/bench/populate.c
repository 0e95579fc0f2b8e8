/* SPDX-License-Identifier: MIT */
/*
 * populate: what faulting pages in costs on this machine, by their first
 * touches (a trap each, or each 16 for a file's pages, the kernel's
 * fault-around) against one madvise(MADV_POPULATE_WRITE or _READ) call
 * (Linux 5.14), and what the touches cost after that call: on a VM whose
 * hypervisor keeps shadow page tables, an entry the call made is made
 * again at its page's first touch, without a trap the guest sees. libsprof
 * populates a table of unwind rules from its cache and the rings of the
 * sampled threads this way (preload/sprof.h, sprof_populate); since
 * session 49 a cached table is faulted in by reading a byte each 64 KiB
 * (preload/cfi.c, prefault), the last mode here. For ROUNDS rounds, 1 MiB
 * of fresh anonymous memory and a file's private read-only mapping (FILE,
 * default: a 2 MiB file written in /tmp, read once so that its pages are in
 * the page cache) are each touched a byte a page, and populated then
 * touched; the file's mapping is also read a byte each 64 KiB, then a byte
 * a page. Last, a 2 MiB file written in one call, as libsprof writes a big
 * table into its cache since session 50 (padded to a whole huge page), is
 * read the same way, with the KiB of it that the kernel mapped by huge
 * pages (FilePmdMapped in /proc/self/smaps: all of it where the file
 * system's page cache takes large folios, such as ext4 since Linux 6.16 or
 * so, none elsewhere); then the same file dropped from the page cache
 * (POSIX_FADV_DONTNEED) and read back by those reads, without and with
 * MADV_HUGEPAGE before them (the kernel's read-ahead for a fault then
 * reads a huge folio: libsprof's loader advises a padded table so). Prints
 * the medians, in microseconds of wall time (the KVM host of BENCHMARKS.md,
 * session 50):
 *
 *   populate: 21 rounds, medians in us (1 MiB anonymous, 2048 KiB file)
 *   anonymous   touched 465   populated 293 then touched 1
 *   file        read 80      populated 97 then read 2
 *   file        a byte each 64 KiB 43 then read 2
 *   one write   a byte each 64 KiB 4 then read 6 (2048 KiB in huge pages)
 *   read back   a byte each 64 KiB 2356 (0 KiB in huge pages), after MADV_HUGEPAGE 1078 (2048 KiB)
 *
 * Build and run: cc -O2 scripts/bench/populate.c -o populate &&
 *                ./populate [ROUNDS [FILE]]   (default 5). A figure,
 * never a pass/fail check.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define ANON_BYTES (1u << 20)
#define FAULT_AROUND 65536u
#define MAX_ROUNDS 100

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static void touch_every(volatile uint8_t *p, size_t n, int write, size_t step)
{
    for (size_t o = 0; o < n; o += step) {
        if (write)
            p[o] = 1;
        else
            (void)p[o];
    }
}

static void touch(volatile uint8_t *p, size_t n, int write)
{
    touch_every(p, n, write, 4096);
}

/* A new unlinked file in /tmp of n bytes, written in one call: -1 or the fd */
static int one_write_file(size_t n)
{
    char tmpl[] = "/tmp/sprof-populate.XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd < 0) return -1;
    unlink(tmpl);
    uint8_t *b = malloc(n);
    if (!b) return -1;
    memset(b, 0x5a, n);
    ssize_t w = write(fd, b, n);
    free(b);
    return w == (ssize_t)n ? fd : -1;
}

/* KiB of the mapping that starts at p mapped by huge pages, or -1 */
static long pmd_kib(const void *p)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f) return -1;
    char line[512], start[32];
    snprintf(start, sizeof(start), "%lx-", (unsigned long)(uintptr_t)p);
    long kb = -1;
    int in = 0;
    while (fgets(line, sizeof(line), f)) {
        if (strchr(line, '-') && strchr(line, '-') < strchr(line, ' '))
            in = strncmp(line, start, strlen(start)) == 0;
        else if (in && sscanf(line, "FilePmdMapped: %ld kB", &kb) == 1)
            break;
    }
    fclose(f);
    return kb;
}

/* Maps fd's n bytes and reads a byte each 64 KiB (*sparse, us), then a
 * byte a page (*dense); returns the KiB of it mapped by huge pages. */
static long read_sparse(int fd, size_t n, double *sparse, double *dense)
{
    uint8_t *p = mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
        perror("populate: mmap");
        exit(1);
    }
    double t0 = now_us();
    touch_every(p, n, 0, FAULT_AROUND);
    (void)*(volatile uint8_t *)(p + n - 1);
    double t1 = now_us();
    touch(p, n, 0);
    *sparse = t1 - t0;
    *dense = now_us() - t1;
    long kib = pmd_kib(p);
    munmap(p, n);
    return kib;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 5;
    if (rounds < 1 || rounds > MAX_ROUNDS) {
        fprintf(stderr, "populate: ROUNDS must be 1 to %d\n", MAX_ROUNDS);
        return 2;
    }
    char tmpl[] = "/tmp/sprof-populate.XXXXXX";
    const char *path = argc > 2 ? argv[2] : tmpl;
    int fd;
    if (argc > 2) {
        fd = open(path, O_RDONLY);
    } else {
        fd = mkstemp(tmpl);
        static uint8_t chunk[65536];
        memset(chunk, 0x5a, sizeof(chunk));
        for (int i = 0; fd >= 0 && i < 32; i++)
            if (write(fd, chunk, sizeof(chunk)) != (ssize_t)sizeof(chunk)) {
                perror("populate: write");
                return 1;
            }
        if (fd >= 0) unlink(tmpl);
    }
    if (fd < 0) {
        perror(path);
        return 1;
    }
    off_t size = lseek(fd, 0, SEEK_END);
    if (size <= 0) {
        fprintf(stderr, "populate: %s is empty\n", path);
        return 1;
    }
    size_t fsize = (size_t)size;
    static uint8_t sink[4096];
    for (off_t o = 0; o < size; o += (off_t)sizeof(sink)) /* into the page cache */
        if (pread(fd, sink, sizeof(sink), o) < 0) break;

    const size_t hsize = 2u << 20;
    int hfd = one_write_file(hsize);
    if (hfd < 0) {
        perror("populate: a file in /tmp");
        return 1;
    }
    long huge_kib = -1, back_kib[2] = {-1, -1};
    if (fdatasync(hfd) != 0) perror("populate: fdatasync");

    double r[12][MAX_ROUNDS];
    for (int k = 0; k < rounds; k++) {
        uint8_t *p =
            mmap(NULL, ANON_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        double t0 = now_us();
        touch(p, ANON_BYTES, 1);
        r[0][k] = now_us() - t0;
        munmap(p, ANON_BYTES);
        p = mmap(NULL, ANON_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        t0 = now_us();
        if (madvise(p, ANON_BYTES, MADV_POPULATE_WRITE) != 0) {
            perror("populate: MADV_POPULATE_WRITE (Linux 5.14)");
            return 1;
        }
        double t1 = now_us();
        touch(p, ANON_BYTES, 1);
        r[1][k] = t1 - t0;
        r[2][k] = now_us() - t1;
        munmap(p, ANON_BYTES);

        p = mmap(NULL, fsize, PROT_READ, MAP_PRIVATE, fd, 0);
        t0 = now_us();
        touch(p, fsize, 0);
        r[3][k] = now_us() - t0;
        munmap(p, fsize);
        p = mmap(NULL, fsize, PROT_READ, MAP_PRIVATE, fd, 0);
        t0 = now_us();
        if (madvise(p, fsize, MADV_POPULATE_READ) != 0) {
            perror("populate: MADV_POPULATE_READ (Linux 5.14)");
            return 1;
        }
        t1 = now_us();
        touch(p, fsize, 0);
        r[4][k] = t1 - t0;
        r[5][k] = now_us() - t1;
        munmap(p, fsize);
        read_sparse(fd, fsize, &r[6][k], &r[7][k]);
        huge_kib = read_sparse(hfd, hsize, &r[8][k], &r[9][k]);
        /* out of the page cache, and read back by the faults, with and
         * without MADV_HUGEPAGE first (as libsprof maps a padded table) */
        for (int adv = 0; adv < 2; adv++) {
            posix_fadvise(hfd, 0, (off_t)hsize, POSIX_FADV_DONTNEED);
            p = mmap(NULL, hsize, PROT_READ, MAP_PRIVATE, hfd, 0);
            t0 = now_us();
            if (adv) madvise(p, hsize, MADV_HUGEPAGE);
            touch_every(p, hsize, 0, FAULT_AROUND);
            r[10 + adv][k] = now_us() - t0;
            back_kib[adv] = pmd_kib(p);
            munmap(p, hsize);
        }
    }
    printf("populate: %d rounds, medians in us (1 MiB anonymous, %zu KiB file)\n", rounds,
           fsize >> 10);
    printf("anonymous   touched %.0f   populated %.0f then touched %.0f\n", median(r[0], rounds),
           median(r[1], rounds), median(r[2], rounds));
    printf("file        read %.0f      populated %.0f then read %.0f\n", median(r[3], rounds),
           median(r[4], rounds), median(r[5], rounds));
    printf("file        a byte each 64 KiB %.0f then read %.0f\n", median(r[6], rounds),
           median(r[7], rounds));
    printf("one write   a byte each 64 KiB %.0f then read %.0f (%ld KiB in huge pages)\n",
           median(r[8], rounds), median(r[9], rounds), huge_kib);
    printf("read back   a byte each 64 KiB %.0f (%ld KiB in huge pages), after MADV_HUGEPAGE %.0f "
           "(%ld "
           "KiB)\n",
           median(r[10], rounds), back_kib[0], median(r[11], rounds), back_kib[1]);
    return 0;
}
