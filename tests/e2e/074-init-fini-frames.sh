# SPDX-License-Identifier: MIT
# Samples under a program's _init walk up to the C library's start code
# with the unwind tables (tests/progs/initwork.c: _init, crti.o's DT_INIT
# function, calls the program's __gmon_start__, which burns CPU). crti.o's
# _init and _fini have no call frame information; the walker knows them by
# their code ([endbr64;] sub $8, %rsp ... add $8, %rsp; ret) at the
# addresses the dynamic section gives (preload/unwind.c, crt_rule). Before,
# every such sample went to libunwind, which stopped at _init, and a
# process's samples in _fini (the exec workload's /bin/true: its .fini page
# is first touched at the exit) kept one frame.
# At the exit, initwork burns CPU under crtbegin's __do_global_dtors_aux
# (through __cxa_finalize, which runs the object's __cxa_atexit functions): the
# walker knows crtbegin's functions by their code too (preload/crtcode.c),
# from the first entries of DT_INIT_ARRAY and DT_FINI_ARRAY. Before, every
# such sample went to libunwind, which stopped there.

INITWORK_MS=300 profile p.bin "$BIN/initwork" >out.txt 2>err.txt ||
    fail "initwork failed: $(cat out.txt err.txt)"
cat out.txt
grep -qx 'initwork: __gmon_start__ called 1 times' out.txt ||
    skip "this toolchain's _init does not call __gmon_start__: $(cat out.txt)"
expect_stderr_clean err.txt
expect_few_fallbacks p.bin
report folded p.bin >folded.txt
# (_init has no symbol with a size: the report names it by its address)
for fn in initwork_burn initwork_main_burn initwork_fini_burn; do
    awk -v fn="$fn" '{ n = split($1, f, ";"); if (f[n] != fn) next; total += $NF
           if (f[1] == "_start" && n >= 4) ok += $NF }
         END { printf "%s: %d of %d samples reach _start\n", fn, ok, total
               exit !(total >= 100 && ok * 100 >= total * 99) }' folded.txt ||
        fail "samples in $fn do not reach _start: $(grep "$fn " folded.txt | sort -k2 -n | tail -3)"
done
grep -Eq ';__cxa_finalize;initwork_fini_burn [0-9]+$' folded.txt ||
    fail "no sample of initwork_fini_burn under __cxa_finalize:" \
        "$(grep 'initwork_fini_burn ' folded.txt | head -3)"

# crtbegin's other functions, as leaves: crtwork calls deregister_tm_clones,
# register_tm_clones and frame_dummy in a loop (each returns at once). The
# first two are found from what __do_global_dtors_aux and frame_dummy call
# and jump to, when a lookup falls just before them (preload/unwind.c,
# crt_rule). Their addresses are local symbols, read here with nm.
declare -A at=()
while read -r addr kind name; do
    case "$kind:$name" in
    [tT]:main | [tT]:deregister_tm_clones | [tT]:register_tm_clones | [tT]:frame_dummy)
        at[$name]=$((16#$addr)) ;;
    esac
done < <(nm "$BIN/crtwork")
[ "${#at[@]}" -eq 4 ] || skip "crtwork has no crtbegin symbols (this toolchain's crtbegin differs)"
off() { printf '%x' $((at[$1] - at[main])); } # (a negative one in two's complement)
profile c.bin "$BIN/crtwork" 300 "$(off deregister_tm_clones)" "$(off register_tm_clones)" \
    "$(off frame_dummy)" >cout.txt 2>cerr.txt ||
    fail "crtwork failed: $(cat cout.txt cerr.txt)"
cat cout.txt
expect_stderr_clean cerr.txt
expect_few_fallbacks c.bin
report folded c.bin >cfolded.txt
for fn in deregister_tm_clones register_tm_clones frame_dummy; do
    awk -v fn="$fn" '{ n = split($1, f, ";"); if (f[n] != fn) next; total += $NF
           if ($1 ~ /;main;crtwork_loop;[^;]*$/ && f[1] == "_start") ok += $NF }
         END { printf "%s: %d of %d samples reach _start\n", fn, ok, total
               exit !(total >= 10 && ok == total) }' cfolded.txt ||
        fail "samples in $fn do not reach _start: $(grep "$fn " cfolded.txt | sort -k2 -n | tail -3)"
done
