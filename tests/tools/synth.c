/* SPDX-License-Identifier: MIT */
/*
 * synth: writes a valid sprof profile that describes this very process, for
 * testing sprof-report without the recorder. Its stacks are real return
 * addresses captured with backtrace() inside known functions, its mappings
 * come from /proc/self/maps with load biases and build-ids, so that the
 * report can symbolize them against this executable.
 *
 * Build: cc -O0 -g -Icommon tests/tools/synth.c common/[a-z]*.c -lzstd -ldl -o synth
 *
 * usage: synth OUT [--samples N] [--session N] [--pid N] [--zero-bias]
 *              [--churn] [--per-chunk N] [--random N] [--vdso]
 *              [--weights B,C,REC,MANGLED] [--thread-name NAME] [--reid]
 *
 * Known shares by construction (of N samples, default 1000):
 *   main;a;b;inl_leaf   50%   (inl_leaf is inlined into b)
 *   main;c              30%   (on a second thread named "worker")
 *   main;rec;rec;rec    10%   (recursion: rec's total is 10%, not 30%)
 *   main;rust_like;cxx_like 10%  (mangled names: synth::cxx_like(int),
 *                                 core::fmt::write, when built without -g)
 * --weights changes those shares: each cycle of B+C+REC+MANGLED samples
 * (default 5,3,1,1) gives B to main;a;b;inl_leaf, C to main;c (thread
 * "worker"), REC to the recursion and MANGLED to the mangled names; a 0
 * leaves that stack out, for diffs with functions that appear or vanish.
 * --thread-name names the second thread NAME instead of "worker" (any
 * bytes: escaping tests).
 * --churn adds 100 samples in a range that holds libz at first and libzstd
 * after an unmap: 50 in zlibVersion, then 30 in ZSTD_versionNumber and 20 at
 * zlibVersion's old address, which must not be named zlibVersion.
 * --random N adds N more distinct stacks of random addresses inside the
 * executable mappings (5 to 40 frames) and gives them every sample instead,
 * to measure the report on big, varied profiles.
 * --vdso adds 10 samples in the vdso's clock_gettime (its build-id is
 * recorded, so a report on the same machine can name it).
 * --zero-bias records a load bias of 0 for every mapping, as a recorder that
 * could not find one does; the report must compute it.
 * --reid defines the four stacks again under new ids in every chunk of
 * samples and names them by those, as a recorder that forgot its stacks
 * does (sprof-format(5), STACK): worker's stack after the main thread's
 * SAMPLES record, and the recursion's twice, under two ids. The reports
 * must be those of the same profile without it, each stack counted once.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <execinfo.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "chunk.h"
#include "format.h"

#define MAXF 64

struct stack {
    void *f[MAXF];
    int n;
};

static struct stack st_b, st_c, st_rec, st_mangled;
static volatile int sink;

#define CAPTURE(s) ((s).n = backtrace((s).f, MAXF))

static inline __attribute__((always_inline)) void inl_leaf(void)
{
    sink++;
    CAPTURE(st_b);
    sink++;
}

__attribute__((noinline)) static void b(void)
{
    sink++;
    inl_leaf();
    sink++;
}

__attribute__((noinline)) static void a(void)
{
    b();
    sink++;
}

__attribute__((noinline)) static void c(void)
{
    sink++;
    CAPTURE(st_c);
    sink++;
}

__attribute__((noinline)) static void rec(int depth)
{
    if (depth > 0)
        rec(depth - 1);
    else
        CAPTURE(st_rec);
    sink++;
}

/* Names as a C++ and a legacy Rust compiler would emit them. */
__attribute__((noinline)) void cxx_like(int x) __asm__("_ZN5synth8cxx_likeEi");
__attribute__((noinline)) void cxx_like(int x)
{
    sink += x;
    CAPTURE(st_mangled);
    sink++;
}
__attribute__((noinline)) void rust_like(void) __asm__("_ZN4core3fmt5write17h0123456789abcdefE");
__attribute__((noinline)) void rust_like(void)
{
    cxx_like(1);
    sink++;
}

static uint64_t now_ns(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- output ---- */

static struct sprof_buf chunk, rec_body, file_out;
static struct sprof_chunk_encoder enc;
static uint32_t seq;
static FILE *out;

static void flush_chunk(void)
{
    if (!chunk.len) return;
    char err[256];
    sprof_buf_reset(&file_out);
    if (sprof_chunk_encode(&enc, seq++, chunk.data, chunk.len, &file_out, err, sizeof(err))) {
        fprintf(stderr, "synth: %s\n", err);
        exit(1);
    }
    fwrite(file_out.data, 1, file_out.len, out);
    sprof_buf_reset(&chunk);
}

static void put_rec(unsigned type)
{
    sprof_buf_put_record(&chunk, type, &rec_body);
    sprof_buf_reset(&rec_body);
}

/* ---- mappings ---- */

struct phq {
    uint64_t start, end;
    int found;
    uint64_t bias;
    uint8_t bid[64];
    size_t bidn;
};

static size_t note_build_id(const uint8_t *p, size_t n, uint8_t *out)
{
    size_t off = 0;
    while (off + sizeof(Elf64_Nhdr) <= n) {
        const Elf64_Nhdr *h = (const Elf64_Nhdr *)(p + off);
        size_t name = (h->n_namesz + 3) & ~3u, desc = (h->n_descsz + 3) & ~3u;
        size_t body = off + sizeof(*h);
        if (body + name + desc > n) break;
        if (h->n_type == NT_GNU_BUILD_ID && h->n_namesz == 4 && memcmp(p + body, "GNU", 4) == 0 &&
            h->n_descsz <= 64) {
            memcpy(out, p + body + name, h->n_descsz);
            return h->n_descsz;
        }
        off = body + name + desc;
    }
    return 0;
}

static int phdr_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct phq *q = arg;
    int hit = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD) continue;
        uint64_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
        if (lo < q->end && hi > q->start) hit = 1;
    }
    if (!hit) return 0;
    q->found = 1;
    q->bias = info->dlpi_addr;
    for (int i = 0; i < info->dlpi_phnum && !q->bidn; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_NOTE)
            q->bidn = note_build_id((const uint8_t *)(info->dlpi_addr + ph->p_vaddr), ph->p_memsz,
                                    q->bid);
    }
    return 1;
}

static void put_map(uint64_t t, uint64_t start, uint64_t end, uint64_t off, uint64_t bias,
                    const uint8_t *bid, size_t bidn, const char *path)
{
    sprof_buf_put_uvarint(&rec_body, t);
    sprof_buf_put_uvarint(&rec_body, start);
    sprof_buf_put_uvarint(&rec_body, end);
    sprof_buf_put_uvarint(&rec_body, off);
    sprof_buf_put_uvarint(&rec_body, 5);
    sprof_buf_put_uvarint(&rec_body, bias);
    sprof_buf_put_bytes(&rec_body, bid, bidn);
    sprof_buf_put_str(&rec_body, path);
    put_rec(SPROF_REC_MAP);
}

static uint64_t xr_lo[256], xr_hi[256];
static int nxr;

static void put_maps(uint64_t t, int zero_bias)
{
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f) {
        perror("synth: /proc/self/maps");
        exit(1);
    }
    char line[4096];
    while (fgets(line, sizeof(line), f)) {
        unsigned long long start, end, off;
        char perms[8];
        int at = 0;
        if (sscanf(line, "%llx-%llx %7s %llx %*x:%*x %*u %n", &start, &end, perms, &off, &at) < 4)
            continue;
        if (perms[2] != 'x') continue;
        char *path = at ? line + at : line + strlen(line);
        path[strcspn(path, "\n")] = 0;
        struct phq q;
        memset(&q, 0, sizeof(q));
        q.start = start;
        q.end = end;
        if (path[0] == '/' || strcmp(path, "[vdso]") == 0) dl_iterate_phdr(phdr_cb, &q);
        put_map(t, start, end, off, zero_bias ? 0 : q.bias, q.bid, q.bidn, path);
        if (path[0] == '/' && nxr < 256) {
            xr_lo[nxr] = start;
            xr_hi[nxr++] = end;
        }
    }
    fclose(f);
}

/* ---- stacks ---- */

static void put_stack(uint32_t id, const uint64_t *f, int n)
{
    sprof_buf_put_uvarint(&rec_body, id);
    sprof_buf_put_uvarint(&rec_body, 0);
    sprof_buf_put_uvarint(&rec_body, (uint64_t)n);
    for (int i = 0; i < n; i++) {
        if (i == 0)
            sprof_buf_put_uvarint(&rec_body, f[0]);
        else
            sprof_buf_put_svarint(&rec_body, (int64_t)(f[i] - f[i - 1]));
    }
    put_rec(SPROF_REC_STACK);
}

static void put_captured(uint32_t id, const struct stack *s)
{
    uint64_t f[MAXF];
    for (int i = 0; i < s->n; i++)
        f[i] = (uint64_t)(uintptr_t)s->f[i];
    put_stack(id, f, s->n);
}

/* ---- churn: one range, two libraries over time ---- */

struct lib {
    uint64_t vaddr_fn, size;
    uint8_t bid[64];
    size_t bidn;
    char path[4096];
};

static int lib_info(const char *soname, const char *fn, struct lib *l)
{
    void *h = dlopen(soname, RTLD_NOW);
    if (!h) return -1;
    void *sym = dlsym(h, fn);
    struct link_map *lm = NULL;
    Dl_info di;
    if (!sym || !dladdr1(sym, &di, (void **)&lm, RTLD_DL_LINKMAP) || !lm) return -1;
    l->vaddr_fn = (uint64_t)(uintptr_t)sym - lm->l_addr;
    snprintf(l->path, sizeof(l->path), "%s", lm->l_name);
    struct phq q;
    memset(&q, 0, sizeof(q));
    q.start = q.end = (uint64_t)(uintptr_t)sym;
    q.end++;
    dl_iterate_phdr(phdr_cb, &q);
    memcpy(l->bid, q.bid, q.bidn);
    l->bidn = q.bidn;
    l->size = 16u << 20; /* generous: covers the text of either library */
    return 0;
}

/* which stack each sample of a cycle takes: 5 b, 3 c, 1 rec, 1 mangled */
static uint32_t pattern[1000] = {0, 0, 0, 0, 0, 1, 1, 1, 2, 3};
static unsigned npattern = 10;

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: synth OUT [--samples N] [--session N] [--pid N] [--zero-bias] "
                        "[--churn] [--per-chunk N]\n");
        return 2;
    }
    const char *path = argv[1];
    unsigned long long nsamples = 1000, session = 0x5e55, per_chunk = 50000;
    unsigned long pid = (unsigned long)getpid();
    int zero_bias = 0, churn = 0, vdso = 0, reid = 0;
    const char *thread2 = "worker";
    unsigned long long nrandom = 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--samples") == 0 && i + 1 < argc)
            nsamples = strtoull(argv[++i], 0, 0);
        else if (strcmp(argv[i], "--session") == 0 && i + 1 < argc)
            session = strtoull(argv[++i], 0, 0);
        else if (strcmp(argv[i], "--pid") == 0 && i + 1 < argc)
            pid = strtoul(argv[++i], 0, 0);
        else if (strcmp(argv[i], "--per-chunk") == 0 && i + 1 < argc)
            per_chunk = strtoull(argv[++i], 0, 0);
        else if (strcmp(argv[i], "--random") == 0 && i + 1 < argc)
            nrandom = strtoull(argv[++i], 0, 0);
        else if (strcmp(argv[i], "--zero-bias") == 0)
            zero_bias = 1;
        else if (strcmp(argv[i], "--vdso") == 0)
            vdso = 1;
        else if (strcmp(argv[i], "--churn") == 0)
            churn = 1;
        else if (strcmp(argv[i], "--reid") == 0)
            reid = 1;
        else if (strcmp(argv[i], "--thread-name") == 0 && i + 1 < argc)
            thread2 = argv[++i];
        else if (strcmp(argv[i], "--weights") == 0 && i + 1 < argc) {
            unsigned w[4];
            char extra;
            if (sscanf(argv[++i], "%u,%u,%u,%u%c", &w[0], &w[1], &w[2], &w[3], &extra) != 4 ||
                w[0] + w[1] + w[2] + w[3] == 0 || w[0] + w[1] + w[2] + w[3] > 1000) {
                fprintf(stderr, "synth: --weights takes B,C,REC,MANGLED\n");
                return 2;
            }
            npattern = 0;
            for (uint32_t id = 0; id < 4; id++)
                for (unsigned k = 0; k < w[id]; k++)
                    pattern[npattern++] = id;
        }
        else {
            fprintf(stderr, "synth: bad argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!per_chunk) per_chunk = 1;

    a();
    c();
    rec(2);
    rust_like();

    struct lib lz, lzstd;
    if (churn && (lib_info("libz.so.1", "zlibVersion", &lz) ||
                  lib_info("libzstd.so.1", "ZSTD_versionNumber", &lzstd))) {
        fprintf(stderr, "synth: cannot load libz/libzstd for --churn\n");
        return 1;
    }

    out = fopen(path, "wb");
    if (!out) {
        perror(path);
        return 1;
    }
    sprof_chunk_encoder_init(&enc, &sprof_zstd_linked, 3, 0);
    struct sprof_file_header h = {SPROF_VERSION, SPROF_FILE_HEADER_SIZE, 0, session, (uint32_t)pid};
    sprof_file_header_put(&file_out, &h);
    fwrite(file_out.data, 1, file_out.len, out);

    uint64_t t0 = now_ns(CLOCK_MONOTONIC), rt0 = now_ns(CLOCK_REALTIME);
    uint32_t tid = (uint32_t)syscall(SYS_gettid), tid2 = tid + 1;
    char exe[4096];
    ssize_t en = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    exe[en > 0 ? en : 0] = 0;

    sprof_buf_put_uvarint(&rec_body, pid);
    sprof_buf_put_uvarint(&rec_body, (uint64_t)getppid());
    sprof_buf_put_uvarint(&rec_body, rt0);
    sprof_buf_put_uvarint(&rec_body, t0);
    sprof_buf_put_str(&rec_body, exe);
    sprof_buf_put_uvarint(&rec_body, (uint64_t)argc);
    for (int i = 0; i < argc; i++)
        sprof_buf_put_str(&rec_body, argv[i]);
    put_rec(SPROF_REC_PROCESS);

    sprof_buf_put_str(&rec_body, "task-clock");
    sprof_buf_put_uvarint(&rec_body, 999);
    sprof_buf_put_uvarint(&rec_body, 1001001);
    sprof_buf_put_uvarint(&rec_body, 27);
    sprof_buf_put_str(&rec_body, "synth");
    sprof_buf_put_str(&rec_body, "backtrace");
    sprof_buf_put_uvarint(&rec_body, 256);
    put_rec(SPROF_REC_CONFIG);

    sprof_buf_put_uvarint(&rec_body, 0);
    sprof_buf_put_uvarint(&rec_body, 0);
    sprof_buf_put_str(&rec_body, "synthetic profile, not a recording");
    put_rec(SPROF_REC_NOTE);

    sprof_buf_put_uvarint(&rec_body, tid);
    sprof_buf_put_uvarint(&rec_body, t0);
    sprof_buf_put_str(&rec_body, "synth");
    put_rec(SPROF_REC_THREAD);
    sprof_buf_put_uvarint(&rec_body, tid2);
    sprof_buf_put_uvarint(&rec_body, t0);
    sprof_buf_put_str(&rec_body, thread2);
    put_rec(SPROF_REC_THREAD);

    put_maps(t0, zero_bias);
    put_captured(0, &st_b);
    put_captured(1, &st_c);
    put_captured(2, &st_rec);
    put_captured(3, &st_mangled);
    flush_chunk();
    uint64_t rng = 0x9e3779b97f4a7c15ull;
    for (unsigned long long k = 0; k < nrandom; k++) {
        uint64_t f[MAXF];
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        int n = 5 + (int)((rng >> 33) % 36);
        if (n > MAXF) n = MAXF;
        for (int i = 0; i < n; i++) {
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            int r = (int)((rng >> 33) % (uint64_t)nxr);
            f[i] = xr_lo[r] + (rng >> 20) % (xr_hi[r] - xr_lo[r]);
        }
        put_stack((uint32_t)(4 + k), f, n);
        if (chunk.len > (4u << 20)) flush_chunk();
    }
    flush_chunk();

    /* samples: every npattern in a row go by pattern (--weights) */
    uint64_t period = 1001001, t = t0 + 1000000;
    unsigned long long done = 0;
    struct sprof_buf main_s, work_s;
    sprof_buf_init(&main_s);
    sprof_buf_init(&work_s);
    const struct stack *known[4] = {&st_b, &st_c, &st_rec, &st_mangled};
    for (uint32_t chunk_no = 1; done < nsamples; chunk_no++) {
        unsigned long long n = nsamples - done < per_chunk ? nsamples - done : per_chunk;
        uint64_t base = t, prev_m = t, prev_w = t, cm = 0, cw = 0;
        /* --reid: stack k is 1000 * chunk_no + k here, the recursion's
         * samples alternating with 1000 * chunk_no + 4, the same frames */
        uint32_t id0 = reid && !nrandom ? 1000 * chunk_no : 0;
        if (id0) {
            put_captured(id0 + 0, known[0]);
            put_captured(id0 + 2, known[2]);
            put_captured(id0 + 3, known[3]);
            put_captured(id0 + 4, known[2]);
        }
        sprof_buf_reset(&main_s);
        sprof_buf_reset(&work_s);
        for (unsigned long long i = 0; i < n; i++, t += period) {
            uint32_t id = pattern[(done + i) % npattern];
            if (id0) id += id0 + (id == 2 && (i & 1) ? 2 : 0);
            if (nrandom) {
                /* skewed: low ids are hot */
                rng = rng * 6364136223846793005ull + 1442695040888963407ull;
                double u = (double)(rng >> 11) / 9007199254740992.0;
                id = 4 + (uint32_t)((double)nrandom * u * u * u);
                if (id >= 4 + nrandom) id = (uint32_t)(3 + nrandom);
            }
            int worker = id == 1 || (id0 && id == id0 + 1);
            struct sprof_buf *b = worker ? &work_s : &main_s;
            uint64_t *prev = worker ? &prev_w : &prev_m;
            sprof_buf_put_uvarint(b, t - *prev);
            sprof_buf_put_uvarint(b, period);
            sprof_buf_put_uvarint(b, id);
            *prev = t;
            if (worker)
                cw++;
            else
                cm++;
        }
        sprof_buf_put_uvarint(&rec_body, tid);
        sprof_buf_put_uvarint(&rec_body, base);
        sprof_buf_put_uvarint(&rec_body, cm);
        sprof_buf_put(&rec_body, main_s.data, main_s.len);
        put_rec(SPROF_REC_SAMPLES);
        if (id0) put_captured(id0 + 1, known[1]); /* a STACK after SAMPLES */
        sprof_buf_put_uvarint(&rec_body, tid2);
        sprof_buf_put_uvarint(&rec_body, base);
        sprof_buf_put_uvarint(&rec_body, cw);
        sprof_buf_put(&rec_body, work_s.data, work_s.len);
        put_rec(SPROF_REC_SAMPLES);
        flush_chunk();
        done += n;
    }
    sprof_buf_release(&main_s);
    sprof_buf_release(&work_s);

    if (churn) {
        const uint64_t F = 0x7e0000000000ull;
        uint64_t x1 = F + lz.vaddr_fn + 2, x2 = F + lzstd.vaddr_fn + 2;
        put_map(t, F, F + lz.size, 0, zero_bias ? 0 : F, lz.bid, lz.bidn, lz.path);
        put_stack(100, &x1, 1);
        put_stack(101, &x2, 1);
        sprof_buf_put_uvarint(&rec_body, tid);
        sprof_buf_put_uvarint(&rec_body, t + 1);
        sprof_buf_put_uvarint(&rec_body, 50);
        for (int i = 0; i < 50; i++) {
            sprof_buf_put_uvarint(&rec_body, period);
            sprof_buf_put_uvarint(&rec_body, period);
            sprof_buf_put_uvarint(&rec_body, 100);
        }
        put_rec(SPROF_REC_SAMPLES);
        t += 60 * period;
        sprof_buf_put_uvarint(&rec_body, t);
        sprof_buf_put_uvarint(&rec_body, F);
        sprof_buf_put_uvarint(&rec_body, F + lz.size);
        put_rec(SPROF_REC_UNMAP);
        put_map(t, F, F + lzstd.size, 0, zero_bias ? 0 : F, lzstd.bid, lzstd.bidn, lzstd.path);
        sprof_buf_put_uvarint(&rec_body, tid);
        sprof_buf_put_uvarint(&rec_body, t + 1);
        sprof_buf_put_uvarint(&rec_body, 50);
        for (int i = 0; i < 50; i++) {
            sprof_buf_put_uvarint(&rec_body, period);
            sprof_buf_put_uvarint(&rec_body, period);
            sprof_buf_put_uvarint(&rec_body, i < 30 ? 101 : 100);
        }
        put_rec(SPROF_REC_SAMPLES);
        t += 60 * period;
        flush_chunk();
    }

    if (vdso) {
        void *h = dlopen("linux-vdso.so.1", RTLD_NOW | RTLD_NOLOAD);
        void *fn = h ? dlsym(h, "__vdso_clock_gettime") : NULL;
        if (!fn) {
            fprintf(stderr, "synth: no vdso clock_gettime\n");
            return 1;
        }
        uint64_t x = (uint64_t)(uintptr_t)fn + 4;
        put_stack(200, &x, 1);
        sprof_buf_put_uvarint(&rec_body, tid);
        sprof_buf_put_uvarint(&rec_body, t + 1);
        sprof_buf_put_uvarint(&rec_body, 10);
        for (int i = 0; i < 10; i++) {
            sprof_buf_put_uvarint(&rec_body, period);
            sprof_buf_put_uvarint(&rec_body, period);
            sprof_buf_put_uvarint(&rec_body, 200);
        }
        put_rec(SPROF_REC_SAMPLES);
        t += 11 * period;
        flush_chunk();
    }

    /* counters and end */
    uint64_t total = nsamples + (churn ? 100 : 0) + (vdso ? 10 : 0);
    uint64_t ctr[SPROF_CTR_MAX_] = {0};
    ctr[SPROF_CTR_SAMPLES] = total;
    ctr[SPROF_CTR_HANDLER_NS] = total * 1500;
    ctr[SPROF_CTR_WRITER_CPU_NS] = 2000000;
    ctr[SPROF_CTR_BYTES] = (uint64_t)ftell(out);
    ctr[SPROF_CTR_STACKS] = (churn ? 6 : 4) + nrandom;
    ctr[SPROF_CTR_THREADS] = 2;
    sprof_buf_put_uvarint(&rec_body, t);
    sprof_buf_put_uvarint(&rec_body, SPROF_CTR_MAX_ - 1);
    for (unsigned i = 1; i < SPROF_CTR_MAX_; i++) {
        sprof_buf_put_uvarint(&rec_body, i);
        sprof_buf_put_uvarint(&rec_body, ctr[i]);
    }
    sprof_buf_put_uvarint(&rec_body, SPROF_HIST_BUCKETS);
    for (unsigned i = 0; i < SPROF_HIST_BUCKETS; i++) {
        uint64_t v = 0;
        if (i == sprof_hist_bucket(1400)) v = total - total / 100;
        if (i == sprof_hist_bucket(5000)) v = total / 100;
        sprof_buf_put_uvarint(&rec_body, v);
    }
    put_rec(SPROF_REC_COUNTERS);
    sprof_buf_put_uvarint(&rec_body, tid2);
    sprof_buf_put_uvarint(&rec_body, t);
    put_rec(SPROF_REC_THREAD_END);
    sprof_buf_put_uvarint(&rec_body, t);
    sprof_buf_put_str(&rec_body, "exit");
    sprof_buf_put_uvarint(&rec_body, 0);
    put_rec(SPROF_REC_END);
    flush_chunk();

    if (fclose(out)) {
        perror(path);
        return 1;
    }
    sprof_chunk_encoder_release(&enc);
    sprof_buf_release(&chunk);
    sprof_buf_release(&rec_body);
    sprof_buf_release(&file_out);
    return 0;
}
