/* SPDX-License-Identifier: MIT */
/*
 * The unwind table lookup (preload/cfi.h): a search of the block index, then
 * of one block of rows, must give what a plain scan of all the rows gives,
 * for tables of every size around the block boundaries, at every row's pc,
 * one below and one above it, before the first row and past the last; and
 * a table whose index lies (a damaged cache file) must still read only
 * within its rows.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../preload/cfi.h"
#include "unit.h"

static struct cfi_table *make_table(uint32_t n, unsigned long long *seed)
{
    struct cfi_table *t = malloc(cfi_table_bytes(n));
    if (!t) return NULL;
    t->nrows = n;
    t->nblocks = cfi_blocks_for(n);
    uint32_t pc = (uint32_t)(unit_rand(seed) % 64);
    for (uint32_t i = 0; i < n; i++) {
        t->row[i].pc = pc;
        t->row[i].rule = (uint32_t)(unit_rand(seed) % 1000) + 10; /* never CFI_NONE's 0 */
        pc += 1 + (uint32_t)(unit_rand(seed) % 40);
    }
    uint32_t *first = (uint32_t *)(void *)&t->row[n];
    for (uint32_t k = 0; k < t->nblocks; k++)
        first[k] = t->row[k * CFI_BLOCK_ROWS].pc;
    return t;
}

static uint32_t scan(const struct cfi_table *t, uint32_t off)
{
    uint32_t rule = CFI_NONE;
    for (uint32_t i = 0; i < t->nrows && t->row[i].pc <= off; i++)
        rule = t->row[i].rule;
    return rule;
}

static void index_matches_scan(void)
{
    unsigned long long seed = 0x5eed;
    const uint32_t sizes[] = {1,
                              2,
                              CFI_BLOCK_ROWS - 1,
                              CFI_BLOCK_ROWS,
                              CFI_BLOCK_ROWS + 1,
                              2 * CFI_BLOCK_ROWS,
                              3 * CFI_BLOCK_ROWS + 7,
                              10000};
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        struct cfi_table *t = make_table(sizes[s], &seed);
        CHECK(t);
        CHECK(t->nblocks == (sizes[s] + CFI_BLOCK_ROWS - 1) / CFI_BLOCK_ROWS);
        uint32_t last = t->row[t->nrows - 1].pc;
        for (uint32_t i = 0; i < t->nrows; i++) {
            uint32_t pc = t->row[i].pc;
            for (int d = -1; d <= 1; d++) {
                uint32_t off = pc + (uint32_t)d;
                if (d < 0 && pc == 0) continue;
                uint32_t got = sprof_cfi_table_rule(t, off), want = scan(t, off);
                if (got != want) free(t);
                CHECKF(got == want, "%u rows, off %u: %u, a scan says %u", sizes[s], off, got,
                       want);
            }
        }
        uint32_t past = sprof_cfi_table_rule(t, last + 1000), none = CFI_NONE;
        uint32_t before = t->row[0].pc ? sprof_cfi_table_rule(t, t->row[0].pc - 1) : none;
        uint32_t top = sprof_cfi_table_rule(t, UINT32_MAX), lastrule = t->row[t->nrows - 1].rule;
        free(t);
        CHECK(past == lastrule && before == none && top == lastrule);
    }
}

/* An index that does not match its rows (a damaged cache file): lookups
 * give some rule, reading nothing outside the table (ASan would say). */
static void damaged_index_stays_in_bounds(void)
{
    unsigned long long seed = 0xbad;
    uint32_t n = 3 * CFI_BLOCK_ROWS + 5;
    struct cfi_table *t = make_table(n, &seed);
    CHECK(t);
    uint32_t *first = (uint32_t *)(void *)&t->row[n];
    for (uint32_t k = 0; k < t->nblocks; k++)
        first[k] = (uint32_t)unit_rand(&seed);
    unsigned long long sum = 0;
    for (int i = 0; i < 100000; i++)
        sum += sprof_cfi_table_rule(t, (uint32_t)unit_rand(&seed));
    for (uint32_t i = 0; i < n; i++)
        t->row[i].pc = (uint32_t)unit_rand(&seed); /* unsorted rows too */
    for (int i = 0; i < 100000; i++)
        sum += sprof_cfi_table_rule(t, (uint32_t)unit_rand(&seed));
    free(t);
    CHECK(sum > 0);
}

int main(void)
{
    unit_prefix = "unit/cfitable";
    RUN(index_matches_scan);
    RUN(damaged_index_stays_in_bounds);
    return unit_done();
}
