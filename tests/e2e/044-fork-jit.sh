# SPDX-License-Identifier: MIT
# A child of fork that runs in code its parent never mapped
# (tests/progs/forkjit.c: an anonymous executable page of its own, mapped
# after its fork, where it spends its time before its exec). A child's file
# starts with its parent's mappings (case 034), and at its end the child
# compares the maps again only when a stack since the last comparison has a
# frame outside the mappings on record (writer.c, new_stacks_on_record):
# here its samples are in the page, so it must, and its file records the
# page (a MAP record at the address the child printed, executable, with no
# path), which is where its samples are.

profile p.bin "$BIN/forkjit" 150 /bin/true >out.txt 2>err.txt ||
    fail "forkjit exited with status $?: $(head -c 300 err.txt)"
cat out.txt
expect_stderr_clean err.txt
c=$(sed -n 's/^child \([0-9]*\)$/\1/p' out.txt)
jit=$(sed -n 's/^jit 0x\([0-9a-f]*\)$/\1/p' out.txt)
[ -n "$c" ] && [ -n "$jit" ] || fail "forkjit printed no child pid or page: $(cat out.txt)"
[ -s "p.bin.$c" ] || fail "no file for the child (files: $(echo p.bin*))"

flat_rows child "p.bin.$c"
expect_in_flat child '[unknown]' 20
"$DUMP" "p.bin.$c" >dump.txt || fail "sprof-dump cannot read p.bin.$c"
grep '^MAP' dump.txt
awk -v a="$jit" '$1 == "MAP" && $3 == a { found = 1 } END { exit !found }' dump.txt ||
    fail "the child's file has no MAP record of its page at 0x$jit"
report info "p.bin.$c" >info.txt
grep -q '^ended  *exec' info.txt || fail "the child's file does not end with its exec: $(grep '^ended' info.txt)"
