# SPDX-License-Identifier: MIT
# A stack under more than one id, as a recorder that forgot its stacks
# writes it (sprof-format(5), STACK): synth --reid names its four stacks by
# new ids in every chunk of samples, defines one of them after a SAMPLES
# record of its chunk and one under two ids in the same chunk. The reader
# merges a stack's ids (analyzer/profile.c, settle_stacks): every view must
# be the one of the same profile with one id a stack, and `info` must count
# each stack once.
# timeout: 60

synth_profile one.bin --per-chunk 100 --pid 4242
synth_profile many.bin --per-chunk 100 --pid 4242 --reid

"$DUMP" many.bin >dump.txt || fail "sprof-dump cannot read many.bin"
! grep -q ' malformed' dump.txt || fail "sprof-dump finds malformed records in many.bin"
# 4 stacks at first, then 5 STACK records in each of the 10 chunks of samples
nstack=$(grep -c '^STACK ' dump.txt)
[ "$nstack" -eq 54 ] || fail "many.bin holds $nstack STACK records, not 54"

for view in flat folded "tree --ascii" "tree --ascii --inverted" callgraph; do
    # shellcheck disable=SC2086 # the view's words
    report $view one.bin >one.txt
    # shellcheck disable=SC2086
    report $view many.bin >many.txt
    cmp -s one.txt many.txt || {
        diff one.txt many.txt | head -20 >&2
        fail "'$view' differs when the stacks have many ids"
    }
done
report info one.bin >info-one.txt
report info many.bin >info-many.txt
grep -q '^stacks  *4 distinct$' info-one.txt || fail "info of one.bin: $(grep '^stacks' info-one.txt)"
grep -q '^stacks  *4 distinct$' info-many.txt ||
    fail "info counts $(grep '^stacks' info-many.txt) in many.bin, which holds 4"
grep -q '^samples  *1000 in the file' info-many.txt || fail "info of many.bin: $(grep '^samples' info-many.txt)"
