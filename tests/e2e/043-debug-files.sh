# SPDX-License-Identifier: MIT
# Separate debug files, found when the report runs (sprof-report(1): "separate
# debug files found by build-id or .gnu_debuglink"). tests/progs/stripme.c,
# its DWARF and symbol table kept aside with objcopy --only-keep-debug, then
# stripped of everything and given a .gnu_debuglink to that file: the hot
# code is hidden_hot_function, with its source file and line, where the debug
# file lies beside the binary or in the .debug directory beside it; it is
# prog+0xOFFSET (the stripped copy is prog) where there is none, or where the
# file under that name is another build's (its build-id is not the binary's);
# the same with DEBUGINFOD_URLS set, where libdwfl's own search runs.

command -v objcopy >/dev/null 2>&1 || skip "no objcopy (binutils)"
objcopy --only-keep-debug "$BIN/stripme.full" prog.debug
objcopy --strip-all --add-gnu-debuglink=prog.debug "$BIN/stripme.full" prog
chmod +x prog
# the setup this case relies on
readelf -S prog >sections.txt 2>/dev/null
if grep -qE '\.symtab|\.debug_info' sections.txt; then fail "setup: prog kept symbols or DWARF"; fi
grep -q '\.gnu_debuglink' sections.txt || fail "setup: prog has no .gnu_debuglink"
readelf -S prog.debug 2>/dev/null | grep -q '\.debug_info' || fail "setup: prog.debug has no DWARF"
readelf -n "$BIN/split" | grep -q 'Build ID' || fail "setup: split has no build-id"

profile p.bin "$PWD/prog" 600 >out.txt 2>err.txt
expect_stderr_clean err.txt

# named: hidden_hot_function holds most samples, with its file:line
named() {
    flat_rows "rows-$1" p.bin
    local total hot
    total=$(sum_self "rows-$1")
    hot=$(self_of "rows-$1" hidden_hot_function)
    log "$1: hidden_hot_function $hot of $total samples"
    [ "$(percent "$hot" "$total")" -ge 70 ] ||
        fail "$1: hidden_hot_function has $hot of $total samples; top rows: $(head -n 6 "rows-$1.txt" | tr '\n' '|')"
    grep -E 'hidden_hot_function +\[prog\] +stripme\.c:[0-9]+' "rows-$1.txt" >/dev/null ||
        fail "$1: hidden_hot_function without its source line: $(grep hidden_hot_function "rows-$1.txt")"
}

# unnamed: no name from a debug file, the hot code as prog+0xOFFSET
unnamed() {
    flat_rows "rows-$1" p.bin
    local total off
    total=$(sum_self "rows-$1")
    off=$(awk -F'\t' '$3 ~ /^prog\+0x[0-9a-f]+$/ { s += $1 } END { print s + 0 }' "rows-$1")
    log "$1: prog+0x... $off of $total samples"
    if grep -qE 'hidden_hot_function|stripme\.c' "rows-$1.txt"; then
        fail "$1: names from a debug file that is not there or not prog's: $(grep -E 'hidden_hot|stripme\.c' "rows-$1.txt" | head -3 | tr '\n' '|')"
    fi
    [ "$(percent "$off" "$total")" -ge 70 ] ||
        fail "$1: only $off of $total samples at prog+0xOFFSET"
}

named beside
DEBUGINFOD_URLS=http://127.0.0.1:9 DEBUGINFOD_TIMEOUT=5 named beside-server
mkdir .debug
mv prog.debug .debug/
named dot-debug
rm .debug/prog.debug
unnamed none
# with a debuginfod server named (none listens there), libdwfl's own search,
# which asks it after the places above and is refused: the same reports
DEBUGINFOD_URLS=http://127.0.0.1:9 DEBUGINFOD_TIMEOUT=5 unnamed none-server
# another build's debug file under the name the link gives
objcopy --only-keep-debug "$BIN/split" prog.debug
unnamed another-build
