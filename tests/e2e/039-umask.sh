# SPDX-License-Identifier: MIT
# Profiles are created with mode 0666 less the user's umask, the top
# process's file and a descendant's alike (062 checks umask 077 for the top
# file only).

for mask in 000 002 022 027 077; do
    mkdir "m$mask"
    (cd "m$mask" && umask "$mask" && profile p.bin "$BIN/fork" 100 >out.txt 2>err.txt)
    expect_stderr_clean "m$mask/err.txt"
    want=$(printf '%o' $((0666 & ~0$mask)))
    child=$(sed -n 's/^child \([0-9]*\)$/\1/p' "m$mask/out.txt")
    [ -n "$child" ] || fail "fork printed no child pid"
    for f in "m$mask/p.bin" "m$mask/p.bin.$child"; do
        [ -e "$f" ] || fail "umask $mask: no $f (files: $(ls "m$mask"))"
        mode=$(stat -c %a "$f")
        log "umask $mask: $f has mode $mode"
        [ "$mode" = "$want" ] || fail "with umask $mask, $f has mode $mode, want $want"
    done
done
