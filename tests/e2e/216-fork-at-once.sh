# SPDX-License-Identifier: MIT
# A child of fork made at its parent's start (tests/progs/fork.c forks at
# once, before its parent's first write; the parent a descendant, exec'd by
# sh, which compares its maps first with its first write, up to a second
# after its start) does none of its parent's work again before it writes
# its file:
# - it binds none of libsprof.so's functions: they are all bound at its
#   load (linked with -z now; Makefile). Bound lazily, those of the
#   writer's path were bound at their first call, and a parent that had
#   not written yet left them unbound for each child, which bound them
#   again, a lookup through every object's symbol tables on pages not in
#   its page tables. ld.so says every binding it makes under
#   LD_DEBUG=bindings after the pid of the process that made it; the
#   child's own lazy bindings of the program's functions that it alone
#   calls (opendir) show that the child's lines are there to be read.
# - its file starts with its parent's mappings (MAP records before its
#   first SAMPLES: the parent compares its maps before its first fork,
#   writer.c, sprof_writer_prepare_fork), not ones it looked up itself at
#   its end, after its samples (BENCHMARKS.md, session 31).

# shellcheck disable=SC2016
LD_DEBUG=bindings profile p.bin sh -c 'exec "$0" 100' "$BIN/fork" >out.txt 2>err.txt ||
    fail "fork exited with $?: $(grep -v 'binding\|^ *[0-9]*: *$' err.txt | head -5)"
child=$(sed -n 's/^child \([0-9]*\)$/\1/p' out.txt)
[ -n "$child" ] || fail "fork printed no child pid: $(cat out.txt)"
[ -s "p.bin.$child" ] || fail "the child wrote no file (files: $(echo p.bin*))"
flat_rows child "p.bin.$child"
expect_in_flat child child_work 20

grep -E "^ *$child:" err.txt >child.txt || true
log "the child's bindings: $(grep -c 'binding file' child.txt)"
grep -Eq "binding file [^ ]*/fork \[0\] to .*symbol .opendir'" child.txt ||
    fail "LD_DEBUG shows no lazy binding of the child's own (opendir): $(head -c 600 child.txt)"
if grep -E "binding file [^ ]*libsprof\.so \[" child.txt >bound.txt; then
    fail "the child bound $(wc -l <bound.txt) of libsprof.so's functions: $(sed "s/.*symbol //" bound.txt | tr '\n' ' ')"
fi

# the child's records in order (sprof-dump: one a line, by type), its MAP
# records with the address of their mapping
"$DUMP" "p.bin.$child" >dump.txt || fail "sprof-dump cannot read p.bin.$child"
log "the child's records: $(awk '$1 ~ /^[A-Z_]+$/ && $1 != "STACK" { print $1 }' dump.txt | uniq -c | tr -s ' \n' ' ')"
[ "$(grep -c '^MAP ' dump.txt)" -ge 3 ] ||
    fail "the child's file has $(grep -c '^MAP ' dump.txt) MAP records: $(grep '^MAP ' dump.txt | cut -c1-80)"
awk '$1 == "SAMPLES" { exit } $1 == "MAP" { maps++ } END { exit !maps }' dump.txt ||
    fail "the child's mappings come after its samples (looked up by the child itself)"
