# SPDX-License-Identifier: MIT
# python3 running a pure-Python loop for about a second: the interpreter's
# eval function is among the top three by self samples. Run directly (the
# real interpreter, found with sys.executable), and through a pyenv-style
# shim when python3 on PATH is one.
# timeout: 240

command -v python3 >/dev/null 2>&1 || skip "python3 is not installed"
real=$(python3 -c 'import sys; print(sys.executable)')
[ -x "$real" ] || skip "cannot find the python3 interpreter"
if ! nm -D "$real" 2>/dev/null | grep -q _PyEval_EvalFrameDefault &&
    ! ldd "$real" | awk '/libpython/ { print $3 }' | xargs -r nm -D 2>/dev/null | grep -q _PyEval_EvalFrameDefault; then
    skip "$real has no _PyEval_EvalFrameDefault symbol (python < 3.6?)"
fi
log "interpreter: $real"

mkdir direct
(cd direct && profile p.bin "$real" "$SRC/tests/progs/pyloop.py" >out.txt 2>err.txt)
expect_stderr_clean direct/err.txt
[ -s direct/p.bin ] || fail "no profile for python"
flat_rows direct/rows direct/p.bin
head -n 8 direct/rows.txt
shares top direct/rows.txt _PyEval_EvalFrameDefault --n 3
grep -qE '^pyloop: [0-9]+$' direct/out.txt || fail "python printed $(cat direct/out.txt)"

shim=$(command -v python3)
if [ "$(head -c 2 "$shim")" = "#!" ]; then
    log "python3 is a shim: $shim"
    mkdir shim
    rc=0
    (cd shim && profile p.bin python3 "$SRC/tests/progs/pyloop.py" >out.txt 2>err.txt) || rc=$?
    cat shim/err.txt
    if grep -q 'Profiling timer expired' shim/err.txt; then fail "the shim was killed: Profiling timer expired"; fi
    [ "$rc" -eq 0 ] || fail "python3 through the shim exited with status $rc"
    grep -q '^pyloop: [0-9]' shim/out.txt || fail "python3 through the shim printed $(cat shim/out.txt)"
    expect_stderr_clean shim/err.txt
    ls shim
    # shellcheck disable=SC2046
    flat_rows shim/rows $(files_of 'shim/p.bin*')
    head -n 8 shim/rows.txt
    shares top shim/rows.txt _PyEval_EvalFrameDefault --n 3
else
    log "python3 is not a shim; the shim part is not run"
fi
