/* SPDX-License-Identifier: MIT */
/* CRC-32C (Castagnoli), as used by the chunk checksum. Safe in any context. */
#ifndef SPROF_CRC32C_H
#define SPROF_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continues crc over n bytes; start with crc = 0. */
uint32_t sprof_crc32c(uint32_t crc, const void *p, size_t n);
/* The same without the CPU's instruction (what sprof_crc32c does where the
 * CPU has none), for the tests. */
uint32_t sprof_crc32c_table(uint32_t crc, const void *p, size_t n);

#endif
