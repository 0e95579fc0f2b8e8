# SPDX-License-Identifier: MIT
# libsprof writes stacks in their shared form, samples by column and their
# stack ids as steps (header flags 1, 2 and 4, sprof-format(5)): a stack
# names the stack defined before it in the same chunk with the longest run
# of the same outermost frames and writes only its others; a sample whose
# stack is newer than its record's others so far writes 0 and the like.
# tests/progs/interp.c, a tree-walking evaluator, has a thousand distinct
# stacks a second, 20 to 50 frames deep, that share their outer frames. Its
# profile must say so (flags 7, most STACK records with a base, most ids a
# step ahead), and read the same as the same profile rewritten in the plain
# forms by sprof-dump, an independent decoder: the same stacks frame by
# frame and samples one by one, the same folded stacks and flat report; and
# the evaluator's hot spot, known by construction (leaf_work, under 15 eval
# frames), shows.

SPROF_FREQ=2000 profile p.bin "$BIN/interp" 2500 >out.txt 2>err.txt
expect_stderr_clean err.txt
grep -qx 'interp: 1' out.txt || fail "interp printed $(cat out.txt)"

"$DUMP" p.bin -s >summary.txt || fail "sprof-dump cannot read p.bin"
cat summary.txt
grep -q '^header version=1 flags=7 ' summary.txt || fail "p.bin's header: $(head -n 1 summary.txt)"
chunks=$(sed -n 's/^chunks ok=\([0-9]*\) bad=0 truncated=0$/\1/p' summary.txt)
[ "${chunks:-0}" -ge 3 ] || fail "want 3 or more intact chunks (stacks defined again in each): $(sed -n 2p summary.txt)"
stacks=$(sed -n 's/.*STACK=\([0-9]*\) .*/\1/p' summary.txt)
read -r shared taken all < <(sed -n 's/^shared stacks=\([0-9]*\) frames=\([0-9]*\) of \([0-9]*\)$/\1 \2 \3/p' summary.txt)
log "$shared of $stacks STACK records share frames with a base: $taken of $all frames"
[ "$stacks" -ge 1000 ] || fail "only $stacks STACK records: interp's stacks are not what the case needs"
[ "$((shared * 10))" -ge "$((stacks * 9))" ] || fail "only $shared of $stacks STACK records have a base"
[ "$((taken * 2))" -ge "$all" ] || fail "only $taken of $all frames come from a base"
samples=$(sed -n 's/.* samples=\([0-9]*\)$/\1/p' summary.txt)
ahead=$(sed -n 's/^sample ids ahead=\([0-9]*\)$/\1/p' summary.txt)
log "$ahead of $samples sample ids written as steps ahead"
[ "$((ahead * 10))" -ge "$((samples * 8))" ] || fail "only ${ahead:-no} of $samples sample ids are steps ahead"

"$DUMP" p.bin --plain plain.bin || fail "sprof-dump --plain failed"
"$DUMP" plain.bin -s >plain-summary.txt
grep -q '^header version=1 flags=0 ' plain-summary.txt || fail "plain.bin's header: $(head -n 1 plain-summary.txt)"
grep -q '^shared stacks=0 ' plain-summary.txt || fail "plain.bin shares frames: $(tail -n 1 plain-summary.txt)"
grep -qx 'sample ids ahead=0' plain-summary.txt || fail "plain.bin has steps: $(grep '^sample ids' plain-summary.txt)"
# every record, STACK records with all their frames and SAMPLES with all
# their samples, decoded both ways (the header and the counts of shared
# stacks and of steps aside)
"$DUMP" p.bin | tail -n +2 | grep -v "^shared stacks=\|^sample ids ahead=" >p.dump
"$DUMP" plain.bin | tail -n +2 | grep -v "^shared stacks=\|^sample ids ahead=" >plain.dump
grep -q '^SAMPLES [0-9]' p.dump || fail "sprof-dump prints no samples: $(grep -m 1 '^SAMPLES' p.dump)"
! grep -q ' malformed' p.dump || fail "sprof-dump finds malformed STACK records in p.bin"
cmp -s p.dump plain.dump || fail "the records differ once decoded: $(diff p.dump plain.dump | head -c 600)"

for view in folded "flat --limit 0" "info"; do
    # shellcheck disable=SC2086
    report $view p.bin | grep -v -E '^(== |size )' >"a.txt"
    # shellcheck disable=SC2086
    report $view plain.bin | grep -v -E '^(== |size )' >"b.txt"
    cmp -s a.txt b.txt || fail "sprof-report $view differs between the shared and the plain forms: $(diff a.txt b.txt | head -c 600)"
done

flat_rows rows p.bin
head -n 6 rows.txt
shares top rows.txt leaf_work --n 1
expect_in_flat rows leaf_work "$(($(sum_self rows) * 9 / 10))"
# the folded stacks: leaf_work under 15 eval frames (the root and 14 levels)
report folded p.bin >folded.txt
deep=$(awk '{ k = split($1, f, ";"); n = 0; for (i = 1; i <= k; i++) n += f[i] == "eval"
               if (f[k] == "leaf_work" && n >= 15) c += $NF } END { print c + 0 }' folded.txt)
total=$(awk '{ c += $NF } END { print c + 0 }' folded.txt)
log "$deep of $total samples in leaf_work under 15 eval frames"
[ "$((deep * 10))" -ge "$((total * 9))" ] || fail "only $deep of $total samples reach leaf_work through 15 eval frames: $(head -n 3 folded.txt)"
