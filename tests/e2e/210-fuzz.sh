# SPDX-License-Identifier: MIT
# The reader trusts nothing (ARCHITECTURE invariant 4, issue 5 item 12): the
# libFuzzer targets of fuzz/ (fuzz-reader: any bytes as a profile file;
# fuzz-records: any bytes as the records of a valid chunk) run for 20
# seconds each, side by side, on a copy of fuzz/corpus, built with clang,
# AddressSanitizer and UndefinedBehaviorSanitizer by `make fuzz-build`.
# Any crash, sanitizer report, leak, broken model invariant (fuzz/model.c),
# input slower than 10 s or allocation over 2 GiB fails the case; the input
# that did it is kept as crash-* in the case directory. `make fuzz` runs
# them longer (FUZZ_SECONDS). Skipped only when clang or its libFuzzer
# runtime is missing (scripts/install-deps.sh --tests installs both).
# timeout: 300

FUZZ_CC=${FUZZ_CC:-clang}
need_test_tool "clang (for the libFuzzer targets)" "$FUZZ_CC"
cat >probe.c <<'PROG'
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return n > 0 && d[0] == 1; }
PROG
if ! "$FUZZ_CC" -fsanitize=fuzzer,address,undefined probe.c -o probe 2>probe.err; then
    cat probe.err
    if [ "${SPROF_TEST_REQUIRE_TOOLS:-}" = 1 ]; then
        fail "clang cannot link libFuzzer programs (scripts/install-deps.sh --tests installs its runtime)"
    fi
    skip "clang's libFuzzer runtime is missing (scripts/install-deps.sh --tests installs it)"
fi

# the targets, built (or brought up to date) by the Makefile, with BUILD
# spelled as `make check` spells it: the dependency files name their
# targets that way
build=${BUILD#"$SRC"/}
start=$(date +%s)
if ! make -C "$SRC" --no-print-directory -j"$(nproc 2>/dev/null || echo 2)" BUILD="$build" \
    FUZZ_CC="$FUZZ_CC" fuzz-build >build.log 2>&1; then
    cat build.log
    fail "make fuzz-build failed: $(grep -m1 -E 'error|Error' build.log)"
fi
log "make fuzz-build: $(($(date +%s) - start)) s"

pids=()
for t in reader records; do
    mkdir "corpus-$t"
    cp "$SRC/fuzz/corpus/$t/"* "corpus-$t/"
    "$BUILD/fuzz/fuzz-$t" -max_total_time=20 -timeout=10 -rss_limit_mb=2048 \
        -dict="$SRC/fuzz/sprof.dict" -artifact_prefix="$CASE_DIR/crash-$t-" \
        "corpus-$t" >"fuzz-$t.log" 2>&1 &
    pids+=($!)
done
i=0
for t in reader records; do
    rc=0
    wait "${pids[$i]}" || rc=$?
    i=$((i + 1))
    done_line=$(grep -a -m1 '^Done [0-9]* runs' "fuzz-$t.log" || true)
    if [ "$rc" -ne 0 ] || [ -z "$done_line" ]; then
        grep -a -v -E '^#[0-9]+' "fuzz-$t.log" | tail -n 40
        why=$(grep -a -m1 -E 'ERROR:|runtime error:|invariant|SUMMARY:' "fuzz-$t.log" || true)
        fail "fuzz-$t: exit status $rc: ${why:-no 'Done' line} (input kept as $(ls crash-"$t"-* 2>/dev/null | head -n 1))"
    fi
    log "fuzz-$t: $done_line; $(grep -a -E '^#[0-9]+' "fuzz-$t.log" | tail -n 1)"
done
