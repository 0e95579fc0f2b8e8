# SPDX-License-Identifier: MIT
# flamegraph: one self-contained SVG, well-formed XML, whose frames span
# their functions' shares of the samples (split: work_a, work_b, work_c
# 50:30:20 under a recursive dispatcher); options and filters change what
# they say, bad values are usage errors.

profile p.bin "$BIN/split" 600 >/dev/null 2>err.txt
expect_stderr_clean err.txt
flat_rows rows p.bin
total=$(sum_self rows)
[ "$total" -ge 100 ] || fail "only $total samples"

# the default graph: every frame where it belongs, shares as in flat
report flamegraph p.bin >fg.svg
pycheck flamegraph.py svg fg.svg --total "$total" \
    --share "work_a=$(total_of rows work_a)" --share "work_b=$(total_of rows work_b)" \
    --share "work_c=$(total_of rows work_c)" --share "dispatch=$(total_of rows dispatch)" \
    --share "main=$(total_of rows main)" >fg.txt
grep -q 'id="title"[^>]*>Flame Graph<' fg.svg || fail "the default title is not 'Flame Graph'"
grep -q 'split: [0-9]* samples' fg.svg || fail "the subtitle does not name the program and its samples"

# -o writes what stdout gets
report flamegraph -o fg-o.svg p.bin
cmp -s fg.svg fg-o.svg || fail "flamegraph -o FILE and standard output differ"

# options: title (escaped), width, minwidth, icicle, colours by module
report flamegraph -o opt.svg --title 'A <b> & "c" '\''d'\''' --width 800 --minwidth 5 \
    --inverted --colors module p.bin
"$PY" - opt.svg fg.svg <<'EOF' || fail "the options did not take effect (see the log)"
import sys, xml.etree.ElementTree as ET
NS = "{http://www.w3.org/2000/svg}"
opt, full = (ET.parse(p).getroot() for p in sys.argv[1:3])
title = opt.find(".//%stext[@id='title']" % NS).text
assert title == 'A <b> & "c" \'d\'', title
assert opt.get("width") == "800", opt.get("width")
frames = lambda r: [g for g in r.find(".//%sg[@id='frames']" % NS) if g.get("class") == "f"]
widths = [float(g.find(NS + "rect").get("width")) for g in frames(opt)]
assert min(widths) >= 5, min(widths)
assert len(widths) < len(frames(full)), (len(widths), len(frames(full)))
print("title, width, minwidth: ok (%d frames of %d)" % (len(widths), len(frames(full))))
EOF
pycheck flamegraph.py svg opt.svg --inverted >/dev/null

# colours: by kind, the program's code is warm (red to orange), the C
# library's yellow; the same name has the same colour in every graph
report flamegraph --focus work_b -o focus.svg p.bin
"$PY" - fg.svg focus.svg <<'EOF' || fail "the colours are not by kind, or not stable (see the log)"
import colorsys, re, sys, xml.etree.ElementTree as ET
NS = "{http://www.w3.org/2000/svg}"
def fills(path):
    r = ET.parse(path).getroot()
    out = {}
    for g in r.find(".//%sg[@id='frames']" % NS):
        name = g.find(NS + "title").text.split("\n")[0]
        out.setdefault(name, set()).add(g.find(NS + "rect").get("fill"))
    return out
def hue(fill):
    r, g, b = (int(v) / 255 for v in re.match(r"rgb\((\d+),(\d+),(\d+)\)", fill).groups())
    return colorsys.rgb_to_hls(r, g, b)[0] * 360
a, b = fills(sys.argv[1]), fills(sys.argv[2])
for name in ("work_a", "work_b", "dispatch", "main"):
    (h,) = [hue(f) for f in a[name]]
    assert h <= 40, (name, h)
libc = [n for n in a if n.startswith("__libc_start")]
assert libc, sorted(a)
for n in libc:
    (h,) = [hue(f) for f in a[n]]
    assert 40 < h < 65, (n, h)
for n in set(a) & set(b):
    assert a[n] == b[n], (n, a[n], b[n])
print("kind colours ok, %d names the same in both graphs" % len(set(a) & set(b)))
EOF

# filters: --focus keeps the stacks through work_b, --hide drops frames
pycheck flamegraph.py svg focus.svg --total "$(total_of rows work_b)" >/dev/null
report flamegraph --hide '^dispatch$' -o hide.svg p.bin
pycheck flamegraph.py svg hide.svg --total "$total" --share "work_a=$(total_of rows work_a)" >hide.txt
! grep -q '^dispatch	' hide.txt || fail "--hide '^dispatch\$' left dispatch frames"
report flamegraph --max-depth 3 -o depth.svg p.bin
deepest=$(grep -o 'data-d="[0-9]*"' depth.svg | tr -dc '0-9\n' | sort -n | tail -n 1)
[ "$deepest" = 3 ] || fail "--max-depth 3 gives frames $deepest deep"

# usage errors
expect_status 2 "$REPORT" flamegraph --width 10 p.bin 2>/dev/null
expect_status 2 "$REPORT" flamegraph --minwidth x p.bin 2>/dev/null
expect_status 2 "$REPORT" flamegraph --colors rainbow p.bin 2>/dev/null
expect_status 2 "$REPORT" flamegraph -o /nonexistent-dir/x.svg p.bin 2>/dev/null
expect_status 2 "$REPORT" flamegraph --diff missing.bin p.bin 2>/dev/null
