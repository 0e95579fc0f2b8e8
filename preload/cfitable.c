/* SPDX-License-Identifier: MIT */
/*
 * Packing an object's unwind rows into the table the handler searches
 * (cfi.h): rows of 4 bytes in blocks of at most CFI_BLOCK_ROWS rows within
 * 64 KiB of code, their rules in a sorted dictionary. Writer thread only
 * (it allocates); the unit test (tests/unit/test-cfitable.c) includes it.
 */
#include <stdlib.h>
#include <string.h>

#include "cfi.h"

static int u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* The index of rule in the sorted rules[0, n) (it is there). */
static uint32_t rule_index(const uint32_t *rules, uint32_t n, uint32_t rule)
{
    uint32_t lo = 0, hi = n;
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (rules[mid] <= rule)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* Does row i start a new block, the current one starting at row b? */
static int starts_block(const struct cfi_row *rows, uint32_t i, uint32_t b)
{
    return i == 0 || i - b == CFI_BLOCK_ROWS || rows[i].pc - rows[b].pc > 0xffffu;
}

struct cfi_table *sprof_cfi_pack(const struct cfi_row *rows, uint32_t n)
{
    if (!n) return NULL;
    /* the distinct rules, sorted */
    uint32_t *rules = malloc((size_t)n * sizeof(uint32_t));
    if (!rules) return NULL;
    for (uint32_t i = 0; i < n; i++)
        rules[i] = rows[i].rule;
    qsort(rules, n, sizeof(uint32_t), u32_cmp);
    uint32_t nrules = 1;
    for (uint32_t i = 1; i < n; i++)
        if (rules[i] != rules[nrules - 1]) rules[nrules++] = rules[i];
    uint32_t nblocks = 0;
    for (uint32_t i = 0, b = 0; i < n; i++)
        if (starts_block(rows, i, b)) {
            b = i;
            nblocks++;
        }
    struct cfi_table *t =
        nrules > CFI_MAX_RULES ? NULL : malloc(cfi_table_bytes(n, nblocks, nrules));
    if (!t) {
        free(rules);
        return NULL;
    }
    t->nrows = n;
    t->nblocks = nblocks;
    t->nrules = nrules;
    t->reserved = 0;
    uint32_t *first = (uint32_t *)(void *)&t->row[n], *start = first + nblocks;
    memcpy(start + nblocks + 1, rules, (size_t)nrules * sizeof(uint32_t));
    uint32_t k = 0;
    for (uint32_t i = 0, b = 0; i < n; i++) {
        if (starts_block(rows, i, b)) {
            b = i;
            first[k] = rows[i].pc;
            start[k++] = i;
        }
        t->row[i].dpc = (uint16_t)(rows[i].pc - rows[b].pc);
        t->row[i].rule = (uint16_t)rule_index(rules, nrules, rows[i].rule);
    }
    start[nblocks] = n;
    free(rules);
    return t;
}
