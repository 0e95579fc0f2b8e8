# SPDX-License-Identifier: MIT
# A #! script that execs the real program, as a pyenv shim does. gperftools
# kills exactly this with "Profiling timer expired": no timer or handler of
# ours may survive the exec, with every timer backend, and the program runs
# to completion with its output intact and is profiled.

shim=$CASE_DIR/shim
printf '#!/bin/sh\nexec "%s" "$@"\n' "$BIN/target" >"$shim"
chmod +x "$shim"
# a shim that runs another shim, in bash, with a subshell before the exec
shim2=$CASE_DIR/shim2
printf '#!/bin/bash\nv=$(echo ok)\n[ "$v" = ok ] || exit 9\nexec "%s" "$@"\n' "$shim" >"$shim2"
chmod +x "$shim2"

printf 'target: a b\nthe quick brown fox jumps over the lazy dog\n' >expected.txt
for timer in auto posix itimer; do
    for s in shim shim2; do
        d=$timer-$s
        mkdir "$d"
        rc=0
        (cd "$d" && SPROF_TIMER=$timer profile p.bin "$CASE_DIR/$s" a b >out.txt 2>err.txt) || rc=$?
        cat "$d/err.txt"
        if grep -q 'Profiling timer expired' "$d/err.txt"; then
            fail "$d: the program was killed: Profiling timer expired"
        fi
        [ "$rc" -eq 0 ] || fail "$d: exit status $rc, want 0 (stderr: $(head -c 500 "$d/err.txt"))"
        cmp -s expected.txt "$d/out.txt" || fail "$d: the program's stdout changed: $(head -c 300 "$d/out.txt")"
        # fallback notices are fine on stderr; nothing else is
        expect_stderr_clean "$d/err.txt"
        # shellcheck disable=SC2046
        flat_rows "$d/rows" $(files_of "$d/p.bin*")
        expect_in_flat "$d/rows" target_hot_function 20
    done
done

# SPROF_FOLLOW=0: only the shell is profiled; the program still runs
mkdir nofollow
rc=0
(cd nofollow && SPROF_FOLLOW=0 SPROF_TIMER=itimer profile p.bin "$shim" a b >out.txt 2>err.txt) || rc=$?
[ "$rc" -eq 0 ] || fail "SPROF_FOLLOW=0: exit status $rc: $(head -c 300 nofollow/err.txt)"
cmp -s expected.txt nofollow/out.txt || fail "SPROF_FOLLOW=0: stdout changed"
[ -z "$(files_of 'nofollow/p.bin.*')" ] || fail "SPROF_FOLLOW=0 profiled the exec'd program"
