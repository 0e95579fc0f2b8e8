#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Bytes per sample of steady runs, and what the writer thread costs.

`make bench` runs short workloads (0.9 s), whose files carry a fixed 2 KiB
of process, mappings and counters; the target (4 bytes a sample or fewer on
a steady workload) is about longer runs. This runs each workload for about
--seconds of CPU under libsprof.so (and under another build's, --against,
in the same series), and prints, from `sprof-report info` (each build's own) of the largest
file of the run: samples, file size, bytes per sample, distinct stacks and
the writer thread's CPU time; and, where the build has the test tools
(BUILD/tests/sprof-dump: `make check` builds them), the bytes per sample of
the same file rewritten in the encodings of other header flags (--forms,
by default 0, the plain ones, and 3, libsprof's before session 19; the
chunks compressed as libsprof does: `sprof-dump FILE --flags N OUT`), which
compares the encodings on one profile, free of the differences between
runs (a pure Python run has 900 distinct stacks one time and 1,300 the
next).

With --information (session 38; it needs sprof-dump too), two estimates of
what the samples' stacks carry, whatever the encoding, in bytes a sample of
the same file: "xz" is Python's lzma at preset 9e over the run's stacks as
one stream, each sample's whole stack again (a depth of 2 bytes, then 8
bytes an address, outermost first), with no chunks, times or mappings: what
a strong general compressor makes of the stacks; "order-1" is the
empirical entropy of each sample's stack given the one before it: the
number of outermost frames it keeps of it (order 0), then each of its other
frames given the frame just outside it (the plug-in estimate, which leaves
out the cost of the model itself: an approximate floor for a coder that
knows one frame of context). An interpreter's stacks, new nearly every
sample, carry about 4 bytes a sample at 999 Hz (BENCHMARKS.md, session 38).

Workloads: cpu (scripts/bench/cpu-bound.c, 30 frames), threads (the same in
8 threads), python (pybench.py, pure Python: a thousand distinct native
stacks of up to 140 frames), interp (tests/progs/interp.c, a tree-walking
evaluator: nearly every sample a new stack, 35 frames deep).

    python3 scripts/bench/bytes.py --build build
    python3 scripts/bench/bytes.py --build build --against /tmp/oldb --runs 2
    python3 scripts/bench/bytes.py --build build --workload interp --information
"""
import argparse
import collections
import lzma
import math
import os
import re
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import bench  # noqa: E402  (builds_with_report)


def build(bdir, cc):
    os.makedirs(bdir, exist_ok=True)
    progs = {}
    for name, src, flags in [
        ("cpu-bound", os.path.join(HERE, "cpu-bound.c"), ["-O2", "-g", "-fomit-frame-pointer",
                                                          "-pthread"]),
        ("interp", os.path.join(SRC, "tests", "progs", "interp.c"),
         ["-O2", "-g", "-fomit-frame-pointer", "-I" + os.path.join(SRC, "tests", "progs")]),
    ]:
        out = os.path.join(bdir, name)
        if not os.path.exists(out) or os.path.getmtime(out) < os.path.getmtime(src):
            subprocess.check_call([cc] + flags + ["-o", out, src])
        progs[name] = out
    return progs


def workloads(progs, seconds, python):
    # cpu-bound N: about 0.45 ms of CPU per unit of N here
    n = str(int(2000 * seconds / 0.9))
    w = {
        "cpu": [progs["cpu-bound"], n, "28"],
        "threads": [progs["cpu-bound"], n, "28", "8"],
        "python": [python, os.path.join(HERE, "pybench.py"), f"{seconds:g}"],
        "interp": [progs["interp"], str(int(seconds * 1000))],
    }
    return w


def stacks_of(dump, path):
    """Each sample's stack (addresses, outermost first) in the order of the
    file, from `sprof-dump FILE` (which prints a STACKS record's stacks as
    STACK lines, innermost first, and each sample as dt/weight/stack id)."""
    out = subprocess.run([dump, path], capture_output=True, text=True).stdout
    stacks, seq = {}, []
    for line in out.splitlines():
        if line.startswith("STACK ") and "malformed" not in line:
            f = line.split()
            stacks[int(f[1][3:])] = tuple(int(x, 16) for x in reversed(f[4:]))
        elif line.startswith("SAMPLES ") and "malformed" not in line:
            seq.extend(int(t.rsplit("/", 1)[1]) for t in line.split()[1:])
    return [stacks[i] for i in seq if i in stacks]


def entropy(counts):
    """Bits in all of counts' events under their own frequencies."""
    total = sum(counts.values())
    return -sum(c * math.log2(c / total) for c in counts.values() if c)


def information(dump, path):
    """(xz, order-1) bytes a sample of the file's stacks (see the top)."""
    seq = stacks_of(dump, path)
    if not seq:
        return None
    raw = b"".join(struct.pack("<H", len(st)) + struct.pack(f"<{len(st)}Q", *st) for st in seq)
    xz = len(lzma.compress(raw, preset=9 | lzma.PRESET_EXTREME))
    kept = collections.Counter()
    ctx = collections.defaultdict(collections.Counter)
    prev = ()
    for st in seq:
        k = 0
        while k < min(len(st), len(prev)) and st[k] == prev[k]:
            k += 1
        kept[(k, len(st) - k)] += 1
        for i in range(k, len(st)):
            ctx[st[i - 1] if i else None][st[i]] += 1
        prev = st
    bits = entropy(kept) + sum(entropy(c) for c in ctx.values())
    return xz / len(seq), bits / 8 / len(seq)


def one(report, lib, hz, argv, dump, forms, info_too=False):
    d = tempfile.mkdtemp(prefix="sprof-bytes-")
    try:
        env = dict(os.environ, LD_PRELOAD=lib, SPROF_FREQ=str(hz),
                   SPROF_OUTPUT=os.path.join(d, "p.bin"))
        env.pop("SPROF_SESSION", None)
        subprocess.run(argv, env=env, cwd=d, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)
        files = [os.path.join(d, f) for f in os.listdir(d) if f.startswith("p.bin")]
        if not files:
            return None
        f = max(files, key=os.path.getsize)
        info = subprocess.run([report, "info", f], capture_output=True, text=True).stdout

        def grab(pat, conv=float):
            m = re.search(pat, info, re.M)
            return conv(m.group(1)) if m else 0

        samples = grab(r"^samples\s+(\d+)", int)
        sizes = {}
        for flags in forms:
            out = os.path.join(d, f"flags{flags}.out")
            if dump and os.access(dump, os.X_OK) and subprocess.run(
                    [dump, f, "--flags", str(flags), out], stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL).returncode == 0 and os.path.exists(out):
                sizes[flags] = os.path.getsize(out)  # an older sprof-dump has no --flags
        have_dump = dump and os.access(dump, os.X_OK)
        return {
            "information": information(dump, f) if info_too and have_dump else None,
            "forms": sizes,
            "samples": samples,
            "size": os.path.getsize(f),
            "stacks": grab(r"^stacks\s+(\d+)", int),
            "writer_ms": grab(r"^writer\s+([\d.]+) ms"),
            "cpu_s": grab(r"^cpu time\s+([\d.]+) s"),
        }
    finally:
        shutil.rmtree(d, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--against", metavar="BUILD", help="another build, in the same series")
    ap.add_argument("--freq", type=int, nargs="+", default=[999, 10000], metavar="HZ")
    ap.add_argument("--workload", nargs="+", default=["cpu", "threads", "python", "interp"],
                    choices=["cpu", "threads", "python", "interp"])
    ap.add_argument("--seconds", type=float, default=5, help="CPU seconds a run (5)")
    ap.add_argument("--runs", type=int, default=1, help="runs of each, the median kept (1)")
    ap.add_argument("--python", default=sys.executable, help="the interpreter (this one)")
    ap.add_argument("--forms", type=int, nargs="*", default=[0, 3], metavar="FLAGS",
                    help="the same file in the encodings of these header flags (0 3)")
    ap.add_argument("--information", action="store_true",
                    help="estimates of the information in the stacks: xz and order-1")
    a = ap.parse_args()
    builds = bench.builds_with_report(a.build, a.against, "bytes.py")
    progs = build(os.path.abspath(os.path.join(a.build, "bench")), os.environ.get("CC", "cc"))
    wl = workloads(progs, a.seconds, a.python)
    forms = "".join(f" flags {f} |" for f in a.forms)
    extra = len(a.forms) + 2 * a.information
    if a.information:
        forms += " xz | order-1 |"
    print(f"| workload | rate | build | samples | bytes | bytes/sample |{forms} stacks | "
          "writer CPU |")
    print("|---|---|---|---|---|---|" + "---|" * extra + "---|---|")
    for name in a.workload:
        for hz in a.freq:
            res = {b: [] for b, _ in builds}
            for _ in range(a.runs):
                for b, d in builds:  # interleaved
                    r = one(os.path.join(d, "sprof-report"), os.path.join(d, "libsprof.so"), hz,
                            wl[name], os.path.join(d, "tests", "sprof-dump"), a.forms,
                            a.information)
                    if r and r["samples"]:
                        res[b].append(r)
            for b, _ in builds:
                rs = res[b]
                if not rs:
                    print(f"| {name} | {hz} Hz | {b} | no samples |" + " |" * (5 + extra))
                    continue
                bps = statistics.median(r["size"] / r["samples"] for r in rs)
                mid = sorted(rs, key=lambda r: r["size"] / r["samples"])[len(rs) // 2]
                wshare = 100 * mid["writer_ms"] / 1000 / mid["cpu_s"] if mid["cpu_s"] else 0
                cols = "".join(
                    f" {statistics.median(r['forms'][f] / r['samples'] for r in rs):.2f} |"
                    if all(f in r["forms"] for r in rs) else " - |" for f in a.forms)
                if a.information:
                    cols += "".join(
                        f" {statistics.median(r['information'][k] for r in rs):.2f} |"
                        if all(r["information"] for r in rs) else " - |" for k in (0, 1))
                print(f"| {name} | {hz} Hz | {b} | {mid['samples']:,} | {mid['size']:,} | "
                      f"{bps:.2f} |{cols} {mid['stacks']:,} | {mid['writer_ms']:.1f} ms "
                      f"({wshare:.2f}%) |", flush=True)


if __name__ == "__main__":
    main()
