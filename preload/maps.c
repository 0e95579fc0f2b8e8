/* SPDX-License-Identifier: MIT */
/*
 * Executable mappings of the process, for offline symbolization: range,
 * file offset, path, load bias and build-id. The writer thread (and the
 * dlopen/dlclose wrappers, under the writer's lock) compare the executable
 * mappings with the set already reported and record what appeared and
 * vanished. Those of the objects the dynamic loader knows by path come
 * from its list (dl_iterate_phdr: their segments, names and notes, in
 * memory); the kernel's (/proc/self/maps) are asked for only when a stack
 * since the last comparison has a frame outside them (a JIT's code, a file
 * mapped by hand) or the loader knows an object by a relative path only,
 * one at a time with the PROCMAP_QUERY ioctl (Linux 6.11) where the kernel
 * has it, else read from the text of the whole file. A short process's one comparison
 * cost it the file's opening and an ioctl a mapping: 99 us of a compiler's
 * cc1 at its end, 49 of an assembler's (BENCHMARKS.md, session 51).
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "buf.h"
#include "sprof.h"

struct mapping {
    uint64_t start, end, offset;
    unsigned prot;
    char *path;
    /* what its MAP record said (put_map), for a child of fork to say again
     * without looking (sprof_maps_restate) */
    uint64_t bias;
    uint8_t build_id_len;
    uint8_t build_id[64];
    int kernel; /* only the kernel knows it (not the loader) */
};

static struct mapping *known;
static size_t nknown;

static void free_mappings(struct mapping *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].path);
    free(v);
}

static void maps_reset(void)
{
    free_mappings(known, nknown);
    known = NULL;
    nknown = 0;
}

SPROF_ONCE size_t sprof_note_build_id(const uint8_t *p, size_t n, uint8_t *out)
{
    size_t off = 0;
    while (off + sizeof(Elf64_Nhdr) <= n) {
        const Elf64_Nhdr *h = (const Elf64_Nhdr *)(p + off);
        size_t name = (h->n_namesz + 3) & ~3u, desc = (h->n_descsz + 3) & ~3u;
        size_t body = off + sizeof(*h);
        if (body + name + desc > n || body + name + desc < body) break;
        if (h->n_type == NT_GNU_BUILD_ID && h->n_namesz == 4 && memcmp(p + body, "GNU", 4) == 0 &&
            h->n_descsz <= 64) {
            memcpy(out, p + body + name, h->n_descsz);
            return h->n_descsz;
        }
        off = body + name + desc;
    }
    return 0;
}

struct phdr_query {
    uint64_t start, end;
    int found;
    uint64_t bias;
    uint8_t build_id[64];
    size_t build_id_len;
};

static int phdr_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct phdr_query *q = arg;
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
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE) continue;
        q->build_id_len = sprof_note_build_id((const uint8_t *)(info->dlpi_addr + ph->p_vaddr),
                                              ph->p_memsz, q->build_id);
        if (q->build_id_len) break;
    }
    return 1;
}

/* For a file the loader doesn't know (mapped by hand): read its program
 * headers from disk. */
static void from_file(const struct mapping *m, struct phdr_query *q)
{
    int fd = sprof_open(m->path, O_RDONLY, 0);
    if (fd < 0) return;
    Elf64_Ehdr eh;
    if (sys_pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) ||
        memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
        eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum > 256) {
        sys_close(fd);
        return;
    }
    Elf64_Phdr ph[256];
    size_t len = eh.e_phnum * sizeof(Elf64_Phdr);
    if (sys_pread(fd, ph, len, (off_t)eh.e_phoff) != (ssize_t)len) {
        sys_close(fd);
        return;
    }
    for (int i = 0; i < eh.e_phnum; i++) {
        if (ph[i].p_type == PT_LOAD && !q->found) {
            uint64_t align = ph[i].p_align > 1 ? ph[i].p_align : 1;
            uint64_t fstart = ph[i].p_offset & ~(align - 1);
            if (m->offset >= fstart && m->offset < ph[i].p_offset + ph[i].p_filesz) {
                q->bias = m->start - ph[i].p_vaddr - (m->offset - ph[i].p_offset);
                q->found = 1;
            }
        }
        if (ph[i].p_type == PT_NOTE && !q->build_id_len && ph[i].p_filesz < 65536) {
            uint8_t buf[65536];
            if (sys_pread(fd, buf, ph[i].p_filesz, (off_t)ph[i].p_offset) ==
                (ssize_t)ph[i].p_filesz)
                q->build_id_len = sprof_note_build_id(buf, ph[i].p_filesz, q->build_id);
        }
    }
    sys_close(fd);
}

/* Finds m's load bias and build-id, for its MAP record. */
static void look_up(struct mapping *m)
{
    struct phdr_query q;
    memset(&q, 0, sizeof(q));
    q.start = m->start;
    q.end = m->end;
    if (m->path[0] == '/' || strcmp(m->path, "[vdso]") == 0) {
        dl_iterate_phdr(phdr_cb, &q);
        if (m->path[0] == '/' && (!q.found || !q.build_id_len)) from_file(m, &q);
    }
    m->bias = q.found ? q.bias : 0;
    m->build_id_len = (uint8_t)q.build_id_len;
    memcpy(m->build_id, q.build_id, q.build_id_len);
}

static void put_map(struct sprof_buf *out, uint64_t time, const struct mapping *m)
{
    struct sprof_buf b;
    sprof_buf_init(&b);
    sprof_buf_put_uvarint(&b, time);
    sprof_buf_put_uvarint(&b, m->start);
    sprof_buf_put_uvarint(&b, m->end);
    sprof_buf_put_uvarint(&b, m->offset);
    sprof_buf_put_uvarint(&b, m->prot);
    sprof_buf_put_uvarint(&b, m->bias);
    sprof_buf_put_bytes(&b, m->build_id, m->build_id_len);
    sprof_buf_put_str(&b, m->path);
    sprof_buf_put_record(out, SPROF_REC_MAP, &b);
    sprof_buf_release(&b);
}

static char *read_maps(void)
{
    int fd = sprof_open("/proc/self/maps", O_RDONLY, 0);
    if (fd < 0) return NULL;
    struct sprof_buf b;
    sprof_buf_init(&b);
    /* Each read asks for all the room left, which grows by doubling: a
     * typical process's maps (3-10 KB) take one read into 16 KiB. Asking
     * for 64 KiB of room before every read made the second one realloc
     * 64 KiB to 128 KiB, past malloc's mmap threshold: a copy of untouched
     * pages, some 30 page faults at every scan, 6% of a /bin/true. */
    for (;;) {
        if (sprof_buf_reserve(&b, b.cap - b.len >= 4096 ? 1 : 16384)) break;
        ssize_t n = sys_read(fd, b.data + b.len, b.cap - b.len - 1);
        if (n <= 0) break;
        b.len += (size_t)n;
    }
    sys_close(fd);
    sprof_buf_put_u8(&b, 0);
    if (b.oom) {
        sprof_buf_release(&b);
        return NULL;
    }
    return (char *)b.data;
}

/* A hexadecimal number up to the first character that is not one. */
static const char *hex(const char *p, unsigned long long *v)
{
    unsigned long long x = 0;
    const char *start = p;
    for (;; p++) {
        unsigned d;
        if (*p >= '0' && *p <= '9')
            d = (unsigned)(*p - '0');
        else if (*p >= 'a' && *p <= 'f')
            d = (unsigned)(*p - 'a' + 10);
        else
            break;
        x = x << 4 | d;
    }
    *v = x;
    return p > start ? p : NULL;
}

/* "start-end perms offset dev inode path": the fields we use, by hand
 * (sscanf took two thirds of a scan's time, and each process scans at its
 * start and end). Returns 0 for an executable mapping, 1 for another, -1
 * for a line that does not parse. */
static int parse_line(char *line, struct mapping *m)
{
    unsigned long long start, end, offset, skip;
    const char *p = hex(line, &start);
    if (!p || *p != '-' || !(p = hex(p + 1, &end)) || *p != ' ') return -1;
    const char *perms = p + 1;
    if (strnlen(perms, 5) < 5 || perms[4] != ' ') return -1;
    m->start = start;
    m->end = end;
    if (perms[2] != 'x') return 1;
    if (!(p = hex(perms + 5, &offset)) || *p != ' ') return -1;
    /* dev "major:minor", inode, then spaces up to the path (if any) */
    if (!(p = hex(p + 1, &skip)) || *p != ':' || !(p = hex(p + 1, &skip)) || *p != ' ') return -1;
    for (p++; *p >= '0' && *p <= '9'; p++) {
    }
    while (*p == ' ')
        p++;
    m->offset = offset;
    m->prot = (perms[0] == 'r' ? 1u : 0u) | (perms[1] == 'w' ? 2u : 0u) | 4u;
    m->path = (char *)p;
    return 0;
}

static int same(const struct mapping *a, const struct mapping *b)
{
    return a->start == b->start && a->end == b->end && a->offset == b->offset &&
           strcmp(a->path, b->path) == 0;
}

/* Appends m, with a copy of its path, to *v: 0, or -1 out of memory. */
static int add_mapping(struct mapping **v, size_t *n, size_t *cap, struct mapping m)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 64;
        struct mapping *g = realloc(*v, c * sizeof(**v));
        if (!g) return -1;
        *v = g;
        *cap = c;
    }
    if (!(m.path = strdup(m.path))) return -1;
    (*v)[(*n)++] = m;
    return 0;
}

/* The executable mappings, from the text of /proc/self/maps: 0, or -1. */
static int collect_text(struct mapping **v, size_t *n, size_t *cap)
{
    char *text = read_maps();
    if (!text) return -1;
    for (char *line = text, *next; *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        else
            next = line + strlen(line);
        struct mapping m;
        if (parse_line(line, &m)) continue;
        if (add_mapping(v, n, cap, m)) break;
    }
    free(text);
    return 0;
}

/* PROCMAP_QUERY, from linux/fs.h (Linux 6.11), which older headers lack */
struct procmap_query {
    uint64_t size, query_flags, query_addr;
    uint64_t vma_start, vma_end, vma_flags, vma_page_size, vma_offset, inode;
    uint32_t dev_major, dev_minor, vma_name_size, build_id_size;
    uint64_t vma_name_addr, build_id_addr;
};
#define PROCMAP_QUERY_IOCTL _IOWR('f', 17, struct procmap_query)
#define PROCMAP_QUERY_VMA_EXECUTABLE 0x04
#define PROCMAP_QUERY_COVERING_OR_NEXT_VMA 0x10

static int no_query; /* the kernel refused PROCMAP_QUERY: the text from now on */

/* The mapping that contains addr (with PROCMAP_QUERY_COVERING_OR_NEXT_VMA:
 * or the first one above it) with the query's flags; name (name_size bytes,
 * if any) gets its path, "" for none. 0, 1 for none, or -1 when the kernel
 * cannot be asked so (and no_query is set if it never can). */
static int query(int fd, uint64_t addr, uint64_t flags, struct procmap_query *q, char *name,
                 size_t name_size)
{
    memset(q, 0, sizeof(*q));
    q->size = sizeof(*q);
    q->query_flags = flags;
    q->query_addr = addr;
    q->vma_name_addr = name_size ? (uintptr_t)name : 0; /* both or neither, or EINVAL */
    q->vma_name_size = (uint32_t)name_size;
    /* libc's ioctl, not sys.h's: case 042 puts a kernel without the query
     * before sprof by interposing ioctl (tests/progs/noquery.c) */
    if (ioctl(fd, PROCMAP_QUERY_IOCTL, q) == 0) {
        if (name_size && !q->vma_name_size) name[0] = 0;
        return 0;
    }
    if (errno == ENOENT) return 1;
    /* ENOTTY before 6.11; ENAMETOOLONG (a path over PATH_MAX) only for now */
    if (errno != ENAMETOOLONG) no_query = 1;
    return -1;
}

/* The executable mappings, one ioctl each: a third to a quarter of the time
 * it takes to read the text, in which the kernel formats every mapping (98
 * mappings, 18 executable, as in a compiler: 27-35 against 79-114 us here;
 * 2,100 mappings: 160 against 635 us; scripts/bench/maps-scan.c). 0, or -1
 * to read the text. */
static int collect_query(struct mapping **v, size_t *n, size_t *cap)
{
    int fd = sprof_open("/proc/self/maps", O_RDONLY, 0);
    if (fd < 0) return -1;
    char name[SPROF_PATH_MAX];
    struct procmap_query q;
    int r;
    for (uint64_t addr = 0;; addr = q.vma_end) {
        r = query(fd, addr, PROCMAP_QUERY_VMA_EXECUTABLE | PROCMAP_QUERY_COVERING_OR_NEXT_VMA, &q,
                  name, sizeof(name));
        if (r) break;
        struct mapping m = {.start = q.vma_start,
                            .end = q.vma_end,
                            .offset = q.vma_offset,
                            .prot = (unsigned)(q.vma_flags & 7),
                            .path = name};
        if (add_mapping(v, n, cap, m)) break;
    }
    sys_close(fd);
    if (r >= 0) return 0;
    for (size_t i = 0; i < *n; i++)
        free((*v)[i].path);
    *n = 0;
    return -1;
}

/* ---- the loader's objects ---- */

struct loader_walk {
    struct mapping **v;
    size_t *n, *cap;
    const char *exe; /* the executable's path (its entry's name is "") */
    uintptr_t vdso;  /* AT_SYSINFO_EHDR */
    uint64_t page;
    int first, oom, unnamed;
};

/* The executable segments of one object of the loader's whose path it
 * knows (absolute), as the kernel maps them: whole pages, the file offset
 * of the first (p_offset and p_vaddr agree modulo the page). */
static int loader_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct loader_walk *w = arg;
    const char *name = info->dlpi_name ? info->dlpi_name : "";
    int first = w->first;
    w->first = 0;
    if (w->vdso && info->dlpi_addr == w->vdso)
        name = "[vdso]";
    else if (!name[0] && first)
        name = w->exe;
    else if (name[0] != '/') {
        w->unnamed = 1; /* not known by path (a relative one): the kernel is asked */
        return 0;
    }
    struct mapping m;
    memset(&m, 0, sizeof(m));
    m.path = (char *)name; /* its bias and build-id: look_up, when it is new */
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X) || !ph->p_memsz) continue;
        uint64_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
        m.start = lo & ~(w->page - 1);
        m.end = (hi + w->page - 1) & ~(w->page - 1);
        m.offset = ph->p_offset & ~(w->page - 1);
        m.prot = (ph->p_flags & PF_R ? 1u : 0u) | (ph->p_flags & PF_W ? 2u : 0u) | 4u;
        if (add_mapping(w->v, w->n, w->cap, m)) {
            w->oom = 1;
            return 1;
        }
    }
    return 0;
}

static int by_start(const void *a, const void *b)
{
    const struct mapping *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

/* The executable mappings of the loader's objects known by path, sorted by
 * address: 0, 1 when it has objects it does not know by path (left out),
 * or -1. exe: the executable's path (NULL: not known). */
static int collect_loader(struct mapping **v, size_t *n, size_t *cap, const char *exe)
{
    if (!exe || exe[0] != '/') return -1;
    long page = sysconf(_SC_PAGESIZE);
    struct loader_walk w = {
        v, n, cap, exe, getauxval(AT_SYSINFO_EHDR), page > 0 ? (uint64_t)page : 4096, 1, 0, 0};
    dl_iterate_phdr(loader_cb, &w);
    if (w.oom) return -1;
    if (*n) qsort(*v, *n, sizeof(**v), by_start);
    return w.unnamed;
}

/* This comparison's mappings from the loader, for sprof_maps_covers. */
static const struct mapping *cand;
static size_t ncand;

/* Is a in a mapping of the loader's now, or on record (the loader's: one
 * gone since, a library a dlclose unmapped, whose frames the stacks still
 * have)? */
static int covered_at(uint64_t a)
{
    size_t lo = 0, hi = ncand;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cand[mid].start <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo && a < cand[lo - 1].end) return 1;
    for (size_t k = 0; k < nknown; k++)
        if (a >= known[k].start && a < known[k].end) return 1;
    return 0;
}

int sprof_maps_covers(const uint64_t *addr, size_t n)
{
    for (size_t i = 0; i < n; i++)
        /* a return address may be one past its mapping's end */
        if (!covered_at(addr[i]) && !covered_at(addr[i] - 1)) return 0;
    return 1;
}

/* The kernel's executable mappings that no mapping of the loader's in
 * cur[0..*ncur) overlaps, added to it (with their load bias and build-id):
 * 0, or -1 when the kernel could not be asked. */
static int add_kernel(struct mapping **cur, size_t *ncur, size_t *cap)
{
    struct mapping *k = NULL;
    size_t nk = 0, kcap = 0;
    if ((no_query || collect_query(&k, &nk, &kcap)) && collect_text(&k, &nk, &kcap)) {
        free_mappings(k, nk);
        return -1;
    }
    size_t nloader = *ncur;
    for (size_t i = 0; i < nk; i++) {
        int over = 0;
        for (size_t j = 0; j < nloader && !over; j++)
            over = k[i].start < (*cur)[j].end && k[i].end > (*cur)[j].start;
        if (over) continue;
        k[i].kernel = 1;
        if (add_mapping(cur, ncur, cap, k[i])) break;
    }
    free_mappings(k, nk);
    return 0;
}

void sprof_maps_scan(struct sprof_buf *out, uint64_t t_new, uint64_t t_gone, const char *exe,
                     int (*covered)(void))
{
    struct mapping *cur = NULL;
    size_t ncur = 0, cap = 0;
    int kernel = collect_loader(&cur, &ncur, &cap, exe) != 0;
    /* one that only the kernel knows may be gone (a JIT's code freed, a
     * file mapped by hand) without the loader's telling: the kernel is
     * asked at every comparison then, as when the loader has an object
     * whose path it does not know */
    for (size_t i = 0; i < nknown && !kernel; i++)
        kernel = known[i].kernel;
    if (!kernel) {
        cand = cur;
        ncand = ncur;
        kernel = !covered();
        cand = NULL;
        ncand = 0;
    }
    if (kernel && add_kernel(&cur, &ncur, &cap)) { /* nothing changed, as far as is known */
        free_mappings(cur, ncur);
        return;
    }

    for (size_t i = 0; i < nknown; i++) {
        int kept = 0;
        for (size_t k = 0; k < ncur && !kept; k++)
            kept = same(&known[i], &cur[k]);
        if (kept) continue;
        struct sprof_buf b;
        sprof_buf_init(&b);
        sprof_buf_put_uvarint(&b, t_gone);
        sprof_buf_put_uvarint(&b, known[i].start);
        sprof_buf_put_uvarint(&b, known[i].end);
        sprof_buf_put_record(out, SPROF_REC_UNMAP, &b);
        sprof_buf_release(&b);
    }
    for (size_t k = 0; k < ncur; k++) {
        const struct mapping *had = NULL;
        for (size_t i = 0; i < nknown && !had; i++)
            if (same(&known[i], &cur[k])) had = &known[i];
        if (had) {
            cur[k].bias = had->bias;
            cur[k].build_id_len = had->build_id_len;
            memcpy(cur[k].build_id, had->build_id, had->build_id_len);
        } else {
            look_up(&cur[k]);
            put_map(out, t_new, &cur[k]);
        }
    }
    maps_reset();
    known = cur;
    nknown = ncur;
}

/* A child of fork's new file: the mappings its parent had on record, which
 * the child has too (fork copies them all), with what was found for them
 * then. Looking again would read every object's notes in pages of the
 * parent's that are not yet in the child's page tables: a page fault for
 * each, 200-300 us before a shell's command's exec (BENCHMARKS.md, session
 * 28). Whatever changed since the parent's last comparison, the child's next
 * one finds. Returns how many there were. */
size_t sprof_maps_restate(struct sprof_buf *out, uint64_t time)
{
    for (size_t i = 0; i < nknown; i++)
        put_map(out, time, &known[i]);
    return nknown;
}

/* Does every one of the n addresses lie in a mapping on record? */
int sprof_maps_on_record(const uint64_t *addr, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        while (k < nknown && !(addr[i] >= known[k].start && addr[i] < known[k].end))
            k++;
        if (k == nknown) return 0;
    }
    return 1;
}

/* The lowest and highest address of the mapping that contains addr, from
 * /proc/self/maps: a thread's stack, for threads we did not create. */
int sprof_maps_find_range(uintptr_t addr, uintptr_t *lo, uintptr_t *hi)
{
    if (!no_query) {
        int fd = sprof_open("/proc/self/maps", O_RDONLY, 0);
        if (fd < 0) return -1;
        struct procmap_query q;
        int r = query(fd, addr, 0, &q, NULL, 0);
        sys_close(fd);
        if (r >= 0) {
            *lo = (uintptr_t)q.vma_start;
            *hi = (uintptr_t)q.vma_end;
            return r ? -1 : 0;
        }
    }
    char *text = read_maps();
    if (!text) return -1;
    int found = -1;
    for (char *line = text; line && *line;
         line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
        unsigned long long a, b;
        const char *p = hex(line, &a);
        if (p && *p == '-' && hex(p + 1, &b) && addr >= a && addr < b) {
            *lo = (uintptr_t)a;
            *hi = (uintptr_t)b;
            found = 0;
            break;
        }
    }
    free(text);
    return found;
}

/* ---- another stack's bounds, for the handler ----
 * A sample whose sp is outside its thread's stack runs on a stack of the
 * program's making: a coroutine's or a fiber's (makecontext, a runtime's
 * green threads), a handler's alternate signal stack. The walk may read
 * only memory it knows is there: the mapping that holds sp, readable and
 * writable, which the kernel names by PROCMAP_QUERY, asked anew at each
 * such sample (a coroutine's stack may be freed at any time) through one
 * descriptor of /proc/self/maps the process keeps (above 2, close-on-exec),
 * opened by the first handler that needs it. libunwind walked these
 * samples before, checking each page it read with a system call of its
 * own: 13 to 21 us a sample of 33 frames against 1.1 to 1.7 here
 * (BENCHMARKS.md, session 54). A kernel without the query (before 6.11) leaves them to
 * libunwind still. The program may close the descriptor and open another
 * file on its number: it is checked (its device and inode) before each
 * query, and opened again at most REGION_REOPENS times. A child of fork
 * forgets its parent's, whose maps it would read. */
#define PROCMAP_QUERY_VMA_READABLE 0x01
#define PROCMAP_QUERY_VMA_WRITABLE 0x02
#define REGION_UNOPENED (-1)
#define REGION_OPENING (-2)
#define REGION_NEVER (-3)
#define REGION_REOPENS 8
static _Atomic int region_fd = REGION_UNOPENED;
static _Atomic unsigned region_reopens;
static _Atomic uint64_t region_dev, region_ino; /* (a reopening writes them anew) */

/* (query's, by system call: in a handler, not libc's ioctl, which a
 * program or case 042's noquery.c may interpose) */
static int region_ask(int fd, uintptr_t sp, uintptr_t *lo, uintptr_t *hi)
{
    struct procmap_query q;
    memset(&q, 0, sizeof(q));
    q.size = sizeof(q);
    q.query_flags = PROCMAP_QUERY_VMA_READABLE | PROCMAP_QUERY_VMA_WRITABLE;
    q.query_addr = sp;
    if (sys_ioctl(fd, PROCMAP_QUERY_IOCTL, &q) != 0) return -1;
    *lo = (uintptr_t)q.vma_start;
    *hi = (uintptr_t)q.vma_end;
    return 0;
}

/* The descriptor, checked by a first query (at sp); REGION_NEVER where the
 * kernel has no PROCMAP_QUERY or /proc cannot be opened. */
static int region_open(uintptr_t sp)
{
    /* not a child of vfork, whose descriptors are its own */
    if ((pid_t)sys_callv(SYS_getpid) != sprof.pid) return REGION_UNOPENED;
    int fd = sprof_open("/proc/self/maps", O_RDONLY, 0);
    if (fd < 0) return REGION_NEVER;
    struct stat st;
    uintptr_t lo, hi;
    if (sys_fstat(fd, &st) != 0 ||
        (region_ask(fd, sp, &lo, &hi) != 0 && (errno == ENOTTY || errno == EINVAL))) {
        sys_close(fd);
        return REGION_NEVER;
    }
    atomic_store_explicit(&region_dev, st.st_dev, memory_order_relaxed);
    atomic_store_explicit(&region_ino, st.st_ino, memory_order_relaxed);
    return fd;
}

int sprof_stack_region(uintptr_t sp, uintptr_t *lo, uintptr_t *hi)
{
    int fd = atomic_load_explicit(&region_fd, memory_order_acquire);
    if (fd == REGION_UNOPENED) {
        if (!atomic_compare_exchange_strong(&region_fd, &fd, REGION_OPENING)) return -1;
        fd = region_open(sp);
        atomic_store_explicit(&region_fd, fd, memory_order_release);
    }
    if (fd < 0) return -1;
    struct stat st;
    if (sys_fstat(fd, &st) != 0 ||
        st.st_dev != atomic_load_explicit(&region_dev, memory_order_relaxed) ||
        st.st_ino != atomic_load_explicit(&region_ino, memory_order_relaxed)) {
        /* closed by the program, its number maybe reused: not sprof's now */
        int again = atomic_fetch_add(&region_reopens, 1) < REGION_REOPENS;
        atomic_compare_exchange_strong(&region_fd, &fd, again ? REGION_UNOPENED : REGION_NEVER);
        return -1;
    }
    return region_ask(fd, sp, lo, hi);
}

/* (the inherited descriptor closed only if it is still sprof's) */
SPROF_ONCE void sprof_stack_region_forget(void)
{
    int fd = atomic_exchange(&region_fd, REGION_UNOPENED);
    struct stat st;
    if (fd >= 0 && sys_fstat(fd, &st) == 0 && st.st_dev == atomic_load(&region_dev) &&
        st.st_ino == atomic_load(&region_ino))
        sys_close(fd);
    atomic_store(&region_reopens, 0);
}
