/* SPDX-License-Identifier: MIT */
#include "crc32c.h"

/* Slicing-by-one table, built at compile time would need a generator; the
 * table is computed on first use instead (idempotent, so races are benign). */
static uint32_t table[256];
static volatile int table_ready;

static void make_table(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0x82f63b78u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    __atomic_store_n(&table_ready, 1, __ATOMIC_RELEASE);
}

uint32_t sprof_crc32c(uint32_t crc, const void *p, size_t n)
{
    if (!__atomic_load_n(&table_ready, __ATOMIC_ACQUIRE)) make_table();
    const uint8_t *s = p;
    crc = ~crc;
    while (n--) crc = table[(crc ^ *s++) & 0xff] ^ (crc >> 8);
    return ~crc;
}
