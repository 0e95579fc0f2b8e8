# SPDX-License-Identifier: MIT
# Secure-execution mode (AT_SECURE): in a setuid program sprof does nothing
# and says so, once, on stderr. The loader ignores an LD_PRELOAD path with
# a slash there, so the test program (tests/progs/secure.c) links
# libsprof.so itself, through an absolute RUNPATH, which the loader honours.
# A copy of it owned by nobody and setuid, run by root, runs with euid !=
# ruid: AT_SECURE=1 (the program checks). Then:
#   - the program runs to completion, exit status 0, its output intact
#   - stderr holds exactly the one line "sprof: secure-execution mode ..."
#   - no profile is written, in a directory the effective user can write
#     to, and sprof started nothing: no writer thread, SIGPROF left at its
#     default
# A control run of the same program by nobody itself (AT_SECURE=0) must
# write a profile there naming its hot function: otherwise the checks above
# would prove nothing.
# timeout: 60

[ "$(id -u)" -eq 0 ] || skip "needs root to make a setuid program of another user (secure-execution mode)"
command -v setpriv >/dev/null || skip "setpriv (util-linux) is not installed: no control run as nobody"
[ -x "$BIN/secure" ] || fail "tests/progs/secure was not built"
id nobody >/dev/null 2>&1 || skip "there is no user nobody"
ngroup=$(id -gn nobody)
as_nobody() { setpriv --reuid=nobody --regid="$ngroup" --clear-groups "$@"; }
as_nobody test -r "$LIBSPROF" ||
    skip "nobody cannot read $LIBSPROF (a directory on its path is closed), so cannot load it"

# the program and the output directory where nobody can reach them (the
# case's own directory is under a private temporary directory)
T=$(mktemp -d "${TMPDIR:-/tmp}/sprof-secure.XXXXXX")
trap 'rm -rf "$T"' EXIT
chmod 755 "$T"
cp "$BIN/secure" "$T/secure"
chown nobody "$T/secure"
chmod 4755 "$T/secure"
mkdir "$T/out"
chown nobody "$T/out"

# control: nobody runs it (ruid == euid): profiled, into $T/out
rc=0
# shellcheck disable=SC2086
(cd "$T/out" && as_nobody env LD_PRELOAD="$PRELOAD" SPROF_OUTPUT="$T/out/p.bin" $HOST_ENV \
    "$T/secure") >control.out 2>control.err || rc=$?
cat control.out control.err
[ "$rc" -eq 0 ] || fail "control run exited with $rc: $(head -c 300 control.err)"
grep -qx 'secure: AT_SECURE=0' control.out || fail "the control run is in secure-execution mode: $(cat control.out)"
expect_stderr_clean control.err
grep -E '^secure: (result|done)' control.out >expected.txt
grep -q '^secure: result' expected.txt || fail "secure printed no result: $(cat control.out)"
# what the checks of the setuid run look at, where sprof runs
grep -qx 'secure: SIGPROF other' control.out || fail "the control run has no SIGPROF handler of sprof's"
grep -Eqx 'secure: threads ([2-9]|[1-9][0-9]+)' control.out || fail "the control run has no writer thread"
[ -s "$T/out/p.bin" ] || fail "the control run (not setuid) wrote no profile: sprof linked by RUNPATH does not work, so the checks below would prove nothing"
cp "$T/out/p.bin" control.bin
flat_rows control control.bin
expect_in_flat control secure_work 50
rm -f "$T/out"/*

# the setuid run: root runs nobody's setuid program
rc=0
# shellcheck disable=SC2086
(cd "$T/out" && env LD_PRELOAD="$PRELOAD" SPROF_OUTPUT="$T/out/p.bin" $HOST_ENV "$T/secure") \
    >secure.out 2>secure.err || rc=$?
cat secure.out secure.err
[ "$rc" -eq 0 ] || fail "the setuid program exited with $rc: $(head -c 300 secure.err)"
if grep -qx 'secure: ids 0 0' secure.out; then
    skip "the setuid bit had no effect: is $(dirname "$T") on a nosuid file system?"
fi
grep -qx 'secure: AT_SECURE=1' secure.out ||
    fail "the setuid program is not in secure-execution mode: $(tr '\n' '|' <secure.out)"
grep -qx 'secure: ids 0 [1-9][0-9]*' secure.out || fail "unexpected ids: $(grep ids secure.out)"
grep -E '^secure: (result|done)' secure.out | cmp -s expected.txt - ||
    fail "the program's output changed: $(tr '\n' '|' <secure.out)"
[ "$(wc -l <secure.err)" -eq 1 ] && grep -q '^sprof: secure-execution mode' secure.err ||
    fail "stderr is not the one line 'sprof: secure-execution mode ...': $(head -c 500 secure.err)"
leftover=$(ls -A "$T/out")
[ -z "$leftover" ] || fail "a profile was written in secure-execution mode: $leftover"
grep -qx 'secure: threads 1' secure.out ||
    fail "sprof started a thread in secure-execution mode: $(grep threads secure.out)"
grep -qx 'secure: SIGPROF default' secure.out ||
    fail "sprof installed a SIGPROF handler in secure-execution mode"
