# SPDX-License-Identifier: MIT
# A program that closes descriptors it did not open and then uses their
# numbers for its own (tests/progs/closefds.c), as daemons and children about
# to exec do, is not harmed and is still sampled. Before, sprof went on
# using the numbers: the profile's chunks went into the program's b.txt,
# and before an exec sprof closed the pipe the child had put at fd 3 for the
# new image (which then failed to write to it), and a child forked right
# after the close lost the program's files at those numbers; a scan of the
# threads that did not check its kept /proc/self/task rewound whichever of
# the program's eight files took that number. And sprof's
# descriptors are never 0, 1 or 2.
# timeout: 90

expected() {
    local i
    echo "$1 child"
    for i in $(seq 0 14); do echo "$1 $i"; done
}
for f in a b c d e f g h; do expected $f >$f.want; done

# a daemon: every descriptor closed, eight files opened on sprof's numbers
profile p.bin "$BIN/closefds" daemon >out.txt 2>err.txt || fail "closefds daemon failed: $(cat out.txt err.txt)"
cat out.txt
expect_stderr_clean err.txt
for f in a b c d e f g h; do
    cmp -s $f.txt $f.want || fail "$f.txt is not what the program wrote ($(wc -c <$f.txt) bytes): $(head -c 300 $f.txt | od -c | head -5)"
done
report info p.bin >info.txt
grep -E '^(config|samples|ended)' info.txt
grep -Eq '^ended +exit, status 0' info.txt || fail "the END record is not exit 0: $(grep '^ended' info.txt)"
grep -q "the program closed the profile's file descriptor: the file was opened again" info.txt ||
    fail "no note of the file opened again: $(grep -A4 '^notes' info.txt)"
flat_rows rows p.bin
expect_in_flat rows work_before_close 100
# 1.5 s of work after the close; the timers are checked once a second
expect_in_flat rows work_after_close 300
if grep -q 'backend perf-task-clock' info.txt; then
    grep -q "the program closed the descriptors of sprof's timers" info.txt ||
        fail "no note of the timers made again: $(grep -A4 '^notes' info.txt)"
fi

# a child that puts a pipe at fd 3 for the image it execs
profile q.bin "$BIN/closefds" exec >out2.txt 2>err2.txt || fail "closefds exec failed: $(cat out2.txt err2.txt)"
cat out2.txt
expect_stderr_clean err2.txt
grep -qx 'closefds: read from the child: passed-through' out2.txt ||
    fail "the exec'd child's fd 3 did not reach the parent: $(cat out2.txt err2.txt)"
report info q.bin >/dev/null

# started with stdin closed, and closing 0, 1 and 2 to open them again (a
# daemon's /dev/null): sprof's descriptors stay off 0, 1 and 2. Before, the
# program's stdin was sprof's timer, and after the close its timer and file
# were made again at 0 and 1.
rc=0
profile s.bin "$BIN/closefds" stdio 0<&- >out3.txt 2>err3.txt || rc=$?
expect_stderr_clean err3.txt
[ "$(cat stdio.txt 2>/dev/null)" = "0 0 1 2" ] ||
    fail "the program did not get 0, 1 and 2 where it expected them: '$(cat stdio.txt 2>/dev/null)' (status $rc)"
[ "$rc" -eq 0 ] || fail "closefds stdio exited with $rc"
flat_rows srows s.bin
expect_in_flat srows work_after_close 300
