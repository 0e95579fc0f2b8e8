# SPDX-License-Identifier: MIT
# Threads of every kind in one program (tests/progs/threadkinds.c), each
# doing the same CPU work in a function of its own: two started from the
# program's .preinit_array before libsprof.so's constructor ran (the
# program checks: sprof's SIGPROF handler was not there yet), two made by a
# raw clone(2), two by pthread_create. Every one of them is in the profile
# under its own name, with its own function only, and with its share of the
# sampled CPU time within 10% (relative) of its share of the CPU time the
# threads measured themselves (about a sixth each): no kind of thread is
# missed or sampled at another rate. Sampled CPU time rather than sample
# counts, so that a fallback to a tick-limited timer (weighted samples)
# compares the same way. Run with the default timer and with the POSIX one,
# whose timers for threads sprof did not start are armed differently.
# Stalls (threadkinds.c: slices of the work that took a millisecond or more
# longer than the quickest, the host of a virtual machine taking the CPU
# away, which the guest counts as the thread's CPU time but fires no timer
# in) are left out of the measured CPU, and shown with the handler's times.
# A handler that took a millisecond would be left out with them: the
# handler's time is measured by the benchmarks, and case 202 checks that a
# slow walk does not starve the program. (Its p99 is no check here: it is
# wall time, and with seven threads on two CPUs a handler preempted by the
# scheduler took a millisecond for over 1% of the samples once.)
# Every thread works from the moment it starts: sprof registers a thread
# made with libc's clone() as soon as clone returns in its parent.
# timeout: 120

check_run() { # DIR
    local d=$1
    grep -qx 'threadkinds: done' "$d/out.txt" || fail "$d: threadkinds did not finish: $(cat "$d/out.txt")"
    expect_stderr_clean "$d/err.txt"
    grep -qx 'early: SIGPROF handled at preinit 0, in main 1' "$d/out.txt" ||
        fail "$d: the early threads did not start before sprof did: $(grep early: "$d/out.txt")"
    report info "$d/p.bin" >"$d/info.txt"
    grep '^handler' "$d/info.txt" || true
    report flat --by thread "$d/p.bin" >"$d/bythread.txt"
    cat "$d/bythread.txt"
    report json --no-tree "$d/p.bin" >"$d/p.json"
    # shares of the sampled CPU against shares of the measured CPU
    local out rc=0
    out=$("$PY" - "$d/out.txt" "$d/p.json" <<'EOF'
import json, sys
cpu = {}
stall = {}
for line in open(sys.argv[1]):
    t = line.split()
    if len(t) == 5 and t[0] == "cpu":
        # the early threads' CPU before main (before sprof could exist) is
        # not sampleable, nor is the time of stalls
        cpu[t[1]] = max(int(t[2]) - int(t[3]) - int(t[4]), 1)
        stall[t[1]] = int(t[4])
if len(cpu) != 6:
    print("check: threadkinds printed %d cpu lines, want 6" % len(cpu))
    sys.exit(1)
meta = json.load(open(sys.argv[2]))["metadata"]
got = {}
for th in meta["threads"]:
    if th["name"] in cpu:
        got.setdefault(th["name"], []).append(th)
bad = []
for name in sorted(cpu):
    if len(got.get(name, [])) != 1:
        bad.append("%s: %d threads of that name in the profile, want 1" % (name, len(got.get(name, []))))
if bad:
    print("check: " + "; ".join(bad))
    sys.exit(1)
sampled = {n: got[n][0]["cpu_ns"] for n in cpu}
ws, wc = sum(sampled.values()), sum(cpu.values())
mean = wc / len(cpu)
for n in sorted(cpu):
    share, want = sampled[n] / ws, cpu[n] / wc
    ratio = share / want
    print("%-11s samples %5d  sampled %7.1f ms  measured %7.1f ms (%+.0f%% of the mean, stalls %.1f ms left out)  share %5.2f%%  want %5.2f%%  ratio %.3f" %
          (n, got[n][0]["samples"], sampled[n] / 1e6, cpu[n] / 1e6, 100 * (cpu[n] / mean - 1),
           stall[n] / 1e6, 100 * share, 100 * want, ratio))
    if abs(ratio - 1) > 0.10:
        bad.append("%s has %.2f%% of the sampled CPU, want %.2f%% +-10%% (relative)" % (n, 100 * share, 100 * want))
    # and the rate itself: the sampled CPU is the thread's CPU
    if not 0.85 <= sampled[n] / cpu[n] <= 1.15:
        bad.append("%s: %.1f ms sampled for %.1f ms of CPU" % (n, sampled[n] / 1e6, cpu[n] / 1e6))
if bad:
    print("check: " + "; ".join(bad))
    sys.exit(1)
EOF
) || rc=$?
    printf '%s\n' "$out"
    [ "$rc" -eq 0 ] || fail "$d: $(printf '%s\n' "$out" | grep -m1 '^check: ' | sed 's/^check: //')"

    # each thread's samples are in its own function, none in another's
    # (or in its own timing of its slices, a clock_gettime system call
    # every 0.2 ms, where a POSIX timer's signal, delivered at a return
    # to user mode, lands more often than its share of the time on a busy
    # host: 5 of 93 samples once in CI)
    local name fn n all other
    for name in tk-early-1 tk-early-2 tk-clone-1 tk-clone-2 tk-pthr-1 tk-pthr-2; do
        fn=work_${name#tk-}
        fn=${fn//-/_}
        flat_rows "$d/$name" --tid "$name" "$d/p.bin"
        n=$(($(self_of "$d/$name" "$fn") + $(total_of "$d/$name" thread_cpu_ns)))
        all=$(sum_self "$d/$name")
        other=$(awk -F'\t' -v f="$fn" '$3 ~ /^work_/ && $3 != f { s += $2 } END { print s + 0 }' "$d/$name")
        log "$d: $name: $n of its $all samples in $fn, $other in other work functions"
        [ "$other" -eq 0 ] || fail "$d: thread $name has $other samples in another thread's work function"
        [ "$all" -gt 0 ] && [ $((n * 100 / all)) -ge 95 ] ||
            fail "$d: thread $name has $n of its $all samples in $fn, want 95% or more"
    done
}

for timer in auto posix; do
    mkdir "$timer"
    SPROF_TIMER=$timer profile "$timer/p.bin" "$BIN/threadkinds" 350 nogate >"$timer/out.txt" 2>"$timer/err.txt"
    check_run "$timer"
done
