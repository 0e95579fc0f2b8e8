# SPDX-License-Identifier: MIT
# A descendant makes its writer thread late (preload/init.c, sprof_late):
# not at its start, but at its first sample taken at a safe point, or before
# the program makes a thread. A process that took no sample has no thread of
# sprof's; one that runs in the program's own code gets its writer, which
# writes while the process runs (a SIGKILL loses about a second at most);
# one running inside a libc call (qsort's comparator) does not make it
# there. At 100 Hz, so that a process's first microseconds in main, before
# the line it prints, are unlikely to hold a sample. Not under a sanitizer,
# whose allocator is not libc's: every process makes its writer at its
# start there (and TSan has a thread of its own).

[ -z "$SAN" ] || skip "every process makes its writer at its start under a sanitizer (SAN=$SAN)"
want() { # WHERE N
    grep -qx "$1 threads $2" out.txt || fail "want '$1 threads $2': $(tr '\n' '|' <out.txt)"
}

SPROF_FREQ=100 profile p.bin sh -c "$BIN/late now; $BIN/late burn 400; $BIN/late qsort 300; \
$BIN/late thread; $BIN/late fork 300" >out.txt 2>err.txt
cat out.txt
expect_stderr_clean err.txt
want now 1
want burn 2
want in-qsort 1
want after-qsort 2
want before-thread 1
want in-thread 3
want child-now 1
want child-burn 2

# every process's samples are on file, the burning ones' in late_burn
# shellcheck disable=SC2046
flat_rows all $(files_of 'p.bin*')
expect_in_flat all late_burn 60
report info $(files_of 'p.bin*') >info.txt
grep -E '^samples' info.txt
! grep -E '^samples' info.txt | grep -Eqv ' 0 lost' ||
    fail "samples were lost: $(grep '^samples' info.txt | tr '\n' '|')"

# a process killed outright: its writer wrote while it ran
rm -f p.bin*
SPROF_FREQ=100 profile k.bin sh -c "exec $BIN/late burn 20000" >kout.txt 2>kerr.txt &
pid=$!
sleep 2.5
kill -9 "$pid"
wait "$pid" || true
expect_stderr_clean kerr.txt
ls -la
files=$(files_of 'k.bin*')
[ -n "$files" ] || fail "no profile of the killed process"
# shellcheck disable=SC2086
flat_rows killed $files
expect_in_flat killed late_burn 20
