# SPDX-License-Identifier: MIT
# A descendant makes its writer thread late (preload/init.c, sprof_late):
# not at its start, but at a sample taken at a safe point once the writer is
# due (a second of the process's life, or its ring half full: handler.c,
# late_due), or before the program makes a thread. A process that took no
# sample, or ran less than a second, has no thread of sprof's, and its exit
# writes its samples; one that runs longer in the program's own code gets
# its writer, which writes while the process runs (a SIGKILL loses about a
# second at most); one running inside a libc call (qsort's comparator) does
# not make it there. At 100 Hz, so that a process's first microseconds in
# main, before the line it prints, are unlikely to hold a sample, and its
# ring is never half full; at 10 kHz the ring is. Not under a sanitizer,
# whose allocator is not libc's: every process makes its writer at its
# start there (and TSan has a thread of its own).

[ -z "$SAN" ] || skip "every process makes its writer at its start under a sanitizer (SAN=$SAN)"
# file_where GLOB PATTERN: the file of GLOB whose `info` has a line matching
# PATTERN
file_where() {
    local f
    for f in $(files_of "$1"); do
        "$REPORT" info "$f" 2>/dev/null | grep -q "$2" && echo "$f" && return 0
    done
    return 0
}

# WHERE N T: N threads, and SIGTERM caught (T 1) or not: sprof's handlers
# for the signals that end a process come with the writer (preload/endings.c)
want() {
    grep -qx "$1 threads $2 term $3" out.txt ||
        fail "want '$1 threads $2 term $3': $(tr '\n' '|' <out.txt)"
}

SPROF_FREQ=100 profile p.bin sh -c "$BIN/late now; $BIN/late short 300; $BIN/late burn 1300; \
$BIN/late qsort 1300; $BIN/late thread; $BIN/late fork 1300" >out.txt 2>err.txt
cat out.txt
expect_stderr_clean err.txt
want now 1 0
want short 1 0
want burn 2 1
want in-qsort 1 0
want after-qsort 2 1
want before-thread 1 0
want in-thread 3 1
want child-now 1 0
want child-burn 2 1

# every process's samples are on file, the burning ones' in late_burn
# shellcheck disable=SC2046
flat_rows all $(files_of 'p.bin*')
expect_in_flat all late_burn 250
# the short one's 30 samples, written by its exit (300 ms of CPU: under a
# second of its life, where its writer would be due, but on a machine that
# gives it less than a third of a CPU)
short=$(file_where 'p.bin*' '^command .*late short 300$')
[ -n "$short" ] || fail "no file of 'late short 300'"
flat_rows short "$short"
expect_in_flat short late_burn 20
# and its counters once, in the chunk of its END after its samples' (one
# write at its end, whose making the counters count: preload/writer.c,
# write_held), not also in a flush of the destructor's before
report info "$short" >short.info
grep -q '^ended *exit, status 0$' short.info || fail "short: $(grep '^ended' short.info)"
"$DUMP" "$short" -s >short.dump || fail "sprof-dump cannot read $short"
grep -E '^(PROCESS|chunks)' short.dump
grep -q ' COUNTERS=1 .* END=1 ' short.dump ||
    fail "the short process wrote its counters more than once: $(grep '^PROCESS' short.dump)"

# a program built without -fPIE that takes free's address (as a build's
# cc1 does) is late too: its PLT entry is free's address there
SPROF_FREQ=100 profile n.bin sh -c "$BIN/late-nopie now; $BIN/late-nopie burn 1300" >out.txt 2>err.txt
cat out.txt
expect_stderr_clean err.txt
want now 1 0
want burn 2 1

# its ring half full, a process makes its writer before a second: 400 ms
# at 10 kHz
SPROF_FREQ=10000 profile r.bin sh -c "$BIN/late burn 400" >out.txt 2>err.txt
cat out.txt
expect_stderr_clean err.txt
want burn 2 1
# shellcheck disable=SC2046
report info $(files_of 'p.bin*') >info.txt
grep -E '^samples' info.txt
! grep -E '^samples' info.txt | grep -Eqv ' 0 lost' ||
    fail "samples were lost: $(grep '^samples' info.txt | tr '\n' '|')"

# a ring filled while no sample could make the writer (600 ms at 10 kHz in
# qsort's comparator, a libc frame below): the end of the ring is kept for
# a walk that may, and the first sample back in the program's code makes
# the writer; the samples after it are on file (handler.c, record: before,
# the full ring recorded nothing more, and none made the writer)
SPROF_FREQ=10000 profile q.bin sh -c "$BIN/late qsort 600" >out.txt 2>err.txt
cat out.txt
expect_stderr_clean err.txt
want after-qsort 2 1
# shellcheck disable=SC2046
flat_rows qsort $(files_of 'q.bin*')
expect_in_flat qsort late_burn 3000

# a program with a signal handler of its own, 300 calls deep: every walk
# stops at SPROF_DEPTH (256) and leaves frames unseen, which could hold
# the handler's signal frame; the stack holds none, so a sample there may
# make the writer (handler.c, no_signal_frame: before, none could, and
# the full ring lost 3,257 of 5,212 samples); the same 20,000 calls deep
# (a megabyte of stack, scanned whole); inside the handler no sample
# makes it, nor on an alternate signal stack in main's locals (its frame
# is above the code it interrupted); with an alternate signal stack set,
# 300 calls deep, it does (the copies of sprof's own signal frames left
# in the stack then name that stack: one left whole would count)
SPROF_FREQ=10000 profile s.bin sh -c "$BIN/late sigdeep 600; $BIN/late sigdeep 300 20000; \
$BIN/late inhandler 300; $BIN/late altstack 300; $BIN/late altdeep 300" >out.txt 2>err.txt
cat out.txt
expect_stderr_clean err.txt
want sigdeep 2 1
want sigdeep-20000 2 1
want in-handler 1 0
want in-altstack 1 0
want altdeep 2 1
sigdeep=$(file_where 's.bin*' '^command .*late sigdeep 600$')
[ -n "$sigdeep" ] || fail "no file of 'late sigdeep 600'"
flat_rows sigdeep "$sigdeep"
expect_in_flat sigdeep late_burn 3000

# a descendant that sends itself SIGTERM after its writer was made: its
# file ends with the signal and has its samples (the shell says
# "Terminated" on its standard error, and blocks every signal as it waits)
SPROF_QUIET=1 SPROF_FREQ=100 profile t.bin sh -c "$BIN/late term 1300; exit 0" >out.txt 2>err.txt
cat out.txt err.txt
want term 2 1
! grep -q 'sprof:' err.txt || fail "sprof said something: $(cat err.txt)"
term=$(file_where 't.bin*' '^ended *killed by signal SIGTERM$')
[ -n "$term" ] || fail "no file ends with 'killed by signal SIGTERM'"
flat_rows term "$term"
expect_in_flat term late_burn 20

# a process killed outright: its writer wrote while it ran
rm -f p.bin*
SPROF_FREQ=100 profile k.bin sh -c "exec $BIN/late burn 20000" >kout.txt 2>kerr.txt &
pid=$!
wait_samples 'k.bin*' 20
kill -9 "$pid"
wait "$pid" || true
expect_stderr_clean kerr.txt
ls -la
files=$(files_of 'k.bin*')
[ -n "$files" ] || fail "no profile of the killed process"
# shellcheck disable=SC2086
flat_rows killed $files
expect_in_flat killed late_burn 20
