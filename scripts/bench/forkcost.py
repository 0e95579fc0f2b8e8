#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""What a fork costs the parent and the child under sprof, fork by fork.

Runs scripts/bench/forks.c (N forks of children that exit at once, or exec
-e PROGRAM) with no preload, under the floor (scripts/bench/floor.c: the
same timer with an empty handler), under libsprof.so and, with --against,
under a second build's, the modes in a new order each round (--seed), each
library from a copy made for the run, and prints each mode's medians over
the rounds of what a fork cost: the parent's CPU time (its calling
thread's, not a thread of sprof's) and minor page faults, and the child's
(wait4), then the paired means over the floor's run of the same round,
with twice their standard errors (and sprof's over the other build's).

The process that forks is the profile's top process (SPROF_OUTPUT), whose
writer thread exists from its start, as a shell script's first process;
with --descendant it is a profiled descendant (SPROF_SESSION set), which
makes its writer thread late (libsprof(7)).

    python3 scripts/bench/forkcost.py --build build --rounds 30
    python3 scripts/bench/forkcost.py --against /tmp/old/libsprof.so -e /bin/true
"""
import argparse
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402  (the floor's and forks.c's builds)

LINE = re.compile(r"forks: a fork: parent ([\d.]+) us CPU, ([\d.]+) faults; "
                  r"child ([\d.]+) us CPU, ([\d.]+) faults")
COLUMNS = ("parent CPU us", "parent faults", "child CPU us", "child faults")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default="build", help="sprof build directory (default build)")
    ap.add_argument("--freq", type=int, default=999, help="SPROF_FREQ (default 999)")
    ap.add_argument("--rounds", type=int, default=20, help="runs per mode (default 20)")
    ap.add_argument("--forks", type=int, default=500, help="forks a run (default 500)")
    ap.add_argument("-e", dest="program", help="each child execs PROGRAM (default: _exit)")
    ap.add_argument("--against", metavar="LIB", help="another libsprof.so to compare with")
    ap.add_argument("--descendant", action="store_true",
                    help="the forking process is a profiled descendant, not the top process")
    ap.add_argument("--seed", type=int, default=1, help="seed of each round's order of modes")
    a = ap.parse_args()

    progs = bench.build_programs(os.path.join(a.build, "bench"), os.environ.get("CC", "cc"))
    modes = bench.preload_modes(a.build, a.against, progs["floor.so"], "forkcost.py")
    argv = [progs["forks"]] + (["-e", a.program] if a.program else []) + [str(a.forks)]

    out = tempfile.mkdtemp(prefix="sprof-forkcost.")
    modes = bench.copy_libraries(modes, out)  # each library from a copy, all alike
    runs = os.path.join(out, "runs")
    os.mkdir(runs)
    if a.descendant:
        envs = bench.preload_envs(modes, a.freq, SPROF_SESSION="0123456789abcdef:%s/d.bin" % runs)
    else:
        envs = bench.preload_envs(modes, a.freq, SPROF_OUTPUT=os.path.join(runs, "p.bin"))
    res = {name: [] for name, _ in modes}
    rng = random.Random(a.seed)
    try:
        for _ in range(a.rounds):
            for name, _ in rng.sample(modes, len(modes)):
                r = subprocess.run(argv, env=envs[name], stdout=subprocess.PIPE, text=True)
                m = LINE.search(r.stdout)
                if r.returncode != 0 or not m:
                    sys.exit("forkcost.py: %s failed under %s (status %d)" %
                             (" ".join(argv), name, r.returncode))
                res[name].append([float(x) for x in m.groups()])
                for f in os.listdir(runs):
                    os.unlink(os.path.join(runs, f))
    finally:
        shutil.rmtree(out, ignore_errors=True)

    print("# %d rounds of %s, SPROF_FREQ=%d, the forking process %s; a fork's cost" %
          (a.rounds, " ".join(os.path.basename(x) for x in argv), a.freq,
           "a descendant" if a.descendant else "the top process"))
    print("%-8s" % "mode" + "".join("%16s" % c for c in COLUMNS))
    for name, _ in modes:
        print("%-8s" % name + "".join("%16.2f" % statistics.median(r[k] for r in res[name])
                                      for k in range(4)))
    print("paired, over the floor's run of the same round (mean +- 2 SE):")
    pairs = [(name, "floor") for name, _ in modes if name != "floor"]
    if a.against:
        pairs.append(("sprof", "against"))
    for x, y in pairs:
        print("%-16s" % ("%s - %s" % (x, y)) +
              "".join("%16s" % bench.mean_2se([p[k] - q[k] for p, q in zip(res[x], res[y])])
                      for k in range(4)))


if __name__ == "__main__":
    main()
