# SPDX-License-Identifier: MIT
# A library dlopen'ed at run time (tests/progs/libhot.c): its function is
# named, in its own module, whether the library stays loaded to the end
# ("keep") or is dlclose'd well before the process ends ("close").

for mode in keep close; do
    mkdir "$mode"
    profile "$mode/p.bin" "$BIN/dlmain" "$BIN/libhot.so" "$mode" 500 >"$mode/out.txt" 2>"$mode/err.txt"
    grep -qx 'dlmain: done' "$mode/out.txt" || fail "$mode: dlmain did not finish"
    expect_stderr_clean "$mode/err.txt"
    flat_rows "$mode/rows" "$mode/p.bin"
    head -n 6 "$mode/rows.txt"
    total=$(sum_self "$mode/rows")
    n=$(self_of "$mode/rows" hot_in_library)
    [ "$(percent "$n" "$total")" -ge 50 ] ||
        fail "$mode: hot_in_library has $n of $total samples, want most; top: $(sort -t"$(printf '\t')" -k1,1nr "$mode/rows" | head -3 | tr '\t\n' ' |')"
    m=$(module_of "$mode/rows" hot_in_library)
    [ "$m" = libhot.so ] || fail "$mode: hot_in_library is in module '$m', want libhot.so"
    expect_in_flat "$mode/rows" main_after_library
    # by module, the library is a module of its own
    report flat --by module "$mode/p.bin" >"$mode/bymod.txt"
    grep -q 'libhot\.so' "$mode/bymod.txt" || fail "$mode: flat --by module has no libhot.so"
done
