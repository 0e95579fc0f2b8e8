# SPDX-License-Identifier: MIT
# Samples taken inside the dynamic loader's lazy binding. The trampoline
# (_dl_runtime_resolve_*) keeps its CFA in rbx, which the unwind tables'
# rows do not hold: such samples are walked again in place with rbx followed
# (preload/unwind.c, walk_full), and must reach main with libunwind barely
# used. The workload: a library of 1,500 functions, each calling a sibling
# through the PLT, dlopen'ed RTLD_LAZY, all called once, dlclose'd, again
# and again: most of its time is symbol lookup under the trampoline.
# timeout: 120

"$PY" - <<'GEN'
n = 300
with open("lazylib.c", "w") as f:
    for i in range(n):
        f.write(f"__attribute__((noinline)) int g{i}(int x) {{ return x * {i + 3} + 1; }}\n")
        f.write(f"int f{i}(int x) {{ return g{i}(x) + 1; }}\n")
with open("lazymain.c", "w") as f:
    f.write("#include <stdio.h>\n#include <stdlib.h>\n")
    for i in range(n):
        f.write(f"int f{i}(int x);\n")
    f.write("int main(int argc, char **argv)\n{\n    int rounds = atoi(argv[1]);\n"
            "    long sum = 0;\n    for (int r = 0; r < rounds; r++) {\n")
    for i in range(n):
        f.write(f"        sum += f{i}(r);\n")
    f.write('    }\n    printf("lazymain: %ld\\n", sum);\n    return 0;\n}\n')
GEN
$CC -O2 -g -fPIC -shared -fomit-frame-pointer -Wl,-z,lazy lazylib.c -o liblazy.so
$CC -O2 -g -fomit-frame-pointer -Wl,-z,lazy lazymain.c -o lazymain -L. -llazy -Wl,-rpath,"$PWD"

LD_BIND_NOT=1 SPROF_FREQ=5000 profile p.bin ./lazymain 3000 >out.txt 2>err.txt ||
    fail "lazymain failed: $(head -c 500 err.txt)"
grep -q '^lazymain: ' out.txt || fail "lazymain did not finish"
expect_stderr_clean err.txt
report info p.bin >info.txt
grep -E '^(samples|handler|fallbacks|tables)' info.txt
report folded p.bin >folded.txt
"$PY" - folded.txt <<'CHECK' || fail "$(tail -n 1 check.txt)"
import sys
sys.stdout = open("check.txt", "w")
lazy = whole = 0
for line in open(sys.argv[1]):
    stack, n = line.rsplit(" ", 1)
    frames = stack.split(";")
    if any(f.startswith("_dl_runtime_resolve") for f in frames):
        lazy += int(n)
        whole += int(n) if "main" in frames else 0
print("%d samples under the lazy-binding trampoline, %d of them reach main" % (lazy, whole))
if lazy < 300:
    sys.exit("only %d samples under the lazy-binding trampoline, want 300 or more" % lazy)
if whole * 100 < lazy * 99:
    sys.exit("%d of %d samples under the lazy-binding trampoline reach main, want 99%%" % (whole, lazy))
CHECK
cat check.txt
read -r nfall ntaken <<<"$(awk '$1 == "fallbacks" { print $2, $4; exit }' info.txt)"
[ $((nfall * 100)) -le $((ntaken * 1)) ] || fail "$nfall of $ntaken samples fell back to libunwind"
