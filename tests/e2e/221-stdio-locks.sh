# SPDX-License-Identifier: MIT
# A program with one thread of its own keeps glibc's unlocked stdio under
# sprof, though sprof's writer thread exists (writer.c, streams_alone):
# tests/progs/stdiolocks.c prints, at each step, whether glibc locks its
# streams (at the start; after a spin, with the writer made, for stdin,
# stdout and a stream opened then; in a child of fork; after the program's
# first thread, made by pthread_create, C11's thrd_create or libc itself
# for timer_create's SIGEV_THREAD, aio_read and getaddrinfo_a; for streams
# opened before and after), and its __libc_single_threaded (its own copy,
# which libstdc++'s reference counts read: writer.c, single_again). Under
# sprof every line must be the plain run's: unlocked and single-threaded
# until the program's own first thread, then locked, every stream, and
# not. A program whose initial thread ends by pthread_exit with no thread
# of its own left ends by exit() with its atexit handlers, as without
# sprof (glibc does not count the writer). As the top process (writer
# from the start) and as a descendant of a profiled sh (writer made late,
# after a second of CPU). Under a sanitizer sprof leaves glibc's state
# alone: the program must still run and end as it would.
# timeout: 90

run_case() { # NAME SPIN HOW [sh]
    local name=$1 spin=$2 how=$3 rc=0
    timeout -k 2 30 "$BIN/stdiolocks" "$spin" "$how" >"$name.plain" 2>"$name.plain.err" ||
        fail "stdiolocks $spin $how exited with $? without sprof: $(cat "$name.plain.err")"
    if [ -n "${4:-}" ]; then
        # shellcheck disable=SC2086
        timeout -k 2 30 env LD_PRELOAD="$PRELOAD" SPROF_OUTPUT="$name.bin" $HOST_ENV \
            sh -c "'$BIN/stdiolocks' $spin $how; true" >"$name.out" 2>"$name.err" || rc=$?
    else
        # shellcheck disable=SC2086
        timeout -k 2 30 env LD_PRELOAD="$PRELOAD" SPROF_OUTPUT="$name.bin" $HOST_ENV \
            "$BIN/stdiolocks" "$spin" "$how" >"$name.out" 2>"$name.err" || rc=$?
    fi
    cat "$name.out"
    [ "$rc" -eq 0 ] || fail "$name: stdiolocks exited with $rc under sprof: $(cat "$name.err")"
    grep -q '^stdiolocks: \(threaded\|atexit\)' "$name.out" || fail "$name: did not finish"
    [ "$how" != exit ] || grep -qx 'stdiolocks: atexit' "$name.out" ||
        fail "$name: the initial thread's pthread_exit did not end the process by exit()"
    [ -z "$SAN" ] || return 0
    grep -qx 'stdiolocks: tasks 2' "$name.out" ||
        fail "$name: the writer thread did not exist when the streams were looked at: $(grep tasks "$name.out")"
    # without a copy of the flag of its own, the program reads glibc's,
    # which sprof leaves as its writer's making set it
    local keep='s/^\(stdiolocks: tasks\).*//'
    grep -qx 'stdiolocks: copy 1' "$name.plain" || keep="$keep; s/ single=[01]//"
    sed "$keep" "$name.plain" >"$name.want"
    sed "$keep" "$name.out" >"$name.got"
    cmp -s "$name.want" "$name.got" ||
        fail "$name: glibc's stdio locking or flag under sprof differs from the plain run's: $(diff "$name.want" "$name.got" | tr '\n' ' ')"
    grep -q '^stdiolocks: alone stdin=0 stdout=0 new=0' "$name.got" ||
        fail "$name: the plain run's streams were locked before its first thread (glibc changed?)"
}

for how in pthread thrd timer aio gai exit; do
    run_case "top-$how" 300 "$how"
done
flat_rows rows top-pthread.bin
expect_in_flat rows stdiolocks_spin 100
for how in pthread exit; do
    run_case "desc-$how" 1300 "$how" sh
done
spun=0
for f in $(files_of 'desc-exit.bin.*'); do # stdiolocks's, and its child's if it took samples
    flat_rows drows "$f"
    [ "$(self_of drows stdiolocks_spin)" -lt 500 ] || spun=1
done
[ "$spun" = 1 ] || fail "no profile of the descendant holds its 1.3 s spin"
