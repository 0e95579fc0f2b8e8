# SPDX-License-Identifier: MIT
# However a process ends, its profile reads back whole and `info` says how
# it ended (tests/progs/endings.c): return and exit give "exit, status N",
# _exit "_exit, status N", abort, a fault, SIGPIPE and SIGTERM "killed by
# signal ...", each with the program's own exit status and output
# unchanged and every sample of its ~600 ms of work kept (the last chunk is
# written before the process goes). A daemon that never returns can be read
# while it runs, and ends with SIGTERM like the rest. SIGKILL: 063.

# run NAME WANT_STATUS WANT_ENDED: profile `endings NAME` in its own
# directory and check status, output, ending and samples.
run() {
    local name=$1 want=$2 ended=$3 rc=0
    mkdir "$name"
    (cd "$name" && profile p.bin "$BIN/endings" "$name" >out.txt 2>err.txt) || rc=$?
    cat "$name/err.txt"
    [ "$rc" -eq "$want" ] || fail "$name: exit status $rc, want $want"
    case $name in
    thread-exit) ;;
    *) grep -qx "ending by $name" "$name/out.txt" || fail "$name: the program's output is not intact: $(cat "$name/out.txt")" ;;
    esac
    check_file "$name" "$name/p.bin" "$ended" 400
}

# check_file NAME FILE WANT_ENDED MIN_SAMPLES
check_file() {
    local name=$1 file=$2 ended=$3 min=$4
    mkdir -p "$name"
    report info "$file" >"$name/info.txt"
    grep '^ended' "$name/info.txt"
    grep -q "^ended *$ended\$" "$name/info.txt" ||
        fail "$name: info says '$(grep '^ended' "$name/info.txt")', want '$ended'"
    [ ! -s report.err ] || fail "$name: the profile did not read cleanly: $(cat report.err)"
    flat_rows "$name/rows" "$file"
    # ~600 ms of ending_work at 999 Hz: all of it was flushed
    expect_in_flat "$name/rows" ending_work "$min"
}

run return 3 "exit, status 3"
run exit 4 "exit, status 4"
run _exit 5 "_exit, status 5"
run thread-exit 6 "exit, status 6"
run abort 134 "killed by signal SIGABRT (abort)"
run pipe 141 "killed by signal SIGPIPE"

# a signal the program inherited as ignored stays ignored (sprof's handler
# goes in and out again, endings.c): the write fails with EPIPE instead and
# the program returns 7
mkdir pipe-ignored
rc=0
(cd pipe-ignored && trap '' PIPE && profile p.bin "$BIN/endings" pipe >out.txt 2>err.txt) || rc=$?
cat pipe-ignored/err.txt
[ "$rc" -eq 7 ] || fail "pipe-ignored: exit status $rc, want 7 (SIGPIPE was ignored before the start)"
check_file pipe-ignored pipe-ignored/p.bin "exit, status 7" 400
if [ -z "$SAN" ]; then
    run segv 139 "killed by signal SIGSEGV"
else
    log "segv: skipped under SAN=$SAN (the sanitizer handles SIGSEGV itself)"
fi

# SIGTERM while it works
mkdir term
(cd term && exec env LD_PRELOAD="$PRELOAD" SPROF_OUTPUT=p.bin $HOST_ENV "$BIN/endings" term >out.txt 2>err.txt) &
pid=$!
wait_samples term/p.bin 500
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
[ "$rc" -eq 143 ] || fail "term: exit status $rc, want 143"
check_file term term/p.bin "killed by signal SIGTERM" 500

# a daemon: the parent returns at once, the child runs in the background
mkdir daemon
rc=0
(cd daemon && profile p.bin "$BIN/endings" daemon >out.txt 2>err.txt) || rc=$?
[ "$rc" -eq 0 ] || fail "daemon: the parent exited with status $rc"
for i in $(seq 50); do
    [ -s daemon/daemon.pid ] && break
    sleep 0.2
done
dpid=$(cat daemon/daemon.pid 2>/dev/null) || fail "daemon: no daemon.pid after 10 s"
trap 'kill -KILL "$dpid" 2>/dev/null || :' EXIT
dfile=daemon/p.bin.$dpid
wait_samples "$dfile" 500
# read while it runs: up to its last chunk, no END yet
check_file daemon-running "$dfile" "no end record: killed by SIGKILL, still running, or cut short; read up to its last chunk" 500
kill -TERM "$dpid"
for i in $(seq 100); do
    kill -0 "$dpid" 2>/dev/null || break
    sleep 0.1
done
kill -0 "$dpid" 2>/dev/null && fail "daemon: still running 10 s after SIGTERM"
check_file daemon-ended "$dfile" "killed by signal SIGTERM" 500
cat daemon/err.txt
expect_stderr_clean daemon/err.txt
