#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Page faults and CPU time a command takes under sprof, against the floor.

On a virtual machine a page fault taken by a trap costs 10-15 us (an
anonymous page; a file's page, with the kernel's fault-around of 16 pages,
about as much), and a profiled process takes its faults where the program
cannot afford them: in its signal handler, at its start, at its end. The
counts do not drift with the machine's load the way times do, so this is
how a change to the recorder's memory use is measured.

Runs the command (default: gcc -O2 -c of one of `make bench`'s generated
files) under `perf stat -e page-faults,task-clock -r REPEAT` with no
preload, under the floor (scripts/bench/floor.c: the same timer with an
empty handler), under libsprof.so and, with --against, under another
build's, and with --variant NAME:VAR=VALUE,... under this build with
those environment variables as well (SPROF_UNWIND=fp: what unwinding
costs), the modes interleaved for --runs rounds; prints each mode's
median faults and CPU per run, and their excess over the floor. The faults
perf counts are the ones taken by a trap: pages faulted in by a system call
(MAP_POPULATE, madvise) are not among them.

With --attribute, `perf record -e page-faults -d` of the command under
sprof (and the --against build) lists the faults sprof's own code took,
by process, function and the mapping of the address that faulted.

    python3 scripts/bench/faults.py --build build --runs 8
    python3 scripts/bench/faults.py --build build --against /tmp/oldb --attribute
    python3 scripts/bench/faults.py --build build -- /bin/true
    python3 scripts/bench/faults.py --build build --variant fp:SPROF_UNWIND=fp
"""
import argparse
import collections
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402  (the make tree's generator, the floor's build)


def perf_stat(argv, env, cwd, repeat):
    """(page faults, task-clock ms) per run, as perf stat averages them."""
    r = subprocess.run(["perf", "stat", "-x,", "-e", "page-faults,task-clock", "-r", str(repeat),
                        "--"] + argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.exit("faults.py: perf stat of %s exited with %d: %s" %
                 (" ".join(argv), r.returncode, r.stderr.strip()[-300:]))
    got = {}
    for line in r.stderr.splitlines():
        f = line.split(",")
        if len(f) >= 3 and f[2] in ("page-faults", "task-clock"):
            try:
                got[f[2]] = float(f[0])
            except ValueError:
                pass
    if len(got) != 2:
        sys.exit("faults.py: perf stat printed no counts: %s" % r.stderr.strip()[-300:])
    return got["page-faults"], got["task-clock"]


# perf script -F comm,ip,sym,dso,addr: "comm addr [addrsym] (addrmap) ip sym (dso)"
LINE = re.compile(r"^\s*(\S+)\s+([0-9a-f]+)\s+(.*?)\s*\((.*?)\)\s+([0-9a-f]+)\s+(.*?)\s*\((.*?)\)\s*$")


def attribute(argv, env, cwd, out, lib_names):
    """Counter of (comm, function, mapping) for faults whose ip is sprof's."""
    data = os.path.join(out, "perf.data")
    subprocess.run(["perf", "record", "-q", "-o", data, "-e", "page-faults", "-c", "1", "-d",
                    "--"] + argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=True)
    r = subprocess.run(["perf", "script", "-i", data, "-F", "comm,ip,sym,dso,addr"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    c = collections.Counter()
    for line in r.stdout.splitlines():
        m = LINE.match(line)
        if not m or os.path.basename(m.group(7)) not in lib_names:
            continue
        mapping = m.group(4)
        if mapping.startswith("/"):
            mapping = os.path.basename(mapping)
        c[(m.group(1), m.group(6).split("+")[0] or "?", mapping)] += 1
    os.unlink(data)
    return c


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default="build", help="sprof build directory (default build)")
    ap.add_argument("--against", metavar="BUILD", help="another build directory to compare with")
    ap.add_argument("--freq", type=int, default=999, help="SPROF_FREQ (default 999)")
    ap.add_argument("--runs", type=int, default=5, help="interleaved rounds (default 5)")
    ap.add_argument("--repeat", type=int, default=5, help="perf stat -r, a round (default 5)")
    ap.add_argument("--variant", action="append", default=[], metavar="NAME:VAR=VALUE,...",
                    help="another mode: this build's libsprof.so with these environment "
                    "variables as well (e.g. fp:SPROF_UNWIND=fp); may be repeated")
    ap.add_argument("--attribute", action="store_true",
                    help="also list the faults sprof's own code takes (perf record)")
    ap.add_argument("command", nargs="*", help="the command (default: gcc -O2 -c u0.c of "
                    "`make bench`'s make tree)")
    a = ap.parse_args()
    if not shutil.which("perf"):
        sys.exit("faults.py: perf is needed (Debian: linux-perf)")

    libs = [("sprof", os.path.abspath(os.path.join(a.build, "libsprof.so")))]
    if a.against:
        libs.append(("against", os.path.abspath(os.path.join(a.against, "libsprof.so"))))
    for _, path in libs:
        if not os.path.exists(path):
            sys.exit("faults.py: %s does not exist (make first)" % path)
    extra = {}
    for v in a.variant:
        name, _, assigns = v.partition(":")
        pairs = [x.partition("=") for x in assigns.split(",") if x]
        if not name or name in ("plain", "floor", "sprof", "against") or not pairs or \
                any(not k or not eq for k, eq, _ in pairs):
            sys.exit("faults.py: --variant %r: want NAME:VAR=VALUE[,VAR=VALUE...]" % v)
        extra[name] = {k: val for k, _, val in pairs}
        libs.append((name, libs[0][1]))
    progs = bench.build_programs(os.path.join(a.build, "bench"), os.environ.get("CC", "cc"))
    modes = [("plain", None), ("floor", os.path.abspath(progs["floor.so"]))] + libs

    tmp = tempfile.mkdtemp(prefix="sprof-faults.")
    try:
        argv = a.command
        cwd = tmp
        if not argv:
            bench.generate_make_tree(tmp, nfiles=1)
            argv = ["gcc", "-O2", "-c", "u0.c", "-o", "u0.o"]
        base = {k: v for k, v in os.environ.items()
                if not k.startswith("SPROF_") and k != "LD_PRELOAD"}
        envs = {}
        outs = {}
        for name, path in modes:
            e = dict(base)
            outs[name] = os.path.join(tmp, "out-" + name)
            os.makedirs(outs[name])
            if path:
                e.update(LD_PRELOAD=path, SPROF_FREQ=str(a.freq),
                         SPROF_OUTPUT=os.path.join(outs[name], "p.bin"))
                e.update(extra.get(name, {}))
            envs[name] = e
        faults = {n: [] for n, _ in modes}
        cpu = {n: [] for n, _ in modes}
        for k in range(a.runs):
            order = modes[k % len(modes):] + modes[:k % len(modes)]
            for name, _ in order:
                f, t = perf_stat(argv, envs[name], cwd, a.repeat)
                faults[name].append(f)
                cpu[name].append(t)
                for x in os.listdir(outs[name]):
                    os.unlink(os.path.join(outs[name], x))

        med = statistics.median
        print("# %s, SPROF_FREQ=%d: %d rounds of perf stat -r %d, medians per run" %
              (" ".join(argv), a.freq, a.runs, a.repeat))
        print("%-8s %11s %9s %11s %12s %14s" %
              ("mode", "page faults", "- floor", "CPU ms", "CPU vs plain", "CPU - floor"))
        for name, _ in modes:
            # paired: each round's own floor and plain
            dfl = med([x - y for x, y in zip(faults[name], faults["floor"])])
            dcpu = med([x - y for x, y in zip(cpu[name], cpu["floor"])])
            over = med([x / y - 1 for x, y in zip(cpu[name], cpu["plain"])])
            print("%-8s %11.1f %+9.1f %11.2f %+11.1f%% %+11.2f ms" %
                  (name, med(faults[name]), dfl, med(cpu[name]), 100 * over, dcpu))

        if a.attribute:
            names = {os.path.basename(p) for _, p in libs}
            for name, path in libs:
                c = collections.Counter()
                for _ in range(a.runs):
                    c.update(attribute(argv, envs[name], cwd, tmp, names))
                    for x in os.listdir(outs[name]):
                        os.unlink(os.path.join(outs[name], x))
                total = sum(c.values()) / a.runs
                print("\n# %s: faults taken in libsprof.so's code, per run (%d runs): %.1f" %
                      (name, a.runs, total))
                print("%7s  %-10s %-28s %s" % ("faults", "process", "function", "address in"))
                for (comm, sym, mapping), v in c.most_common(25):
                    print("%7.1f  %-10s %-28s %s" % (v / a.runs, comm, sym, mapping))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
