/* SPDX-License-Identifier: MIT */
#include "symbolize.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <gelf.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "demangle.h"
#include "log.h"
#include "output.h"

struct load_seg {
    uint64_t vaddr, offset, filesz;
};

/* A function scope of a compilation unit: a concrete subprogram or an
 * inlined subroutine with code. Names are resolved on first use. */
struct scope {
    Dwarf_Die die;
    uint32_t parent; /* the enclosing function scope, SP_NONE for none */
    uint8_t is_sub;  /* DW_TAG_subprogram: the end of an inline chain */
    uint8_t resolved;
    uint32_t func; /* SP_NONE: no name in DWARF */
    const char *call_file;
    uint32_t call_line;
};

/* A function symbol, from the module's best symbol table. */
struct esym {
    uint64_t lo, hi, reach; /* [lo, hi); reach: highest hi of this and all before */
    const char *raw;        /* in libelf's string data */
    const char *name;       /* demangled and interned on first use */
    int rank;               /* among aliases at one address: higher wins */
    int sizeless;           /* a function symbol of size 0 */
    GElf_Word shndx;
};

struct scope_range {
    uint64_t lo, hi, reach; /* reach: highest hi of this and all before */
    uint32_t scope, depth;
};

/* The function scopes of one CU, built by one walk of its DIEs, so that an
 * address is placed with a binary search instead of a walk of the CU per
 * address (dwarf_getscopes), which dominated the cost on big CUs. */
struct cu_index {
    struct scope *scopes;
    size_t nscopes, scopes_cap;
    struct scope_range *ranges;
    size_t nranges, ranges_cap;
};

/* One module as the symbolizer sees it. Each usable module gets a Dwfl of
 * its own, reported at base 0 so that Dwfl addresses are ELF virtual
 * addresses: modules of different processes (two non-PIE executables, or a
 * library loaded at different places) then never overlap. */
struct symmod {
    int state; /* 0 not tried, 1 usable, -1 not usable */
    Dwfl *dwfl;
    Dwfl_Module *mod;
    GElf_Addr dwfl_bias; /* Dwfl address = ELF address + dwfl_bias */
    int et_dyn;
    struct load_seg *segs;
    size_t nsegs;
    int has_symtab, has_dynsym;
    int mismatch;
    int dwarf_asked; /* libdw was asked for its DWARF (symbolization) */
    const char *file;
    const char *why;
    char disk_bid[129];
    struct esym *syms; /* sorted by lo; built on first use */
    size_t nsyms;
    int syms_built;
    struct u64map cu_ix; /* CU DIE offset -> index into cus */
    struct cu_index *cus;
    size_t ncus, cus_cap;
};

struct prefetch;

struct sp_symbolizer {
    struct sp_profile *p;
    struct prefetch *pf; /* debug info loading ahead, until the first load() */
    int pf_tried;
    struct symmod *mods;
    size_t nmods;
    /* (module << 2 | return address << 1 | file offset, address) ->
     * frames of that address: offset into chain << 32 | count */
    struct u64map addr_cache;
    uint32_t *chain; /* frame ids, outermost first, per cached address */
    size_t nchain, chain_cap;
    /* (process, raw address, return address) -> the same chain value, for
     * processes whose mappings never change meaning over time: a stack's
     * frames then need no mapping search, only this cheaper lookup */
    struct rawaddr *ra;
    size_t ra_cap, ra_n;
    uint64_t *ra_chain; /* per entry of ra: the chain value */
    size_t ra_chain_cap;
    uint64_t c_unknown; /* the chain of [unknown] */
    struct idset func_ix, frame_ix, stack_ix;
    struct u64map epoch_syms; /* (raw stack, epoch > 0) -> symbolic stack */
    uint32_t *tmp;            /* the stack being built, root first */
    size_t ntmp, tmp_cap;
    /* the raw stack built last (has_prev), whose frames s->tmp still holds:
     * pref[j] is the length of s->tmp after its j outermost frames */
    int has_prev;
    uint32_t prev_proc, prev_n;
    uint64_t prev_off;
    size_t *pref;
    size_t pref_cap;
    uint32_t *inl; /* the frames of one address, innermost first */
    size_t ninl, inl_cap;
    uint32_t f_unknown, s_missing;
    char *debuginfo_path;
    Dwfl_Callbacks cb;
};

/* 16 bytes, so that the table of a big profile's addresses stays in the
 * cache */
struct rawaddr {
    uint64_t addr;
    uint32_t key; /* proc << 1 | return address, + 1; 0: an empty slot */
    uint32_t ix;  /* into ra_chain */
};

static size_t rawaddr_slot(uint64_t addr, uint32_t key, size_t cap)
{
    return (size_t)(((addr ^ (uint64_t)key << 40) * 0x9e3779b97f4a7c15ull) >> 20) & (cap - 1);
}

static uint64_t *rawaddr_get(const struct sp_symbolizer *s, uint64_t addr, uint32_t key)
{
    if (!s->ra_cap) return NULL;
    for (size_t i = rawaddr_slot(addr, key, s->ra_cap);; i = (i + 1) & (s->ra_cap - 1)) {
        struct rawaddr *e = &s->ra[i];
        if (e->addr == addr && e->key == key) return &s->ra_chain[e->ix];
        if (!e->key) return NULL;
    }
}

static void rawaddr_put(struct sp_symbolizer *s, uint64_t addr, uint32_t key, uint64_t chain)
{
    if ((s->ra_n + 1) * 4 > s->ra_cap * 3) {
        size_t cap = s->ra_cap ? s->ra_cap * 2 : 4096;
        struct rawaddr *t = xcalloc(cap, sizeof(*t));
        for (size_t i = 0; i < s->ra_cap; i++) {
            struct rawaddr *e = &s->ra[i];
            if (!e->key) continue;
            size_t k = rawaddr_slot(e->addr, e->key, cap);
            while (t[k].key)
                k = (k + 1) & (cap - 1);
            t[k] = *e;
        }
        free(s->ra);
        s->ra = t;
        s->ra_cap = cap;
    }
    size_t k = rawaddr_slot(addr, key, s->ra_cap);
    while (s->ra[k].key)
        k = (k + 1) & (s->ra_cap - 1);
    if (s->ra_n >= UINT32_MAX) return; /* not cached */
    s->ra[k] = (struct rawaddr){addr, key, (uint32_t)s->ra_n};
    GROW(s->ra_chain, s->ra_chain_cap, s->ra_n + 1);
    s->ra_chain[s->ra_n++] = chain;
}

void sp_hex(const uint8_t *b, size_t n, char *out)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[b[i] >> 4];
        out[2 * i + 1] = hx[b[i] & 15];
    }
    out[2 * n] = 0;
}

/* ---- separate debug files ----
 * libdwfl's standard search (dwfl_standard_find_debuginfo) looks for a
 * module's debug file by build-id, then by its .gnu_debuglink, and then
 * asks debuginfod, loading libdebuginfod (with libcurl and some 30
 * libraries) to learn that DEBUGINFOD_URLS names no server: 11 ms and 400
 * page faults of a report whose modules include one without local debug
 * info (a stripped program, a library without its -dbg package). Where
 * DEBUGINFOD_URLS is unset or empty, the search is done here without that
 * last step: by build-id with libdwfl's own function, then by the debug
 * link in the places libdwfl's default path names (the module's directory,
 * its .debug subdirectory, /usr/lib/debug followed by the directory), a
 * file taken only when its build-id is the module's; a module that is no
 * file ([vdso]) by build-id only. The rest (modules without a build-id, a
 * dwz file's lookup) goes to the standard search, which asks no server
 * for them. */

/* fd of path when it is an ELF file with the build-id bid (n bytes) and not
 * the module's own file (own), else -1. */
static int debug_file_open(const char *path, const struct stat *own, const unsigned char *bid,
                           int n)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    struct stat st;
    Elf *elf = NULL;
    const void *id;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        (st.st_dev == own->st_dev && st.st_ino == own->st_ino) ||
        !(elf = elf_begin(fd, ELF_C_READ_MMAP, NULL)) || dwelf_elf_gnu_build_id(elf, &id) != n ||
        memcmp(id, bid, (size_t)n) != 0) {
        if (elf) elf_end(elf);
        close(fd);
        return -1;
    }
    elf_end(elf);
    return fd;
}

static int find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
                          const char *file_name, const char *debuglink_file,
                          GElf_Word debuglink_crc, char **debuginfo_file_name)
{
    const char *urls = getenv("DEBUGINFOD_URLS");
    const unsigned char *bid;
    GElf_Addr vaddr;
    int n = dwfl_module_build_id(mod, &bid, &vaddr);
    struct stat mst;
    if ((urls && *urls) || n <= 0 ||
        (debuglink_file && (debuglink_crc == 0 || strchr(debuglink_file, '/'))))
        return dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name, debuglink_file,
                                            debuglink_crc, debuginfo_file_name);
    int fd = dwfl_build_id_find_debuginfo(mod, userdata, modname, base, file_name, debuglink_file,
                                          debuglink_crc, debuginfo_file_name);
    /* a module not from a file ([vdso]) has only its build-id to go by */
    if (fd >= 0 || !file_name || file_name[0] != '/' || stat(file_name, &mst) != 0) return fd;
    const char *slash = strrchr(file_name, '/'), *base_name = slash + 1;
    int dirlen = (int)(slash - file_name);
    char made[NAME_MAX + 1];
    if (!debuglink_file) { /* libdwfl's guess: the file's name with .debug */
        if (snprintf(made, sizeof(made), "%s.debug", base_name) >= (int)sizeof(made)) return -1;
        debuglink_file = made;
    }
    /* the places in libdwfl's order; without a debug link, the file's own
     * name in the other two too */
    for (int place = 0; place < 3; place++) {
        for (int own = 0; own < (debuglink_file == made && place > 0 ? 2 : 1); own++) {
            const char *name = own ? base_name : debuglink_file;
            char path[PATH_MAX];
            int len = place == 0 ? snprintf(path, sizeof(path), "%.*s/%s", dirlen, file_name, name)
                      : place == 1
                          ? snprintf(path, sizeof(path), "%.*s/.debug/%s", dirlen, file_name, name)
                          : snprintf(path, sizeof(path), "/usr/lib/debug%.*s/%s", dirlen, file_name,
                                     name);
            if (len < 0 || len >= (int)sizeof(path)) continue;
            fd = debug_file_open(path, &mst, bid, n);
            if (fd >= 0) {
                *debuginfo_file_name = xstrdup(path);
                return fd;
            }
        }
    }
    return -1;
}

static struct sp_symbolizer *symbolizer(struct sp_profile *p)
{
    struct sp_symbolizer *s = p->sym;
    if (!s) {
        s = xcalloc(1, sizeof(*s));
        s->p = p;
        s->cb.find_elf = dwfl_build_id_find_elf;
        s->cb.find_debuginfo = find_debuginfo;
        s->cb.section_address = dwfl_offline_section_address;
        s->cb.debuginfo_path = &s->debuginfo_path; /* NULL: the default path */
        s->f_unknown = SP_NONE;
        s->s_missing = SP_NONE;
        p->sym = s;
    }
    if (s->nmods < p->nmodules) {
        s->mods = xreallocarray(s->mods, p->nmodules, sizeof(*s->mods));
        memset(s->mods + s->nmods, 0, (p->nmodules - s->nmods) * sizeof(*s->mods));
        s->nmods = p->nmodules;
    }
    return s;
}

static void pf_end(struct sp_symbolizer *s);

void sp_symbolizer_free(struct sp_symbolizer *s)
{
    if (!s) return;
    pf_end(s);
    for (size_t i = 0; i < s->nmods; i++) {
        struct symmod *sm = &s->mods[i];
        for (size_t k = 0; k < sm->ncus; k++) {
            free(sm->cus[k].scopes);
            free(sm->cus[k].ranges);
        }
        free(sm->cus);
        free(sm->syms);
        u64map_release(&sm->cu_ix);
        if (sm->dwfl) dwfl_end(sm->dwfl);
        free(sm->segs);
    }
    free(s->mods);
    u64map_release(&s->addr_cache);
    free(s->chain);
    free(s->ra);
    free(s->ra_chain);
    idset_release(&s->func_ix);
    idset_release(&s->frame_ix);
    idset_release(&s->stack_ix);
    u64map_release(&s->epoch_syms);
    free(s->tmp);
    free(s->pref);
    free(s->inl);
    free(s);
}

/* ---- names ---- */

/* Interns s with control characters replaced, so that no name can break a
 * line of output. */
static const char *intern_clean(struct sp_profile *p, const char *s)
{
    const char *c = s;
    while (*c && (unsigned char)*c >= 0x20 && *c != 0x7f)
        c++;
    if (!*c) return strtab_intern(&p->strs, s);
    char *d = xstrdup(s);
    for (char *q = d; *q; q++)
        if ((unsigned char)*q < 0x20 || *q == 0x7f) *q = '?';
    const char *r = strtab_intern(&p->strs, d);
    free(d);
    return r;
}

/* A symbol's display name: demangled when it is a C++ or Rust one. */
static const char *demangle(struct sp_profile *p, const char *name)
{
    char *d = sp_demangle(name);
    if (!d) return intern_clean(p, name);
    const char *r = intern_clean(p, d);
    free(d);
    return r;
}

/* ---- interning of functions, frames and stacks ---- */

static uint32_t func_intern(struct sp_symbolizer *s, const char *name, const char *module,
                            const char *file, uint32_t line)
{
    struct sp_profile *p = s->p;
    uint64_t h = hash_mix(hash_mix(hash_u64((uintptr_t)name), (uintptr_t)module), (uintptr_t)file);
    size_t pos;
    for (uint32_t id = idset_first(&s->func_ix, h, &pos); id != IDSET_NONE;
         id = idset_next(&s->func_ix, h, &pos)) {
        const struct sp_func *f = &p->funcs[id];
        if (f->name == name && f->module == module && f->file == file) return id;
    }
    GROW(p->funcs, p->funcs_cap, p->nfuncs + 1);
    p->funcs[p->nfuncs] = (struct sp_func){name, module, file, line};
    idset_insert(&s->func_ix, h, (uint32_t)p->nfuncs);
    return (uint32_t)p->nfuncs++;
}

static uint32_t frame_intern(struct sp_symbolizer *s, uint32_t func, const char *file,
                             uint32_t line, uint32_t inlined)
{
    struct sp_profile *p = s->p;
    uint64_t h = hash_mix(hash_mix(hash_u64(func), (uintptr_t)file), (uint64_t)line << 1 | inlined);
    size_t pos;
    for (uint32_t id = idset_first(&s->frame_ix, h, &pos); id != IDSET_NONE;
         id = idset_next(&s->frame_ix, h, &pos)) {
        const struct sp_frame *f = &p->sframes[id];
        if (f->func == func && f->file == file && f->line == line && f->inlined == inlined)
            return id;
    }
    GROW(p->sframes, p->sframes_cap, p->nsframes + 1);
    p->sframes[p->nsframes] = (struct sp_frame){func, file, line, inlined};
    idset_insert(&s->frame_ix, h, (uint32_t)p->nsframes);
    return (uint32_t)p->nsframes++;
}

static uint32_t stack_intern(struct sp_symbolizer *s, const uint32_t *f, size_t n, uint32_t flags)
{
    struct sp_profile *p = s->p;
    uint64_t h = hash_bytes(f, n * sizeof(*f), flags);
    size_t pos;
    for (uint32_t id = idset_first(&s->stack_ix, h, &pos); id != IDSET_NONE;
         id = idset_next(&s->stack_ix, h, &pos)) {
        const struct sp_stack *st = &p->stacks[id];
        if (st->n == n && st->flags == flags &&
            memcmp(p->stack_frames + st->off, f, n * sizeof(*f)) == 0)
            return id;
    }
    if (p->nstack_frames + n > UINT32_MAX) {
        sprof_err("too many distinct stacks");
        exit(2);
    }
    GROW_BIG(p->stack_frames, p->stack_frames_cap, p->nstack_frames + n);
    memcpy(p->stack_frames + p->nstack_frames, f, n * sizeof(*f));
    GROW_BIG(p->stacks, p->stacks_cap, p->nstacks + 1);
    p->stacks[p->nstacks] = (struct sp_stack){(uint32_t)p->nstack_frames, (uint32_t)n, flags};
    p->nstack_frames += n;
    idset_insert(&s->stack_ix, h, (uint32_t)p->nstacks);
    return (uint32_t)p->nstacks++;
}

static uint32_t named_frame(struct sp_symbolizer *s, const char *name, const char *module)
{
    const char *e = strtab_intern(&s->p->strs, "");
    return frame_intern(s, func_intern(s, intern_clean(s->p, name), module, e, 0), e, 0, 0);
}

static void push_inl(struct sp_symbolizer *s, uint32_t frame)
{
    GROW(s->inl, s->inl_cap, s->ninl + 1);
    s->inl[s->ninl++] = frame;
}

static void push_tmp(struct sp_symbolizer *s, uint32_t frame)
{
    GROW(s->tmp, s->tmp_cap, s->ntmp + 1);
    s->tmp[s->ntmp++] = frame;
}

/* ---- modules ---- */

static void scan_sections(Elf *elf, int *symtab, int *dynsym)
{
    Elf_Scn *scn = NULL;
    while ((scn = elf_nextscn(elf, scn)) != NULL) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh)) continue;
        if (sh.sh_type == SHT_SYMTAB && sh.sh_size > 0) *symtab = 1;
        if (sh.sh_type == SHT_DYNSYM && sh.sh_size > 0) *dynsym = 1;
    }
}

/* Takes over a reported module for module mi after checking its build-id.
 * Returns 0, -1 when it is not a usable ELF object, -2 when its build-id is
 * not the recorded one; on failure dwfl is freed. */
static int adopt(struct sp_symbolizer *s, uint32_t mi, Dwfl *dwfl, Dwfl_Module *mod,
                 const char *file)
{
    const struct sp_module *mo = &s->p->modules[mi];
    struct symmod *sm = &s->mods[mi];
    const unsigned char *bits;
    GElf_Addr bid_vaddr;
    int n = dwfl_module_build_id(mod, &bits, &bid_vaddr);
    char disk[129] = "";
    if (n > 0 && n <= 64) sp_hex(bits, (size_t)n, disk);
    memcpy(sm->disk_bid, disk, sizeof(disk));
    if (mo->build_id_len && n > 0 &&
        ((size_t)n != mo->build_id_len || memcmp(bits, mo->build_id, (size_t)n) != 0)) {
        dwfl_end(dwfl);
        return -2;
    }
    GElf_Addr bias;
    Elf *elf = dwfl_module_getelf(mod, &bias);
    GElf_Ehdr eh;
    if (!elf || !gelf_getehdr(elf, &eh) || (eh.e_type != ET_EXEC && eh.e_type != ET_DYN)) {
        dwfl_end(dwfl);
        return -1;
    }
    sm->dwfl = dwfl;
    sm->mod = mod;
    sm->dwfl_bias = bias;
    sm->et_dyn = eh.e_type == ET_DYN;
    size_t phnum;
    if (elf_getphdrnum(elf, &phnum) == 0) {
        for (size_t i = 0; i < phnum; i++) {
            GElf_Phdr ph;
            if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD) continue;
            sm->segs = xreallocarray(sm->segs, sm->nsegs + 1, sizeof(*sm->segs));
            sm->segs[sm->nsegs++] = (struct load_seg){ph.p_vaddr, ph.p_offset, ph.p_filesz};
        }
    }
    scan_sections(elf, &sm->has_symtab, &sm->has_dynsym);
    sm->file = strtab_intern(&s->p->strs, file);
    sm->state = 1;
    return 0;
}

/* ---- debug info loaded ahead ---- */

/* Opening a module's debug info (dwfl_module_getdwarf decompresses all of
 * it, then the symbol table) is a good part of the time of a report on a
 * big profile. sp_symbolize_prefetch starts a thread that does it for the
 * modules the first stacks of the profile run in, while the rest of the
 * profile is read. The thread touches nothing but its jobs and libdw
 * handles of its own; the first load() stops it (after the module it is
 * on) and joins it, and try_open takes the handle of a module from its
 * job instead of opening the file again. The rest of the work (build-id
 * check, warnings) stays in load(), in the same order as without it. */
struct pf_job {
    uint32_t module;
    char *path, *name;
    uint8_t build_id[64];
    size_t build_id_len;
    Dwfl *dwfl; /* what the thread made of it: NULL when it could not */
    Dwfl_Module *mod;
};

struct prefetch {
    pthread_t thread;
    const Dwfl_Callbacks *cb;
    struct pf_job *jobs;
    size_t njobs;
    atomic_int stop;
};

#define PF_MAX_JOBS 16
#define PF_STACKS 4096 /* the stacks looked at for the modules they run in */

static void *pf_main(void *arg)
{
    struct prefetch *pf = arg;
    for (size_t i = 0; i < pf->njobs && !atomic_load(&pf->stop); i++) {
        struct pf_job *j = &pf->jobs[i];
        struct stat st;
        if (stat(j->path, &st) != 0 || !S_ISREG(st.st_mode) || access(j->path, R_OK) != 0) continue;
        Dwfl *dwfl = dwfl_begin(pf->cb);
        if (!dwfl) continue;
        dwfl_report_begin(dwfl);
        Dwfl_Module *mod = dwfl_report_elf(dwfl, j->name, j->path, -1, 0, true);
        dwfl_report_end(dwfl, NULL, NULL);
        const unsigned char *bits;
        GElf_Addr vaddr;
        int n = mod ? dwfl_module_build_id(mod, &bits, &vaddr) : -1;
        if (!mod || (j->build_id_len && n > 0 &&
                     ((size_t)n != j->build_id_len || memcmp(bits, j->build_id, (size_t)n) != 0))) {
            dwfl_end(dwfl); /* another build: load() says so, and does not use it */
            continue;
        }
        Dwarf_Addr bias;
        dwfl_module_getdwarf(mod, &bias);
        dwfl_module_getsymtab(mod);
        j->dwfl = dwfl;
        j->mod = mod;
    }
    return NULL;
}

static void pf_free(struct prefetch *pf)
{
    for (size_t i = 0; i < pf->njobs; i++) {
        if (pf->jobs[i].dwfl) dwfl_end(pf->jobs[i].dwfl);
        free(pf->jobs[i].path);
        free(pf->jobs[i].name);
    }
    free(pf->jobs);
    free(pf);
}

/* Stops and joins the thread; its handles stay for pf_take. */
static void pf_join(struct sp_symbolizer *s)
{
    if (!s->pf || !s->pf->cb) return;
    atomic_store(&s->pf->stop, 1);
    pthread_join(s->pf->thread, NULL);
    s->pf->cb = NULL; /* joined */
}

static void pf_end(struct sp_symbolizer *s)
{
    if (!s->pf) return;
    pf_join(s);
    pf_free(s->pf);
    s->pf = NULL;
}

/* The handle the thread made for module mi at path, now the caller's. */
static Dwfl *pf_take(struct sp_symbolizer *s, uint32_t mi, const char *path, Dwfl_Module **mod)
{
    if (!s->pf) return NULL;
    pf_join(s);
    for (size_t i = 0; i < s->pf->njobs; i++) {
        struct pf_job *j = &s->pf->jobs[i];
        if (j->module != mi || !j->dwfl || strcmp(j->path, path) != 0) continue;
        Dwfl *d = j->dwfl;
        *mod = j->mod;
        j->dwfl = NULL;
        return d;
    }
    return NULL;
}

struct pf_map {
    uint64_t start, end;
    uint32_t module;
};

static int pf_map_cmp(const void *a, const void *b)
{
    const struct pf_map *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

static int pf_job_cmp(const void *a, const void *b, void *arg)
{
    const uint64_t *hits = arg;
    const struct pf_job *x = a, *y = b;
    if (hits[x->module] != hits[y->module]) return hits[x->module] > hits[y->module] ? -1 : 1;
    return x->module < y->module ? -1 : x->module > y->module;
}

void sp_symbolize_prefetch(struct sp_profile *p, uint32_t proc)
{
    struct sp_symbolizer *s = symbolizer(p);
    if (s->pf_tried) return;
    s->pf_tried = 1;
    const struct sp_process *pr = &p->procs[proc];
    /* the process's mappings of code in files, by address (reading has
     * not sorted them yet) */
    struct pf_map *m = xmalloc((pr->nmaps ? pr->nmaps : 1) * sizeof(*m));
    size_t nm = 0;
    for (uint32_t i = 0; i < pr->nmaps; i++) {
        const struct sp_mapping *mp = &p->maps[pr->map_first + i];
        if (mp->module == SP_NONE || !(mp->prot & 4) || p->modules[mp->module].kind != SP_MOD_FILE)
            continue;
        m[nm++] = (struct pf_map){mp->start, mp->end, mp->module};
    }
    qsort(m, nm, sizeof(*m), pf_map_cmp);
    uint64_t *hits = xcalloc(p->nmodules ? p->nmodules : 1, sizeof(*hits));
    size_t seen = 0;
    for (size_t i = 0; i < p->nraw && seen < PF_STACKS; i++) {
        const struct sp_rawstack *r = &p->raw[i];
        if (r->proc != proc) continue;
        seen++;
        for (uint32_t k = 0; k < r->nframes; k++) {
            uint64_t a = p->frames[r->off + k];
            size_t lo = 0, hi = nm;
            while (lo < hi) { /* the last mapping starting at or before a */
                size_t mid = lo + (hi - lo) / 2;
                if (m[mid].start <= a)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            if (lo && a < m[lo - 1].end) hits[m[lo - 1].module]++;
        }
    }
    free(m);
    struct prefetch *pf = xcalloc(1, sizeof(*pf));
    pf->jobs = xcalloc(p->nmodules ? p->nmodules : 1, sizeof(*pf->jobs));
    for (uint32_t mi = 0; mi < p->nmodules; mi++)
        if (hits[mi]) pf->jobs[pf->njobs++].module = mi;
    /* the modules most stacks run in first, and no more than a few */
    qsort_r(pf->jobs, pf->njobs, sizeof(*pf->jobs), pf_job_cmp, hits);
    if (pf->njobs > PF_MAX_JOBS) pf->njobs = PF_MAX_JOBS;
    free(hits);
    for (size_t i = 0; i < pf->njobs; i++) {
        struct pf_job *j = &pf->jobs[i];
        const struct sp_module *mo = &p->modules[j->module];
        j->path = xstrdup(mo->path);
        size_t len = strlen(j->path);
        if (len > 10 && strcmp(j->path + len - 10, " (deleted)") == 0) j->path[len - 10] = 0;
        j->name = xstrdup(mo->name);
        memcpy(j->build_id, mo->build_id, mo->build_id_len);
        j->build_id_len = mo->build_id_len;
    }
    pf->cb = &s->cb;
    if (!pf->njobs || pthread_create(&pf->thread, NULL, pf_main, pf) != 0) {
        pf->cb = NULL;
        pf_free(pf);
        return;
    }
    s->pf = pf;
}

/* Opens path for module mi; returns as adopt(). Reported at base 0, so that
 * Dwfl addresses are ELF addresses. */
static int try_open(struct sp_symbolizer *s, uint32_t mi, const char *path)
{
    const struct sp_module *mo = &s->p->modules[mi];
    /* only regular files: a path in a profile could name a FIFO or a device */
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || access(path, R_OK) != 0) return -1;
    Dwfl_Module *mod;
    Dwfl *dwfl = pf_take(s, mi, path, &mod);
    if (dwfl) return adopt(s, mi, dwfl, mod, path);
    dwfl = dwfl_begin(&s->cb);
    if (!dwfl) return -1;
    dwfl_report_begin(dwfl);
    mod = dwfl_report_elf(dwfl, mo->name, path, -1, 0, true);
    dwfl_report_end(dwfl, NULL, NULL);
    if (!mod) {
        dwfl_end(dwfl);
        return -1;
    }
    return adopt(s, mi, dwfl, mod, path);
}

/* The vdso of this process, which is the profiled one when the recorder
 * gave its build-id and it matches: same kernel. Reported from memory. */
static int try_own_vdso(struct sp_symbolizer *s, uint32_t mi)
{
    const struct sp_module *mo = &s->p->modules[mi];
    const uint8_t *img = (const uint8_t *)getauxval(AT_SYSINFO_EHDR);
    if (!mo->build_id_len || !img) return -1;
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
        eh->e_phentsize != sizeof(Elf64_Phdr))
        return -1;
    /* the image: everything its headers point at */
    size_t size = eh->e_shoff + (size_t)eh->e_shnum * eh->e_shentsize;
    const Elf64_Phdr *ph = (const Elf64_Phdr *)(img + eh->e_phoff);
    for (unsigned i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_LOAD && ph[i].p_offset + ph[i].p_filesz > size)
            size = ph[i].p_offset + ph[i].p_filesz;
    if (size > (64u << 20)) return -1;
    Dwfl *dwfl = dwfl_begin(&s->cb);
    if (!dwfl) return -1;
    dwfl_report_begin(dwfl);
    Dwfl_Module *mod =
        dwfl_report_offline_memory(dwfl, "[vdso]", "[vdso]", (char *)(uintptr_t)img, size);
    dwfl_report_end(dwfl, NULL, NULL);
    if (!mod) {
        dwfl_end(dwfl);
        return -1;
    }
    return adopt(s, mi, dwfl, mod, "[vdso] of this machine");
}

/* The module's symbolizer state, loading it the first time; NULL when it
 * cannot be used (missing, not ELF, another build). */
static struct symmod *load(struct sp_symbolizer *s, uint32_t mi)
{
    pf_join(s); /* from here on, libdw is this thread's */
    struct symmod *sm = &s->mods[mi];
    if (sm->state) return sm->state > 0 ? sm : NULL;
    sm->state = -1;
    const struct sp_module *mo = &s->p->modules[mi];
    if (mo->kind == SP_MOD_VDSO) {
        if (try_own_vdso(s, mi) == 0) return sm;
        sm->why = mo->build_id_len ? "another kernel's vdso" : "no build-id recorded";
        return NULL;
    }
    if (mo->kind != SP_MOD_FILE) {
        sm->why = "not a file";
        return NULL;
    }
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s", mo->path);
    size_t len = strlen(path);
    if (len > 10 && strcmp(path + len - 10, " (deleted)") == 0) path[len - 10] = 0;
    int r = try_open(s, mi, path);
    if (r == 0) return sm;
    char want[129];
    sp_hex(mo->build_id, mo->build_id_len, want);
    char disk[129];
    memcpy(disk, sm->disk_bid, sizeof(disk));
    /* the profiled build may still be installed as a debug file */
    char dbg[PATH_MAX] = "";
    if (mo->build_id_len >= 2) {
        snprintf(dbg, sizeof(dbg), "/usr/lib/debug/.build-id/%.2s/%s.debug", want, want + 2);
        if (try_open(s, mi, dbg) != 0) dbg[0] = 0;
    }
    /* Another build on disk is not used: its addresses would name wrong
     * functions, which is worse than module+offset. */
    if (r == -2) {
        sm->mismatch = 1;
        memcpy(sm->disk_bid, disk, sizeof(disk));
        if (dbg[0])
            sprof_warn("'%s': build-id on disk %s differs from the profiled %s; using '%s' "
                       "found by build-id",
                       path, disk, want, dbg);
        else
            sprof_warn("'%s': build-id on disk %s differs from the profiled %s; not used for "
                       "symbols, its frames are shown as module+offset",
                       path, disk, want);
    }
    if (dbg[0]) return sm;
    sm->why = r == -2              ? "another build on disk"
              : access(path, F_OK) ? "file not found"
                                   : "not a readable ELF file";
    return NULL;
}

/* The load bias to use for mapping m of a readable module. The recorder
 * gives 0 when it could not find one; for a shared object or PIE compute it
 * from the program header whose file range holds the mapping's offset. */
static uint64_t fix_bias(const struct symmod *sm, const struct sp_mapping *m)
{
    if (m->load_bias || !sm->et_dyn) return m->load_bias;
    for (size_t i = 0; i < sm->nsegs; i++) {
        const struct load_seg *g = &sm->segs[i];
        uint64_t page_start = g->offset & ~(uint64_t)4095;
        if (m->offset >= page_start && m->offset < g->offset + (g->filesz ? g->filesz : 1))
            return m->start - (g->vaddr - g->offset + m->offset);
    }
    return m->start - m->offset;
}

/* ---- DWARF ---- */

static const char *die_name(struct sp_profile *p, Dwarf_Die *d)
{
    Dwarf_Attribute at;
    const char *ln = dwarf_formstring(dwarf_attr_integrate(d, DW_AT_linkage_name, &at));
    if (!ln) ln = dwarf_formstring(dwarf_attr_integrate(d, DW_AT_MIPS_linkage_name, &at));
    if (ln) {
        char *dm = sp_demangle(ln);
        if (dm) {
            const char *r = intern_clean(p, dm);
            free(dm);
            return r;
        }
    }
    const char *n = dwarf_formstring(dwarf_attr_integrate(d, DW_AT_name, &at));
    if (n && n[0]) return intern_clean(p, n);
    return ln ? intern_clean(p, ln) : NULL;
}

/* A source path as the reports show it: absolute when DWARF gives it
 * relative to the compilation directory comp_dir ("src/a.c" compiled in
 * "/home/me/prog" is "/home/me/prog/src/a.c"), with "." and ".." segments
 * folded; interned, "" for NULL. */
static const char *src_path(struct sp_profile *p, const char *comp_dir, const char *f)
{
    if (!f || !f[0]) return strtab_intern(&p->strs, "");
    if (f[0] == '/' || !comp_dir || comp_dir[0] != '/') return intern_clean(p, f);
    char *full = xasprintf("%s/%s", comp_dir, f);
    /* fold segments in place: "/a/./b/../c" -> "/a/c" */
    char *w = full;
    for (const char *r = full; *r;) {
        while (*r == '/')
            r++;
        const char *e = strchr(r, '/');
        size_t n = e ? (size_t)(e - r) : strlen(r);
        if (n == 0) break;
        if (n == 2 && r[0] == '.' && r[1] == '.') { /* back to the last '/' */
            while (w > full && *--w != '/')
                continue;
        } else if (n != 1 || r[0] != '.') {
            *w++ = '/';
            memmove(w, r, n);
            w += n;
        }
        r += n;
    }
    if (w == full) *w++ = '/';
    *w = 0;
    const char *res = intern_clean(p, full);
    free(full);
    return res;
}

/* The compilation directory of the CU of d, or NULL. */
static const char *comp_dir_of(Dwarf_Die *d)
{
    Dwarf_Die cu;
    Dwarf_Attribute at;
    if (!dwarf_diecu(d, &cu, NULL, NULL)) return NULL;
    return dwarf_formstring(dwarf_attr(&cu, DW_AT_comp_dir, &at));
}

static const char *call_file(struct sp_profile *p, Dwarf_Die *d)
{
    Dwarf_Attribute at;
    Dwarf_Word idx;
    Dwarf_Die cu;
    Dwarf_Files *files;
    size_t nfiles;
    if (dwarf_formudata(dwarf_attr(d, DW_AT_call_file, &at), &idx) != 0 ||
        !dwarf_diecu(d, &cu, NULL, NULL) || dwarf_getsrcfiles(&cu, &files, &nfiles) != 0 ||
        idx >= nfiles)
        return strtab_intern(&p->strs, "");
    const char *f = dwarf_filesrc(files, idx, NULL, NULL);
    Dwarf_Attribute cd;
    return src_path(p, dwarf_formstring(dwarf_attr(&cu, DW_AT_comp_dir, &cd)), f);
}

static uint32_t call_line(Dwarf_Die *d)
{
    Dwarf_Attribute at;
    Dwarf_Word v;
    if (dwarf_formudata(dwarf_attr(d, DW_AT_call_line, &at), &v) != 0 || v > UINT32_MAX) return 0;
    return (uint32_t)v;
}

static int esym_cmp(const void *a, const void *b)
{
    const struct esym *x = a, *y = b;
    if (x->lo != y->lo) return x->lo < y->lo ? -1 : 1;
    if (x->rank != y->rank) return x->rank > y->rank ? -1 : 1;
    if (x->hi != y->hi) return x->hi > y->hi ? -1 : 1;
    return strcmp(x->raw, y->raw);
}

#define SIZELESS_MAX 4096

/* Sorts the module's function symbols once: dwfl_module_addrinfo scans the
 * whole table on every call, which dominated on modules without DWARF. */
static void build_syms(struct symmod *sm)
{
    sm->syms_built = 1;
    int n = dwfl_module_getsymtab(sm->mod);
    if (n <= 0) return;
    sm->syms = xmalloc((size_t)n * sizeof(*sm->syms));
    for (int i = 1; i < n; i++) {
        GElf_Sym sym;
        GElf_Addr addr;
        GElf_Word shndx;
        const char *name = dwfl_module_getsym_info(sm->mod, i, &sym, &addr, &shndx, NULL, NULL);
        int type = GELF_ST_TYPE(sym.st_info), bind = GELF_ST_BIND(sym.st_info);
        if (!name || !name[0] || sym.st_shndx == SHN_UNDEF ||
            (type != STT_FUNC && type != STT_GNU_IFUNC && type != STT_NOTYPE))
            continue;
        if (addr + sym.st_size < addr) continue;
        struct esym *e = &sm->syms[sm->nsyms++];
        e->lo = addr;
        /* a symbol without a size names its address only, but see below */
        e->hi = addr + (sym.st_size ? sym.st_size : 1);
        e->raw = name;
        e->name = NULL;
        e->rank = (bind == STB_GLOBAL ? 4 : bind == STB_WEAK ? 2 : 0) + (type != STT_NOTYPE);
        e->sizeless = !sym.st_size && type != STT_NOTYPE;
        e->shndx = shndx;
    }
    if (sm->nsyms) qsort(sm->syms, sm->nsyms, sizeof(*sm->syms), esym_cmp);
    /* A function symbol of size 0 (crtstuff's __do_global_dtors_aux, some
     * hand-written assembly) reaches up to the next symbol of its section,
     * at most SIZELESS_MAX bytes, as perf and gdb read it; labels (no type)
     * still name their address only. */
    for (size_t i = 0; i < sm->nsyms; i++) {
        struct esym *e = &sm->syms[i];
        if (!e->sizeless) continue;
        size_t j = i + 1;
        while (j < sm->nsyms && sm->syms[j].lo == e->lo)
            j++;
        if (j < sm->nsyms && sm->syms[j].shndx == e->shndx)
            e->hi = sm->syms[j].lo - e->lo < SIZELESS_MAX ? sm->syms[j].lo : e->lo + SIZELESS_MAX;
    }
    for (size_t i = 0; i < sm->nsyms; i++)
        sm->syms[i].reach =
            i && sm->syms[i - 1].reach > sm->syms[i].hi ? sm->syms[i - 1].reach : sm->syms[i].hi;
}

/* The ELF symbol covering a, or NULL: never the nearest symbol below a.
 * Where symbols nest, the innermost wins; among aliases at one address, a
 * global function. */
static struct esym *elf_sym(struct symmod *sm, Dwarf_Addr a)
{
    if (!sm->syms_built) build_syms(sm);
    size_t lo = 0, hi = sm->nsyms;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sm->syms[mid].lo <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    struct esym *best = NULL;
    for (size_t i = lo; i-- > 0 && sm->syms[i].reach > a;) {
        struct esym *e = &sm->syms[i];
        if (a >= e->hi) continue;
        if (best && best->lo != e->lo) break; /* aliases of the innermost only */
        best = e;                             /* sorted best-first: keep the earliest */
    }
    return best;
}

/* The name of the ELF symbol covering a (see elf_sym), or NULL. */
static const char *elf_name(struct sp_profile *p, struct symmod *sm, Dwarf_Addr a)
{
    struct esym *best = elf_sym(sm, a);
    if (!best) return NULL;
    if (!best->name) {
        /* "name@VERSION" and "name@@VERSION" of versioned symbols: the name */
        const char *at = strchr(best->raw, '@');
        if (at && at > best->raw) {
            char *base = xstrndup(best->raw, (size_t)(at - best->raw));
            best->name = demangle(p, base);
            free(base);
        } else {
            best->name = demangle(p, best->raw);
        }
    }
    return best->name;
}

static void index_walk(struct cu_index *x, Dwarf_Die *die, uint32_t parent, uint32_t depth,
                       unsigned imports)
{
    Dwarf_Die child;
    if (depth > 256 || dwarf_child(die, &child) != 0) return;
    do {
        int tag = dwarf_tag(&child);
        switch (tag) {
        case DW_TAG_subprogram:
        case DW_TAG_inlined_subroutine: {
            uint32_t id = (uint32_t)x->nscopes;
            int any = 0;
            Dwarf_Addr base, lo, hi;
            ptrdiff_t off = 0;
            while ((off = dwarf_ranges(&child, off, &base, &lo, &hi)) > 0) {
                if (hi <= lo) continue;
                GROW(x->ranges, x->ranges_cap, x->nranges + 1);
                x->ranges[x->nranges++] = (struct scope_range){lo, hi, 0, id, depth};
                any = 1;
            }
            /* without code (an abstract instance or a declaration) nothing
             * below it has code either */
            if (!any) break;
            GROW(x->scopes, x->scopes_cap, x->nscopes + 1);
            struct scope *sc = &x->scopes[x->nscopes++];
            memset(sc, 0, sizeof(*sc));
            sc->die = child;
            sc->parent = parent;
            sc->is_sub = tag == DW_TAG_subprogram;
            sc->func = SP_NONE;
            index_walk(x, &child, id, depth + 1, imports);
            break;
        }
        case DW_TAG_lexical_block:
        case DW_TAG_try_block:
        case DW_TAG_catch_block:
        case DW_TAG_namespace:
        case DW_TAG_module:
        case DW_TAG_class_type:
        case DW_TAG_structure_type:
        case DW_TAG_union_type:
        case DW_TAG_interface_type:
            index_walk(x, &child, parent, depth + 1, imports);
            break;
        case DW_TAG_imported_unit: {
            Dwarf_Attribute at;
            Dwarf_Die unit;
            if (imports < 8 && dwarf_formref_die(dwarf_attr(&child, DW_AT_import, &at), &unit))
                index_walk(x, &unit, parent, depth + 1, imports + 1);
            break;
        }
        default:
            break;
        }
    } while (dwarf_siblingof(&child, &child) == 0);
}

static int range_cmp(const void *a, const void *b)
{
    const struct scope_range *x = a, *y = b;
    if (x->lo != y->lo) return x->lo < y->lo ? -1 : 1;
    return x->depth < y->depth ? -1 : x->depth > y->depth;
}

static struct cu_index *cu_index(struct symmod *sm, Dwarf_Die *cu)
{
    int added;
    uint64_t *v = u64map_put(&sm->cu_ix, dwarf_dieoffset(cu), 0, sm->ncus, &added);
    if (!added) return &sm->cus[*v];
    GROW(sm->cus, sm->cus_cap, sm->ncus + 1);
    struct cu_index *x = &sm->cus[sm->ncus++];
    memset(x, 0, sizeof(*x));
    index_walk(x, cu, SP_NONE, 0, 0);
    if (x->nranges) qsort(x->ranges, x->nranges, sizeof(*x->ranges), range_cmp);
    for (size_t i = 0; i < x->nranges; i++)
        x->ranges[i].reach = i && x->ranges[i - 1].reach > x->ranges[i].hi ? x->ranges[i - 1].reach
                                                                           : x->ranges[i].hi;
    return x;
}

/* The innermost function scope holding DWARF address a, or SP_NONE. Scopes
 * nest, so going back from the last range starting at or before a, the
 * first range that holds a is the innermost (equal starts sort deeper last). */
static uint32_t innermost(const struct cu_index *x, uint64_t a)
{
    size_t lo = 0, hi = x->nranges;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (x->ranges[mid].lo <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i-- > 0 && x->ranges[i].reach > a;)
        if (a < x->ranges[i].hi) return x->ranges[i].scope;
    return SP_NONE;
}

static void resolve_scope(struct sp_symbolizer *s, const char *mod, struct scope *sc)
{
    if (sc->resolved) return;
    sc->resolved = 1;
    struct sp_profile *p = s->p;
    const char *none = strtab_intern(&p->strs, "");
    const char *name = die_name(p, &sc->die);
    if (!name && !sc->is_sub) name = strtab_intern(&p->strs, "[inlined]");
    if (name) {
        const char *df = dwarf_decl_file(&sc->die);
        int dl = 0;
        if (dwarf_decl_line(&sc->die, &dl) != 0 || dl < 0) dl = 0;
        sc->func = func_intern(s, name, mod, df ? src_path(p, comp_dir_of(&sc->die), df) : none,
                               (uint32_t)dl);
    }
    if (!sc->is_sub) {
        sc->call_file = call_file(p, &sc->die);
        sc->call_line = call_line(&sc->die);
    }
}

/* Fills s->inl with the frames of ELF address rel of module mi (innermost
 * first). ret: rel is a return address, look up the call before it. */
static void symbolize_addr(struct sp_symbolizer *s, uint32_t mi, struct symmod *sm, uint64_t rel,
                           int ret)
{
    struct sp_profile *p = s->p;
    const char *mod = p->modules[mi].name;
    const char *none = strtab_intern(&p->strs, "");
    Dwarf_Addr a = (ret && rel ? rel - 1 : rel) + sm->dwfl_bias;
    sm->dwarf_asked = 1;

    const char *cur_file = none;
    uint32_t cur_line = 0;
    Dwfl_Line *ln = dwfl_module_getsrc(sm->mod, a);
    if (ln) {
        int l = 0;
        const char *f = dwfl_lineinfo(ln, NULL, &l, NULL, NULL, NULL);
        if (f && l > 0) {
            cur_file = src_path(p, dwfl_line_comp_dir(ln), f);
            cur_line = (uint32_t)l;
        }
    }

    Dwarf_Addr dbias = 0;
    Dwarf_Die *cu = dwfl_module_addrdie(sm->mod, a, &dbias);
    if (cu) {
        struct cu_index *x = cu_index(sm, cu);
        uint32_t id = innermost(x, a - dbias);
        /* the walk up is bounded: parents come before their children */
        for (size_t guard = 0; id != SP_NONE && guard < x->nscopes; guard++) {
            struct scope *sc = &x->scopes[id];
            resolve_scope(s, mod, sc);
            uint32_t fn = sc->func;
            if (fn == SP_NONE) { /* a subprogram without a name in DWARF */
                const char *name = elf_name(p, sm, a);
                if (!name) break;
                fn = func_intern(s, name, mod, none, 0);
            }
            push_inl(s, frame_intern(s, fn, cur_file, cur_line, !sc->is_sub));
            if (sc->is_sub) return;
            cur_file = sc->call_file;
            cur_line = sc->call_line;
            id = sc->parent;
        }
    }

    const char *name = elf_name(p, sm, a);
    /* a return address at the first byte of a symbol with nothing before
     * it: the kernel's signal frame returns to the C library's
     * __restore_rt, not after a call */
    if (!name && ret && rel) name = elf_name(p, sm, rel + sm->dwfl_bias);
    if (!name) {
        char buf[PATH_MAX + 32];
        snprintf(buf, sizeof(buf), "%s+0x%llx", mod, (unsigned long long)rel);
        name = intern_clean(p, buf);
    }
    push_inl(s, frame_intern(s, func_intern(s, name, mod, none, 0), cur_file, cur_line, 0));
}

/* The frames of address addr of process proc at time t, as an offset into
 * s->chain << 32 | their number. ret: addr is a return address. */
static uint64_t addr_chain(struct sp_symbolizer *s, uint32_t proc, uint64_t addr, int ret,
                           uint64_t t)
{
    struct sp_profile *p = s->p;
    const struct sp_mapping *m = sp_profile_find_map(p, proc, addr, t);
    if (!m || m->module == SP_NONE) return s->c_unknown;
    const struct sp_module *mo = &p->modules[m->module];
    struct symmod *sm = NULL;
    uint64_t rel;
    int fileoff = 0;
    if (mo->kind == SP_MOD_VDSO) {
        sm = load(s, m->module);
        rel = addr - (m->load_bias ? m->load_bias : m->start); /* its ELF starts at 0 */
    } else {
        sm = load(s, m->module);
        uint64_t bias = sm ? fix_bias(sm, m) : m->load_bias;
        if (sm || bias) {
            rel = addr - bias;
        } else {
            rel = addr - m->start + m->offset;
            fileoff = 1;
        }
    }
    uint64_t key = (uint64_t)m->module << 2 | (uint64_t)(ret != 0) << 1 | (uint64_t)fileoff;
    uint64_t *v = u64map_get(&s->addr_cache, key, rel);
    if (!v) {
        s->ninl = 0;
        if (sm) {
            symbolize_addr(s, m->module, sm, rel, ret);
        } else {
            char buf[PATH_MAX + 32];
            snprintf(buf, sizeof(buf), "%s+0x%llx", mo->name, (unsigned long long)rel);
            push_inl(s, named_frame(s, buf, mo->name));
        }
        GROW(s->chain, s->chain_cap, s->nchain + s->ninl);
        for (size_t i = 0; i < s->ninl; i++)
            s->chain[s->nchain + i] = s->inl[s->ninl - 1 - i];
        v = u64map_put(&s->addr_cache, key, rel, (uint64_t)s->nchain << 32 | s->ninl, NULL);
        s->nchain += s->ninl;
    }
    return *v;
}

/* Appends to s->tmp the frames of a chain value (see addr_chain). */
static inline void push_chain(struct sp_symbolizer *s, uint64_t c)
{
    size_t off = (size_t)(c >> 32), n = (size_t)(c & 0xffffffffu);
    if (s->ntmp + n > s->tmp_cap) GROW(s->tmp, s->tmp_cap, s->ntmp + n);
    const uint32_t *from = s->chain + off;
    uint32_t *to = s->tmp + s->ntmp;
    for (size_t i = 0; i < n; i++)
        to[i] = from[i];
    s->ntmp += n;
}

/* The symbolic stack of raw stack r as seen at time t. */
static uint32_t build_stack(struct sp_symbolizer *s, const struct sp_rawstack *r, uint64_t t)
{
    const uint64_t *f = s->p->frames + r->off;
    uint32_t n = r->nframes;
    if (s->p->procs[r->proc].maps_ambiguous) {
        s->has_prev = 0;
        s->ntmp = 0;
        for (uint32_t i = n; i-- > 0;)
            push_chain(s, addr_chain(s, r->proc, f[i], i > 0, t));
    } else {
        /* Stacks come mostly in the order they were sampled, and the one
         * before shares most of its outer frames with this one: s->tmp
         * still holds their frames. Not the leaf of either, which is not a
         * return address. */
        uint32_t k = 0;
        if (s->has_prev && s->prev_proc == r->proc && n && s->prev_n) {
            const uint64_t *g = s->p->frames + s->prev_off + s->prev_n - 1;
            const uint64_t *h = f + n - 1;
            uint32_t lim = (n < s->prev_n ? n : s->prev_n) - 1;
            while (k < lim && h[-(ptrdiff_t)k] == g[-(ptrdiff_t)k])
                k++;
        }
        GROW(s->pref, s->pref_cap, (size_t)n + 1);
        s->pref[0] = 0;
        s->ntmp = s->pref[k];
        for (uint32_t j = k; j < n; j++) {
            uint32_t i = n - 1 - j;
            uint32_t key = (r->proc << 1 | (i > 0)) + 1;
            uint64_t *v = rawaddr_get(s, f[i], key);
            uint64_t c;
            if (v) {
                c = *v;
            } else {
                c = addr_chain(s, r->proc, f[i], i > 0, t);
                rawaddr_put(s, f[i], key, c);
            }
            push_chain(s, c);
            s->pref[j + 1] = s->ntmp;
        }
        s->has_prev = 1;
        s->prev_proc = r->proc;
        s->prev_n = n;
        s->prev_off = r->off;
    }
    if (!s->ntmp) push_tmp(s, s->f_unknown);
    return stack_intern(s, s->tmp, s->ntmp, r->flags);
}

static struct sp_symbolizer *ready(struct sp_profile *p)
{
    struct sp_symbolizer *s = symbolizer(p);
    if (s->f_unknown == SP_NONE) {
        const char *none = strtab_intern(&p->strs, "");
        s->f_unknown = named_frame(s, "[unknown]", none);
        GROW(s->chain, s->chain_cap, s->nchain + 1);
        s->c_unknown = (uint64_t)s->nchain << 32 | 1;
        s->chain[s->nchain++] = s->f_unknown;
        uint32_t missing = named_frame(s, "[missing stack]", none);
        s->s_missing = stack_intern(s, &missing, 1, 0);
    }
    return s;
}

size_t sp_symbolize_addr(struct sp_profile *p, uint32_t proc, uint64_t addr, int is_return,
                         uint64_t t, uint32_t *out, size_t max)
{
    struct sp_symbolizer *s = ready(p);
    s->has_prev = 0;
    s->ntmp = 0;
    push_chain(s, addr_chain(s, proc, addr, is_return, t));
    for (size_t i = 0; i < s->ntmp && i < max; i++)
        out[i] = s->tmp[i];
    return s->ntmp;
}

int sp_symbolize_locate(struct sp_profile *p, uint32_t proc, uint64_t addr, uint64_t t,
                        struct sp_addr_info *out)
{
    memset(out, 0, sizeof(*out));
    out->module = SP_NONE;
    struct sp_symbolizer *s = ready(p);
    const struct sp_mapping *m = sp_profile_find_map(p, proc, addr, t);
    if (!m || m->module == SP_NONE) return -1;
    out->module = m->module;
    struct symmod *sm = load(s, m->module);
    if (p->modules[m->module].kind == SP_MOD_VDSO) {
        out->rel = addr - (m->load_bias ? m->load_bias : m->start);
    } else {
        uint64_t bias = sm ? fix_bias(sm, m) : m->load_bias;
        if (!sm && !bias) {
            out->rel = addr - m->start + m->offset;
            out->file_offset = 1;
            return 0;
        }
        out->rel = addr - bias;
    }
    if (!sm) return 0;
    const struct esym *e = elf_sym(sm, out->rel + sm->dwfl_bias);
    if (e && e->lo >= sm->dwfl_bias) {
        out->has_sym = 1;
        out->sym_start = e->lo - sm->dwfl_bias;
    }
    return 0;
}

void sp_symbolize(struct sp_profile *p)
{
    if (p->symbolized) return;
    struct sp_symbolizer *s = ready(p);
    struct progress pg;
    progress_start(&pg, "symbolizing samples", p->nsamples);
    for (size_t i = 0; i < p->nsamples; i++) {
        progress_update(&pg, i);
        /* samples name raw stacks all over the table: ask for the one of a
         * sample further on now, so that it is in the cache by then */
        if (i + 16 < p->nsamples && p->samples[i + 16].stack < p->nraw)
            __builtin_prefetch(&p->raw[p->samples[i + 16].stack]);
        struct sp_sample *sa = &p->samples[i];
        if (sa->stack == SP_NONE) {
            sa->sym = s->s_missing;
            continue;
        }
        struct sp_rawstack *r = &p->raw[sa->stack];
        uint32_t epoch =
            p->procs[r->proc].maps_ambiguous ? sp_profile_epoch(p, r->proc, sa->time) : 0;
        if (epoch == 0) {
            if (r->sym == SP_NONE) r->sym = build_stack(s, r, sa->time);
            sa->sym = r->sym;
            continue;
        }
        uint64_t *v = u64map_get(&s->epoch_syms, sa->stack, epoch);
        if (!v) {
            uint32_t sym = build_stack(s, r, sa->time);
            v = u64map_put(&s->epoch_syms, sa->stack, epoch, sym, NULL);
        }
        sa->sym = (uint32_t)*v;
    }
    progress_end(&pg);
    p->symbolized = 1;
}

/* Whether elf has a section that makes libdw take it for DWARF (.debug_info,
 * .debug_line or .debug_frame, compressed or not), from the section headers
 * alone. */
static int has_dwarf_sections(Elf *elf)
{
    size_t shstrndx;
    if (elf_getshdrstrndx(elf, &shstrndx) != 0) return 0;
    Elf_Scn *scn = NULL;
    while ((scn = elf_nextscn(elf, scn)) != NULL) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS) continue;
        const char *name = elf_strptr(elf, shstrndx, sh.sh_name);
        if (!name) continue;
        if (strncmp(name, ".zdebug_", 8) == 0)
            name += 2;
        else if (strncmp(name, ".debug_", 7) == 0)
            name += 1;
        else
            continue;
        if (strcmp(name, "debug_info") == 0 || strcmp(name, "debug_line") == 0 ||
            strcmp(name, "debug_frame") == 0)
            return 1;
    }
    return 0;
}

/* has_dwarf_sections of the file at path, and its symbol tables into st. */
static int file_has_dwarf(const char *path, struct sp_module_status *st)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    int r = elf && elf_kind(elf) == ELF_K_ELF && has_dwarf_sections(elf);
    if (r) scan_sections(elf, &st->has_symtab, &st->has_dynsym);
    elf_end(elf);
    close(fd);
    return r;
}

void sp_module_status(struct sp_profile *p, uint32_t module, struct sp_module_status *st)
{
    memset(st, 0, sizeof(*st));
    struct sp_symbolizer *s = symbolizer(p);
    struct symmod *sm = load(s, module);
    st->build_id_mismatch = s->mods[module].mismatch;
    memcpy(st->disk_build_id, s->mods[module].disk_bid, sizeof(st->disk_build_id));
    if (!sm) {
        st->why = s->mods[module].why;
        return;
    }
    st->found = 1;
    st->file = sm->file;
    st->has_symtab = sm->has_symtab;
    st->has_dynsym = sm->has_dynsym;
    if (!sm->syms_built) build_syms(sm);
    st->nfuncs = sm->nsyms;
    const char *mainfile = NULL, *debugfile = NULL;
    dwfl_module_info(sm->mod, NULL, NULL, NULL, NULL, NULL, &mainfile, &debugfile);
    int separate = debugfile && (!mainfile || strcmp(debugfile, mainfile) != 0);
    GElf_Addr ebias;
    Elf *elf = dwfl_module_getelf(sm->mod, &ebias);
    /* Asking libdw for the DWARF decompresses all of it, which cost info
     * (that symbolizes nothing) more than reading a big profile: unless
     * symbolization loaded it already, look at the section headers of the
     * file libdw would take, as it would (the module's own file, then the
     * separate debug file that loading the symbol table looked for when the
     * module has no .symtab). */
    if (!sm->dwarf_asked && elf && has_dwarf_sections(elf)) {
        st->has_dwarf = 1;
        if (separate) st->debug_file = strtab_intern(&p->strs, debugfile);
        return;
    }
    if (!sm->dwarf_asked && elf && !sm->has_symtab) {
        if (separate) {
            st->debug_file = strtab_intern(&p->strs, debugfile);
            st->has_dwarf = file_has_dwarf(debugfile, st);
        }
        return;
    }
    Dwarf_Addr bias;
    Dwarf *dw = dwfl_module_getdwarf(sm->mod, &bias);
    st->has_dwarf = dw != NULL;
    dwfl_module_info(sm->mod, NULL, NULL, NULL, NULL, NULL, &mainfile, &debugfile);
    if (debugfile && (!mainfile || strcmp(debugfile, mainfile) != 0)) {
        st->debug_file = strtab_intern(&p->strs, debugfile);
        Elf *de = dw ? dwarf_getelf(dw) : NULL;
        if (de) scan_sections(de, &st->has_symtab, &st->has_dynsym);
    }
}
