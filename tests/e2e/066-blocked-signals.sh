# SPDX-License-Identifier: MIT
# A thread that blocks every signal (sigfillset + pthread_sigmask) is still
# sampled: sprof keeps its own signal out of the program's masks, while the
# program, asking, sees the mask it set. sprof says so once, on stderr and
# as a note in the profile.

rc=0
profile p.bin "$BIN/endings" blocked >out.txt 2>err.txt || rc=$?
cat out.txt err.txt
[ "$rc" -eq 0 ] || fail "exit status $rc"
grep -qx 'thread saw its mask: all blocked' out.txt || fail "the program does not see the mask it set: $(cat out.txt)"
flat_rows rows p.bin
# ~600 ms of ending_work, all of it in the thread that blocked everything
expect_in_flat rows ending_work 400
grep -q '^sprof: the program blocks signal [0-9]* in some threads' err.txt || fail "sprof did not say on stderr that the program blocks its signal"
expect_stderr_clean err.txt
report info p.bin >info.txt
grep -q 'the program blocked signal [0-9]* in some threads' info.txt || fail "info has no note about the blocked signal"
