# SPDX-License-Identifier: MIT
# A child of fork that execs at once, as a shell's commands do, makes no
# symbol lookup of sprof's: the exec functions after sprof's are looked up
# in the parent before it forks (preload/interpose.c), and the locks the
# child renews are renewed without a call the parent never made
# (sprof_mutex_renew). Each such first call in a child is a lookup through
# the loader's and the libraries' symbol tables, in pages the child has not
# touched: about ten page faults at every fork of bash. LD_DEBUG=bindings
# names the process that made each lookup. Not under a sanitizer, where the
# locks are renewed by the call the sanitizer intercepts.

[ -z "$SAN" ] || skip "the child's locks are renewed by pthread_mutex_init under a sanitizer"

# A child that took a sample before its exec writes a file of its own, whose
# first write may look symbols up: a slow VM's child took two at 999 Hz. At
# 20 Hz such a run is rare, and one is tried again (up to three runs).
for try in 1 2 3; do
    rm -f ld.* p.bin*
    SPROF_FREQ=20 LD_DEBUG=bindings LD_DEBUG_OUTPUT="$CASE_DIR/ld" profile p.bin "$BIN/forkexec" \
        "$BIN/target" x >out.txt 2>err.txt
    expect_stderr_clean err.txt
    grep -qx 'target: x' out.txt || fail "the exec'd program's output is missing: $(cat out.txt)"
    child=$(sed -n 's/^child \([0-9]*\)$/\1/p' out.txt)
    [ -n "$child" ] || fail "no child pid printed"
    # (its own file, p.bin.CHILD; the exec'd image's is then p.bin.CHILD.1)
    [ -e "p.bin.$child.1" ] || break
    [ "$try" -lt 3 ] || fail "the child of fork took samples before its exec in 3 runs at 20 Hz"
done
# Before its exec the child writes to the file its parent opened (ld.PARENT),
# each line led by its own pid; the exec'd image opens ld.CHILD.
parent_log=
for f in ld.*; do
    [ "$f" = "ld.$child" ] || parent_log=$f
done
[ -f "$parent_log" ] || fail "no LD_DEBUG output of the parent: $(ls)"
grep -q 'libsprof.so.*normal symbol' "$parent_log" ||
    fail "LD_DEBUG=bindings shows none of sprof's lookups in the parent: is it working?"
grep -E "^ *$child:" "$parent_log" >child.txt || true
cat child.txt
if grep -q "binding file [^ ]*libsprof.so " child.txt; then
    fail "the child of fork looked up symbols for sprof: $(grep 'binding file [^ ]*libsprof.so ' child.txt | head -3)"
fi
