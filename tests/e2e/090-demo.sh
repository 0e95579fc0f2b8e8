# SPDX-License-Identifier: MIT
# scripts/demo.sh (make demo): builds the bundled example, profiles it and
# prints info and the flat report, whose top functions are the example's
# hot functions.
# timeout: 180

rc=0
"$SRC/scripts/demo.sh" "$BUILD" >out.txt 2>err.txt || rc=$?
cat out.txt
cat err.txt
[ "$rc" -eq 0 ] || fail "demo.sh exited with status $rc: $(tail -n 5 err.txt)"
for f in op_hash op_matmul op_sort op_fib; do
    grep -qw "$f" out.txt || fail "the demo's flat report does not show $f"
done
grep -qi 'samples' out.txt || fail "the demo printed no sample counts"
