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
 * call, ret, jumps forward) up to the address looked up, and gives the rule
 * there. Anything else (an instruction it does not know, a write to rsp it
 * cannot follow, a jump backwards, code past a ret or jmp that no jump it
 * saw lands on) and it says CFI_NONE: the sample goes on as before. Pure
 * computation on at most CRT_CODE_MAX bytes of the object's code: the
 * signal handler runs it.
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
    int w = rex & 8, rexr = rex & 4 ? 8 : 0, rexb = rex & 1 ? 8 : 0;
    uint8_t op = p[i++];
    unsigned m = 0, reg = 0, rm = 0, mod = 0, imm = 0;
    int has_modrm = 0;
    switch (op) {
    case 0x0f: {
        if (i >= n) return 0;
        uint8_t op2 = p[i++];
        if (op2 == 0x1e || op2 == 0x1f) { /* endbr64, multi-byte nops */
            has_modrm = 1;
            break;
        }
        if (op2 >= 0x80 && op2 <= 0x8f) { /* jcc rel32 */
            if (n - i < 4) return 0;
            in->branch = 1;
            in->rel = (int32_t)((uint32_t)p[i] | (uint32_t)p[i + 1] << 8 |
                                (uint32_t)p[i + 2] << 16 | (uint32_t)p[i + 3] << 24);
            in->len = (unsigned)i + 4;
            return 1;
        }
        return 0;
    }
    case 0x90: /* nop */
        in->len = (unsigned)i;
        return 1;
    case 0x50 ... 0x57: /* push */
        if (opsize) return 0;
        in->adjust = 8;
        in->push_rbp = (op & 7) + (unsigned)rexb == 5;
        in->len = (unsigned)i;
        return 1;
    case 0x58 ... 0x5f:                                         /* pop */
        if (opsize || (op & 7) + (unsigned)rexb == 4) return 0; /* pop %rsp */
        in->adjust = -8;
        in->pop_rbp = (op & 7) + (unsigned)rexb == 5;
        in->len = (unsigned)i;
        return 1;
    case 0xc3: /* ret */
        in->ends = 1;
        in->len = (unsigned)i;
        return 1;
    case 0xe8: /* call rel32 */
    case 0xe9: /* jmp rel32 */
        if (n - i < 4) return 0;
        in->rel = (int32_t)((uint32_t)p[i] | (uint32_t)p[i + 1] << 8 | (uint32_t)p[i + 2] << 16 |
                            (uint32_t)p[i + 3] << 24);
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
    /* ALU and moves with ModRM: the destination is r/m (01 ... 89) or reg */
    case 0x01:
    case 0x09:
    case 0x21:
    case 0x29:
    case 0x31:
    case 0x89:
    case 0x03:
    case 0x0b:
    case 0x23:
    case 0x2b:
    case 0x33:
    case 0x8b:
    case 0x8d:
    case 0x38:
    case 0x39:
    case 0x3a:
    case 0x3b:
    case 0x84:
    case 0x85: /* cmp, test */
        has_modrm = 1;
        break;
    case 0x80:
    case 0x83:
    case 0xc0:
    case 0xc1:
    case 0xc6: /* imm8 */
        has_modrm = 1;
        imm = 1;
        break;
    case 0x81:
    case 0xc7: /* imm32 (imm16 with 0x66) */
        has_modrm = 1;
        imm = opsize ? 2 : 4;
        break;
    case 0xd1:
    case 0xd3: /* shifts by 1, by cl */
    case 0xff:
        has_modrm = 1;
        break;
    case 0x05:
    case 0x0d:
    case 0x25:
    case 0x2d:
    case 0x35:
    case 0x3d: /* op eax, imm32 */
        imm = opsize ? 2 : 4;
        break;
    case 0xb8 ... 0xbf: /* mov $imm, %reg */
        if ((op & 7) + (unsigned)rexb == 4) return 0;
        imm = w ? 8 : opsize ? 2 : 4;
        break;
    default:
        return 0;
    }
    if (has_modrm) {
        m = modrm_len(p + i, n - i);
        if (!m) return 0;
        mod = p[i] >> 6;
        reg = ((p[i] >> 3) & 7) + (unsigned)rexr;
        rm = (p[i] & 7) + (unsigned)rexb;
        i += m;
    }
    if (n - i < imm) return 0;
    in->len = (unsigned)(i + imm);
    int rm_rsp = mod == 3 && rm == 4, reg_rsp = reg == 4;
    switch (op) {
    case 0x01:
    case 0x09:
    case 0x21:
    case 0x29:
    case 0x31:
    case 0x89:
    case 0xc0:
    case 0xc1:
    case 0xc6:
    case 0xc7:
    case 0xd1:
    case 0xd3:
        in->rsp = rm_rsp;
        break;
    case 0x03:
    case 0x0b:
    case 0x23:
    case 0x2b:
    case 0x33:
    case 0x8b:
    case 0x8d:
        in->rsp = has_modrm && reg_rsp;
        break;
    case 0x80:
        in->rsp = rm_rsp && (reg & 7) != 7; /* (cmp writes nothing) */
        break;
    case 0x81:
    case 0x83:
        if (rm_rsp && (reg & 7) != 7) {
            /* add or sub of an immediate to %rsp: followed */
            const uint8_t *v = p + i;
            int32_t x = op == 0x83 ? (int8_t)v[0]
                                   : (int32_t)((uint32_t)v[0] | (uint32_t)v[1] << 8 |
                                               (uint32_t)v[2] << 16 | (uint32_t)v[3] << 24);
            if (!w || opsize || ((reg & 7) != 0 && (reg & 7) != 5))
                in->rsp = 1;
            else
                in->adjust = (reg & 7) == 5 ? x : -x;
        }
        break;
    case 0xff:
        switch (reg & 7) {
        case 2: /* call *r/m */
            break;
        case 4: /* jmp *r/m: a tail call */
            in->ends = 1;
            break;
        default: /* inc, dec, far forms, push r/m */
            return 0;
        }
        break;
    default:
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
