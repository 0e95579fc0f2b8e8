# SPDX-License-Identifier: MIT
# Code unwinders trip on (tests/progs/hostile-code.c): a tight loop of calls
# through the PLT, an assembly loop without CFI holding a garbage %rbp, and
# machine code in an anonymous executable page with a garbage %rbp. With each
# unwinder, about 100,000 samples at 20 kHz: the program finishes with its
# output, every sample is kept, nothing crashes, and the stacks that can be
# walked still are (the PLT loop's reach main with DWARF unwinding).

for unwind in dwarf fp; do
    SPROF_FREQ=20000 SPROF_UNWIND=$unwind profile p-$unwind.bin "$BIN/hostile-code" 5000 \
        >out.txt 2>err.txt || fail "hostile-code failed with SPROF_UNWIND=$unwind"
    grep -qx 'hostile-code: done' out.txt || fail "no output with SPROF_UNWIND=$unwind"
    expect_stderr_clean err.txt
    report info p-$unwind.bin >info-$unwind.txt
    n=$(awk '$1 == "samples" { print $2; exit }' info-$unwind.txt)
    log "$unwind: $n samples"
    [ "${n:-0}" -ge 90000 ] || fail "$n samples with SPROF_UNWIND=$unwind, want about 100,000"
    flat_rows rows-$unwind p-$unwind.bin
    head -n 8 rows-$unwind.txt
    for f in plt_loop nocfi_loop; do
        [ "$(self_of rows-$unwind $f)$(total_of rows-$unwind $f)" != 00 ] ||
            fail "$f has no samples with SPROF_UNWIND=$unwind"
    done
done
# with DWARF unwinding the PLT loop's samples (in div or the loop) reach main
report folded p-dwarf.bin >folded.txt
plt=$(grep -c ';plt_loop' folded.txt || true)
[ "$plt" -gt 0 ] || fail "no stack through plt_loop"
if grep ';plt_loop' folded.txt | grep -vq ';main;'; then
    fail "a stack through plt_loop does not reach main: $(grep ';plt_loop' folded.txt | grep -v ';main;' | head -3)"
fi
