#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""sprof's own time in a command's processes, as each process measured it.

`sprof-report info` of each profile file gives the handler's mean time a
sample and the writer's CPU time (its thread's, and its work done in the
program's threads: a descendant's last write, tables mapped at a safe
point). Summed over the processes of a command, samples times the mean plus
the writer is what sprof spent, measured where it was spent: free of the
run-to-run noise of the programs' own CPU time, which on these VMs spans
more than sprof's whole cost in a compile (what the timer and the signal
cost, the floor, is not in it: see bench.py and faults.py for that).

Runs the command (default: gcc -O2 -c of one of `make bench`'s generated
files) under this build's libsprof.so and, with --against, another
build's, interleaved, --runs rounds of --per runs each, and prints, per
build, the medians over runs of: samples, handler time, writer time, their
sum and the sum a sample; then that sum for each program of the command
(by the name of its executable).

    python3 scripts/bench/selfcost.py --build build --against /tmp/oldb
    python3 scripts/bench/selfcost.py --build build --freq 10000 --runs 6
    python3 scripts/bench/selfcost.py --build build -- /usr/bin/make -C /some/tree
"""
import argparse
import collections
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402  (the make tree, builds_with_report, report_info)


def program_costs(report, path):
    """(program, samples, handler us, writer us) of one profile file."""
    got = bench.report_info(report, path, "selfcost.py")
    samples = got["samples"] or 0
    return (got["executable"] or "?", samples, samples * (got["handler"] or 0.0),
            got["writer"] or 0.0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default="build", help="sprof build directory (default build)")
    ap.add_argument("--against", metavar="BUILD", help="another build directory to compare with")
    ap.add_argument("--freq", type=int, default=999, help="SPROF_FREQ (default 999)")
    ap.add_argument("--runs", type=int, default=8, help="interleaved rounds (default 8)")
    ap.add_argument("--per", type=int, default=2, help="runs of each build a round (default 2)")
    ap.add_argument("command", nargs="*", help="the command (default: gcc -O2 -c u0.c of "
                    "`make bench`'s make tree)")
    a = ap.parse_args()

    builds = bench.builds_with_report(a.build, a.against, "selfcost.py")

    tmp = tempfile.mkdtemp(prefix="sprof-selfcost.")
    try:
        argv = a.command
        if not argv:
            bench.generate_make_tree(tmp, nfiles=1)
            argv = ["gcc", "-O2", "-c", "u0.c", "-o", "u0.o"]
        out = os.path.join(tmp, "out")
        base = {k: v for k, v in os.environ.items()
                if not k.startswith("SPROF_") and k != "LD_PRELOAD"}
        runs = {name: [] for name, _ in builds}
        for k in range(a.runs):
            order = builds[k % len(builds):] + builds[:k % len(builds)]
            for name, d in order:
                for _ in range(a.per):
                    os.makedirs(out)
                    e = dict(base, LD_PRELOAD=os.path.join(d, "libsprof.so"),
                             SPROF_FREQ=str(a.freq), SPROF_OUTPUT=os.path.join(out, "p.bin"))
                    subprocess.run(argv, env=e, cwd=tmp, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
                    files = [os.path.join(out, x) for x in sorted(os.listdir(out))]
                    if not files:
                        sys.exit("selfcost.py: %s wrote no profile" % " ".join(argv))
                    runs[name].append([program_costs(os.path.join(d, "sprof-report"), f)
                                       for f in files])
                    shutil.rmtree(out)

        med = statistics.median
        print("# %s, SPROF_FREQ=%d: %d rounds of %d runs a build; medians per run, in us" %
              (" ".join(argv), a.freq, a.runs, a.per))
        print("%-8s %9s %11s %11s %11s %12s" %
              ("build", "samples", "handler", "writer", "sum", "sum/sample"))
        for name, _ in builds:
            r = runs[name]
            samples = [sum(p[1] for p in run) for run in r]
            handler = [sum(p[2] for p in run) for run in r]
            writer = [sum(p[3] for p in run) for run in r]
            total = [h + w for h, w in zip(handler, writer)]
            print("%-8s %9.0f %11.0f %11.0f %11.0f %12.2f" %
                  (name, med(samples), med(handler), med(writer), med(total),
                   med(t / s for t, s in zip(total, samples) if s)))
        print("\n# handler + writer a run, by program (median)")
        progs = sorted({p[0] for name, _ in builds for run in runs[name] for p in run})
        print("%-24s" % "program" + "".join("%12s" % name for name, _ in builds))
        for prog in progs:
            cells = []
            for name, _ in builds:
                per = collections.defaultdict(float)
                for i, run in enumerate(runs[name]):
                    per[i] = sum(p[2] + p[3] for p in run if p[0] == prog)
                cells.append("%12.0f" % med(per[i] for i in range(len(runs[name]))))
            print("%-24s" % prog + "".join(cells))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
