# SPDX-License-Identifier: MIT
# scripts/demo.sh (make demo): builds the bundled example, profiles it and
# prints info and the flat report, whose top rows are the example's hot
# functions: op_hash, op_matmul, op_sort and fib (called only by op_fib).
# timeout: 180

rc=0
"$SRC/scripts/demo.sh" "$BUILD" >out.txt 2>err.txt || rc=$?
cat out.txt
cat err.txt
[ "$rc" -eq 0 ] || fail "demo.sh exited with status $rc: $(tail -n 5 err.txt)"
grep -qi 'samples' out.txt || fail "the demo printed no sample counts"
# The printed report (--limit 12) must show the four functions with self
# time; how many rows of a few samples follow them (the sanitizer runtime's,
# the vDSO's) varies, so op_fib (self 0) is checked in the whole report.
for f in op_hash op_matmul op_sort fib; do
    grep -qw "$f" out.txt || fail "the demo's flat report does not show $f"
done
bin=$BUILD/demo/demo.bin
[ -s "$bin" ] || fail "the demo left no profile at $bin"
flat_rows rows "$bin"
all=$(sum_self rows)
for f in op_hash op_matmul op_sort fib; do
    # Each is 10-40% by construction; 3% leaves room for any machine.
    expect_in_flat rows "$f" $((all * 3 / 100))
done
# fib is called only by op_fib: every fib sample has op_fib in its stack.
fib=$(self_of rows fib)
opfib=$(total_of rows op_fib)
[ "$opfib" -ge "$fib" ] || fail "op_fib's total ($opfib) is below fib's self ($fib)"
[ "$(self_of rows op_fib)" -le $((all / 100)) ] ||
    fail "op_fib has $(self_of rows op_fib) self samples; its time is fib's"
