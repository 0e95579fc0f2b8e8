# SPDX-License-Identifier: MIT
# fork: the parent writes p.bin, the child p.bin.<pid>; each file holds its
# own process's function only, and both merge. The child's writer thread,
# made on the child's CPU (writer.c, create_writer), may run on all of the
# child's CPUs again after its first wake; the child works 1.2 s, as a
# descendant makes its writer after a second (handler.c, late_due). The
# child leaves its parent's file, stacks and mappings as they are until its
# first write (writer.c, forget_parent), and by then holds no descriptor of
# that file. With SPROF_FOLLOW=0 only the parent is profiled, and the child
# holds no descriptor of the parent's file either. The parent works 400 ms
# before it forks, so that its writer has scanned its threads (keeping
# /proc/self/task open, threads.c): the child's scans find its own threads
# only, never its parent's, and a child not profiled keeps no descriptor of
# its parent's directory.

profile p.bin "$BIN/fork" 1200 400 >out.txt 2>err.txt
expect_stderr_clean err.txt
child=$(sed -n 's/^child \([0-9]*\)$/\1/p' out.txt)
[ -n "$child" ] || fail "fork printed no child pid: $(cat out.txt)"
cat out.txt
grep -Eq "^cpus same ([2-9]|[1-9][0-9]+)$" out.txt || fail "the child's threads: $(grep cpus out.txt)"
grep -qx "parent file 0" out.txt || fail "the child still holds its parent's file: $(grep 'parent file' out.txt)"
ls -la
[ -s p.bin ] || fail "no p.bin for the parent"
[ -s "p.bin.$child" ] || fail "no p.bin.$child for the child (files: $(echo p.bin*))"
[ "$(files_of 'p.bin.*' | wc -l)" -eq 1 ] || fail "unexpected files: $(echo p.bin.*)"

flat_rows parent p.bin
expect_in_flat parent parent_work 50
expect_not_in_flat parent child_work
flat_rows child "p.bin.$child"
expect_in_flat child child_work 50
expect_not_in_flat child parent_work

# each file's threads are its own process's: the child's one thread, the parent's
parent=$(report info p.bin | sed -n 's/^process *\([0-9]*\).*/\1/p')
for f in p.bin "p.bin.$child"; do
    want=$parent
    [ "$f" = p.bin ] || want=$child
    tids=$(report info "$f" | sed -n '/^ *TID /,/^modules/p' | awk '$1 ~ /^[0-9]+$/ {print $1}' | tr '\n' ' ')
    [ "$tids" = "$want " ] || fail "$f lists threads '$tids', where its process is $want alone"
done

flat_rows both p.bin p.bin.*
expect_in_flat both parent_work "$(self_of parent parent_work)"
expect_in_flat both child_work "$(self_of child child_work)"
report info p.bin p.bin.* >info.txt
cat info.txt
grep -q "$child" info.txt || fail "merged info does not list the child pid $child"

# SPROF_FOLLOW=0: the child is not profiled
mkdir nofollow && cd nofollow || fail "cannot enter nofollow"
SPROF_FOLLOW=0 profile p.bin "$BIN/fork" 200 400 >out.txt 2>err.txt
expect_stderr_clean err.txt
[ -s p.bin ] || fail "SPROF_FOLLOW=0: no p.bin"
[ -z "$(files_of 'p.bin.*')" ] || fail "SPROF_FOLLOW=0 still wrote $(echo p.bin.*)"
grep -qx "parent file 0" out.txt || fail "SPROF_FOLLOW=0: the child holds its parent's file: $(grep 'parent file' out.txt)"
grep -qx "parent task 0" out.txt ||
    fail "SPROF_FOLLOW=0: the child holds its parent's /proc/PID/task: $(grep 'parent task' out.txt)"
flat_rows rows p.bin
expect_in_flat rows parent_work
expect_not_in_flat rows child_work
