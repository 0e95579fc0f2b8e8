# SPDX-License-Identifier: MIT
# Samples taken inside a program's own signal handler (tests/progs/sigwork.c:
# SIGVTALRM every 3 ms of user time, a handler that burns 1 ms) walk through
# the kernel's signal frame into the code the signal interrupted, up to main,
# with the unwind tables: the handler returns to the C library's
# __restore_rt, whose call frame information the tables do not hold, and
# the walker reads the interrupted registers from the frame itself
# (preload/unwind.c, step_sigframe). Before, every such sample went to
# libunwind (about a quarter of this program's samples, 7 times the
# handler's mean time here). The report names the frame __restore_rt (a
# return address at the first byte of a symbol, analyzer/symbolize.c).

profile p.bin "$BIN/sigwork" 1500 >out.txt 2>err.txt || fail "sigwork failed: $(cat err.txt)"
cat out.txt
grep -q '^sigwork: [0-9]* handler calls' out.txt || fail "sigwork printed no count: $(cat out.txt)"
expect_stderr_clean err.txt
expect_few_fallbacks p.bin
report folded p.bin >folded.txt
awk '/;sigwork_in_handler / { n += $NF; if ($0 ~ /;main;sigwork_outer;__restore_rt;sigwork_handler;sigwork_in_handler /) ok += $NF }
     END { printf "%d of %d samples in the handler reach main through the signal frame\n", ok, n
           exit !(n >= 100 && ok * 100 >= n * 99) }' folded.txt ||
    fail "samples in the handler do not reach main: $(grep sigwork_in_handler folded.txt | head -3)"
