# SPDX-License-Identifier: MIT
# libsprof writes a chunk's stacks by column in a STACKS record, each in its
# shared form, and samples by column with their stack ids as steps and
# their times in units (header flags 1, 2, 4, 8, 16 and 32,
# sprof-format(5)): a stack names the stack defined
# before it in the same chunk with the longest run of the same outermost
# frames and writes only its others, as codes into the record's addresses,
# a new address where it leaves its base from the base's frame there;
# a sample whose stack is the one after its record's newest so far writes 0,
# others their id plus one. tests/progs/interp.c, a tree-walking evaluator, has a
# thousand distinct stacks a second, 20 to 50 frames deep, that share their
# outer frames. Its profile must say so (flags 63, a STACKS record a chunk,
# most stacks with a base, most sample ids 0), and read the same as the same profile rewritten in the plain
# forms by sprof-dump, an independent decoder: the same stacks frame by
# frame and samples one by one, the same folded stacks and flat report; and
# the evaluator's hot spot, known by construction (leaf_work, under 15 eval
# frames), shows. A loop at the bottom of a recursion (tests/progs/deep.c)
# has stacks that differ in their leaf's instruction alone: some of its
# addresses are written from a base's frame, and it reads the same in the
# encodings before that (flags 15).

SPROF_FREQ=2000 profile p.bin "$BIN/interp" 2500 >out.txt 2>err.txt
expect_stderr_clean err.txt
grep -qx 'interp: 1' out.txt || fail "interp printed $(cat out.txt)"

"$DUMP" p.bin -s >summary.txt || fail "sprof-dump cannot read p.bin"
cat summary.txt
grep -q '^header version=1 flags=63 ' summary.txt || fail "p.bin's header: $(head -n 1 summary.txt)"
chunks=$(sed -n 's/^chunks ok=\([0-9]*\) bad=0 truncated=0$/\1/p' summary.txt)
[ "${chunks:-0}" -ge 3 ] || fail "want 3 or more intact chunks (stacks defined again in each): $(sed -n 2p summary.txt)"
stacks=$(sed -n 's/.*STACK=\([0-9]*\) .*/\1/p' summary.txt)
read -r shared taken all < <(sed -n 's/^shared stacks=\([0-9]*\) frames=\([0-9]*\) of \([0-9]*\)$/\1 \2 \3/p' summary.txt)
log "$shared of $stacks stacks share frames with a base: $taken of $all frames"
[ "$stacks" -ge 1000 ] || fail "only $stacks stacks defined: interp's stacks are not what the case needs"
[ "$((shared * 10))" -ge "$((stacks * 9))" ] || fail "only $shared of $stacks stacks have a base"
[ "$((taken * 2))" -ge "$all" ] || fail "only $taken of $all frames come from a base"
samples=$(sed -n 's/.* samples=\([0-9]*\)$/\1/p' summary.txt)
read -r srecs ahead < <(sed -n 's/^encodings STACKS=\([0-9]*\) next=\([0-9]*\) .*/\1 \2/p' summary.txt)
[ "${srecs:-0}" -ge 3 ] || fail "want a STACKS record in each chunk with samples: $(grep '^encodings' summary.txt)"
log "$ahead of $samples sample ids written as the record's next new one (0)"
[ "$((ahead * 10))" -ge "$((samples * 8))" ] || fail "only ${ahead:-no} of $samples sample ids are the next new one"

"$DUMP" p.bin --plain plain.bin || fail "sprof-dump --plain failed"
"$DUMP" plain.bin -s >plain-summary.txt
grep -q '^header version=1 flags=0 ' plain-summary.txt || fail "plain.bin's header: $(head -n 1 plain-summary.txt)"
grep -q '^shared stacks=0 ' plain-summary.txt || fail "plain.bin shares frames: $(tail -n 1 plain-summary.txt)"
grep -qx 'encodings STACKS=0 next=0 siblings=0' plain-summary.txt || fail "plain.bin: $(grep '^encodings' plain-summary.txt)"
# every record, each stack with all its frames and SAMPLES with all their
# samples, decoded both ways (the header and the counts of the encodings
# aside)
"$DUMP" p.bin | tail -n +2 | grep -v "^shared stacks=\|^encodings " >p.dump
"$DUMP" plain.bin | tail -n +2 | grep -v "^shared stacks=\|^encodings " >plain.dump
grep -q '^SAMPLES [0-9]' p.dump || fail "sprof-dump prints no samples: $(grep -m 1 '^SAMPLES' p.dump)"
! grep -q ' malformed' p.dump || fail "sprof-dump finds malformed records in p.bin"
cmp -s p.dump plain.dump || fail "the records differ once decoded: $(diff p.dump plain.dump | head -c 600)"

for view in folded "flat --limit 0" "info"; do
    # shellcheck disable=SC2086
    report $view p.bin | grep -v -E '^(== |size )' >"a.txt"
    # shellcheck disable=SC2086
    report $view plain.bin | grep -v -E '^(== |size )' >"b.txt"
    cmp -s a.txt b.txt || fail "sprof-report $view differs between the shared and the plain forms: $(diff a.txt b.txt | head -c 600)"
done

# the leaf's instructions under one recursion: a stack that leaves its
# base at a new address writes it from the base's frame there
SPROF_FREQ=2000 profile d.bin "$BIN/deep" 300 50 >/dev/null 2>err.txt
expect_stderr_clean err.txt
"$DUMP" d.bin -s >d-summary.txt || fail "sprof-dump cannot read d.bin"
sib=$(sed -n 's/^encodings .* siblings=\([0-9]*\)$/\1/p' d-summary.txt)
log "deep: ${sib:-no} addresses written from a base's frame: $(grep '^PROCESS' d-summary.txt)"
[ "${sib:-0}" -ge 1 ] || fail "no address of deep's profile is written from a base's frame"
for f in p d; do
    "$DUMP" $f.bin --flags 15 $f.15.bin || fail "sprof-dump --flags 15 failed on $f.bin"
    grep -q '^header version=1 flags=15 ' <("$DUMP" $f.15.bin -s) || fail "$f.15.bin: not flags 15"
    "$DUMP" $f.bin | tail -n +2 | grep -v "^shared stacks=\|^encodings " >$f.a.dump
    "$DUMP" $f.15.bin | tail -n +2 | grep -v "^shared stacks=\|^encodings " >$f.b.dump
    cmp -s $f.a.dump $f.b.dump || fail "$f.bin and its flags-15 form differ once decoded: $(diff $f.a.dump $f.b.dump | head -c 600)"
    report folded $f.bin >$f.a.txt
    report folded $f.15.bin >$f.b.txt
    cmp -s $f.a.txt $f.b.txt || fail "sprof-report folded differs between $f.bin and its flags-15 form"
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
# and every call in them one the program makes: the run's 5,000 stacks of
# 35-40 frames go round the thread's ring (16,384 words) a dozen times, and
# the stack that crosses its end each time is read in two parts
# (preload/writer.c, drain): a part out of place or out of order makes a
# call the program never makes (checked: with the parts swapped, leaf_work
# called _start)
awk '{ k = split($1, f, ";")
       for (i = 1; i < k; i++) {
           a = f[i]; b = f[i + 1]; ok = 1
           if (a == "leaf_work" || b == "_start") ok = 0
           if (b == "eval" && a != "run" && a !~ /^op_(add|mul|pick)$/) ok = 0
           if ((b ~ /^op_(add|mul|pick)$/ || b == "leaf_work") && a != "eval") ok = 0
           if (a ~ /^op_(add|mul|pick)$/ && b != "eval") ok = 0
           if ((b == "run" && a != "main") || (b == "main" && a !~ /^__libc_start/)) ok = 0
           if (!ok) print a "->" b, $NF
       } }' folded.txt >bad-calls.txt
[ ! -s bad-calls.txt ] || fail "calls interp never makes, in its folded stacks: $(head -n 5 bad-calls.txt | tr '\n' ' ')"

# a profile that an earlier libsprof wrote (header flags 3: STACK records,
# sample ids as themselves; fuzz/corpus/reader/kept-flags3-target, 79
# samples of target_hot_function in 4 stacks) still reads whole
old=$SRC/fuzz/corpus/reader/kept-flags3-target
"$DUMP" "$old" -s >old-summary.txt || fail "sprof-dump cannot read $old"
grep -q '^header version=1 flags=3 ' old-summary.txt || fail "$old: $(head -n 1 old-summary.txt)"
report info "$old" >old-info.txt 2>/dev/null
grep -q '^samples  *79 in the file' old-info.txt || fail "$old: $(grep '^samples' old-info.txt)"
grep -q '^stacks  *4 distinct$' old-info.txt || fail "$old: $(grep '^stacks' old-info.txt)"
grep -q ' 0 damaged' old-info.txt || fail "$old: $(grep '^chunks' old-info.txt)"
report folded "$old" >old-folded.txt 2>/dev/null
total=$(awk '{ c += $NF } END { print c + 0 }' old-folded.txt)
[ "$total" -eq 79 ] || fail "the folded stacks of $old hold $total samples, not 79"
