/* SPDX-License-Identifier: MIT */
/*
 * libzstd for the writer, loaded (dlopen) when the first chunk worth
 * compressing is written: most processes of a build or a shell script
 * never write one (a /bin/true writes some 900 bytes in all), and loading
 * the library cost every process about ten page faults and as many system
 * calls, some 0.2 ms on a virtual machine. Without it, chunks are stored
 * uncompressed (SPROF_CODEC_NONE), which every reader reads.
 */
#include <dlfcn.h>
#include <zstd.h>

#include "chunk.h"
#include "sprof.h"

#ifndef SPROF_ZSTD_SONAME
#define SPROF_ZSTD_SONAME "libzstd.so.1"
#endif

static struct {
    ZSTD_CCtx *(*create)(void);
    size_t (*free)(ZSTD_CCtx *);
    size_t (*bound)(size_t);
    size_t (*set_parameter)(ZSTD_CCtx *, ZSTD_cParameter, int);
    size_t (*compress)(ZSTD_CCtx *, void *, size_t, const void *, size_t);
    unsigned (*is_error)(size_t);
    const char *(*error_name)(size_t);
} Z;

static void *create_cctx(void)
{
    return Z.create();
}

static void free_cctx(void *cctx)
{
    Z.free(cctx);
}

static size_t compress_bound(size_t n)
{
    return Z.bound(n);
}

static size_t set_parameter(void *cctx, int param, int value)
{
    return Z.set_parameter(cctx, (ZSTD_cParameter)param, value);
}

static size_t compress(void *cctx, void *dst, size_t cap, const void *src, size_t n)
{
    return Z.compress(cctx, dst, cap, src, n);
}

static int is_error(size_t code)
{
    return Z.is_error(code) != 0;
}

static const char *error_name(size_t code)
{
    return Z.error_name(code);
}

static const struct sprof_zstd_api api = {create_cctx, free_cctx, compress_bound, set_parameter,
                                          compress,    is_error,  error_name};

const struct sprof_zstd_api *sprof_zstd_load(void)
{
    void *h = dlopen(SPROF_ZSTD_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!h) return NULL;
    *(void **)&Z.create = dlsym(h, "ZSTD_createCCtx");
    *(void **)&Z.free = dlsym(h, "ZSTD_freeCCtx");
    *(void **)&Z.bound = dlsym(h, "ZSTD_compressBound");
    *(void **)&Z.set_parameter = dlsym(h, "ZSTD_CCtx_setParameter");
    *(void **)&Z.compress = dlsym(h, "ZSTD_compress2");
    *(void **)&Z.is_error = dlsym(h, "ZSTD_isError");
    *(void **)&Z.error_name = dlsym(h, "ZSTD_getErrorName");
    if (!Z.create || !Z.free || !Z.bound || !Z.set_parameter || !Z.compress || !Z.is_error ||
        !Z.error_name) {
        dlclose(h);
        return NULL;
    }
    return &api;
}
