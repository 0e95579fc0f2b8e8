#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""sprof against no profiler, the floor, gperftools and perf record.

Usage: scripts/bench/bench.py [--build DIR] [--runs N] [--freq HZ ...]
           [--workload NAME ...] [--modes MODE ...] [--quick] [--markdown]
           [--stack-runs K] [--json FILE] [--keep DIR]

Each workload runs in one interleaved series: plain, then every (rate, mode)
pair, then plain again, ... (each round starts one further along: A B C,
B C A, C A B), so that the noise of a shared machine falls on every mode
alike. Every run goes through runstat.c, which measures the workload alone.
Per workload, rate and mode it prints:

  CPU, wall   overhead against plain: the median over rounds of this run's
              time / the same round's plain time - 1, with min..max; CPU is
              user + system time from wait4, children included (for perf,
              perf's own CPU time counts too, as the writer thread does for
              sprof)
  x floor     this mode's CPU overhead / the floor's (the floor: an empty
              signal handler on the same per-thread perf_event task-clock
              timer at the same rate in every thread and process,
              scripts/bench/floor.c; --modes floor-thread adds the floor
              plus an idle thread in every process, made at its start and
              in the child of a fork, as sprof's writer is)
  - floor     paired: the median over rounds of this run's CPU overhead
              minus the floor's run of the same round, in points of the
              plain run, with min..max. Where the floor costs a few points,
              x floor is a ratio of two small noisy figures; the difference
              within each round says what the mode adds to the floor
  rate        samples per second of the CPU time the tool's timer samples,
              as the kernel measured it (for perf, the workload without
              perf), and the share of the requested rate: user time for
              sprof, the floor and perf (task-clock:u: a period that ends
              in the kernel gives no sample), user and system time for
              gperftools (ITIMER_PROF); every tool counts from its own
              output (sprof-report info, perf report --stats, the
              gperftools profiles, the floor's signal count)
  B/sample    bytes on disk per sample (every file of the run)
  complete    share of samples whose stack reaches the process's or thread's
              entry (_start, __libc_start_main, main, clone3, start_thread,
              a coroutine's __start_context, or the entry point of a
              stripped executable), over the first
              --stack-runs runs of the mode: sprof-report folded, perf
              script, the gperftools profiles' outermost frames through
              addr2line
  RSS         max RSS of the run minus plain's, MiB (the largest process of
              the run: for perf, usually perf itself)
  handler     sprof's self-measured handler time (sprof-report info): mean,
              and the histogram bucket of the median, µs
  own CPU     sprof's self-measured CPU (sprof-report info, every file of
              the run): its handlers' time and its writer's CPU, median, in
              points of plain's CPU time as "- floor" is; in parentheses the
              writer's part. What of "- floor" it does not account for is
              what sprof costs beyond its own code's time (the kernel's work
              for its timers and files, its threads' starts and ends, the
              caches it takes from the program)

Benchmarks print figures; nothing here passes or fails. Missing tools
(perf, libprofiler.so, addr2line, python3, make) skip their mode, column or
workload with a reason.
"""
import argparse
import atexit
import glob
import json
import os
import re
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

ALL_MODES = ["plain", "sprof", "floor", "floor-thread", "gperftools", "perf-fp", "perf-dwarf"]
# floor-thread only when asked: the floor plus an idle thread in every
# process (floor.c, FLOOR_THREAD), what sprof's writer costs a process
# before it does any work
DEFAULT_MODES = [m for m in ALL_MODES if m != "floor-thread"]
ALL_WORKLOADS = ["cpu", "python", "interp", "threads", "deep", "make", "exec", "fork"]
# run only when named (--workload coro): not one of the series' eight
EXTRA_WORKLOADS = ["coro"]
LIBPROFILER_CANDIDATES = [
    "/usr/lib/x86_64-linux-gnu/libprofiler.so",
    "/usr/lib/x86_64-linux-gnu/libprofiler.so.0",
    "/usr/lib64/libprofiler.so",
    "/usr/lib/libprofiler.so",
    "/usr/local/lib/libprofiler.so",
]
# A stack is complete when its outermost frame is one of these: the process's
# entry (through libc's start code), main itself, a thread's start, or a
# makecontext coroutine's (glibc's __start_context).
COMPLETE_ROOTS = {
    "_start", "__libc_start_main", "__libc_start_main_impl", "__libc_start_call_main",
    "__libc_start_main_alias_2", "main", "clone", "__clone", "clone3", "__clone3",
    "__clone_internal", "start_thread", "_dl_start", "_dl_start_user", "_dl_start_final",
    "__start_context",
}
# Targets, printed beside the figures.
RSS_BASE_KIB, RSS_PER_THREAD_KIB = 8 * 1024, 256
TARGET_RATIO_FLOOR = 1.25
TARGET_BYTES = 4.0
TARGET_HANDLER_US = 2.0
UNIT_US = {"ns": 0.001, "us": 1.0, "µs": 1.0, "ms": 1000.0}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- ELF helpers

_elf_cache = {}


def elf_info(path):
    """(e_entry, [(p_offset, p_vaddr, p_filesz) of PT_LOAD]) or None."""
    if path in _elf_cache:
        return _elf_cache[path]
    res = None
    try:
        with open(path, "rb") as f:
            hdr = f.read(64)
            if len(hdr) == 64 and hdr[:4] == b"\x7fELF" and hdr[4] == 2 and hdr[5] == 1:
                e_entry, e_phoff = struct.unpack_from("<QQ", hdr, 24)
                e_phentsize, e_phnum = struct.unpack_from("<HH", hdr, 54)
                f.seek(e_phoff)
                ph = f.read(e_phentsize * e_phnum)
                loads = []
                for i in range(e_phnum):
                    p_type, _, p_offset, p_vaddr, _, p_filesz = struct.unpack_from(
                        "<IIQQQQ", ph, i * e_phentsize)
                    if p_type == 1:
                        loads.append((p_offset, p_vaddr, p_filesz))
                res = (e_entry, loads)
    except (OSError, struct.error):
        pass
    _elf_cache[path] = res
    return res


def is_entry(path, vaddr):
    """vaddr (an ELF address of path) lies in the first bytes of its entry
    point: _start of a stripped executable."""
    info = elf_info(path)
    return bool(info) and info[0] <= vaddr < info[0] + 64


def file_offset_to_vaddr(path, off):
    info = elf_info(path)
    if not info:
        return None
    for p_offset, p_vaddr, p_filesz in info[1]:
        if p_offset <= off < p_offset + p_filesz:
            return off - p_offset + p_vaddr
    return None


_a2l_cache = {}


def addr2line_names(path, vaddrs):
    """Function names for ELF addresses of path (addr2line reads the debug
    info, separate debug files included), cached."""
    todo = sorted({v for v in vaddrs if (path, v) not in _a2l_cache})
    if todo and os.path.exists(path) and shutil.which("addr2line"):
        try:
            out = subprocess.run(["addr2line", "-f", "-e", path] + ["0x%x" % v for v in todo],
                                 capture_output=True, text=True, timeout=120).stdout.splitlines()
        except (OSError, subprocess.SubprocessError):
            out = []
        for i, v in enumerate(todo):
            _a2l_cache[(path, v)] = out[2 * i] if 2 * i < len(out) else "??"
    return {v: _a2l_cache.get((path, v), "??") for v in vaddrs}


# ---------------------------------------------------------------- tools' output


def grab(pattern, text, conv=float):
    m = re.search(pattern, text, re.M)
    return conv(m.group(1).replace(",", "")) if m else None


def sprof_files(rundir):
    return sorted(glob.glob(os.path.join(rundir, "p.bin*")))


def analyze_sprof(report, rundir, stacks):
    files = sprof_files(rundir)
    r = {"files": len(files), "bytes": sum(os.path.getsize(f) for f in files)}
    if not files:
        r["samples"] = 0
        return r
    txt = subprocess.run([report, "info"] + files, capture_output=True, text=True).stdout
    samples, best, handler = 0, -1, None
    handler_sum = handler_n = writer_us = 0
    lost = truncated = 0
    modules = {}
    for block in re.split(r"^== ", txt, flags=re.M):
        n = grab(r"^samples\s+([\d,]+)", block, int)
        if n is None:
            continue
        samples += n
        lost += grab(r"([\d,]+) lost", block, int) or 0
        truncated += grab(r"([\d,]+) truncated", block, int) or 0
        h = re.search(r"median ([\d.]+)-([\d.]+) (ns|us|µs|ms)", block)
        if h and n > best:
            k = UNIT_US[h.group(3)]
            best, handler = n, (float(h.group(1)) * k, float(h.group(2)) * k)
        h = re.search(r"([\d.]+) (ns|us|µs|ms) per sample on average", block)
        if h:
            handler_sum += n * float(h.group(1)) * UNIT_US[h.group(2)]
            handler_n += n
        w = re.search(r"^writer\s+([\d.]+) (ns|us|µs|ms|s) CPU", block, re.M)
        if w:
            writer_us += float(w.group(1)) * UNIT_US[w.group(2)]
        for m in re.finditer(r"^\s+\d[\d,]*\s+(/\S+)", block, re.M):
            modules[os.path.basename(m.group(1))] = m.group(1)
    r.update(samples=samples, lost=lost, truncated=truncated, handler=handler,
             handler_mean=handler_sum / handler_n if handler_n else None,
             own_us=(handler_sum, writer_us))
    if stacks:
        out = subprocess.run([report, "folded"] + files, capture_output=True, text=True).stdout
        total = complete = 0
        for line in out.splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit():
                continue
            n = int(count)
            total += n
            root = stack.split(";", 1)[0]
            if root in COMPLETE_ROOTS:
                complete += n
            else:
                m = re.fullmatch(r"(.+)\+0x([0-9a-f]+)", root)
                if m and m.group(1) in modules and is_entry(modules[m.group(1)], int(m.group(2), 16)):
                    complete += n
        r["stack_total"], r["complete"] = total, complete
    return r


def analyze_floor(rundir):
    n = 0
    try:
        with open(os.path.join(rundir, "stderr"), errors="replace") as f:
            for line in f:
                m = re.match(r"floor: pid \d+ (\d+) signals", line)
                if m:
                    n += int(m.group(1))
    except OSError:
        pass
    return {"samples": n}


def parse_gperf(path):
    """(sampling period µs, [(count, [pc...])], [(start, end, offset, path)])."""
    with open(path, "rb") as f:
        d = f.read()
    nw = len(d) // 8
    w = struct.unpack_from("<%dQ" % nw, d)
    if nw < 5 or w[0] != 0 or w[1] != 3:
        return None
    # header: 0, 3 (words that follow), version, period in µs, padding
    recs, i, period = [], 2 + w[1], w[3]
    while i + 2 <= nw:
        c, n = w[i], w[i + 1]
        if c == 0 and n == 1 and i + 2 < nw and w[i + 2] == 0:
            i += 3
            break
        if i + 2 + n > nw:
            break
        recs.append((c, list(w[i + 2:i + 2 + n])))
        i += 2 + n
    maps = []
    for line in d[i * 8:].decode(errors="replace").splitlines():
        p = line.split()
        if len(p) >= 6 and "-" in p[0] and p[5].startswith("/"):
            try:
                s, e = p[0].split("-")
                maps.append((int(s, 16), int(e, 16), int(p[2], 16), p[5]))
            except ValueError:
                continue  # a damaged file (see BENCHMARKS.md: fork)
    return period, recs, maps


def analyze_gperf(rundir, stacks):
    files = sorted(glob.glob(os.path.join(rundir, "g.prof*")))
    r = {"files": len(files), "bytes": sum(os.path.getsize(f) for f in files), "samples": 0}
    total = complete = 0
    for f in files:
        try:
            parsed = parse_gperf(f)
        except (OSError, struct.error, ValueError):
            parsed = None
        if not parsed:
            continue
        _, recs, maps = parsed
        r["samples"] += sum(c for c, _ in recs)
        if not stacks:
            continue
        # the outermost frame of each stack: module and ELF address
        roots = []  # (count, path, vaddr)
        for c, pcs in recs:
            pc = pcs[-1] - (1 if len(pcs) > 1 else 0)
            where = None
            for s, e, off, path in maps:
                if s <= pc < e:
                    v = file_offset_to_vaddr(path, pc - s + off)
                    where = (path, v) if v is not None else None
                    break
            roots.append((c, where))
        bypath = {}
        for c, where in roots:
            if where and not is_entry(*where):
                bypath.setdefault(where[0], set()).add(where[1])
        names = {p: addr2line_names(p, vs) for p, vs in bypath.items()}
        for c, where in roots:
            total += c
            if where is None:
                continue
            if is_entry(*where) or names.get(where[0], {}).get(where[1]) in COMPLETE_ROOTS:
                complete += c
    if stacks:
        r["stack_total"], r["complete"] = total, complete
    return r


def analyze_perf(rundir, stacks):
    data = os.path.join(rundir, "perf.data")
    r = {"bytes": os.path.getsize(data) if os.path.exists(data) else 0, "samples": 0}
    if not r["bytes"]:
        return r
    st = subprocess.run(["perf", "report", "-i", data, "--stats"], capture_output=True,
                        text=True).stdout
    r["samples"] = grab(r"SAMPLE events:\s+(\d+)", st, int) or 0
    r["lost"] = grab(r"LOST events:\s+(\d+)", st, int) or 0
    if stacks:
        # callchain lines: "\t ADDR SYMBOL (DSO)", the address relative to
        # the DSO; a blank line ends a sample; the last frame is the root.
        p = subprocess.Popen(["perf", "script", "-i", data, "-F", "comm,tid,ip,sym,dso",
                              "--no-inline"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             text=True, errors="replace")
        total = complete = 0
        root = None

        def done(root):
            if root is None:
                return 0
            addr, sym, dso = root
            if sym in COMPLETE_ROOTS:
                return 1
            try:
                return 1 if dso.startswith("/") and is_entry(dso, int(addr, 16)) else 0
            except ValueError:
                return 0

        for line in p.stdout:
            if not line.strip():
                if root is not None:
                    total += 1
                    complete += done(root)
                root = None
            elif line[0] in " \t":
                m = re.match(r"\s*([0-9a-f]+)\s+(.*?)(?:\s+\((.*)\))?\s*$", line)
                if m:
                    sym = re.sub(r"\+0x[0-9a-f]+$", "", m.group(2))
                    root = (m.group(1), sym, m.group(3) or "")
        if root is not None:
            total += 1
            complete += done(root)
        p.wait()
        r["stack_total"], r["complete"] = total, complete
    return r


# ------------------------------------------- builds and their own figures

def builds_with_report(build, against, who):
    """[("sprof", BUILD)] and, with against, ("against", AGAINST): absolute
    paths, each holding libsprof.so and sprof-report (each build's files are
    read by its own sprof-report: the format may differ); else exits."""
    builds = [("sprof", os.path.abspath(build))]
    if against:
        builds.append(("against", os.path.abspath(against)))
    for _, d in builds:
        for f in ("libsprof.so", "sprof-report"):
            if not os.path.exists(os.path.join(d, f)):
                sys.exit("%s: %s does not exist (make first)" % (who, os.path.join(d, f)))
    return builds


INFO_UNITS_US = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}


def report_info(report, path, who):
    """What `sprof-report info` of one file says of the process and of
    sprof's own costs: {"executable": its name, "samples": n, "handler": the
    handler's mean us, "writer": the writer's CPU us}, None where absent."""
    r = subprocess.run([report, "info", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    if r.returncode != 0:
        sys.exit("%s: sprof-report info %s: %s" % (who, path, r.stderr.strip()[-300:]))
    got = {}
    m = re.search(r"^executable\s+(\S+)", r.stdout, re.M)
    got["executable"] = os.path.basename(m.group(1)) if m else None
    m = re.search(r"^samples\s+([0-9]+)", r.stdout, re.M)
    got["samples"] = int(m.group(1)) if m else None
    for key in ("writer", "handler"):
        m = re.search(r"^%s\s+([0-9.]+) (ns|us|ms|s)\b" % key, r.stdout, re.M)
        got[key] = float(m.group(1)) * INFO_UNITS_US[m.group(2)] if m else None
    return got


# ---------------------------------------------------------------- workloads


def build_programs(bdir, cc):
    os.makedirs(bdir, exist_ok=True)
    progs = {}
    for name, src, flags in [
        ("cpu-bound", "cpu-bound.c", ["-O2", "-g", "-fomit-frame-pointer", "-pthread"]),
        ("floor.so", "floor.c", ["-O2", "-shared", "-fPIC"]),
        ("runstat", "runstat.c", ["-O2"]),
        ("forks", "forks.c", ["-O2"]),
        ("interp", os.path.join(ROOT, "tests", "progs", "interp.c"),
         ["-O2", "-g", "-fomit-frame-pointer", "-I" + os.path.join(ROOT, "tests", "progs")]),
    ]:
        out = os.path.join(bdir, name)
        srcp = os.path.join(HERE, src)
        if not os.path.exists(out) or os.path.getmtime(out) < os.path.getmtime(srcp):
            subprocess.check_call([cc] + flags + ["-o", out, srcp])
        progs[name] = out
    return progs


def generate_make_tree(d, nfiles=20, nfuncs=8):
    """nfiles C files (a fraction of a second each at -O2), a main, a
    Makefile that compiles each to an object and links them."""
    os.makedirs(d, exist_ok=True)
    for i in range(nfiles):
        with open(os.path.join(d, f"u{i}.c"), "w") as f:
            f.write("#include <stdint.h>\n#include <string.h>\n")
            for j in range(nfuncs):
                r = j % 13 + 1
                f.write(f"""
uint64_t u{i}_f{j}(const uint64_t *a, int n, uint64_t s)
{{
    uint64_t t[16];
    memset(t, 0, sizeof t);
    for (int k = 0; k < n; k++) {{
        uint64_t x = a[k] ^ (s + {j}u);
        x = (x << {r}) | (x >> {64 - r});
        t[k & 15] += x * {2 * j + 1}u;
        if (x & {1 << (j % 7)}) s ^= t[(k + {j}) & 15]; else s += x / {j + 3}u;
        switch ((int)(x % 5)) {{
        case 0: s = s * 31 + {i}; break;
        case 1: s ^= s >> 7; break;
        case 2: s += t[3] * {j}; break;
        case 3: s -= t[(k * 3) & 15]; break;
        default: s = ~s; break;
        }}
    }}
    for (int k = 0; k < 16; k++) s += t[k] << (k & 7);
    return s;
}}
""")
            f.write(f"uint64_t u{i}(const uint64_t *a, int n)\n{{\n    uint64_t s = 0;\n")
            for j in range(nfuncs):
                f.write(f"    s += u{i}_f{j}(a, n, s);\n")
            f.write("    return s;\n}\n")
    with open(os.path.join(d, "main.c"), "w") as f:
        f.write("#include <stdint.h>\n#include <stdio.h>\n")
        for i in range(nfiles):
            f.write(f"uint64_t u{i}(const uint64_t *a, int n);\n")
        f.write("int main(void)\n{\n    uint64_t a[64], s = 0;\n"
                "    for (int i = 0; i < 64; i++) a[i] = i * 2654435761u;\n")
        for i in range(nfiles):
            f.write(f"    s += u{i}(a, 64);\n")
        f.write('    printf("%llu\\n", (unsigned long long)s);\n    return 0;\n}\n')
    objs = " ".join(f"u{i}.o" for i in range(nfiles))
    with open(os.path.join(d, "Makefile"), "w") as f:
        f.write(f"CFLAGS = -O2\nprog: main.o {objs}\n\t$(CC) -o $@ $^\n"
                "%.o: %.c\n\t$(CC) $(CFLAGS) -c -o $@ $<\n")


def clean_make_tree(d):
    for f in glob.glob(os.path.join(d, "*.o")) + [os.path.join(d, "prog")]:
        if os.path.exists(f):
            os.remove(f)


class Workload:
    def __init__(self, name, desc, argv, threads=1, cwd=None, prepare=None):
        self.name, self.desc, self.argv, self.threads = name, desc, argv, threads
        self.cwd, self.prepare = cwd, prepare
        self.skip = None


def make_workloads(a, progs, tmp):
    s = a.scale
    it = str(max(1, int(2000 * s)))
    cpu = progs["cpu-bound"]
    w = {}
    w["cpu"] = Workload("cpu", f"cpu-bound {it}: CPU-bound C, 30-frame stacks, no frame pointers",
                        [cpu, it, "28"])
    py = a.python or sys.executable
    ps = f"{0.85 * s:g}"
    ver = ""
    if py and os.access(py, os.X_OK):
        ver = subprocess.run([py, "-c", "import sys; print(sys.version.split()[0])"],
                             capture_output=True, text=True).stdout.strip()
    w["python"] = Workload("python", f"{py} ({ver or '?'}) pybench.py {ps}: pure-Python n-body "
                           "and recursive fib", [py, os.path.join(HERE, "pybench.py"), ps])
    if not ver:
        w["python"].skip = f"no working python3 interpreter ({py})"
    # a fixed amount of work, measured once (when the workload is run):
    # evaluations of its tree in 0.9 s, and its leaf's iterations (its own
    # calibration would give each mode less work the more it costs)
    ms = str(max(10, int(900 * s)))
    cal = []
    if "interp" in a.workload:
        cal = subprocess.run([progs["interp"], "-c", ms], capture_output=True,
                             text=True).stdout.split()
    if len(cal) != 2:
        cal = ["10", "3500"]
    w["interp"] = Workload("interp", f"interp -n {cal[0]} {cal[1]}: a tree-walking evaluator "
                           "(tests/progs/interp.c): new 35-frame stacks without end",
                           [progs["interp"], "-n"] + cal)
    nt = a.threads
    w["threads"] = Workload("threads", f"cpu-bound {it} 28 {nt}: {nt} CPU-bound threads on "
                            f"{os.cpu_count()} CPUs, 30-frame stacks", [cpu, it, "28", str(nt)],
                            threads=nt + 1)
    w["deep"] = Workload("deep", f"cpu-bound {it} 198: 200-frame stacks, no frame pointers",
                         [cpu, it, "198"])
    w["coro"] = Workload("coro", f"cpu-bound {it} 28 0 coro: the cpu workload's 30-frame stacks "
                         "on two makecontext coroutines' stacks", [cpu, it, "28", "0", "coro"])
    n = max(10, int(300 * s))
    w["exec"] = Workload("exec", f"sh running /bin/true {n} times: what each new process costs",
                         ["sh", "-c", f"i=0; while [ $i -lt {n} ]; do /bin/true; i=$((i + 1)); done"])
    # bash forks for each command (dash, the exec workload's sh here, and
    # make use vfork or posix_spawn, which run no fork handlers): a followed
    # child of fork that execs at once
    w["fork"] = Workload("fork", f"bash running /bin/true {n} times: a fork and an exec each",
                         ["bash", "-c", f"for ((i = 0; i < {n}; i++)); do /bin/true; done"])
    if not shutil.which("bash"):
        w["fork"].skip = "bash is not installed"
    mk = os.path.join(tmp, "make-tree")
    nfiles = 20
    w["make"] = Workload("make", f"make -j2 of {nfiles} generated C files (gcc -O2) and a link",
                         ["make", "-s", "-j2", f"CC={a.cc}", "prog"], cwd=mk,
                         prepare=lambda: clean_make_tree(mk))
    if not shutil.which("make"):
        w["make"].skip = "make is not installed"
    else:
        generate_make_tree(mk, nfiles, max(2, int(8 * min(1.0, s * 1.5))))
    return w


# ---------------------------------------------------------------- runs


def clean_env():
    env = {k: v for k, v in os.environ.items()
           if not (k.startswith("SPROF_") or k.startswith("CPUPROFILE") or k in (
               "LD_PRELOAD", "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "FLOOR_DEBUG",
               "FLOOR_THREAD",
               "PERF_BUILDID_DIR"))}
    env["LC_ALL"] = "C"
    return env


def preload_modes(build, against, floor, who):
    """The modes of starts.py and forkcost.py, (name, library or None):
    plain, the floor, this build's libsprof.so and, with against, another
    libsprof.so; exits naming who when a library is missing."""
    lib = os.path.abspath(os.path.join(build, "libsprof.so"))
    if not os.path.exists(lib):
        sys.exit("%s: %s does not exist (make first)" % (who, lib))
    modes = [("plain", None), ("floor", os.path.abspath(floor)), ("sprof", lib)]
    if against:
        if not os.path.exists(against):
            sys.exit("%s: %s does not exist" % (who, against))
        modes.append(("against", os.path.abspath(against)))
    return modes


def copy_libraries(modes, d):
    """modes, (name, library or None) each, with each library replaced by a
    copy made in directory d, all alike: the same bytes written by the
    linker in small pieces started 3-5 us slower than written by cp at once
    (the page cache's folios, on the host of session 46's Linux 6.18 ext4;
    BENCHMARKS.md, session 46), which a comparison of a fresh build with an
    older one, or of libsprof.so with the floor, would otherwise count."""
    out = []
    for i, (name, path) in enumerate(modes):
        if path:
            copy = os.path.join(d, "%d-%s" % (i, os.path.basename(path)))
            shutil.copyfile(path, copy)
            path = copy
        out.append((name, path))
    return out


def preload_envs(modes, freq, **sprof_vars):
    """The environment of each mode: this one without sprof's, the floor's
    or a preload's variables, and for a mode with a library, that library
    preloaded at freq with sprof_vars (SPROF_OUTPUT or SPROF_SESSION)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("SPROF_") and k != "LD_PRELOAD"}
    envs = {}
    for name, path in modes:
        e = dict(base)
        if path:
            e.update(LD_PRELOAD=path, SPROF_FREQ=str(freq), **sprof_vars)
        envs[name] = e
    return envs


def mean_2se(d):
    """The mean of paired differences and twice its standard error."""
    if len(d) < 2:
        return "%+.1f" % d[0]
    return "%+.1f +- %.1f" % (statistics.mean(d), 2 * statistics.stdev(d) / len(d) ** 0.5)


def read_runstat(path):
    """(cpu seconds, max RSS KiB, user seconds) that runstat wrote, or None."""
    try:
        with open(path) as f:
            u, s, rss = f.read().split()
        return float(u) + float(s), int(rss), float(u)
    except (OSError, ValueError):
        return None


def one_run(a, wl, mode, hz, rundir, tools, progs, stacks):
    """One run of workload wl under mode, through runstat (see runstat.c),
    then the analysis of what the tool wrote."""
    os.makedirs(rundir, exist_ok=True)
    add = {}
    argv = list(wl.argv)
    if mode in ("sprof", "against"):
        lib = tools["libsprof" if mode == "sprof" else "libsprof-against"]
        add = dict(LD_PRELOAD=lib, SPROF_OUTPUT=os.path.join(rundir, "p.bin"), SPROF_FREQ=str(hz))
    elif mode in ("floor", "floor-thread"):
        add = dict(LD_PRELOAD=progs["floor.so"], SPROF_FREQ=str(hz), FLOOR_DEBUG="1")
        if mode == "floor-thread":
            add["FLOOR_THREAD"] = "1"
    elif mode == "gperftools":
        add = dict(LD_PRELOAD=tools["libprofiler"], CPUPROFILE=os.path.join(rundir, "g.prof"),
                   CPUPROFILE_FREQUENCY=str(hz))
    elif mode in ("perf-fp", "perf-dwarf"):
        cg = ["-g"] if mode == "perf-fp" else ["--call-graph", "dwarf"]
        argv = (["perf", "record", "-q", "-e", "task-clock:u", "-F", str(hz)] + cg +
                ["-o", os.path.join(rundir, "perf.data"), "--", progs["runstat"],
                 os.path.join(rundir, "inner"), "--"] + argv)
    outer = os.path.join(rundir, "outer")
    argv = [progs["runstat"], outer] + [f"{k}={v}" for k, v in add.items()] + ["--"] + argv
    if wl.prepare:
        wl.prepare()
    with open(os.path.join(rundir, "stderr"), "w") as err:
        t0 = time.monotonic()
        p = subprocess.Popen(argv, env=clean_env(), cwd=wl.cwd or rundir,
                             stdout=subprocess.DEVNULL, stderr=err)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.monotonic() - t0
        p.returncode = status
    st = read_runstat(outer)
    rec = {"mode": mode, "hz": hz, "wall": wall, "status": status,
           "cpu": st[0] if st else ru.ru_utime + ru.ru_stime,
           "maxrss": st[1] if st else ru.ru_maxrss}
    if status != 0 or not st:
        with open(os.path.join(rundir, "stderr"), errors="replace") as f:
            rec["error"] = f"exit status {status}: " + " | ".join(f.read().splitlines()[-3:])
        return rec
    rec["wl_cpu"], rec["wl_user"] = rec["cpu"], st[2]
    if mode in ("sprof", "against"):
        rec.update(analyze_sprof(tools["report"], rundir, stacks))
    elif mode in ("floor", "floor-thread"):
        rec.update(analyze_floor(rundir))
    elif mode == "gperftools":
        rec.update(analyze_gperf(rundir, stacks and tools.get("addr2line")))
    elif mode.startswith("perf"):
        inner = read_runstat(os.path.join(rundir, "inner"))
        if inner:
            rec["wl_cpu"], rec["wl_user"] = inner[0], inner[2]
        rec.update(analyze_perf(rundir, stacks))
    return rec


def perf_max_rate():
    try:
        with open("/proc/sys/kernel/perf_event_max_sample_rate") as f:
            return int(f.read())
    except (OSError, ValueError):
        return None


def find_tools(a):
    tools, skips = {}, {}
    lib = os.path.join(a.build, "libsprof.so")
    rep = os.path.join(a.build, "sprof-report")
    if os.path.exists(lib) and os.path.exists(rep):
        tools["libsprof"], tools["report"] = os.path.abspath(lib), os.path.abspath(rep)
    else:
        skips["sprof"] = f"{lib} or {rep} is missing (run make BUILD={a.build})"
    if a.against:
        lib = os.path.join(a.against, "libsprof.so")
        if os.path.exists(lib):
            tools["libsprof-against"] = os.path.abspath(lib)
        else:
            skips["against"] = f"{lib} is missing"
    prof = next((p for p in LIBPROFILER_CANDIDATES if os.path.exists(p)), None)
    if prof:
        tools["libprofiler"] = prof
    else:
        skips["gperftools"] = "libprofiler.so not found (Debian: apt-get install libgoogle-perftools4)"
    tools["addr2line"] = bool(shutil.which("addr2line"))
    if not shutil.which("perf"):
        skips["perf-fp"] = skips["perf-dwarf"] = "perf is not installed"
    else:
        with tempfile.TemporaryDirectory() as d:
            for mode, cg in (("perf-fp", ["-g"]), ("perf-dwarf", ["--call-graph", "dwarf"])):
                r = subprocess.run(["perf", "record", "-q", "-e", "task-clock:u", "-F", "999"] + cg +
                                   ["-o", os.path.join(d, "t.data"), "--", "true"],
                                   capture_output=True, text=True)
                if r.returncode != 0:
                    skips[mode] = "perf record failed: " + (r.stderr.strip().splitlines() or ["?"])[0]
    return tools, skips


# ---------------------------------------------------------------- statistics and tables


def med(xs):
    return statistics.median(xs) if xs else None


def summarize(recs, plain_by_round):
    """recs: this (mode, hz)'s runs, each with 'round'."""
    ok = [r for r in recs if "error" not in r]
    s = {"runs": len(recs), "ok": len(ok), "errors": [r["error"] for r in recs if "error" in r]}
    if not ok:
        return s
    s["cpu"] = [r["cpu"] for r in ok]
    s["wall"] = [r["wall"] for r in ok]
    cpu_o, wall_o, by_round = [], [], {}
    for r in ok:
        p = plain_by_round.get(r["round"])
        if p:
            cpu_o.append(r["cpu"] / p["cpu"] - 1)
            wall_o.append(r["wall"] / p["wall"] - 1)
            by_round[r["round"]] = cpu_o[-1]
    s["cpu_ovh"], s["wall_ovh"], s["cpu_ovh_by_round"] = cpu_o, wall_o, by_round
    # per second of what the tool's timer counts (the docstring: rate)
    def timed(r):
        return r.get("wl_cpu" if r["mode"] == "gperftools" else "wl_user")
    rates = [r["samples"] / timed(r) for r in ok if r.get("samples") and timed(r)]
    s["rate"] = rates
    s["rate_all"] = [r["samples"] / r["wl_cpu"] for r in ok if r.get("samples") and r.get("wl_cpu")]
    bps = [r["bytes"] / r["samples"] for r in ok if r.get("samples") and r.get("bytes")]
    s["bps"] = bps
    tot = sum(r.get("stack_total", 0) for r in ok)
    s["stack_total"] = tot
    s["complete"] = sum(r.get("complete", 0) for r in ok) / tot if tot else None
    s["maxrss"] = [r["maxrss"] for r in ok]
    hs = [r["handler"] for r in ok if r.get("handler")]
    s["handler"] = (med([h[0] for h in hs]), med([h[1] for h in hs])) if hs else None
    s["handler_mean"] = med([r["handler_mean"] for r in ok if r.get("handler_mean")])
    owns = [r["own_us"] for r in ok if r.get("own_us")]
    s["own"] = (med([sum(o) / 1e6 for o in owns]), med([o[1] / 1e6 for o in owns])) if owns else None
    samples = sum(r.get("samples", 0) for r in ok)
    s["lost"] = sum(r.get("lost", 0) for r in ok)
    s["truncated_share"] = (sum(r.get("truncated", 0) for r in ok) / samples) if samples else None
    s["files"] = med([r["files"] for r in ok if "files" in r])
    return s


def fmt_us(x):
    return f"{x:.3g}"


def pct(x, plus=True):
    return "-" if x is None else (f"{100 * x:+.1f}%" if plus else f"{100 * x:.1f}%")


def rng(xs):
    return f"{100 * min(xs):+.0f}..{100 * max(xs):+.0f}" if xs else ""


def over_floor(s, floor):
    """Per round, this mode's CPU overhead minus the floor's (paired)."""
    mine, theirs = s.get("cpu_ovh_by_round") or {}, (floor or {}).get("cpu_ovh_by_round") or {}
    return [mine[r] - theirs[r] for r in mine if r in theirs]


def points(xs):
    """Median and min..max of differences of overheads, in points."""
    if not xs:
        return "-"
    return f"{100 * med(xs):+.1f} ({100 * min(xs):+.0f}..{100 * max(xs):+.0f})"


def cells(s, plain, floor, hz, wl):
    """One table row's values (strings) for a summarized mode."""
    if s.get("skip"):
        return None
    if not s.get("ok"):
        return None
    c = {}
    c["cpu"] = f"{med(s['cpu']):.3f}"
    c["cpu_ovh"] = pct(med(s["cpu_ovh"])) if s["cpu_ovh"] else "-"
    c["cpu_rng"] = rng(s["cpu_ovh"])
    c["wall_ovh"] = pct(med(s["wall_ovh"])) if s["wall_ovh"] else "-"
    c["wall_rng"] = rng(s["wall_ovh"])
    fo = med(floor["cpu_ovh"]) if floor and floor.get("cpu_ovh") else None
    mo = med(s["cpu_ovh"]) if s["cpu_ovh"] else None
    c["xfloor"] = f"{mo / fo:.2f}" if fo and mo is not None and fo > 0.002 else "-"
    c["paired"] = points(over_floor(s, floor)) if s is not floor else "-"
    r = med(s["rate"])
    c["rate"] = f"{r:,.0f}/s ({100 * r / hz:.1f}%)" if r else "-"
    b = med(s["bps"])
    c["bps"] = f"{b:,.2f}" if b else "-"
    c["complete"] = pct(s["complete"], False) if s.get("complete") is not None else "n/a"
    if plain and plain.get("maxrss") and s.get("maxrss"):
        c["rss"] = f"{(med(s['maxrss']) - med(plain['maxrss'])) / 1024:+.1f}"
    else:
        c["rss"] = "-"
    h = s.get("handler")
    c["handler"] = f"{s['handler_mean']:.2f} ({fmt_us(h[0])}-{fmt_us(h[1])})" if h else ""
    o, p = s.get("own"), med(plain["cpu"]) if plain and plain.get("cpu") else None
    c["own"] = f"+{100 * o[0] / p:.1f} ({100 * o[1] / p:.1f})" if o and p else ""
    return c


COLS = [("mode", "mode", 12), ("cpu", "CPU s", 7), ("cpu_ovh", "CPU ovh", 8),
        ("cpu_rng", "(min..max %)", 12), ("wall_ovh", "wall ovh", 8), ("wall_rng", "(min..max %)", 12),
        ("xfloor", "x floor", 7), ("paired", "- floor (pts)", 16),
        ("rate", "samples per timed s", 18), ("bps", "B/sample", 9),
        ("complete", "complete", 8), ("rss", "RSS MiB", 7),
        ("handler", "handler us: mean (median)", 25), ("own", "own pts (writer)", 16)]


def print_text(wl, res, a, modes, out):
    print(f"\n## {wl.name}: {wl.desc}", file=out)
    if wl.skip:
        print(f"   skipped: {wl.skip}", file=out)
        return
    plain = res.get(("plain", None))
    if not plain or not plain.get("ok"):
        errs = plain.get("errors") if plain else None
        print(f"   plain runs failed: {errs[:1] if errs else '?'}", file=out)
        return
    print(f"   plain: CPU {med(plain['cpu']):.3f} s ({min(plain['cpu']):.3f}..{max(plain['cpu']):.3f}),"
          f" wall {med(plain['wall']):.3f} s ({min(plain['wall']):.3f}..{max(plain['wall']):.3f}),"
          f" max RSS {med(plain['maxrss']) / 1024:.1f} MiB; {plain['ok']} runs", file=out)
    for hz in a.freq:
        print(f"\n   {hz} Hz requested", file=out)
        print("   " + "  ".join(f"{t:>{w}}" if i else f"{t:<{w}}"
                                for i, (_, t, w) in enumerate(COLS)), file=out)
        floor = res.get(("floor", hz))
        for m in modes:
            if m == "plain":
                continue
            s = res.get((m, hz), {})
            if s.get("skip"):
                print(f"   {m:<12}  skipped: {s['skip']}", file=out)
                continue
            c = cells(s, plain, floor, hz, wl)
            if c is None:
                print(f"   {m:<12}  all runs failed: {(s.get('errors') or ['?'])[0]}", file=out)
                continue
            c["mode"] = m
            print("   " + "  ".join(f"{c[k]:>{w}}" if i else f"{c[k]:<{w}}"
                                    for i, (k, _, w) in enumerate(COLS)), file=out)
            if s.get("errors"):
                print(f"   {'':12}  {len(s['errors'])} of {s['runs']} runs failed: {s['errors'][0]}",
                      file=out)
        targets(wl, res, hz, plain, out)


def targets(wl, res, hz, plain, out):
    """The targets, printed beside sprof's figures (never pass/fail)."""
    s = res.get(("sprof", hz), {})
    if not s.get("ok"):
        return
    floor = res.get(("floor", hz), {})
    rows = []

    def row(what, figure, met, note=""):
        rows.append((what, figure, "met" if met else "missed", note))

    want = 0.99 if hz < 5000 else 0.95
    r, fr = med(s["rate"]), med(floor.get("rate") or [])
    if r:
        ra = med(s.get("rate_all") or [])
        row(f"achieved rate >= {want:.0%} of requested", f"{r / hz:.1%}", r / hz >= want,
            (f"floor {fr / hz:.1%}; " if fr else "") +
            (f"per second of user+system time {ra / hz:.1%}" if ra else ""))
    if s.get("complete") is not None:
        row(f"complete stacks >= {want:.0%}", f"{s['complete']:.1%}", s["complete"] >= want,
            f"truncated walks {s['truncated_share']:.1%}" if s.get("truncated_share") else "")
    fo, so = med(floor.get("cpu_ovh") or []), med(s.get("cpu_ovh") or [])
    if fo is not None and so is not None and fo > 0.002:
        row(f"CPU overhead <= {TARGET_RATIO_FLOOR}x the floor's", f"{so / fo:.2f}x",
            so / fo <= TARGET_RATIO_FLOOR,
            f"sprof {so:+.1%}, floor {fo:+.1%}; paired, sprof - floor "
            f"{points(over_floor(s, floor))} points")
    b = med(s["bps"])
    if b:
        row(f"<= {TARGET_BYTES:g} bytes per sample", f"{b:.2f}", b <= TARGET_BYTES)
    lim = (RSS_BASE_KIB + RSS_PER_THREAD_KIB * wl.threads) / 1024
    d = (med(s["maxrss"]) - med(plain["maxrss"])) / 1024
    row(f"RSS <= {lim:g} MiB more ({wl.threads} thread{'s' if wl.threads > 1 else ''})",
        f"{d:+.1f} MiB", d <= lim)
    if wl.name == "cpu" and s.get("handler"):
        h = s["handler"]
        row(f"handler median <= {TARGET_HANDLER_US:g} us (30 frames)",
            f"{fmt_us(h[0])}-{fmt_us(h[1])} us", h[1] <= TARGET_HANDLER_US,
            f"mean {s['handler_mean']:.2f} us" if s.get("handler_mean") else "")
    print("   sprof against the targets:", file=out)
    for what, fig, verdict, note in rows:
        print(f"     {what:<38} {fig:>12}  {verdict:<6}  {note}".rstrip(), file=out)


def print_markdown(workloads, results, a, modes, out):
    hdr = ["rate", "mode", "CPU overhead", "wall overhead", "x floor", "- floor (paired)",
           "samples per timed s", "bytes/sample", "complete stacks", "RSS",
           "handler mean (median)", "own CPU, points (writer)"]
    for name in a.workload:
        wl = workloads[name]
        res = results.get(name, {})
        print(f"\n### {name}: {wl.desc}\n", file=out)
        if wl.skip:
            print(f"skipped: {wl.skip}", file=out)
            continue
        plain = res.get(("plain", None))
        if not plain or not plain.get("ok"):
            print("plain runs failed", file=out)
            continue
        print(f"plain: CPU {med(plain['cpu']):.3f} s, wall {med(plain['wall']):.3f} s, "
              f"max RSS {med(plain['maxrss']) / 1024:.1f} MiB, {plain['ok']} runs\n", file=out)
        print("| " + " | ".join(hdr) + " |", file=out)
        print("|" + "---|" * len(hdr), file=out)
        for hz in a.freq:
            floor = res.get(("floor", hz))
            for m in modes:
                if m == "plain":
                    continue
                s = res.get((m, hz), {})
                rate = f"{hz / 1000:g} kHz" if hz >= 10000 else f"{hz:,} Hz"
                if s.get("skip"):
                    print(f"| {rate} | {m} | skipped: {s['skip']} |" + " |" * 9, file=out)
                    continue
                c = cells(s, plain, floor, hz, wl)
                if c is None:
                    print(f"| {rate} | {m} | failed |" + " |" * 9, file=out)
                    continue
                row = [rate, m if m != "sprof" else "**sprof**",
                       f"{c['cpu_ovh']} ({c['cpu_rng']})" if c["cpu_rng"] else c["cpu_ovh"],
                       f"{c['wall_ovh']} ({c['wall_rng']})" if c["wall_rng"] else c["wall_ovh"],
                       c["xfloor"], c["paired"] if m != "floor" else "-", c["rate"], c["bps"],
                       c["complete"],
                       f"{c['rss']} MiB" if c["rss"] != "-" else "-",
                       f"{c['handler']} µs" if c["handler"] else "", c["own"]]
                print("| " + " | ".join(row) + " |", file=out)


# ---------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"),
                    help="sprof build directory (libsprof.so, sprof-report); default build")
    ap.add_argument("--runs", type=int, help="interleaved rounds per workload (default 10; --quick 3)")
    ap.add_argument("--freq", type=int, nargs="+", default=[999, 10000], metavar="HZ",
                    help="requested rates (default 999 10000)")
    ap.add_argument("--workload", nargs="+", default=ALL_WORKLOADS,
                    choices=ALL_WORKLOADS + EXTRA_WORKLOADS, metavar="NAME",
                    help=f"workloads to run: {' '.join(ALL_WORKLOADS)} (default all), and "
                    f"{' '.join(EXTRA_WORKLOADS)} only when named")
    ap.add_argument("--modes", nargs="+", default=DEFAULT_MODES, choices=ALL_MODES, metavar="MODE",
                    help=f"modes to run: {' '.join(ALL_MODES[1:])} (default all but "
                    "floor-thread; plain always runs)")
    ap.add_argument("--quick", action="store_true",
                    help="3 rounds and a third of the work, for development")
    ap.add_argument("--stack-runs", type=int, default=3,
                    help="check stack completeness on the first K runs of each mode (-1: all)")
    ap.add_argument("--markdown", action="store_true", help="also print Markdown tables")
    ap.add_argument("--json", help="write every run's figures to this file")
    ap.add_argument("--keep", help="keep every run's files under this directory")
    ap.add_argument("--against", metavar="BUILD",
                    help="another sprof build directory, run as the mode 'against' in the same "
                         "interleaved series: two versions compared on one noisy machine")
    ap.add_argument("--python", help="interpreter for the python workload (default: this one)")
    ap.add_argument("--threads", type=int, default=8, metavar="N",
                    help="threads of the threads workload (8)")
    a = ap.parse_args()
    if a.threads < 1:
        ap.error("--threads: at least 1")
    a.build = os.path.abspath(a.build)
    if a.against:
        a.against = os.path.abspath(a.against)
    if a.runs is None:
        a.runs = 3 if a.quick else 10
    a.scale = 0.3 if a.quick else 1.0
    a.cc = os.environ.get("CC", "cc")
    modes = ["plain"] + [m for m in ALL_MODES if m in a.modes and m != "plain"]
    if a.against:
        modes.insert(modes.index("sprof") + 1 if "sprof" in modes else 1, "against")
    a.workload = [w for w in ALL_WORKLOADS + EXTRA_WORKLOADS if w in a.workload]

    tools, skips = find_tools(a)
    bdir = os.path.join(a.build, "bench")
    progs = build_programs(bdir, a.cc)
    tmp = a.keep or tempfile.mkdtemp(prefix="sprof-bench-")
    os.makedirs(tmp, exist_ok=True)
    if not a.keep:
        atexit.register(shutil.rmtree, tmp, True)  # also after ^C
    workloads = make_workloads(a, progs, tmp)
    try:
        load = os.getloadavg()
    except OSError:
        load = None
    t_start = time.monotonic()
    out = sys.stdout
    print(f"# sprof bench: {a.runs} interleaved rounds per workload, rates {', '.join(map(str, a.freq))} Hz"
          f"{', quick' if a.quick else ''}", file=out)
    print(f"# machine: {os.cpu_count()} CPUs, Linux {os.uname().release}"
          + (f", load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the start" if load else ""),
          file=out)
    against = f"against: {a.against}; " if a.against else ""
    print(f"# sprof: {a.build}; {against}gperftools: {tools.get('libprofiler', 'none')}; "
          f"perf: {shutil.which('perf') or 'none'}", file=out)
    rate0 = perf_max_rate()
    if rate0 is not None:
        print(f"# kernel.perf_event_max_sample_rate {rate0}", file=out)
    for m, why in skips.items():
        if m in modes:
            print(f"# {m}: skipped: {why}", file=out)
    out.flush()

    results, raw = {}, []
    for name in a.workload:
        wl = workloads[name]
        res = {}
        results[name] = res
        if wl.skip:
            print_text(wl, res, a, modes, out)
            continue
        series = [("plain", None)] + [(m, hz) for hz in a.freq for m in modes if m != "plain"]
        for m, hz in series:
            if m in skips:
                res[(m, hz)] = {"skip": skips[m]}
        recs = {k: [] for k in series}
        t0 = time.monotonic()
        for rnd in range(a.runs):
            # each round starts one further along: no mode always runs first
            k = rnd % len(series)
            for m, hz in series[k:] + series[:k]:
                if m in skips:
                    continue
                rundir = os.path.join(tmp, name, f"{m}-{hz or 0}-{rnd}")
                stacks = a.stack_runs < 0 or rnd < a.stack_runs
                rec = one_run(a, wl, m, hz, rundir, tools, progs, stacks)
                rec["round"] = rnd
                rec["workload"] = name
                recs[(m, hz)].append(rec)
                raw.append(rec)
                if not a.keep:
                    shutil.rmtree(rundir, ignore_errors=True)
            log(f"bench: {name}: round {rnd + 1}/{a.runs} done ({time.monotonic() - t0:.0f} s)")
        plain_by_round = {r["round"]: r for r in recs[("plain", None)] if "error" not in r}
        for k, rs in recs.items():
            if k not in res:
                res[k] = summarize(rs, plain_by_round)
        print_text(wl, res, a, modes, out)
        out.flush()
    took = time.monotonic() - t_start
    try:
        load = os.getloadavg()
        print(f"\n# took {took / 60:.1f} min; load average at the end {load[0]:.2f} {load[1]:.2f} "
              f"{load[2]:.2f}", file=out)
    except OSError:
        print(f"\n# took {took / 60:.1f} min", file=out)
    rate1 = perf_max_rate()
    if rate1 is not None and rate1 != rate0:
        print(f"# note: the kernel lowered perf_event_max_sample_rate to {rate1} during the run "
              "(a perf interrupt took too long): rates above it were throttled for every tool",
              file=out)
    if a.markdown:
        print_markdown(workloads, results, a, modes, out)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"runs": a.runs, "freq": a.freq, "records": raw}, f, indent=1)


if __name__ == "__main__":
    main()
