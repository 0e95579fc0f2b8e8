# SPDX-License-Identifier: MIT
# sprof-report options on a known profile (the 50/30/20 split): --limit,
# --sort self|total, --by function|line|module|thread, folded --weight
# samples|time, --per-thread, --per-process.

SPROF_FREQ=1999 profile p.bin "$BIN/split" 1000 >out.txt 2>err.txt
# the shares each function really took (split measures them with the TSC;
# a busy sibling moves them off 50/30/20 by a few points)
measured=$(sed -n 's/^split: measured //p' out.txt)
[ -n "$measured" ] || fail "split did not print its measured shares: $(cat out.txt)"

# --limit
report flat --limit 2 p.bin >l2.txt
"$PY" "$SHARES" flat l2.txt >l2
[ "$(wc -l <l2)" -eq 2 ] || fail "flat --limit 2 gives $(wc -l <l2) rows"
flat_rows all p.bin
[ "$(wc -l <all)" -gt 4 ] || fail "flat --limit 0 gives only $(wc -l <all) rows"
report flat p.bin >default.txt
"$PY" "$SHARES" flat default.txt >default
[ "$(wc -l <default)" -le 30 ] || fail "flat without --limit gives more than 30 rows"

# --sort self (default) and --sort total: each column in order
sort -t"$(printf '\t')" -k1,1nr -s all | cmp -s - all || fail "flat is not sorted by self samples"
report flat --sort total --limit 0 p.bin >bytotal.txt
"$PY" "$SHARES" flat bytotal.txt >bytotal
sort -t"$(printf '\t')" -k2,2nr -s bytotal | cmp -s - bytotal || fail "flat --sort total is not sorted by total samples"
report flat --sort self --limit 0 p.bin >byself.txt
"$PY" "$SHARES" flat byself.txt | cmp -s - all || fail "flat --sort self differs from the default"
# self <= total on every row
awk -F'\t' '$1 > $2 { bad++ } END { exit bad > 0 }' all || fail "a row has more self than total samples"

# --by module: the program's own module holds almost everything
report flat --by module p.bin >bymod.txt
cat bymod.txt
grep -q split bymod.txt || fail "flat --by module has no 'split'"
# --by line: source lines of split.c
report flat --by line --limit 5 p.bin >byline.txt
cat byline.txt
grep -q 'split\.c:[0-9]' byline.txt || fail "flat --by line shows no split.c:LINE"
# --by thread: one thread
report flat --by thread p.bin >bythread.txt
cat bythread.txt
grep -q split bythread.txt || fail "flat --by thread does not name the thread 'split'"
report flat --by function p.bin | cmp -s - default.txt || fail "flat --by function differs from the default"

# folded --weight samples: split's measured shares, within 4 points (some
# 2,600 samples at 1999 Hz: the standard error of a 50% share is 1 point)
report folded --weight samples p.bin >samples.txt
report folded p.bin | cmp -s - samples.txt || fail "folded differs from folded --weight samples"
# shellcheck disable=SC2086
shares split samples.txt $measured --tol 4
# folded --weight time: nanoseconds, not counts, in the same shares (each
# sample weighs about a period)
report folded --weight time p.bin >time.txt
head -n 3 time.txt
if cmp -s time.txt samples.txt; then fail "folded --weight time is the same as by samples"; fi
for f in work_a work_b work_c; do
    read -r by_time _ ns <<<"$("$PY" "$SHARES" leaf time.txt $f)"
    read -r by_count _ <<<"$("$PY" "$SHARES" leaf samples.txt $f)"
    log "$f: $by_count% of the samples, $by_time% of the time"
    awk -v a="$by_time" -v b="$by_count" 'BEGIN { exit !(a - b <= 1 && b - a <= 1) }' ||
        fail "$f has $by_time% of the time but $by_count% of the samples"
done
[ "$ns" -gt 500000000 ] || fail "folded --weight time sums to $ns, not nanoseconds of a 1 s run"

# --per-thread, --per-process: a frame in front naming the thread/process
report folded --per-thread p.bin >pt.txt
head -n 2 pt.txt
[ "$("$PY" "$SHARES" total pt.txt)" -eq "$("$PY" "$SHARES" total samples.txt)" ] ||
    fail "folded --per-thread has a different number of samples"
if cmp -s pt.txt samples.txt; then fail "folded --per-thread is the same as folded"; fi
report folded --per-process p.bin >pp.txt
head -n 2 pp.txt
if cmp -s pp.txt samples.txt; then fail "folded --per-process is the same as folded"; fi
grep -q split pp.txt || fail "folded --per-process does not name the process"

