/* SPDX-License-Identifier: MIT */
/*
 * Packing an object's unwind rows into the table the handler searches
 * (cfi.h): rows of 4 bytes, an index of their granules of code, the rules
 * in the rows where they fit and in a sorted dictionary. Writer thread only
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

/* The least shift that gives the rows' span CFI_GRAN_ROWS rows a granule
 * on average (or CFI_MAX_SHIFT), and its granules' count. */
static uint32_t granules(const struct cfi_row *rows, uint32_t n, uint32_t *shift)
{
    uint32_t want = n / CFI_GRAN_ROWS ? n / CFI_GRAN_ROWS : 1, s = CFI_MIN_SHIFT, ng;
    for (;; s++) {
        ng = (rows[n - 1].pc >> s) - (rows[0].pc >> s) + 1;
        if (ng <= want || s == CFI_MAX_SHIFT) break;
    }
    *shift = s;
    return ng;
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
    uint32_t shift, ngran = granules(rows, n, &shift);
    struct cfi_table *t = nrules > CFI_MAX_RULES ? NULL : malloc(cfi_table_bytes(n, ngran, nrules));
    if (!t) {
        free(rules);
        return NULL;
    }
    t->nrows = n;
    t->ngran = ngran;
    t->nrules = nrules;
    t->shift = shift;
    t->base = rows[0].pc >> shift << shift;
    uint32_t *start = (uint32_t *)(void *)&t->row[n];
    memcpy(start + ngran + 1, rules, (size_t)nrules * sizeof(uint32_t));
    for (uint32_t i = 0, g = 0; i < n; i++) {
        uint32_t rg = (rows[i].pc - t->base) >> shift;
        while (g <= rg) /* granules from g to rg start at row i */
            start[g++] = i;
        t->row[i].dpc = (uint16_t)((rows[i].pc - t->base) & ((1u << shift) - 1));
        uint16_t c = cfi_rule_inline(rows[i].rule);
        t->row[i].rule = c ? c : (uint16_t)rule_index(rules, nrules, rows[i].rule);
    }
    start[ngran] = n;
    free(rules);
    return t;
}
