# SPDX-License-Identifier: MIT
# A damaged ELF or DWARF file does not crash the symbolizer (ARCHITECTURE
# invariant 4, issue 5 item 12). A small -O2 -g program with inlined code
# is profiled; then, for each damage tests/lib/elfcorrupt.py knows (random
# bytes or absurd header fields in .debug_info, .debug_abbrev, .debug_line,
# the string, range and location sections, .eh_frame, .symtab, the section
# and program headers; the build-id note kept, so that the file is still
# taken for the profiled one), the file on disk is replaced by a damaged
# copy and `sprof-report flat` and `info` must exit 0 within their timeout,
# with nothing but sprof's own warnings on stderr: no crash, no sanitizer
# report, no hang.
# timeout: 240

cat >prog.c <<'PROG'
#include <stdlib.h>
static inline __attribute__((always_inline)) unsigned long mix(unsigned long x)
{
    return x * 0x9e3779b97f4a7c15ull ^ (x >> 29);
}
__attribute__((noinline)) unsigned long hot_loop(unsigned long n)
{
    unsigned long h = 1;
    for (unsigned long i = 0; i < n; i++) h = mix(h + i);
    return h;
}
int main(int argc, char **argv)
{
    unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 60000000;
    return hot_loop(n) == 42;
}
PROG
$CC -O2 -g -o prog.orig prog.c
cp prog.orig prog
profile p.bin ./prog 60000000
report flat p.bin >flat-orig.txt
grep -qw hot_loop flat-orig.txt || fail "the undamaged program: no hot_loop in flat: $(head -c 800 flat-orig.txt)"

# run_report NAME COMMAND: sprof-report COMMAND p.bin with prog damaged as
# NAME; any exit status but 0, or foreign output on stderr, fails the case
run_report() {
    local name=$1 cmd=$2 rc=0
    timeout -k 5 30 "$REPORT" "$cmd" p.bin >"$name.$cmd.out" 2>"$name.$cmd.err" || rc=$?
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        fail "prog damaged as $name: sprof-report $cmd hung (killed after 30 s)"
    fi
    if [ "$rc" -ne 0 ]; then
        fail "prog damaged as $name: sprof-report $cmd exited with status $rc: $(head -c 1500 "$name.$cmd.err")"
    fi
    if grep -v '^sprof-report:' "$name.$cmd.err" | grep -q .; then
        fail "prog damaged as $name: sprof-report $cmd wrote more than warnings on stderr: $(head -c 1500 "$name.$cmd.err")"
    fi
    [ -s "$name.$cmd.out" ] || fail "prog damaged as $name: sprof-report $cmd printed nothing"
}

n=0
for v in $("$PY" "$SRC/tests/lib/elfcorrupt.py" list); do
    cp prog.orig prog
    "$PY" "$SRC/tests/lib/elfcorrupt.py" prog "$v"
    cmp -s prog prog.orig && fail "elfcorrupt.py $v changed nothing"
    run_report "$v" flat
    run_report "$v" info
    log "$v: $(grep -c . "$v.flat.err" || true) warning lines; $(grep -m1 hot_loop "$v.flat.out" || echo 'no hot_loop')"
    n=$((n + 1))
done
log "$n damaged copies, no crash"
