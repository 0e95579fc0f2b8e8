/* SPDX-License-Identifier: MIT */
/*
 * Start and stop: configuration from the environment, the constructor and
 * destructor, the signal handler's installation, fork and exec. The host
 * program is never harmed: on any failure sprof says so once on stderr and
 * stops sampling; it never exits, aborts or writes to stdout.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "sprof.h"

struct sprof_state sprof = {.reg_lock = PTHREAD_MUTEX_INITIALIZER};

static int active; /* set up and sampling (or able to resume) */
static pthread_key_t thread_key;

int sprof_active(void)
{
    return active;
}

/* ---- configuration ---- */

static void bad_value(const char *var, const char *val, const char *dflt)
{
    sprof_err("%s: bad value '%s', using %s", var, val, dflt);
}

static int parse_uint(const char *var, unsigned lo, unsigned hi, unsigned dflt, unsigned *out)
{
    const char *s = getenv(var);
    *out = dflt;
    if (!s || !*s) return 0;
    uint64_t v;
    if (sprof_parse_u64(s, 10, &v) || v < lo || v > hi) {
        char d[32];
        snprintf(d, sizeof(d), "%u", dflt);
        bad_value(var, s, d);
        return -1;
    }
    *out = (unsigned)v;
    return 0;
}

static int parse_signal(const char *s)
{
    static const struct {
        const char *name;
        int sig;
    } names[] = {{"PROF", SIGPROF},
                 {"VTALRM", SIGVTALRM},
                 {"ALRM", SIGALRM},
                 {"USR1", SIGUSR1},
                 {"USR2", SIGUSR2}};
    if (strncmp(s, "SIG", 3) == 0) s += 3;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(s, names[i].name) == 0) return names[i].sig;
    uint64_t v;
    if (strncmp(s, "RTMIN+", 6) == 0 || strncmp(s, "RTMAX-", 6) == 0) {
        if (sprof_parse_u64(s + 6, 10, &v) || v > 64) return -1;
        int sig = s[5] == '+' ? SIGRTMIN + (int)v : SIGRTMAX - (int)v;
        return sig >= SIGRTMIN && sig <= SIGRTMAX ? sig : -1;
    }
    if (sprof_parse_u64(s, 10, &v)) return -1;
    if (v == SIGPROF || v == SIGVTALRM || v == SIGALRM || v == SIGUSR1 || v == SIGUSR2 ||
        (v >= (uint64_t)SIGRTMIN && v <= (uint64_t)SIGRTMAX))
        return (int)v;
    return -1;
}

static void read_config(struct sprof_config *c)
{
    const char *s;
    c->quiet = 0;
    if ((s = getenv("SPROF_QUIET")) && *s) {
        if (strcmp(s, "0") && strcmp(s, "1"))
            bad_value("SPROF_QUIET", s, "0");
        else
            c->quiet = s[0] == '1';
    }
    sprof_log_set_quiet(c->quiet);

    s = getenv("SPROF_OUTPUT");
    if (s && *s && strlen(s) < SPROF_PATH_MAX - 64)
        c->output = s;
    else {
        if (s && *s) bad_value("SPROF_OUTPUT", s, "profile.bin");
        c->output = "profile.bin";
    }

    /* unset: $XDG_CACHE_HOME/sprof or ~/.cache/sprof; "off": none. No
     * buffer on the stack: the 4 KiB one this took was zeroed at every
     * start for a path of a few dozen bytes. */
    const char *dir = NULL, *sub = "";
    if ((s = getenv("SPROF_CACHE_DIR"))) {
        if (*s == '/' && strlen(s) < SPROF_PATH_MAX - 200)
            dir = s;
        else if (strcmp(s, "off"))
            bad_value("SPROF_CACHE_DIR", s, "off (an absolute directory, or off)");
    } else if ((s = getenv("XDG_CACHE_HOME")) && *s == '/' && strlen(s) < 4000) {
        dir = s, sub = "/sprof";
    } else if ((s = getenv("HOME")) && *s == '/' && strlen(s) < 4000) {
        dir = s, sub = "/.cache/sprof";
    }
    c->cache_dir = dir ? sprof_start_join(dir, sub) : NULL; /* out of memory: no cache */

    parse_uint("SPROF_FREQ", 1, 20000, 999, &c->freq);
    parse_uint("SPROF_DEPTH", 1, SPROF_MAX_DEPTH, 256, &c->max_depth);

    c->signo = SIGPROF;
    if ((s = getenv("SPROF_SIGNAL")) && *s) {
        int sig = parse_signal(s);
        if (sig < 0)
            bad_value("SPROF_SIGNAL", s, "SIGPROF");
        else
            c->signo = sig;
    }

    c->timer_request = -1;
    if ((s = getenv("SPROF_TIMER")) && *s) {
        if (!strcmp(s, "perf"))
            c->timer_request = BACKEND_PERF;
        else if (!strcmp(s, "posix"))
            c->timer_request = BACKEND_POSIX;
        else if (!strcmp(s, "itimer"))
            c->timer_request = BACKEND_ITIMER;
        else if (strcmp(s, "auto"))
            bad_value("SPROF_TIMER", s, "auto");
    }

    c->unwinder = UNWIND_DWARF;
    if ((s = getenv("SPROF_UNWIND")) && *s) {
        if (!strcmp(s, "fp"))
            c->unwinder = UNWIND_FP;
        else if (!strcmp(s, "libunwind"))
            c->unwinder = UNWIND_LIBUNWIND;
        else if (strcmp(s, "dwarf"))
            bad_value("SPROF_UNWIND", s, "dwarf");
    }

    c->follow = 1;
    if ((s = getenv("SPROF_FOLLOW")) && *s) {
        if (strcmp(s, "0") && strcmp(s, "1"))
            bad_value("SPROF_FOLLOW", s, "1");
        else
            c->follow = s[0] == '1';
    }
}

/* The top's session: its output template as an absolute path, so that
 * children that chdir write beside, and SPROF_SESSION for them. A function
 * of its own: a descendant's start does not take its 8 KiB of buffers on
 * the stack, pages it had not touched. */
__attribute__((noinline)) SPROF_ONCE static void start_session(void)
{
    char base[SPROF_PATH_MAX];
    if (sprof.cfg.output[0] == '/') {
        sprof_concat(base, sizeof(base), sprof.cfg.output, NULL);
    } else {
        char cwd[PATH_MAX];
        if (!sys_getcwd(cwd, sizeof(cwd))) sprof_concat(cwd, sizeof(cwd), ".", NULL);
        size_t a = strlen(cwd), b = strlen(sprof.cfg.output);
        if (a + 1 + b >= sizeof(base)) a = 1, cwd[0] = '.';
        memcpy(base, cwd, a);
        base[a] = '/';
        memcpy(base + a + 1, sprof.cfg.output, b + 1);
    }
    sprof.out_base = sprof_start_join(base, "");
    sprof.session = sprof_now() ^ ((uint64_t)sys_getpid() << 40) ^ sprof_clock_ns(CLOCK_REALTIME);
    char val[sizeof(base) + 32];
    char hex[24];
    sprof_concat(val, sizeof(val), sprof_fmt_u64(hex, sprof.session, 16, 16), ":", base, NULL);
    setenv("SPROF_SESSION", val, 1);
}

/* SPROF_SESSION ("<16 hex digits>:<absolute output template>") is set by the
 * top process for its descendants; it is internal. Returns 1 when this
 * process is a descendant. sprof.out_base is NULL when out of memory. */
static int join_session(void)
{
    const char *s = getenv("SPROF_SESSION");
    if (s && strlen(s) > 17 && s[16] == ':' && s[17] == '/') {
        char hex[17];
        memcpy(hex, s, 16);
        hex[16] = 0;
        uint64_t v;
        if (!sprof_parse_u64(hex, 16, &v) && strlen(s + 17) < SPROF_PATH_MAX) {
            sprof.session = v;
            sprof.out_base = sprof_start_join(s + 17, "");
            return 1;
        }
    }
    start_session();
    return 0;
}

/* ---- lifecycle ---- */

/* Sampling stops, and the timers with it, at once, even where the process
 * or its image ends (exit, _exit, exec) and the kernel would end them
 * itself: left running through the last write and the exec (a few hundred
 * microseconds in a shell's child that took a sample), they would deliver
 * signals the handler drops, each an interrupt and a signal frame (20-30
 * us on a virtual machine, 1-2 on bare metal) where their disarming costs
 * three system calls a thread (BENCHMARKS.md, session 37). */
SPROF_ONCE static void stop_timers(void)
{
    atomic_store(&sprof.running, 0);
    if (sprof.backend == BACKEND_ITIMER) sprof_itimer_set(0);
    sprof_threads_disarm_all();
}

void sprof_disable(const char *why)
{
    static int said;
    if (!__atomic_exchange_n(&said, 1, __ATOMIC_RELAXED)) sprof_err("%s; sampling stopped", why);
    stop_timers();
}

/* pthread key destructor: the thread is exiting. */
static void thread_exit(void *p)
{
    if (!p) return;
    sprof_writer_settle_nthreads();
    /* glibc ends the process when the last of the threads it counts ends
     * (pthread_exit or a return), and it may count the writer (not when
     * the writer was the process's first thread: writer.c, streams_alone):
     * the initial thread gone by pthread_exit, the process would outlive
     * its last thread of the program's own, with nothing left but the
     * writer. So the writer goes first, by glibc's own way out, and this
     * thread's end then calls exit(0) as it would have without sprof. */
    if (sprof_thread_end(p, 1) == 0 && sys_getpid() == sprof.pid) sprof_writer_stop_early();
}

/* Registers the calling thread, tid, arms its timer, and ends it at exit.
 * when: as sprof_thread_register's. */
SPROF_ONCE static void register_self(pid_t tid, uint64_t when)
{
    struct sprof_thread *t = sprof_thread_register(tid, 0, 1, when);
    if (t) pthread_setspecific(thread_key, t);
}

void sprof_thread_started(void)
{
    if (active && atomic_load(&sprof.running)) register_self((pid_t)sys_callv(SYS_gettid), 0);
}

/* A thread made by clone(CLONE_THREAD), from its parent (interpose.c). */
void sprof_thread_adopt(pid_t tid)
{
    if (active && atomic_load(&sprof.running) && sys_getpid() == sprof.pid)
        sprof_thread_register(tid, 1, 0, 0);
}

/* ---- the writer made late (sprof.h, sprof_late) ---- */

struct sprof_late sprof_late;
static int late_possible;                                 /* this image allows it (late_setup) */
extern char __libc_single_threaded __attribute__((weak)); /* glibc 2.32 */

/* late_range's walk: objects seen, sprof's among them, and whether one was
 * preloaded before sprof (dl_iterate_phdr's order is the program, the
 * vDSO, the preloaded objects, the others) */
static struct {
    unsigned seen;
    int sprof_seen, preload_before;
} late_walk;

SPROF_ONCE static int late_range(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    (void)arg;
    unsigned index = late_walk.seen++;
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    for (unsigned i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *p = &info->dlpi_phdr[i];
        if (p->p_type != PT_LOAD) continue;
        if (info->dlpi_addr + p->p_vaddr < lo) lo = info->dlpi_addr + p->p_vaddr;
        if (info->dlpi_addr + p->p_vaddr + p->p_memsz > hi)
            hi = info->dlpi_addr + p->p_vaddr + p->p_memsz;
    }
    const char *name = info->dlpi_name ? info->dlpi_name : "";
    const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
    int kind = LATE_NONE;
    int is_sprof = (uintptr_t)sprof_handler >= lo && (uintptr_t)sprof_handler < hi;
    if (index > 0 && !late_walk.sprof_seen && !is_sprof &&
        info->dlpi_addr != getauxval(AT_SYSINFO_EHDR))
        late_walk.preload_before = 1;
    late_walk.sprof_seen |= is_sprof;
    if (info->dlpi_addr == getauxval(AT_BASE) || is_sprof)
        kind = LATE_NEVER; /* the loader, sprof */
    else if (!strncmp(base, "libc.so", 7) || !strncmp(base, "libpthread.so", 13) ||
             !strncmp(base, "libdl.so", 8) || !strncmp(base, "librt.so", 8))
        kind = LATE_LIBC; /* libc and, before glibc 2.34, its parts */
    if (kind == LATE_NONE || lo >= hi || sprof_late.n == LATE_RANGES) return 0;
    sprof_late.r[sprof_late.n].lo = lo;
    sprof_late.r[sprof_late.n].hi = hi;
    sprof_late.r[sprof_late.n].kind = kind;
    sprof_late.n++;
    return 0;
}

/* Is code a PLT entry, an indirect jump through the GOT (jmp *x(%rip), after
 * endbr64 and a bnd prefix where the entry has them)? */
static int plt_entry(const uint8_t *code)
{
    if (code[0] == 0xf3 && code[1] == 0x0f && code[2] == 0x1e && code[3] == 0xfa) code += 4;
    if (code[0] == 0xf2) code++;
    return code[0] == 0xff && code[1] == 0x25;
}

/* Is the code that the program's calls of sym reach libc's? fn, sprof's own
 * binding of sym (its GOT's, bound at its load through the global scope as
 * dlsym's RTLD_DEFAULT would be, without dlsym's cost at every start),
 * unless it is a PLT entry: a program built without -fPIE that takes the
 * function's address (cc1 takes free's, python3 two of the four) makes its
 * entry the function's address for all, and its calls go on to the first
 * object that defines the function, which dlsym finds from sprof with
 * RTLD_NEXT when no object was preloaded before sprof. */
SPROF_ONCE static int in_libc(void (*fn)(void), const char *sym)
{
    uintptr_t a = (uintptr_t)fn;
    if (a && !late_walk.preload_before && plt_entry((const uint8_t *)a))
        a = (uintptr_t)dlsym(RTLD_NEXT, sym);
    for (unsigned i = 0; i < sprof_late.n; i++)
        if (sprof_late.r[i].kind == LATE_LIBC && a >= sprof_late.r[i].lo && a < sprof_late.r[i].hi)
            return 1;
    return 0;
}

/* Once per image: where the frames that forbid a safe point are, and
 * whether pthread_create could run at one. Not when the allocator is not
 * libc's (a sanitizer's runtime, jemalloc): its locks are not in libc. Not
 * with SPROF_UNWIND=fp, whose walks end where frame pointers do without
 * saying so, nor =libunwind, which the writer loads before any walk. */
SPROF_ONCE static void late_setup(void)
{
    if (SPROF_SANITIZED || sprof.cfg.unwinder != UNWIND_DWARF || !&__libc_single_threaded ||
        !sprof_create_thread_ready())
        return;
    sprof_late.n = 0;
    memset(&late_walk, 0, sizeof(late_walk));
    dl_iterate_phdr(late_range, NULL);
    int libc = 0, never = 0;
    for (unsigned i = 0; i < sprof_late.n; i++)
        sprof_late.r[i].kind == LATE_LIBC ? libc++ : never++;
    late_possible = libc && never >= 2 && in_libc((void (*)(void))malloc, "malloc") &&
                    in_libc((void (*)(void))calloc, "calloc") &&
                    in_libc((void (*)(void))realloc, "realloc") &&
                    in_libc((void (*)(void))free, "free");
}

/* Now, in a descendant: a process with threads makes its writer at once.
 * The child of a fork has one thread, whatever glibc's flag (which stays
 * false in the child of a process that had threads, as bash has with its
 * writer). */
static int late_ok(int forked)
{
    return late_possible && !sprof.is_top && (forked || __libc_single_threaded);
}

static pid_t forking_tid; /* the thread in fork(), as the parent knows it */

SPROF_ONCE static void fork_prepare(void)
{
    if (!active) return;
    sprof_interpose_before_fork();
    forking_tid = (pid_t)sys_callv(SYS_gettid);
    sprof_writer_prepare_fork();
    sprof_unwind_prepare_fork();
}

SPROF_ONCE static void fork_parent(void)
{
    if (!active) return;
    sprof_unwind_after_fork();
    sprof_writer_parent_fork();
}

SPROF_ONCE static void fork_child(void)
{
    if (!active) return;
    /* The vDSO's code is not in the child's page tables (fork copies those
     * of anonymous memory, not the vDSO's): the clock by system call until
     * the child's first sample, as in a new process (sprof_clock_ns) */
    atomic_store_explicit(&sprof.clock_warm, 0, memory_order_relaxed);
    /* the child's one thread, whose id is the child's pid; its start, the
     * child's, read once for all that dates it */
    pid_t self = (pid_t)sys_callv(SYS_gettid);
    uint64_t now = sprof_now();
    sprof_unwind_after_fork();
    sprof_stack_region_forget();
    sprof_writer_after_fork_child();
    sprof_endings_after_fork_child();
    sprof_threads_after_fork_child(forking_tid, self, now);
    if (!sprof.cfg.follow || !atomic_load(&sprof.running)) {
        sprof_writer_close_parent_file();
        sprof_threads_close_parent_dir();
        active = 0;
        atomic_store(&sprof.running, 0);
        return;
    }
    sprof.ppid = sprof.pid; /* fork's caller, even if it has ended since */
    sprof.pid = self;
    sprof.is_top = 0;
    sprof.start_ns = now;
    sprof.start_realtime_ns = 0; /* the parent's: put_process reads it */
    atomic_store(&sprof.wake_pending, 0);
    /* the parent's handlers, when it had them (endings.c) */
    int late = late_ok(1);
    if (!late) sprof_endings_init();
    if (sprof_writer_start(1, late) < 0) {
        active = 0;
        atomic_store(&sprof.running, 0);
        return;
    }
    pthread_mutex_lock(&sprof.reg_lock);
    struct sprof_thread *t = sprof_thread_find(self);
    if (t) sprof_timer_arm(t);
    pthread_mutex_unlock(&sprof.reg_lock);
    if (sprof.backend == BACKEND_ITIMER) sprof_itimer_set(1);
}

/* Before exec: nothing of ours may survive into the new image. Timers stop,
 * the file gets everything with an END record, and a signal of ours still
 * pending is discarded (signals.c). A vfork child shares our memory but has
 * no timers: it is left alone. */
SPROF_ONCE void sprof_before_exec(void)
{
    if (!active || sys_getpid() != sprof.pid) return;
    stop_timers();
    sprof_writer_flush("exec", 0);
    sprof_signals_before_exec();
}

void sprof_after_exec_failed(void)
{
    if (!active || sys_getpid() != sprof.pid) return;
    int e = errno;
    sprof_signals_after_exec_failed();
    atomic_store(&sprof.running, 1);
    sprof_threads_arm_all();
    if (sprof.backend == BACKEND_ITIMER) sprof_itimer_set(1);
    errno = e;
}

static void on_exit_handler(int status, void *arg);
static int exit_handler; /* registered */

/* pthread_atfork is a function of libc_nonshared.a, linked into the end of
 * libsprof.so's text, away from the rest of the start (SPROF_ONCE): what it
 * calls, libc's __register_atfork, is called here. Not under a sanitizer,
 * whose runtime may intercept pthread_atfork. */
#if !SPROF_SANITIZED
extern void *__dso_handle;
extern int __register_atfork(void (*)(void), void (*)(void), void (*)(void), void *);
#endif
SPROF_ONCE static void register_atfork(void)
{
#if SPROF_SANITIZED
    pthread_atfork(fork_prepare, fork_parent, fork_child);
#else
    __register_atfork(fork_prepare, fork_parent, fork_child, __dso_handle);
#endif
}

SPROF_ONCE static void start(pid_t tid)
{
    if (sprof_signals_init() < 0) return;
    int late = late_ok(0);
    if (!late) sprof_endings_init(); /* else with the writer (sprof_writer_late) */
    exit_handler = on_exit(on_exit_handler, NULL) == 0;
    atomic_store(&sprof.running, 1);
    if (sprof_writer_start(0, late) < 0) {
        atomic_store(&sprof.running, 0);
        return;
    }
    active = 1;
    register_atfork();
    register_self(tid, sprof.start_ns);
    if (sprof.backend == BACKEND_ITIMER) sprof_itimer_set(1);
}

__attribute__((constructor)) static void sprof_init(void)
{
    sprof_log_set_prefix("sprof");
    if (getauxval(AT_SECURE)) {
        sprof_err("secure-execution mode (setuid or setgid program), not profiling");
        return;
    }
    read_config(&sprof.cfg);
    int descendant = join_session();
    if (!sprof.out_base) {
        sprof_err("cannot set up (out of memory); not sampling");
        return;
    }
    if (descendant && !sprof.cfg.follow) return;
    sprof.is_top = !descendant;
    sprof.pid = sys_getpid();
    sprof.ppid = sys_getppid();
    sprof.start_ns = sprof_now();
    sprof.period_ns = 1000000000ull / sprof.cfg.freq;
    sprof.walk_budget_ns = sprof.period_ns / 5 > 20000 ? sprof.period_ns / 5 : 20000;

    int e = pthread_key_create(&thread_key, thread_exit);
    if (e) {
        sprof_err("cannot set up (%s); not sampling", strerror(e));
        return;
    }
    sprof_internal++;
    sprof_unwind_init();
    sprof_internal--;
    pid_t tid = (pid_t)sys_callv(SYS_gettid);
    if (sprof_timer_select(tid) < 0) return;
    late_setup();
    start(tid);
    sprof_timer_drop_probe(); /* when start() failed before arming */
}

/* exit(3) and return from main: the destructor stops the timers and the
 * writer thread; the on_exit handler, registered before any of the
 * program's and before glibc's call of the destructors (our constructor
 * runs before __libc_start_main), and so run after them all, knows the
 * status and writes the rest with the END record. The destructor flushed
 * too, a chunk and a write of its own microseconds before the END's
 * (BENCHMARKS.md, session 51); it still does when the handler could not be
 * registered. */
__attribute__((destructor)) static void sprof_fini(void)
{
    if (!active) return;
    stop_timers();
    if (exit_handler)
        sprof_writer_halt();
    else
        sprof_writer_stop(NULL, 0);
}

SPROF_ONCE static void on_exit_handler(int status, void *arg)
{
    (void)arg;
    if (!active) return;
    sprof_writer_flush("exit", status & 0xff);
    active = 0;
}

SPROF_ONCE void sprof_end(const char *reason, int status)
{
    if (!active || sys_getpid() != sprof.pid) return;
    stop_timers();
    sprof_writer_stop(reason, status & 0xff);
    active = 0;
}
