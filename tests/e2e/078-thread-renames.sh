# SPDX-License-Identifier: MIT
# Threads renamed after the recorder first saw them (tests/progs/renames.c):
# the main thread by prctl, a worker by itself, a worker by the main
# thread. The writer reads a thread's name when it first announces it, at
# every chunk, and at the thread's end (libsprof(7)): the profile names
# each thread by its last name, with each function under it, whatever the
# drains' pace. At the default rate and at 10 kHz, where the rings' wakes
# drain more often.

for freq in 999 10000; do
    SPROF_FREQ=$freq profile p$freq.bin "$BIN/renames" 150 >out$freq.txt 2>err$freq.txt
    expect_stderr_clean err$freq.txt
    grep -q "renames: done" out$freq.txt || fail "renames did not finish at $freq Hz"
    report info p$freq.bin >info$freq.txt
    for n in main-later a-later b-later; do
        grep -q "$n" info$freq.txt || fail "$freq Hz: thread name $n is not in info"
    done
    for n in a-first b-first; do
        if grep -q "$n" info$freq.txt; then
            fail "$freq Hz: info still names a thread $n"
        fi
    done
    report folded --per-thread p$freq.bin >pt$freq.txt
    for pair in main-later:work_main a-later:work_a b-later:work_b; do
        n=${pair%%:*} f=${pair#*:}
        grep -q "^$n[^;]*;.*;$f [0-9]*$" pt$freq.txt ||
            fail "$freq Hz: folded --per-thread has no stack of $n ending in $f"
    done
    log "$freq Hz: $(grep -c . pt$freq.txt) per-thread stacks, every thread by its last name"
done
