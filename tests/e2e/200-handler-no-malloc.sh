# SPDX-License-Identifier: MIT
# The signal handler never allocates and never locks (ARCHITECTURE.md,
# invariant 1): tests/progs/handler-guard.c, preloaded before libsprof.so,
# counts calls of malloc, calloc, realloc, free, pthread_mutex_lock and
# pthread_mutex_trylock made while a SIGPROF handler runs. Five threads at
# 4 kHz, with both unwinders, take thousands of samples and none may reach
# them. The guard is also shown to catch a handler that does allocate.

case ",$SAN," in
*,address,*) skip "AddressSanitizer intercepts malloc itself" ;;
esac

# the guard catches an allocating SIGPROF handler (no sprof involved)
cat >alloc.c <<'PROG'
#include <signal.h>
#include <stdlib.h>
static void h(int s) { free(malloc(16)); }
int main(void) { signal(SIGPROF, h); raise(SIGPROF); return 0; }
PROG
$CC -O0 alloc.c -o alloc
LD_PRELOAD="$BIN/handler-guard.so" ./alloc 2>guard.txt
grep -q 'handler-guard: [1-9][0-9]* calls' guard.txt ||
    fail "the guard did not see malloc in a SIGPROF handler: $(cat guard.txt)"

for unwind in dwarf fp; do
    env LD_PRELOAD="$BIN/handler-guard.so $PRELOAD" SPROF_OUTPUT=p-$unwind.bin \
        SPROF_FREQ=4000 SPROF_UNWIND=$unwind "$BIN/threads" 300 >out.txt 2>err-$unwind.txt
    cat err-$unwind.txt
    # one line per process image: all must say 0
    grep -q 'handler-guard: 0 calls' err-$unwind.txt || fail "no guard report ($unwind)"
    if grep 'handler-guard:' err-$unwind.txt | grep -qv ': 0 calls'; then
        fail "the handler reached malloc or a lock with SPROF_UNWIND=$unwind: $(grep -v ': 0 calls' err-$unwind.txt)"
    fi
    flat_rows rows-$unwind p-$unwind.bin
    n=$(sum_self rows-$unwind)
    log "$unwind: $n samples"
    [ "$n" -ge 1000 ] || fail "only $n samples at 4 kHz with SPROF_UNWIND=$unwind"
done
