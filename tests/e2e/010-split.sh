# SPDX-License-Identifier: MIT
# The 50/30/20 split (tests/progs/split.c), -O2 without frame pointers,
# DWARF unwinding: shares within 3 points, every sample's stack reaches
# main, recursion depth kept. About 4000 samples (2 s at 1999 Hz): the
# binomial spread of a 50% share is then 0.8 points, so +-3 is not noise.

SPROF_FREQ=1999 profile p.bin "$BIN/split" 2000 >out.txt 2>err.txt
expect_stderr_clean err.txt
report folded p.bin >folded.txt
# the profile against the time each function really took (measured by
# split with the TSC), and that against the 50/30/20 of the construction
measured=$(sed -n 's/^split: measured //p' out.txt)
[ -n "$measured" ] || fail "split did not print its measured shares: $(cat out.txt)"
log "measured by split: $measured ($(sed -n 's/^split: left out //p' out.txt))"
for kv in $measured; do
    v=${kv#*=}
    case ${kv%%=*} in work_a) want=50 ;; work_b) want=30 ;; *) want=20 ;; esac
    awk -v v="$v" -v w="$want" 'BEGIN { exit !(v >= w - 5 && v <= w + 5) }' ||
        fail "split's own measurement $kv is far from its construction ($want%)"
done
# shellcheck disable=SC2086
shares split folded.txt $measured --tol 3 --main main --min-depth dispatch:11

# flat agrees, with modules and source lines
flat_rows rows p.bin
head -n 12 rows.txt
shares top rows.txt work_a --n 1
[ "$(module_of rows work_a)" = split ] || fail "work_a is not in module 'split'"
grep -E 'work_a .*split\.c:[0-9]+' rows.txt >/dev/null || fail "no split.c:LINE for work_a"
# total includes callees: dispatch and main are on (almost) every stack
total=$(sum_self rows)
[ "$(percent "$(total_of rows main)" "$total")" -ge 98 ] ||
    fail "main has total $(total_of rows main) of $total samples, want 98% or more"
[ "$(percent "$(total_of rows dispatch)" "$total")" -ge 95 ] ||
    fail "dispatch has total $(total_of rows dispatch) of $total samples, want 95% or more"

# --sort total puts main (or something above it) first
report flat --sort total --limit 3 p.bin >bytotal.txt
cat bytotal.txt
grep -qE ' (main|_start|__libc_start_main[^ ]*|libc[^ ]*\+0x[0-9a-f]+) ' bytotal.txt ||
    fail "flat --sort total does not start with main or its callers"
