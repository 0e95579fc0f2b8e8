#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks on `sprof-report flamegraph` SVG files for the end-to-end tests.

  flamegraph.py svg FILE.svg [--total N] [--share NAME=SAMPLES]... [--inverted]
      Parses the SVG as XML and checks its structure: one <g class="f"> per
      frame with a <title> whose first line is the name, a <rect> and a
      <text> label that fits; the root "all" spans the whole width; frames
      are inside their parents; the label is the name or its start and "..".
      --total: the root has N samples. --share: the frames named NAME
      (outermost ones, when nested) span SAMPLES/total of the width, within
      half a pixel per frame. --inverted: the root is at the top.
      Prints one line per frame: "name<TAB>samples<TAB>width".

  flamegraph.py browser FILE.svg --search RE=SAMPLES --ctrl-f RE=SAMPLES
                        --zoom NAME [--log FILE]
      Opens the SVG in headless Chromium (tests/lib/cdp.py) and uses it as a
      person would: hovers the widest frame named NAME and reads the details
      line; clicks "Search", answers the prompt with RE and checks the
      matched share (SAMPLES of the total) and which frames got highlighted;
      Escape clears it; Ctrl-F searches again; clicks the frame to zoom
      (it must fill the width, its ancestors too, frames outside it hide);
      "Reset zoom" must restore every frame. JavaScript errors fail.

  flamegraph.py diff FILE.svg --grew NAME --shrank NAME [--vanished PCT]
      A differential graph: NAME's frames are red (grew) or blue (shrank)
      and their tooltips say so; --vanished: the note on BASE's stacks NEW
      lacks gives PCT within 10 points.

A failed check prints "flamegraph.py: REASON" and exits 1.
"""
import argparse
import os
import re
import sys
import time
import xml.etree.ElementTree as ET

NS = "{http://www.w3.org/2000/svg}"
HIGHLIGHT = "rgb(230,0,230)"


def die(msg):
    print("flamegraph.py: " + msg)
    sys.exit(1)


class Frame:
    def __init__(self, g):
        self.g = g
        title = g.find(NS + "title")
        rect = g.find(NS + "rect")
        text = g.find(NS + "text")
        if title is None or rect is None or text is None:
            die("a frame lacks its title, rect or text: %s" % ET.tostring(g)[:300])
        self.tip = title.text or ""
        self.name = self.tip.split("\n")[0]
        self.label = text.text or ""
        self.x = float(rect.get("x"))
        self.y = float(rect.get("y"))
        self.w = float(rect.get("width"))
        self.fill = rect.get("fill")
        self.sx = int(g.get("data-x"))
        self.n = int(g.get("data-n"))
        self.d = int(g.get("data-d"))


def load(path):
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        die("%s is not well-formed XML: %s" % (path, e))
    if root.tag != NS + "svg":
        die("the root element is %s, not svg" % root.tag)
    box = root.find(".//%sg[@id='frames']" % NS)
    if box is None:
        die("no <g id=\"frames\">")
    frames = [Frame(g) for g in box if g.get("class") == "f"]
    if not frames:
        die("no frames")
    for el in root.iter():
        if el.tag in (NS + "image", NS + "use", NS + "a", NS + "foreignObject"):
            die("the SVG holds a <%s>: it must need nothing from outside" % el.tag[len(NS):])
        for k, v in el.attrib.items():
            if k.endswith("href") or "url(" in v:
                die("the SVG refers to something outside: %s=%r" % (k, v))
    scripts = root.findall(NS + "script")
    styles = root.findall(NS + "style")
    if len(scripts) != 1 or not (scripts[0].text or "").strip():
        die("want one inline <script>, found %d" % len(scripts))
    if not styles:
        die("no inline <style>")
    return root, frames


def outermost(frames, name):
    """The frames named name that are not inside another one of them."""
    hits = sorted((f for f in frames if f.name == name), key=lambda f: (f.d, f.sx))
    kept = []
    for f in hits:
        if not any(k.sx <= f.sx and f.sx + f.n <= k.sx + k.n and k.d < f.d for k in kept):
            kept.append(f)
    return kept


def cmd_svg(a):
    root, frames = load(a.file)
    pad = float(root.get("data-pad"))
    fw = float(root.get("data-fw"))
    chw = float(root.get("data-chw"))
    total = int(root.get("data-total"))
    top = frames[0]
    if top.name != "all" or top.d != 0:
        die("the first frame is %r at depth %d, not the root 'all'" % (top.name, top.d))
    if top.n != total or abs(top.w - fw) > 0.01 or abs(top.x - pad) > 0.01:
        die("the root spans %.2f px from %.2f with %d samples; want %.2f from %.2f, %d"
            % (top.w, top.x, top.n, fw, pad, total))
    if a.total is not None and total != a.total:
        die("the graph has %d samples, want %d" % (total, a.total))
    scale = fw / total
    ys = {}
    for f in frames:
        if abs(f.x - (pad + f.sx * scale)) > 0.02 or abs(f.w - f.n * scale) > 0.02:
            die("frame %r is at %.2f, %.2f px wide; want %.2f, %.2f"
                % (f.name, f.x, f.w, pad + f.sx * scale, f.n * scale))
        if f.sx < 0 or f.sx + f.n > total:
            die("frame %r spans samples %d..%d of %d" % (f.name, f.sx, f.sx + f.n, total))
        ys.setdefault(f.d, set()).add(f.y)
        # the label: the whole name, or its start and "..", fitting the frame
        if f.label and f.label != f.name:
            if not f.label.endswith("..") or not f.name.startswith(f.label[:-2]):
                die("frame %r has the label %r" % (f.name, f.label))
        if len(f.label) * chw > f.w - 5.9 and f.label:
            die("the label %r does not fit its %.1f px" % (f.label, f.w))
        if not f.label and f.w - 6 >= 3 * chw + 0.01:
            die("frame %r (%.1f px) has no label" % (f.name, f.w))
    for d, y in ys.items():
        if len(y) != 1:
            die("frames at depth %d are at several heights: %s" % (d, sorted(y)))
    depths = sorted(ys)
    if depths != list(range(len(depths))):
        die("depths are not contiguous: %s" % depths)
    y_of = {d: ys[d].pop() for d in depths}
    if len(depths) > 1:
        down = y_of[1] > y_of[0]
        if down != a.inverted:
            die("the root is at the %s, want it at the %s"
                % ("top" if down else "bottom", "top" if a.inverted else "bottom"))
    # every frame lies inside a frame one level up
    spans = {}
    for f in frames:
        spans.setdefault(f.d, []).append((f.sx, f.sx + f.n))
    for f in frames[1:]:
        if not any(s <= f.sx and f.sx + f.n <= e for s, e in spans.get(f.d - 1, [])):
            die("frame %r (samples %d..%d, depth %d) is not inside a parent"
                % (f.name, f.sx, f.sx + f.n, f.d))
    for spec in a.share or []:
        name, _, want = spec.rpartition("=")
        want = int(want)
        hits = outermost(frames, name)
        got = sum(f.w for f in hits)
        if abs(got - want * scale) > 0.5 * max(1, len(hits)) + 0.01:
            die("the frames of %r span %.2f px, want %.2f (%d of %d samples)"
                % (name, got, want * scale, want, total))
        print("share %s: %.2f px for %d samples" % (name, got, want))
    for f in frames:
        print("%s\t%d\t%.2f" % (f.name, f.n, f.w))


# ---- in the browser ----


def cmd_browser(a):
    sys.dont_write_bytecode = True  # no __pycache__ in the source tree
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import cdp

    root, frames = load(a.file)
    total = int(root.get("data-total"))
    pad = float(root.get("data-pad"))
    fw = float(root.get("data-fw"))
    height = int(float(root.get("height")))
    width = int(float(root.get("width")))

    def parse_spec(spec):
        pat, _, n = spec.rpartition("=")
        return pat, int(n)

    searches = [("button",) + parse_spec(a.search), ("ctrl-f",) + parse_spec(a.ctrl_f)]
    url = "file://" + os.path.abspath(a.file)
    t0 = time.monotonic()
    with cdp.Browser(log_path=a.log) as b:
        page = b.new_page(width + 40, height + 40)
        page.send("Runtime.enable")
        page.goto(url)
        print("# loaded in %.1f s" % (time.monotonic() - t0))

        def js(expr):
            return page.eval(expr)

        def errors():
            return [e["params"]["exceptionDetails"].get("text", "") + " " +
                    str(e["params"]["exceptionDetails"].get("exception", {}).get("description", ""))
                    for e in b.events if e.get("method") == "Runtime.exceptionThrown"]

        if js("typeof window.sprofFlamegraph") != "object":
            die("the script did not run (window.sprofFlamegraph is missing): %s" % errors())
        n_dom = js("document.querySelectorAll('#frames > g.f').length")
        if n_dom != len(frames):
            die("the page shows %s frames, the file has %d" % (n_dom, len(frames)))

        # the frame to hover and zoom: the widest one named a.zoom
        cand = [i for i, f in enumerate(frames) if f.name == a.zoom]
        if not cand:
            die("no frame named %r" % a.zoom)
        zi = max(cand, key=lambda i: frames[i].w)
        zf = frames[zi]
        frame_js = "document.querySelectorAll('#frames > g.f')[%d].querySelector('rect')" % zi

        # hover: the details line
        x, y = page.center_of(frame_js)
        page.mouse("mouseMoved", x, y)
        details = js("document.getElementById('details').textContent")
        if not details.startswith(zf.name + " | ") or "samples" not in details:
            die("hovering %r shows %r in the details line" % (zf.name, details))
        print("hover: %s" % details[:150])

        # searches: through the button and through Ctrl-F
        for how, pattern, want in searches:
            b.dialog_answers.append(pattern)
            ndialogs = len(b.dialogs)
            if how == "button":
                x, y = page.center_of("document.getElementById('search')")
                page.click(x, y)
            else:
                page.key("f", "KeyF", 70, modifiers=2)  # Ctrl
            if len(b.dialogs) != ndialogs + 1:
                die("%s did not open the search prompt" % how)
            text = js("document.getElementById('matched').textContent")
            shown = js("getComputedStyle(document.getElementById('matched')).display")
            m = re.match(r"Matched: ([0-9.]+)% \((\d+) of (\d+) samples\)$", text or "")
            if not m or shown == "none":
                die("after searching %r (%s) the matched line is %r (display %s)"
                    % (pattern, how, text, shown))
            pct, got, of = float(m.group(1)), int(m.group(2)), int(m.group(3))
            if of != total or got != want or abs(pct - 100.0 * want / total) > 0.006:
                die("searching %r (%s) matched %s; want %.2f%% (%d of %d samples)"
                    % (pattern, how, text, 100.0 * want / total, want, total))
            fills = js("Array.from(document.querySelectorAll('#frames > g.f > rect'))"
                       ".map(function (r) { return r.getAttribute('fill'); })")
            rx = re.compile(pattern)
            for f, fill in zip(frames, fills):
                hit = bool(rx.search(f.name))
                if hit != (fill == HIGHLIGHT):
                    die("after searching %r, frame %r is %s" % (pattern, f.name, fill))
                if not hit and fill != f.fill:
                    die("searching changed the colour of %r, which does not match" % f.name)
            print("search %r via %s: %s, %d frames highlighted"
                  % (pattern, how, text, sum(1 for c in fills if c == HIGHLIGHT)))
            page.key("Escape", "Escape", 27)
            if js("getComputedStyle(document.getElementById('matched')).display") != "none" or \
                    js("document.querySelectorAll('#frames rect[fill=\"%s\"]').length" % HIGHLIGHT):
                die("Escape did not clear the search")

        # zoom into the frame
        geo = ("Array.from(document.querySelectorAll('#frames > g.f')).map(function (g) {"
               " var r = g.querySelector('rect'); return [+r.getAttribute('x'),"
               " +r.getAttribute('width'), getComputedStyle(g).display, g.getAttribute('class')]; })")
        before = js(geo)
        x, y = page.center_of(frame_js)
        page.click(x, y)
        after = js(geo)
        zx, zw, _, _ = after[zi]
        if abs(zx - pad) > 0.01 or abs(zw - fw) > 0.01:
            die("after clicking %r it is at %.2f, %.2f px wide; want %.2f, %.2f"
                % (zf.name, zx, zw, pad, fw))
        hidden = 0
        for f, (fx, w, disp, cls) in zip(frames, after):
            inside = f.d >= zf.d and zf.sx <= f.sx and f.sx + f.n <= zf.sx + zf.n
            above = f.d < zf.d and f.sx <= zf.sx and zf.sx + zf.n <= f.sx + f.n
            if above:
                if disp == "none" or abs(w - fw) > 0.01 or "anc" not in (cls or ""):
                    die("ancestor %r is not shown faded at full width after zooming" % f.name)
            elif inside:
                want = f.n * fw / zf.n
                if disp == "none" or abs(w - want) > 0.01:
                    die("%r inside the zoomed frame is %.2f px (%s), want %.2f"
                        % (f.name, w, disp, want))
            else:
                if disp != "none":
                    die("%r outside the zoomed frame is still shown" % f.name)
                hidden += 1
        if js("getComputedStyle(document.getElementById('unzoom')).display") == "none":
            die("no 'Reset zoom' after zooming")
        print("zoom %r: full width, %d frames outside hidden" % (zf.name, hidden))

        x, y = page.center_of("document.getElementById('unzoom')")
        page.click(x, y)
        reset = js(geo)
        for f, (bx, bw, bd, _), (rx_, rw, rd, rc) in zip(frames, before, reset):
            if abs(bx - rx_) > 0.01 or abs(bw - rw) > 0.01 or rd == "none" or "anc" in (rc or ""):
                die("'Reset zoom' left %r at %.2f, %.2f px (%s), was %.2f, %.2f"
                    % (f.name, rx_, rw, rd, bx, bw))
        if js("getComputedStyle(document.getElementById('unzoom')).display") != "none":
            die("'Reset zoom' is still shown after resetting")
        print("reset zoom: every frame back")
        errs = errors()
        if errs:
            die("javascript errors: %s" % errs)
    print("# browser checks took %.1f s" % (time.monotonic() - t0))


def cmd_diff(a):
    root, frames = load(a.file)

    def color(f):
        m = re.match(r"rgb\((\d+),(\d+),(\d+)\)$", f.fill or "")
        if not m:
            die("frame %r has the fill %r" % (f.name, f.fill))
        return tuple(int(v) for v in m.groups())

    for name, sign, hue in ((a.grew, "+", "red"), (a.shrank, "-", "blue")):
        if not name:
            continue
        hits = [f for f in frames if f.name == name]
        if not hits:
            die("no frame named %r" % name)
        f = max(hits, key=lambda f: f.n)
        r, g, b_ = color(f)
        ok = r > b_ + 60 if hue == "red" else b_ > r + 60
        if not ok:
            die("%r should be %s, its fill is rgb(%d,%d,%d)" % (name, hue, r, g, b_))
        m = re.search(r"change: self ([+-][0-9.]+) pts \(([+-]\d+) samples\)", f.tip)
        if not m or not m.group(1).startswith(sign) or "BASE:" not in f.tip:
            die("the tooltip of %r does not give a %s change: %r" % (name, sign, f.tip))
        print("%s: %s, %s" % (name, hue, f.tip.replace("\n", " | ")))
    if a.vanished is not None:
        note = root.find(".//%stext[@id='vanished']" % NS)
        if note is None:
            die("no note on the stacks only BASE has")
        m = re.search(r"([0-9.]+)% of BASE", note.text or "")
        if not m or abs(float(m.group(1)) - a.vanished) > 10:
            die("the note says %r, want about %.0f%%" % (note.text, a.vanished))
        print("vanished: %s" % note.text)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("svg")
    s.add_argument("file")
    s.add_argument("--total", type=int)
    s.add_argument("--share", action="append")
    s.add_argument("--inverted", action="store_true")
    s = sub.add_parser("browser")
    s.add_argument("file")
    s.add_argument("--search", required=True)
    s.add_argument("--ctrl-f", required=True)
    s.add_argument("--zoom", required=True)
    s.add_argument("--log")
    s = sub.add_parser("diff")
    s.add_argument("file")
    s.add_argument("--grew")
    s.add_argument("--shrank")
    s.add_argument("--vanished", type=float)
    a = ap.parse_args()
    {"svg": cmd_svg, "browser": cmd_browser, "diff": cmd_diff}[a.cmd](a)


if __name__ == "__main__":
    main()
