#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Parsers and checks for the sprof-report views of the end-to-end tests.

  reports.py tree FILE
      `sprof-report tree` output (UTF-8 or --ascii lines) as rows
      "depth<TAB>total<TAB>self<TAB>name" (depth 1 for the top level; self
      is empty for --inverted; name without [module] and (inlined)). Checks
      that the tree lines are consistent: a node's depth is at most one more
      than the row before, and every row has the columns of the header.
  reports.py callgraph FILE
      `sprof-report callgraph` output as rows
      "index<TAB>total<TAB>self<TAB>name" for the functions and
      "index<TAB>edge<TAB><-|-><TAB>samples<TAB>name" for their callers and
      callees (after the function's row); checks that no total or edge
      exceeds the number of samples.
  reports.py json FILE
      Parses `sprof-report json` output and checks the schema
      "sprof-report/1" (every field, its type, tree sums: a node's total is
      its self plus its children's totals, function indexes valid); prints
      "name<TAB>self<TAB>total" per function.
  reports.py columns FILE NCOLS [NAMECOL]
      Every non-comment line of a text table has at least NCOLS
      whitespace-separated fields and the first NAMECOL of them are numbers,
      percentages or "N s" times, i.e. no name pushed into a number column.
Exits 1 with "reports.py: REASON" when a check fails.
"""
import json
import re
import sys


def die(msg):
    print("reports.py: " + msg)
    sys.exit(1)


def read(path):
    with open(path, encoding="utf-8", errors="strict") as fh:
        return fh.read().splitlines()


def strip_name(s):
    s = re.sub(r" \(inlined\)$", "", s)
    s = re.sub(r"  \[[^\]]*\]$", "", s)
    return s


def cmd_tree(path):
    lines = read(path)
    head = None
    prev = 0
    for ln in lines:
        if ln.startswith("#") or not ln.strip():
            continue
        if head is None:
            head = ln
            inverted = ln.lstrip().startswith("Samples")
            continue
        # numbers, then the name cell (the last column, which starts after
        # the time "N.NNN s")
        m = re.match(r"^\s*(\d+)\s+(\d+\.\d)%\s+" +
                     (r"" if inverted else r"(\d+)\s+(\d+\.\d)%\s+") +
                     r"(\d+\.\d{3}) s  (.*)$", ln)
        if not m:
            die("%s: not a tree row: %r" % (path, ln))
        total = m.group(1)
        selfv = "" if inverted else m.group(3)
        cell = m.group(m.lastindex)
        # tree glyphs: 3 characters per level below the top
        depth = 1
        rest = cell
        while True:
            g = rest[:3]
            if g in ("├─ ", "└─ ", "|- ", "`- "):
                depth += 1
                rest = rest[3:]
                break
            if g in ("│  ", "|  ", "   "):
                depth += 1
                rest = rest[3:]
                continue
            break
        if depth > prev + 1:
            die("%s: row deeper than its parent allows: %r" % (path, ln))
        prev = depth
        print("%d\t%s\t%s\t%s" % (depth, total, selfv, strip_name(rest)))
    if head is None:
        die("%s: no header" % path)


def cmd_callgraph(path):
    lines = read(path)
    m = re.match(r"# (\d+) samples?", lines[0] if lines else "")
    if not m:
        die("%s: no '# N samples' header" % path)
    all_samples = int(m.group(1))
    index = None
    pending = []  # callers, printed once their function's index is known
    for ln in lines[1:]:
        if ln.startswith("#") or not ln.strip() or ln.lstrip().startswith("Index"):
            continue
        m = re.match(r"^\s*\[(\d+)\]\s+(\d+)\s+(\d+\.\d)%\s+(\d+)\s+(\d+\.\d)%\s+"
                     r"\d+\.\d{3} s  (.*)$", ln)
        if m:
            index = m.group(1)
            total = int(m.group(2))
            if total > all_samples:
                die("%s: %s has a total of %d, more than the %d samples" %
                    (path, m.group(6), total, all_samples))
            print("%s\t%d\t%s\t%s" % (index, total, m.group(4), strip_name(m.group(6))))
            for arrow, n, name in pending:
                print("%s\tedge\t%s\t%s\t%s" % (index, arrow, n, name))
            pending = []
            continue
        m = re.match(r"^\s*(\d+)\s+(\d+\.\d)%\s+\d+\.\d{3} s      (<-|->) (.*?)( \[\d+\])?$", ln)
        if not m:
            die("%s: not a callgraph row: %r" % (path, ln))
        if int(m.group(1)) > all_samples:
            die("%s: an edge has %s samples, more than all %d" % (path, m.group(1), all_samples))
        if m.group(3) == "<-":
            pending.append((m.group(3), m.group(1), m.group(4)))
        else:
            print("%s\tedge\t%s\t%s\t%s" % (index, m.group(3), m.group(1), m.group(4)))


def expect(obj, key, typ, where):
    if key not in obj:
        die("%s: no field %r" % (where, key))
    v = obj[key]
    if typ is int and (isinstance(v, bool) or not isinstance(v, int)):
        die("%s: %r is %r, not an integer" % (where, key, v))
    if typ is not int and typ is not None and not isinstance(v, typ):
        die("%s: %r is %r, not %s" % (where, key, v, typ.__name__))
    return v


def cmd_json(path):
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    try:
        d = json.loads(text)
    except ValueError as e:
        die("%s does not parse as JSON: %s" % (path, e))
    if expect(d, "schema", str, "top") != "sprof-report/1":
        die("schema is %r" % d["schema"])
    expect(d, "generator", str, "top")
    md = expect(d, "metadata", dict, "top")
    for p in expect(md, "processes", list, "metadata"):
        for k, t in (("file", str), ("pid", int), ("ppid", int), ("command", str),
                     ("argv", list), ("executable", str), ("start_realtime_ns", int),
                     ("duration_ns", int), ("samples_in_file", int), ("samples_lost", int),
                     ("samples_truncated", int), ("samples", int), ("cpu_ns", int)):
            expect(p, k, t, "process")
        expect(p, "end", None, "process")
        expect(p, "config", None, "process")
    for t in expect(md, "threads", list, "metadata"):
        for k, ty in (("pid", int), ("tid", int), ("name", str), ("samples", int),
                      ("cpu_ns", int), ("thread_cpu_ns", int)):
            expect(t, k, ty, "thread")
    f = expect(md, "filters", dict, "metadata")
    for k, ty in (("pid", list), ("tid", list), ("focus", list), ("hide", list),
                  ("no_inline", bool)):
        expect(f, k, ty, "filters")
    tot = expect(md, "totals", dict, "metadata")
    for k in ("samples", "cpu_ns", "processes", "threads", "samples_before_filters",
              "functions"):
        expect(tot, k, int, "totals")
    funcs = expect(d, "functions", list, "top")
    if len(funcs) != tot["functions"]:
        die("totals.functions is %d, but %d functions" % (tot["functions"], len(funcs)))
    for fn in funcs:
        for k, ty in (("name", str), ("module", str), ("file", str), ("line", int),
                      ("self_samples", int), ("total_samples", int), ("self_ns", int),
                      ("total_ns", int)):
            expect(fn, k, ty, "function")
        if fn["self_samples"] > fn["total_samples"] or fn["total_samples"] > tot["samples"]:
            die("function %r: self %d, total %d of %d samples" %
                (fn["name"], fn["self_samples"], fn["total_samples"], tot["samples"]))
    if sum(fn["self_samples"] for fn in funcs) != tot["samples"]:
        die("the functions' self samples do not add up to the total")
    tree = expect(d, "tree", None, "top")
    if tree is not None:
        expect(tree, "inverted", bool, "tree")
        root = expect(tree, "root", dict, "tree")
        if root["function"] is not None or root["total_samples"] != tot["samples"]:
            die("the tree's root is not all samples")
        stack = [root]
        while stack:
            n = stack.pop()
            for k in ("self_samples", "total_samples", "self_ns", "total_ns"):
                expect(n, k, int, "tree node")
            kids = expect(n, "children", list, "tree node")
            if n is not root:
                fi = expect(n, "function", int, "tree node")
                if not 0 <= fi < len(funcs):
                    die("tree node names function %d of %d" % (fi, len(funcs)))
                expect(n, "inlined", bool, "tree node")
            if tree.get("min_percent", 0) == 0 and \
                    n["self_samples"] + sum(k["total_samples"] for k in kids) != n["total_samples"]:
                die("tree node %r: self %d + children %d != total %d" %
                    (n.get("function"), n["self_samples"],
                     sum(k["total_samples"] for k in kids), n["total_samples"]))
            stack.extend(kids)
    for fn in funcs:
        print("%s\t%d\t%d" % (fn["name"], fn["self_samples"], fn["total_samples"]))


NUM_RE = re.compile(r"^([+-]?\d+(\.\d+)?%?|-|\[\d+\]|\d+\.\d{3})$")


def cmd_columns(path, ncols, numcols):
    ncols, numcols = int(ncols), int(numcols)
    head = True
    for ln in read(path):
        if ln.startswith("#") or not ln.strip():
            continue
        if head:  # the header row
            head = False
            continue
        t = ln.split()
        if len(t) < ncols:
            die("%s: %d fields, want %d: %r" % (path, len(t), ncols, ln))
        # times are "N.NNN s": drop the unit words
        nums = [x for x in t if x != "s"][:numcols]
        for x in nums:
            if not NUM_RE.match(x):
                die("%s: %r in a number column: %r" % (path, x, ln))


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        sys.exit(2)
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "tree":
        cmd_tree(*args)
    elif cmd == "callgraph":
        cmd_callgraph(*args)
    elif cmd == "json":
        cmd_json(*args)
    elif cmd == "columns":
        cmd_columns(*args)
    else:
        print(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
