# SPDX-License-Identifier: MIT
# Helpers for the end-to-end cases, sourced by tests/run.sh before each case.
# A case runs in bash with `set -eEu`, in its own empty directory, and:
#   exits 0 when it passes; calls fail "reason" when it does not (any other
#   failing command fails it too, naming the command); calls skip "reason"
#   only when the machine cannot run it.
# Variables set by run.sh:
#   SRC       the source tree          BUILD    the build directory
#   BIN       the test programs         REPORT   sprof-report
#   LIBSPROF  libsprof.so               PRELOAD  what LD_PRELOAD must hold
#   RECORD    scripts/sprof-record      PY       python3 (the real one)
#   DUMP      sprof-dump                HOST_ENV VAR=VALUE words for programs
#   SAN       the sanitizers the build uses, or empty
#   CASE_DIR  this case's directory (the current directory at the start)

SHARES="$SRC/tests/lib/shares.py"

# Ends the case as failed. The first reason given is the one reported.
fail() {
    [ -e "$CASE_DIR/.reason" ] || printf '%s\n' "$*" >"$CASE_DIR/.reason"
    echo "FAIL: $*"
    exit 1
}

skip() {
    printf '%s\n' "$*" >"$CASE_DIR/.skip"
    exit 77
}

log() {
    echo "# $*"
}

trap 'fail "line $LINENO: \`$BASH_COMMAND\` failed (status $?)"' ERR

# profile OUT COMMAND [ARGS...]: runs COMMAND with the preload, writing the
# profile to OUT (and OUT.PID for descendants). Extra SPROF_* variables go
# in front: SPROF_FREQ=100 profile p.bin prog. Returns COMMAND's status.
profile() {
    local out=$1
    shift
    # shellcheck disable=SC2086
    env LD_PRELOAD="$PRELOAD" SPROF_OUTPUT="$out" $HOST_ENV "$@"
}

# report ARGS...: runs sprof-report; any exit status but 0 fails the case
# with its stderr. Its stderr is also kept in report.err and shown in the log.
report() {
    local rc=0
    "$REPORT" "$@" 2>"$CASE_DIR/report.err" || rc=$?
    if [ -s "$CASE_DIR/report.err" ]; then
        sed 's/^/# sprof-report stderr: /' "$CASE_DIR/report.err" >&2
    fi
    if [ "$rc" -ne 0 ]; then
        fail "sprof-report $* exited with status $rc: $(head -c 1500 "$CASE_DIR/report.err")"
    fi
}

# shares CHECK ARGS...: runs tests/lib/shares.py; a failed check fails the
# case with shares.py's reason (its full output goes to the log).
shares() {
    local out rc=0
    out=$("$PY" "$SHARES" "$@") || rc=$?
    printf '%s\n' "$out"
    if [ "$rc" -ne 0 ]; then
        fail "$(printf '%s\n' "$out" | grep -m1 '^shares.py:' | sed 's/^shares.py: //')"
    fi
}

# flat_rows OUT FILE...: writes "self<TAB>total<TAB>name<TAB>module" rows
# of `sprof-report flat --limit 0 FILE...` to OUT (the raw report to OUT.txt).
flat_rows() {
    local out=$1
    shift
    report flat --limit 0 "$@" >"$out.txt"
    "$PY" "$SHARES" flat "$out.txt" >"$out" || fail "cannot parse the flat report of $*"
}

# self_of ROWS NAME: self samples of NAME in flat rows (0 if absent).
self_of() {
    awk -F'\t' -v n="$2" '$3 == n { s += $1 } END { print s + 0 }' "$1"
}

# total_of ROWS NAME: total samples of NAME in flat rows (0 if absent).
total_of() {
    awk -F'\t' -v n="$2" '$3 == n { if ($2 > s) s = $2 } END { print s + 0 }' "$1"
}

# module_of ROWS NAME: the module of NAME in flat rows.
module_of() {
    awk -F'\t' -v n="$2" '$3 == n { print $4; exit }' "$1"
}

# sum_self ROWS: all self samples.
sum_self() {
    awk -F'\t' '{ s += $1 } END { print s + 0 }' "$1"
}

# expect_in_flat ROWS NAME [MIN]: NAME has at least MIN (default 1) self
# samples.
expect_in_flat() {
    local n
    n=$(self_of "$1" "$2")
    if [ "$n" -lt "${3:-1}" ]; then
        fail "$2 has $n self samples in $1 (want at least ${3:-1}); top rows: $(sort -t"$(printf '\t')" -k1,1nr "$1" | head -5 | tr '\t\n' ' |')"
    fi
    log "$2: $n self samples"
}

# expect_not_in_flat ROWS NAME: NAME has no samples at all.
expect_not_in_flat() {
    local n
    n=$(total_of "$1" "$2")
    [ "$n" -eq 0 ] || fail "$2 has $n samples in $1, but must have none"
}

# percent PART WHOLE: integer percentage.
percent() {
    echo $(($1 * 100 / ($2 > 0 ? $2 : 1)))
}

# expect_status WANT COMMAND...: runs COMMAND and checks its exit status.
expect_status() {
    local want=$1 rc=0
    shift
    "$@" || rc=$?
    [ "$rc" -eq "$want" ] || fail "$* exited with status $rc, want $want"
}

# expect_stderr_clean FILE: every line of FILE is sprof's own (starts with
# "sprof:"); no crash messages, no sanitizer reports, no shell errors.
expect_stderr_clean() {
    if grep -v '^sprof:' "$1" | grep -q .; then
        fail "unexpected output on stderr: $(grep -v '^sprof:' "$1" | head -c 1500)"
    fi
}

# expect_few_fallbacks PROFILE: sprof-report info of PROFILE into info.txt
# (its samples, handler and fallbacks lines shown); at most 2% of its
# samples were walked by libunwind, not the unwind tables.
expect_few_fallbacks() {
    local nfall ntaken
    report info "$1" >info.txt
    grep -E '^(samples|handler|fallbacks)' info.txt
    read -r nfall ntaken <<<"$(awk '$1 == "fallbacks" { print $2, $4; exit }' info.txt)"
    [ -n "${ntaken:-}" ] || fail "info has no fallbacks line: $(cat info.txt)"
    [ $((nfall * 100)) -le $((ntaken * 2)) ] || fail "$nfall of $ntaken samples fell back to libunwind"
}

# files_of PATTERN: the profile files matching a shell pattern, one a line.
files_of() {
    local f
    for f in $1; do
        [ -e "$f" ] && echo "$f"
    done
    return 0
}

# wait_samples PATTERN MIN: waits (at most 30 s) until the profile files
# matching PATTERN hold MIN samples in all, as a running process's writer
# appends them: for a case that then ends the process, on a machine of any
# speed (a fixed sleep needs a share of a CPU that a loaded one may not give)
wait_samples() {
    local i f k n=0
    for i in $(seq 60); do
        n=0
        for f in $(files_of "$1"); do
            [ -s "$f" ] || continue
            k=$("$REPORT" flat "$f" 2>/dev/null | sed -n 's/^# \([0-9]*\) samples.*/\1/p')
            n=$((n + ${k:-0}))
        done
        [ "$n" -ge "$2" ] && return 0
        sleep 0.5
    done
    fail "$1 had $n samples after 30 s, want $2"
}

# golden NAME FILE: FILE must be byte for byte tests/golden/NAME (the diff
# goes to the log). SPROF_TEST_UPDATE_GOLDEN=1 tests/run.sh CASE writes
# FILE there instead: review the change with git diff before committing it.
golden() {
    local want="$SRC/tests/golden/$1"
    if [ -n "${SPROF_TEST_UPDATE_GOLDEN:-}" ]; then
        mkdir -p "$SRC/tests/golden"
        cp "$2" "$want"
        log "wrote tests/golden/$1"
        return 0
    fi
    [ -e "$want" ] || fail "tests/golden/$1 is missing (SPROF_TEST_UPDATE_GOLDEN=1 writes it)"
    diff -u "$want" "$2" || fail "$2 differs from tests/golden/$1 (the diff is in the log)"
}

# synth_profile OUT [SYNTH OPTIONS]: a profile with known stacks written by
# tests/tools/synth (see its header: 1000 samples, main;a;b;inl_leaf 50%,
# main;c 30% on thread "worker", main;rec;rec;rec 10%, main;core::fmt::write;
# synth::cxx_like(int) 10%, 1.001001 ms per sample). Skips the case when
# synth was not built.
synth_profile() {
    [ -x "$BIN/synth" ] || skip "tests/tools/synth was not built"
    "$BIN/synth" "$@" || fail "synth $* failed"
}

# The frames above main in a synth profile (the C library's start code,
# named differently by each libc version and by whether its debug symbols
# are installed): --hide "$ABOVE_MAIN" makes reports of synth portable.
ABOVE_MAIN='^(_start|__libc_start|libc[.-])'

# have_test_tool WHAT COMMAND...: whether one of the COMMANDs (names or
# paths) of a tool only the tests use is installed (scripts/install-deps.sh
# --tests installs them); the first one found is in $TEST_TOOL. Without it
# the case fails when SPROF_TEST_REQUIRE_TOOLS=1 (.ci/run sets it: there
# every check runs), else the caller skips what needs it.
have_test_tool() {
    local what=$1 c
    shift
    for c in "$@"; do
        if [ -x "$c" ] || command -v "$c" >/dev/null 2>&1; then
            TEST_TOOL=$(command -v "$c")
            return 0
        fi
    done
    if [ "${SPROF_TEST_REQUIRE_TOOLS:-}" = 1 ]; then
        fail "$what is not installed (scripts/install-deps.sh --tests installs it)"
    fi
    log "no $what: the checks that need it are skipped"
    return 1
}

# need_test_tool WHAT COMMAND...: have_test_tool, or the case is skipped.
need_test_tool() {
    have_test_tool "$@" || skip "$1 is not installed (scripts/install-deps.sh --tests installs it)"
}

# go_pprof ARGS...: go tool pprof, offline, with its home and caches in the
# case's directory.
go_pprof() {
    local d=$CASE_DIR/.go
    mkdir -p "$d/home" "$d/path" "$d/cache" "$d/tmp"
    HOME=$d/home GOPATH=$d/path GOCACHE=$d/cache GOFLAGS= GOPROXY=off GOTOOLCHAIN=local \
        GOTELEMETRY=off PPROF_TMPDIR=$d/tmp go tool pprof "$@"
}

# pycheck SCRIPT ARGS...: runs tests/lib/SCRIPT (flamegraph.py, exports.py);
# its line "SCRIPT: REASON" fails the case with REASON. Output goes to the
# log.
pycheck() {
    local script=$1 out msg rc=0
    shift
    out=$("$PY" "$SRC/tests/lib/$script" "$@" 2>&1) || rc=$?
    printf '%s\n' "$out"
    if [ "$rc" -ne 0 ]; then
        msg=$(printf '%s\n' "$out" | grep -m1 "^$script:" | sed "s/^$script: //")
        fail "${msg:-$script exited with status $rc}"
    fi
}
