#!/usr/bin/env python3
"""sprof overhead and fidelity on a CPU-bound program, against no profiler and
against the floor (an empty signal handler on the same timer at the same rate).

Usage: scripts/bench/overhead.py [--build build] [--runs 7] [--freq 999 ...]

Runs plain / floor / sprof interleaved (A B C A B C ...), so that the noise of
a shared machine falls on all three alike, and prints medians with min..max.
Timing lives here, never in pass/fail tests.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def build(builddir):
    out = os.path.join(builddir, "bench")
    os.makedirs(out, exist_ok=True)
    cc = os.environ.get("CC", "cc")
    prog = os.path.join(out, "cpu-bound")
    floor = os.path.join(out, "floor.so")
    subprocess.check_call([cc, "-O2", "-g", "-fomit-frame-pointer", "-o", prog,
                           os.path.join(HERE, "cpu-bound.c")])
    subprocess.check_call([cc, "-O2", "-shared", "-fPIC", "-o", floor,
                           os.path.join(HERE, "floor.c")])
    return prog, floor


def run(cmd, env):
    """CPU seconds (user+sys) and wall seconds of one run."""
    import time
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    if status != 0:
        sys.exit(f"overhead: {cmd[0]} failed with status {status}")
    return ru.ru_utime + ru.ru_stime, wall


def info(report, path):
    txt = subprocess.run([report, "info", path], capture_output=True, text=True).stdout
    return txt


def grab(pattern, text, conv=float):
    m = re.search(pattern, text, re.M)
    return conv(m.group(1).replace(",", "")) if m else None


def fmt(xs, unit=""):
    return f"{statistics.median(xs):.3f}{unit} ({min(xs):.3f}..{max(xs):.3f})"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--freq", type=int, nargs="+", default=[999, 10000])
    ap.add_argument("--iters", default="3200")
    a = ap.parse_args()
    lib = os.path.join(a.build, "libsprof.so")
    report = os.path.join(a.build, "sprof-report")
    prog, floor = build(a.build)
    tmp = tempfile.mkdtemp(prefix="sprof-bench-")
    print(f"# workload: {prog} {a.iters} (CPU-bound, 30-frame stacks, no frame pointers)")
    print(f"# machine: {os.cpu_count()} cpus, {os.uname().release}; {a.runs} interleaved runs each")
    for hz in a.freq:
        base = dict(os.environ, SPROF_FREQ=str(hz))
        cpu = {"plain": [], "floor": [], "sprof": []}
        wall = {"plain": [], "floor": [], "sprof": []}
        rates, bps, hmed = [], [], []
        for i in range(a.runs):
            for kind in ("plain", "floor", "sprof"):
                env = dict(base)
                if kind == "floor":
                    env["LD_PRELOAD"] = floor
                elif kind == "sprof":
                    out = os.path.join(tmp, f"p{hz}-{i}.bin")
                    env.update(LD_PRELOAD=lib, SPROF_OUTPUT=out)
                c, w = run([prog, a.iters], env)
                cpu[kind].append(c)
                wall[kind].append(w)
                if kind == "sprof":
                    t = info(report, out)
                    samples = grab(r"^samples\s+([\d,]+)", t)
                    size = os.path.getsize(out)
                    if samples:
                        # against the CPU time the kernel measured for the
                        # run (rusage), not the profile's own weights
                        rates.append(samples / c)
                        bps.append(size / samples)
                    h = grab(r"median\s*([\d.]+)\s*µs", t) or grab(r"median\s*([\d.]+)\s*us", t)
                    if h is not None:
                        hmed.append(h)
        p = statistics.median(cpu["plain"])
        print(f"\n## {hz} Hz requested")
        for kind in ("plain", "floor", "sprof"):
            m = statistics.median(cpu[kind])
            extra = "" if kind == "plain" else f"  overhead {100 * (m - p) / p:+.1f}%"
            print(f"  {kind:6} CPU {fmt(cpu[kind], ' s')}  wall {fmt(wall[kind], ' s')}{extra}")
        fo = statistics.median(cpu["floor"]) - p
        so = statistics.median(cpu["sprof"]) - p
        if fo > 0:
            print(f"  sprof overhead / floor overhead: {so / fo:.2f}")
        if rates:
            print(f"  achieved rate: {statistics.median(rates):.0f} samples per CPU second of the run "
                  f"({100 * statistics.median(rates) / hz:.1f}% of requested)")
            print(f"  file: {statistics.median(bps):.2f} bytes per sample")
        if hmed:
            print(f"  handler: median {statistics.median(hmed):.2f} µs per sample (self-measured)")


if __name__ == "__main__":
    main()
