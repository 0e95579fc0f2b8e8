#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""How faithfully each profiler splits CPU time among functions.

Runs scripts/bench/accuracy.c (four threads on this 2-CPU machine, seven
functions whose CPU time each call's thread clock measures: 25 us calls
between 1 ms ones, calls of random lengths, a thread that runs a third of
the time) under sprof with each of its timers (perf, posix, itimer), under
another build's with --against, under gperftools and under `perf record`,
the modes interleaved round by round. For each run, each function's share
of what the tool attributed to the seven (a sample's leaf function, weighed
as the tool weighs it: sprof's CPU time, perf's period, gperftools' count)
is held against its share of the measured CPU time, and the run's error is
their total variation distance (half the sum of the shares' differences,
in points: the share of time put on the wrong function). Sampling itself
has an error: the noise column is the median distance of a sampler that
takes as many samples, each exactly in proportion to the measured times
(a multinomial draw). Then per function the median of sampled over
measured time.

    python3 scripts/bench/accuracy.py --build build
    python3 scripts/bench/accuracy.py --build build --against /tmp/old/build --runs 7
"""
import argparse
import collections
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import bench  # noqa: E402  (gperftools' profiles, addr2line, the environment)

TIMERS = ("perf", "posix", "itimer")


def build_accuracy(bdir, cc):
    src = os.path.join(HERE, "accuracy.c")
    out = os.path.join(bdir, "accuracy")
    os.makedirs(bdir, exist_ok=True)
    if not os.path.exists(out) or os.path.getmtime(out) < os.path.getmtime(src):
        subprocess.check_call([cc, "-O2", "-g", "-pthread", "-o", out, src])
    return out


def measured(stdout):
    """{function: measured ms} from accuracy's output."""
    m = {}
    for line in stdout.splitlines():
        p = line.split()
        if len(p) == 2:
            m[p[0]] = float(p[1])
    return m


def sprof_leaves(report, rundir):
    """({leaf function: CPU ns}, samples) of the run's profiles."""
    files = sorted(f for f in os.listdir(rundir) if f.startswith("p.bin"))
    w, n = collections.Counter(), 0
    if not files:
        return w, n  # (a timer that could not be had: the row says "-")
    for weight in ("time", "samples"):
        r = subprocess.run([report, "folded", "--weight", weight] + files, cwd=rundir,
                           capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit("accuracy.py: %s folded failed: %s" % (report, r.stderr.strip()[:300]))
        for line in r.stdout.splitlines():
            stack, _, v = line.rpartition(" ")
            if weight == "time":
                w[stack.rsplit(";", 1)[-1]] += int(v)
            else:
                n += int(v)
    return w, n


def gperf_leaves(rundir, prog):
    """({leaf function: samples}, samples) of the gperftools profile: the
    first address of a stack is where the signal interrupted the program."""
    w, n = collections.Counter(), 0
    path = os.path.join(rundir, "g.prof")
    parsed = bench.parse_gperf(path) if os.path.exists(path) else None
    if not parsed:
        return w, 0
    _, recs, maps = parsed
    real = os.path.realpath(prog)
    leaves = []
    for c, pcs in recs:
        v = None
        for s, e, off, mpath in maps:
            if s <= pcs[0] < e and os.path.realpath(mpath) == real:
                v = bench.file_offset_to_vaddr(mpath, pcs[0] - s + off)
                break
        leaves.append((c, v))
        n += c
    names = bench.addr2line_names(prog, [v for _, v in leaves if v is not None])
    for c, v in leaves:
        w[names.get(v, "??") if v is not None else "??"] += c
    return w, n


def perf_leaves(rundir):
    """({leaf function: period ns}, samples) of perf.data: perf's -F adjusts
    the period as it goes, and each sample carries its own."""
    w, n = collections.Counter(), 0
    out = subprocess.run(["perf", "script", "-i", os.path.join(rundir, "perf.data"), "-F",
                          "period,ip,sym"], capture_output=True, text=True, errors="replace").stdout
    for line in out.splitlines():
        p = line.split()  # period, address, symbol (when known)
        if len(p) >= 2 and p[0].isdigit():
            w[p[2].split("+")[0] if len(p) > 2 else "??"] += int(p[0])
            n += 1
    return w, n


def distance(truth, got):
    """Total variation distance of the shares, in points, and the largest
    difference of one function's; None when the tool put nothing there."""
    ts, gs = sum(truth.values()), sum(got.get(f, 0) for f in truth)
    if ts <= 0 or gs <= 0:
        return None, None
    d = [got.get(f, 0) / gs - truth[f] / ts for f in truth]
    return 50 * sum(abs(x) for x in d), 100 * max(abs(x) for x in d)


NOISE_RNG = random.Random(1)  # the same draws every run


def noise(truth, n, draws=200):
    """Median distance of a multinomial sampler taking n samples."""
    if n <= 0:
        return None
    fs = list(truth)
    ws = [truth[f] for f in fs]
    ds = []
    for _ in range(draws):
        c = collections.Counter(NOISE_RNG.choices(fs, ws, k=n))
        ds.append(distance(truth, c)[0])
    return statistics.median(ds)


def one_run(mode, a, tools, prog, hz, rundir):
    env = bench.clean_env()
    argv = [prog, str(a.scale)]
    if mode.startswith("sprof-") or mode.startswith("against-"):
        who, timer = mode.split("-", 1)
        env.update(LD_PRELOAD=tools["lib-" + who], SPROF_OUTPUT="p.bin", SPROF_FREQ=str(hz),
                   SPROF_TIMER=timer)
    elif mode == "gperftools":
        env.update(LD_PRELOAD=tools["libprofiler"], CPUPROFILE="g.prof",
                   CPUPROFILE_FREQUENCY=str(hz))
    elif mode == "perf":
        argv = ["perf", "record", "-q", "-e", "task-clock:u", "-F", str(hz), "-o", "perf.data",
                "--"] + argv
    r = subprocess.run(argv, env=env, cwd=rundir, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("accuracy.py: %s: %s exited with status %d: %s" %
                 (mode, " ".join(argv), r.returncode, r.stderr.strip()[:300]))
    truth = measured(r.stdout)
    if mode.startswith("sprof-") or mode.startswith("against-"):
        got, n = sprof_leaves(tools["report-" + mode.split("-", 1)[0]], rundir)
    elif mode == "gperftools":
        got, n = gperf_leaves(rundir, prog)
    else:
        got, n = perf_leaves(rundir)
    tvd, worst = distance(truth, got)
    ts, gs = sum(truth.values()), sum(got.get(f, 0) for f in truth)
    ratio = {f: (got.get(f, 0) / gs) / (truth[f] / ts) if gs and truth[f] else None for f in truth}
    inside = round(n * gs / sum(got.values())) if got and sum(got.values()) else 0
    return {"tvd": tvd, "worst": worst, "n": n, "noise": noise(truth, inside), "ratio": ratio}


def fmt(xs, f="%.1f"):
    xs = [x for x in xs if x is not None]
    if not xs:
        return "-"
    return (f + " (" + f + ".." + f + ")") % (statistics.median(xs), min(xs), max(xs))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default="build", help="sprof build directory (default build)")
    ap.add_argument("--against", metavar="BUILD", help="another build, in the same series")
    ap.add_argument("--freq", type=int, default=999, help="sampling rate, Hz (default 999)")
    ap.add_argument("--runs", type=int, default=5, help="rounds (default 5)")
    ap.add_argument("--timers", nargs="+", choices=TIMERS, default=list(TIMERS),
                    help="sprof's timers to run (default all three)")
    ap.add_argument("--scale", type=int, default=100, help="accuracy's work, percent (default 100)")
    ap.add_argument("--markdown", action="store_true", help="tables in Markdown")
    a = ap.parse_args()
    if a.runs < 1 or a.scale < 1:
        ap.error("--runs and --scale: at least 1")
    tools = {}
    for who, b in bench.builds_with_report(a.build, a.against, "accuracy.py"):
        tools["lib-" + who] = os.path.join(b, "libsprof.so")
        tools["report-" + who] = os.path.join(b, "sprof-report")  # its own format
    modes = ["sprof-" + t for t in a.timers]
    if a.against:
        modes += ["against-" + t for t in a.timers]
    found, skips = bench.find_tools(a)  # gperftools, addr2line, perf record
    if "gperftools" in skips or not found["addr2line"]:
        print("gperftools: skipped: " + skips.get("gperftools", "addr2line not found"))
    else:
        tools["libprofiler"] = found["libprofiler"]
        modes.append("gperftools")
    if "perf-fp" in skips:
        print("perf: skipped: " + skips["perf-fp"])
    else:
        modes.append("perf")
    prog = build_accuracy(os.path.join(os.path.abspath(a.build), "bench"),
                          os.environ.get("CC", "cc"))
    res = collections.defaultdict(list)
    with tempfile.TemporaryDirectory(prefix="sprof-accuracy.") as tmp:
        for r in range(a.runs):
            order = modes[r % len(modes):] + modes[:r % len(modes)]
            for mode in order:
                d = os.path.join(tmp, "%s-%d" % (mode, r))
                os.mkdir(d)
                res[mode].append(one_run(mode, a, tools, prog, a.freq, d))
                shutil.rmtree(d)
            print("round %d of %d done" % (r + 1, a.runs), file=sys.stderr)
    funcs = list(res[modes[0]][0]["ratio"])
    md = a.markdown
    print("\naccuracy %d%%, %d Hz, %d rounds: error = the share of the seven functions' time put "
          "on the wrong one (points), median (min..max)" % (a.scale, a.freq, a.runs))
    head = ["mode", "error", "sampling noise", "worst function", "samples"]
    rows = [[m, fmt([x["tvd"] for x in res[m]]), fmt([x["noise"] for x in res[m]]),
             fmt([x["worst"] for x in res[m]]), "%d" % statistics.median(x["n"] for x in res[m])]
            for m in modes]
    table(head, rows, md)
    print("\nsampled / measured CPU time, per function (the median over the rounds)")
    rows = [[m] + ["%.2f" % statistics.median(x["ratio"][f] or 0 for x in res[m]) for f in funcs]
            for m in modes]
    table(["mode"] + funcs, rows, md)


def table(head, rows, md):
    if md:
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for r in rows:
            print("| " + " | ".join(r) + " |")
        return
    w = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    for r in [head] + rows:
        print("  ".join(str(c).ljust(w[i]) for i, c in enumerate(r)).rstrip())


if __name__ == "__main__":
    main()
