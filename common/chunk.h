/* SPDX-License-Identifier: MIT */
/*
 * File header and chunk framing (see format.h): the writer side encodes a
 * header and compressed chunks into buffers; the reader side walks a whole
 * file, verifying every chunk and salvaging the intact ones around damage.
 */
#ifndef SPROF_CHUNK_H
#define SPROF_CHUNK_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct sprof_file_header {
    uint16_t version;
    uint16_t header_size;
    uint32_t flags;
    uint64_t session;
    uint32_t pid;
};

/* Appends the SPROF_FILE_HEADER_SIZE-byte header for h to out. */
void sprof_file_header_put(struct sprof_buf *out, const struct sprof_file_header *h);

/* The libzstd functions the encoder calls, through pointers: the tools
 * link libzstd (sprof_zstd_linked, zstd-linked.c); libsprof.so loads it
 * only when a chunk is worth compressing (preload/compress.c), which the
 * chunks of a short process never are. */
struct sprof_zstd_api {
    void *(*create_cctx)(void);
    void (*free_cctx)(void *cctx);
    size_t (*compress_bound)(size_t n);
    /* ZSTD_CCtx_setParameter (param: a ZSTD_cParameter) and ZSTD_compress2 */
    size_t (*set_parameter)(void *cctx, int param, int value);
    size_t (*compress)(void *cctx, void *dst, size_t cap, const void *src, size_t n);
    int (*is_error)(size_t code);
    const char *(*error_name)(size_t code);
};

/* zstd's level for chunks. Level 5 (greedy matching) against 3 (double
 * fast): the same profiles rewritten, 1-6% smaller (an interpreter's ever
 * new stacks 6%: 3.91 -> 3.69 bytes a sample at 10 kHz, 5 s runs), for 2.5 times
 * the compressor's time, which is a few per cent of the writer's
 * (BENCHMARKS.md, session 29). */
#define SPROF_ZSTD_LEVEL 5

/* log2 of the entries of the compressor's hash and chain tables (4 bytes
 * each), at most: zstd's level 3 sizes them by the chunk (a chunk of 16 to
 * 128 KiB gets 2^16 and 2^15 entries, 96 pages to zero and fault in, one of
 * over 256 KiB 2^17 and 2^16, 192 pages), where 2^14 each (32 pages) leaves
 * the chunks of sprof's profiles 0 to 0.7% larger (BENCHMARKS.md, session
 * 16). A compiler's cc1 at 10 kHz, which compresses one chunk, takes 73
 * page faults fewer. */
#define SPROF_ZSTD_TABLE_LOG 14

/* A last chunk smaller than SPROF_ZSTD_QUICK_MAX, from an encoder that has
 * compressed nothing yet (a short process's one chunk: a compiler's cc1
 * writes 6 KiB), is compressed at level 2 with 2^12-entry tables: the
 * first call into libzstd of a new process pays for the code and tables it
 * touches, 16-20 page faults and about 100 us here against 40 faults and
 * 170 us at level 5, for a chunk 1-2% larger (BENCHMARKS.md, session 51).
 * A bigger one (an interpreter's 1 s run: 21 KiB, 4-8% larger at level 2)
 * and every chunk of a process that lives on keep level 5. */
#define SPROF_ZSTD_QUICK_MAX (16u << 10)
#define SPROF_ZSTD_QUICK_LEVEL 2
#define SPROF_ZSTD_QUICK_TABLE_LOG 12
extern const struct sprof_zstd_api sprof_zstd_linked;

struct sprof_chunk_encoder {
    const struct sprof_zstd_api *z; /* NULL: chunks are stored as they are */
    void *cctx;                     /* ZSTD_CCtx, made at the first compression */
    int level;
    size_t min_size; /* smaller chunks are stored as they are */
    int last;        /* the next chunk is the last (SPROF_ZSTD_QUICK_MAX) */
    int quick;       /* cctx is set for a last chunk, not at level */
};

/* z: libzstd, or NULL (SPROF_CODEC_NONE chunks); level: zstd level
 * (1..19); min_size: the smallest chunk worth compressing (0: all). z and
 * min_size may be set later, before a call to sprof_chunk_encode, and so
 * may last. A chunk that compression would not make smaller is stored as
 * it is. */
void sprof_chunk_encoder_init(struct sprof_chunk_encoder *e, const struct sprof_zstd_api *z,
                              int level, size_t min_size);
void sprof_chunk_encoder_release(struct sprof_chunk_encoder *e);
/* Compresses raw[0..n) (or stores it, see above) into one chunk appended to
 * out. Returns 0, or -1 with a message in err. */
int sprof_chunk_encode(struct sprof_chunk_encoder *e, uint32_t seq, const void *raw, size_t n,
                       struct sprof_buf *out, char *err, size_t errlen);

struct sprof_reader {
    const char *path;
    const uint8_t *data; /* the whole file, mapped or read */
    size_t size, off;
    int mapped;
    struct sprof_file_header hdr;
    void *dctx; /* ZSTD_DCtx */
    struct sprof_buf raw;
    /* what reading found; warnings are also printed as they happen */
    uint64_t chunks_ok, chunks_bad;
    uint64_t bytes_skipped;
    uint64_t crc_bytes; /* payload bytes checksummed, bounded (see chunk.c) */
    int truncated;
    char err[512];
};

/* Opens path and checks its header. Returns 0, or -1 with r->err set to a
 * one-line message naming the file. r->path must stay valid while open. */
int sprof_reader_open(struct sprof_reader *r, const char *path);
/* Same over memory the caller owns (used by the fuzzer and tests). */
int sprof_reader_open_mem(struct sprof_reader *r, const char *name, const void *p, size_t n);
/* Moves to the next intact chunk and points *payload at its decompressed
 * records (valid until the next call). Returns 1 for a chunk, 0 at the end.
 * Damaged chunks are skipped with a warning; the reader resynchronizes on
 * the next chunk magic. */
int sprof_reader_next(struct sprof_reader *r, struct sprof_cur *payload);
void sprof_reader_close(struct sprof_reader *r);

#endif
