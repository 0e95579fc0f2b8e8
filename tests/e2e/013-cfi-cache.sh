# SPDX-License-Identifier: MIT
# The unwind-table cache: a table built by one process is kept by build-id
# in SPROF_CACHE_DIR and mapped by the next process that loads the same
# object once it samples it (info's "tables" line counts tables built and
# mapped from the cache). A cache file cut short is ignored and written again; one
# whose rows are garbage gives broken stacks at worst, never a crash; the
# cache is trimmed to 256 MiB, least recently used first; SPROF_CACHE_DIR=off
# writes nothing; the default is $XDG_CACHE_HOME/sprof. Lookups in place are
# counted across processes, and a table they have paid for is built.

prog="$BIN/split"
run() { # NAME [ENV...]: profiles split (work_a, work_b; RUN_MS, 400) into NAME.bin
    local name=$1
    shift
    env "$@" LD_PRELOAD="$PRELOAD" SPROF_OUTPUT="$name.bin" $HOST_ENV "$prog" "${RUN_MS:-400}" \
        >/dev/null 2>"$name.err" ||
        fail "$name: split failed: $(head -c 500 "$name.err")"
    report info "$name.bin" >"$name.info"
    # fallbacks, tables built, tables mapped from the cache
    awk '$1 == "fallbacks" { f = $2 } $1 == "tables" { b = $2; c = $4 } END { print f, b, c }' \
        "$name.info"
}
cache=$PWD/cache
layout=6 # in the files' names: <build-id>.6.cfi, <build-id>.6.want

read -r f1 b1 c1 <<<"$(run first SPROF_CACHE_DIR="$cache")"
n=$(find "$cache" -name '*.cfi' | wc -l)
log "first run: $f1 fallbacks, $b1 tables built, $c1 from the cache, $n cache files"
[ "${b1:-0}" -ge 1 ] || fail "the first run built no table: $(grep -E '^(samples|tables)' first.info)"
[ "$n" -ge 1 ] || fail "no table was kept in $cache"
[ "$(stat -c %a "$cache")" = 700 ] || fail "the cache directory is not private: $(stat -c %a "$cache")"

read -r f2 b2 c2 <<<"$(run second SPROF_CACHE_DIR="$cache")"
log "second run: $f2 fallbacks, $b2 tables built, $c2 from the cache"
[ "${c2:-0}" -ge 1 ] || fail "the second run mapped no table from the cache: $(grep '^tables' second.info)"
# at most one sample to libunwind: one taken in the exit handlers, in crtstuff's
# __do_global_dtors_aux (no FDE) under __cxa_finalize, goes there (ASan, CI)
[ "${f2:-9}" -le 1 ] || fail "the second run walked $f2 samples with libunwind, want 0 or 1"
flat_rows rows second.bin
expect_in_flat rows work_a 100
# (30% of a 400 ms run: about 120; half of that leaves room for a slow, noisy run)
expect_in_flat rows work_b 60

# cut short: ignored, built and kept again
for f in "$cache"/*.cfi; do
    head -c 200 "$f" >"$f.cut" && mv "$f.cut" "$f"
done
run cut SPROF_CACHE_DIR="$cache" >/dev/null
expect_stderr_clean cut.err
flat_rows rows cut.bin
expect_in_flat rows work_a 100
for f in "$cache"/*.cfi; do
    [ "$(stat -c %s "$f")" -gt 200 ] || fail "$f was not written again after it was cut short"
done

# the rows and the index overwritten with garbage (the file's header and the
# table's, 128 and 20 bytes, still match)
for f in "$cache"/*.cfi; do
    size=$(stat -c %s "$f")
    { head -c 148 "$f"; head -c $((size - 148)) /dev/urandom; } >"$f.bad" && mv "$f.bad" "$f"
done
read -r fg bg cg <<<"$(run garbage SPROF_CACHE_DIR="$cache")"
[ "${cg:-0}" -ge 1 ] || fail "the damaged tables were not mapped: $(grep '^tables' garbage.info)"
expect_stderr_clean garbage.err
flat_rows rows garbage.bin
expect_in_flat rows work_a 100

# lookups in place counted across processes: split does about a thousand
# a run in libc (the frames under main), fewer than libc's table is worth
# to one process; each run adds its count to <build-id>.$layout.want (in
# place: a file renamed over it would cost ext4 a flush of its data), and
# once the counts have paid for the table the next run builds it at once
# and removes the count
paid=$PWD/paid
run paid1 SPROF_CACHE_DIR="$paid" >/dev/null
ls -l "$paid"
want=$(find "$paid" -name "*.$layout.want" | head -n 1)
[ -n "$want" ] || fail "no lookups in place were counted in the cache: $(ls "$paid")"
count=$(cat "$want")
[ "${count:-0}" -ge 16 ] || fail "$want counts '$count' lookups"
inode=$(stat -c %i "$want")
read -r f b c <<<"$(run paid2 SPROF_CACHE_DIR="$paid")"
[ "$(cat "$want" 2>/dev/null || echo 0)" -gt "$count" ] ||
    fail "the second run did not add its lookups to $want"
[ "$(stat -c %i "$want")" = "$inode" ] || fail "$want was not written in place"
echo 1000000000 >"$want" # paid for, as after many runs
read -r f b c <<<"$(run paid3 SPROF_CACHE_DIR="$paid")"
log "paid for: $b tables built, $c from the cache"
[ "${b:-0}" -ge 1 ] || fail "a table paid for by other processes was not built: $(grep '^tables' paid3.info)"
[ ! -e "$want" ] || fail "$want was kept after its table was built"
[ -e "${want%.want}.cfi" ] || fail "the table paid for was not kept as ${want%.want}.cfi"

# the cache stays under 256 MiB: the least recently used files go first,
# files of the first layout (<build-id>.cfi), of another (<build-id>.2.cfi)
# and of this one alike, and only files named like sprof's (sparse files
# stand for big tables)
trim=$PWD/trim
mkdir -m 700 "$trim"
truncate -s 200M "$trim/aaaa.cfi" "$trim/bbbb.2.cfi" "$trim/notes.txt"
truncate -s 10M "$trim/cccc.x.cfi"
touch -d '3 days ago' "$trim/cccc.x.cfi"
touch -d '2 days ago' "$trim/aaaa.cfi"
touch -d '1 day ago' "$trim/bbbb.2.cfi"
run trim SPROF_CACHE_DIR="$trim" >/dev/null
ls -l "$trim"
[ ! -e "$trim/aaaa.cfi" ] || fail "the least recently used cache file was not removed to make room"
[ -e "$trim/bbbb.2.cfi" ] || fail "a cache file was removed that did not need to be"
[ -e "$trim/notes.txt" ] && [ -e "$trim/cccc.x.cfi" ] ||
    fail "a file that is not sprof's was removed from the cache directory"
[ "$(find "$trim" -name "*.$layout.cfi" -newer "$trim/bbbb.2.cfi" | wc -l)" -ge 1 ] ||
    fail "no table was kept after the trim (as <build-id>.$layout.cfi)"

# off: nothing written; the default goes to $XDG_CACHE_HOME/sprof
run off SPROF_CACHE_DIR=off XDG_CACHE_HOME="$PWD/xdg-off" >/dev/null
[ ! -e xdg-off ] || fail "SPROF_CACHE_DIR=off still wrote $(find xdg-off | head -3)"
run default XDG_CACHE_HOME="$PWD/xdg" >/dev/null
[ -n "$(find xdg/sprof -name '*.cfi' 2>/dev/null)" ] || fail "no cache under \$XDG_CACHE_HOME/sprof by default"
# a relative directory is refused, once, on stderr
run relative SPROF_CACHE_DIR=rel >/dev/null
grep -q '^sprof: SPROF_CACHE_DIR' relative.err || fail "a relative SPROF_CACHE_DIR was not refused on stderr"
[ ! -e rel ] || fail "a relative SPROF_CACHE_DIR was used"

# a cache out of reach (its parent is a file): nothing said, and tables are
# built when this process's own lookups pay for them, as with no cache. An
# object is taken to be cacheable (its table wanted after an eighth of its
# price) until the writer first goes to the cache: split 1200 looks libc up
# in place about 3,000 times, more than an eighth of its price, less than all
touch notadir
read -r f b_off c <<<"$(RUN_MS=1200 run off-long SPROF_CACHE_DIR=off)"
read -r f b_out c <<<"$(RUN_MS=1200 run unreachable SPROF_CACHE_DIR="$PWD/notadir/cache")"
log "1.2 s runs: $b_off tables built with no cache, $b_out with one out of reach"
expect_stderr_clean unreachable.err
[ "${b_out:-9}" = "${b_off:-0}" ] ||
    fail "with the cache out of reach $b_out tables were built, with none $b_off: $(grep '^tables' unreachable.info)"
flat_rows rows unreachable.bin
expect_in_flat rows work_a 300
