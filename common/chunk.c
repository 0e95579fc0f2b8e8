/* SPDX-License-Identifier: MIT */
#include "chunk.h"

#include <stdio.h>
#include <string.h>
#include <zstd.h>

#include "crc32c.h"
#include "format.h"

void sprof_file_header_put(struct sprof_buf *out, const struct sprof_file_header *h)
{
    sprof_buf_put(out, SPROF_MAGIC, SPROF_MAGIC_LEN);
    sprof_buf_put_le16(out, h->version);
    sprof_buf_put_le16(out, SPROF_FILE_HEADER_SIZE);
    sprof_buf_put_le32(out, h->flags);
    sprof_buf_put_le64(out, h->session);
    sprof_buf_put_le32(out, h->pid);
    sprof_buf_put_le32(out, 0);
}

void sprof_chunk_encoder_init(struct sprof_chunk_encoder *e, const struct sprof_zstd_api *z,
                              int level, size_t min_size)
{
    memset(e, 0, sizeof(*e));
    e->z = z;
    e->level = level;
    e->min_size = min_size;
}

void sprof_chunk_encoder_release(struct sprof_chunk_encoder *e)
{
    if (e->cctx) e->z->free_cctx(e->cctx);
    e->cctx = NULL;
}

static void put_chunk_header(uint8_t *h, uint32_t codec, uint32_t stored, uint32_t raw,
                             uint32_t seq)
{
    uint32_t v[5] = {SPROF_CHUNK_MAGIC, codec, stored, raw, seq};
    for (int i = 0; i < 5; i++)
        for (int k = 0; k < 4; k++) h[4 * i + k] = (uint8_t)(v[i] >> (8 * k));
}

/* The chunk's header and CRC around the payload already at h + 24. */
static void seal(uint8_t *h, uint32_t codec, size_t stored, size_t raw, uint32_t seq)
{
    put_chunk_header(h, codec, (uint32_t)stored, (uint32_t)raw, seq);
    uint32_t crc = sprof_crc32c(0, h, 20);
    crc = sprof_crc32c(crc, h + SPROF_CHUNK_HEADER_SIZE, stored);
    for (int k = 0; k < 4; k++) h[20 + k] = (uint8_t)(crc >> (8 * k));
}

/* Sets c to zstd's level with tables of 2^table_log entries at most. */
static int set_compressor(const struct sprof_chunk_encoder *e, void *c, int level, int table_log)
{
    const int set[][2] = {{ZSTD_c_compressionLevel, level},
                          {ZSTD_c_hashLog, table_log},
                          {ZSTD_c_chainLog, table_log}};
    for (size_t i = 0; i < sizeof(set) / sizeof(set[0]); i++)
        if (e->z->is_error(e->z->set_parameter(c, set[i][0], set[i][1]))) return -1;
    return 0;
}

/* e's compressor, made or set for a chunk of n bytes: at e's level, its
 * tables capped (SPROF_ZSTD_TABLE_LOG), or for a quick last chunk. */
static void *compressor(struct sprof_chunk_encoder *e, size_t n)
{
    int quick = e->last && n < SPROF_ZSTD_QUICK_MAX && (!e->cctx || e->quick);
    if (e->cctx && quick == e->quick) return e->cctx;
    if (!e->cctx && !(e->cctx = e->z->create_cctx())) return NULL;
    if (quick ? set_compressor(e, e->cctx, SPROF_ZSTD_QUICK_LEVEL, SPROF_ZSTD_QUICK_TABLE_LOG)
              : set_compressor(e, e->cctx, e->level, SPROF_ZSTD_TABLE_LOG)) {
        e->z->free_cctx(e->cctx);
        e->cctx = NULL;
        return NULL;
    }
    e->quick = quick;
    return e->cctx;
}

int sprof_chunk_encode(struct sprof_chunk_encoder *e, uint32_t seq, const void *raw, size_t n,
                       struct sprof_buf *out, char *err, size_t errlen)
{
    if (n > SPROF_CHUNK_MAX_RAW) {
        snprintf(err, errlen, "chunk of %zu bytes is too large", n);
        return -1;
    }
    int compress = e->z && n >= e->min_size;
    void *cctx = compress ? compressor(e, n) : NULL;
    if (compress && !cctx) {
        snprintf(err, errlen, "out of memory for the zstd compressor");
        return -1;
    }
    size_t bound = compress ? e->z->compress_bound(n) : n;
    if (sprof_buf_reserve(out, SPROF_CHUNK_HEADER_SIZE + bound)) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    uint8_t *h = out->data + out->len;
    size_t stored = n;
    if (compress) {
        stored = e->z->compress(cctx, h + SPROF_CHUNK_HEADER_SIZE, bound, raw, n);
        if (e->z->is_error(stored)) {
            snprintf(err, errlen, "zstd: %s", e->z->error_name(stored));
            return -1;
        }
        /* one that zstd does not shrink (a few bytes of ending) is stored */
        if (stored >= n) compress = 0, stored = n;
    }
    if (!compress && n) memcpy(h + SPROF_CHUNK_HEADER_SIZE, raw, n);
    seal(h, compress ? SPROF_CODEC_ZSTD : SPROF_CODEC_NONE, stored, n, seq);
    out->len += SPROF_CHUNK_HEADER_SIZE + stored;
    return 0;
}
