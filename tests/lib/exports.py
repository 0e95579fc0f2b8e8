#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks on the exports of sprof-report for the end-to-end tests.

  exports.py pprof TOP FLAT [--n N] [--cpu-top CPUTOP]
      TOP is `go tool pprof -top -sample_index=samples -nodefraction=0` of
      the export, FLAT `sprof-report flat --limit 0` of the same profile
      with the same filters. The totals must be equal, and the N (default
      5) functions with the most self samples in FLAT must have exactly
      those flat samples and total samples in TOP, under the same names.
      CPUTOP (the same with -sample_index=cpu) must give the CPU time of
      FLAT's header within a millisecond.

  exports.py speedscope JSON FOLDED
      JSON is `sprof-report speedscope`, FOLDED `sprof-report folded
      --per-thread --weight time` of the same profile. The file must follow
      speedscope's schema (shared frames with name/file/line, sampled
      profiles in nanoseconds, frame indexes in range, one weight per
      sample, endValue the sum of the weights), have one profile per
      thread, and its stacks and weights must be exactly the folded ones.
      Prints "name<TAB>weight-ns" per profile.

A failed check prints "exports.py: REASON" and exits 1.
"""
import argparse
import json
import re
import sys
from collections import Counter


def die(msg):
    print("exports.py: " + msg)
    sys.exit(1)


# ---- pprof ----


def read_flat(path):
    """(total samples, cpu ns from the header, {name: (self, total)}, names by self)"""
    rows = {}
    order = []
    total = cpu = None
    with open(path, errors="replace") as fh:
        for line in fh:
            m = re.match(r"^# (\d+) samples?, ([0-9.]+) s CPU", line)
            if m:
                total = int(m.group(1))
                cpu = float(m.group(2)) * 1e9
                continue
            m = re.match(r"^\s*(\d+)\s+[0-9.]+%\s+(\d+)\s+[0-9.]+%\s+[0-9.]+ s\s+(.*?)\s*$", line)
            if not m:
                continue
            rest = m.group(3)
            # NAME  [module]  file:line: the name is what comes before two
            # blanks and a '[', or the whole rest
            mm = re.match(r"^(.*?)\s{2,}\[[^\]]*\](?:\s{2,}\S.*)?$", rest)
            name = mm.group(1) if mm else rest
            rows[name] = (int(m.group(1)), int(m.group(2)))
            order.append(name)
    if total is None:
        die("%s has no '# N samples, X s CPU' header" % path)
    return total, cpu, rows, order


def read_top(path):
    """(total, {name: (flat, cum)}) of `go tool pprof -top` output."""
    total = None
    rows = {}
    with open(path, errors="replace") as fh:
        for line in fh:
            m = re.match(r"^Showing nodes accounting for \S+, \S+ of (\S+) total", line)
            if m:
                total = m.group(1)
                continue
            m = re.match(r"^\s*(\S+)\s+[0-9.]+%\s+[0-9.]+%\s+(\S+)\s+[0-9.]+%\s+(.*?)\s*$", line)
            if m:
                # pprof marks functions it saw only inlined: "name (inline)"
                name = re.sub(r" \(inline\)$", "", m.group(3))
                rows[name] = (m.group(1), m.group(2))
    if total is None:
        die("%s is not go tool pprof -top output" % path)
    return total, rows


def duration_ns(text):
    m = re.match(r"^([0-9.]+)(ns|us|µs|ms|s|mins|hrs)$", text)
    if not m:
        die("cannot read the time %r" % text)
    mult = {"ns": 1, "us": 1e3, "µs": 1e3, "ms": 1e6, "s": 1e9, "mins": 60e9, "hrs": 3600e9}
    return float(m.group(1)) * mult[m.group(2)]


def cmd_pprof(a):
    total, cpu, flat, order = read_flat(a.flat)
    ptotal, top = read_top(a.top)
    if int(ptotal) != total:
        die("go tool pprof counts %s samples, flat %d" % (ptotal, total))
    print("total: %d samples in both" % total)
    ranked = sorted(order, key=lambda n: (-flat[n][0], -flat[n][1], n))
    for name in ranked[: a.n]:
        fs, ft = flat[name]
        if name not in top:
            die("%r (%d self samples in flat) is not in go tool pprof -top; it has: %s"
                % (name, fs, ", ".join(sorted(top)[:20])))
        ps, pt = top[name]
        if int(ps) != fs or int(pt) != ft:
            die("%r: flat %d, cum %d in pprof; self %d, total %d in flat" % (name, int(ps), int(pt), fs, ft))
        print("%s: flat %d, cum %d in both" % (name, fs, ft))
    if a.cpu_top:
        ctotal, _ = read_top(a.cpu_top)
        got = duration_ns(ctotal)
        if abs(got - cpu) > 1e6 + 1e-4 * cpu:
            die("go tool pprof gives %s of CPU, flat %.3f s" % (ctotal, cpu / 1e9))
        print("cpu: %s in pprof, %.3f s in flat" % (ctotal, cpu / 1e9))


# ---- speedscope ----


def want(cond, msg):
    if not cond:
        die(msg)


def is_uint(v):
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def cmd_speedscope(a):
    try:
        with open(a.json, encoding="utf-8") as fh:
            doc = json.load(fh)
    except (ValueError, UnicodeDecodeError) as e:
        die("%s is not JSON: %s" % (a.json, e))
    want(isinstance(doc, dict), "the top level is not an object")
    want(doc.get("$schema") == "https://www.speedscope.app/file-format-schema.json",
         "$schema is %r" % doc.get("$schema"))
    want(isinstance(doc.get("exporter"), str) and doc["exporter"].startswith("sprof-report"),
         "exporter is %r" % doc.get("exporter"))
    want(isinstance(doc.get("name"), str), "name is not a string")
    frames = doc.get("shared", {}).get("frames")
    want(isinstance(frames, list) and frames, "shared.frames is not a list of frames")
    for i, f in enumerate(frames):
        want(isinstance(f, dict) and isinstance(f.get("name"), str), "frame %d has no name" % i)
        want(set(f) <= {"name", "file", "line", "col"}, "frame %d has unknown keys %s" % (i, set(f)))
        want("file" not in f or isinstance(f["file"], str), "frame %d: file is not a string" % i)
        want("line" not in f or is_uint(f["line"]), "frame %d: line is not a number" % i)
    profiles = doc.get("profiles")
    want(isinstance(profiles, list) and profiles, "profiles is not a list")
    api = doc.get("activeProfileIndex", 0)
    want(is_uint(api) and api < len(profiles), "activeProfileIndex %r is out of range" % api)
    got = {}
    for p in profiles:
        name = p.get("name")
        want(p.get("type") == "sampled", "profile %r is of type %r" % (name, p.get("type")))
        want(p.get("unit") == "nanoseconds", "profile %r has the unit %r" % (name, p.get("unit")))
        want(isinstance(name, str), "a profile has no name")
        samples, weights = p.get("samples"), p.get("weights")
        want(isinstance(samples, list) and isinstance(weights, list), "%r: no samples or weights" % name)
        want(len(samples) == len(weights), "%r: %d samples, %d weights" % (name, len(samples), len(weights)))
        want(p.get("startValue") == 0, "%r: startValue is %r" % (name, p.get("startValue")))
        want(all(is_uint(w) for w in weights), "%r: a weight is not a whole number" % name)
        want(p.get("endValue") == sum(weights),
             "%r: endValue %r is not the sum of the weights %d" % (name, p.get("endValue"), sum(weights)))
        m = re.match(r"^.* (\d+)/(\d+) ", name)
        want(m, "profile name %r does not say pid/tid" % name)
        tid = m.group(2)
        want(tid not in got, "two profiles for thread %s" % tid)
        stacks = Counter()
        for s, w in zip(samples, weights):
            want(isinstance(s, list) and s, "%r: an empty or malformed sample" % name)
            want(all(is_uint(i) and i < len(frames) for i in s),
                 "%r: a frame index out of range in %r" % (name, s))
            stacks[";".join(frames[i]["name"].replace(";", ":") for i in s)] += w
        got[tid] = (name, stacks)
    # the folded stacks, per thread ("name-tid;..." first frames)
    folded = {}
    with open(a.folded, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            m = re.match(r"^(.*?)-(\d+);(.*) (\d+)$", line.rstrip("\n"))
            want(m, "cannot read the folded line %r" % line)
            folded.setdefault(m.group(2), Counter())[m.group(3)] += int(m.group(4))
    want(set(got) == set(folded), "threads in speedscope %s, in folded %s" % (sorted(got), sorted(folded)))
    for tid, (name, stacks) in sorted(got.items()):
        st = +stacks
        if st != folded[tid]:
            diff = [(k, st.get(k, 0), folded[tid].get(k, 0)) for k in set(st) | set(folded[tid])
                    if st.get(k, 0) != folded[tid].get(k, 0)]
            die("thread %s: speedscope and folded differ in %d stacks, e.g. %r"
                % (tid, len(diff), diff[:3]))
        print("%s\t%d" % (name, sum(st.values())))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("pprof")
    s.add_argument("top")
    s.add_argument("flat")
    s.add_argument("--n", type=int, default=5)
    s.add_argument("--cpu-top")
    s = sub.add_parser("speedscope")
    s.add_argument("json")
    s.add_argument("folded")
    a = ap.parse_args()
    {"pprof": cmd_pprof, "speedscope": cmd_speedscope}[a.cmd](a)


if __name__ == "__main__":
    main()
