/* SPDX-License-Identifier: MIT */
/* sprof_zstd_linked: chunk.h's encoder over a libzstd linked in (the tools;
 * libsprof.so has its own, loaded when needed: preload/compress.c). */
#include <zstd.h>

#include "chunk.h"

static void *create_cctx(void)
{
    return ZSTD_createCCtx();
}

static void free_cctx(void *cctx)
{
    ZSTD_freeCCtx(cctx);
}

static size_t set_parameter(void *cctx, int param, int value)
{
    return ZSTD_CCtx_setParameter(cctx, (ZSTD_cParameter)param, value);
}

static size_t compress(void *cctx, void *dst, size_t cap, const void *src, size_t n)
{
    return ZSTD_compress2(cctx, dst, cap, src, n);
}

static int is_error(size_t code)
{
    return ZSTD_isError(code) != 0;
}

const struct sprof_zstd_api sprof_zstd_linked = {
    create_cctx, free_cctx, ZSTD_compressBound, set_parameter, compress, is_error, ZSTD_getErrorName};
