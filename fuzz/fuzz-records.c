/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: any bytes as the records of one chunk. The input is
 * wrapped as a valid file (header, then one SPROF_CODEC_NONE chunk with the
 * right checksum), so that every input reaches the record parsers instead
 * of stopping at the CRC check, then goes through the same model builder
 * and views as fuzz-reader (fuzz/model.c), twice: with the plain encodings
 * (header flags 0) and with every encoding libsprof writes (STACKS records,
 * shared stacks, sample columns and steps). Seeds: fuzz/corpus/records, the decompressed payloads
 * of real chunks.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "chunk.h"
#include "crc32c.h"
#include "format.h"
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
    if (size > SPROF_CHUNK_MAX_STORED) return 0;
    const uint32_t flags[] = {0, SPROF_FLAGS_KNOWN};
    for (unsigned i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        struct sprof_buf b;
        sprof_buf_init(&b);
        struct sprof_file_header h = {
            .version = SPROF_VERSION, .flags = flags[i], .session = 1, .pid = 1};
        sprof_file_header_put(&b, &h);
        size_t at = b.len;
        sprof_buf_put_le32(&b, SPROF_CHUNK_MAGIC);
        sprof_buf_put_le32(&b, SPROF_CODEC_NONE);
        sprof_buf_put_le32(&b, (uint32_t)size);
        sprof_buf_put_le32(&b, (uint32_t)size);
        sprof_buf_put_le32(&b, 0);
        if (b.oom || sprof_buf_reserve(&b, 4 + size)) abort();
        uint32_t crc = sprof_crc32c(sprof_crc32c(0, b.data + at, 20), data, size);
        sprof_buf_put_le32(&b, crc);
        sprof_buf_put(&b, data, size);
        fuzz_model(b.data, b.len);
        sprof_buf_release(&b);
    }
    return 0;
}
