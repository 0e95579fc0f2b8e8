/* SPDX-License-Identifier: MIT */
/*
 * How a process ends, for the END record that `sprof-report info` shows:
 *
 *   exit(3), return from main   an on_exit handler, registered by the
 *                               constructor, gets the status. It runs after
 *                               the destructors (init.c's stops the timers
 *                               and the writer) and writes the last chunk,
 *                               with END "exit".
 *   _exit(2), _Exit(2)          interposed (interpose.c): END "_exit".
 *   exec                        END "exec" before the image goes (init.c).
 *   a signal that kills         END "signal" with its number, see below.
 *   SIGKILL, a raw exit_group   no END; the file reads up to its last chunk,
 *                               at most about a second old.
 *
 * Signals whose default action ends the process get a handler of sprof's
 * as long as the program leaves them at SIG_DFL (from the start, or in a
 * descendant from when it makes its writer thread). The handler asks the
 * writer thread for a last chunk with END "signal", waits for it (at most
 * END_WAIT_NS; never when this thread holds the writer's lock or is the
 * writer), puts SIG_DFL back and sends the signal again to its own thread:
 * it stays pending until the handler returns and then ends the process as
 * it would have, with the same wait status and core dump. A fault (SIGSEGV
 * and the like) re-executes the faulting instruction under SIG_DFL anyway.
 *
 * The program sees SIG_DFL when it asks. The moment it installs a handler
 * or SIG_IGN of its own, that goes to the kernel and sprof steps aside for
 * that signal; setting SIG_DFL keeps sprof's handler (the program's view
 * is the same). A signal the program inherited as ignored stays ignored.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "sprof.h"

/* Default action: terminate or core dump. Not SIGKILL/SIGSTOP (cannot be
 * caught) nor the real-time signals (sprof may sample with one). */
static const int end_signals[] = {SIGHUP,  SIGINT,  SIGQUIT, SIGILL,  SIGTRAP,   SIGABRT,
                                  SIGBUS,  SIGFPE,  SIGSEGV, SIGPIPE, SIGALRM,   SIGTERM,
                                  SIGUSR1, SIGUSR2, SIGXCPU, SIGXFSZ, SIGVTALRM, SIGSYS};

#define END_WAIT_NS 1000000000ull

/* ours[sig]: sprof's handler is installed and the program believes SIG_DFL. */
static _Atomic unsigned char ours[NSIG];
/* The program's view of each of those, SIG_DFL with its flags and mask, is
 * in sprof_space.end_view (space.c), written only where it is not plain
 * SIG_DFL (zeros): its pages stay untouched in most processes. */
/* The first signal ending the process; later ones wait for its flush. */
static _Atomic int ending;

static void end_handler(int sig, siginfo_t *si, void *uc)
{
    (void)si;
    (void)uc;
    int saved = errno;
    pid_t self = (pid_t)sys_callv(SYS_gettid);
    /* Not in a vfork child (it shares our memory but not our file), nor on
     * the writer thread (it would wait for itself). */
    if ((pid_t)sys_callv(SYS_getpid) == sprof.pid && self != sprof_writer_tid()) {
        int none = 0;
        if (atomic_compare_exchange_strong(&ending, &none, sig)) sprof_writer_request_end(sig);
        uint64_t give_up = sprof_now() + END_WAIT_NS;
        while (!sprof_writer_end_done() && !sprof_writer_lock_is_mine() && sprof_now() < give_up) {
            struct timespec ts = {0, 1000000};
            sys_nanosleep(&ts, NULL);
        }
    }
    struct sigaction dfl;
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    sprof_real_sigaction(sig, &dfl, NULL);
    atomic_store(&ours[sig], 0);
    sys_callv(SYS_tgkill, (pid_t)sys_callv(SYS_getpid), self, sig);
    errno = saved;
}

/* SIG_DFL with no flags and an empty mask: what the view holds untouched.
 * glibc copies a whole sigset_t from the kernel's answer, which fills the
 * first 64 bits of it (one per signal): the rest is not to be looked at. */
static int plain_default(const struct sigaction *a)
{
    uint64_t mask;
    memcpy(&mask, &a->sa_mask, sizeof(mask));
    return a->sa_handler == SIG_DFL && !a->sa_flags && !mask;
}

/* Installed in this image (a child of fork inherits them with the flag). */
static int installed;

/* One sigaction call a signal, which installs the handler and returns what
 * was there: a disposition other than SIG_DFL (most often SIG_IGN inherited
 * through exec, as a shell leaves SIGINT and SIGQUIT for a background job)
 * is put back at once. The signals stay blocked meanwhile, so none is
 * handled by the wrong disposition, and one that arrives for a signal put
 * back to SIG_IGN is discarded as it would have been. Twice fewer system
 * calls than asking first, each some microseconds on a virtual machine.
 *
 * When: at the start, or in a descendant with its writer thread made late,
 * just after the writer is made (writer.c, sprof_writer_late). Without a
 * writer the handler has nothing to flush, and twenty system calls (14 µs
 * here) are most of what sprof adds to the start of each command of a
 * script that takes no sample. Late, it runs at a safe point of the signal
 * handler (no frame of libc's or sprof's below, so not within the
 * program's sigaction, which is sprof's) or in the program's first
 * pthread_create, with one thread: nothing changes a disposition meanwhile,
 * and what the program set before is what the kernel says here. The masks
 * by system call, as a handler may be the caller. */
SPROF_ONCE void sprof_endings_init(void)
{
    if (installed) return;
    installed = 1;
    sigset_t block, was_blocked;
    sys_sigemptyset(&block);
    for (size_t i = 0; i < sizeof(end_signals) / sizeof(end_signals[0]); i++)
        if (end_signals[i] != sprof.cfg.signo) sys_sigaddset(&block, end_signals[i]);
    sys_callv(SYS_rt_sigprocmask, SIG_BLOCK, &block, &was_blocked, _NSIG / 8);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = end_handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
    sys_sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof(end_signals) / sizeof(end_signals[0]); i++) {
        int sig = end_signals[i];
        struct sigaction cur;
        memset(&cur, 0, sizeof(cur));
        if (!sys_sigismember(&block, sig)) continue;
        /* the view is SIG_DFL (zeros) until the kernel says what it was */
        atomic_store(&ours[sig], 1);
        if (sprof_real_sigaction(sig, &sa, &cur) < 0) {
            atomic_store(&ours[sig], 0);
        } else if (cur.sa_handler != SIG_DFL) {
            sprof_real_sigaction(sig, &cur, NULL);
            atomic_store(&ours[sig], 0);
        } else if (!plain_default(&cur)) {
            sprof_space.end_view[sig] = cur;
        }
    }
    sys_callv(SYS_rt_sigprocmask, SIG_SETMASK, &was_blocked, NULL, _NSIG / 8);
}

/* After fork: the child has its own writer and its own ending. */
SPROF_ONCE void sprof_endings_after_fork_child(void)
{
    atomic_store(&ending, 0);
}

int sprof_endings_sigaction_hook(int sig, const struct sigaction *act, struct sigaction *old,
                                 int *ret)
{
    if (sig <= 0 || sig >= NSIG || !atomic_load(&ours[sig])) return 0;
    struct sigaction was = sprof_space.end_view[sig];
    if (!act || act->sa_handler == SIG_DFL) {
        /* a question, or SIG_DFL again: sprof's handler stays */
        if (act) sprof_space.end_view[sig] = *act;
        if (old) *old = was;
        *ret = 0;
        return 1;
    }
    /* the program's handler, or SIG_IGN: it is the program's signal now */
    *ret = sprof_real_sigaction(sig, act, NULL);
    if (*ret == 0) {
        atomic_store(&ours[sig], 0);
        if (old) *old = was;
    }
    return 1;
}
