# SPDX-License-Identifier: MIT
# Programs started with system(3) and posix_spawn(3) run normally and are
# profiled as descendants, each into its own file.

export TARGET_MS=300
for timer in auto itimer; do
    mkdir "$timer"
    rc=0
    (cd "$timer" && SPROF_TIMER=$timer profile p.bin "$BIN/spawn" "$BIN/target" >out.txt 2>err.txt) || rc=$?
    cat "$timer/out.txt"
    [ "$rc" -eq 0 ] || fail "$timer: spawn exited with $rc: $(head -c 300 "$timer/err.txt")"
    if grep -q 'Profiling timer expired' "$timer/err.txt"; then fail "$timer: a child was killed by SIGPROF"; fi
    grep -qx 'target: by-system' "$timer/out.txt" || fail "$timer: the program run by system() did not run"
    grep -qx 'target: by-posix-spawn' "$timer/out.txt" || fail "$timer: the program run by posix_spawn() did not run"
    grep -qx 'system: 0' "$timer/out.txt" || fail "$timer: system() did not return 0"
    grep -qx 'posix_spawn: 0' "$timer/out.txt" || fail "$timer: the posix_spawn child did not exit 0"
    expect_stderr_clean "$timer/err.txt"
    found=""
    for f in "$timer"/p.bin.*; do
        [ -e "$f" ] || continue
        flat_rows "$f.rows" "$f"
        if [ "$(self_of "$f.rows" target_hot_function)" -gt 50 ]; then
            report info "$f" >"$f.info"
            if grep -q by-system "$f.info"; then found="$found system"; fi
            if grep -q by-posix-spawn "$f.info"; then found="$found spawn"; fi
        fi
    done
    log "$timer: profiled:$found"
    case $found in *system*) ;; *) fail "$timer: no profile of the program started by system() ($(echo "$timer"/p.bin*))" ;; esac
    case $found in *spawn*) ;; *) fail "$timer: no profile of the program started by posix_spawn() ($(echo "$timer"/p.bin*))" ;; esac
done
