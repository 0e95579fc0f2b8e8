/* SPDX-License-Identifier: MIT */
/*
 * maps-scan: what one comparison of the process's executable mappings costs
 * sprof's writer (preload/maps.c), both ways: reading and splitting the text
 * of /proc/self/maps (the kernel formats every mapping, executable or not),
 * and asking for the executable ones one at a time with the PROCMAP_QUERY
 * ioctl (Linux 6.11). It loads the libraries a compiler's cc1 or a Python
 * process has (those of them installed), adds EXTRA anonymous mappings
 * (a program's heap arenas, a JIT's regions), and prints the CPU time of
 * one scan each way, the mean of ROUNDS:
 *
 *   maps-scan: 98 mappings, 18 executable: text 114.4 us, query 34.6 us
 *
 * Build and run: cc -O2 scripts/bench/maps-scan.c -o maps-scan -ldl &&
 *                ./maps-scan [EXTRA [ROUNDS]]        (default 0 2000)
 * A figure, never a pass/fail check. Where the kernel refuses the ioctl it
 * says so and prints the text's figure only.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

struct pmq { /* struct procmap_query of linux/fs.h */
    uint64_t size, query_flags, query_addr;
    uint64_t vma_start, vma_end, vma_flags, vma_page_size, vma_offset, inode;
    uint32_t dev_major, dev_minor, vma_name_size, build_id_size;
    uint64_t vma_name_addr, build_id_addr;
};
#define PMQ_IOCTL _IOWR('f', 17, struct pmq)
#define PMQ_EXEC_NEXT (0x04 | 0x10) /* executable, covering or next */

static double cpu_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

/* lines of the text (its mappings) */
static int scan_text(void)
{
    static char buf[1 << 20];
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    size_t n = 0;
    ssize_t r;
    while (n < sizeof(buf) - 1 && (r = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
        n += (size_t)r;
    close(fd);
    int lines = 0;
    for (size_t i = 0; i < n; i++)
        lines += buf[i] == '\n';
    return lines;
}

/* executable mappings, or -1 with errno */
static int scan_query(void)
{
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    char name[4096];
    int n = 0;
    for (uint64_t addr = 0;;) {
        struct pmq q;
        memset(&q, 0, sizeof(q));
        q.size = sizeof(q);
        q.query_flags = PMQ_EXEC_NEXT;
        q.query_addr = addr;
        q.vma_name_addr = (uintptr_t)name;
        q.vma_name_size = sizeof(name);
        if (ioctl(fd, PMQ_IOCTL, &q) != 0) {
            if (errno != ENOENT) n = -1;
            break;
        }
        n++;
        addr = q.vma_end;
    }
    int e = errno;
    close(fd);
    errno = e;
    return n;
}

int main(int argc, char **argv)
{
    int extra = argc > 1 ? atoi(argv[1]) : 0, rounds = argc > 2 ? atoi(argv[2]) : 2000;
    if (rounds < 1) rounds = 1;
    static const char *libs[] = {"libisl.so.23",        "libmpfr.so.6", "libgmp.so.10",
                                 "libz.so.1",           "libzstd.so.1", "libstdc++.so.6",
                                 "libcrypto.so.3",      "libssl.so.3",  "libbfd-2.40-system.so",
                                 "libpython3.11.so.1.0"};
    for (size_t i = 0; i < sizeof(libs) / sizeof(libs[0]); i++)
        (void)dlopen(libs[i], RTLD_NOW | RTLD_LOCAL);
    for (int i = 0; i < extra; i++) {
        /* two pages, the first inaccessible: two mappings that stay apart */
        char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p != MAP_FAILED) mprotect(p, 4096, PROT_NONE);
    }
    int lines = 0, exec = 0;
    double t0 = cpu_us();
    for (int i = 0; i < rounds; i++)
        lines = scan_text();
    double t1 = cpu_us();
    for (int i = 0; i < rounds && exec >= 0; i++)
        exec = scan_query();
    double t2 = cpu_us();
    if (exec < 0) {
        printf("maps-scan: %d mappings: text %.1f us, query refused (%s)\n", lines,
               (t1 - t0) / rounds, strerror(errno));
        return 0;
    }
    printf("maps-scan: %d mappings, %d executable: text %.1f us, query %.1f us\n", lines, exec,
           (t1 - t0) / rounds, (t2 - t1) / rounds);
    return 0;
}
