# SPDX-License-Identifier: MIT
# Samples where vfork's caller resumes (tests/progs/vforks.c: vfork in a
# loop, each child exiting at once) walk up to main with the unwind tables.
# glibc's x86_64 vfork pops its return address into a register before the
# system call and pushes it back after, so the parent resumes, often with a
# sample pending, at an instruction whose call frame information says "the
# return address is in rdi". The walker reads it from the interrupted
# registers (preload/unwind.c, walk_full). Before, every such sample went
# to libunwind, and the first of each process kept one frame: libunwind is
# loaded (by the writer) when a sample first needs it.

case "$SAN" in
*address* | *thread*)
    skip "the sanitizer runtime's vfork (SAN=$SAN) keeps the return address off the stack" ;;
esac

SPROF_FREQ=10000 profile p.bin "$BIN/vforks" 4000 >out.txt 2>err.txt ||
    fail "vforks failed: $(cat out.txt err.txt)"
cat out.txt
grep -qx 'vforks: 4000 children, 0 failed' out.txt || fail "vforks: $(cat out.txt)"
expect_stderr_clean err.txt
expect_few_fallbacks p.bin
report folded p.bin >folded.txt
# the leaf is the C library's vfork, by whichever of its names
awk '{ n = split($1, f, ";"); if (f[n] !~ /^(__libc_vfork|__vfork|vfork)$/) next
       total += $NF; if ($1 ~ /;main;vforks_spawn;[^;]*$/) ok += $NF }
     END { printf "%d of %d samples in vfork reach main\n", ok, total
           exit !(total >= 5 && ok == total) }' folded.txt ||
    fail "samples in vfork do not all reach main: $(grep -E 'vfork [0-9]+$' folded.txt | head -3)"
