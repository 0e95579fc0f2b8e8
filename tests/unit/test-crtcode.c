/* SPDX-License-Identifier: MIT */
/*
 * The decoder that walks code without call frame information
 * (preload/crtcode.c): crtbegin's four functions and crti's _init as GCC
 * 12 and binutils 2.40 on Debian 12 emit them (a PIE with endbr64, make's
 * without, cc1's non-PIE __do_global_dtors_aux without __cxa_finalize), the
 * rule at every instruction, inside calls (a return address less one), at
 * bytes that start no instruction, in padding no jump reaches; and code it
 * must refuse: backward jumps, writes to rsp it cannot follow, unknown
 * instructions, two paths that disagree.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../preload/crtcode.c"
#include "unit.h"

/* deregister_tm_clones at 0, register_tm_clones at 0x30, __do_global_dtors_aux
 * at 0x70, frame_dummy at 0xb0 (a PIE's, at 0x1130 in the file) */
static const uint8_t pie[] = {
    0x48, 0x8d, 0x3d, 0x01, 0x2f, 0x00, 0x00, 0x48, 0x8d, 0x05, 0xfa, 0x2e, 0x00, 0x00, 0x48, 0x39,
    0xf8, 0x74, 0x15, 0x48, 0x8b, 0x05, 0x7e, 0x2e, 0x00, 0x00, 0x48, 0x85, 0xc0, 0x74, 0x09, 0xff,
    0xe0, 0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00, 0xc3, 0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00,
    0x48, 0x8d, 0x3d, 0xd1, 0x2e, 0x00, 0x00, 0x48, 0x8d, 0x35, 0xca, 0x2e, 0x00, 0x00, 0x48, 0x29,
    0xfe, 0x48, 0x89, 0xf0, 0x48, 0xc1, 0xee, 0x3f, 0x48, 0xc1, 0xf8, 0x03, 0x48, 0x01, 0xc6, 0x48,
    0xd1, 0xfe, 0x74, 0x14, 0x48, 0x8b, 0x05, 0x4d, 0x2e, 0x00, 0x00, 0x48, 0x85, 0xc0, 0x74, 0x08,
    0xff, 0xe0, 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00, 0xc3, 0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00,
    0xf3, 0x0f, 0x1e, 0xfa, 0x80, 0x3d, 0x8d, 0x2e, 0x00, 0x00, 0x00, 0x75, 0x2b, 0x55, 0x48, 0x83,
    0x3d, 0x2a, 0x2e, 0x00, 0x00, 0x00, 0x48, 0x89, 0xe5, 0x74, 0x0c, 0x48, 0x8b, 0x3d, 0x6e, 0x2e,
    0x00, 0x00, 0xe8, 0xb9, 0xfe, 0xff, 0xff, 0xe8, 0x64, 0xff, 0xff, 0xff, 0xc6, 0x05, 0x65, 0x2e,
    0x00, 0x00, 0x01, 0x5d, 0xc3, 0x0f, 0x1f, 0x00, 0xc3, 0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00,
    0xf3, 0x0f, 0x1e, 0xfa, 0xe9, 0x77, 0xff, 0xff, 0xff, 0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00};

/* cc1's __do_global_dtors_aux (not a PIE: no __cxa_finalize) */
static const uint8_t cc1_dtors[] = {0xf3, 0x0f, 0x1e, 0xfa, 0x80, 0x3d, 0x8d, 0x62, 0xd5,
                                    0x01, 0x00, 0x75, 0x13, 0x55, 0x48, 0x89, 0xe5, 0xe8,
                                    0x7a, 0xff, 0xff, 0xff, 0xc6, 0x05, 0x7b, 0x62, 0xd5,
                                    0x01, 0x01, 0x5d, 0xc3, 0x90, 0xc3};

/* crti's _init with a call of __gmon_start__ */
static const uint8_t init[] = {0x48, 0x83, 0xec, 0x08, 0x48, 0x8b, 0x05, 0xc5,
                               0x2f, 0x00, 0x00, 0x48, 0x85, 0xc0, 0x74, 0x02,
                               0xff, 0xd0, 0x48, 0x83, 0xc4, 0x08, 0xc3};

/* at: the offset from the function's start; cfa: rsp + cfa, 0 for CFI_NONE;
 * rbp: the caller's rbp at CFA + rbp, 0 if still in rbp */
struct want {
    unsigned at;
    int cfa, rbp;
};

static int check_rules(const uint8_t *code, size_t n, const struct want *w, size_t nw, int exact)
{
    for (size_t i = 0; i < nw; i++) {
        uint32_t r = sprof_crt_code_rule(code, n, w[i].at, exact);
        int cfa = r == CFI_NONE ? 0 : (int)cfi_cfa_off(r);
        int rbp = r == CFI_NONE || cfi_rbp(r) == CFI_RBP_SAME ? 0 : (int)cfi_rbp_off(r);
        if (r != CFI_NONE && (cfi_kind(r) != CFI_RSP ||
                              (cfi_rbp(r) != CFI_RBP_SAME && cfi_rbp(r) != CFI_RBP_AT_CFA))) {
            printf("# at %#x: rule %#x is not rsp-based\n", w[i].at, r);
            return 0;
        }
        if (cfa != w[i].cfa || rbp != w[i].rbp) {
            printf("# at %#x (exact %d): cfa %d rbp %d, want %d %d\n", w[i].at, exact, cfa, rbp,
                   w[i].cfa, w[i].rbp);
            return 0;
        }
    }
    return 1;
}

#define RULES(code, off, len, exact, ...)                                                          \
    do {                                                                                           \
        static const struct want w_[] = {__VA_ARGS__};                                             \
        CHECK(check_rules((code) + (off), (len), w_, sizeof(w_) / sizeof(w_[0]), (exact)));        \
    } while (0)

static void deregister_tm_clones(void)
{
    /* a leaf that never touches rsp; 0x21 is padding after its tail jump,
     * 0x28 the ret two je's land on */
    RULES(pie, 0, 0x30, 1, {0, 8}, {7, 8}, {0xe, 8}, {0x11, 8}, {0x13, 8}, {0x1a, 8}, {0x1d, 8},
          {0x1f, 8}, {0x21, 0}, {0x28, 8}, {0x29, 0}, {1, 0}, {0x12, 0});
}

static void register_tm_clones(void)
{
    RULES(pie, 0x30, 0x40, 1, {0, 8}, {0x11, 8}, {0x1f, 8}, {0x22, 8}, {0x24, 8}, {0x30, 8},
          {0x32, 0}, {0x38, 8}, {0x39, 0}, {0x25, 0});
}

static void dtors_aux(void)
{
    /* endbr64, cmpb, jne, push %rbp | cmpq, mov %rsp,%rbp, je, mov, call,
     * call, movb, pop %rbp | ret, padding, the ret jne lands on */
    RULES(pie, 0x70, 0x40, 1, {0, 8}, {4, 8}, {0xb, 8}, {0xd, 8}, {0xe, 16, -16}, {0x16, 16, -16},
          {0x19, 16, -16}, {0x1b, 16, -16}, {0x22, 16, -16}, {0x27, 16, -16}, {0x2c, 16, -16},
          {0x33, 16, -16}, {0x34, 8}, {0x35, 0}, {0x38, 8}, {0x39, 0}, {0x10, 0}, {0x2d, 0});
    /* return addresses less one: inside the calls */
    RULES(pie, 0x70, 0x40, 0, {0x26, 16, -16}, {0x2b, 16, -16}, {0x23, 16, -16});
}

static void frame_dummy(void)
{
    RULES(pie, 0xb0, 0x10, 1, {0, 8}, {4, 8}, {9, 0});
}

static void cc1_dtors_aux(void)
{
    RULES(cc1_dtors, 0, sizeof(cc1_dtors), 1, {0, 8}, {4, 8}, {0xb, 8}, {0xd, 8}, {0xe, 16, -16},
          {0x11, 16, -16}, {0x16, 16, -16}, {0x1d, 16, -16}, {0x1e, 8}, {0x1f, 0}, {0x20, 8});
    RULES(cc1_dtors, 0, sizeof(cc1_dtors), 0, {0x15, 16, -16});
}

static void crti_init(void)
{
    RULES(init, 0, sizeof(init), 1, {0, 8}, {4, 16}, {0xb, 16}, {0xe, 16}, {0x10, 16}, {0x12, 16},
          {0x16, 8});
    RULES(init, 0, sizeof(init), 0, {0x11, 16});
}

static void bounds(void)
{
    /* code cut short: an instruction that does not fit is not decoded */
    CHECK(sprof_crt_code_rule(pie + 0x70, 0x20, 0x1b, 1) == CFI_NONE);
    CHECK(sprof_crt_code_rule(pie + 0x70, 0x40, 0x40, 1) == CFI_NONE);
    CHECK(sprof_crt_code_rule(pie + 0x70, 0x40, 0x1000, 0) == CFI_NONE);
    CHECK(sprof_crt_code_rule(pie, 0, 0, 1) == CFI_NONE);
    /* the whole function fits: its last byte is its ret */
    CHECK(sprof_crt_code_rule(cc1_dtors, sizeof(cc1_dtors), 0, 1) != CFI_NONE);
    CHECK(sprof_crt_code_rule(cc1_dtors, sizeof(cc1_dtors) - 1, 0, 1) == CFI_NONE);
}

static void refused(void)
{
    /* a backward jump anywhere in the function, before at or after it (a
     * loop could reach at with another depth) */
    static const uint8_t back[] = {0x55, 0x90, 0x75, 0xfd, 0x5d, 0xc3};
    CHECK(sprof_crt_code_rule(back, sizeof(back), 1, 1) == CFI_NONE);
    CHECK(sprof_crt_code_rule(back, sizeof(back), 4, 1) == CFI_NONE);
    static const uint8_t loop[] = {0x55, 0x90, 0x53, 0xeb, 0xfc};
    CHECK(sprof_crt_code_rule(loop, sizeof(loop), 1, 1) == CFI_NONE);
    /* a jcc past what can be read: the function goes on there */
    static const uint8_t far[] = {0x55, 0x0f, 0x84, 0x00, 0x10, 0x00, 0x00, 0x5d, 0xc3};
    CHECK(sprof_crt_code_rule(far, sizeof(far), 1, 1) == CFI_NONE);
    /* writes to rsp it cannot follow: mov %rbp,%rsp; and $-16,%rsp; lea;
     * pop %rsp; sub $8,%esp (32 bits) */
    static const uint8_t mov[] = {0x55, 0x48, 0x89, 0xec, 0x5d, 0xc3};
    CHECK(sprof_crt_code_rule(mov, sizeof(mov), 1, 1) == CFI_NONE);
    CHECK(sprof_crt_code_rule(mov, sizeof(mov), 4, 1) == CFI_NONE);
    static const uint8_t and[] = {0x48, 0x83, 0xe4, 0xf0, 0xc3};
    CHECK(sprof_crt_code_rule(and, sizeof(and), 4, 1) == CFI_NONE);
    static const uint8_t lea[] = {0x48, 0x8d, 0x64, 0x24, 0x08, 0xc3};
    CHECK(sprof_crt_code_rule(lea, sizeof(lea), 5, 1) == CFI_NONE);
    static const uint8_t poprsp[] = {0x5c, 0xc3};
    CHECK(sprof_crt_code_rule(poprsp, sizeof(poprsp), 1, 1) == CFI_NONE);
    static const uint8_t sub32[] = {0x83, 0xec, 0x08, 0xc3};
    CHECK(sprof_crt_code_rule(sub32, sizeof(sub32), 3, 1) == CFI_NONE);
    /* push r/m, an instruction it does not know (syscall) */
    static const uint8_t pushm[] = {0xff, 0x35, 0, 0, 0, 0, 0xc3};
    CHECK(sprof_crt_code_rule(pushm, sizeof(pushm), 6, 1) == CFI_NONE);
    static const uint8_t sys[] = {0x0f, 0x05, 0xc3};
    CHECK(sprof_crt_code_rule(sys, sizeof(sys), 2, 1) == CFI_NONE);
    /* two ways to the ret, one with rbp pushed: je over the push */
    static const uint8_t split[] = {0x74, 0x01, 0x55, 0xc3};
    CHECK(sprof_crt_code_rule(split, sizeof(split), 3, 1) == CFI_NONE);
    /* rbp's slot given back by an add to rsp, not a pop */
    static const uint8_t freed[] = {0x55, 0x48, 0x83, 0xc4, 0x08, 0xc3};
    CHECK(sprof_crt_code_rule(freed, sizeof(freed), 5, 1) == CFI_NONE);
    /* a pop of rbp from another slot than its push's */
    static const uint8_t slot[] = {0x55, 0x53, 0x5d, 0x5b, 0xc3};
    CHECK(sprof_crt_code_rule(slot, sizeof(slot), 3, 1) == CFI_NONE);
    /* r12 (REX.B) is not rsp: push %r12; sub $8,%r12 is followed */
    static const uint8_t r12[] = {0x41, 0x54, 0x49, 0x83, 0xec, 0x08, 0x41, 0x5c, 0xc3};
    uint32_t r = sprof_crt_code_rule(r12, sizeof(r12), 6, 1);
    CHECK(r != CFI_NONE && cfi_cfa_off(r) == 16);
    r = sprof_crt_code_rule(r12, sizeof(r12), 8, 1);
    CHECK(r != CFI_NONE && cfi_cfa_off(r) == 8);
}

/* Random bytes, each buffer allocated to its exact length (a sanitizer
 * build catches any read past it): every answer is CFI_NONE or an
 * rsp-based rule with the CFA above the return address. */
static void random_code(void)
{
    unsigned long long seed = 0x5eed;
    unsigned rules = 0;
    for (int round = 0; round < 20000; round++) {
        size_t n = 1 + unit_rand(&seed) % CRT_CODE_MAX;
        uint8_t *code = malloc(n);
        CHECK(code);
        /* mostly the decoder's own vocabulary, so that it goes far */
        static const uint8_t common[] = {0x48, 0x55, 0x5d, 0x53, 0x5b, 0x83, 0x89,
                                         0x8b, 0x74, 0xeb, 0xe8, 0xc3, 0x90, 0x0f,
                                         0x1f, 0x66, 0xf3, 0xff, 0xec, 0xc4};
        for (size_t i = 0; i < n; i++)
            code[i] = unit_rand(&seed) % 3 ? common[unit_rand(&seed) % sizeof(common)]
                                           : (uint8_t)unit_rand(&seed);
        size_t at = unit_rand(&seed) % (n + 4);
        uint32_t r = sprof_crt_code_rule(code, n, at, (int)(unit_rand(&seed) & 1));
        uintptr_t t[CFI_CRT_FUNCS];
        sprof_crt_code_targets(code, n, 0x1000, t, CFI_CRT_FUNCS);
        free(code);
        if (r == CFI_NONE) continue;
        rules++;
        CHECKF(cfi_kind(r) == CFI_RSP && cfi_cfa_off(r) >= 8 && cfi_cfa_off(r) % 8 == 0,
               "rule %#x at %zu of %zu bytes", r, at, n);
        /* rbp saved above the return address, and not below rsp */
        CHECKF(cfi_rbp(r) == CFI_RBP_SAME ||
                   (cfi_rbp(r) == CFI_RBP_AT_CFA && cfi_rbp_off(r) <= -16 &&
                    cfi_rbp_off(r) >= -cfi_cfa_off(r)),
               "rule %#x (cfa %lld, rbp %lld) at %zu of %zu bytes", r, (long long)cfi_cfa_off(r),
               (long long)cfi_rbp_off(r), at, n);
    }
    CHECKF(rules > 100, "only %u of 20000 random buffers gave a rule", rules);
}

static void targets(void)
{
    uintptr_t t[8];
    /* __do_global_dtors_aux calls __cxa_finalize@plt and deregister_tm_clones */
    size_t n = sprof_crt_code_targets(pie + 0x70, 0x40, 0x11a0, t, 8);
    CHECK(n == 2 && t[0] == 0x1080 && t[1] == 0x1130);
    /* frame_dummy jumps to register_tm_clones */
    n = sprof_crt_code_targets(pie + 0xb0, 0x10, 0x11e0, t, 8);
    CHECK(n == 1 && t[0] == 0x1160);
    n = sprof_crt_code_targets(pie + 0x70, 0x40, 0x11a0, t, 1);
    CHECK(n == 1 && t[0] == 0x1080);
    /* the jcc within a function is no target */
    n = sprof_crt_code_targets(pie, 0x30, 0x1130, t, 8);
    CHECK(n == 0);
}

int main(void)
{
    unit_prefix = "unit/crtcode";
    RUN(deregister_tm_clones);
    RUN(register_tm_clones);
    RUN(dtors_aux);
    RUN(frame_dummy);
    RUN(cc1_dtors_aux);
    RUN(crti_init);
    RUN(bounds);
    RUN(refused);
    RUN(random_code);
    RUN(targets);
    return unit_done();
}
