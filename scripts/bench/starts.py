#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""What one process start costs under sprof, start by start.

Runs a short command (default /bin/true) many times with no preload, under
the floor (scripts/bench/floor.c: the same timer with an empty handler),
under libsprof.so and, with --against, under a second build's, the modes
interleaved start by start, and prints each mode's median, p90, p99 and
worst wall time per start, and how many starts took more than --slow ms.
`make bench`'s exec workload gives the mean cost of 300 starts; this shows
the tail, where a start that stalls hides (BENCHMARKS.md, the first
period).

It also prints the CPU time of each start (user and system, its threads
included, as wait4 reports it): the median and mean per mode and, paired
start by start, the median and mean excess over the floor's start of the
same round (and, with --against, sprof's over the other build's). The
modes run in a new order each round (--seed), each preloaded library from
a copy made for the run. Two builds whose per-process costs differ by tens of microseconds
are told apart this way on a noisy machine, where whole runs of hundreds of
starts vary by more than that.

Each start is a profiled descendant (SPROF_SESSION set, as under a profiled
shell), so it writes a file only if it took samples; the files go to a
temporary directory, removed at the end.

    python3 scripts/bench/starts.py --build build --freq 10000 --runs 300
    python3 scripts/bench/starts.py --against /tmp/old/libsprof.so
"""
import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402  (the floor's build)


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default="build", help="sprof build directory (default build)")
    ap.add_argument("--freq", type=int, default=999, help="SPROF_FREQ (default 999)")
    ap.add_argument("--runs", type=int, default=300, help="starts per mode (default 300)")
    ap.add_argument("--against", metavar="LIB", help="another libsprof.so to compare with")
    ap.add_argument("--seed", type=int, default=1, help="seed of each round's order of modes")
    ap.add_argument("--slow", type=float, default=100, help="a start slower than this many ms "
                    "is counted as slow (default 100)")
    ap.add_argument("command", nargs="*", default=["/bin/true"], help="the command (default "
                    "/bin/true)")
    a = ap.parse_args()

    progs = bench.build_programs(os.path.join(a.build, "bench"), os.environ.get("CC", "cc"))
    modes = bench.preload_modes(a.build, a.against, progs["floor.so"], "starts.py")

    out = tempfile.mkdtemp(prefix="sprof-starts.")
    # each library started from a copy made here (bench.copy_libraries)
    libs = os.path.join(out, "libs")
    os.mkdir(libs)
    shown = dict(modes)
    modes = bench.copy_libraries(modes, libs)
    runs = os.path.join(out, "runs")
    os.mkdir(runs)
    envs = bench.preload_envs(modes, a.freq, SPROF_SESSION="0123456789abcdef:%s/d.bin" % runs)
    times = {name: [] for name, _ in modes}
    cpu = {name: [] for name, _ in modes}
    # the modes in a new order each round: a start's cost depends on the
    # one before it (caches, the page cache's pages, the CPU's frequency),
    # and a fixed order gave one build 3-4 us a start that a shuffled one
    # did not (BENCHMARKS.md, session 46)
    rng = random.Random(a.seed)
    try:
        for _ in range(a.runs):
            for name, _ in rng.sample(modes, len(modes)):
                t0 = time.perf_counter()
                p = subprocess.Popen(a.command, env=envs[name], stdout=subprocess.DEVNULL)
                _, status, ru = os.wait4(p.pid, 0)  # wait4: the child's rusage
                # reaped here: Popen is told, so that it never waits for it
                p.returncode = os.waitstatus_to_exitcode(status)
                times[name].append((time.perf_counter() - t0) * 1000)
                cpu[name].append((ru.ru_utime + ru.ru_stime) * 1e6)
                if p.returncode != 0:
                    sys.exit("starts.py: %s exited with %d (%s)" % (a.command[0], p.returncode, name))
            for f in os.listdir(runs):
                os.unlink(os.path.join(runs, f))
    finally:
        shutil.rmtree(out, ignore_errors=True)

    print("# %d starts of %s per mode, SPROF_FREQ=%d, wall ms per start" %
          (a.runs, " ".join(a.command), a.freq))
    print("%-8s %8s %8s %8s %9s  %s" % ("mode", "median", "p90", "p99", "worst", "slow"))
    for name, path in modes:
        x = times[name]
        slow = sum(1 for v in x if v > a.slow)
        print("%-8s %8.2f %8.2f %8.2f %9.2f  %d over %g ms%s" %
              (name, statistics.median(x), pct(x, 0.9), pct(x, 0.99), max(x), slow, a.slow,
               "" if not path else "  (%s)" % shown[name]))
    print()
    print("%-8s %14s %12s %12s %18s" % ("mode", "CPU us median", "mean", "- floor",
                                          "mean - floor"))
    for name, _ in modes:
        x = cpu[name]
        # paired: each start against the floor's start of the same round
        d = [v - f for v, f in zip(x, cpu["floor"])]
        print("%-8s %14.1f %12.1f %+12.1f %18s" % (name, statistics.median(x), statistics.mean(x),
                                                    statistics.median(d), bench.mean_2se(d)))
    if a.against:
        d = [v - w for v, w in zip(cpu["sprof"], cpu["against"])]
        print("sprof - against, paired start by start: median %+.1f us, mean %s" %
              (statistics.median(d), bench.mean_2se(d)))


if __name__ == "__main__":
    main()
