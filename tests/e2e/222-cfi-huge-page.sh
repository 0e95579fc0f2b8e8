# SPDX-License-Identifier: MIT
# A big unwind table in the cache is padded with zeros to a whole 2 MiB
# huge page (preload/cfi.c, cache_file_size: where that adds at most half
# of one), written in one call, so that a file system with large folios
# keeps it as one folio, mapped whole by one fault; the loader takes the
# file padded or not, and no other size; under a file size limit that
# the padding would pass, the file is kept without it.
# tests/progs/bigtable.c: 20,000 functions of assembly with a row at each
# of their 17 instructions (about 1.4 MB of table), called in turn under
# work under main: every sample in them must be walked by the table mapped
# from the cache through work to main, whatever the depth of its pushes.
# A descendant, which starts without its writer thread, maps so big an
# object's table before it walks its first sample there (cfi.c,
# sprof_cfi_early); the top process, whose writer maps it once lookups in
# place ask for it, does not.

prog="$BIN/bigtable"
layout=6
id=$(readelf -n "$prog" | awk '/Build ID:/ { print $3 }')
[ -n "$id" ] || skip "bigtable has no build-id (readelf -n)"
run() { # NAME CACHE: profiles bigtable into NAME.bin; prints tables built and mapped
    SPROF_FREQ=2000 SPROF_CACHE_DIR="$2" profile "$1.bin" "$prog" 400 >"$1.out" 2>"$1.err" ||
        fail "$1: bigtable failed: $(head -c 500 "$1.err")"
    grep -qx 'bigtable: done' "$1.out" || fail "$1: bigtable printed no end line"
    expect_stderr_clean "$1.err"
    report info "$1.bin" >"$1.info"
    awk '$1 == "tables" { print $2, $4 }' "$1.info"
}
walked() { # NAME [MIN]: every sample in a big_* function reaches main through work, MIN at least
    report folded "$1.bin" >"$1.folded"
    local ok bad
    read -r ok bad <<<"$(awk '$1 ~ /(^|;)big_[0-9]+$/ {
        if ($1 ~ /(^|;)main;work;big_[0-9]+$/) ok += $2; else bad += $2 }
        END { print ok + 0, bad + 0 }' "$1.folded")"
    log "$1: $ok samples in big_* through main;work, $bad otherwise"
    [ "$bad" -eq 0 ] || fail "$1: $bad samples in big_* do not reach main through work: $(grep -v ';main;work;big_' "$1.folded" | grep 'big_[0-9]* ' | head -3)"
    # (most of bigtable's time is in them: a 400 ms run at 2 kHz takes about 800)
    [ "$ok" -ge "${2:-200}" ] || fail "$1: only $ok samples in big_* reach main"
    local fb
    fb=$(awk '$1 == "fallbacks" { print $2 }' "$1.info")
    [ "${fb:-1}" -le 1 ] || fail "$1: $fb samples were walked by libunwind"
}

# the first run counts its lookups in place; paid for, the second builds
# the table and keeps it, padded
cache=$PWD/cache
run first "$cache" >/dev/null
[ -e "$cache/$id.$layout.want" ] || fail "no lookups counted for bigtable: $(ls "$cache")"
echo 1000000000 >"$cache/$id.$layout.want"
read -r built mapped <<<"$(run build "$cache")"
[ "${built:-0}" -ge 1 ] || fail "bigtable's table was not built: $(grep '^tables' build.info)"
file=$cache/$id.$layout.cfi
[ -e "$file" ] || fail "bigtable's table was not kept as $file: $(ls "$cache")"
size=$(stat -c %s "$file")
# the table's own size from the file's header (nrows, ngran, nrules at 80):
# a 128-byte header, the table's 20, 4 bytes a row, a granule, a rule
read -r nrows ngran nrules <<<"$(od -An -tu4 -j80 -N12 "$file")"
table=$((128 + 20 + 4 * nrows + 4 * (ngran + 1 + nrules)))
log "bigtable's table: $nrows rows, $ngran granules, $nrules rules, $table bytes; file $size bytes"
[ "$table" -gt $((1 << 20)) ] || fail "bigtable's table is $table bytes, want over 1 MiB to be padded"
[ $((size % (2 << 20))) -eq 0 ] && [ "$size" -gt "$table" ] ||
    fail "$file is $size bytes, not padded to a multiple of 2 MiB past its $table"
[ "$(tail -c $((size - table)) "$file" | tr -d '\0' | wc -c)" -eq 0 ] ||
    fail "the padding of $file is not all zeros"

# mapped from the cache, padded: every sample walked to main
read -r built mapped <<<"$(run padded "$cache")"
[ "${mapped:-0}" -ge 1 ] || fail "the padded table was not mapped: $(grep '^tables' padded.info)"
walked padded
grep '^bigtable: cache' padded.out || true # what the kernel made of it (huge or small pages)
grep -q 'before a first walk' padded.info &&
    fail "the top process mapped the table before a walk: $(grep '^tables' padded.info)"

# a descendant: the table mapped before its first walk in bigtable (at 100
# Hz, its first samples are in main's work, past its start). Not under a
# sanitizer, where every process has its writer thread from its start.
if [ -z "$SAN" ]; then
    SPROF_FREQ=100 SPROF_CACHE_DIR="$cache" profile early.bin sh -c "true; \"$prog\" 300" \
        >early.out 2>early.err || fail "early: bigtable failed: $(head -c 500 early.err)"
    grep -qx 'bigtable: done' early.out || fail "early: bigtable printed no end line"
    expect_stderr_clean early.err
    mine=
    for f in $(files_of "early.bin*"); do
        report info "$f" >early.info
        grep -q '^executable .*/bigtable$' early.info && mine=$f && break
    done
    [ -n "$mine" ] || fail "no file of the descendant bigtable among $(files_of "early.bin*")"
    grep '^tables' early.info
    grep -q '^tables .* mapped from the cache (1 before a first walk)' early.info ||
        fail "the descendant did not map bigtable's table before a walk: $(grep '^tables' early.info)"
    cp "$mine" desc.bin
    cp early.info desc.info
    walked desc 10
fi

# the same table not padded (as an older kernel's page cache gives no
# advantage to): taken too
one=$PWD/one
mkdir -m 700 "$one"
head -c "$table" "$file" >"$one/$id.$layout.cfi"
read -r built mapped <<<"$(run unpadded "$one")"
[ "${mapped:-0}" -ge 1 ] || fail "the unpadded table was not mapped: $(grep '^tables' unpadded.info)"
walked unpadded

# any other size (padded by a page less): not the cache's, not mapped
other=$PWD/other
mkdir -m 700 "$other"
head -c $((size - 4096)) "$file" >"$other/$id.$layout.cfi"
read -r built mapped <<<"$(run other "$other")"
[ "${mapped:-1}" -eq 0 ] || fail "a table file of $((size - 4096)) bytes was mapped: $(grep '^tables' other.info)"

# a file size limit (RLIMIT_FSIZE) between the table's size and its padded
# size: kept without its padding, not over the limit (SIGXFSZ) nor dropped
limited=$PWD/limited
mkdir -m 700 "$limited"
run limited-first "$limited" >/dev/null
echo 1000000000 >"$limited/$id.$layout.want"
rc=0
(ulimit -f $(((table + 4096) / 1024)) && run limited-build "$limited" >/dev/null) || rc=$?
[ "$rc" -eq 0 ] || fail "bigtable under a file size limit exited with $rc (SIGXFSZ is 153)"
lsize=$(stat -c %s "$limited/$id.$layout.cfi" 2>/dev/null || echo none)
[ "$lsize" = "$table" ] ||
    fail "under a limit of $(((table + 4096) / 1024)) KiB the table was kept with $lsize bytes, want $table"
read -r built mapped <<<"$(run limited "$limited")"
[ "${mapped:-0}" -ge 1 ] || fail "the table kept under a limit was not mapped: $(grep '^tables' limited.info)"
