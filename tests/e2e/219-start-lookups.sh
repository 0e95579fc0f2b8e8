# SPDX-License-Identifier: MIT
# libsprof.so is bound at its load (-z now): every libc function it calls is
# a name the loader looks up through the program's, libsprof's and libc's
# symbol tables at every process's start, profiled or not (0.17 us a name on
# the KVM host of BENCHMARKS.md, session 46). What it asks of the kernel it
# asks by the `syscall` instruction (preload/sys.h): LD_DEBUG=bindings of a
# start shows libsprof.so bound to libc's functions, and to none of libc's
# wrappers of system calls (but ioctl, kept for case 042's stand-in for an
# older kernel), nor to its signal-set functions, its directory reading,
# sscanf or getcwd (a build calling read(2) through libc binds `read' here).

# the wrappers libsprof.so called through libc before preload/sys.h
wrappers="close read pread pread64 lseek lseek64 open open64 openat openat64 fstat fstat64 fstatat
fstatat64 lstat lstat64 futimens fcntl fcntl64 getpid getppid mmap mmap64 munmap madvise mkdir
unlink unlinkat rename access readlink nanosleep prctl getrlimit getrlimit64 sched_getaffinity
sched_setaffinity syscall timer_create timer_settime timer_delete sigemptyset sigfillset sigaddset
sigdelset sigismember fdopendir opendir readdir readdir64 closedir dirfd getcwd __isoc99_sscanf atoi
strtol"

LD_DEBUG=bindings profile p.bin /bin/true 2>err.txt || fail "/bin/true exited with $?"
grep -E "binding file [^ ]*libsprof\.so \[0\] to " err.txt |
    sed "s/.*symbol .\([^']*\)'.*/\1/" | sort -u >bound.txt
log "libsprof.so bound $(wc -l <bound.txt) names at a start: $(tr '\n' ' ' <bound.txt)"
# the loader's lines are there to be read: libsprof.so's calls to malloc
grep -qx malloc bound.txt || fail "LD_DEBUG shows no binding of libsprof.so's malloc: $(head -c 600 err.txt)"
bad=""
for f in $wrappers; do
    if grep -qx "$f" bound.txt; then bad="$bad $f"; fi
done
[ -z "$bad" ] || fail "libsprof.so binds libc's$bad at every start"
