#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""What one thread costs under sprof: its start, its end and its slot.

Runs tests/progs/shortthreads.c (--threads threads, 2,000 by default, of
about 0.2 ms of CPU each, 8 at a time, each named) with no preload, under
the floor (scripts/bench/floor.c: the same timer for every thread, with an
empty handler), under libsprof.so and, with --against, under another
build's, the modes interleaved round by round, and prints per mode the
median CPU time of a run (user and system, every thread's), the CPU time a
thread over the plain run's of the same round, that over the floor's of the
same round (the median, with min..max), and the voluntary context switches
a thread: a thread that waits on a lock sleeps, and so did sprof's threads
on its registry's lock, when they held it for their timers' system calls
(BENCHMARKS.md, session 38).

`make bench`'s threads workload runs long threads; this shows what starting
and ending one costs, which a program that makes a thread a task pays at
each.

    python3 scripts/bench/threads.py --build build
    python3 scripts/bench/threads.py --build build --against /tmp/old --runs 11
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import bench  # noqa: E402  (the floor's build)


def build_shortthreads(bdir, cc):
    src = os.path.join(ROOT, "tests", "progs", "shortthreads.c")
    out = os.path.join(bdir, "shortthreads")
    if not os.path.exists(out) or os.path.getmtime(out) < os.path.getmtime(src):
        subprocess.check_call([cc, "-O2", "-D_GNU_SOURCE", "-pthread", "-fno-inline",
                               "-I" + os.path.join(ROOT, "tests", "progs"), "-o", out, src])
    return out


def run(argv, env, cwd):
    """(CPU seconds, voluntary context switches) of one run."""
    p = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = 0  # reaped here
    if status != 0:
        sys.exit("threads.py: %s exited with status %d" % (" ".join(argv), status))
    return ru.ru_utime + ru.ru_stime, ru.ru_nvcsw


def fmt_range(xs):
    return "%+.1f (%+.1f..%+.1f)" % (statistics.median(xs), min(xs), max(xs))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default="build", help="sprof build directory (default build)")
    ap.add_argument("--against", metavar="BUILD", help="another build, in the same series")
    ap.add_argument("--freq", type=int, default=999, help="SPROF_FREQ (default 999)")
    ap.add_argument("--runs", type=int, default=7, help="rounds (default 7)")
    ap.add_argument("--threads", type=int, default=2000, help="threads a run (default 2000)")
    a = ap.parse_args()
    if a.runs < 1 or a.threads < 1:
        ap.error("--runs and --threads: at least 1")
    builds = bench.builds_with_report(a.build, a.against, "threads.py")
    bdir = os.path.join(os.path.abspath(a.build), "bench")
    cc = os.environ.get("CC", "cc")
    progs = bench.build_programs(bdir, cc)
    prog = build_shortthreads(bdir, cc)
    base = bench.clean_env()
    modes = [("plain", {}), ("floor", {"LD_PRELOAD": progs["floor.so"],
                                       "SPROF_FREQ": str(a.freq)})]
    tmp = tempfile.mkdtemp(prefix="sprof-threads-")
    for name, d in builds:
        modes.append((name, {"LD_PRELOAD": os.path.join(d, "libsprof.so"),
                             "SPROF_FREQ": str(a.freq),
                             "SPROF_OUTPUT": os.path.join(tmp, "p.bin")}))
    cpu = {m: [] for m, _ in modes}
    csw = {m: [] for m, _ in modes}
    try:
        for r in range(a.runs):
            for m, add in modes[r % len(modes):] + modes[:r % len(modes)]:
                c, v = run([prog, str(a.threads)], dict(base, **add), tmp)
                cpu[m].append(c)
                csw[m].append(v)
                for f in os.listdir(tmp):
                    os.remove(os.path.join(tmp, f))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    n = a.threads
    print(f"# threads.py: shortthreads {n} ({n} threads of about 0.2 ms, 8 at a time), "
          f"{a.runs} rounds, {a.freq} Hz; us of CPU a thread")
    print(f"{'mode':10s} {'CPU s':>7s}  {'over plain, a thread':>26s}  "
          f"{'over the floor (paired)':>26s}  {'switches a thread':>17s}")
    for m, _ in modes:
        over = [(x - p) * 1e6 / n for x, p in zip(cpu[m], cpu["plain"])]
        paired = [(x - f) * 1e6 / n for x, f in zip(cpu[m], cpu["floor"])]
        print(f"{m:10s} {statistics.median(cpu[m]):7.3f}  "
              f"{fmt_range(over) if m != 'plain' else '-':>26s}  "
              f"{fmt_range(paired) if m not in ('plain', 'floor') else '-':>26s}  "
              f"{statistics.median(csw[m]) / n:17.2f}")


if __name__ == "__main__":
    main()
