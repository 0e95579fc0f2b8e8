# SPDX-License-Identifier: MIT
# Bad environment values: one "sprof:" line on stderr naming the variable
# and the value, the default is used, the program runs unchanged and a
# profile is written. Good values at the limits are accepted silently.

export TARGET_MS=100
printf 'target: x\nthe quick brown fox jumps over the lazy dog\n' >expected.txt
i=0
for kv in SPROF_FREQ=abc SPROF_FREQ=0 SPROF_FREQ=-5 SPROF_FREQ=20001 SPROF_FREQ=99999999999999999999 \
    SPROF_DEPTH=0 SPROF_DEPTH=4097 SPROF_DEPTH=12x SPROF_TIMER=bogus SPROF_UNWIND=bogus \
    SPROF_SIGNAL=bogus SPROF_SIGNAL=SIGKILL SPROF_FOLLOW=2 SPROF_QUIET=maybe; do
    i=$((i + 1))
    var=${kv%%=*} val=${kv#*=}
    d=bad$i
    mkdir "$d"
    rc=0
    (cd "$d" && env "$kv" LD_PRELOAD="$PRELOAD" SPROF_OUTPUT=p.bin $HOST_ENV "$BIN/target" x >out.txt 2>err.txt) || rc=$?
    [ "$rc" -eq 0 ] || fail "$kv: exit status $rc: $(head -c 300 "$d/err.txt")"
    cmp -s expected.txt "$d/out.txt" || fail "$kv: the program's stdout changed"
    n=$(grep -c . "$d/err.txt" || true)
    [ "$n" -eq 1 ] || fail "$kv: $n lines on stderr, want exactly one: $(head -c 500 "$d/err.txt")"
    line=$(cat "$d/err.txt")
    log "$kv -> $line"
    case $line in
    sprof:*"$var"*) ;;
    *) fail "$kv: the stderr line does not start with 'sprof:' and name $var: $line" ;;
    esac
    case $line in
    *"$val"*) ;;
    *) fail "$kv: the stderr line does not quote the bad value '$val': $line" ;;
    esac
    [ -s "$d/p.bin" ] || fail "$kv: no profile written"
    report info "$d/p.bin" >"$d/info.txt"
    flat_rows "$d/rows" "$d/p.bin"
    expect_in_flat "$d/rows" target_hot_function
done
# the default rate was used where the rate was bad
grep -q 999 bad1/info.txt || fail "SPROF_FREQ=abc: info does not show the default rate 999"

# values at the limits are fine and silent
for kv in SPROF_FREQ=1 SPROF_FREQ=20000 SPROF_DEPTH=1 SPROF_DEPTH=4096 SPROF_TIMER=auto \
    SPROF_UNWIND=dwarf SPROF_UNWIND=fp SPROF_SIGNAL=SIGPROF SPROF_SIGNAL=27 SPROF_FOLLOW=0 \
    SPROF_QUIET=1 SPROF_QUIET=0; do
    i=$((i + 1))
    d=good$i
    mkdir "$d"
    rc=0
    (cd "$d" && env "$kv" LD_PRELOAD="$PRELOAD" SPROF_OUTPUT=p.bin $HOST_ENV "$BIN/target" x >out.txt 2>err.txt) || rc=$?
    [ "$rc" -eq 0 ] || fail "$kv: exit status $rc"
    cmp -s expected.txt "$d/out.txt" || fail "$kv: the program's stdout changed"
    [ ! -s "$d/err.txt" ] || fail "$kv is valid but sprof said: $(head -c 300 "$d/err.txt")"
    [ -s "$d/p.bin" ] || fail "$kv: no profile written"
    report info "$d/p.bin" >/dev/null
done

# SPROF_DEPTH=1 records one frame per sample; SPROF_DEPTH=3 at most three
# (a marker frame such as "[truncated]" is not counted; --no-inline, as an
# address inside inlined code is one recorded frame but several names)
for depth in 1 3; do
    mkdir depth$depth
    (cd depth$depth && SPROF_DEPTH=$depth profile p.bin "$BIN/split" 300 >/dev/null 2>err.txt)
    report folded --no-inline depth$depth/p.bin >depth$depth/folded.txt
    deep=$(awk -v d="$depth" '{ sub(/ [0-9]+$/, ""); n = split($0, a, ";"); k = 0; for (i = 1; i <= n; i++) if (a[i] !~ /^\[/) k++; if (k > d) c++ } END { print c + 0 }' depth$depth/folded.txt)
    [ "$deep" -eq 0 ] || fail "SPROF_DEPTH=$depth: $deep stacks are deeper than $depth frames: $(head -n 3 depth$depth/folded.txt)"
    [ -s depth$depth/folded.txt ] || fail "SPROF_DEPTH=$depth: no samples"
done
