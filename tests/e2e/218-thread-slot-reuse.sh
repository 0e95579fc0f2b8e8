# SPDX-License-Identifier: MIT
# Threads one after another (tests/progs/reuse.c), each alone: it ends, the
# writer drains it and frees its slot, and the next thread takes the slot
# again, pages and all (preload/threads.c: hot slots, session 38). Nothing
# of a slot's previous thread may carry over: every thread is in the
# profile under its own name ("round-K"), with its own function only
# (work_even in even rounds, work_odd in odd ones), and with about its own
# 60 ms of CPU in samples; and the recorder's counters, summed over the
# threads, count the samples in the file. Run with the default timer and with POSIX timers
# (whose index in the registry the kernel's signal carries).
# timeout: 120

for timer in default posix; do
    mkdir -p "$timer"
    if [ "$timer" = posix ]; then
        (cd "$timer" && SPROF_TIMER=posix profile p.bin "$BIN/reuse" 6 >out.txt 2>err.txt)
    else
        (cd "$timer" && profile p.bin "$BIN/reuse" 6 >out.txt 2>err.txt)
    fi
    grep -qx 'reuse: done' "$timer/out.txt" || fail "$timer: reuse did not finish: $(cat "$timer/out.txt")"
    expect_stderr_clean "$timer/err.txt"
    report info "$timer/p.bin" >"$timer/info.txt"
    # a slot's counters start again at zero: the recorder counts what it took
    # of this thread only (a slot that kept its last thread's counted 1,530
    # samples taken for 438 in the file)
    infile=$(awk '$1 == "samples" { print $2; exit }' "$timer/info.txt")
    taken=$(awk '$1 == "samples" { for (i = 1; i < NF; i++) if ($(i + 1) == "taken,") print $i; exit }' "$timer/info.txt")
    log "$timer: $infile samples in the file, $taken taken"
    [ -n "$infile" ] && [ "$infile" = "$taken" ] ||
        fail "$timer: $infile samples in the file but the recorder counted $taken taken"
    for k in 0 1 2 3 4 5; do
        if [ $((k % 2)) -eq 0 ]; then own=work_even other=work_odd; else own=work_odd other=work_even; fi
        flat_rows "$timer/rows-$k" --tid "round-$k" "$timer/p.bin"
        n=$(self_of "$timer/rows-$k" "$own")
        total=$(sum_self "$timer/rows-$k")
        log "$timer: round-$k: $n of $total samples in $own"
        # 60 ms at 999 Hz: 60 samples, a third of them at the least (a
        # thread's first period is a random part of one, and a VM's host
        # takes the CPU away now and then); POSIX timers fire at the
        # kernel's ticks (250 Hz here: 15, each weighing its CPU time)
        min=20
        [ "$timer" = posix ] && min=5
        [ "$n" -ge "$min" ] || fail "$timer: round-$k has $n samples in $own, want at least $min"
        expect_not_in_flat "$timer/rows-$k" "$other"
        [ "$(percent "$n" "$total")" -ge 90 ] ||
            fail "$timer: round-$k has $n of its $total samples in $own"
    done
done
