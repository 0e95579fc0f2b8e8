# SPDX-License-Identifier: MIT
# annotate FUNCTION: samples per source line (self at the leaf's line,
# inlined code at the line of the inlined call, total at call lines), the
# source found by its DWARF path or under --source-dir, per address when it
# is not found; FUNCTION by exact name or regex.
# timeout: 60

# a synth built from a copy of its source, which then moves away
mkdir src
cp "$SRC/tests/tools/synth.c" src/
(cd src && $CC -std=gnu11 -D_GNU_SOURCE -O0 -g -I"$SRC/common" synth.c "$SRC"/common/*.c \
    $(pkg-config --libs libzstd 2>/dev/null || echo -lzstd) -ldl -o ../synth) ||
    fail "cannot build synth"
./synth s.bin || fail "synth failed"

# b: its 500 samples are in inl_leaf, inlined at the call line
report annotate b s.bin >b.txt
cat b.txt
grep -q "^# source: $CASE_DIR/src/synth.c" b.txt || fail "annotate does not find the source by its DWARF path"
grep -qE '^ *500 +100\.0% +500 +100\.0% +[0-9]+ +inl_leaf\(\); +<- inlined: inl_leaf$' b.txt ||
    fail "annotate b: the inlined call line does not hold the 500 samples"
grep -qE '^ +[0-9]+ +__attribute__\(\(noinline\)\) static void b\(void\)$' b.txt ||
    fail "annotate b does not start at the function's declaration"
# the inlined function itself, at its own line
report annotate inl_leaf s.bin >inl.txt
grep -qE '^ *500 +100\.0% +500 +100\.0% +[0-9]+ +CAPTURE\(st_b\);$' inl.txt ||
    fail "annotate inl_leaf: its CAPTURE line does not hold the 500 samples"
# totals at call lines: main calls a (50%), c (30%), rec (10%)
report annotate main s.bin >main.txt
grep -qE '^ *0 +0\.0% +500 +50\.0% +[0-9]+ +a\(\);$' main.txt || fail "annotate main: a(); does not total 500"
grep -qE '^ *0 +0\.0% +300 +30\.0% +[0-9]+ +c\(\);$' main.txt || fail "annotate main: c(); does not total 300"
# --no-inline: the same samples, now b's own at the call line, no mark
report annotate --no-inline b s.bin >noinl.txt
grep -qE '^ *500 +100\.0% +500 +100\.0% +[0-9]+ +inl_leaf\(\);$' noinl.txt ||
    fail "annotate --no-inline b: the call line is not b's own"

# a regex: rec and the C++ function; --limit
report annotate 'rec|cxx' s.bin >re.txt
[ "$(grep -c '^== ' re.txt)" -eq 2 ] || fail "annotate 'rec|cxx' does not annotate two functions"
grep -qF '== synth::cxx_like(int)' re.txt || fail "annotate 'rec|cxx' misses synth::cxx_like(int)"
report annotate --limit 1 'rec|cxx' s.bin >re1.txt
[ "$(grep -c '^== ' re1.txt)" -eq 1 ] || fail "annotate --limit 1 annotates more than one function"
grep -q '^# 1 more matching function' re1.txt || fail "annotate --limit 1 does not say what it left out"

# per address, asked for: one address holds c's samples, with its offset
report annotate --addresses c s.bin >addr.txt
grep -qE '^ *300 +100\.0% +synth\+0x[0-9a-f]+ +\+0x[0-9a-f]+ +synth\.c:[0-9]+$' addr.txt ||
    fail "annotate --addresses c has no per-address row with the 300 samples"

# the source moved: per address, with a hint; --source-dir finds it again
mv src moved
report annotate c s.bin >gone.txt
cat gone.txt
grep -q "source '.*synth.c' not found (try --source-dir DIR)" gone.txt || fail "annotate does not say the source is missing"
grep -q '^# by address' gone.txt || fail "annotate without the source does not fall back to addresses"
report annotate --source-dir "$CASE_DIR/moved" c s.bin >remap.txt
grep -q "^# source: $CASE_DIR/moved/synth.c" remap.txt || fail "annotate --source-dir does not find the source"
grep -qE '^ *300 +100\.0% .*CAPTURE\(st_c\);' remap.txt || fail "annotate --source-dir: no samples on c's CAPTURE line"
# a tail of the path under the directory: DIR/<tail of PATH>
mkdir -p other/x/src && cp moved/synth.c other/x/src/
report annotate --source-dir "$CASE_DIR/other/x" c s.bin >tail.txt
grep -q "^# source: $CASE_DIR/other/x/src/synth.c" tail.txt || fail "annotate --source-dir does not try the tails of the path"

# nothing matches: an input error
expect_status 2 "$REPORT" annotate no_such_function s.bin 2>err.txt
grep -q "no function with samples matches 'no_such_function'" err.txt || fail "no message for a function that is not there: $(cat err.txt)"
expect_status 2 "$REPORT" annotate 2>/dev/null

# a real recording: the hot loop of work_a holds its samples
profile p.bin "$BIN/split" 400 >/dev/null 2>&1
report annotate work_a p.bin >wa.txt
cat wa.txt
"$PY" - wa.txt <<'PYEOF' || fail "annotate work_a: the BURN line does not hold most self samples"
import re, sys
rows = [l for l in open(sys.argv[1]) if re.match(r"^ *\d+ +\d+\.\d%", l)]
best = max(rows, key=lambda l: int(l.split()[0]))
assert "BURN" in best, best
assert float(best.split()[1].rstrip("%")) >= 80, best
PYEOF
