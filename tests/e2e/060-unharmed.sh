# SPDX-License-Identifier: MIT
# The host program is unharmed (tests/progs/unharmed.c): its stdout is
# byte-identical with and without the preload, its exit status is kept,
# errno survives the signal handler, pipes and sleeps work, and nothing but
# sprof's own lines appears on stderr. Every timer backend, and a high rate.

rc=0
"$BIN/unharmed" >plain.txt 2>plain.err || rc=$?
[ "$rc" -eq 3 ] || fail "setup: unharmed exits with $rc without the preload, want 3"
grep -q 'changed behind the program.s back: 0 times' plain.txt || fail "setup: unharmed misbehaves alone"

for v in "auto 999" "perf 999" "posix 999" "itimer 999" "auto 20000"; do
    set -- $v
    d=$1-$2
    mkdir "$d"
    rc=0
    (cd "$d" && SPROF_TIMER=$1 SPROF_FREQ=$2 profile p.bin "$BIN/unharmed" >out.txt 2>err.txt) || rc=$?
    [ "$rc" -eq 3 ] || fail "$d: exit status $rc, want 3 (stderr: $(head -c 500 "$d/err.txt"))"
    if ! cmp -s plain.txt "$d/out.txt"; then
        diff plain.txt "$d/out.txt" | head -n 20
        fail "$d: stdout differs from the run without the preload"
    fi
    expect_stderr_clean "$d/err.txt"
    [ -s "$d/p.bin" ] || fail "$d: no profile written"
    report info "$d/p.bin" >"$d/info.txt"
done

# other exit statuses, and death by a signal, are passed on unchanged
rc=0
profile p0.bin "$BIN/unharmed" 0 >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 0 ] || fail "status 0 became $rc"
rc=0
profile p42.bin "$BIN/unharmed" 42 >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 42 ] || fail "status 42 became $rc"
rc=0
profile pterm.bin sh -c 'kill -TERM $$' >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 143 ] || fail "a shell killed by SIGTERM exits with $rc, want 143"

# the preload never writes to stdout, even with warnings to give
out=$(SPROF_FREQ=bogus profile pq.bin "$BIN/target" 2>/dev/null)
[ "$out" = "$(printf 'target:\nthe quick brown fox jumps over the lazy dog')" ] ||
    fail "stdout changed when sprof had a warning to give: $out"
