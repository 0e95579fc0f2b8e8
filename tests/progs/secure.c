/* SPDX-License-Identifier: MIT */
/*
 * secure: linked against libsprof.so (DT_NEEDED, found through an absolute
 * RUNPATH), so that sprof is loaded even where LD_PRELOAD is ignored: in a
 * setuid program, in secure-execution mode. Burns CPU in secure_work and
 * prints on stdout:
 *   secure: AT_SECURE=N             getauxval(AT_SECURE)
 *   secure: ids RUID EUID
 *   secure: threads N               the threads of the process at the end
 *   secure: SIGPROF default|other   its disposition, asked of the kernel
 *                                   directly (sprof hides its own from
 *                                   sigaction)
 *   secure: result HEX              the work's result
 *   secure: done
 *
 * Usage: secure [MS]   (CPU milliseconds, default 200)
 */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "burn.h"

#ifdef __SANITIZE_ADDRESS__
/* A setuid process cannot read its own /proc/self/environ (ASAN_OPTIONS)
 * nor be traced by LeakSanitizer: no leak check in a sanitizer build. */
__attribute__((used)) const char *__asan_default_options(void)
{
    return "detect_leaks=0";
}
#endif

__attribute__((noinline, noclone)) void secure_work(long n)
{
    BURN(n, 0x7a3c9e5b1d2f4068ull);
}

static int count_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

int main(int argc, char **argv)
{
    printf("secure: AT_SECURE=%lu\n", getauxval(AT_SECURE));
    printf("secure: ids %d %d\n", (int)getuid(), (int)geteuid());
    secure_work(burn_iters(argc > 1 ? atof(argv[1]) : 200));
    printf("secure: threads %d\n", count_threads());
    struct {
        void *handler;
        unsigned long flags;
        void *restorer;
        unsigned long mask;
    } k;
    long r = syscall(SYS_rt_sigaction, SIGPROF, NULL, &k, sizeof(k.mask));
    printf("secure: SIGPROF %s\n", r == 0 && k.handler == (void *)SIG_DFL ? "default" : "other");
    printf("secure: result %llx\n", (unsigned long long)burn_sink);
    printf("secure: done\n");
    return 0;
}
