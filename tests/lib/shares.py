#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks on sprof-report output for the end-to-end tests.

Reads `sprof-report folded` output (lines "root;...;leaf COUNT") or
`sprof-report flat` output (whitespace fields: self samples, self%, total
samples, total%, self time, unit, name, then [module] and file:line), and
either prints what it found or checks an expectation. A failed check prints
the reason and the data it looked at, and exits 1.

  shares.py split FOLDED NAME=PCT... [--tol P] [--min-samples N] [--main F]
            [--min-depth NAME:K]
      The self (leaf) samples of the named functions, as shares of the
      samples of all of them, must be within P points of PCT (default 3),
      or three standard errors of a share of that many samples if more.
      Every stack with one of the named functions must contain F (default
      main); the stacks without F may be at most 1% of all samples (startup
      and exit code outside main). With --min-depth, 95% of the samples of
      the named functions have at least K frames named NAME.
  shares.py leaf FOLDED NAME        print the percentage of samples whose
                                     leaf is NAME, and the sample count
  shares.py top FLAT NAME [--n N]   NAME must be among the first N rows by
                                     self samples (default 3)
  shares.py flat FLAT               print the parsed rows as
                                     "self<TAB>total<TAB>name<TAB>module"
  shares.py total FOLDED            print the number of samples
"""
import re
import sys


def die(msg, detail=None):
    print("shares.py: " + msg)
    if detail:
        for line in detail[:40]:
            print("  " + line)
        if len(detail) > 40:
            print("  ... %d more lines" % (len(detail) - 40))
    sys.exit(1)


def frame_name(frame):
    """The function name of a folded frame, without a trailing annotation
    such as " [module]", "_[k]" or "(inlined)"."""
    f = frame.strip()
    f = re.sub(r"\s*\[[^\]]*\]$", "", f)
    f = re.sub(r"_\[[a-z]\]$", "", f)
    f = re.sub(r"\s*\(inline[d]?\)$", "", f)
    return f


def read_folded(path):
    stacks = []
    with open(path, errors="replace") as fh:
        lines = fh.read().splitlines()
    for ln, line in enumerate(lines, 1):
        if not line.strip():
            continue
        m = re.match(r"^(.*\S)\s+(\d+)$", line)
        if not m:
            die("%s:%d: not a folded line: %r" % (path, ln, line))
        frames = [frame_name(f) for f in m.group(1).split(";")]
        stacks.append((frames, int(m.group(2)), line))
    if not stacks:
        die("%s: no stacks at all" % path)
    return stacks


def read_flat(path):
    rows = []
    with open(path, errors="replace") as fh:
        lines = fh.read().splitlines()
    for line in lines:
        t = line.split()
        if len(t) < 7 or not t[0].isdigit() or not t[2].isdigit():
            continue
        name_end = len(t)
        module = ""
        for i in range(6, len(t)):
            if t[i].startswith("[") and i > 6:
                name_end = i
                module = t[i].strip("[]")
                break
        rows.append({"self": int(t[0]), "total": int(t[2]), "name": " ".join(t[6:name_end]),
                     "module": module, "line": line})
    if not rows:
        die("%s: no rows in flat output" % path, lines)
    return rows


def opt(args, name, default):
    if name in args:
        i = args.index(name)
        v = args[i + 1]
        del args[i:i + 2]
        return v
    return default


def cmd_split(args):
    tol = float(opt(args, "--tol", "3"))
    min_samples = int(opt(args, "--min-samples", "200"))
    main = opt(args, "--main", "main")
    min_depth = opt(args, "--min-depth", None)
    path = args[0]
    want = {}
    for a in args[1:]:
        name, pct = a.split("=")
        want[name] = float(pct)
    stacks = read_folded(path)
    total = sum(c for _, c, _ in stacks)
    leaf = {n: 0 for n in want}
    for frames, c, _ in stacks:
        if frames[-1] in leaf:
            leaf[frames[-1]] += c
    named = sum(leaf.values())
    report = ["%-12s %6d samples  %5.1f%%  (want %.0f%%)" %
              (n, leaf[n], 100.0 * leaf[n] / named if named else 0, want[n]) for n in want]
    report.append("%d of %d samples have one of them as leaf" % (named, total))
    print("\n".join(report))
    if named < min_samples:
        die("only %d samples in %s (want at least %d)" % (named, " ".join(want), min_samples),
            report)
    if named < 0.9 * total:
        top = sorted(stacks, key=lambda s: -s[1])[:15]
        die("only %.1f%% of all samples are in %s" % (100.0 * named / total, " ".join(want)),
            [s[2] for s in top])
    for n in want:
        got = 100.0 * leaf[n] / named
        # no tighter than three standard errors of a share estimated from
        # this many samples (4.8 points for 50% of 1,000 samples)
        p = want[n] / 100.0
        t = max(tol, 300.0 * (p * (1 - p) / named) ** 0.5)
        if abs(got - want[n]) > t:
            die("%s has %.1f%% of the samples, want %.0f%% +- %.1f" % (n, got, want[n], t),
                report)
    # every stack through the work functions reaches main
    bad = [(frames, c, line) for frames, c, line in stacks
           if any(f in want for f in frames) and main not in frames]
    if bad:
        n = sum(c for _, c, _ in bad)
        die("%d samples in %s have stacks that do not reach %s" % (n, " ".join(want), main),
            [l for _, _, l in sorted(bad, key=lambda s: -s[1])])
    other = [(frames, c, line) for frames, c, line in stacks if main not in frames]
    n_other = sum(c for _, c, _ in other)
    if n_other > max(2, 0.01 * total):
        die("%d samples (%.1f%%) have stacks without %s" % (n_other, 100.0 * n_other / total, main),
            [l for _, _, l in sorted(other, key=lambda s: -s[1])])
    print("%d samples outside %s (startup and exit)" % (n_other, main))
    if min_depth:
        fname, k = min_depth.split(":")
        k = int(k)
        shallow = [(frames, c, line) for frames, c, line in stacks
                   if frames[-1] in want and frames.count(fname) < k]
        n = sum(c for _, c, _ in shallow)
        print("%d samples with fewer than %d %s frames" % (n, k, fname))
        if n > 0.05 * named:
            die("%d of %d samples have fewer than %d frames of %s (recursion lost)" %
                (n, named, k, fname), [l for _, _, l in sorted(shallow, key=lambda s: -s[1])])


def cmd_leaf(args):
    stacks = read_folded(args[0])
    total = sum(c for _, c, _ in stacks)
    n = sum(c for frames, c, _ in stacks if frames[-1] == args[1])
    print("%.1f %d %d" % (100.0 * n / total, n, total))


def cmd_total(args):
    print(sum(c for _, c, _ in read_folded(args[0])))


def cmd_top(args):
    n = int(opt(args, "--n", "3"))
    rows = read_flat(args[0])
    rows.sort(key=lambda r: -r["self"])
    names = [r["name"] for r in rows[:n]]
    if args[1] not in names:
        die("%s is not among the top %d functions by self samples" % (args[1], n),
            [r["line"] for r in rows[:10]])
    print("%s is #%d by self samples" % (args[1], names.index(args[1]) + 1))


def cmd_flat(args):
    for r in read_flat(args[0]):
        print("%d\t%d\t%s\t%s" % (r["self"], r["total"], r["name"], r["module"]))


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        sys.exit(2)
    cmds = {"split": cmd_split, "leaf": cmd_leaf, "top": cmd_top, "flat": cmd_flat,
            "total": cmd_total}
    if sys.argv[1] not in cmds:
        print(__doc__)
        sys.exit(2)
    cmds[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
