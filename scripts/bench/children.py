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
import re
import statistics
import subprocess
import sys
import tempfile

UNITS = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}


def info_figures(report, path):
    """(writer us, handler mean us) of one file, None where it has none."""
    r = subprocess.run([report, "info", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    if r.returncode != 0:
        sys.exit("children.py: sprof-report info %s: %s" % (path, r.stderr.strip()[-300:]))
    got = {}
    for key in ("writer", "handler"):
        m = re.search(r"^%s\s+([0-9.]+) (ns|us|ms|s)\b" % key, r.stdout, re.M)
        got[key] = float(m.group(1)) * UNITS[m.group(2)] if m else None
    return got["writer"], got["handler"]


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
            figures.append(info_figures(report, os.path.join(workdir, name)))
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
    builds = [("sprof", os.path.abspath(a.build))]
    if a.against:
        builds.append(("against", os.path.abspath(a.against)))
    for _, b in builds:
        for f in ("libsprof.so", "sprof-report"):
            if not os.path.exists(os.path.join(b, f)):
                sys.exit("children.py: no %s in %s (make all)" % (f, b))
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
