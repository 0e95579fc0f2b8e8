# SPDX-License-Identifier: MIT
# The basic path: profile one program, read the file with every report.
# target burns 500 ms of CPU in target_hot_function and prints two lines.

profile p.bin "$BIN/target" one two >out.txt 2>err.txt
grep -qx 'target: one two' out.txt || fail "the program's output changed: $(cat out.txt)"
expect_stderr_clean err.txt
[ -s p.bin ] || fail "no profile written to p.bin"
[ "$(head -c 6 p.bin | tail -c 5)" = "SPROF" ] || fail "p.bin does not start with the sprof magic"

report info p.bin >info.txt
cat info.txt
grep -q "target" info.txt || fail "info does not name the program 'target'"

flat_rows rows p.bin
cat rows.txt
shares top rows.txt target_hot_function --n 1
total=$(sum_self rows)
hot=$(self_of rows target_hot_function)
[ "$(percent "$hot" "$total")" -ge 80 ] ||
    fail "target_hot_function has $hot of $total samples, want 80% or more"
[ "$(module_of rows target_hot_function)" = target ] ||
    fail "target_hot_function is in module '$(module_of rows target_hot_function)', want 'target'"
grep -E '^ *[0-9].*target_hot_function.*target\.c:[0-9]+' rows.txt >/dev/null ||
    fail "flat does not give target.c:LINE for target_hot_function"

report folded p.bin >folded.txt
head -n 5 folded.txt
n=$("$PY" "$SHARES" total folded.txt)
[ "$n" -eq "$total" ] || fail "folded has $n samples, flat $total"
grep -q 'main;target_hot_function [0-9]*$' folded.txt ||
    fail "no folded stack ends in main;target_hot_function"

# 500 ms of CPU at 999 Hz: the count is CPU time, not wall time, so it only
# depends on how fast this machine runs the loop; a handful means sampling
# broke, thousands means the rate is wrong.
[ "$total" -ge 100 ] || fail "only $total samples for about 500 ms of CPU"
