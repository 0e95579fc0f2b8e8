/* SPDX-License-Identifier: MIT */
/*
 * The sprof profile file format, version 1. Specified for users in
 * man/sprof-format.5; this header is the one definition both sides use.
 *
 * A file is a fixed header followed by chunks, appended and never rewritten:
 *
 *   file header (SPROF_FILE_HEADER_SIZE bytes, little-endian)
 *     0  magic[8]        "\x89SPROF\r\n"
 *     8  u16 version      SPROF_VERSION; readers reject newer versions
 *    10  u16 header_size  bytes in this header; readers skip what they don't know
 *    12  u32 flags        incompatible feature bits; readers reject unknown bits
 *    16  u64 session      id shared by every process of one profiled run
 *    24  u32 pid          the process that wrote the file
 *    28  u32 reserved     zero
 *
 *   chunk (repeated until end of file)
 *     0  u32 magic        SPROF_CHUNK_MAGIC
 *     4  u32 codec        SPROF_CODEC_ZSTD or SPROF_CODEC_NONE
 *     8  u32 stored_size  payload bytes that follow the 24-byte chunk header
 *    12  u32 raw_size     payload bytes after decompression
 *    16  u32 seq          chunk sequence number, from 0
 *    20  u32 crc          CRC-32C of bytes 0..19 of this header and the payload
 *
 * A decompressed payload is a sequence of records: uvarint type, uvarint
 * length, then `length` bytes of body. Readers skip record types they do not
 * know. Bodies are made of unsigned LEB128 varints (u), zigzag varints (s),
 * and strings (uvarint length + bytes, no terminator), as listed below.
 *
 * Times are CLOCK_MONOTONIC nanoseconds unless a field says otherwise.
 */
#ifndef SPROF_FORMAT_H
#define SPROF_FORMAT_H

#include <stdint.h>

#define SPROF_MAGIC "\x89SPROF\r\n"
#define SPROF_MAGIC_LEN 8
#define SPROF_VERSION 1
#define SPROF_FILE_HEADER_SIZE 32
/* Header flags: encodings a file uses, which a reader must know (libsprof
 * sets them all; a file without them uses the plain forms below). */
enum sprof_file_flags {
    /* A STACK record may take its outermost frames from a stack defined
     * before it in the same chunk (see SPROF_REC_STACK). */
    SPROF_FLAG_SHARED_STACKS = 1u << 0,
    /* A SAMPLES record stores its entries by column (see SPROF_REC_SAMPLES). */
    SPROF_FLAG_SAMPLE_COLUMNS = 1u << 1,
    /* A SAMPLES record's stack ids are written as steps (see
     * SPROF_REC_SAMPLES, sprof_sample_id_put in stacks.h). */
    SPROF_FLAG_SAMPLE_ID_STEPS = 1u << 2,
    /* A chunk may define its stacks in STACKS records (SPROF_REC_STACKS). */
    SPROF_FLAG_STACK_COLUMNS = 1u << 3,
    /* A STACKS record's address where a stack leaves its base is the
     * difference from the base's frame there (see SPROF_REC_STACKS). */
    SPROF_FLAG_STACK_SIBLINGS = 1u << 4,
    /* A SAMPLES record's times are in a unit it gives (see SPROF_REC_SAMPLES). */
    SPROF_FLAG_SAMPLE_TIME_UNITS = 1u << 5,
};
#define SPROF_FLAGS_KNOWN                                                                          \
    (SPROF_FLAG_SHARED_STACKS | SPROF_FLAG_SAMPLE_COLUMNS | SPROF_FLAG_SAMPLE_ID_STEPS |           \
     SPROF_FLAG_STACK_COLUMNS | SPROF_FLAG_STACK_SIBLINGS | SPROF_FLAG_SAMPLE_TIME_UNITS)

#define SPROF_CHUNK_MAGIC 0x4b435053u /* "SPCK" */
#define SPROF_CHUNK_HEADER_SIZE 24
#define SPROF_CODEC_NONE 0u
#define SPROF_CODEC_ZSTD 1u
/* Upper bounds a reader enforces before allocating. */
#define SPROF_CHUNK_MAX_STORED (64u << 20)
#define SPROF_CHUNK_MAX_RAW (256u << 20)

#define SPROF_MAX_DEPTH 4096

enum sprof_record_type {
    /* pid u, ppid u, start_realtime_ns u, start_mono_ns u, exe str,
     * argc u, argv str * argc */
    SPROF_REC_PROCESS = 1,
    /* event str, freq_hz u, period_ns u, signal u, backend str,
     * unwinder str, max_depth u */
    SPROF_REC_CONFIG = 2,
    /* tid u, time u, name str: a thread seen for the first time, or renamed */
    SPROF_REC_THREAD = 3,
    /* tid u, time u, cpu_ns u: the thread ended (or the process did), having
     * used cpu_ns of CPU time in all (0: unknown) */
    SPROF_REC_THREAD_END = 4,
    /* time u, start u, end u, file_offset u, prot u (1 r, 2 w, 4 x),
     * load_bias u, build_id str (raw bytes, may be empty), path str */
    SPROF_REC_MAP = 5,
    /* time u, start u, end u: the range stopped being mapped at time */
    SPROF_REC_UNMAP = 6,
    /* id u, flags u (SPROF_STACK_*), nframes u, frame[0] u, then
     * nframes-1 times s (difference from the previous frame). frame[0] is the
     * interrupted instruction; the others are return addresses. Every chunk
     * defines the stacks its samples use, before them, so that chunks stay
     * self-contained; an id means the same stack for the whole file, and a
     * later definition of an id repeats the first.
     * With SPROF_FLAG_SHARED_STACKS: did u, flags u, nown u, base u, then
     * (base > 0 only) nshared u, then the nown frames as above (frame[0]
     * u, then differences s). A chunk's STACK records come in increasing
     * order of id, before its SAMPLES: the id is did plus the id of the
     * chunk's previous STACK record (the first: did), did > 0 after the
     * first. The stack is those frames followed by the outermost nshared
     * frames of stack base - 1, which this chunk defines before this
     * record; base 0: the nown frames alone. */
    SPROF_REC_STACK = 7,
    /* tid u, base_time u, count u, then count times:
     * dt u (from the previous sample, the first from base_time),
     * weight_ns u, stack_id u.
     * With SPROF_FLAG_SAMPLE_COLUMNS the same values by column: count dt u,
     * then count weight_ns u, then count stack_id u.
     * With SPROF_FLAG_SAMPLE_ID_STEPS each stack_id is a step: with next one
     * past the greatest id of the record's samples before it (0 for the
     * first), 0 is the id next, any other v the id v - 1.
     * With SPROF_FLAG_SAMPLE_TIME_UNITS count is followed by unit u (1 or
     * more) and each dt is in units of it: dt * unit nanoseconds. */
    SPROF_REC_SAMPLES = 8,
    /* time u, then n u pairs of (counter id u, value u), cumulative since the
     * process started; the last COUNTERS record of a file wins. The handler
     * time histogram follows: nbuckets u, count u * nbuckets (see
     * sprof_hist_bucket_lo) */
    SPROF_REC_COUNTERS = 9,
    /* time u, level u (0 info, 1 warning, 2 error), text str */
    SPROF_REC_NOTE = 10,
    /* time u, reason str ("exit", "exec", "signal"...), status u */
    SPROF_REC_END = 11,
    /* With SPROF_FLAG_STACK_COLUMNS: count u, then count times did u, then
     * count times flags u, count times nown u, count times base u; then
     * nbase u for each stack whose base is not 0; then naddrs u and naddrs
     * times s, a list of addresses (each the difference from the one
     * before, the first from 0); then each stack's nown frames, innermost
     * first, each u: 0 the list's next address that no code took yet, k > 0
     * the list's k-th address, which a code 0 before it in the record took.
     * Stacks as the shared STACK records define them, in increasing order
     * of id, with their ids as there (the first did from the id the chunk's
     * STACK or STACKS records defined last); but base 0: no base, an even
     * 2k: the stack k ids before this one, an odd 2k + 1: stack k (a stack
     * the chunk defines before this one), of which the stack takes all
     * frames but the innermost nbase (nshared: the base's depth - nbase).
     * With SPROF_FLAG_STACK_SIBLINGS, a code 0 for a stack's outermost own
     * frame, where its base has nbase > 0, takes the list's next address as
     * the difference from the base's outermost frame not taken (its frame
     * at the same depth, a sibling in the call tree: most often in the same
     * function), not from the address before it in the list. */
    SPROF_REC_STACKS = 12,
};

enum sprof_stack_flags {
    SPROF_STACK_TRUNCATED = 1u << 0, /* the walk stopped at max_depth */
    SPROF_STACK_BROKEN = 1u << 1,    /* the walk stopped on bad unwind data */
};

enum sprof_counter_id {
    SPROF_CTR_SAMPLES = 1,          /* signals handled that produced a sample */
    SPROF_CTR_LOST = 2,             /* samples dropped: a per-thread buffer was full */
    SPROF_CTR_TRUNCATED = 3,        /* stacks cut at max_depth */
    SPROF_CTR_HANDLER_NS = 4,       /* total time spent in the signal handler */
    SPROF_CTR_WRITER_CPU_NS = 5,    /* CPU time of the writer's work, in its thread or not */
    SPROF_CTR_BYTES = 6,            /* bytes written to the file */
    SPROF_CTR_STACKS = 7,           /* distinct stacks */
    SPROF_CTR_REENTERED = 8,        /* signals that arrived inside the handler */
    SPROF_CTR_THREADS = 9,          /* threads sampled */
    SPROF_CTR_UNWIND_FALLBACK = 10, /* dwarf unwinder: samples walked by libunwind */
    SPROF_CTR_UNWIND_INPLACE = 11,  /* dwarf: frames looked up in .eh_frame in place */
    SPROF_CTR_TABLES_BUILT = 12,    /* dwarf: unwind tables built */
    SPROF_CTR_TABLES_CACHED = 13,   /* dwarf: unwind tables mapped from the cache */
    SPROF_CTR_TABLES_EARLY = 14,    /* dwarf: ... of them before the walk of a first sample */
    SPROF_CTR_MAX_ = 15,
};

/* Handler-time histogram: bucket i counts handler runs taking
 * [sprof_hist_bucket_lo(i), sprof_hist_bucket_lo(i + 1)) nanoseconds.
 * Four buckets per power of two, starting at 16 ns. */
#define SPROF_HIST_BUCKETS 64
static inline uint64_t sprof_hist_bucket_lo(unsigned i)
{
    unsigned octave = i / 4, sub = i % 4;
    uint64_t base = 16ull << octave;
    return base + (base / 4) * sub;
}
static inline unsigned sprof_hist_bucket(uint64_t ns)
{
    if (ns < 16) return 0;
    unsigned octave = 63 - (unsigned)__builtin_clzll(ns) - 4;
    uint64_t base = 16ull << octave;
    unsigned sub = (unsigned)((ns - base) / (base / 4));
    unsigned i = octave * 4 + sub;
    return i < SPROF_HIST_BUCKETS ? i : SPROF_HIST_BUCKETS - 1;
}

#endif
