# SPDX-License-Identifier: MIT
# A process killed by SIGKILL keeps what was flushed: the writer appends a
# chunk about every second, and the file reads with exit status 0.

env LD_PRELOAD="$PRELOAD" SPROF_OUTPUT=p.bin $HOST_ENV "$BIN/split" 20000 >/dev/null 2>err.txt &
pid=$!
# killed once its file holds 300 samples (written about a second apart:
# without a periodic flush, none until its end, and the wait fails)
wait_samples p.bin 300
kill -KILL "$pid"
rc=0
wait "$pid" || rc=$?
[ "$rc" -eq 137 ] || fail "the program was not killed by SIGKILL (status $rc)"
[ -s p.bin ] || fail "no profile left after SIGKILL"
report info p.bin >info.txt
cat info.txt
grep -q '^ended *no end record' info.txt || fail "info does not say that the file has no end record: $(grep '^ended' info.txt)"
flat_rows rows p.bin
total=$(sum_self rows)
log "$total samples survived SIGKILL"
[ "$total" -ge 300 ] || fail "only $total samples survived SIGKILL, where the file held 300 before it"
expect_in_flat rows work_a
