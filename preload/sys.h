/* SPDX-License-Identifier: MIT */
/*
 * System calls and signal sets without libc's functions.
 *
 * libsprof.so is bound at its load (-z now, Makefile): every libc function
 * it calls is a name the loader looks up through the program's, libsprof's
 * and libc's symbol tables at the start of every process sprof is loaded
 * into, profiled or not. On the KVM host of BENCHMARKS.md a library with
 * libsprof.so's 92 imports and nothing else started /bin/true 15-21 us
 * slower than an empty one, one with 46 of them 8 us slower: 0.17 us a
 * name. What libsprof.so asks of the kernel directly, a file's bytes, a
 * mapping, a process id, it asks here with the `syscall` instruction, no
 * name to look up: 54 imports, not 96, and a start 6-9 us less CPU
 * (session 46). Each function has the arguments of libc's and returns what
 * it returns, -1 with errno set on failure; none is a cancellation point,
 * and none keeps state of its own, so each may be called from the handler
 * where the system call may. x86-64 only, as the unwinder is.
 *
 * What stays a libc function: what keeps state in libc (malloc, the dl*
 * functions, pthread_*), what is faster there (clock_gettime and
 * sched_getcpu by the vDSO, memcpy, memset, qsort), what formats
 * (snprintf), write (common/log.c, shared with the analyzer, calls it
 * anyway), and the ioctl of maps.c's query (case 042 takes it from sprof as
 * an older kernel would, by interposing libc's).
 */
#ifndef SPROF_SYS_H
#define SPROF_SYS_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sched.h>
#include <stddef.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#if !defined(__x86_64__)
#error "preload/sys.h: x86-64 only, as the unwinder (cfi.c, unwind.c) is"
#endif

static inline long sys_call6(long nr, long a, long b, long c, long d, long e, long f)
{
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}

/* the kernel's -errno as libc gives it: -1 and errno */
static inline long sys_ret(long r)
{
    if ((unsigned long)r > -4096ul) {
        errno = (int)-r;
        return -1;
    }
    return r;
}

#define SYS_L(x) ((long)(x))
#define sys_call(nr, a, b, c, d, e, f)                                                             \
    sys_ret(sys_call6(nr, SYS_L(a), SYS_L(b), SYS_L(c), SYS_L(d), SYS_L(e), SYS_L(f)))

static inline int sys_close(int fd)
{
    return (int)sys_call(SYS_close, fd, 0, 0, 0, 0, 0);
}
static inline ssize_t sys_read(int fd, void *buf, size_t n)
{
    return sys_call(SYS_read, fd, buf, n, 0, 0, 0);
}
static inline ssize_t sys_pread(int fd, void *buf, size_t n, off_t off)
{
    return sys_call(SYS_pread64, fd, buf, n, off, 0, 0);
}
static inline ssize_t sys_pwrite(int fd, const void *buf, size_t n, off_t off)
{
    return sys_call(SYS_pwrite64, fd, buf, n, off, 0, 0);
}
static inline off_t sys_lseek(int fd, off_t off, int whence)
{
    return sys_call(SYS_lseek, fd, off, whence, 0, 0, 0);
}
static inline int sys_fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
    return (int)sys_call(SYS_newfstatat, dirfd, path, st, flags, 0, 0);
}
static inline int sys_fstat(int fd, struct stat *st)
{
    return (int)sys_call(SYS_fstat, fd, st, 0, 0, 0, 0);
}
static inline int sys_lstat(const char *path, struct stat *st)
{
    return sys_fstatat(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW);
}
static inline int sys_futimens(int fd, const struct timespec ts[2])
{
    return (int)sys_call(SYS_utimensat, fd, NULL, ts, 0, 0, 0);
}
/* libc's variadic ones: what arguments the call has, numbers or pointers,
 * and zeros for the rest */
#define sys_callv(...) SYS_FIRST7(__VA_ARGS__, 0, 0, 0, 0, 0, 0, 0)
#define SYS_FIRST7(nr, a, b, c, d, e, f, ...) sys_call(nr, a, b, c, d, e, f)
#define sys_ioctl(...) sys_callv(SYS_ioctl, __VA_ARGS__)
#define sys_fcntl(...) sys_callv(SYS_fcntl, __VA_ARGS__)
#define sys_prctl(...) sys_callv(SYS_prctl, __VA_ARGS__)
#define sys_open(...) sys_callv(SYS_openat, AT_FDCWD, __VA_ARGS__)
static inline pid_t sys_getpid(void)
{
    return (pid_t)sys_call(SYS_getpid, 0, 0, 0, 0, 0, 0);
}
static inline pid_t sys_getppid(void)
{
    return (pid_t)sys_call(SYS_getppid, 0, 0, 0, 0, 0, 0);
}
static inline void *sys_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    return (void *)sys_call(SYS_mmap, addr, len, prot, flags, fd, off);
}
static inline int sys_munmap(void *addr, size_t len)
{
    return (int)sys_call(SYS_munmap, addr, len, 0, 0, 0, 0);
}
static inline int sys_madvise(void *addr, size_t len, int advice)
{
    return (int)sys_call(SYS_madvise, addr, len, advice, 0, 0, 0);
}
static inline int sys_mkdir(const char *path, mode_t mode)
{
    return (int)sys_call(SYS_mkdirat, AT_FDCWD, path, mode, 0, 0, 0);
}
static inline int sys_unlinkat(int dirfd, const char *path, int flags)
{
    return (int)sys_call(SYS_unlinkat, dirfd, path, flags, 0, 0, 0);
}
static inline int sys_unlink(const char *path)
{
    return sys_unlinkat(AT_FDCWD, path, 0);
}
static inline int sys_rename(const char *from, const char *to)
{
    return (int)sys_call(SYS_renameat, AT_FDCWD, from, AT_FDCWD, to, 0, 0);
}
static inline int sys_access(const char *path, int mode)
{
    return (int)sys_call(SYS_faccessat, AT_FDCWD, path, mode, 0, 0, 0);
}
static inline ssize_t sys_readlink(const char *path, char *buf, size_t n)
{
    return sys_call(SYS_readlinkat, AT_FDCWD, path, buf, n, 0, 0);
}
/* libc's fails where the kernel's path does not start at the root (a
 * directory out of the process's root: "(unreachable)/...") */
static inline char *sys_getcwd(char *buf, size_t size)
{
    if (sys_call(SYS_getcwd, buf, size, 0, 0, 0, 0) < 0) return NULL;
    if (buf[0] != '/') {
        errno = ENOENT;
        return NULL;
    }
    return buf;
}
static inline int sys_nanosleep(const struct timespec *req, struct timespec *rem)
{
    return (int)sys_call(SYS_nanosleep, req, rem, 0, 0, 0, 0);
}
static inline int sys_getrlimit(int resource, struct rlimit *rl)
{
    return (int)sys_call(SYS_prlimit64, 0, resource, NULL, rl, 0, 0);
}
static inline int sys_sched_setaffinity(pid_t pid, size_t size, const cpu_set_t *set)
{
    return (int)sys_call(SYS_sched_setaffinity, pid, size, set, 0, 0, 0);
}
/* the kernel writes its mask's bytes and says how many; libc's clears the
 * rest of the caller's set and returns 0 */
static inline int sys_sched_getaffinity(pid_t pid, size_t size, cpu_set_t *set)
{
    long n = sys_call(SYS_sched_getaffinity, pid, size, set, 0, 0, 0);
    if (n < 0) return -1;
    if ((size_t)n < size) memset((char *)set + n, 0, size - (size_t)n);
    return 0;
}

/* POSIX timers by the kernel's ids: libc's timer_t of a timer that does
 * not start a thread (SIGEV_THREAD_ID, SIGEV_NONE) is the kernel's id, and
 * sprof's timers are its own. A clock is the kernel's number, without
 * libc's translation of CLOCK_THREAD_CPUTIME_ID (timer.c,
 * thread_cpu_clock). */
static inline int sys_timer_create(clockid_t clock, struct sigevent *ev, int *id)
{
    return (int)sys_call(SYS_timer_create, clock, ev, id, 0, 0, 0);
}
static inline int sys_timer_settime(int id, int flags, const struct itimerspec *v,
                                    struct itimerspec *old)
{
    return (int)sys_call(SYS_timer_settime, id, flags, v, old, 0, 0);
}
static inline int sys_timer_delete(int id)
{
    return (int)sys_call(SYS_timer_delete, id, 0, 0, 0, 0, 0);
}

/* Signal sets, as glibc keeps them: signal n is bit n - 1. sys_sigfillset,
 * like glibc's, leaves out the two signals glibc keeps for itself
 * (SIGCANCEL and SIGSETXID, the first two real-time ones). */
#define SYS_SIGBITS (8 * sizeof(unsigned long))
static inline int sys_sigvalid(int sig)
{
    return sig > 0 && sig < _NSIG;
}
static inline int sys_sigemptyset(sigset_t *s)
{
    memset(s, 0, sizeof(*s));
    return 0;
}
static inline int sys_sigfillset(sigset_t *s)
{
    memset(s, 0xff, sizeof(*s));
    s->__val[(32 - 1) / SYS_SIGBITS] &= ~(1ul << ((32 - 1) % SYS_SIGBITS));
    s->__val[(33 - 1) / SYS_SIGBITS] &= ~(1ul << ((33 - 1) % SYS_SIGBITS));
    return 0;
}
static inline int sys_sigaddset(sigset_t *s, int sig)
{
    if (!sys_sigvalid(sig)) {
        errno = EINVAL;
        return -1;
    }
    s->__val[(sig - 1) / SYS_SIGBITS] |= 1ul << ((sig - 1) % SYS_SIGBITS);
    return 0;
}
static inline int sys_sigdelset(sigset_t *s, int sig)
{
    if (!sys_sigvalid(sig)) {
        errno = EINVAL;
        return -1;
    }
    s->__val[(sig - 1) / SYS_SIGBITS] &= ~(1ul << ((sig - 1) % SYS_SIGBITS));
    return 0;
}
static inline int sys_sigismember(const sigset_t *s, int sig)
{
    if (!sys_sigvalid(sig)) {
        errno = EINVAL;
        return -1;
    }
    return (s->__val[(sig - 1) / SYS_SIGBITS] >> ((sig - 1) % SYS_SIGBITS)) & 1;
}

#endif
