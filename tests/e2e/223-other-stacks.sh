# SPDX-License-Identifier: MIT
# Code on a stack that is not its thread's (tests/progs/coro.c): coroutines
# of makecontext on stacks in the heap and in a mapping of their own, a
# signal handler on an alternate signal stack, the same coroutines in a
# child of fork and after the program closed sprof's descriptors. Each
# sample there is walked by the unwind tables within the mapping that holds
# sp, which the kernel names (preload/maps.c, sprof_stack_region: the
# PROCMAP_QUERY ioctl of Linux 6.11), to the outermost frame: glibc's
# __start_context for a coroutine (preload/unwind.c, context_start), main
# through the signal frame for the handler. Before, libunwind walked every
# such sample (20 us a sample of 33 frames, against about 2).

# the kernel answers PROCMAP_QUERY from 6.11 on; before, libunwind walks
# these samples, as complete
query=1
read -r major minor <<<"$(uname -r | awk -F. '{ print $1 + 0, $2 + 0 }')"
if [ "$major" -lt 6 ] || { [ "$major" -eq 6 ] && [ "$minor" -lt 11 ]; }; then
    query=0
    log "Linux $(uname -r) has no PROCMAP_QUERY: libunwind walks these samples"
fi

# rooted FOLDED LEAF PREFIX: at least 95% of the samples whose leaf is LEAF
# have a stack that starts with PREFIX (a walk cut short by its time
# budget on a loaded host may miss its root)
rooted() {
    local ok all
    read -r ok all <<<"$(awk -v leaf="$2" -v pre="$3" '{
        n = split($1, f, ";"); if (f[n] != leaf) next
        all += $2; if (index($1, pre) == 1) ok += $2 }
        END { print ok + 0, all + 0 }' "$1")"
    log "$2: $ok of $all samples start with $3"
    [ "$all" -ge 100 ] || fail "only $all samples in $2 ($1): $(sort -k2 -nr "$1" | head -3)"
    [ $((ok * 100)) -ge $((all * 95)) ] ||
        fail "$((all - ok)) of $all samples in $2 do not start with $3: $(grep "$2 " "$1" | grep -v "^$3" | sort -k2 -nr | head -3 | cut -c1-300)"
}

# expect_stderr_clean, but for ASan's warning that it does not fully
# support swapcontext (a sanitizer build preloads its runtime)
stderr_clean() {
    grep -v "doesn't fully support makecontext/swapcontext" "$1" >"$1.sprof" || true
    expect_stderr_clean "$1.sprof"
}

few_fallbacks() {
    if [ "$query" = 1 ]; then
        expect_few_fallbacks "$1"
    else
        report info "$1" | grep -E '^(samples|handler|fallbacks)'
    fi
}

deep="__start_context;coro_body$(printf ';coro_rec%.0s' $(seq 31));coro_leaf"

SPROF_FREQ=10000 profile c.bin "$BIN/coro" coro 600 30 >out.txt 2>err.txt ||
    fail "coro failed: $(cat out.txt err.txt)"
grep -qx 'coro: coro done' out.txt || fail "coro printed no end line"
stderr_clean err.txt
report folded c.bin >c.folded
rooted c.folded coro_leaf "$deep"
rooted c.folded main_leaf "_start;"
few_fallbacks c.bin

SPROF_FREQ=10000 profile a.bin "$BIN/coro" altstack 400 >out.txt 2>err.txt ||
    fail "coro altstack failed: $(cat out.txt err.txt)"
stderr_clean err.txt
report folded a.bin >a.folded
# main, raise, the signal frame, then the handler's frames on the other stack
rooted a.folded alt_leaf "_start;"
grep -q ';main;outer_call;.*;__restore_rt;alt_rec;' a.folded ||
    fail "no stack of alt_leaf goes through main, outer_call and the signal frame: $(head -3 a.folded)"
few_fallbacks a.bin

# a child of fork asks its own maps, not its parent's descriptor
SPROF_FREQ=10000 profile f.bin "$BIN/coro" fork 600 30 >out.txt 2>err.txt ||
    fail "coro fork failed: $(cat out.txt err.txt)"
stderr_clean err.txt
child=$(files_of 'f.bin.*' | head -n 1)
[ -n "$child" ] || fail "no profile of the child of fork: $(ls)"
report folded "$child" >f.folded
rooted f.folded coro_leaf "$deep"
few_fallbacks "$child"

# the program closes every descriptor above 2 (sprof's included) and opens
# its own file on those numbers: sprof opens its own again, and leaves the
# program's alone
SPROF_FREQ=10000 profile d.bin "$BIN/coro" closefds 600 30 >out.txt 2>err.txt ||
    fail "coro closefds failed: $(cat out.txt err.txt)"
stderr_clean err.txt
[ "$(cat mine.txt)" = ok ] || fail "mine.txt holds '$(head -c 200 mine.txt)', not the program's ok"
report folded d.bin >d.folded
rooted d.folded coro_leaf "$deep"
few_fallbacks d.bin
