/* SPDX-License-Identifier: MIT */
/*
 * Unwind tables, writer side (see cfi.h for the layout and the rules of
 * publication). Everything here runs outside the signal handler, one call at
 * a time under the writer's lock, and may allocate.
 *
 * Building one object's table:
 *   1. inside dl_iterate_phdr (the object cannot be unloaded meanwhile):
 *      find .eh_frame through .eh_frame_hdr and measure it;
 *   2. outside: allocate a buffer of that size;
 *   3. inside dl_iterate_phdr again: find the same object and copy .eh_frame;
 *   4. outside: parse the copy, run every FDE's CFA program (its CIE's
 *      initial instructions first), and turn the register rules for rsp, rbp
 *      and the return address into rows; sort, close gaps, merge.
 * Nothing allocates while the loader's lock is held: a handler whose thread
 * holds the allocator's lock may be waiting for the loader's lock inside
 * libunwind (the fallback), and would wait forever for a writer that waits
 * for the allocator.
 *
 * The parser trusts nothing in the copy: every read is bounded by it, and
 * bad data ends the FDE (its range then has no rows: libunwind covers it)
 * or the walk of .eh_frame.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "buf.h"
#include "cfi.h"
#include "sprof.h"

_Atomic(const struct cfi_set *) sprof_cfi_current;
_Atomic unsigned sprof_cfi_epoch;
_Atomic unsigned long sprof_cfi_readers[2];
_Atomic int sprof_cfi_unknown;

/* An .eh_frame bigger than this is not copied: its table would not fit
 * (tables come out at 1 to 2 times the size of .eh_frame). */
#define EH_FRAME_MAX (2 * CFI_MAX_BYTES)
#define STATE_STACK 16

/* DWARF pointer encodings (DW_EH_PE_*) */
#define PE_OMIT 0xff
#define PE_ABSPTR 0x00
#define PE_ULEB128 0x01
#define PE_UDATA2 0x02
#define PE_UDATA4 0x03
#define PE_UDATA8 0x04
#define PE_SLEB128 0x09
#define PE_SDATA2 0x0a
#define PE_SDATA4 0x0b
#define PE_SDATA8 0x0c
#define PE_PCREL 0x10
#define PE_DATAREL 0x30
#define PE_INDIRECT 0x80

/* x86_64 DWARF register numbers */
#define DW_REG_RBX 3
#define DW_REG_RBP 6
#define DW_REG_RSP 7
#define DW_REG_RA 16

/* ---- the published sets and their reclamation ---- */

/* Retired sets, in lists of the writer's own. */
struct retired {
    struct retired *next;
    struct cfi_set *set;
};

static struct {
    struct retired *retired; /* not yet behind an epoch flip */
    struct retired *waiting; /* behind the flip to wait_slot's other side */
    unsigned wait_slot;
    size_t bytes;           /* tables held, in all sets */
    size_t populated;       /* bytes of cached tables mapped populated */
    uint64_t built, cached; /* tables built, mapped from the cache */
    uint64_t early;         /* ... of them by sprof_cfi_early */
} C;

void sprof_cfi_tables(uint64_t *built, uint64_t *cached, uint64_t *early)
{
    *built = C.built;
    *cached = C.cached;
    *early = C.early;
}

size_t sprof_cfi_bytes(void)
{
    return C.bytes;
}

static size_t table_size(const struct cfi_table *t)
{
    return cfi_table_bytes(t->nrows, t->ngran, t->nrules);
}

static void free_set(struct cfi_set *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->nobj; i++) {
        struct cfi_obj *o = &s->obj[i];
        const struct cfi_table *t = atomic_load(&o->table);
        if (t && o->owns_table) {
            C.bytes -= table_size(t);
            if (o->map)
                sys_munmap(o->map, o->map_size);
            else
                free((void *)t);
        }
    }
    if (!sprof_start_owns(s)) free(s);
}

static void free_list(struct retired *r)
{
    while (r) {
        struct retired *next = r->next;
        free_set(r->set);
        free(r);
        r = next;
    }
}

/* Frees what no handler can still be reading; never waits (see cfi.h). A
 * handler registers in the slot of the epoch's parity and registers again
 * if the epoch changed parity meanwhile (cfi.h), so after a flip only
 * handlers that started before it count in the old slot, and those that
 * start later see the newer set. */
static void reclaim(void)
{
    if (C.waiting) {
        if (atomic_load(&sprof_cfi_readers[C.wait_slot]) != 0) return;
        free_list(C.waiting);
        C.waiting = NULL;
    }
    if (!C.retired) return;
    C.waiting = C.retired;
    C.retired = NULL;
    C.wait_slot = atomic_fetch_add(&sprof_cfi_epoch, 1) & 1u;
    if (atomic_load(&sprof_cfi_readers[C.wait_slot]) == 0) {
        free_list(C.waiting);
        C.waiting = NULL;
    }
}

static void retire(struct cfi_set *s)
{
    if (!s) return;
    struct retired *r = malloc(sizeof(*r));
    if (!r) return; /* leaked rather than freed under a reader */
    r->set = s;
    r->next = C.retired;
    C.retired = r;
}

static _Atomic unsigned long inplace_readers;
static _Atomic int unloading;

void sprof_cfi_after_fork_child(void)
{
    atomic_store(&sprof_cfi_readers[0], 0);
    atomic_store(&sprof_cfi_readers[1], 0);
    atomic_store(&inplace_readers, 0);
    atomic_store(&unloading, 0);
    C.built = C.cached = C.early = 0;
}

/* ---- the loader's list of objects (no allocation in the callbacks) ---- */

struct collect {
    struct cfi_set *set; /* described into set->obj */
    size_t cap;          /* room in it */
    uintptr_t loader;    /* the dynamic loader's base (AT_BASE) */
};

/* The readable PT_LOAD segment of the n program headers at phdr (of an
 * object loaded with that bias) that holds addr: [*lo, *hi). */
static int segment_in(const ElfW(Phdr) * phdr, unsigned n, uintptr_t bias, uintptr_t addr,
                      uintptr_t *lo, uintptr_t *hi)
{
    for (unsigned i = 0; i < n; i++) {
        const ElfW(Phdr) *ph = &phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_R)) continue;
        uintptr_t a = bias + ph->p_vaddr, b = a + ph->p_memsz;
        if (addr >= a && addr < b) {
            *lo = a;
            *hi = b;
            return 0;
        }
    }
    return -1;
}

static int segment_of(const struct dl_phdr_info *info, uintptr_t addr, uintptr_t *lo, uintptr_t *hi)
{
    return segment_in(info->dlpi_phdr, info->dlpi_phnum, info->dlpi_addr, addr, lo, hi);
}

/* The functions of o without call frame information (struct cfi_obj's crt)
 * from its dynamic section (ndyn entries at dyn). DT_INIT and DT_FINI are
 * ELF addresses, which the loader leaves as they are (one it had relocated
 * would fall outside the code); the arrays hold run-time addresses, read
 * only inside the object's segments. Their code is not read here: a
 * process that never samples there does not fault it in. No allocation: a
 * dl_iterate_phdr callback runs this. */
SPROF_ONCE static void crt_functions(const struct dl_phdr_info *info, uintptr_t dyn, size_t ndyn,
                                     struct cfi_obj *o)
{
    uintptr_t slo, shi;
    for (size_t i = 0; i < ndyn && i < 1024; i++) {
        const ElfW(Dyn) *d = (const ElfW(Dyn) *)dyn + i;
        if (d->d_tag == DT_NULL) break;
        int k = d->d_tag == DT_INIT         ? 0
                : d->d_tag == DT_FINI       ? 1
                : d->d_tag == DT_INIT_ARRAY ? CRT_ARRAYS
                : d->d_tag == DT_FINI_ARRAY ? CRT_ARRAYS + 1
                                            : -1;
        if (k < 0) continue;
        uintptr_t a = info->dlpi_addr + d->d_un.d_ptr, f = a;
        if (k >= CRT_ARRAYS) { /* the array's first entry */
            if (segment_of(info, a, &slo, &shi) < 0 || shi - a < sizeof(f)) continue;
            memcpy(&f, (const void *)a, sizeof(f));
        }
        if (f >= o->lo && f < o->hi) o->crt[k] = f;
    }
}

static uint32_t want_after(uint32_t fdes);

/* FNV-1a of an object's name as the loader has it */
static uint64_t name_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
    return h;
}

/* o from the loader's view of an object; the set's own fields (state,
 * cached, what the object's entry in the previous set hands on) are
 * sprof_cfi_update's. */
SPROF_ONCE static int describe(const struct dl_phdr_info *info, uintptr_t loader, struct cfi_obj *o)
{
    memset(o, 0, sizeof(*o));
    o->lo = UINTPTR_MAX;
    o->bias = info->dlpi_addr;
    uintptr_t hdr = 0, dyn = 0;
    size_t ndyn = 0, hdr_size = 0;
    int text_segments = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_DYNAMIC) {
            dyn = info->dlpi_addr + ph->p_vaddr;
            ndyn = ph->p_memsz / sizeof(ElfW(Dyn));
        } else if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && ph->p_memsz) {
            uintptr_t a = info->dlpi_addr + ph->p_vaddr, b = a + ph->p_memsz;
            if (a < o->lo) o->lo = a;
            if (b > o->hi) o->hi = b;
            text_segments++;
        } else if (ph->p_type == PT_GNU_EH_FRAME && ph->p_memsz >= 4) {
            hdr = info->dlpi_addr + ph->p_vaddr;
            hdr_size = ph->p_memsz;
        } else if (ph->p_type == PT_NOTE && !o->build_id_len && ph->p_memsz < 65536) {
            o->build_id_len = (unsigned)sprof_note_build_id(
                (const uint8_t *)(info->dlpi_addr + ph->p_vaddr), ph->p_memsz, o->build_id);
        }
    }
    if (o->lo >= o->hi) return -1; /* no code */
    o->one_text = text_segments == 1;
    o->loader = o->bias && o->bias == loader;
    if (dyn) crt_functions(info, dyn, ndyn, o);
    uintptr_t slo, shi;
    uint32_t fdes = 0;
    if (hdr && segment_of(info, hdr, &slo, &shi) == 0) {
        o->eh_frame_hdr = hdr;
        o->hdr_end = shi;
        /* the FDEs its index lists, by the section's size (a 12-byte
         * header, then 8-byte entries), not read here (index_of) */
        fdes = hdr_size >= 20 ? (uint32_t)((hdr_size - 12) / 8) : 0;
    }
    o->want_after = o->price = want_after(fdes);
    o->phdr = info->dlpi_phdr;
    o->phnum = info->dlpi_phnum;
    o->name_hash = name_hash(info->dlpi_name ? info->dlpi_name : "");
    return 0;
}

SPROF_ONCE static int count_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    (*(size_t *)arg)++;
    return 0;
}

SPROF_ONCE static int collect_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct collect *c = arg;
    struct cfi_set *s = c->set;
    if (s->nobj < c->cap && describe(info, c->loader, &s->obj[s->nobj]) == 0) s->nobj++;
    return 0;
}

SPROF_ONCE static int by_lo(const void *a, const void *b)
{
    const struct cfi_obj *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* The same object, loaded at the same place: its table still holds. */
static const struct cfi_obj *find_same(const struct cfi_set *s, const struct cfi_obj *o)
{
    if (!s) return NULL;
    for (size_t i = 0; i < s->nobj; i++) {
        const struct cfi_obj *p = &s->obj[i];
        if (p->lo == o->lo && p->hi == o->hi && p->bias == o->bias &&
            p->eh_frame_hdr == o->eh_frame_hdr && p->name_hash == o->name_hash)
            return p;
    }
    return NULL;
}

/* ---- the table cache (SPROF_CACHE_DIR, cfi.h) ----
 * DIR/<build-id in hex>.<layout>.cfi: a CACHE_HDR-byte header, then the table as it
 * is in memory (rows are offsets from the load bias: they hold wherever the
 * object is loaded). The first process that builds a table writes the file
 * (a temporary name, then rename: two writers never mix); the next ones map
 * it. A file whose header does not match its object and size is ignored.
 * Its rows are not checked for order (that would read every page of a big
 * table): the walk reads only rows within nrows and checks every stack
 * read, so a damaged file gives broken stacks, never a crash. Failures to
 * write are silent: the cache only saves time. */
/* 002: a block index; 003: packed rows; 004: granules; 005: rules in rows;
 * 006: padded to huge pages */
#define CACHE_MAGIC "SPCFI006"
/* in the file's name: another layout's files (of another version of sprof,
 * run beside this one) are not this one's to overwrite; they go when the
 * directory is trimmed */
#define CACHE_LAYOUT 6
#define CACHE_HDR 128

struct cache_hdr {
    char magic[8];
    uint32_t row_size;
    uint32_t build_id_len;
    uint8_t build_id[64];
    uint32_t nrows, ngran, nrules;
    uint8_t reserved[CACHE_HDR - 8 - 4 - 4 - 64 - 3 * 4];
};

/* 1: SPROF_CACHE_DIR exists (made now if need be, private to the user)
 * and can be written; 0: no cache for this process; -1: not asked yet.
 * Asked once, by the writer when it first goes to the cache, not at the
 * start (a system call that most processes, which take no sample, would
 * make for nothing): until then an object with a build-id is taken to be
 * cacheable (sprof_cfi_update), and if the cache then turns out to be out
 * of reach the set is made again without that (sprof_cfi_step), since a
 * table built sooner for a cache it cannot reach is built for nothing. */
static int cache_state = -1;

static int cache_usable(void)
{
    int state = cache_state;
    if (state >= 0) return state;
    state = cache_state = 0;
    if (!sprof.cfg.cache_dir) return 0;
    /* there already, most often: one system call, not one for each level */
    if (sys_access(sprof.cfg.cache_dir, W_OK | X_OK) == 0) return cache_state = 1;
    char dir[SPROF_PATH_MAX];
    if (sprof_concat(dir, sizeof(dir), sprof.cfg.cache_dir, NULL)) return 0;
    for (char *q = dir + 1;; q++) {
        if (*q == '/' || !*q) {
            char c = *q;
            *q = 0;
            if (sys_mkdir(dir, 0700) < 0 && errno != EEXIST) return 0;
            *q = c;
            if (!c) break;
        }
    }
    return cache_state = sys_access(dir, W_OK | X_OK) == 0;
}

static int cache_path(const struct cfi_obj *o, char *buf, size_t n, const char *suffix)
{
    if (!cache_usable() || !o->build_id_len || o->build_id_len > 64) return -1;
    char hex[129], layout[24];
    for (unsigned i = 0; i < o->build_id_len; i++) {
        hex[2 * i] = "0123456789abcdef"[o->build_id[i] >> 4];
        hex[2 * i + 1] = "0123456789abcdef"[o->build_id[i] & 15];
    }
    hex[2 * o->build_id_len] = 0;
    return sprof_concat(buf, n, sprof.cfg.cache_dir, "/", hex, ".",
                        sprof_fmt_u64(layout, CACHE_LAYOUT, 10, 0), ".", suffix, NULL);
}

/* A table from the cache is faulted in at once, where the handler would
 * fault its pages in as lookups reach them: each such fault a trap in the
 * sampled thread, and a compiler's hundred samples reach most of its
 * table's 64 KiB windows. By a read of one byte in each 64 KiB: a read
 * fault on a file's page maps the pages around it that are in the page
 * cache (the kernel's fault_around_bytes, 64 KiB by default), so that
 * cc1's 2 MiB table takes 31 traps. On the KVM host of BENCHMARKS.md
 * (session 49) those reads take 96 us, and MADV_POPULATE_READ, which takes
 * each page by itself, 146 (scripts/bench/populate.c; in cc1 itself, 135
 * against 175); leaving the pages to the lookups moves as much into the
 * handler as it saves (sessions 26 and 49). Where a smaller window is set,
 * the lookups fault the rest in. Up to POPULATE_MAX bytes a
 * process: beyond, a huge table (a JIT's LLVM) adds to the RSS only the
 * pages the lookups touch (2 MiB ones where the page cache holds the file
 * in huge folios, below). */
#define POPULATE_MAX (4u << 20)
#define CACHE_RENEW_S 600
#define FAULT_AROUND 65536u

/* A big table's file is padded with zeros to a whole number of huge pages
 * (x86-64's 2 MiB, the PMD's: the unwinder is x86-64's) where that adds at
 * most half a huge page, and written in one go: a file system with large
 * folios in its page cache (ext4 and XFS since Linux 6.16 or so) then keeps
 * each 2 MiB of it as one folio, which a read fault maps whole with one
 * entry in the page middle directory, at a 2 MiB-aligned address, which
 * those file systems give a mapping that spans one. cc1's 2 MiB table is
 * then mapped by one fault instead of 31, and its lookups miss the TLB
 * less (BENCHMARKS.md, session 50). Elsewhere (an older kernel, tmpfs
 * without huge pages) it is mapped in small pages as before, and the
 * padding, never read, is only on disk. The loader takes a file of the
 * table's size or of that size padded (cache_file_size), and advises a
 * padded one MADV_HUGEPAGE before its first touch, so that once the file
 * has left the page cache the faults read it back in huge folios too (in
 * 1.0 ms against 2.4 here, then mapped as when it was written). */
#define HUGE_PAGE (2u << 20)

static size_t cache_file_size(size_t size)
{
    size_t tail = size % HUGE_PAGE;
    return tail >= HUGE_PAGE / 2 ? size - tail + HUGE_PAGE : size;
}

static void prefault(const void *p, size_t n)
{
    const volatile uint8_t *b = p;
    for (size_t o = 0; o < n; o += FAULT_AROUND)
        (void)b[o];
    if (n) (void)b[n - 1];
}

/* Maps o's table from the cache: 0, or -1 (none, or not usable). */
static int cache_load(struct cfi_obj *o)
{
    char path[4400];
    if (cache_path(o, path, sizeof(path), "cfi")) return -1;
    int fd = sprof_open(path, O_RDONLY | O_NOFOLLOW, 0);
    if (fd < 0) return -1;
    /* mapped before anything of it is read: a read of the header would
     * bring a file no longer in the page cache back in small folios */
    struct stat st;
    void *m = MAP_FAILED;
    if (sys_fstat(fd, &st) == 0 && st.st_size >= (off_t)(CACHE_HDR + sizeof(struct cfi_table)) &&
        (uint64_t)st.st_size <= cache_file_size(CACHE_HDR + CFI_MAX_BYTES))
        m = sys_mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED) {
        sys_close(fd);
        return -1;
    }
    size_t len = (size_t)st.st_size, size = 0;
    /* before the first touch: a padded file no longer in the page cache
     * is read back in huge folios, as cache_save wrote it */
    if (len % HUGE_PAGE == 0) sys_madvise(m, len, MADV_HUGEPAGE);
    struct cache_hdr h;
    memcpy(&h, m, sizeof(h));
    const struct cfi_table *t = (const struct cfi_table *)((const char *)m + CACHE_HDR);
    int ok = h.nrows <= CFI_MAX_BYTES / sizeof(struct cfi_packed) &&
             h.ngran <= (1u << (32 - CFI_MIN_SHIFT)) && h.nrules <= CFI_MAX_RULES;
    if (ok) size = CACHE_HDR + cfi_table_bytes(h.nrows, h.ngran, h.nrules);
    ok = ok && !memcmp(h.magic, CACHE_MAGIC, 8) && h.row_size == sizeof(struct cfi_packed) &&
         h.build_id_len == o->build_id_len && !memcmp(h.build_id, o->build_id, o->build_id_len) &&
         h.nrows && h.ngran && h.nrules && (len == size || len == cache_file_size(size)) &&
         size - CACHE_HDR <= CFI_MAX_BYTES - C.bytes &&
         /* (within the file: len >= size) */
         t->nrows == h.nrows && t->ngran == h.ngran && t->nrules == h.nrules &&
         t->shift >= CFI_MIN_SHIFT && t->shift <= CFI_MAX_SHIFT;
    if (!ok) {
        sys_munmap(m, len);
        sys_close(fd);
        return -1;
    }
    /* used now: the last to go when the cache is trimmed; renewed at most
     * every CACHE_RENEW_S (an inode written back by each of a build's
     * processes for each table it maps, otherwise) */
    if ((uint64_t)st.st_mtime + CACHE_RENEW_S < sprof_clock_ns(CLOCK_REALTIME) / 1000000000ull)
        sys_futimens(fd, NULL);
    sys_close(fd);
    int populate = len <= POPULATE_MAX - C.populated;
    if (populate) {
        prefault(m, size); /* not the padding */
        C.populated += len;
    }
    o->map = m;
    o->map_size = len;
    o->owns_table = 1;
    C.bytes += table_size(t);
    atomic_store_explicit(&o->table, t, memory_order_release);
    return 0;
}

/* Writes all of v[0..n) (advanced as it goes): 0, or -1. */
static int write_all_iov(int fd, struct iovec *v, int n)
{
    while (n) {
        ssize_t w = writev(fd, v, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        for (; n && (size_t)w >= v->iov_len; v++, n--)
            w -= (ssize_t)v->iov_len;
        if (n) {
            v->iov_base = (char *)v->iov_base + w;
            v->iov_len -= (size_t)w;
        }
    }
    return 0;
}

/* The cache is kept under CACHE_MAX_BYTES: before a file is added, the
 * least recently used ones (by mtime, which a load renews every
 * CACHE_RENEW_S) go until the new one fits. Only files named like ours are
 * counted or removed. */
#define CACHE_MAX_BYTES (256ull << 20)
#define TRIM_MAX_FILES 4096

/* <hex>.cfi (the first layout), <hex>.<layout>.cfi or <hex>.<layout>.want */
static int is_cache_name(const char *n)
{
    size_t len = strlen(n), hex = strspn(n, "0123456789abcdef");
    if (!hex) return 0;
    if (strcmp(n + hex, ".cfi") == 0) return 1;
    if (n[hex] != '.') return 0;
    size_t digits = strspn(n + hex + 1, "0123456789");
    const char *rest = n + hex + 1 + digits;
    return digits && (strcmp(rest, ".cfi") == 0 || strcmp(rest, ".want") == 0) &&
           hex + 1 + digits + strlen(rest) == len;
}

struct trim_entry {
    time_t mtime;
    uint64_t size;
    char name[136];
};

struct trim {
    int fd;
    size_t n;
    uint64_t total;
    struct trim_entry *e;
};

static void trim_add(const char *name, void *arg)
{
    struct trim *t = arg;
    struct stat st;
    if (t->n >= TRIM_MAX_FILES || !is_cache_name(name) || strlen(name) >= sizeof(t->e->name) ||
        sys_fstatat(t->fd, name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISREG(st.st_mode))
        return;
    struct trim_entry *e = &t->e[t->n++];
    e->mtime = st.st_mtime;
    e->size = (uint64_t)st.st_size;
    sprof_concat(e->name, sizeof(e->name), name, NULL);
    t->total += e->size;
}

static void cache_trim(uint64_t adding)
{
    struct trim t = {.total = adding};
    t.fd = sprof_open(sprof.cfg.cache_dir, O_RDONLY | O_DIRECTORY, 0);
    if (t.fd < 0) return;
    if ((t.e = malloc(TRIM_MAX_FILES * sizeof(*t.e)))) sprof_dir_each(t.fd, trim_add, &t);
    while (t.e && t.total > CACHE_MAX_BYTES && t.n) {
        size_t old = 0;
        for (size_t i = 1; i < t.n; i++)
            if (t.e[i].mtime < t.e[old].mtime) old = i;
        sys_unlinkat(t.fd, t.e[old].name, 0);
        t.total -= t.e[old].size;
        t.e[old] = t.e[--t.n];
    }
    free(t.e);
    sys_close(t.fd);
}

/* Keeps o's freshly built table t in the cache, if it can. */
static void cache_save(const struct cfi_obj *o, const struct cfi_table *t)
{
    char path[4400], tmp[4500];
    if (cache_path(o, path, sizeof(path), "cfi")) return;
    /* a file over RLIMIT_FSIZE would raise SIGXFSZ (the writer thread
     * blocks it, but the program's limit is not ours to hit): without its
     * padding if that is what goes over, else not at all */
    struct rlimit rl;
    size_t size = CACHE_HDR + table_size(t), len = cache_file_size(size);
    if (sys_getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        if ((uint64_t)rl.rlim_cur < size) return;
        if ((uint64_t)rl.rlim_cur < len) len = size;
    }
    /* the padding from pages of zeros that are never written */
    void *zeros = NULL;
    if (len > size) {
        zeros = sys_mmap(NULL, len - size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (zeros == MAP_FAILED) {
            zeros = NULL;
            len = size;
        }
    }
    cache_trim(len);
    char pid[24];
    sprof_concat(tmp, sizeof(tmp), path, ".", sprof_fmt_u64(pid, (uint64_t)sys_getpid(), 10, 0),
                 ".tmp", NULL);
    int fd = sprof_open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
    if (fd < 0) {
        if (zeros) sys_munmap(zeros, len - size);
        return;
    }
    struct cache_hdr h;
    memset(&h, 0, sizeof(h));
    memcpy(h.magic, CACHE_MAGIC, 8);
    h.row_size = sizeof(struct cfi_packed);
    h.build_id_len = o->build_id_len;
    memcpy(h.build_id, o->build_id, o->build_id_len);
    h.nrows = t->nrows;
    h.ngran = t->ngran;
    h.nrules = t->nrules;
    /* in one call, so that the page cache takes it in huge folios */
    struct iovec v[3] = {{&h, sizeof(h)}, {(void *)t, table_size(t)}, {zeros, len - size}};
    int bad = write_all_iov(fd, v, zeros ? 3 : 2);
    if (zeros) sys_munmap(zeros, len - size);
    if (sys_close(fd) || bad || sys_rename(tmp, path)) {
        sys_unlink(tmp);
        return;
    }
    if (cache_path(o, path, sizeof(path), "want") == 0) sys_unlink(path); /* paid for */
}

/* ---- lookups in place, counted across processes ----
 * A table in the cache serves every later process that loads its object,
 * so what it is worth is what all of them spend on lookups in place, not
 * what one does: a compiler that a build runs once a file does a few
 * thousand lookups in cc1, whose table is worth about 150,000 (want_after),
 * and none of those processes alone would ever build it. So each process
 * adds, at its end, its lookups in place of each cacheable object without a
 * table to DIR/<build-id>.<layout>.want (a decimal count), and a process
 * that wants the object and finds no table builds it at once if the count
 * has paid for it; the file goes when the table is saved. The count is
 * written in place, WANT_DIGITS digits and a newline over the old: a
 * temporary file renamed over the old one had ext4 write the new one's
 * data out at once (its replace-by-rename heuristic, auto_da_alloc), 100
 * us of a process's CPU a file and 160 of wall time, against 4 in place
 * (BENCHMARKS.md, session 54). Processes that end at the same moment may
 * each write the file from the same old count, and one may read another's
 * write half done: a count a little off makes the table come a little
 * early or late, nothing worse. An object looked up fewer than WANT_MIN
 * times by a process is not counted (a file written at every exit for a
 * handful of lookups would cost more than they do). */
#define WANT_MIN 16
#define WANT_DIGITS 20 /* UINT64_MAX's */

/* The count a .want file holds: its leading digits */
static uint64_t want_read(int fd)
{
    char text[32];
    ssize_t n = sys_pread(fd, text, sizeof(text) - 1, 0);
    uint64_t v = 0;
    for (ssize_t i = 0; i < n && text[i] >= '0' && text[i] <= '9' && v < UINT64_MAX / 20; i++)
        v = v * 10 + (uint64_t)(text[i] - '0');
    return v;
}

static uint64_t want_count(const struct cfi_obj *o)
{
    char path[4400];
    if (cache_path(o, path, sizeof(path), "want")) return 0;
    int fd = sprof_open(path, O_RDONLY | O_NOFOLLOW, 0);
    if (fd < 0) return 0;
    uint64_t v = want_read(fd);
    sys_close(fd);
    return v;
}

/* Maps o's table from the cache if it is there (1); else notes whether
 * its lookups in place, counted across processes, have paid for building
 * it (0). Once an object. */
static int try_cache(struct cfi_obj *o)
{
    o->cache_tried = 1;
    if (cache_load(o) == 0) {
        C.cached++;
        atomic_store(&o->state, CFI_READY);
        return 1;
    }
    o->paid = o->cached && o->price && want_count(o) >= o->price;
    return 0;
}

_Atomic int sprof_cfi_cache_wanted;

int sprof_cfi_late_step(void)
{
    atomic_store_explicit(&sprof_cfi_cache_wanted, 0, memory_order_relaxed);
    struct cfi_set *s = (struct cfi_set *)atomic_load(&sprof_cfi_current);
    int build = 0;
    for (size_t i = 0; s && i < s->nobj; i++) {
        struct cfi_obj *o = &s->obj[i];
        if (o->cache_tried || !atomic_load_explicit(&o->cache_asked, memory_order_relaxed) ||
            atomic_load(&o->state) != CFI_PENDING)
            continue;
        if (!try_cache(o)) build |= o->paid;
    }
    return build;
}

/* The first walk of a process that does not have a big object's table
 * looks up its frames in place, in pages of .eh_frame_hdr and .eh_frame
 * it has never touched, a page fault each: cc1's (45,201 FDEs) took 48 to
 * 141 us, its second 7 to 123, before the table was mapped after them
 * (BENCHMARKS.md, session 50). An object of this many FDEs, at least, has
 * its table mapped before the walk when the thread was interrupted in it:
 * a bigger table costs no more to map (a huge page), a smaller object's
 * first lookups fault in fewer pages (libc's index is 7 pages). */
#define EARLY_FDES 16384u

uint64_t sprof_cfi_early(uintptr_t pc)
{
    const struct cfi_set *s = atomic_load(&sprof_cfi_current);
    struct cfi_obj *o = s ? (struct cfi_obj *)cfi_obj_at(s, pc) : NULL;
    if (!o || !o->cached || o->cache_tried || o->price < want_after(EARLY_FDES) ||
        atomic_load(&o->state) != CFI_PENDING)
        return 0;
    /* not a child of vfork, which shares this memory */
    if (sys_getpid() != sprof.pid) return 0;
    uint64_t cpu = sprof_thread_cpu_now();
    C.early += (uint64_t)try_cache(o);
    return sprof_thread_cpu_now() - cpu + 1;
}

void sprof_cfi_at_end(void)
{
    struct cfi_set *s = (struct cfi_set *)atomic_load(&sprof_cfi_current);
    for (size_t i = 0; s && i < s->nobj; i++) {
        struct cfi_obj *o = &s->obj[i];
        unsigned wanted = (unsigned)atomic_load(&o->wanted);
        if (!o->cached || wanted < WANT_MIN || atomic_load(&o->state) != CFI_PENDING ||
            !cache_usable())
            continue;
        char path[4400], text[WANT_DIGITS + 1];
        /* (another process may have built the table since this one looked) */
        if (cache_path(o, path, sizeof(path), "cfi") || sys_access(path, F_OK) == 0) continue;
        if (cache_path(o, path, sizeof(path), "want")) continue;
        int fd = sprof_open(path, O_RDWR | O_CREAT | O_NOFOLLOW, 0600);
        if (fd < 0) continue;
        sprof_fmt_u64(text, want_read(fd) + wanted, 10, WANT_DIGITS);
        text[WANT_DIGITS] = '\n';
        (void)sys_pwrite(fd, text, sizeof(text), 0);
        sys_close(fd);
    }
}

/* Lookups in place (sprof_cfi_rule_at) an object gets before its table is
 * built: a table costs about 0.3 us an FDE to build (7 ms for a compiler's
 * cc1 with its 2.3 MB of .eh_frame, 0.8 ms for libc), and saves about 90 ns
 * a frame over a lookup in place (tests/tools/cfi-check: 112 ns a frame in
 * place, 19 ns with the table, 494 ns with libunwind). Building once the
 * lookups have cost as much as the table would (renting skis until their
 * price is paid) never costs more than twice the better choice made in
 * hindsight: a short-lived process, such as each compiler of a parallel
 * build, does not pay for a big table it would barely use. An object whose
 * FDEs cannot be looked up in place (no index) is walked by libunwind, about
 * 60 us a sample: its count is in those. */
#define TABLE_NS_PER_FDE 300u
#define LOOKUP_NS 90u

static uint32_t want_after(uint32_t fdes)
{
    if (!fdes) return 32; /* no index: libunwind walks, about a libc's worth */
    uint64_t n = (uint64_t)fdes * TABLE_NS_PER_FDE / LOOKUP_NS;
    return n < 1 ? 1 : n > 100000 ? 100000 : (uint32_t)n;
}

/* The set of the objects loaded now, described into its entries by the
 * loader's callbacks, sorted, and handed what the previous set knew of the
 * same objects. A process's first set takes the start's arena where it
 * fits (sprof.h): it is made before the program's first malloc. */
SPROF_ONCE void sprof_cfi_update(void)
{
    atomic_store(&sprof_cfi_unknown, 0);
    size_t n = 0;
    dl_iterate_phdr(count_cb, &n);
    /* room for a few loaded between the two walks (an object left out for
     * want of room is code no object of the set holds: the handler that
     * meets it asks for the next set) */
    struct collect c = {NULL, n + 2, getauxval(AT_BASE)};
    c.set = sprof_start_alloc(sizeof(*c.set) + c.cap * sizeof(c.set->obj[0]));
    if (!c.set) {
        c.cap = n + 16;
        c.set = calloc(1, sizeof(*c.set) + c.cap * sizeof(c.set->obj[0]));
        if (!c.set) return;
    }
    struct cfi_set *s = c.set;
    dl_iterate_phdr(collect_cb, &c);
    qsort(s->obj, s->nobj, sizeof(s->obj[0]), by_lo);

    static uint64_t sets_made;
    s->gen = ++sets_made;
    struct cfi_set *old = (struct cfi_set *)atomic_load(&sprof_cfi_current);
    size_t kept = 0;
    for (size_t i = 0; i < s->nobj; i++) {
        if (kept && s->obj[i].lo < s->obj[kept - 1].hi) continue; /* overlaps: keep the first */
        struct cfi_obj *d = &s->obj[kept++];
        if (d != &s->obj[i]) memcpy(d, &s->obj[i], sizeof(*d));
        /* a table that goes to the cache serves every later process too:
         * worth building sooner */
        if (d->build_id_len && (cache_state < 0 ? sprof.cfg.cache_dir != NULL : cache_state)) {
            d->want_after = (d->want_after + 7) / 8;
            d->cached = 1;
        }
        int state = d->eh_frame_hdr ? CFI_PENDING : CFI_FAILED;
        struct cfi_obj *same = (struct cfi_obj *)find_same(old, d);
        if (same) {
            const struct cfi_table *t = atomic_load(&same->table);
            state = atomic_load(&same->state);
            atomic_store(&d->wanted, atomic_load(&same->wanted));
            if (t && same->owns_table) {
                atomic_store(&d->table, t);
                d->owns_table = 1;
                d->map = same->map;
                d->map_size = same->map_size;
                same->owns_table = 0; /* handed on (owns_table is the writer's alone) */
            } else if (state == CFI_READY) {
                state = CFI_PENDING;
            }
            if (atomic_load_explicit(&same->ix_state, memory_order_acquire) == 2) {
                d->ix = same->ix;
                d->ix_count = same->ix_count;
                d->ehf_lo = same->ehf_lo;
                d->ehf_hi = same->ehf_hi;
                atomic_store_explicit(&d->ix_state, 2, memory_order_relaxed);
            }
            d->cache_tried = same->cache_tried;
            d->paid = same->paid;
            atomic_store(&d->cache_asked, atomic_load(&same->cache_asked));
        }
        atomic_store(&d->state, state);
    }
    s->nobj = kept;
    struct cfi_set *prev = (struct cfi_set *)atomic_exchange(&sprof_cfi_current, s);
    retire(prev);
    reclaim();
}

/* ---- copying one object's .eh_frame ---- */

/* Bounded little-endian reads. A failed read sets bad and returns 0. */
struct rd {
    const uint8_t *p, *end;
    uintptr_t delta;        /* runtime address of a byte = its address here + delta */
    uintptr_t datarel;      /* base of DW_EH_PE_datarel, 0 if none */
    const uint8_t *lo, *hi; /* what an indirect pointer may point into */
    int bad;
};

static uint64_t rd_fixed(struct rd *r, size_t n)
{
    if (r->bad || (size_t)(r->end - r->p) < n) {
        r->bad = 1;
        return 0;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)r->p[i] << (8 * i);
    r->p += n;
    return v;
}

static uint64_t rd_uleb(struct rd *r)
{
    uint64_t v = 0;
    for (unsigned shift = 0;; shift += 7) {
        if (r->bad || r->p >= r->end || shift > 63) {
            r->bad = 1;
            return 0;
        }
        uint8_t b = *r->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) return v;
    }
}

static int64_t rd_sleb(struct rd *r)
{
    uint64_t v = 0;
    unsigned shift = 0;
    for (;; shift += 7) {
        if (r->bad || r->p >= r->end || shift > 63) {
            r->bad = 1;
            return 0;
        }
        uint8_t b = *r->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            shift += 7;
            if (shift < 64 && (b & 0x40)) v |= ~0ull << shift;
            return (int64_t)v;
        }
    }
}

/* A pointer in encoding enc. An indirect pointer is followed only when it
 * points inside what r may read (the copy): anything else is refused. */
static uint64_t rd_ptr(struct rd *r, uint8_t enc)
{
    if (enc == PE_OMIT) return 0;
    uintptr_t here = (uintptr_t)r->p + r->delta;
    uint64_t v;
    switch (enc & 0x0f) {
    case PE_ABSPTR:
        v = rd_fixed(r, 8);
        break;
    case PE_ULEB128:
        v = rd_uleb(r);
        break;
    case PE_UDATA2:
        v = rd_fixed(r, 2);
        break;
    case PE_UDATA4:
        v = rd_fixed(r, 4);
        break;
    case PE_UDATA8:
        v = rd_fixed(r, 8);
        break;
    case PE_SLEB128:
        v = (uint64_t)rd_sleb(r);
        break;
    case PE_SDATA2:
        v = (uint64_t)(int64_t)(int16_t)rd_fixed(r, 2);
        break;
    case PE_SDATA4:
        v = (uint64_t)(int64_t)(int32_t)rd_fixed(r, 4);
        break;
    case PE_SDATA8:
        v = rd_fixed(r, 8);
        break;
    default:
        r->bad = 1;
        return 0;
    }
    switch (enc & 0x70) {
    case 0:
        break;
    case PE_PCREL:
        v += here;
        break;
    case PE_DATAREL:
        if (!r->datarel) r->bad = 1;
        v += r->datarel;
        break;
    default:
        r->bad = 1;
        return 0; /* textrel, funcrel, aligned: not on x86_64 */
    }
    if (enc & PE_INDIRECT) {
        uintptr_t at = (uintptr_t)v - r->delta;
        if (r->bad || !r->lo || at < (uintptr_t)r->lo || at > (uintptr_t)r->hi - 8) {
            r->bad = 1;
            return 0;
        }
        struct rd ind = {.p = (const uint8_t *)at, .end = r->hi};
        v = rd_fixed(&ind, 8);
    }
    return v;
}

/* One entry of .eh_frame at off: its body [*body, *end) (after the length)
 * and whether it uses 64-bit offsets. Returns 0, 1 at the terminator, -1 on
 * bad data. */
static int entry_at(const uint8_t *base, size_t size, size_t off, size_t *body, size_t *end,
                    int *is64)
{
    struct rd r = {.p = base + off, .end = base + size};
    if (off >= size) return -1;
    uint64_t len = rd_fixed(&r, 4);
    *is64 = 0;
    if (len == 0xffffffffu) {
        len = rd_fixed(&r, 8);
        *is64 = 1;
    }
    if (r.bad) return -1;
    if (len == 0) return 1;
    *body = (size_t)(r.p - base);
    if (len > size - *body) return -1;
    *end = *body + (size_t)len;
    return 0;
}

struct copy_job {
    const struct cfi_obj *obj;
    uintptr_t eh_frame; /* runtime address */
    size_t size;
    uint8_t *buf; /* filled by the copy pass */
    int found, copied;
};

/* Is info the object o describes? */
static int is_obj(const struct dl_phdr_info *info, const struct cfi_obj *o)
{
    if (info->dlpi_addr != o->bias) return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_GNU_EH_FRAME && info->dlpi_addr + ph->p_vaddr == o->eh_frame_hdr)
            return 1;
    }
    return 0;
}

static int measure_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct copy_job *j = arg;
    const struct cfi_obj *o = j->obj;
    if (!is_obj(info, o)) return 0;
    j->found = 1;
    uintptr_t slo, shi;
    if (segment_of(info, o->eh_frame_hdr, &slo, &shi)) return 1;
    /* .eh_frame_hdr: version 1, eh_frame_ptr_enc, fde_count_enc,
     * table_enc, then eh_frame_ptr */
    const uint8_t *hdr = (const uint8_t *)o->eh_frame_hdr;
    if (shi - o->eh_frame_hdr < 4 || hdr[0] != 1) return 1;
    struct rd r = {.p = hdr + 4,
                   .end = (const uint8_t *)shi,
                   .datarel = o->eh_frame_hdr,
                   .lo = hdr,
                   .hi = (const uint8_t *)shi};
    uintptr_t eh = (uintptr_t)rd_ptr(&r, hdr[1]);
    if (r.bad || segment_of(info, eh, &slo, &shi)) return 1;
    /* up to the terminator, or the last whole entry in the segment */
    const uint8_t *base = (const uint8_t *)eh;
    size_t avail = shi - eh, off = 0;
    for (;;) {
        size_t body, end;
        int is64, k = entry_at(base, avail, off, &body, &end, &is64);
        if (k < 0) break;
        if (k > 0) {
            off += 4;
            break;
        }
        off = end;
        if (off > EH_FRAME_MAX) break;
    }
    j->eh_frame = eh;
    j->size = off;
    return 1;
}

static int copy_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct copy_job *j = arg;
    if (!is_obj(info, j->obj)) return 0;
    uintptr_t slo, shi;
    if (segment_of(info, j->eh_frame, &slo, &shi) == 0 && shi - j->eh_frame >= j->size) {
        memcpy(j->buf, (const void *)j->eh_frame, j->size);
        j->copied = 1;
    }
    return 1;
}

/* ---- CFA programs ---- */

enum { CFA_UNSET, CFA_REG, CFA_DEREF, CFA_PLT, CFA_BAD };
/* R_IN_REG: the return address is in another register, whose DWARF number
 * is ra_off (glibc's vfork, from its pop of the return address to the push
 * that puts it back) */
enum { R_SAME, R_AT_CFA, R_AT_RBP, R_UNDEF, R_BAD, R_IN_REG };

/* The rules a row is made of: the CFA, the caller's rbp, the return
 * address, and whether rsp has a rule of its own (then the caller's rsp is
 * not the CFA). */
struct rules {
    uint8_t cfa, rbp, ra, rsp_bad, rbx;
    uint64_t cfa_reg;
    int64_t cfa_off, plt_threshold, rbp_off, ra_off, rbx_off;
};

struct cie {
    size_t off; /* of the entry, in the copy */
    uint64_t code_align;
    int64_t data_align;
    uint64_t ra_reg;
    uint8_t fde_enc, has_z, signal;
    const uint8_t *insn, *insn_end;
    struct rules init; /* after the initial instructions */
};

struct fde_run {
    uint32_t begin, end; /* pc offsets from the bias */
    uint32_t first, n;   /* its rows in parse.rows */
};

struct parse {
    const struct cfi_obj *obj;
    const uint8_t *base;
    size_t size;
    uintptr_t runtime; /* address of the original .eh_frame */
    size_t max_rows;
    struct cfi_row *rows;
    size_t nrows, caprows;
    struct fde_run *runs;
    size_t nruns, capruns;
    uint32_t run_first; /* rows of the FDE being run start here */
    int full;           /* out of memory or over the size limit */
    /* sprof_cfi_rule_at: no rows kept, only the rule at target (an offset
     * from the bias), found once a row reaches past it */
    int query, found;
    uint32_t target, rule;
    int query_rules;  /* sprof_cfi_frame_at: keep them too */
    struct rules qst; /* the rules at target */
    int qsignal, qra_ok;
};

static uint32_t encode(const struct rules *st, const struct cie *cie)
{
    if (cie->signal || st->rsp_bad) return CFI_UNSUP;
    if (st->ra == R_UNDEF) return CFI_OUTER;
    if (st->ra != R_AT_CFA || st->ra_off != -8 || cie->ra_reg != DW_REG_RA) return CFI_UNSUP;
    uint32_t kind, rbp = 0;
    int64_t cfa_off = st->cfa_off, rbp_off = 0;
    switch (st->cfa) {
    case CFA_REG:
        if (st->cfa_reg == DW_REG_RSP)
            kind = CFI_RSP;
        else if (st->cfa_reg == DW_REG_RBP)
            kind = CFI_RBP;
        else
            return CFI_UNSUP;
        break;
    case CFA_DEREF:
        kind = CFI_DEREF;
        break;
    case CFA_PLT:
        if (st->rbp != R_SAME || st->plt_threshold < 0 || st->plt_threshold > 15) return CFI_UNSUP;
        kind = CFI_PLT;
        break;
    default:
        return CFI_UNSUP;
    }
    if (cfa_off % 8 || cfa_off / 8 < -(1 << 16) || cfa_off / 8 >= (1 << 16)) return CFI_UNSUP;
    switch (st->rbp) {
    case R_SAME:
        break;
    case R_AT_CFA:
    case R_AT_RBP:
        rbp = st->rbp == R_AT_CFA ? CFI_RBP_AT_CFA : CFI_RBP_AT_RBP;
        rbp_off = st->rbp_off;
        if (rbp_off % 8 || rbp_off / 8 < -(1 << 9) || rbp_off / 8 >= (1 << 9)) return CFI_UNSUP;
        break;
    default:
        return CFI_UNSUP;
    }
    uint32_t high = kind == CFI_PLT ? (uint32_t)st->plt_threshold : (uint32_t)(rbp_off / 8);
    return kind | rbp << 3 | ((uint32_t)(cfa_off / 8) & 0x1ffffu) << 5 | high << 22;
}

/* Appends the row for [pc, next row) of the FDE being run, merging it with
 * the previous row when the rule is the same or the pc is. */
static void put_row(struct parse *ps, uint32_t pc, uint32_t rule)
{
    if (ps->query) {
        if (pc <= ps->target) ps->rule = rule;
        return;
    }
    if (ps->full) return;
    size_t n = ps->nrows - ps->run_first;
    struct cfi_row *last = n ? &ps->rows[ps->nrows - 1] : NULL;
    if (last && last->pc == pc) {
        last->rule = rule;
        if (n > 1 && last[-1].rule == rule) ps->nrows--;
        return;
    }
    if (last && last->rule == rule) return;
    if (ps->nrows == ps->caprows) {
        size_t cap = ps->caprows ? ps->caprows * 2 : 1024;
        struct cfi_row *r = cap > ps->max_rows ? NULL : realloc(ps->rows, cap * sizeof(*r));
        if (!r) {
            ps->full = 1;
            return;
        }
        ps->rows = r;
        ps->caprows = cap;
    }
    ps->rows[ps->nrows++] = (struct cfi_row){pc, rule};
}

/* A row of the rules st; a query keeps the rules themselves as well (for
 * sprof_cfi_frame_at). */
static void put_rules(struct parse *ps, uint32_t pc, const struct rules *st, const struct cie *cie)
{
    if (ps->query_rules && pc <= ps->target) {
        ps->qst = *st;
        ps->qsignal = cie->signal;
        ps->qra_ok = cie->ra_reg == DW_REG_RA;
    }
    put_row(ps, pc, encode(st, cie));
}

static void set_reg(struct rules *st, uint64_t reg, int how, int64_t off)
{
    if (reg == DW_REG_RBX) {
        st->rbx = (uint8_t)how;
        st->rbx_off = off;
    } else if (reg == DW_REG_RBP) {
        st->rbp = (uint8_t)how;
        st->rbp_off = off;
    } else if (reg == DW_REG_RA) {
        st->ra = (uint8_t)how;
        st->ra_off = off;
    } else if (reg == DW_REG_RSP && how != R_SAME && how != R_UNDEF) {
        st->rsp_bad = 1;
    }
}

static void restore_reg(struct rules *st, uint64_t reg, const struct rules *init)
{
    if (reg == DW_REG_RBX) {
        st->rbx = init->rbx;
        st->rbx_off = init->rbx_off;
    } else if (reg == DW_REG_RBP) {
        st->rbp = init->rbp;
        st->rbp_off = init->rbp_off;
    } else if (reg == DW_REG_RA) {
        st->ra = init->ra;
        st->ra_off = init->ra_off;
    } else if (reg == DW_REG_RSP) {
        st->rsp_bad = init->rsp_bad;
    }
}

/* The CFA expressions the walk knows: "rbp + off, deref" (a function that
 * realigned its stack) and the .plt entries' "rsp + off, plus 8 once rip &
 * 15 reaches threshold". */
static void cfa_expression(struct rules *st, const uint8_t *e, size_t n)
{
    struct rd r = {.p = e, .end = e + n};
    st->cfa = CFA_BAD;
    uint8_t op = (uint8_t)rd_fixed(&r, 1);
    if (op == 0x76) { /* DW_OP_breg6 (rbp) */
        int64_t off = rd_sleb(&r);
        if (rd_fixed(&r, 1) == 0x06 && !r.bad && r.p == r.end) { /* DW_OP_deref */
            st->cfa = CFA_DEREF;
            st->cfa_off = off;
        }
    } else if (op == 0x77) { /* DW_OP_breg7 (rsp) */
        int64_t off = rd_sleb(&r);
        static const uint8_t mid[] = {0x80, 0x00, 0x3f, 0x1a};  /* breg16 0, lit15, and */
        static const uint8_t tail[] = {0x2a, 0x33, 0x24, 0x22}; /* ge, lit3, shl, plus */
        if (r.bad || r.end - r.p != 9 || memcmp(r.p, mid, 4) || r.p[4] < 0x30 || r.p[4] > 0x4f ||
            memcmp(r.p + 5, tail, 4))
            return;
        st->cfa = CFA_PLT;
        st->cfa_off = off;
        st->plt_threshold = r.p[4] - 0x30;
    }
}

/* The rule of a register given by an expression: "rbp + off" for rbp
 * (saved at rbp + off) is followed; anything else is not. */
static void reg_expression(struct rules *st, uint64_t reg, const uint8_t *e, size_t n)
{
    struct rd r = {.p = e, .end = e + n};
    if (reg == DW_REG_RBP && rd_fixed(&r, 1) == 0x76) {
        int64_t off = rd_sleb(&r);
        if (!r.bad && r.p == r.end) {
            set_reg(st, reg, R_AT_RBP, off);
            return;
        }
    }
    set_reg(st, reg, R_BAD, 0);
}

/* Runs a CFA program from *loc (runtime address) up to loc_end, updating
 * st. With ps, rows go to ps for each range the rules hold over (pcs as
 * offsets from bias); without, it is a CIE's initial program. Returns 0, or
 * -1 on an instruction it cannot read (the rules from there on are bad). */
static int run_program(struct parse *ps, const struct cie *cie, struct rd *r, struct rules *st,
                       uint64_t loc, uint64_t loc_end, uint64_t bias)
{
    struct rules stack[STATE_STACK];
    unsigned depth = 0;
    struct rules defaults = *st; /* DW_CFA_restore within the CIE's own program */
    const struct rules *init = ps ? &cie->init : &defaults;
    while (r->p < r->end && !r->bad) {
        uint8_t op = (uint8_t)rd_fixed(r, 1);
        uint64_t reg = 0, delta = 0;
        int advance = 0;
        switch (op >> 6) {
        case 1: /* DW_CFA_advance_loc */
            delta = op & 0x3f;
            advance = 1;
            break;
        case 2: /* DW_CFA_offset */
            set_reg(st, op & 0x3f, R_AT_CFA, (int64_t)rd_uleb(r) * cie->data_align);
            break;
        case 3: /* DW_CFA_restore */
            restore_reg(st, op & 0x3f, init);
            break;
        default:
            switch (op) {
            case 0x00:
                break;   /* nop */
            case 0x01: { /* set_loc */
                uint64_t to = rd_ptr(r, cie->fde_enc);
                if (to < loc) r->bad = 1;
                delta = (to - loc) / (cie->code_align ? cie->code_align : 1);
                advance = 1;
                break;
            }
            case 0x02:
                delta = rd_fixed(r, 1), advance = 1;
                break; /* advance_loc1 */
            case 0x03:
                delta = rd_fixed(r, 2), advance = 1;
                break; /* advance_loc2 */
            case 0x04:
                delta = rd_fixed(r, 4), advance = 1;
                break; /* advance_loc4 */
            case 0x1d:
                delta = rd_fixed(r, 8), advance = 1;
                break; /* MIPS_advance_loc8 */
            case 0x05: /* offset_extended */
                reg = rd_uleb(r);
                set_reg(st, reg, R_AT_CFA, (int64_t)rd_uleb(r) * cie->data_align);
                break;
            case 0x11: /* offset_extended_sf */
                reg = rd_uleb(r);
                set_reg(st, reg, R_AT_CFA, rd_sleb(r) * cie->data_align);
                break;
            case 0x2f: /* GNU_negative_offset_extended */
                reg = rd_uleb(r);
                set_reg(st, reg, R_AT_CFA, -(int64_t)rd_uleb(r) * cie->data_align);
                break;
            case 0x06:
                restore_reg(st, rd_uleb(r), init);
                break; /* restore_extended */
            case 0x07:
                set_reg(st, rd_uleb(r), R_UNDEF, 0);
                break; /* undefined */
            case 0x08: /* same_value */
                reg = rd_uleb(r);
                set_reg(st, reg, reg == DW_REG_RA ? R_BAD : R_SAME, 0);
                break;
            case 0x09: { /* register */
                reg = rd_uleb(r);
                uint64_t in = rd_uleb(r);
                if (reg == DW_REG_RA && in < DW_REG_RA && in != DW_REG_RSP)
                    set_reg(st, reg, R_IN_REG, (int64_t)in);
                else
                    set_reg(st, reg, R_BAD, 0);
                break;
            }
            case 0x14: /* val_offset */
                reg = rd_uleb(r);
                rd_uleb(r);
                set_reg(st, reg, R_BAD, 0);
                break;
            case 0x15: /* val_offset_sf */
                reg = rd_uleb(r);
                rd_sleb(r);
                set_reg(st, reg, R_BAD, 0);
                break;
            case 0x0a: /* remember_state */
                if (depth == STATE_STACK) {
                    r->bad = 1;
                    break;
                }
                stack[depth++] = *st;
                break;
            case 0x0b: /* restore_state */
                if (depth == 0) {
                    r->bad = 1;
                    break;
                }
                *st = stack[--depth];
                break;
            case 0x0c: /* def_cfa */
                st->cfa = CFA_REG;
                st->cfa_reg = rd_uleb(r);
                st->cfa_off = (int64_t)rd_uleb(r);
                break;
            case 0x12: /* def_cfa_sf */
                st->cfa = CFA_REG;
                st->cfa_reg = rd_uleb(r);
                st->cfa_off = rd_sleb(r) * cie->data_align;
                break;
            case 0x0d: /* def_cfa_register */
                st->cfa_reg = rd_uleb(r);
                if (st->cfa != CFA_REG) st->cfa = CFA_BAD;
                break;
            case 0x0e: /* def_cfa_offset */
                st->cfa_off = (int64_t)rd_uleb(r);
                if (st->cfa != CFA_REG) st->cfa = CFA_BAD;
                break;
            case 0x13: /* def_cfa_offset_sf */
                st->cfa_off = rd_sleb(r) * cie->data_align;
                if (st->cfa != CFA_REG) st->cfa = CFA_BAD;
                break;
            case 0x0f: { /* def_cfa_expression */
                uint64_t n = rd_uleb(r);
                if (r->bad || n > (uint64_t)(r->end - r->p)) {
                    r->bad = 1;
                    break;
                }
                cfa_expression(st, r->p, (size_t)n);
                r->p += n;
                break;
            }
            case 0x10:   /* expression */
            case 0x16: { /* val_expression */
                reg = rd_uleb(r);
                uint64_t n = rd_uleb(r);
                if (r->bad || n > (uint64_t)(r->end - r->p)) {
                    r->bad = 1;
                    break;
                }
                if (op == 0x10)
                    reg_expression(st, reg, r->p, (size_t)n);
                else
                    set_reg(st, reg, R_BAD, 0);
                r->p += n;
                break;
            }
            case 0x2e:
                rd_uleb(r);
                break; /* GNU_args_size */
            default:
                r->bad = 1;
                break; /* GNU_window_save, vendor, unknown */
            }
        }
        if (r->bad) break;
        if (advance && ps) {
            uint64_t next = loc + delta * cie->code_align;
            if (next < loc) { /* wrapped */
                r->bad = 1;
                break;
            }
            if (next > loc) put_rules(ps, (uint32_t)(loc - bias), st, cie);
            loc = next;
            if (ps->query && (loc >= loc_end || loc - bias > ps->target)) {
                ps->found = 1; /* the last row put holds at target */
                return 0;
            }
            if (loc >= loc_end) return 0;
        }
    }
    if (r->bad) {
        st->cfa = CFA_BAD;
        if (ps && loc < loc_end) put_row(ps, (uint32_t)(loc - bias), CFI_UNSUP);
        return -1;
    }
    if (ps && loc < loc_end) {
        put_rules(ps, (uint32_t)(loc - bias), st, cie);
        ps->found = 1;
    }
    return 0;
}

/* The CIE at off (an offset into the copy). Returns 0 or -1. */
static int parse_cie(struct parse *ps, size_t off, struct cie *cie)
{
    size_t body, end;
    int is64;
    if (entry_at(ps->base, ps->size, off, &body, &end, &is64) != 0) return -1;
    struct rd r = {.p = ps->base + body,
                   .end = ps->base + end,
                   .delta = ps->runtime - (uintptr_t)ps->base,
                   .lo = ps->base,
                   .hi = ps->base + ps->size};
    uint64_t id = rd_fixed(&r, is64 ? 8 : 4);
    uint8_t version = (uint8_t)rd_fixed(&r, 1);
    if (r.bad || id != 0 || (version != 1 && version != 3 && version != 4)) return -1;
    const char *aug = (const char *)r.p;
    size_t auglen = strnlen(aug, (size_t)(r.end - r.p));
    if (auglen == (size_t)(r.end - r.p)) return -1;
    r.p += auglen + 1;
    if (version == 4) {
        uint8_t addr_size = (uint8_t)rd_fixed(&r, 1), seg_size = (uint8_t)rd_fixed(&r, 1);
        if (addr_size != 8 || seg_size != 0) return -1;
    }
    memset(cie, 0, sizeof(*cie));
    cie->off = off;
    cie->code_align = rd_uleb(&r);
    cie->data_align = rd_sleb(&r);
    cie->ra_reg = version == 1 ? rd_fixed(&r, 1) : rd_uleb(&r);
    cie->fde_enc = PE_ABSPTR;
    if (aug[0] == 'z') {
        cie->has_z = 1;
        uint64_t n = rd_uleb(&r);
        if (r.bad || n > (uint64_t)(r.end - r.p)) return -1;
        struct rd a = r;
        a.end = r.p + n;
        for (const char *c = aug + 1; *c && !a.bad; c++) {
            if (*c == 'R')
                cie->fde_enc = (uint8_t)rd_fixed(&a, 1);
            else if (*c == 'L')
                rd_fixed(&a, 1);
            else if (*c == 'P')
                rd_ptr(&a, (uint8_t)rd_fixed(&a, 1) & (uint8_t)~PE_INDIRECT);
            else if (*c == 'S')
                cie->signal = 1;
            else if (*c != 'B' && *c != 'G')
                break; /* unknown: the length still skips it */
        }
        if (a.bad) return -1;
        r.p += n;
    } else if (aug[0]) {
        return -1; /* "eh" and other augmentations from before 'z' */
    }
    if (r.bad || cie->code_align == 0) return -1;
    cie->insn = r.p;
    cie->insn_end = r.end;
    struct rules *st = &cie->init;
    st->cfa = CFA_UNSET;
    st->rbp = R_SAME;
    st->rbx = R_SAME;
    st->ra = R_BAD; /* unless the CIE says where it is */
    struct rd prog = r;
    return run_program(NULL, cie, &prog, st, 0, 0, 0) < 0 ? -1 : 0;
}

static int add_run(struct parse *ps, uint32_t begin, uint32_t end)
{
    if (ps->nruns == ps->capruns) {
        size_t cap = ps->capruns ? ps->capruns * 2 : 256;
        struct fde_run *r = realloc(ps->runs, cap * sizeof(*r));
        if (!r) {
            ps->full = 1;
            return -1;
        }
        ps->runs = r;
        ps->capruns = cap;
    }
    ps->runs[ps->nruns++] =
        (struct fde_run){begin, end, ps->run_first, (uint32_t)(ps->nrows - ps->run_first)};
    return 0;
}

/* One FDE: its rows, as a run. Bad FDEs are skipped (their range has no
 * rows). */
static void parse_fde(struct parse *ps, size_t body, size_t end, int is64, struct cie *cie,
                      int *have_cie)
{
    const struct cfi_obj *o = ps->obj;
    struct rd r = {.p = ps->base + body,
                   .end = ps->base + end,
                   .delta = ps->runtime - (uintptr_t)ps->base,
                   .lo = ps->base,
                   .hi = ps->base + ps->size};
    uint64_t id = rd_fixed(&r, is64 ? 8 : 4);
    if (r.bad || id > body) return;
    size_t cie_off = body - (size_t)id; /* relative to the id field */
    if (!*have_cie || cie->off != cie_off) {
        *have_cie = 0;
        if (parse_cie(ps, cie_off, cie)) return;
        *have_cie = 1;
    }
    uint64_t begin = rd_ptr(&r, cie->fde_enc);
    uint64_t range = rd_ptr(&r, cie->fde_enc & 0x0f);
    if (cie->has_z) {
        uint64_t n = rd_uleb(&r);
        if (r.bad || n > (uint64_t)(r.end - r.p)) return;
        r.p += n;
    }
    if (r.bad || range == 0 || begin < o->lo || begin >= o->hi || range > o->hi - begin ||
        begin + range - o->bias > UINT32_MAX)
        return;
    if (ps->query && (begin - o->bias > ps->target || begin + range - o->bias <= ps->target))
        return; /* not this FDE's: no rule */
    ps->run_first = (uint32_t)ps->nrows;
    struct rules st = cie->init;
    run_program(ps, cie, &r, &st, begin, begin + range, o->bias);
    if (ps->query || ps->full || ps->nrows == ps->run_first) return;
    add_run(ps, (uint32_t)(begin - o->bias), (uint32_t)(begin + range - o->bias));
}

static int by_begin(const void *a, const void *b)
{
    const struct fde_run *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return x->first < y->first ? -1 : x->first > y->first; /* the earlier FDE first */
}

/* Sorts the runs and writes the table: each run's rows, a CFI_NONE row
 * where a run ends before the next begins and after the last; a run that
 * overlaps the one before is dropped. */
static struct cfi_table *assemble(struct parse *ps)
{
    if (!ps->nruns) return NULL;
    qsort(ps->runs, ps->nruns, sizeof(ps->runs[0]), by_begin);
    size_t most = ps->nrows + ps->nruns;
    struct cfi_row *row = malloc(most * sizeof(*row));
    if (!row) return NULL;
    size_t n = 0;
    uint32_t prev_end = 0;
    for (size_t i = 0; i < ps->nruns; i++) {
        const struct fde_run *run = &ps->runs[i];
        if (n && run->begin < prev_end) continue;
        if (n && run->begin > prev_end && row[n - 1].rule != CFI_NONE)
            row[n++] = (struct cfi_row){prev_end, CFI_NONE};
        for (uint32_t k = 0; k < run->n; k++) {
            struct cfi_row r = ps->rows[run->first + k];
            if (n && row[n - 1].rule == r.rule) continue;
            if (n && row[n - 1].pc == r.pc) { /* the gap's NONE, replaced */
                row[n - 1] = r;
                continue;
            }
            row[n++] = r;
        }
        prev_end = run->end;
    }
    if (row[n - 1].rule != CFI_NONE) row[n++] = (struct cfi_row){prev_end, CFI_NONE};
    struct cfi_table *t = sprof_cfi_pack(row, (uint32_t)n);
    free(row);
    return t;
}

/* Builds o's table from the copy of its .eh_frame. */
static struct cfi_table *parse_eh_frame(const struct cfi_obj *o, const uint8_t *buf, size_t size,
                                        uintptr_t runtime, size_t room)
{
    struct parse ps;
    memset(&ps, 0, sizeof(ps));
    ps.obj = o;
    ps.base = buf;
    ps.size = size;
    ps.runtime = runtime;
    ps.max_rows = room / sizeof(struct cfi_packed);
    struct cie cie;
    int have_cie = 0;
    for (size_t off = 0; off < size && !ps.full;) {
        size_t body, end;
        int is64;
        if (entry_at(buf, size, off, &body, &end, &is64) != 0) break;
        struct rd r = {.p = buf + body, .end = buf + end};
        uint64_t id = rd_fixed(&r, is64 ? 8 : 4);
        if (!r.bad && id != 0) parse_fde(&ps, body, end, is64, &cie, &have_cie);
        off = end;
    }
    struct cfi_table *t = ps.full ? NULL : assemble(&ps);
    free(ps.rows);
    free(ps.runs);
    if (t && table_size(t) > room) {
        free(t);
        t = NULL;
    }
    return t;
}

/* ---- lookups in place, from the signal handler (cfi.h) ---- */

/* o's index for lookups in place (struct cfi_obj): the sorted table of
 * (initial location, FDE) pairs and .eh_frame's segment. */
struct ix_view {
    uintptr_t ix, ehf_lo, ehf_hi;
    uint32_t count;
};

/* Reads o's index at its first lookup in place, from the signal handler
 * (only reads of the object's memory, which a sampled address in its code
 * shows mapped; unloading is checked by the caller). A handler that finds
 * another thread's reading of it under way reads it too, for itself: the
 * first to finish stores it. 0: v holds an index; -1: none to look up in
 * (no header, or not one of the layout read here). */
static int index_of(const struct cfi_obj *co, struct ix_view *v)
{
    struct cfi_obj *o = (struct cfi_obj *)co; /* ix_state and what it guards */
    if (atomic_load_explicit(&o->ix_state, memory_order_acquire) == 2) {
        *v = (struct ix_view){o->ix, o->ehf_lo, o->ehf_hi, o->ix_count};
        return v->ix ? 0 : -1;
    }
    memset(v, 0, sizeof(*v));
    uintptr_t hdr = o->eh_frame_hdr;
    const uint8_t *h = (const uint8_t *)hdr;
    /* version 1, eh_frame_ptr as (pc|data)rel 4 bytes, fde_count udata4,
     * entries of datarel sdata4 pairs (table_enc 0x3b): what every
     * toolchain writes; .eh_frame found by its pointer */
    if (hdr && o->hdr_end - hdr >= 12 && h[0] == 1 && (h[1] == 0x1b || h[1] == 0x3b) &&
        h[2] == 0x03 && h[3] == 0x3b) {
        uint32_t fdes;
        int32_t ptr;
        memcpy(&fdes, h + 8, 4);
        memcpy(&ptr, h + 4, 4);
        uintptr_t eh = (h[1] == 0x1b ? hdr + 4 : hdr) + (uintptr_t)(intptr_t)ptr;
        uintptr_t elo, ehi;
        if (fdes && (o->hdr_end - hdr - 12) / 8 >= fdes &&
            segment_in(o->phdr, o->phnum, o->bias, eh, &elo, &ehi) == 0)
            *v = (struct ix_view){hdr + 12, eh, ehi, fdes};
    }
    int unread = 0;
    if (atomic_compare_exchange_strong(&o->ix_state, &unread, 1)) {
        o->ix = v->ix;
        o->ehf_lo = v->ehf_lo;
        o->ehf_hi = v->ehf_hi;
        o->ix_count = v->count;
        atomic_store_explicit(&o->ix_state, 2, memory_order_release);
    }
    return v->ix ? 0 : -1;
}

/* Runs the FDE that covers look into ps (query mode). Returns 0 when ps
 * holds the rule at look (ps->rule, ps->qst), -1 when it cannot tell. */
static int query(const struct cfi_obj *o, uintptr_t look, struct parse *ps, int rules)
{
    if (!o->eh_frame_hdr || look - o->eh_frame_hdr + 0x80000000ull > 0xffffffffull) return -1;
    atomic_fetch_add(&inplace_readers, 1);
    int r = -1;
    struct ix_view v;
    if (atomic_load(&unloading) || index_of(o, &v)) goto out;
    /* the last entry whose initial location is at or before look */
    const int32_t *ix = (const int32_t *)v.ix;
    int32_t rel = (int32_t)(intptr_t)(look - o->eh_frame_hdr);
    uint32_t lo = 0, hi = v.count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (ix[2 * mid] <= rel)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (!lo) {
        /* before the first FDE: none covers look (crti.o's _init is there) */
        ps->rule = CFI_NONE;
        ps->found = 0;
        r = 0;
        goto out;
    }
    uintptr_t fde = o->eh_frame_hdr + (uintptr_t)(intptr_t)ix[2 * (lo - 1) + 1];
    if (fde < v.ehf_lo || fde >= v.ehf_hi) goto out;
    memset(ps, 0, sizeof(*ps));
    ps->obj = o;
    ps->base = (const uint8_t *)v.ehf_lo;
    ps->size = v.ehf_hi - v.ehf_lo;
    ps->runtime = v.ehf_lo;
    ps->query = 1;
    ps->query_rules = rules;
    ps->target = (uint32_t)(look - o->bias);
    ps->rule = CFI_NONE;
    size_t body, end;
    int is64;
    if (entry_at(ps->base, ps->size, fde - v.ehf_lo, &body, &end, &is64) != 0) goto out;
    struct cie cie;
    int have_cie = 0;
    parse_fde(ps, body, end, is64, &cie, &have_cie);
    /* an FDE that does not cover look (a gap between functions): no rule */
    if (ps->found || ps->rule == CFI_NONE) r = 0;
out:
    atomic_fetch_sub(&inplace_readers, 1);
    return r;
}

int sprof_cfi_rule_at(const struct cfi_obj *o, uintptr_t look, uint32_t *rule)
{
    struct parse ps;
    if (query(o, look, &ps, 0)) return -1;
    *rule = ps.rule;
    return 0;
}

int sprof_cfi_frame_at(const struct cfi_obj *o, uintptr_t look, struct cfi_frame *f)
{
    struct parse ps;
    if (query(o, look, &ps, 1)) return -1;
    if (!ps.found) return 1;
    const struct rules *st = &ps.qst;
    memset(f, 0, sizeof(*f));
    if (st->ra == R_UNDEF) {
        f->outer = 1;
        return 0;
    }
    if (st->ra == R_IN_REG) f->ra_reg = (int)st->ra_off + 1;
    if (ps.qsignal || st->rsp_bad || !ps.qra_ok ||
        (st->ra != R_IN_REG && (st->ra != R_AT_CFA || st->ra_off != -8)) || st->cfa != CFA_REG ||
        (st->cfa_reg != DW_REG_RSP && st->cfa_reg != DW_REG_RBP && st->cfa_reg != DW_REG_RBX))
        return -1;
    f->cfa_reg = (int)st->cfa_reg;
    f->cfa_off = st->cfa_off;
    if ((st->rbp != R_SAME && st->rbp != R_AT_CFA) || (st->rbx != R_SAME && st->rbx != R_AT_CFA))
        return -1;
    f->rbp_saved = st->rbp == R_AT_CFA;
    f->rbp_off = st->rbp_off;
    f->rbx_saved = st->rbx == R_AT_CFA;
    f->rbx_off = st->rbx_off;
    return 0;
}

int sprof_cfi_copy_code(const struct cfi_obj *o, uintptr_t addr, void *buf, size_t n)
{
    if (!o->one_text || addr < o->lo || addr > o->hi || n > o->hi - addr) return -1;
    atomic_fetch_add(&inplace_readers, 1);
    int r = -1;
    if (!atomic_load(&unloading)) {
        memcpy(buf, (const void *)addr, n);
        r = 0;
    }
    atomic_fetch_sub(&inplace_readers, 1);
    return r;
}

void sprof_cfi_unload_begin(void)
{
    atomic_fetch_add(&unloading, 1);
    /* a lookup takes microseconds; a handler preempted in one may take a
     * scheduler's tick: wait up to 100 ms, then go on regardless */
    for (int i = 0; i < 100000 && atomic_load(&inplace_readers); i++) {
        struct timespec ts = {0, 1000};
        sys_nanosleep(&ts, NULL);
    }
}

void sprof_cfi_unload_end(void)
{
    atomic_fetch_sub(&unloading, 1);
}

/* Copies o's .eh_frame (see the top of this file) and builds its table.
 * Returns 0, or -1 when o gets none (libunwind unwinds it). */
static int build(struct cfi_obj *o)
{
    if (!o->eh_frame_hdr || C.bytes >= CFI_MAX_BYTES) return -1;
    struct copy_job j;
    memset(&j, 0, sizeof(j));
    j.obj = o;
    dl_iterate_phdr(measure_cb, &j);
    if (!j.size || j.size > 2 * (CFI_MAX_BYTES - C.bytes)) return -1;
    j.buf = malloc(j.size);
    if (!j.buf) return -1;
    dl_iterate_phdr(copy_cb, &j);
    struct cfi_table *t = NULL;
    if (j.copied) t = parse_eh_frame(o, j.buf, j.size, j.eh_frame, CFI_MAX_BYTES - C.bytes);
    free(j.buf);
    if (!t) return -1;
    C.bytes += table_size(t);
    C.built++;
    o->owns_table = 1;
    atomic_store_explicit(&o->table, t, memory_order_release);
    cache_save(o, t);
    return 0;
}

void sprof_cfi_step(void)
{
    struct cfi_set *s = (struct cfi_set *)atomic_load(&sprof_cfi_current);
    if (cache_state < 0 && s) {
        int wanted = 0;
        for (size_t i = 0; i < s->nobj; i++)
            wanted |= s->obj[i].cached && atomic_load(&s->obj[i].wanted);
        if (wanted && !cache_usable()) {
            sprof_cfi_update(); /* the set again, with no object cacheable */
            s = (struct cfi_set *)atomic_load(&sprof_cfi_current);
        }
    }
    for (size_t i = 0; s && i < s->nobj; i++) {
        struct cfi_obj *o = &s->obj[i];
        if (atomic_load(&o->state) != CFI_PENDING) continue;
        unsigned wanted = (unsigned)atomic_load(&o->wanted);
        /* a table from the cache (or, once enough lookups were counted
         * across processes, a new one) once the object has been looked up
         * CFI_CACHE_WANT times: not at the start (most objects of a short
         * process are never sampled), nor for an object sampled once */
        if (!o->cache_tried &&
            wanted >= (o->want_after < CFI_CACHE_WANT ? o->want_after : CFI_CACHE_WANT) &&
            try_cache(o))
            continue;
        if (wanted < o->want_after && !o->paid) continue;
        atomic_store(&o->state, build(o) == 0 ? CFI_READY : CFI_FAILED);
    }
    reclaim();
}
