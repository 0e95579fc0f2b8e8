/* SPDX-License-Identifier: MIT */
/*
 * stdiolocks: prints whether glibc locks the program's streams at each
 * step of a single-threaded start that makes its first thread late, so
 * that a run under sprof can be compared with a plain run: glibc marks
 * every stream as needing its lock (_IO_FLAGS2_NEED_LOCK, 0x80 in the
 * public struct's _flags2) when the process makes its first thread, and
 * sprof's writer thread must not make that happen early (writer.c,
 * streams_alone).
 *
 *   stdiolocks SPIN_MS HOW
 *
 * Spins SPIN_MS of CPU (stdiolocks_spin, the profile's hot spot), forks a
 * child that reports and exits, then makes its first thread by HOW:
 * pthread, thrd (C11), timer (timer_create's SIGEV_THREAD: a thread libc
 * makes itself), aio (aio_read: libc's helper thread), gai (getaddrinfo_a
 * of localhost: the same) or exit (no thread: the initial thread ends by
 * pthread_exit, and glibc must end the process by exit(), atexit handlers
 * and all). "tasks N" is the kernel's count of
 * threads at the spin's end (sprof's writer among them).
 *
 * Each line also says single=, __libc_single_threaded as the program reads
 * it (libstdc++'s reference counts do): this program's copy of it (a copy
 * relocation), which sprof sets back when its writer cleared it (writer.c,
 * single_again). "copy 0" first if the program has no copy of its own
 * (another toolchain): the flag is then glibc's own, which sprof leaves.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <signal.h>
#include <aio.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/single_threaded.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <threads.h>
#include <time.h>
#include <unistd.h>

#define NEEDS_LOCK 0x80

static int locked(FILE *f)
{
    return (f->_flags2 & NEEDS_LOCK) != 0;
}

static double cpu_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

volatile unsigned long sink;

__attribute__((noinline)) void stdiolocks_spin(double ms)
{
    double end = cpu_ms() + ms;
    unsigned long x = 1;
    while (cpu_ms() < end)
        for (int i = 0; i < 10000; i++)
            x = x * 6364136223846793005ul + 1442695040888963407ul;
    sink = x;
}

static void *thread_fn(void *arg)
{
    return arg;
}

static int thrd_fn(void *arg)
{
    (void)arg;
    return 0;
}

static atomic_int notified;

static void timer_fn(union sigval v)
{
    (void)v;
    atomic_store(&notified, 1);
}

static void at_exit(void)
{
    printf("stdiolocks: atexit\n");
    fflush(stdout);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: stdiolocks SPIN_MS pthread|thrd|timer|aio|gai|exit\n");
        return 2;
    }
    const char *how = argv[2];
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("stdiolocks: copy %d\n",
           dlsym(RTLD_NEXT, "__libc_single_threaded") != (void *)&__libc_single_threaded);
    printf("stdiolocks: start stdin=%d stdout=%d stderr=%d single=%d\n", locked(stdin),
           locked(stdout), locked(stderr), __libc_single_threaded);
    stdiolocks_spin(atof(argv[1]));
    struct stat st;
    printf("stdiolocks: tasks %ld\n",
           stat("/proc/self/task", &st) == 0 ? (long)st.st_nlink - 2 : -1L);
    FILE *old = fopen("/dev/null", "r");
    if (!old) return 1;
    printf("stdiolocks: alone stdin=%d stdout=%d new=%d single=%d\n", locked(stdin), locked(stdout),
           locked(old), __libc_single_threaded);
    pid_t pid = fork();
    if (pid == 0) {
        FILE *f = fopen("/dev/null", "r");
        printf("stdiolocks: child stdin=%d new=%d single=%d\n", locked(stdin), f ? locked(f) : -1,
               __libc_single_threaded);
        _exit(0);
    }
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || status != 0) return 1;

    if (strcmp(how, "exit") == 0) {
        atexit(at_exit);
        pthread_exit(NULL);
    } else if (strcmp(how, "pthread") == 0) {
        pthread_t t;
        if (pthread_create(&t, NULL, thread_fn, NULL) != 0 || pthread_join(t, NULL) != 0) return 1;
    } else if (strcmp(how, "thrd") == 0) {
        thrd_t t;
        if (thrd_create(&t, thrd_fn, NULL) != thrd_success || thrd_join(t, NULL) != thrd_success)
            return 1;
    } else if (strcmp(how, "timer") == 0) {
        struct sigevent ev = {.sigev_notify = SIGEV_THREAD, .sigev_notify_function = timer_fn};
        timer_t id;
        struct itimerspec its = {.it_value = {0, 1000000}};
        if (timer_create(CLOCK_MONOTONIC, &ev, &id) != 0 || timer_settime(id, 0, &its, NULL) != 0)
            return 1;
        for (int i = 0; i < 5000 && !atomic_load(&notified); i++)
            usleep(1000);
        if (!atomic_load(&notified)) return 1;
    } else if (strcmp(how, "aio") == 0) {
        static char buf[16];
        int fd = open("/dev/null", O_RDONLY);
        struct aiocb cb = {.aio_fildes = fd, .aio_buf = buf, .aio_nbytes = sizeof(buf)};
        const struct aiocb *list[1] = {&cb};
        if (fd < 0 || aio_read(&cb) != 0) return 1;
        while (aio_error(&cb) == EINPROGRESS)
            aio_suspend(list, 1, NULL);
        if (aio_return(&cb) != 0) return 1;
    } else if (strcmp(how, "gai") == 0) {
        struct gaicb req = {.ar_name = "localhost"};
        struct gaicb *list[1] = {&req};
        if (getaddrinfo_a(GAI_WAIT, list, 1, NULL) != 0) return 1;
        if (req.ar_result) freeaddrinfo(req.ar_result);
    } else {
        return 2;
    }
    FILE *f = fopen("/dev/null", "r");
    if (!f) return 1;
    printf("stdiolocks: threaded stdin=%d stdout=%d old=%d new=%d single=%d\n", locked(stdin),
           locked(stdout), locked(old), locked(f), __libc_single_threaded);
    return 0;
}
