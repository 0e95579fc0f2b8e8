# SPDX-License-Identifier: MIT
# SPROF_UNWIND=fp on the split program built with frame pointers: the same
# shares, and every sample's stack reaches main. A frame-pointer walk cannot
# see the caller of a leaf function that sets up no frame (GCC gives
# work_a/b/c none, even with -fno-omit-frame-pointer): the recursion shows
# one dispatch frame fewer than with DWARF unwinding, at least 10.

# about 4000 samples, as in 010, so that +-3 points is well outside the noise
SPROF_FREQ=1999 SPROF_UNWIND=fp profile p.bin "$BIN/split-fp" 2000 >out.txt 2>err.txt
expect_stderr_clean err.txt
report info p.bin >info.txt
cat info.txt
grep -qw fp info.txt || fail "info does not say the unwinder was fp"
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
shares split folded.txt $measured --tol 3 --main main --min-depth dispatch:10
