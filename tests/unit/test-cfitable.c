/* SPDX-License-Identifier: MIT */
/*
 * The unwind tables (preload/cfi.h, preload/cfitable.c): rows packed with
 * an index of their granules of code, their rules in a dictionary. A
 * lookup (the granule's entry, then a search of its rows) must give what a
 * plain scan of the unpacked rows gives, for tables of every size, sparse
 * and dense (granules of every shift), with gaps between rows small and
 * larger than 64 KiB, at every row's pc, one below and one above it, before
 * the first row and past the last; too many distinct rules are refused;
 * and a table whose contents lie (a damaged cache file) must still read
 * only within it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../preload/cfitable.c"
#include "unit.h"

/* n rows from pc 0-63 up, steps of 1 to maxstep bytes, or with gaps (one
 * step in gap_every) of 40,000-200,000 bytes; rules from nrules values. */
static struct cfi_row *make_rows(uint32_t n, uint32_t nrules, uint32_t maxstep, uint32_t gap_every,
                                 unsigned long long *seed)
{
    struct cfi_row *r = malloc((size_t)n * sizeof(*r));
    if (!r) return NULL;
    uint32_t pc = (uint32_t)(unit_rand(seed) % 64);
    for (uint32_t i = 0; i < n; i++) {
        r[i].pc = pc;
        r[i].rule = (uint32_t)(unit_rand(seed) % nrules) * 7 + 10; /* never CFI_NONE's 0 */
        if (gap_every && unit_rand(seed) % gap_every == 0)
            pc += 40000 + (uint32_t)(unit_rand(seed) % 160000);
        else
            pc += 1 + (uint32_t)(unit_rand(seed) % maxstep);
    }
    return r;
}

static uint32_t scan(const struct cfi_row *r, uint32_t n, uint32_t off)
{
    uint32_t rule = CFI_NONE;
    for (uint32_t i = 0; i < n && r[i].pc <= off; i++)
        rule = r[i].rule;
    return rule;
}

/* Each granule's entry is its first row, the shift the least that gives
 * CFI_GRAN_ROWS rows a granule (or the largest), and each row's offset its
 * pc's in its granule. */
static int granules_well_formed(const struct cfi_table *t, const struct cfi_row *r)
{
    const uint32_t *start = cfi_starts(t);
    uint32_t n = t->nrows, want = n / CFI_GRAN_ROWS ? n / CFI_GRAN_ROWS : 1;
    if (t->shift < CFI_MIN_SHIFT || t->shift > CFI_MAX_SHIFT || t->base & ((1u << t->shift) - 1))
        return 0;
    if (t->ngran != ((r[n - 1].pc - t->base) >> t->shift) + 1 || start[t->ngran] != n) return 0;
    if (t->ngran > want && t->shift != CFI_MAX_SHIFT) return 0;
    uint32_t smaller = t->shift - 1;
    if (t->shift > CFI_MIN_SHIFT && (r[n - 1].pc >> smaller) - (r[0].pc >> smaller) + 1 <= want)
        return 0;
    for (uint32_t i = 0, g = 0; i < n; i++) {
        uint32_t rg = (r[i].pc - t->base) >> t->shift;
        for (; g <= rg; g++)
            if (start[g] != i) return 0;
        if (t->row[i].dpc != ((r[i].pc - t->base) & ((1u << t->shift) - 1))) return 0;
    }
    return 1;
}

static void lookups_match_scan(void)
{
    unsigned long long seed = 0x5eed;
    const uint32_t sizes[] = {1, 2, 3, 15, 16, 17, 33, 511, 512, 513, 1031, 10000};
    const uint32_t steps[] = {1, 4, 40, 3000};
    for (int gaps = 0; gaps < 2; gaps++)
        for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++)
            for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
                uint32_t n = sizes[s];
                struct cfi_row *r = make_rows(n, 1000, steps[k], gaps ? 50 : 0, &seed);
                CHECK(r);
                struct cfi_table *t = sprof_cfi_pack(r, n);
                CHECK(t);
                CHECKF(t->nrows == n && t->nrules <= 1000 && granules_well_formed(t, r),
                       "%u rows (steps %u, gaps %d): shift %u, %u granules", n, steps[k], gaps,
                       t->shift, t->ngran);
                for (uint32_t i = 0; i < n; i++)
                    for (int d = -1; d <= 1; d++) {
                        if (d < 0 && r[i].pc == 0) continue;
                        uint32_t off = r[i].pc + (uint32_t)d;
                        uint32_t got = sprof_cfi_table_rule(t, off), want = scan(r, n, off);
                        CHECKF(got == want, "%u rows (gaps %d), off %u: %u, a scan says %u", n,
                               gaps, off, got, want);
                        /* in a gap, far from both rows */
                        if (d == 1 && i + 1 < n && r[i + 1].pc - r[i].pc > 70000) {
                            off = r[i].pc + 69000;
                            got = sprof_cfi_table_rule(t, off);
                            CHECKF(got == r[i].rule, "in a gap at %u: %u, want %u", off, got,
                                   r[i].rule);
                        }
                    }
                uint32_t last = r[n - 1].pc, lastrule = r[n - 1].rule;
                CHECK(sprof_cfi_table_rule(t, last + 1000) == lastrule);
                CHECK(sprof_cfi_table_rule(t, last + 100000) == lastrule);
                CHECK(sprof_cfi_table_rule(t, UINT32_MAX) == lastrule);
                if (r[0].pc) CHECK(sprof_cfi_table_rule(t, r[0].pc - 1) == CFI_NONE);
                CHECK(sprof_cfi_table_rule(t, 0) == (r[0].pc ? CFI_NONE : r[0].rule));
                free(t);
                free(r);
            }
}

/* 32,768 distinct rules fit in the rows' 15-bit indexes; one more does
 * not (counted whether the rows hold them inline or not). */
static void rules_limit(void)
{
    uint32_t n = CFI_MAX_RULES + 1;
    struct cfi_row *r = malloc((size_t)n * sizeof(*r));
    CHECK(r);
    for (uint32_t i = 0; i < n; i++)
        r[i] = (struct cfi_row){i * 4, i + 1};
    CHECK(sprof_cfi_pack(r, n) == NULL);
    struct cfi_table *t = sprof_cfi_pack(r, n - 1);
    CHECK(t && t->nrules == CFI_MAX_RULES);
    CHECK(sprof_cfi_table_rule(t, (n - 2) * 4 + 1) == n - 1);
    free(t);
    free(r);
}

/* A rule as cfi.h packs it from its fields. */
static uint32_t rule_of(unsigned kind, unsigned rbpw, int cfa8, int rbp8)
{
    return kind | rbpw << 3 | ((uint32_t)cfa8 & 0x1ffffu) << 5 | ((uint32_t)rbp8 & 0x3ffu) << 22;
}

/* A rule whose CFA offset is 0 to 504 and rbp's -64 to +56 is held in its
 * row and read back whole; any other goes to the dictionary; lookups in a
 * table of both kinds match a scan. */
static void inline_rules(void)
{
    const int cfas[] = {0, 1, 2, 63, 64, -1, 1000, -65536};
    const int rbps[] = {0, -1, -2, -8, 7, 8, -9, 511, -512};
    uint32_t n = 0, inl = 0;
    struct cfi_row r[7 * 3 * 8 * 9];
    for (unsigned kind = 0; kind < 7; kind++)
        for (unsigned w = 0; w < 3; w++)
            for (size_t c = 0; c < sizeof(cfas) / sizeof(cfas[0]); c++)
                for (size_t b = 0; b < sizeof(rbps) / sizeof(rbps[0]); b++) {
                    uint32_t rule = rule_of(kind, w, cfas[c], rbps[b]);
                    int fits = cfas[c] >= 0 && cfas[c] <= 63 && rbps[b] >= -8 && rbps[b] <= 7;
                    uint16_t in = cfi_rule_inline(rule);
                    CHECKF(!!in == fits, "rule %#x (cfa/8 %d, rbp/8 %d): inline %#x", rule, cfas[c],
                           rbps[b], in);
                    if (in) CHECK(cfi_rule_from_inline(in) == rule && (in & CFI_INLINE));
                    inl += fits;
                    r[n] = (struct cfi_row){n * 8 + 3, rule};
                    n++;
                }
    struct cfi_table *t = sprof_cfi_pack(r, n);
    CHECK(t && t->nrows == n);
    uint32_t held = 0;
    for (uint32_t i = 0; i < n; i++)
        held += (t->row[i].rule & CFI_INLINE) != 0;
    CHECKF(held == inl, "%u rows hold their rule, %u rules fit", held, inl);
    for (uint32_t off = 0; off < n * 8 + 16; off++)
        CHECKF(sprof_cfi_table_rule(t, off) == scan(r, n, off), "off %u", off);
    free(t);
}

/* A table whose index, rows and rule indexes do not match (a damaged cache
 * file): lookups give some rule, reading nothing outside the table (ASan
 * would say). */
static void damaged_table_stays_in_bounds(void)
{
    unsigned long long seed = 0xbad;
    uint32_t n = 1541;
    struct cfi_row *r = make_rows(n, 50, 40, 100, &seed);
    CHECK(r);
    struct cfi_table *t = sprof_cfi_pack(r, n);
    free(r);
    CHECK(t);
    uint32_t *start = (uint32_t *)(void *)&t->row[n];
    unsigned long long sum = 0;
    for (int round = 0; round < 3; round++) {
        for (uint32_t k = 0; k <= t->ngran; k++)
            start[k] = round ? (uint32_t)unit_rand(&seed) % (2 * n) : n - k % 7;
        for (uint32_t i = 0; round == 2 && i < n; i++) {
            t->row[i].dpc = (uint16_t)unit_rand(&seed); /* unsorted rows */
            t->row[i].rule = (uint16_t)unit_rand(&seed);
        }
        for (int i = 0; i < 100000; i++) {
            uint32_t x = (uint32_t)unit_rand(&seed);
            sum += sprof_cfi_table_rule(t, i % 2 ? x : t->base + x % ((t->ngran + 1) << t->shift));
        }
    }
    free(t);
    CHECK(sum > 0);
}

int main(void)
{
    unit_prefix = "unit/cfitable";
    RUN(lookups_match_scan);
    RUN(rules_limit);
    RUN(inline_rules);
    RUN(damaged_table_stays_in_bounds);
    return unit_done();
}
