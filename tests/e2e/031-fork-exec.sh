# SPDX-License-Identifier: MIT
# fork+exec: the child execs another program (tests/progs/target.c); the
# new image writes p.bin.<pid>[.N] naming its own hot function, and the
# parent's file has none of it.

profile p.bin "$BIN/forkexec" "$BIN/target" an-argument >out.txt 2>err.txt
expect_stderr_clean err.txt
grep -qx 'target: an-argument' out.txt || fail "the exec'd program's output is missing: $(cat out.txt)"
child=$(sed -n 's/^child \([0-9]*\)$/\1/p' out.txt)
[ -n "$child" ] || fail "no child pid printed"
ls -la
files=$(files_of "p.bin.$child*")
[ -n "$files" ] || fail "no profile p.bin.$child* for the exec'd child"

flat_rows parent p.bin
expect_in_flat parent forkexec_parent_work
expect_not_in_flat parent target_hot_function
# shellcheck disable=SC2086
flat_rows child $files
expect_in_flat child target_hot_function 100
expect_not_in_flat child forkexec_parent_work
# shellcheck disable=SC2086
report info $files >info.txt
cat info.txt
grep -q target info.txt || fail "info of the child's profile does not name 'target'"
