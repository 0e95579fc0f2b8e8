# SPDX-License-Identifier: MIT
# Output trouble: the program runs to completion with its own output intact,
# sprof says once (one `sprof:` line) what went wrong, and nothing is
# written through a symbolic link.
#   - an output directory sprof cannot write to
#   - RLIMIT_FSIZE smaller than the profile would grow (a full disk as the
#     program sees it): sprof stops before the limit, so the program is not
#     killed by SIGXFSZ, and what was written reads back
#   - the output path is a symlink to another file: the link is moved aside
#     (to NAME.old), the file it points to is untouched

"$BIN/split" 300 | grep -Ev 'measured|stalled' >plain.txt # (split's measured shares and stalls vary)

# 1. unwritable directory (root writes anywhere: then run as nobody)
mkdir ro && chmod 555 ro
run_ro() {
    if [ "$(id -u)" -eq 0 ]; then
        command -v setpriv >/dev/null || skip "root without setpriv cannot test an unwritable directory"
        chmod 755 "$CASE_DIR" "$BIN" 2>/dev/null || true
        setpriv --reuid=nobody --regid=nogroup --clear-groups env "$@"
    else
        env "$@"
    fi
}
rc=0
run_ro LD_PRELOAD="$PRELOAD" SPROF_OUTPUT="$CASE_DIR/ro/p.bin" $HOST_ENV "$BIN/split" 300 \
    >out1.txt 2>err1.txt || rc=$?
cat err1.txt
[ "$rc" -eq 0 ] || fail "split exited with $rc when the output directory is not writable"
grep -Ev 'measured|stalled' out1.txt | cmp -s plain.txt - || fail "the program's output changed: $(cat out1.txt)"
[ "$(grep -c '^sprof:' err1.txt)" -eq 1 ] || fail "want exactly one sprof line, got: $(cat err1.txt)"
grep -q "ro/p.bin" err1.txt || fail "the message does not name the file: $(cat err1.txt)"
[ ! -e ro/p.bin ] || fail "a profile appeared in the read-only directory"

# 2. RLIMIT_FSIZE of 20 KiB: a 3 s run at 5 kHz writes some 40 KiB, in
#    chunks of about 6 KiB (5,000 samples; 22 KiB before sample times were
#    kept to a sixteenth of the period, when the limit was 48 KiB)
rc=0
(ulimit -f 20 && SPROF_FREQ=5000 profile p2.bin "$BIN/split" 3000 >out2.txt 2>err2.txt) || rc=$?
cat err2.txt
[ "$rc" -eq 0 ] || fail "split exited with $rc under RLIMIT_FSIZE (SIGXFSZ is 153)"
grep -q '^split: ' out2.txt || fail "the program's output is missing: $(cat out2.txt)"
[ "$(grep -c '^sprof:' err2.txt)" -eq 1 ] || fail "want exactly one sprof line, got: $(cat err2.txt)"
grep -qi 'limit' err2.txt || fail "the message does not say what went wrong: $(cat err2.txt)"
size=$(stat -c %s p2.bin)
[ "$size" -le 20480 ] || fail "p2.bin has $size bytes, past the 20 KiB limit"
report info p2.bin >info2.txt
n=$(awk '$1 == "samples" { print $2; exit }' info2.txt)
[ "${n:-0}" -gt 0 ] || fail "nothing reads back from the cut profile"

# 3. the output path is a symlink to a file that must not change
echo "precious" >target.txt
ln -s target.txt p3.bin
profile p3.bin "$BIN/split" 300 >out3.txt 2>err3.txt
expect_stderr_clean err3.txt
[ "$(cat target.txt)" = precious ] || fail "the symlink's target was written to"
[ -L p3.bin.old ] || fail "the symlink was not moved aside to p3.bin.old"
[ -f p3.bin ] && [ ! -L p3.bin ] || fail "p3.bin is not a regular file"
report info p3.bin >/dev/null
