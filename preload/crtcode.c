/* SPDX-License-Identifier: MIT */
/*
 * Code without call frame information that every GCC-built object carries:
 * crti.o's _init and _fini (DT_INIT, DT_FINI) and crtbegin's
 * deregister_tm_clones, register_tm_clones, __do_global_dtors_aux (the
 * first entry of DT_FINI_ARRAY) and frame_dummy (of DT_INIT_ARRAY), which
 * run at every start and end of a program and at every dlopen and dlclose
 * of a library. A sample in them (the destructors __cxa_finalize runs
 * under __do_global_dtors_aux at the exit) would go to libunwind, which
 * cannot walk them either.
 *
 * The walker knows such a function by its instructions: from its first
 * byte, a decoder that knows the few instructions these functions are made
 * of follows what each does to rsp (push, pop, sub and add of an immediate,
 * call, ret, jumps forward) over the whole function, and gives the rule at
 * the address looked up. Anything else (an instruction it does not know, a
 * write to rsp it cannot follow, a jump backwards, code past a ret or jmp
 * that no jump it saw lands on) and it says CFI_NONE: the sample goes on as
 * before. Pure computation on at most CRT_CODE_MAX bytes of the object's
 * code (copied by the caller): the signal handler runs it.
 */
#include <stddef.h>
#include <stdint.h>

#include "cfi.h"

#define CRT_TARGETS 8

struct crt_state {
    int32_t depth;  /* bytes pushed since the function's entry */
    int32_t rbp_at; /* the caller's rbp at CFA + rbp_at; 0: still in rbp */
};

struct crt_insn {
    unsigned len;
    int rsp;        /* writes rsp (or spl) in a way not followed */
    int32_t adjust; /* added to the depth */
    int push_rbp, pop_rbp;
    int ends;   /* ret or an unconditional jump: what follows is unknown */
    int branch; /* a direct jump: target = next + rel */
    int32_t rel;
    int call; /* a direct call: target = next + rel */
};

/* The length of a ModRM operand (the ModRM byte, SIB and displacement)
 * starting at p, 0 if past n. */
static unsigned modrm_len(const uint8_t *p, size_t n)
{
    if (n < 1) return 0;
    unsigned mod = p[0] >> 6, rm = p[0] & 7, len = 1;
    if (mod == 3) return 1;
    if (rm == 4) {
        if (n < 2) return 0;
        len++;
        if (mod == 0 && (p[1] & 7) == 5) len += 4;
    } else if (mod == 0 && rm == 5) {
        len += 4; /* rip-relative */
    }
    len += mod == 1 ? 1 : mod == 2 ? 4 : 0;
    return len <= n ? len : 0;
}

static int32_t rel32(const uint8_t *v)
{
    return (int32_t)((uint32_t)v[0] | (uint32_t)v[1] << 8 | (uint32_t)v[2] << 16 |
                     (uint32_t)v[3] << 24);
}

/* One-byte opcodes with a ModRM operand or an immediate that need no case
 * of their own: what follows the opcode, and which operand they write. */
enum { OP_M = 1, OP_I8 = 2, OP_I32 = 4, OP_W_RM = 8, OP_W_REG = 16 };
static const uint8_t op_form[256] = {
    /* add, or, and, sub, xor, mov to r/m; the same to reg, and lea */
    [0x01] = OP_M | OP_W_RM,
    [0x09] = OP_M | OP_W_RM,
    [0x21] = OP_M | OP_W_RM,
    [0x29] = OP_M | OP_W_RM,
    [0x31] = OP_M | OP_W_RM,
    [0x89] = OP_M | OP_W_RM,
    [0x03] = OP_M | OP_W_REG,
    [0x0b] = OP_M | OP_W_REG,
    [0x23] = OP_M | OP_W_REG,
    [0x2b] = OP_M | OP_W_REG,
    [0x33] = OP_M | OP_W_REG,
    [0x8b] = OP_M | OP_W_REG,
    [0x8d] = OP_M | OP_W_REG,
    /* cmp, test */
    [0x38] = OP_M,
    [0x39] = OP_M,
    [0x3a] = OP_M,
    [0x3b] = OP_M,
    [0x84] = OP_M,
    [0x85] = OP_M,
    /* shifts, mov of an immediate to r/m */
    [0xc0] = OP_M | OP_I8 | OP_W_RM,
    [0xc1] = OP_M | OP_I8 | OP_W_RM,
    [0xd1] = OP_M | OP_W_RM,
    [0xd3] = OP_M | OP_W_RM,
    [0xc6] = OP_M | OP_I8 | OP_W_RM,
    [0xc7] = OP_M | OP_I32 | OP_W_RM,
    /* add, or, and, sub, xor, cmp of an immediate to eax */
    [0x05] = OP_I32,
    [0x0d] = OP_I32,
    [0x25] = OP_I32,
    [0x2d] = OP_I32,
    [0x35] = OP_I32,
    [0x3d] = OP_I32,
    /* group 1 (an immediate to r/m: its /reg says which), group 5 */
    [0x80] = OP_M | OP_I8,
    [0x83] = OP_M | OP_I8,
    [0x81] = OP_M | OP_I32,
    [0xff] = OP_M,
};

/* Decodes one instruction at p (n bytes readable): 0 if unknown. */
static int crt_decode(const uint8_t *p, size_t n, struct crt_insn *in)
{
    size_t i = 0;
    int opsize = 0, rex = 0;
    *in = (struct crt_insn){0};
    while (i < n && i < 4 && (p[i] == 0x66 || p[i] == 0x2e || p[i] == 0xf3)) {
        opsize |= p[i] == 0x66;
        i++;
    }
    if (i < n && (p[i] & 0xf0) == 0x40) rex = p[i++];
    if (i >= n) return 0;
    int w = rex & 8;
    unsigned rexr = rex & 4 ? 8 : 0, rexb = rex & 1 ? 8 : 0;
    uint8_t op = p[i++];
    unsigned form = op_form[op];
    switch (op) {
    case 0x0f:
        if (i >= n) return 0;
        if (p[i] == 0x1e || p[i] == 0x1f) { /* endbr64, multi-byte nops */
            i++;
            form = OP_M;
            break;
        }
        if (p[i] >= 0x80 && p[i] <= 0x8f && n - i >= 5) { /* jcc rel32 */
            in->branch = 1;
            in->rel = rel32(p + i + 1);
            in->len = (unsigned)i + 5;
            return 1;
        }
        return 0;
    case 0x90: /* nop */
        in->len = (unsigned)i;
        return 1;
    case 0x50 ... 0x57:                               /* push */
    case 0x58 ... 0x5f:                               /* pop */
        if (opsize || (op & 7) + rexb == 4) return 0; /* (push %rsp, pop %rsp) */
        in->adjust = op < 0x58 ? 8 : -8;
        in->push_rbp = op < 0x58 && (op & 7) + rexb == 5;
        in->pop_rbp = op >= 0x58 && (op & 7) + rexb == 5;
        in->len = (unsigned)i;
        return 1;
    case 0xc3: /* ret */
        in->ends = 1;
        in->len = (unsigned)i;
        return 1;
    case 0xe8: /* call rel32 */
    case 0xe9: /* jmp rel32 */
        if (n - i < 4) return 0;
        in->rel = rel32(p + i);
        in->call = op == 0xe8;
        in->branch = in->ends = op == 0xe9;
        in->len = (unsigned)i + 4;
        return 1;
    case 0xeb:          /* jmp rel8 */
    case 0x70 ... 0x7f: /* jcc rel8 */
        if (n - i < 1) return 0;
        in->rel = (int8_t)p[i];
        in->branch = 1;
        in->ends = op == 0xeb;
        in->len = (unsigned)i + 1;
        return 1;
    case 0xb8 ... 0xbf: /* mov $imm, %reg */
        if ((op & 7) + rexb == 4) return 0;
        unsigned imm = w ? 8 : opsize ? 2 : 4;
        if (n - i < imm) return 0;
        in->len = (unsigned)(i + imm);
        return 1;
    default:
        if (!form) return 0;
    }
    unsigned mod = 3, reg = 0, rm = 0,
             imm = form & OP_I8    ? 1
                   : form & OP_I32 ? (opsize ? 2 : 4)
                                   : 0;
    if (form & OP_M) {
        unsigned m = modrm_len(p + i, n - i);
        if (!m) return 0;
        mod = p[i] >> 6;
        reg = ((p[i] >> 3) & 7) + rexr;
        rm = (p[i] & 7) + rexb;
        i += m;
    }
    if (n - i < imm) return 0;
    in->len = (unsigned)(i + imm);
    int rm_rsp = (form & OP_M) && mod == 3 && rm == 4;
    in->rsp = ((form & OP_W_RM) && rm_rsp) || ((form & OP_W_REG) && reg == 4);
    switch (op) {
    case 0x80:
    case 0x81:
    case 0x83:
        if (!rm_rsp || (reg & 7) == 7) break; /* (cmp writes nothing) */
        /* add or sub of an immediate to rsp, 64 bits: followed */
        if (op == 0x80 || !w || opsize || ((reg & 7) != 0 && (reg & 7) != 5)) {
            in->rsp = 1;
            break;
        }
        int32_t x = op == 0x83 ? (int8_t)p[i] : rel32(p + i);
        in->adjust = (reg & 7) == 5 ? x : -x;
        break;
    case 0xff:
        if ((reg & 7) == 4) /* jmp *r/m: a tail call */
            in->ends = 1;
        else if ((reg & 7) != 2) /* (call *r/m) inc, dec, far forms, push r/m */
            return 0;
        break;
    }
    return 1;
}

/* The rule at code + at (the interrupted instruction if exact, else a
 * return address less one, inside the call) of the function that starts at
 * code, n bytes of it readable: CFI_NONE if the decoder cannot tell. The
 * whole function is decoded, up to the ret or jmp after which no jump
 * lands: one jump backwards anywhere, or one instruction it does not know,
 * and it cannot tell (a loop could reach at with another depth). */
uint32_t sprof_crt_code_rule(const uint8_t *code, size_t n, size_t at, int exact)
{
    struct {
        size_t pos;
        struct crt_state st;
    } tgt[CRT_TARGETS];
    unsigned ntgt = 0;
    struct crt_state st = {0, 0};
    int known = 1, found = 0;
    uint32_t rule = CFI_NONE;
    size_t pos = 0;
    if (n > CRT_CODE_MAX) n = CRT_CODE_MAX;
    while (pos < n) {
        int ahead = 0; /* a jump lands here or further on */
        for (unsigned k = 0; k < ntgt; k++) {
            if (tgt[k].pos == pos) {
                if (known && (tgt[k].st.depth != st.depth || tgt[k].st.rbp_at != st.rbp_at))
                    return CFI_NONE; /* two ways here that disagree */
                st = tgt[k].st;
                known = 1;
            }
            ahead |= tgt[k].pos >= pos;
        }
        if (!known && !ahead) break; /* the function's end */
        struct crt_insn in;
        if (!crt_decode(code + pos, n - pos, &in)) return CFI_NONE;
        if (!found && at < pos + in.len) {
            /* padding no jump reaches, or inside an instruction */
            if (!known || (exact && at != pos)) return CFI_NONE;
            found = 1;
            rule = CFI_RSP | (uint32_t)(8 + st.depth) / 8 << 5;
            if (st.rbp_at) rule |= (uint32_t)CFI_RBP_AT_CFA << 3 | (uint32_t)(st.rbp_at / 8) << 22;
        }
        if (known) {
            if (in.rsp) return CFI_NONE;
            if (in.branch) {
                int64_t to = (int64_t)(pos + in.len) + in.rel;
                if (to >= 0 && to <= (int64_t)pos) return CFI_NONE; /* backwards */
                if (to > (int64_t)pos && (uint64_t)to < n) {
                    if (ntgt == CRT_TARGETS) return CFI_NONE;
                    tgt[ntgt].pos = (size_t)to;
                    tgt[ntgt++].st = st;
                } else if (!in.ends) {
                    return CFI_NONE; /* the function goes on where it cannot see */
                }                    /* (else a tail call: frame_dummy's) */
            }
            if (in.push_rbp && !st.rbp_at) st.rbp_at = -(16 + st.depth);
            if (in.pop_rbp && st.rbp_at) {
                if (st.rbp_at != -(8 + st.depth)) return CFI_NONE; /* not its slot */
                st.rbp_at = 0;
            }
            st.depth += in.adjust;
            if (st.depth < 0 || st.depth % 8 || st.depth > 4096) return CFI_NONE;
            if (st.rbp_at && -st.rbp_at > 8 + st.depth) return CFI_NONE; /* rbp's slot freed */
            if (in.ends) known = 0;
        }
        pos += in.len;
    }
    /* cut short by n, the rest of the function unknown? */
    int more = known;
    for (unsigned k = 0; k < ntgt; k++)
        more |= tgt[k].pos >= pos;
    return found && !more ? rule : CFI_NONE;
}

/* The targets of the direct calls and jumps of the first n bytes (at most
 * CRT_CODE_MAX) of the function at code, which is at address base, into
 * out (at most max): where crtbegin's functions find the tm_clones ones. */
size_t sprof_crt_code_targets(const uint8_t *code, size_t n, uintptr_t base, uintptr_t *out,
                              size_t max)
{
    size_t pos = 0, k = 0;
    if (n > CRT_CODE_MAX) n = CRT_CODE_MAX;
    while (pos < n && k < max) {
        struct crt_insn in;
        if (!crt_decode(code + pos, n - pos, &in)) break;
        pos += in.len;
        /* calls, and jumps of 32 bits (tail calls, not a jcc within) */
        if (in.call || (in.branch && in.ends && in.len >= 5))
            out[k++] = base + pos + (uintptr_t)(intptr_t)in.rel;
        if (in.ends) break;
    }
    return k;
}
