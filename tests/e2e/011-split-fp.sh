# SPDX-License-Identifier: MIT
# SPROF_UNWIND=fp on the split program built with frame pointers: the same
# shares, and every sample's stack reaches main. A frame-pointer walk cannot
# see the caller of a leaf function that sets up no frame (GCC gives
# work_a/b/c none, even with -fno-omit-frame-pointer): the recursion shows
# one dispatch frame fewer than with DWARF unwinding, at least 10.

SPROF_UNWIND=fp profile p.bin "$BIN/split-fp" 1500 >out.txt 2>err.txt
expect_stderr_clean err.txt
report info p.bin >info.txt
cat info.txt
grep -qw fp info.txt || fail "info does not say the unwinder was fp"
report folded p.bin >folded.txt
shares split folded.txt work_a=50 work_b=30 work_c=20 --tol 3 --main main --min-depth dispatch:10
