/* SPDX-License-Identifier: MIT */
/* The reader side of chunk.h: a whole file, verified chunk by chunk. */
#include "chunk.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "crc32c.h"
#include "format.h"
#include "log.h"

static int check_header(struct sprof_reader *r)
{
    const uint8_t *d = r->data;
    if (r->size < SPROF_MAGIC_LEN || memcmp(d, SPROF_MAGIC, SPROF_MAGIC_LEN) != 0) {
        snprintf(r->err, sizeof(r->err), "'%s': not a sprof profile (bad magic)", r->path);
        return -1;
    }
    if (r->size < SPROF_FILE_HEADER_SIZE) {
        snprintf(r->err, sizeof(r->err), "'%s': truncated file header", r->path);
        return -1;
    }
    r->hdr.version = sprof_le16(d + 8);
    r->hdr.header_size = sprof_le16(d + 10);
    r->hdr.flags = sprof_le32(d + 12);
    r->hdr.session = sprof_le64(d + 16);
    r->hdr.pid = sprof_le32(d + 24);
    if (r->hdr.version > SPROF_VERSION || r->hdr.version == 0) {
        snprintf(r->err, sizeof(r->err),
                 "'%s': format version %u is not supported (this sprof reads up to %u)", r->path,
                 r->hdr.version, SPROF_VERSION);
        return -1;
    }
    if (r->hdr.flags & ~SPROF_FLAGS_KNOWN) {
        snprintf(r->err, sizeof(r->err), "'%s': unknown feature flags 0x%x", r->path,
                 r->hdr.flags & ~SPROF_FLAGS_KNOWN);
        return -1;
    }
    if (r->hdr.header_size < SPROF_FILE_HEADER_SIZE || r->hdr.header_size > r->size) {
        snprintf(r->err, sizeof(r->err), "'%s': bad header size %u", r->path, r->hdr.header_size);
        return -1;
    }
    r->off = r->hdr.header_size;
    r->dctx = ZSTD_createDCtx();
    if (!r->dctx) {
        snprintf(r->err, sizeof(r->err), "'%s': out of memory", r->path);
        return -1;
    }
    return 0;
}

int sprof_reader_open_mem(struct sprof_reader *r, const char *name, const void *p, size_t n)
{
    memset(r, 0, sizeof(*r));
    r->path = name;
    r->data = p;
    r->size = n;
    return check_header(r);
}

int sprof_reader_open(struct sprof_reader *r, const char *path)
{
    memset(r, 0, sizeof(*r));
    r->path = path;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(r->err, sizeof(r->err), "'%s': %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(r->err, sizeof(r->err), "'%s': not a regular file", path);
        close(fd);
        return -1;
    }
    r->size = (size_t)st.st_size;
    if (r->size > 0) {
        void *m = mmap(NULL, r->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) {
            snprintf(r->err, sizeof(r->err), "'%s': %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        r->data = m;
        r->mapped = 1;
    }
    close(fd);
    if (r->size == 0) {
        snprintf(r->err, sizeof(r->err), "'%s': empty file, not a sprof profile", path);
        return -1;
    }
    return check_header(r);
}

void sprof_reader_close(struct sprof_reader *r)
{
    if (r->mapped) munmap((void *)r->data, r->size);
    ZSTD_freeDCtx(r->dctx);
    sprof_buf_release(&r->raw);
    r->data = NULL;
    r->dctx = NULL;
}

/* Next offset after off where the chunk magic appears, or r->size. */
static size_t resync(const struct sprof_reader *r, size_t off)
{
    static const uint8_t m[4] = {'S', 'P', 'C', 'K'};
    for (size_t i = off; i + 4 <= r->size; i++)
        if (memcmp(r->data + i, m, 4) == 0) return i;
    return r->size;
}

static void damaged(struct sprof_reader *r, size_t at, const char *why)
{
    r->chunks_bad++;
    size_t next = resync(r, at + 1);
    r->bytes_skipped += next - at;
    sprof_warn("'%s': damaged chunk at offset %zu (%s), skipped %zu bytes", r->path, at, why,
               next - at);
    r->off = next;
}

int sprof_reader_next(struct sprof_reader *r, struct sprof_cur *payload)
{
    while (r->off < r->size) {
        size_t at = r->off;
        size_t left = r->size - at;
        const uint8_t *h = r->data + at;
        if (left < SPROF_CHUNK_HEADER_SIZE) {
            r->truncated = 1;
            r->bytes_skipped += left;
            sprof_warn("'%s': truncated at offset %zu (incomplete chunk header), read the "
                       "intact part",
                       r->path, at);
            r->off = r->size;
            return 0;
        }
        if (sprof_le32(h) != SPROF_CHUNK_MAGIC) {
            damaged(r, at, "bad chunk magic");
            continue;
        }
        uint32_t codec = sprof_le32(h + 4), stored = sprof_le32(h + 8), rawn = sprof_le32(h + 12);
        uint32_t crc = sprof_le32(h + 20);
        if (stored > SPROF_CHUNK_MAX_STORED || rawn > SPROF_CHUNK_MAX_RAW ||
            (codec != SPROF_CODEC_ZSTD && codec != SPROF_CODEC_NONE)) {
            damaged(r, at, "bad chunk header");
            continue;
        }
        if (stored > left - SPROF_CHUNK_HEADER_SIZE) {
            /* The last chunk was cut short, as when a process is killed in
             * the middle of a write; a damaged length can look the same, so
             * look for a later chunk before calling it the end. */
            size_t next = resync(r, at + 1);
            if (next == r->size) {
                r->truncated = 1;
                r->bytes_skipped += left;
                sprof_warn("'%s': truncated at offset %zu (incomplete last chunk), read the "
                           "intact part",
                           r->path, at);
                r->off = r->size;
                return 0;
            }
            damaged(r, at, "chunk length past the end");
            continue;
        }
        /* Damage makes the reader checksum some bytes more than once (a
         * bad length, then the chunks inside it); a file made of chunk
         * headers that each claim the rest of it would take time quadratic
         * in its size. Past a few passes over the file, stop. */
        if (r->crc_bytes + stored > 4 * (uint64_t)r->size + SPROF_CHUNK_MAX_STORED) {
            r->chunks_bad++;
            r->bytes_skipped += left;
            sprof_warn("'%s': too much damage, stopped reading at offset %zu", r->path, at);
            r->off = r->size;
            return 0;
        }
        r->crc_bytes += stored;
        const uint8_t *p = h + SPROF_CHUNK_HEADER_SIZE;
        uint32_t got = sprof_crc32c(sprof_crc32c(0, h, 20), p, stored);
        if (got != crc) {
            damaged(r, at, "checksum mismatch");
            continue;
        }
        sprof_buf_reset(&r->raw);
        if (sprof_buf_reserve(&r->raw, rawn ? rawn : 1)) {
            damaged(r, at, "out of memory");
            continue;
        }
        if (codec == SPROF_CODEC_NONE) {
            if (stored != rawn) {
                damaged(r, at, "size mismatch");
                continue;
            }
            memcpy(r->raw.data, p, stored);
        } else {
            size_t d = ZSTD_decompressDCtx(r->dctx, r->raw.data, rawn, p, stored);
            if (ZSTD_isError(d) || d != rawn) {
                damaged(r, at, ZSTD_isError(d) ? ZSTD_getErrorName(d) : "size mismatch");
                continue;
            }
        }
        r->raw.len = rawn;
        r->off = at + SPROF_CHUNK_HEADER_SIZE + stored;
        r->chunks_ok++;
        sprof_cur_init(payload, r->raw.data, rawn);
        return 1;
    }
    return 0;
}
