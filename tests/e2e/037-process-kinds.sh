# SPDX-License-Identifier: MIT
# Every way a program starts another, in one run (tests/progs/procs.c):
# vfork+exec, system(3), a shell pipeline of two CPU-bound programs run by
# system(3) ('hotproc pipe-left | hotproc pipe-right'), posix_spawn(3).
# (fork: 030, fork+exec: 031, #! shims: 032.) Each started process burns
# CPU in a function named after how it was started (tests/progs/hotproc.c).
#   - every process runs normally, its output intact (the pipeline's data
#     goes through), and nothing is killed by a pending SIGPROF
#   - one file per process: exactly one file names each hotproc process
#     (a shell in between may write one of its own only if it was sampled)
#   - no file is damaged: `sprof-report info` reads each without a warning,
#     every chunk intact, each with its end record
#   - each process is profiled, in its own file: its function has most of
#     its samples and about its CPU time; no other process's function is
#     in it
#   - the top process is still sampled after its vfork child (which runs
#     in its memory) has exec'd: half of procs_top_work comes after it
#   - SPROF_FOLLOW=0: exactly one file, the top process's
# With the default timer and with setitimer, whose SIGPROF an exec'd image
# inherits as ignored.
# timeout: 120

export HOT_MS=250 TOP_MS=250
roles="vfork system pipe-left pipe-right spawn"
all_fns="procs_top_work hot_vfork hot_system hot_pipe_left hot_pipe_right hot_spawn"

check_output() { # DIR
    local d=$1 r
    cat "$d/out.txt"
    if grep -q 'Profiling timer expired' "$d/err.txt"; then fail "$d: a process was killed by SIGPROF"; fi
    expect_stderr_clean "$d/err.txt"
    for r in vfork system pipeline posix_spawn; do
        grep -qx "$r: 0" "$d/out.txt" || fail "$d: the child started by $r did not exit 0: $(tr '\n' '|' <"$d/out.txt")"
    done
    for r in $roles; do
        grep -Eqx "$r [0-9]+" "$d/out.txt" || fail "$d: hotproc $r printed nothing: $(tr '\n' '|' <"$d/out.txt")"
    done
    # the left side's line went through the pipe, before the right side's own
    awk '$1 == "pipe-left" { l = NR } $1 == "pipe-right" { r = NR } END { exit !(l && r && l < r) }' \
        "$d/out.txt" || fail "$d: the pipeline's data did not go through"
}

# check_file FILE FN MS: FN has at least 90% of FILE's samples and 60% of
# MS of sampled CPU time; no other function of $all_fns is in it.
check_file() {
    local f=$1 fn=$2 ms=$3 out rc=0
    report json --no-tree "$f" >"$f.json"
    # shellcheck disable=SC2086
    out=$("$PY" - "$f.json" "$fn" "$ms" $all_fns <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
fn, ms, every = sys.argv[2], float(sys.argv[3]), sys.argv[4:]
total = d["metadata"]["totals"]["samples"]
funcs = {f["name"]: f for f in d["functions"]}
mine = funcs.get(fn, {"self_samples": 0, "self_ns": 0})
print("%s: %s %d of %d samples, %.1f ms" % (sys.argv[1], fn, mine["self_samples"], total, mine["self_ns"] / 1e6))
others = [n for n in every if n != fn and n in funcs]
if others:
    print("check: %s has samples of %s, which ran in another process" % (sys.argv[1], " ".join(others)))
    sys.exit(1)
if total == 0 or mine["self_samples"] < 0.9 * total:
    print("check: %s has %d of the %d samples of %s, want 90%% or more" % (fn, mine["self_samples"], total, sys.argv[1]))
    sys.exit(1)
if mine["self_ns"] < 0.6 * ms * 1e6:
    print("check: %s has %.1f ms of sampled CPU time in %s, for about %.0f ms" % (fn, mine["self_ns"] / 1e6, sys.argv[1], ms))
    sys.exit(1)
EOF
) || rc=$?
    printf '%s\n' "$out"
    [ "$rc" -eq 0 ] || fail "$(printf '%s\n' "$out" | grep -m1 '^check: ' | sed 's/^check: //')"
}

# check_intact FILE: read without a warning, every chunk intact, with its
# end record.
check_intact() {
    report info "$1" >"$1.info"
    [ ! -s "$CASE_DIR/report.err" ] || fail "sprof-report info $1 warned: $(head -c 500 "$CASE_DIR/report.err")"
    grep -Eq '^chunks +[0-9]+ intact, 0 damaged' "$1.info" || fail "$1 has damaged chunks: $(grep '^chunks' "$1.info")"
    # exit, _exit (a shell), exec: every one of these processes ends by itself
    grep -q '^ended' "$1.info" && ! grep -Eq '^ended +(no end record|killed)' "$1.info" ||
        fail "$1 did not end properly: $(grep '^ended' "$1.info")"
}

for timer in auto itimer; do
    d=$timer
    mkdir "$d"
    rc=0
    (cd "$d" && SPROF_TIMER=$timer profile p.bin "$BIN/procs" "$BIN/hotproc" >out.txt 2>err.txt) || rc=$?
    [ "$rc" -eq 0 ] || fail "$d: procs exited with $rc: $(head -c 300 "$d/err.txt")"
    check_output "$d"
    ls -la "$d"

    # every file: intact, and which process wrote it
    claimed=""
    for f in "$d"/p.bin "$d"/p.bin.*; do
        case $f in *.info | *.json | *.txt | *.err) continue ;; esac
        [ -e "$f" ] || continue
        check_intact "$f"
        cmd=$(sed -n 's/^command *//p' "$f.info")
        case $cmd in
        "$BIN/procs "*) [ "$f" = "$d/p.bin" ] || fail "$d: procs wrote $f as well as p.bin" ;;
        "$BIN/hotproc "*) claimed="$claimed ${cmd##* }" ;;
        sh\ * | /bin/sh\ *) log "$f: a shell ($cmd)" ;;
        *) fail "$d: $f is of an unexpected process: '$cmd'" ;;
        esac
    done
    # one file per hotproc process, named by its pid, with its own function
    for r in $roles; do
        pid=$(awk -v r="$r" '$1 == r && NF == 2 { print $2; exit }' "$d/out.txt")
        # shellcheck disable=SC2086
        n=$(printf '%s\n' $claimed | grep -cx -- "$r" || true)
        [ "$n" -eq 1 ] || fail "$d: $n files of hotproc $r (pid $pid), want 1 ($(echo "$d"/p.bin*))"
        f=""
        for g in "$d/p.bin.$pid" "$d/p.bin.$pid".[0-9]*; do
            case $g in *.info | *.json) continue ;; esac
            [ -e "$g" ] && grep -q "^command *$BIN/hotproc $r\$" "$g.info" && f=$g
        done
        [ -n "$f" ] || fail "$d: no p.bin.$pid* written by hotproc $r (pid $pid)"
        fn=hot_${r//-/_}
        check_file "$f" "$fn" "$HOT_MS"
    done
    check_file "$d/p.bin" procs_top_work "$TOP_MS"

    # and they merge
    # shellcheck disable=SC2046
    flat_rows "$d/all" $(files_of "$d/p.bin*" | grep -Ev '\.(info|json|txt)$')
    for fn in $all_fns; do expect_in_flat "$d/all" "$fn"; done
done

# SPROF_FOLLOW=0: everything still runs, and only the top process is
# profiled
mkdir nofollow
rc=0
(cd nofollow && SPROF_FOLLOW=0 profile p.bin "$BIN/procs" "$BIN/hotproc" >out.txt 2>err.txt) || rc=$?
[ "$rc" -eq 0 ] || fail "SPROF_FOLLOW=0: procs exited with $rc: $(head -c 300 nofollow/err.txt)"
check_output nofollow
files=$(files_of 'nofollow/p.bin*')
[ "$files" = nofollow/p.bin ] || fail "SPROF_FOLLOW=0 wrote $(echo "$files" | wc -l) files, want only p.bin: $(echo "$files" | tr '\n' ' ')"
check_intact nofollow/p.bin
check_file nofollow/p.bin procs_top_work "$TOP_MS"
