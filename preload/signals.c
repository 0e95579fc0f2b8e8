/* SPDX-License-Identifier: MIT */
/*
 * The sampling signal (SPROF_SIGNAL, SIGPROF by default) is never taken from
 * the program. If the program handles that signal when sprof starts, or
 * installs a handler for it later (sigaction, signal: interpose.c), sprof
 * moves its timers to a free real-time signal and says so, on stderr and as
 * a NOTE in the profile; the setitimer backend cannot move (ITIMER_PROF
 * always raises SIGPROF), so it stops instead. The program sees its own
 * disposition when it asks, not sprof's.
 */
#include <dlfcn.h>
#include <errno.h>
#include <string.h>

#include "log.h"
#include "sprof.h"

_Atomic int sprof_program_handlers;

/* What the program set (or found) for sprof's current signal. */
static struct sigaction prog_action;
/* sprof gave the signal up (and stopped): the program's calls go to libc. */
static int released;

int sprof_real_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    static __typeof__(sigaction) *real;
    if (!real) real = (__typeof__(sigaction) *)dlsym(RTLD_NEXT, "sigaction");
    if (!real) {
        errno = ENOSYS;
        return -1;
    }
    return real(sig, act, old);
}

static int install_on(int sig)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = sprof_handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sys_sigemptyset(&sa.sa_mask);
    return sprof_real_sigaction(sig, &sa, NULL);
}

static int is_handler(const struct sigaction *sa)
{
    return sa->sa_handler != SIG_DFL && sa->sa_handler != SIG_IGN;
}

/* The highest real-time signal nobody handles, or -1. */
static int free_signal(int avoid)
{
    for (int sig = SIGRTMAX - 1; sig > SIGRTMIN + 4; sig--) {
        struct sigaction o;
        memset(&o, 0, sizeof(o));
        if (sig == avoid || sprof_real_sigaction(sig, NULL, &o) < 0) continue;
        if (o.sa_handler == SIG_DFL) return sig;
    }
    return -1;
}

static void find_mask_functions(void);

SPROF_ONCE int sprof_signals_init(void)
{
    find_mask_functions();
    struct sigaction cur;
    memset(&cur, 0, sizeof(cur));
    sprof_real_sigaction(sprof.cfg.signo, NULL, &cur);
    if (is_handler(&cur)) {
        int from = sprof.cfg.signo, to = free_signal(from);
        if (to < 0 || sprof.cfg.timer_request == BACKEND_ITIMER) {
            sprof_err("signal %d is in use by the program and sprof cannot use another; not "
                      "sampling",
                      from);
            return -1;
        }
        sprof.cfg.signo = to;
        sprof_warn("signal %d is in use by the program, sampling with signal %d instead", from, to);
        sprof_writer_note(1, "signal %d is in use by the program, sampling with signal %d", from,
                          to);
        sprof_real_sigaction(to, NULL, &cur);
    }
    prog_action = cur;
    if (install_on(sprof.cfg.signo) < 0) {
        sprof_err("cannot install the signal handler: %s; not sampling", strerror(errno));
        return -1;
    }
    return 0;
}

/* Moves every timer to a free signal; under reg_lock so that no thread is
 * armed with the old one meanwhile. Returns 0, or -1 when sprof stopped. */
static int move_signal(void)
{
    int from = sprof.cfg.signo;
    if (sprof.backend == BACKEND_ITIMER) {
        released = 1;
        sprof_disable("the program took SIGPROF while sprof sampled with setitimer, which "
                      "cannot use another signal");
        sprof_writer_note(2, "the program took signal %d; sampling stopped", from);
        return -1;
    }
    pthread_mutex_lock(&sprof.reg_lock);
    int to = free_signal(from);
    if (to < 0 || install_on(to) < 0) {
        pthread_mutex_unlock(&sprof.reg_lock);
        released = 1;
        sprof_disable("the program took the sampling signal and no free signal was found");
        sprof_writer_note(2, "the program took signal %d, no free signal; sampling stopped", from);
        return -1;
    }
    sprof.cfg.signo = to;
    for (unsigned i = 0, used = sprof_slots_end(); i < used; i++) {
        struct sprof_thread *t = *sprof_slot_ref(i);
        if (t && atomic_load(&t->state) == SLOT_ACTIVE) sprof_timer_resignal(t);
    }
    pthread_mutex_unlock(&sprof.reg_lock);
    memset(&prog_action, 0, sizeof(prog_action));
    prog_action.sa_handler = SIG_DFL;
    sprof_warn("the program installed a handler for signal %d, sampling with signal %d instead",
               from, to);
    sprof_writer_note(1, "the program installed a handler for signal %d, moved to signal %d", from,
                      to);
    return 0;
}

int sprof_sigaction_hook(int sig, const struct sigaction *act, struct sigaction *old, int *ret)
{
    if (!sprof_active() || released || sig != sprof.cfg.signo) return 0;
    if (act && is_handler(act)) {
        /* the program wants the signal: it gets it, sprof moves away */
        struct sigaction was = prog_action;
        move_signal();
        *ret = sprof_real_sigaction(sig, act, NULL);
        if (*ret == 0 && old) *old = was;
        return 1;
    }
    /* SIG_DFL or SIG_IGN: remembered for the program, ours stays */
    if (old) *old = prog_action;
    if (act) prog_action = *act;
    *ret = 0;
    return 1;
}

void sprof_program_uses_itimer_prof(void)
{
    if (sprof_active() && sprof.backend == BACKEND_ITIMER && atomic_load(&sprof.running)) {
        sprof_disable("the program arms ITIMER_PROF itself, which the setitimer backend uses");
        sprof_writer_note(2, "the program armed ITIMER_PROF; sampling stopped");
    }
}

/* exec keeps pending signals but resets handlers to SIG_DFL: a sample signal
 * already queued would kill the new image ("Profiling timer expired").
 * Setting SIG_IGN discards it, and an ignored signal stays ignored across
 * exec; the program had SIG_DFL or SIG_IGN there (else sprof had moved). */
SPROF_ONCE void sprof_signals_before_exec(void)
{
    if (released) return;
    struct sigaction ign;
    memset(&ign, 0, sizeof(ign));
    ign.sa_handler = SIG_IGN;
    sprof_real_sigaction(sprof.cfg.signo, &ign, NULL);
}

SPROF_ONCE void sprof_signals_after_exec_failed(void)
{
    if (released) return;
    install_on(sprof.cfg.signo);
}

/* ---- the program's signal masks ----
 *
 * A thread that blocks sprof's signal (sigfillset and pthread_sigmask, as
 * signal-handling threads and many runtimes do) would never be sampled: its
 * samples would stay pending. So sprof's signal is taken out of every mask
 * the program sets, and put back into the old masks it is told, so that
 * the program sees what it asked for. Only sprof's signal is concerned; the
 * program's own signals are blocked as it says. The first time, the writer
 * says so (a NOTE and one line on stderr), not the caller: these functions
 * may be called from the program's signal handlers. */

static __thread int prog_blocks_ours __attribute__((tls_model("initial-exec")));
__thread int sprof_internal __attribute__((tls_model("initial-exec")));
static _Atomic int blocked_seen; /* 1: to be told, 2: told */

static __typeof__(pthread_sigmask) *real_sigmask;
static __typeof__(sigprocmask) *real_proc;

/* Looked up early (sprof_signals_init): the program may call these from
 * its signal handlers, where dlsym is no place to be. */
SPROF_ONCE static void find_mask_functions(void)
{
    if (!real_sigmask)
        real_sigmask = (__typeof__(pthread_sigmask) *)dlsym(RTLD_NEXT, "pthread_sigmask");
    if (!real_proc) real_proc = (__typeof__(sigprocmask) *)dlsym(RTLD_NEXT, "sigprocmask");
}

int sprof_real_sigmask(int how, const sigset_t *set, sigset_t *old)
{
    if (!real_sigmask) find_mask_functions();
    return real_sigmask ? real_sigmask(how, set, old) : ENOSYS;
}

int sprof_sigmask(int how, const sigset_t *set, sigset_t *old, int procmask)
{
    if (!real_proc) find_mask_functions();
    if (procmask && !real_proc) {
        errno = ENOSYS;
        return -1;
    }
    if (sprof_internal)
        return procmask ? real_proc(how, set, old) : sprof_real_sigmask(how, set, old);
    int sig = sprof.cfg.signo, was = prog_blocks_ours, now = was;
    sigset_t copy;
    if (set && sprof_active() && !released) {
        int has = sys_sigismember(set, sig) == 1;
        if (how == SIG_SETMASK)
            now = has;
        else if (how == SIG_BLOCK && has)
            now = 1;
        else if (how == SIG_UNBLOCK && has)
            now = 0;
        if (has && how != SIG_UNBLOCK) {
            copy = *set;
            sys_sigdelset(&copy, sig);
            set = &copy;
            int zero = 0;
            atomic_compare_exchange_strong(&blocked_seen, &zero, 1);
        }
    }
    int r = procmask ? real_proc(how, set, old) : sprof_real_sigmask(how, set, old);
    if (r == 0) {
        if (old && was) sys_sigaddset(old, sig);
        prog_blocks_ours = now;
    }
    return r;
}

/* The program's handlers run with sprof's signal unblocked as well: it is
 * taken out of the sa_mask the program gives sigaction. */
const struct sigaction *sprof_signals_unmask_action(const struct sigaction *act,
                                                    struct sigaction *copy)
{
    if (!act || !sprof_active() || released || sys_sigismember(&act->sa_mask, sprof.cfg.signo) != 1)
        return act;
    *copy = *act;
    sys_sigdelset(&copy->sa_mask, sprof.cfg.signo);
    return copy;
}

/* Writer side: says once that the program blocked sprof's signal. */
void sprof_signals_tell_blocked(void)
{
    int one = 1;
    if (!atomic_compare_exchange_strong(&blocked_seen, &one, 2)) return;
    sprof_info("the program blocks signal %d in some threads; sprof keeps it unblocked there so "
               "that they are sampled",
               sprof.cfg.signo);
    sprof_writer_note(0,
                      "the program blocked signal %d in some threads; kept unblocked for "
                      "sampling",
                      sprof.cfg.signo);
}
