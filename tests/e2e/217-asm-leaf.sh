# SPDX-License-Identifier: MIT
# A leaf of hand-written assembly without call frame information (as GMP's
# mpn functions, which a compiler's cc1 calls), interrupted anywhere in it:
# its return address is at rsp, which the dwarf unwinder takes when it is a
# return address (right after a call instruction in a known object's code)
# and walks on from there with the tables (preload/unwind.c, step_leaf).
# tests/progs/asmleaf.c calls its leaf_sum by a direct call and through a
# pointer: the samples in leaf_sum must reach main through either caller,
# and none of them go to libunwind (which cannot walk them: its guess from
# rbp gave one-frame stacks, and loading it cost cc1 1.1-1.7 ms).

SPROF_FREQ=2000 profile p.bin "$BIN/asmleaf" 1500 >out.txt 2>err.txt ||
    fail "asmleaf failed: $(head -c 500 err.txt)"
grep -qx 'asmleaf: done' out.txt || fail "asmleaf printed no end line"
expect_stderr_clean err.txt
report info p.bin >info.txt
grep -E '^(samples|fallbacks)' info.txt
read -r nfall ntaken <<<"$(awk '$1 == "fallbacks" { print $2, $4; exit }' info.txt)"
[ -n "${ntaken:-}" ] || fail "info has no fallbacks line: $(cat info.txt)"
[ "$nfall" -eq 0 ] || fail "$nfall of $ntaken samples were walked by libunwind"
grep -q 'libunwind\.so' info.txt && fail "libunwind was loaded: $(grep 'libunwind\.so' info.txt)"

flat_rows rows p.bin
leaf=$(self_of rows leaf_sum)
all=$(sum_self rows)
log "leaf_sum: $leaf of $all samples"
[ "$(percent "$leaf" "$all")" -ge 50 ] || fail "leaf_sum has $leaf of $all samples, want half"
report folded p.bin >folded.txt
# each caller's share, and every stack whose leaf is leaf_sum through main
direct=$(awk '$1 ~ /(^|;)main;direct_caller;leaf_sum$/ { s += $2 } END { print s + 0 }' folded.txt)
indirect=$(awk '$1 ~ /(^|;)main;indirect_caller;leaf_sum$/ { s += $2 } END { print s + 0 }' folded.txt)
log "main;direct_caller;leaf_sum $direct, main;indirect_caller;leaf_sum $indirect"
[ "$((direct + indirect))" -eq "$leaf" ] ||
    fail "$((leaf - direct - indirect)) of leaf_sum's $leaf samples do not reach main through a caller: $(grep -v ';main;\(in\)*direct_caller;leaf_sum ' folded.txt | grep 'leaf_sum ' | head -3)"
if [ "$(percent "$direct" "$leaf")" -lt 20 ] || [ "$(percent "$indirect" "$leaf")" -lt 20 ]; then
    fail "callers' shares of leaf_sum: direct $direct, indirect $indirect of $leaf"
fi

# through nocfi_mid, assembly without CFI that counts down with rbp 0 and
# then calls leaf_sum: the walk cannot go past it, and the stack must say so
# (broken), where an rbp of 0 in a caller without CFI once ended it as
# complete (the psABI's mark of the outermost frame, which only the dynamic
# loader's code is taken at), and libunwind, which walks the samples in
# nocfi_mid itself (after its push, the word at rsp is no return address),
# ended them there as complete. (A sample at nocfi_mid's first instruction
# or at its ret, where the word at rsp is its return address, is walked
# through it to main, complete and right: one in a couple of thousand.)
SPROF_FREQ=2000 profile m.bin "$BIN/asmleaf" 1000 mid >out.txt 2>err.txt ||
    fail "asmleaf mid failed: $(head -c 500 err.txt)"
expect_stderr_clean err.txt
report folded m.bin >mfolded.txt
report flat m.bin >mflat.txt
through=$(awk '$1 == "nocfi_mid;leaf_sum" { s += $2 } END { print s + 0 }' mfolded.txt)
inmid=$(awk '$1 == "nocfi_mid" { s += $2 } END { print s + 0 }' mfolded.txt)
# every other stack through nocfi_mid reaches main through mid_caller
others=$(awk '$1 ~ /(^|;)nocfi_mid(;|$)/ && $1 != "nocfi_mid" && $1 != "nocfi_mid;leaf_sum" &&
    $1 !~ /;main;mid_caller;nocfi_mid(;leaf_sum)?$/' mfolded.txt)
[ -z "$others" ] || fail "stacks through nocfi_mid that neither stop there nor reach main: $(echo "$others" | head -3)"
incomplete=$(sed -n 's/^# \([0-9,]*\) samples\{0,1\} (.*) have incomplete stacks.*/\1/p' mflat.txt | tr -d ,)
log "leaf_sum under nocfi_mid: $through; in nocfi_mid: $inmid; incomplete: ${incomplete:-0}"
[ "$through" -gt 100 ] || fail "only $through samples in leaf_sum under nocfi_mid"
[ "$inmid" -gt 100 ] || fail "only $inmid samples in nocfi_mid itself"
[ "${incomplete:-0}" -ge "$((through + inmid))" ] ||
    fail "$((through + inmid)) samples stop at nocfi_mid, but ${incomplete:-0} are counted incomplete: $(head -3 mflat.txt)"
