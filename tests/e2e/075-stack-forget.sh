# SPDX-License-Identifier: MIT
# libsprof's table of stacks is bounded: an interpreter makes new stacks
# without end, and once the table reaches 2 MiB the writer writes the
# pending chunk and forgets its stacks; a stack seen again gets a new id
# (sprof-format(5), STACK). tests/progs/interp.c at 10 kHz makes some
# 7,000 new stacks a second, 400 bytes each: two seconds of it go past the
# bound more than once. The file must show it (one stack under two ids),
# never give one id to two stacks, and read as if nothing had happened:
# every sample, each stack counted once by `info`, the evaluator's hot spot
# (leaf_work) on top.

SPROF_FREQ=10000 profile p.bin "$BIN/interp" 2000 >out.txt 2>err.txt
expect_stderr_clean err.txt
grep -qx 'interp: 1' out.txt || fail "interp printed $(cat out.txt)"

"$DUMP" p.bin >dump.txt || fail "sprof-dump cannot read p.bin"
! grep -q ' malformed' dump.txt || fail "sprof-dump finds malformed records in p.bin"
# STACK id=N flags=F n=K frames...: the ids of each stack, the stacks of each id
awk '$1 == "STACK" { id = $2; $1 = ""; $2 = ""; key = $0
                     if (id in of) { if (of[id] != key) bad++ } else { of[id] = key; ids[key]++ } }
     END { for (k in ids) { stacks++; if (ids[k] > 1) again++ }
           print stacks + 0, length(of) + 0, again + 0, bad + 0 }' dump.txt >counts.txt
read -r stacks nids again bad <counts.txt
log "$stacks distinct stacks under $nids ids, $again of them under two or more"
[ "$bad" -eq 0 ] || fail "$bad STACK records give an id defined before to another stack"
[ "$again" -ge 100 ] || fail "only $again stacks got a second id: the writer did not forget its stacks ($stacks stacks, $nids ids)"

report info p.bin >info.txt
grep -q "^stacks  *$stacks distinct\$" info.txt || fail "info counts $(grep '^stacks' info.txt), the file holds $stacks distinct stacks"
samples=$(sed -n 's/^samples  *\([0-9]*\) in the file.*/\1/p' info.txt)
report folded p.bin >folded.txt
total=$(awk '{ c += $NF } END { print c + 0 }' folded.txt)
[ "$total" -eq "$samples" ] || fail "the folded stacks hold $total samples, the file $samples"
flat_rows rows p.bin
head -n 4 rows.txt
shares top rows.txt leaf_work --n 1
