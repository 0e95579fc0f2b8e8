/* SPDX-License-Identifier: MIT */
/*
 * What the fuzz targets share (fuzz/model.c): one pass of the analyzer over a
 * profile held in memory, as `sprof-report info` and `flat` make it, with
 * the model's invariants checked. A broken invariant aborts, which libFuzzer
 * reports as a crash with the input that caused it.
 */
#ifndef SPROF_FUZZ_H
#define SPROF_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* Quiets the analyzer's warnings (SPROF_FUZZ_VERBOSE=1 keeps them) and
 * sends stdout to /dev/null; call from LLVMFuzzerInitialize. */
void fuzz_setup(void);

/* Walks the chunks and records of data[0..size) with the bare reader, then
 * reads it into a model (twice, as two merged files), and takes the views
 * info and flat take: totals, threads, mappings, module status, one filter,
 * symbolization and aggregation. Modules are never opened: the fuzzers test
 * the parsers of our format; ELF and DWARF input is tested by
 * tests/e2e/211-corrupt-elf.sh. */
void fuzz_model(const uint8_t *data, size_t size);

#endif
