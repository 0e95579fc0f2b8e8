/* SPDX-License-Identifier: MIT */
/*
 * Symbolization with libdwfl: raw stacks -> functions, inline frames and
 * source lines, once per unique address.
 *
 * Address semantics: frame 0 of a raw stack is the interrupted instruction
 * and is looked up as is; every other frame is a return address and is
 * looked up at address - 1, inside the call instruction, so that the caller
 * is named with the line of the call. An address is resolved against the
 * process's mapping present at the sample's time, then made ELF-relative
 * with the recorded load bias (computed from the program headers when the
 * recorder could not give one for a shared object or PIE).
 *
 * Names: DWARF first (the subprogram, and each inlined subroutine as a frame
 * of its own), then the ELF symbol table or .dynsym, accepted only when the
 * address lies inside the symbol; otherwise "module+0xOFFSET" (OFFSET is the
 * ELF virtual address for objects we could read or whose load bias is known,
 * else the file offset). C++ and legacy Rust names are demangled. [vdso]
 * frames are "[vdso]+0xOFFSET"; anonymous and JIT memory "[unknown]".
 */
#ifndef SPROF_SYMBOLIZE_H
#define SPROF_SYMBOLIZE_H

#include <stddef.h>
#include <stdint.h>

#include "profile.h"

struct sp_symbolizer;

/* Builds the symbolic side of p (functions, frames, stacks) and sets
 * sample.sym for every sample. Problems with single modules are warnings
 * (once per module) and their frames fall back to module+0xOFFSET. Calling
 * it again does nothing. */
void sp_symbolize(struct sp_profile *p);

/* The frames (ids into p->sframes, outermost first) of one address of
 * process proc at time t, as a stack would show them; is_return: the address
 * is a return address. Stores at most max ids into out and returns how many
 * there are. For tests and tools that look up single addresses. */
size_t sp_symbolize_addr(struct sp_profile *p, uint32_t proc, uint64_t addr, int is_return,
                         uint64_t t, uint32_t *out, size_t max);

/* Where address addr of process proc at time t lies, for per-address
 * reports (annotate): the module (SP_NONE when none), the address in the
 * module's ELF terms (rel: the ELF virtual address, or the file offset when
 * file_offset is set because the module could not be read), and the start
 * of the ELF symbol covering it (has_sym). Returns 0, or -1 when no module
 * holds addr. */
struct sp_addr_info {
    uint32_t module;
    uint64_t rel;
    int file_offset;
    int has_sym;
    uint64_t sym_start;
};
int sp_symbolize_locate(struct sp_profile *p, uint32_t proc, uint64_t addr, uint64_t t,
                        struct sp_addr_info *out);

/* Starts loading, on a second thread, the debug info of the modules that
 * the stacks read so far of process proc run in, so that it overlaps with
 * reading the rest of the profile (the reader calls it once the first
 * stacks of a big file are in, when p->prefetch is set). Does nothing after
 * the first call; symbolization takes what the thread has done. */
void sp_symbolize_prefetch(struct sp_profile *p, uint32_t proc);

/* Frees a symbolizer; accepts NULL. sp_profile_free calls it. */
void sp_symbolizer_free(struct sp_symbolizer *s);

/* What the symbolizer found for one module (loading it if needed). */
struct sp_module_status {
    int found;               /* an ELF file was opened for it */
    int build_id_mismatch;   /* the file on disk is not the profiled one */
    int has_dwarf;           /* DWARF debug info (line numbers, inline frames) */
    int has_symtab;          /* a full symbol table (.symtab) */
    int has_dynsym;          /* at least exported symbols (.dynsym) */
    size_t nfuncs;           /* function symbols defined in the best table */
    const char *file;        /* the file read for symbols, NULL if none */
    const char *debug_file;  /* separate debug file, NULL if none or the same */
    char disk_build_id[129]; /* hex, "" when none */
    const char *why;         /* when !found: why */
};
void sp_module_status(struct sp_profile *p, uint32_t module, struct sp_module_status *st);

/* Hex string of a build-id into out (at least 2 * n + 1 bytes). */
void sp_hex(const uint8_t *b, size_t n, char *out);

#endif
