/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: any bytes as a profile file, through the chunk reader
 * (header, framing, checksums, zstd, salvage) and the analyzer's model
 * builder (records of every type), then the views of `sprof-report info`
 * and `flat`, symbolization included but with no module file opened
 * (fuzz/model.c). Seeds: fuzz/corpus/reader (fuzz/make-corpus.sh writes
 * them). `make fuzz` builds and runs it (README.md, Build).
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_setup();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_model(data, size);
    return 0;
}
