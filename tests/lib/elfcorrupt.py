# SPDX-License-Identifier: MIT
"""Damages an ELF file in place, deterministically, for tests/e2e/212.

usage: elfcorrupt.py list
       elfcorrupt.py FILE VARIANT

VARIANT is one of the names `list` prints. Each damages one thing: a DWARF
section (random bytes from a fixed seed, or a header field made absurd),
.eh_frame, the symbol table, the section or program headers. The build-id
note is left alone unless a variant says otherwise, so that the symbolizer
still takes the file for the profiled one and has to read the damage.
"""
import random
import struct
import sys


def sections(d):
    """{name: (index, header offset, sh_offset, sh_size)} of an ELF64 LE file."""
    shoff, = struct.unpack_from("<Q", d, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", d, 0x3A)
    hdrs = []
    for i in range(shnum):
        at = shoff + i * shentsize
        name, typ, flags, addr, off, size = struct.unpack_from("<IIQQQQ", d, at)
        hdrs.append((at, name, off, size))
    stroff, strsize = hdrs[shstrndx][2], hdrs[shstrndx][3]
    out = {}
    for i, (at, name, off, size) in enumerate(hdrs):
        end = d.index(b"\0", stroff + name)
        out[d[stroff + name:end].decode()] = (i, at, off, size)
    return out


def fill_random(d, secs, name, seed, start_frac=0.0):
    _, _, off, size = secs[name]
    rnd = random.Random(seed)
    lo = off + int(size * start_frac)
    for i in range(lo, off + size):
        d[i] = rnd.randrange(256)


def fill(d, secs, name, byte):
    _, _, off, size = secs[name]
    d[off:off + size] = bytes([byte]) * size


def flip_bits(d, secs, name, seed, n):
    _, _, off, size = secs[name]
    rnd = random.Random(seed)
    for _ in range(n):
        i = off + rnd.randrange(size)
        d[i] ^= 1 << rnd.randrange(8)


def set_shdr(d, secs, name, field, value):
    # field offsets in Elf64_Shdr: flags 8, offset 24, size 32, link 40,
    # info 44, entsize 56
    _, at, _, _ = secs[name]
    fmt = "<I" if field in (40, 44) else "<Q"
    struct.pack_into(fmt, d, at + field, value)


def v_random(name, frac=0.0):
    return lambda d, s: fill_random(d, s, name, sum(name.encode()), frac)


VARIANTS = {
    # .debug_info: all of it, the DIEs after the unit headers, single bits
    "info-random": v_random(".debug_info"),
    "info-tail": lambda d, s: fill_random(d, s, ".debug_info", 7, 0.3),
    "info-bits": lambda d, s: flip_bits(d, s, ".debug_info", 11, 40),
    "info-unit-length": lambda d, s: struct.pack_into("<I", d, s[".debug_info"][2], 0xFFFFFFF0),
    "info-unit-huge": lambda d, s: struct.pack_into("<I", d, s[".debug_info"][2], 0x7FFFFFFF),
    "info-version": lambda d, s: struct.pack_into("<H", d, s[".debug_info"][2] + 4, 99),
    "info-abbrev-offset": lambda d, s: struct.pack_into("<I", d, s[".debug_info"][2] + 8, 0xFFFFFF),
    "info-ones": lambda d, s: fill(d, s, ".debug_info", 0xFF),
    "abbrev-random": v_random(".debug_abbrev"),
    "abbrev-bits": lambda d, s: flip_bits(d, s, ".debug_abbrev", 13, 20),
    # .debug_line: all of it, the header length, the program after it
    "line-random": v_random(".debug_line"),
    "line-header-length": lambda d, s: struct.pack_into("<I", d, s[".debug_line"][2] + 6, 0x7FFFFFF0),
    "line-unit-length": lambda d, s: struct.pack_into("<I", d, s[".debug_line"][2], 0x7FFFFFF0),
    "line-tail": lambda d, s: fill_random(d, s, ".debug_line", 17, 0.5),
    "line-bits": lambda d, s: flip_bits(d, s, ".debug_line", 19, 30),
    # strings without terminators, ranges and locations
    "str-unterminated": lambda d, s: [fill(d, s, n, 0x41) for n in (".debug_str", ".debug_line_str") if n in s],
    "rnglists-random": lambda d, s: [fill_random(d, s, n, 23) for n in (".debug_rnglists", ".debug_ranges") if n in s],
    "loclists-random": lambda d, s: [fill_random(d, s, n, 29) for n in (".debug_loclists", ".debug_loc") if n in s],
    "aranges-random": v_random(".debug_aranges"),
    # unwind tables
    "ehframe-random": lambda d, s: [fill_random(d, s, n, 31) for n in (".eh_frame", ".eh_frame_hdr") if n in s],
    "ehframe-bits": lambda d, s: flip_bits(d, s, ".eh_frame", 37, 40),
    # symbols
    "symtab-random": v_random(".symtab"),
    "strtab-unterminated": lambda d, s: fill(d, s, ".strtab", 0x42),
    "symtab-link": lambda d, s: set_shdr(d, s, ".symtab", 40, 0xFFFF),
    "symtab-entsize": lambda d, s: set_shdr(d, s, ".symtab", 56, 0),
    # section headers: sizes and offsets past the end, compressed garbage
    "info-size-huge": lambda d, s: set_shdr(d, s, ".debug_info", 32, 1 << 40),
    "line-offset-past-end": lambda d, s: set_shdr(d, s, ".debug_line", 24, len(d) + 4096),
    "info-compressed": lambda d, s: set_shdr(d, s, ".debug_info", 8, 0x800),
    "abbrev-size-zero": lambda d, s: set_shdr(d, s, ".debug_abbrev", 32, 0),
    "shdr-random": lambda d, s: fill_random_range(d, struct.unpack_from("<Q", d, 0x28)[0], 41, 64 * 8),
    "shoff-past-end": lambda d, s: struct.pack_into("<Q", d, 0x28, len(d) + 1000),
    "shnum-huge": lambda d, s: struct.pack_into("<H", d, 0x3C, 0xFFFF),
    "shstrndx-bad": lambda d, s: struct.pack_into("<H", d, 0x3E, 0xFFF0),
    # program headers (the load bias is computed from them)
    "phdr-random": lambda d, s: fill_random_range(d, struct.unpack_from("<Q", d, 0x20)[0], 43,
                                                  struct.unpack_from("<H", d, 0x38)[0] * 56),
    "phnum-huge": lambda d, s: struct.pack_into("<H", d, 0x38, 0xFFFF),
    # the file cut in half, and every byte after the ELF header random
    "truncated": None,
    "all-random": lambda d, s: fill_random_range(d, 64, 47, len(d) - 64),
}


def fill_random_range(d, lo, seed, n):
    rnd = random.Random(seed)
    for i in range(lo, min(lo + n, len(d))):
        d[i] = rnd.randrange(256)


def main():
    if len(sys.argv) == 2 and sys.argv[1] == "list":
        print("\n".join(VARIANTS))
        return 0
    if len(sys.argv) != 3 or sys.argv[2] not in VARIANTS:
        sys.stderr.write(__doc__)
        return 2
    path, variant = sys.argv[1], sys.argv[2]
    d = bytearray(open(path, "rb").read())
    if variant == "truncated":
        d = d[:len(d) // 2]
    else:
        VARIANTS[variant](d, sections(d))
    open(path, "wb").write(d)
    return 0


if __name__ == "__main__":
    sys.exit(main())
