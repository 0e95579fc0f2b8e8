#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""What sprof spends in each descendant that writes a file, by its own account.

Runs a command (default: bash running /bin/true 300 times, `make bench`'s
fork workload) under libsprof.so and, with --against, under another
build's, the builds alternating for --runs rounds, and reads `sprof-report
info` (each build's own) of every descendant's file: the writer's CPU time
(in a descendant without its writer thread, the writes its threads made
themselves: a shell's child writes its one chunk at its exec) and the
handler's mean time. Prints each build's medians over all those files. The
figures are CPU time each process measured of itself, so they do not drift
with the machine's load as a whole run's CPU time does; what they leave out
(the kernel's fork and exec, the loading of libsprof.so) faults.py and
bench.py measure. The command runs in a temporary directory: give its
programs by absolute path.

    python3 scripts/bench/children.py --build build --against /tmp/oldb/build
    python3 scripts/bench/children.py --build build --freq 10000 -- make -j2
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (builds_with_report, report_info)

def one_run(build, argv, freq, workdir):
    out = os.path.join(workdir, "p.bin")
    env = dict(os.environ, LD_PRELOAD=os.path.join(build, "libsprof.so"), SPROF_OUTPUT=out,
               SPROF_FREQ=str(freq))
    r = subprocess.run(argv, env=env, cwd=workdir, stdout=subprocess.DEVNULL)
    if r.returncode != 0:
        sys.exit("children.py: %s exited with %d" % (" ".join(argv), r.returncode))
    report = os.path.join(build, "sprof-report")
    figures = []
    for name in sorted(os.listdir(workdir)):
        if name.startswith("p.bin."):
            got = bench.report_info(report, os.path.join(workdir, name), "children.py")
            figures.append((got["writer"], got["handler"]))
        os.unlink(os.path.join(workdir, name))
    return figures


def median(v):
    v = [x for x in v if x is not None]
    return ("%.1f" % statistics.median(v)) if v else "-"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build", help="build directory (default: build)")
    ap.add_argument("--against", metavar="BUILD", help="another build, in the same rounds")
    ap.add_argument("--runs", type=int, default=3, help="rounds (default 3)")
    ap.add_argument("--freq", type=int, default=999, help="SPROF_FREQ (default 999)")
    ap.add_argument("command", nargs="*", help="the command (after --)")
    a = ap.parse_args()
    argv = a.command or ["bash", "-c", "for i in $(seq 300); do /bin/true; done"]
    builds = bench.builds_with_report(a.build, a.against, "children.py")
    got = {name: [] for name, _ in builds}
    with tempfile.TemporaryDirectory(prefix="sprof-children.") as work:
        for i in range(a.runs):
            for name, b in builds:
                got[name] += one_run(b, argv, a.freq, work)
            print("children.py: round %d/%d done" % (i + 1, a.runs), file=sys.stderr)
    print("# %s, SPROF_FREQ=%d: %d rounds; medians over the descendants' files" %
          (" ".join(argv), a.freq, a.runs))
    print("%-8s %6s %12s %18s" % ("build", "files", "writer us", "handler mean us"))
    for name, _ in builds:
        v = got[name]
        print("%-8s %6d %12s %18s" % (name, len(v), median([w for w, _ in v]),
                                       median([h for _, h in v])))


if __name__ == "__main__":
    main()
