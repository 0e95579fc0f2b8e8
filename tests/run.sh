#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The sprof test suite: `make check` runs it as
#     BUILD=build SAN= CC=cc tests/run.sh [PATTERN...]
# It builds the unit tests and the test programs into $BUILD/tests/, runs
# the unit tests, then the end-to-end cases tests/e2e/NNN-name.sh, each in
# its own temporary directory under a timeout. One line per case:
#     ok NAME | skip NAME: reason | FAIL NAME: reason (and the case's output)
# then the five slowest cases ("# slowest: ..."), and last, exactly
# "N passed, N failed". Exit status 1 if anything failed.
# PATTERNs select cases by name (substring match), e.g. `tests/run.sh split`.
# SPROF_TEST_KEEP=1 keeps every case directory (failed ones are always kept).
# With SAN=thread only the cases with a "# tsan:" line run (214-tsan-recorder).
set -u

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$SRC/$BUILD ;; esac
SAN=${SAN:-}
CC=${CC:-cc}
BIN=$BUILD/tests
REPORT=$BUILD/sprof-report
LIBSPROF=$BUILD/libsprof.so
RECORD=$SRC/scripts/sprof-record
DUMP=$BIN/sprof-dump
PATTERNS=("$@")

passed=0
failed=0
skipped=0
durations=()
start_time=$(date +%s)

# Nothing from the caller's environment may steer the profiler or the
# programs: a stray SPROF_SESSION would make every test a "descendant".
while IFS= read -r v; do unset "$v"; done < <(compgen -e | grep -E '^SPROF_|^BURN_SCALE$|^TARGET_MS$' | grep -v '^SPROF_TEST_')
unset LD_PRELOAD MAKEFLAGS MFLAGS MAKELEVEL

say_ok() {
    echo "ok $1"
    passed=$((passed + 1))
}

say_fail() { # NAME REASON [LOGFILE]
    echo "FAIL $1: $2"
    if [ -n "${3:-}" ] && [ -s "$3" ]; then
        tail -n 40 "$3" | sed 's/^/    /'
    fi
    failed=$((failed + 1))
}

say_skip() {
    echo "skip $1: $2"
    skipped=$((skipped + 1))
}

selected() {
    [ ${#PATTERNS[@]} -eq 0 ] && return 0
    local p
    for p in "${PATTERNS[@]}"; do
        case $1 in *"$p"*) return 0 ;; esac
    done
    return 1
}

# ---- what the build gives us ----

for f in "$LIBSPROF" "$REPORT"; do
    if [ ! -e "$f" ]; then
        say_fail "setup" "$f does not exist (run make first)"
        echo "$passed passed, $failed failed"
        exit 1
    fi
done

PY=""
if command -v python3 >/dev/null 2>&1; then
    PY=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) || PY=""
fi
[ -n "$PY" ] || PY=$(command -v python3 || echo python3)

# With sanitizers, libsprof.so needs the sanitizer runtime loaded first in
# programs that were not built with it.
PRELOAD=$LIBSPROF
HOST_ENV=""
SAN_CFLAGS=""
if [ -n "$SAN" ]; then
    SAN_CFLAGS="-fsanitize=$SAN -fno-omit-frame-pointer -fno-sanitize-recover=all"
    rt=""
    case ",$SAN," in
    *,address,*) rt=libasan.so ;;
    *,thread,*) rt=libtsan.so ;;
    esac
    if [ -n "$rt" ]; then
        rtpath=$($CC -print-file-name=$rt 2>/dev/null)
        case $rtpath in
        /*) ;;
        *) rtpath=$(ldd "$LIBSPROF" 2>/dev/null | awk -v r="${rt%.so}" 'index($1, r) == 1 { print $3; exit }') ;;
        esac
        if [ -z "$rtpath" ] || [ ! -e "$rtpath" ]; then
            say_fail "setup" "cannot find the $rt runtime for SAN=$SAN"
            echo "$passed passed, $failed failed"
            exit 1
        fi
        PRELOAD="$rtpath $LIBSPROF"
    fi
    # Leak reports of the host programs (python, sh) are not ours.
    HOST_ENV="ASAN_OPTIONS=detect_leaks=0"
fi
# ThreadSanitizer comes after libsprof.so, so that the program's calls go
# through libsprof, then TSan, then libc (preload/interpose.c says why). A
# report makes the program exit with 66; a fork child may start sprof's
# writer thread. Only the cases with a "# tsan:" line run (see below).
TSAN=""
case ",$SAN," in
*,thread,*)
    TSAN=1
    PRELOAD="$LIBSPROF $rtpath"
    HOST_ENV="TSAN_OPTIONS=exitcode=66:die_after_fork=0:second_deadlock_stack=1:suppressions=$SRC/tests/tsan.supp"
    ;;
esac
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export SRC BUILD BIN REPORT LIBSPROF PRELOAD RECORD PY DUMP HOST_ENV SAN CC

# ---- build the unit tests and the test programs ----

mkdir -p "$BIN"
ZSTD_LIBS=$(pkg-config --libs libzstd 2>/dev/null || echo -lzstd)
WARN="-Wall -Wextra -Wshadow -Wno-unused-parameter"
PROG_CFLAGS="-O2 -g -fomit-frame-pointer -D_GNU_SOURCE -I$SRC/tests/progs"

# build NAME COMMAND...: runs a compiler command; a failure is a FAIL line.
build() {
    local name=$1 out
    shift
    if ! out=$("$@" 2>&1); then
        say_fail "build/$name" "$*" 
        printf '%s\n' "$out" | tail -n 30 | sed 's/^/    /'
        return 1
    fi
    return 0
}

build_progs() {
    local p
    for p in "$SRC"/tests/unit/test-*.c; do
        p=$(basename "$p" .c)
        selected "unit/${p#test-}" || selected unit || continue
        # shellcheck disable=SC2086
        build "$p" $CC -std=gnu11 $WARN -D_GNU_SOURCE -O1 -g $SAN_CFLAGS -I"$SRC/common" \
            -I"$SRC/tests/unit" "$SRC/tests/unit/$p.c" "$SRC"/common/*.c $ZSTD_LIBS -lm -o "$BIN/$p"
    done
    # shellcheck disable=SC2086
    build sprof-dump $CC -std=gnu11 -D_GNU_SOURCE -O1 -g $SAN_CFLAGS -I"$SRC/common" \
        "$SRC/tests/tools/sprof-dump.c" "$SRC"/common/*.c $ZSTD_LIBS -o "$DUMP"
    # synth writes profiles of itself with known stacks (tests/tools/synth.c)
    # shellcheck disable=SC2086
    build synth $CC -std=gnu11 -D_GNU_SOURCE -O0 -g -I"$SRC/common" \
        "$SRC/tests/tools/synth.c" "$SRC"/common/*.c $ZSTD_LIBS -ldl -o "$BIN/synth"

    # The programs that get profiled: -O2 without frame pointers, like most
    # distribution code; -fno-inline where a case needs distinct functions.
    # shellcheck disable=SC2086
    {
        build split $CC $PROG_CFLAGS -fno-inline "$SRC/tests/progs/split.c" -o "$BIN/split"
        build split-fp $CC $PROG_CFLAGS -fno-inline -fno-omit-frame-pointer \
            "$SRC/tests/progs/split.c" -o "$BIN/split-fp"
        build threads $CC $PROG_CFLAGS -fno-inline -pthread "$SRC/tests/progs/threads.c" \
            -o "$BIN/threads"
        build clone $CC $PROG_CFLAGS "$SRC/tests/progs/clone.c" -o "$BIN/clone"
        # threadkinds starts threads from .preinit_array, before a preloaded
        # sanitizer runtime would be ready: with a sanitizer build it carries
        # its own, which initializes first
        build threadkinds $CC $PROG_CFLAGS $SAN_CFLAGS -fno-inline -pthread \
            "$SRC/tests/progs/threadkinds.c" -o "$BIN/threadkinds"
        build fork $CC $PROG_CFLAGS "$SRC/tests/progs/fork.c" -o "$BIN/fork"
        build lonefork $CC $PROG_CFLAGS -pthread "$SRC/tests/progs/lonefork.c" -o "$BIN/lonefork" -ldl
        build shapes $CC $PROG_CFLAGS -pthread "$SRC/tests/progs/shapes.c" -o "$BIN/shapes"
        build stdiolocks $CC $PROG_CFLAGS -pthread "$SRC/tests/progs/stdiolocks.c" \
            -o "$BIN/stdiolocks"
        build renames $CC $PROG_CFLAGS -pthread "$SRC/tests/progs/renames.c" -o "$BIN/renames"
        # with frame pointers: rbp, an input of each step, is then the same
        # in `through` whichever path called it (without, it holds what
        # common's loop keeps there)
        build twopaths $CC $PROG_CFLAGS -fno-omit-frame-pointer "$SRC/tests/progs/twopaths.c" \
            -o "$BIN/twopaths"
        build late $CC $PROG_CFLAGS -pthread "$SRC/tests/progs/late.c" -o "$BIN/late"
        build coro $CC $PROG_CFLAGS "$SRC/tests/progs/coro.c" -o "$BIN/coro"
        # ... and as a program built without -fPIE that takes free's address,
        # as cc1 does (its PLT entry is then free's address for dlsym)
        build late-nopie $CC $PROG_CFLAGS -pthread -fno-pie -no-pie -DTAKE_FREE \
            "$SRC/tests/progs/late.c" -o "$BIN/late-nopie"
        build forkexec $CC $PROG_CFLAGS "$SRC/tests/progs/forkexec.c" -o "$BIN/forkexec"
        build execfail $CC $PROG_CFLAGS -pthread "$SRC/tests/progs/execfail.c" -o "$BIN/execfail"
        build forkmaps $CC $PROG_CFLAGS "$SRC/tests/progs/forkmaps.c" -o "$BIN/forkmaps" -ldl
        build forkjit $CC $PROG_CFLAGS "$SRC/tests/progs/forkjit.c" -o "$BIN/forkjit"
        build target $CC $PROG_CFLAGS "$SRC/tests/progs/target.c" -o "$BIN/target"
        build regress $CC $PROG_CFLAGS -fno-inline "$SRC/tests/progs/regress.c" -o "$BIN/regress"
        build spawn $CC $PROG_CFLAGS "$SRC/tests/progs/spawn.c" -o "$BIN/spawn"
        build procs $CC $PROG_CFLAGS "$SRC/tests/progs/procs.c" -o "$BIN/procs"
        # secure links libsprof.so itself (setuid programs ignore LD_PRELOAD);
        # with a sanitizer build, its runtime must come first
        build secure $CC $PROG_CFLAGS $SAN_CFLAGS "$SRC/tests/progs/secure.c" -o "$BIN/secure" \
            -L"$BUILD" -Wl,--no-as-needed -lsprof -Wl,--as-needed -Wl,-rpath,"$BUILD" \
            -Wl,--enable-new-dtags
        build hotproc $CC $PROG_CFLAGS "$SRC/tests/progs/hotproc.c" -o "$BIN/hotproc"
        build ownsig $CC $PROG_CFLAGS "$SRC/tests/progs/ownsig.c" -o "$BIN/ownsig"
        build sigwork $CC $PROG_CFLAGS "$SRC/tests/progs/sigwork.c" -o "$BIN/sigwork"
        build vforks $CC $PROG_CFLAGS "$SRC/tests/progs/vforks.c" -o "$BIN/vforks"
        build initwork $CC $PROG_CFLAGS "$SRC/tests/progs/initwork.c" -o "$BIN/initwork"
        build crtwork $CC $PROG_CFLAGS "$SRC/tests/progs/crtwork.c" -o "$BIN/crtwork"
        build endings $CC $PROG_CFLAGS -pthread "$SRC/tests/progs/endings.c" -o "$BIN/endings"
        build unharmed $CC $PROG_CFLAGS "$SRC/tests/progs/unharmed.c" -o "$BIN/unharmed"
        build dlmain $CC $PROG_CFLAGS "$SRC/tests/progs/dlmain.c" -o "$BIN/dlmain" -ldl
        build libhot $CC $PROG_CFLAGS -fPIC -shared "$SRC/tests/progs/libhot.c" \
            -o "$BIN/libhot.so"
        build dlchurn $CC $PROG_CFLAGS -pthread "$SRC/tests/progs/dlchurn.c" -o "$BIN/dlchurn" -ldl
        build libchurn-a $CC $PROG_CFLAGS -fPIC -shared -DCHURN_WORK=a_work \
            "$SRC/tests/progs/libchurn.c" -o "$BIN/libchurn-a.so"
        build libchurn-b $CC $PROG_CFLAGS -fPIC -shared -DCHURN_WORK=b_work \
            "$SRC/tests/progs/libchurn.c" -o "$BIN/libchurn-b.so"
        build handler-guard $CC -O2 -fPIC -shared "$SRC/tests/progs/handler-guard.c" \
            -o "$BIN/handler-guard.so"
        build noquery $CC -O2 -fPIC -shared "$SRC/tests/progs/noquery.c" -o "$BIN/noquery.so" -ldl
        build hostile-code $CC $PROG_CFLAGS "$SRC/tests/progs/hostile-code.c" \
            -o "$BIN/hostile-code"
        build asmleaf $CC $PROG_CFLAGS "$SRC/tests/progs/asmleaf.c" -o "$BIN/asmleaf"
        build bigtable $CC $PROG_CFLAGS "$SRC/tests/progs/bigtable.c" -o "$BIN/bigtable"
        build deep $CC $PROG_CFLAGS "$SRC/tests/progs/deep.c" -o "$BIN/deep"
        build interp $CC $PROG_CFLAGS "$SRC/tests/progs/interp.c" -o "$BIN/interp"
        build eintr $CC $PROG_CFLAGS -pthread "$SRC/tests/progs/eintr.c" -o "$BIN/eintr"
        build closefds $CC $PROG_CFLAGS "$SRC/tests/progs/closefds.c" -o "$BIN/closefds"
        build fdlimit $CC $PROG_CFLAGS -fno-inline -pthread "$SRC/tests/progs/fdlimit.c" \
            -o "$BIN/fdlimit"
        build shortthreads $CC $PROG_CFLAGS -fno-inline -pthread \
            "$SRC/tests/progs/shortthreads.c" -o "$BIN/shortthreads"
        build reuse $CC $PROG_CFLAGS -fno-inline -pthread "$SRC/tests/progs/reuse.c" \
            -o "$BIN/reuse"
        build libearly $CC $PROG_CFLAGS -fPIC -shared -pthread "$SRC/tests/progs/libearly.c" \
            -o "$BIN/libearly.so"
        build earlymain $CC $PROG_CFLAGS "$SRC/tests/progs/earlymain.c" -o "$BIN/earlymain" \
            -L"$BIN" -learly -Wl,-rpath,"$BIN" -pthread
        # stripme keeps its functions in source order, so that the hot code
        # sits right after an exported function; then only .dynsym is left.
        if build stripme $CC $PROG_CFLAGS -fno-toplevel-reorder "$SRC/tests/progs/stripme.c" \
            -o "$BIN/stripme.full" -Wl,--export-dynamic-symbol=visible_function; then
            cp "$BIN/stripme.full" "$BIN/stripme" && build strip strip "$BIN/stripme"
        fi
        # hostile: C++ names that break naive escaping; g++ is a test tool
        # (scripts/install-deps.sh --tests): the cases that need it say so
        if command -v "${CXX:-g++}" >/dev/null 2>&1; then
            build hostile "${CXX:-g++}" $PROG_CFLAGS "$SRC/tests/progs/hostile.cpp" \
                -o "$BIN/hostile"
            build throw-dlopen "${CXX:-g++}" $PROG_CFLAGS -pthread \
                "$SRC/tests/progs/throw-dlopen.cpp" -o "$BIN/throw-dlopen" -ldl
        fi
    }
}

# ---- unit tests ----

run_units() {
    local t name log rc
    for t in "$BIN"/test-*; do
        [ -x "$t" ] || continue
        name=unit/$(basename "$t")
        name=${name/test-/}
        selected "$name" || selected unit || continue
        log=$WORK/$(basename "$t").log
        rc=0
        (cd "$WORK" && timeout -k 5 300 "$t") >"$log" 2>&1 || rc=$?
        local n_ok n_fail
        n_ok=$(grep -c '^ok ' "$log")
        n_fail=$(grep -c '^FAIL ' "$log")
        grep -E '^(ok|FAIL) ' "$log"
        passed=$((passed + n_ok))
        failed=$((failed + n_fail))
        if [ "$rc" -ne 0 ] && [ "$n_fail" -eq 0 ]; then
            case $rc in
            124 | 137) say_fail "$name" "timed out" "$log" ;;
            *) say_fail "$name" "exited with status $rc without a FAIL line (crash?)" "$log" ;;
            esac
        elif [ "$n_ok" -eq 0 ] && [ "$n_fail" -eq 0 ]; then
            say_fail "$name" "printed no results" "$log"
        elif [ "$n_fail" -gt 0 ]; then
            # the non-result lines (sanitizer reports, notes) help
            grep -vE '^(ok|FAIL) ' "$log" | tail -n 30 | sed 's/^/    /'
        fi
    done
}

# ---- end-to-end cases ----

run_case() {
    local file=$1 name dir limit rc
    name=e2e/$(basename "$file" .sh)
    dir=$WORK/$(basename "$file" .sh)
    mkdir -p "$dir"
    limit=$(sed -n 's/^# timeout: *\([0-9][0-9]*\).*/\1/p' "$file" | head -n 1)
    limit=${limit:-120}
    rc=0
    local t0=$SECONDS
    (
        cd "$dir" || exit 1
        export CASE_DIR=$dir
        exec timeout -k 5 "$limit" bash -c 'set -eEu; . "$SRC/tests/lib/lib.sh"; . "$1"' \
            "$name" "$file"
    ) >"$dir/.log" 2>&1 </dev/null || rc=$?
    durations+=("$((SECONDS - t0)) $name")
    if [ "$rc" -eq 0 ]; then
        say_ok "$name"
        [ -n "${SPROF_TEST_KEEP:-}" ] || rm -rf "$dir"
    elif [ "$rc" -eq 77 ] && [ -e "$dir/.skip" ]; then
        say_skip "$name" "$(head -n 1 "$dir/.skip")"
        [ -n "${SPROF_TEST_KEEP:-}" ] || rm -rf "$dir"
    elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        say_fail "$name" "timed out after ${limit}s (kept in $dir)" "$dir/.log"
    elif [ -e "$dir/.reason" ]; then
        say_fail "$name" "$(head -c 2000 "$dir/.reason") (kept in $dir)" "$dir/.log"
    else
        say_fail "$name" "exited with status $rc (kept in $dir)" "$dir/.log"
    fi
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sprof-tests.XXXXXX")
echo "# sprof tests: BUILD=$BUILD${SAN:+ SAN=$SAN} CC=$CC, work in $WORK"
# sprof's unwind-table cache (SPROF_CACHE_DIR's default) stays in the run's
# own directory, not in the user's home
export XDG_CACHE_HOME="$WORK/xdg-cache"
build_progs
run_units
for f in "$SRC"/tests/e2e/[0-9]*.sh; do
    [ -e "$f" ] || continue
    selected "e2e/$(basename "$f" .sh)" || continue
    # Under TSan the sampling signal waits for the thread's next intercepted
    # call: the cases that count samples cannot pass, and the analyzer is
    # single-threaded. The cases for the recorder's threads say "# tsan:".
    if [ -n "$TSAN" ] && ! grep -q '^# tsan:' "$f"; then
        say_skip "e2e/$(basename "$f" .sh)" "not a ThreadSanitizer case (no '# tsan:' line)"
        continue
    fi
    run_case "$f"
done

if [ "$failed" -eq 0 ] && [ -z "${SPROF_TEST_KEEP:-}" ]; then
    rm -rf "$WORK"
fi
if [ ${#durations[@]} -gt 0 ]; then
    echo "# slowest: $(printf '%s\n' "${durations[@]}" | sort -rn | head -n 5 |
        awk '{ printf "%s%s %ss", (NR > 1 ? ", " : ""), $2, $1 }')"
fi
echo "# $(($(date +%s) - start_time))s${skipped:+, $skipped skipped}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
