# SPDX-License-Identifier: MIT
# scripts/sprof-record: sets the environment and execs the command; -o, -F,
# -q, --, -h; usage errors exit 2; the command's exit status is kept.

# With sanitizers the runtime must come first in LD_PRELOAD: sprof-record
# appends to what is there.
pre=""
case $PRELOAD in *" "*) pre=${PRELOAD% *} ;; esac
rec() {
    # shellcheck disable=SC2086
    env ${pre:+LD_PRELOAD="$pre"} SPROF_LIB="$LIBSPROF" $HOST_ENV "$RECORD" "$@"
}

rc=0
rec -o r.bin -F 500 -- "$BIN/target" a -b >out.txt 2>err.txt || rc=$?
[ "$rc" -eq 0 ] || fail "sprof-record -o r.bin -F 500 -- target: exit status $rc: $(cat err.txt)"
grep -qx 'target: a -b' out.txt || fail "the command's arguments or output changed: $(cat out.txt)"
expect_stderr_clean err.txt
[ -s r.bin ] || fail "no r.bin written"
report info r.bin >info.txt
cat info.txt
grep -q 500 info.txt || fail "info does not show the requested rate of 500 Hz"
flat_rows rows r.bin
expect_in_flat rows target_hot_function

# the environment it sets, appending to an existing LD_PRELOAD
existing=${pre:+$pre:}$BIN/libhot.so
# shellcheck disable=SC2086
env LD_PRELOAD="$existing" SPROF_LIB="$LIBSPROF" $HOST_ENV "$RECORD" -q -o 'x-%p.bin' -F 250 \
    sh -c 'printf "%s\n" "$LD_PRELOAD" "$SPROF_OUTPUT" "$SPROF_FREQ" "$SPROF_QUIET"' >env.txt 2>/dev/null
cat env.txt
lp=$(sed -n 1p env.txt)
case $lp in
"$existing:$LIBSPROF") ;;
*) fail "LD_PRELOAD is '$lp', want the existing entry followed by libsprof.so" ;;
esac
[ "$(sed -n 2p env.txt)" = 'x-%p.bin' ] || fail "SPROF_OUTPUT is '$(sed -n 2p env.txt)'"
[ "$(sed -n 3p env.txt)" = 250 ] || fail "SPROF_FREQ is '$(sed -n 3p env.txt)'"
[ "$(sed -n 4p env.txt)" = 1 ] || fail "-q does not set SPROF_QUIET=1"

# without SPROF_LIB, from the source tree, when the build is the default one
if [ "$BUILD" = "$SRC/build" ] && [ -z "$pre" ]; then
    env -u SPROF_LIB "$RECORD" -o t.bin "$BIN/target" >/dev/null 2>err.txt ||
        fail "sprof-record without SPROF_LIB failed: $(cat err.txt)"
    [ -s t.bin ] || fail "sprof-record without SPROF_LIB wrote no profile"
    # called through a relative path from another directory
    mkdir rel && (cd rel && env -u SPROF_LIB "$(realpath --relative-to=. "$RECORD")" -o t.bin "$BIN/target" >/dev/null 2>&1)
    [ -s rel/t.bin ] || fail "sprof-record called by a relative path wrote no profile"
fi

# exit statuses
expect_status 7 rec -o s.bin sh -c 'exit 7'
expect_status 0 rec -o s.bin true
rc=0
rec -o s.bin no-such-command-here >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 127 ] || fail "a command that does not exist: status $rc, want 127"

# usage
rc=0
"$RECORD" -h >help.txt 2>&1 || rc=$?
[ "$rc" -eq 0 ] || fail "sprof-record -h exits with $rc"
grep -q 'usage: sprof-record' help.txt || fail "sprof-record -h prints no usage"
for bad in "" "-o" "-F" "-F abc true" "-F 0 true" "-F 20001 true" "-x true" "-o r.bin"; do
    rc=0
    # shellcheck disable=SC2086
    SPROF_LIB="$LIBSPROF" "$RECORD" $bad >/dev/null 2>err.txt || rc=$?
    [ "$rc" -eq 2 ] || fail "sprof-record $bad: exit status $rc, want 2"
    grep -q '^sprof-record: ' err.txt || fail "sprof-record $bad: no message"
done
rc=0
SPROF_LIB=/nonexistent/libsprof.so "$RECORD" true 2>err.txt || rc=$?
[ "$rc" -eq 2 ] || fail "SPROF_LIB pointing nowhere: status $rc, want 2"
