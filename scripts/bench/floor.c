/* SPDX-License-Identifier: MIT */
/*
 * The overhead floor: an LD_PRELOAD library that arms the same per-thread
 * perf_event task-clock timer as sprof (SPROF_FREQ Hz, main thread) with an
 * empty signal handler. What it costs is what taking the interrupt and the
 * signal alone costs on this machine; sprof's overhead is quoted against it.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static volatile unsigned long hits;

static void empty(int sig, siginfo_t *si, void *uc)
{
    hits++;
}

__attribute__((constructor)) static void floor_init(void)
{
    const char *f = getenv("SPROF_FREQ");
    unsigned long hz = f ? strtoul(f, NULL, 10) : 999;
    if (!hz) hz = 999;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = empty;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGPROF, &sa, NULL);
    struct perf_event_attr a;
    memset(&a, 0, sizeof(a));
    a.size = sizeof(a);
    a.type = PERF_TYPE_SOFTWARE;
    a.config = PERF_COUNT_SW_TASK_CLOCK;
    a.sample_period = 1000000000ul / hz;
    a.disabled = 1;
    a.exclude_hv = 1;
    a.wakeup_events = 1;
    pid_t tid = (pid_t)syscall(SYS_gettid);
    int fd = (int)syscall(SYS_perf_event_open, &a, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
    if (fd < 0) {
        a.exclude_kernel = 1;
        fd = (int)syscall(SYS_perf_event_open, &a, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
    }
    if (fd < 0) return;
    struct f_owner_ex o = {F_OWNER_TID, tid};
    fcntl(fd, F_SETFL, O_ASYNC | O_NONBLOCK);
    fcntl(fd, F_SETSIG, SIGPROF);
    fcntl(fd, F_SETOWN_EX, &o);
    ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
}
