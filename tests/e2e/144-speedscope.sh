# SPDX-License-Identifier: MIT
# speedscope: the file follows speedscope's schema, has one sampled
# profile per thread, and its stacks and nanosecond weights are exactly
# those of folded --per-thread --weight time; filters apply.

profile t.bin "$BIN/threads" 150 >/dev/null 2>err.txt
expect_stderr_clean err.txt

report speedscope t.bin >all.json
report folded --per-thread --weight time t.bin >all.folded
pycheck exports.py speedscope all.json all.folded >all.txt
cat all.txt
[ "$(wc -l <all.txt)" -eq 5 ] || fail "want 5 thread profiles (main and 4 workers), got $(wc -l <all.txt)"
report speedscope -o all-o.json t.bin
cmp -s all.json all-o.json || fail "speedscope -o FILE and standard output differ"

report speedscope --tid sp-worker-2 -o one.json t.bin
report folded --tid sp-worker-2 --per-thread --weight time t.bin >one.folded
pycheck exports.py speedscope one.json one.folded >one.txt
grep -q 'sp-worker-2' one.txt && [ "$(wc -l <one.txt)" -eq 1 ] || fail "--tid sp-worker-2: $(cat one.txt)"

report speedscope --hide '^work_' -o hide.json t.bin
report folded --hide '^work_' --per-thread --weight time t.bin >hide.folded
pycheck exports.py speedscope hide.json hide.folded >/dev/null
! grep -q '"work_t1"' hide.json || fail "--hide left work_t1 among the frames"
expect_status 2 "$REPORT" speedscope -o /nonexistent-dir/x.json t.bin 2>/dev/null
