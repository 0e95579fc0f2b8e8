# SPDX-License-Identifier: MIT
# A fork in a process whose one other thread is sprof's writer takes glibc's
# single-threaded path, as it would without sprof (writer.c,
# sprof_writer_fork_begin): tests/progs/lonefork.c forks four children as
# the top process of the profile, whose writer exists from the start. What
# glibc's multi-threaded path would have put right in each child still is:
# a child whose initial thread ends by pthread_exit, with or without a
# thread it made, and a grandchild doing so, end by exit() with their
# atexit handlers (glibc's count of its threads put right by sprof); four
# threads of a child allocate and free; an atfork handler of the program
# that calls into sprof (dlopen and dlclose) while sprof holds its writer's
# lock for the fork does not deadlock. The child's count of glibc's threads
# is one: the writer, made as the process's first thread, is not in it
# (writer.c, streams_alone). Then again with a thread made and joined
# before sprof's constructor (LONEFORK_EARLY_THREAD=1), so that the writer
# is counted: the fork did take the single-threaded path, as the child's
# count, before sprof puts it right, is its parent's, 2 (not under a
# sanitizer, whose runtime has threads of its own).
# Then the same program as a descendant (of a profiled sh), whose writer
# thread is made late: never by a sample taken within a fork, in the
# program's atfork handler (glibc chose its path at fork's entry; such a
# writer left glibc's count of threads one too high in the child, and the
# child's pthread_exit did not end it by exit(): 6 runs in 100 of a build
# that printed a line at each fork).
# timeout: 60

rc=0
# shellcheck disable=SC2086
timeout -k 2 30 env LD_PRELOAD="$PRELOAD" SPROF_OUTPUT=p.bin $HOST_ENV "$BIN/lonefork" >out.txt 2>err.txt ||
    rc=$?
cat out.txt
[ "$rc" -ne 124 ] && [ "$rc" -ne 137 ] || fail "lonefork did not end within 30 s"
[ "$rc" -eq 0 ] || fail "lonefork exited with $rc: $(cat err.txt)"
expect_stderr_clean err.txt
for name in made alone grandchild heap; do
    grep -qx "lonefork: $name atexit" out.txt || fail "the $name child did not end by exit(): $(cat out.txt)"
done
grep -qx 'lonefork: done' out.txt || fail "lonefork did not finish: $(cat out.txt)"
count=$(sed -n 's/^lonefork: alone count //p' out.txt)
if [ -z "$SAN" ] && [ "$count" != -1 ]; then
    [ "$count" = 1 ] || fail "the child's count of glibc's threads is '$count', want 1"
    rc=0
    # shellcheck disable=SC2086
    timeout -k 2 30 env LD_PRELOAD="$PRELOAD" SPROF_OUTPUT=early.bin LONEFORK_EARLY_THREAD=1 \
        $HOST_ENV "$BIN/lonefork" >early.txt 2>early.err || rc=$?
    cat early.txt
    [ "$rc" -eq 0 ] || fail "lonefork after an early thread exited with $rc: $(cat early.err)"
    for name in made alone grandchild heap; do
        grep -qx "lonefork: $name atexit" early.txt ||
            fail "after an early thread, the $name child did not end by exit(): $(cat early.txt)"
    done
    count=$(sed -n 's/^lonefork: alone count //p' early.txt)
    [ "$count" = 2 ] || fail "the fork took glibc's multi-threaded path (its count: '$count', want 2)"
fi

flat_rows parent p.bin
expect_in_flat parent lonefork_parent_work 50
for f in $(files_of 'p.bin.*'); do
    report info "$f" >/dev/null # every child's file reads back
done

# as a descendant
mkdir desc && cd desc || fail "cannot enter desc"
rc=0
# shellcheck disable=SC2086
timeout -k 2 30 env LD_PRELOAD="$PRELOAD" SPROF_OUTPUT=d.bin $HOST_ENV sh -c "'$BIN/lonefork'; true" \
    >out.txt 2>err.txt || rc=$?
cat out.txt
[ "$rc" -eq 0 ] || fail "lonefork as a descendant exited with $rc: $(cat err.txt)"
expect_stderr_clean err.txt
for name in made alone grandchild heap; do
    grep -qx "lonefork: $name atexit" out.txt ||
        fail "as a descendant, the $name child did not end by exit(): $(cat out.txt)"
done
