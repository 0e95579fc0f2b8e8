/* SPDX-License-Identifier: MIT */
/*
 * The thread registry: one slot per sampled thread, holding its timer, its
 * ring and its counters. Slots and rings are mmap'd before the thread's
 * timer is armed, so the handler only ever writes memory that exists.
 * Threads are found three ways: pthread_create (interpose.c), the thread
 * that runs the constructor, and a scan of /proc/self/task that picks up
 * threads made before the constructor ran or by a raw clone.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "sprof.h"

/* The first slot of a process image is sprof_space.first_slot, in the
 * .bss (a process's first thread is most often its only one): not an mmap
 * and a mapping more at every start. Used once: never reused once freed. */
static int first_slot_taken;

/* Slots of ended threads, for the next threads (under reg_lock). A slot is
 * never unmapped while the process may take samples: a handler may have
 * loaded its address just before the writer freed it (the itimer backend's
 * handler reads every slot's tid; a thread's late signal, after its end, its
 * own slot), and reads memory that still exists. Its pages go back to the
 * kernel (MADV_DONTNEED): it reads as zeros, a fresh mapping's contents;
 * but for the slots kept with their pages (hot, below). */
static unsigned nfree; /* in sprof_space.free_slots */

/* Threads that registered themselves (not external) and have not ended
 * (under reg_lock). */
static unsigned own_running;

/* Slots freed keep their pages (no MADV_DONTNEED) while those they keep
 * add up to HOT_BYTES: a program that starts threads one after another, a
 * pool that makes one a task, takes them again without faulting their
 * struct, ring and rule cache in again, and the writer frees them without
 * an madvise, whose TLB shootdown interrupts every CPU that runs a thread
 * of the process (`scripts/bench/threads.py`, 2,000 threads of 0.2 ms, 8 at
 * a time: 46 us of CPU a thread over the floor's against 90, the writer's
 * CPU 7 ms against 44; BENCHMARKS.md, session 38). A slot
 * keeps what its thread touched: its struct's page, its rule cache's and
 * the ring as far as the handlers wrote it or the writer faulted it in (a
 * short thread's few pages, a busy one's 128 KiB). A slot taken from here
 * is zeroed but for what describes its pages: its rule cache stays good
 * for the set of objects it was filled from (unwind.c checks rules_gen),
 * and the mark for fork (wipe_on_fork) stays on them. */
#define HOT_BYTES (4u << 20)
#define HOT_MAX 1024u
static struct sprof_thread *hot[HOT_MAX];
static size_t hot_kept[HOT_MAX], hot_bytes;
static unsigned nhot;

/* The start's arena (sprof.h): from the end of the first slot's struct to
 * the end of its page. start_used: bytes handed out, ARENA_CLOSED once the
 * slot is taken (its ring then begins past them). */
#define ARENA_CLOSED SIZE_MAX
static _Atomic size_t start_used;

static char *arena_base(void)
{
    return (char *)sprof_space.first_slot + ((sizeof(struct sprof_thread) + 63) & ~(size_t)63);
}

static size_t arena_room(void)
{
    uintptr_t b = (uintptr_t)arena_base();
    return (size_t)(((b + 4095) & ~(uintptr_t)4095) - b);
}

SPROF_ONCE void *sprof_start_alloc(size_t n)
{
    n = (n + 15) & ~(size_t)15;
    size_t used = atomic_load(&start_used);
    do {
        if (used == ARENA_CLOSED || n > arena_room() - used) return NULL;
    } while (!atomic_compare_exchange_weak(&start_used, &used, used + n));
    return arena_base() + used;
}

int sprof_start_owns(const void *p)
{
    const char *b = arena_base();
    return (const char *)p >= b && (const char *)p < b + arena_room();
}

SPROF_ONCE char *sprof_start_join(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    char *d = sprof_start_alloc(na + nb + 1);
    if (!d && !(d = malloc(na + nb + 1))) return NULL;
    memcpy(d, a, na);
    memcpy(d + na, b, nb + 1);
    return d;
}

static struct sprof_thread *slot_alloc(void)
{
    void *m = sprof_space.first_slot;
    size_t skip = 0; /* the start's arena, before the first slot's ring */
    if (nhot) {
        struct sprof_thread *t = hot[--nhot];
        hot_bytes -= hot_kept[nhot];
        uint64_t gen = t->rules_gen;
        int wipe = t->wipe_on_fork;
        memset(t, 0, sizeof(*t));
        t->rules_gen = gen;
        t->wipe_on_fork = wipe;
        m = t;
    } else if (nfree) {
        m = sprof_space.free_slots[--nfree];
    } else if (first_slot_taken) {
        m = sys_mmap(NULL, SPROF_SLOT_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                     -1, 0);
        if (m == MAP_FAILED) return NULL;
    } else {
        skip = atomic_exchange(&start_used, ARENA_CLOSED);
        skip = skip == ARENA_CLOSED ? 0 : (skip + 63) & ~(size_t)63;
    }
    first_slot_taken = 1;
    struct sprof_thread *t = m;
    t->ring = (uint64_t *)((char *)m + ((sizeof(*t) + 63) & ~(size_t)63) + skip);
    t->outer = (struct sprof_share *)(t->ring + RING_WORDS);
    t->memo = (struct sprof_memo *)(t->outer + 1);
    /* on a page of their own: a thread's first walks through tables fault
     * in one page, not the two an unaligned 4 KiB spans; and a child of
     * fork gets it whole from MADV_WIPEONFORK (below) */
    t->rules = (struct sprof_rule_slot *)(((uintptr_t)(t->memo + 1) + 4095) & ~(uintptr_t)4095);
    t->perf_fd = -1;
    return t;
}

/* Sets the registry's entry i (t, or NULL) and its tid. Under reg_lock (or
 * alone: a fork's child). */
void sprof_thread_publish(unsigned i, struct sprof_thread *t)
{
    if (i) sprof_space.slot_tids[i] = t ? t->tid : 0;
    __atomic_store_n(sprof_slot_ref(i), t, __ATOMIC_RELEASE);
}

/* Once t is out of the registry, under reg_lock: keeps it with its pages
 * (1), or leaves it to sprof_thread_release (0). */
int sprof_thread_keep(struct sprof_thread *t)
{
    if (!t || (void *)t == (void *)sprof_space.first_slot) return 1; /* (never reused) */
    uint64_t words = atomic_load(&t->head);
    if (t->ring_ready > words) words = t->ring_ready;
    size_t kept = 2 * 4096 + sizeof(*t->outer) +
                  (size_t)(words < RING_WORDS ? words : RING_WORDS) * sizeof(uint64_t) +
                  (atomic_load(&t->samples) >= RING_SHARE_FROM ? sizeof(*t->memo) : 0);
    if (nhot == HOT_MAX || hot_bytes + kept > HOT_BYTES) return 0;
    hot_kept[nhot] = kept;
    hot[nhot++] = t;
    hot_bytes += kept;
    return 1;
}

/* Without reg_lock: gives t's pages back (an madvise, which interrupts the
 * other CPUs that run the process's threads, not made with the lock held)
 * and puts it among the free slots. */
void sprof_thread_release(struct sprof_thread *t)
{
    if (sys_madvise(t, SPROF_SLOT_BYTES, MADV_DONTNEED) != 0) return;
    pthread_mutex_lock(&sprof.reg_lock);
    if (nfree < MAX_THREADS) sprof_space.free_slots[nfree++] = t;
    pthread_mutex_unlock(&sprof.reg_lock);
}

/* Once t is out of the registry, in a fork's child (alone). */
static void thread_free(struct sprof_thread *t)
{
    if (!sprof_thread_keep(t)) sprof_thread_release(t);
}

/* Under reg_lock. */
struct sprof_thread *sprof_thread_find(pid_t tid)
{
    for (unsigned i = 0, used = sprof_slots_end(); i < used; i++) {
        if (i && sprof_space.slot_tids[i] != tid) continue;
        struct sprof_thread *t = *sprof_slot_ref(i);
        if (t && t->tid == tid && atomic_load(&t->state) == SLOT_ACTIVE) return t;
    }
    return NULL;
}

/* The name of thread tid into name (NUL-terminated): 0, or -1 when it
 * cannot be read. self: tid is the calling thread, whose name prctl gives
 * in one system call (three for /proc). Takes no lock: the caller sets it
 * (sprof_thread_set_name) under reg_lock. */
SPROF_ONCE int sprof_thread_name_of(pid_t tid, int self, char name[SPROF_NAME_MAX])
{
    char buf[32];
    if (self) {
        memset(buf, 0, sizeof(buf));
        if (sys_prctl(PR_GET_NAME, buf) != 0) return -1;
    } else {
        char path[64], num[24];
        sprof_concat(path, sizeof(path), "/proc/self/task/",
                     sprof_fmt_u64(num, (uint64_t)tid, 10, 0), "/comm", NULL);
        int fd = sprof_open(path, O_RDONLY, 0);
        if (fd < 0) return -1;
        ssize_t n = sys_read(fd, buf, sizeof(buf) - 1);
        sys_close(fd);
        if (n <= 0) return -1;
        buf[n] = 0;
        buf[strcspn(buf, "\n")] = 0;
    }
    size_t len = strnlen(buf, SPROF_NAME_MAX - 1);
    memcpy(name, buf, len);
    name[len] = 0;
    return 0;
}

/* Under reg_lock once the slot is published: the writer and the exiting
 * thread both set the name. */
void sprof_thread_set_name(struct sprof_thread *t, const char *name)
{
    memcpy(t->name, name, strlen(name) + 1);
}

/* Reads and sets t's name (under reg_lock once the slot is published). */
SPROF_ONCE static void read_name(struct sprof_thread *t, int self)
{
    char name[SPROF_NAME_MAX];
    if (sprof_thread_name_of(t->tid, self, name) == 0) sprof_thread_set_name(t, name);
}

/* where _start found argc, the initial thread's highest frame (ld.so) */
extern void *__libc_stack_end;

/* The initial thread's stack: from the top of the page where _start found
 * its arguments down by the stack size limit, which the kernel counts from
 * a little higher (the arguments and environment are above), so that the
 * range is all stack the thread may use. glibc's pthread_getattr_np reads
 * all of /proc/self/maps for the mapping (20 us here, in every process).
 * -1 with no limit: the mapping below could be anywhere. */
static int main_stack(uintptr_t *lo, uintptr_t *hi)
{
    uintptr_t top = ((uintptr_t)__libc_stack_end + 4095) & ~(uintptr_t)4095;
    struct rlimit rl;
    if (!__libc_stack_end || sys_getrlimit(RLIMIT_STACK, &rl) != 0 ||
        rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= top)
        return -1;
    *lo = top - (uintptr_t)rl.rlim_cur;
    *hi = top;
    return 0;
}

/* Bounds of the calling thread's stack (thread tid), for the unwinders: 0,
 * or -1 when unknown. */
static int stack_bounds(pid_t tid, uintptr_t *lo, uintptr_t *hi)
{
    pthread_attr_t a;
    void *addr;
    size_t size;
    if (tid == sprof.pid && main_stack(lo, hi) == 0 && (uintptr_t)&a >= *lo && (uintptr_t)&a < *hi)
        return 0;
    if (pthread_getattr_np(pthread_self(), &a) != 0) return -1;
    int r = pthread_attr_getstack(&a, &addr, &size);
    pthread_attr_destroy(&a);
    if (r != 0) return -1;
    *lo = (uintptr_t)addr;
    *hi = (uintptr_t)addr + size;
    return 0;
}

/* Creates and publishes a slot for tid and arms its timer. when: the
 * thread's start, if the caller knows it (0: now). Returns the slot, or
 * NULL (the thread then goes unsampled). */
SPROF_ONCE struct sprof_thread *sprof_thread_register(pid_t tid, int external, int self,
                                                      uint64_t when)
{
    /* what needs no lock first (sprof_timer_prepare) */
    uint64_t start_ns = when ? when : sprof_now();
    uintptr_t lo = 0, hi = 0;
    if (self && stack_bounds(tid, &lo, &hi) != 0) lo = hi = 0;
    struct sprof_timer_pre pre;
    int r = sprof_timer_prepare(tid, start_ns, &pre);
    pthread_mutex_lock(&sprof.reg_lock);
    struct sprof_thread *t = sprof_thread_find(tid);
    if (t) {
        /* found by the /proc scan first: the thread knows its own stack */
        if (self && hi && !atomic_load(&t->stack_hi)) {
            atomic_store(&t->stack_lo, lo);
            atomic_store(&t->stack_hi, hi);
        }
        pthread_mutex_unlock(&sprof.reg_lock);
        sprof_timer_pre_drop(&pre);
        return t;
    }
    unsigned i, used = sprof_slots_end();
    for (i = 0; i < used && *sprof_slot_ref(i); i++) {
    }
    if (i == MAX_THREADS || !(t = slot_alloc())) {
        pthread_mutex_unlock(&sprof.reg_lock);
        sprof_timer_pre_drop(&pre);
        return NULL;
    }
    __atomic_store_n(&t->tid, tid, __ATOMIC_RELAXED); /* the itimer scan reads it */
    t->index = i;
    t->external = external;
    t->start_ns = start_ns;
    atomic_store(&t->stack_lo, lo);
    atomic_store(&t->stack_hi, hi);
    /* a thread that registers itself has its name read by the writer's
     * first drain, which announces it, or by its end (init.c, thread_exit):
     * most processes of a build or a script take no sample, and never need
     * it */
    if (!self) read_name(t, 0);
    atomic_store(&t->state, SLOT_ACTIVE);
    own_running += !external;
    sprof_thread_publish(i, t);
    if (i == used) atomic_store_explicit(&sprof.nslots, used + 1, memory_order_release);
    /* (stopped meanwhile: sprof_threads_disarm_all came first) */
    if (r == 0 && atomic_load(&sprof.running)) r = sprof_timer_arm_with(t, &pre);
    pthread_mutex_unlock(&sprof.reg_lock);
    sprof_timer_pre_drop(&pre);
    if (r < 0 && r != -ESRCH) {
        static int said;
        if (!__atomic_exchange_n(&said, 1, __ATOMIC_RELAXED))
            sprof_warn("cannot arm the %s timer of thread %d (%s), it is not sampled",
                       sprof_backend_name(sprof.backend), (int)tid, strerror(-r));
    }
    /* a thread registered by another (its stack bounds are for the writer
     * to find) is announced at once; one that registered itself, at the
     * writer's next step: a writer woken at a process's start works beside
     * the main thread's startup, and its memory mappings there stalled the
     * main thread's page faults for milliseconds on the benchmark machine
     * (BENCHMARKS.md, exec) */
    if (external) sprof_wake_writer();
    return t;
}

/* The thread is gone or going: no more samples from it. The writer drains
 * its ring, writes its end and frees the slot. self: t is the calling
 * thread, which ends (its name is read one last time, for threads that
 * rename themselves and end within a second). Returns how many threads
 * that registered themselves (the initial one, pthread_create's) are still
 * running. What needs no lock is done before it is taken: a program that
 * starts and ends threads by the thousand has them wait on one another
 * there (tests/progs/shortthreads.c: 1.5 futex calls a thread, against
 * 0.2 under the floor, before session 38; 0.6 since). */
SPROF_ONCE unsigned sprof_thread_end(struct sprof_thread *t, int self)
{
    char name[SPROF_NAME_MAX];
    int named = self && sprof_thread_name_of(t->tid, 1, name) == 0;
    uint64_t end_ns = sprof_now(), cpu_ns = sprof_thread_cpu_ns(t->tid);
    pthread_mutex_lock(&sprof.reg_lock);
    if (named) sprof_thread_set_name(t, name);
    sprof_timer_disarm(t, self);
    t->end_ns = end_ns;
    t->cpu_ns = cpu_ns;
    if (atomic_exchange(&t->state, SLOT_ENDED) == SLOT_ACTIVE && !t->external) own_running--;
    unsigned own = own_running;
    pthread_mutex_unlock(&sprof.reg_lock);
    return own;
}

SPROF_ONCE void sprof_threads_disarm_all(void)
{
    pthread_mutex_lock(&sprof.reg_lock);
    for (unsigned i = 0, used = sprof_slots_end(); i < used; i++) {
        struct sprof_thread *t = *sprof_slot_ref(i);
        if (t && atomic_load(&t->state) == SLOT_ACTIVE) sprof_timer_disarm(t, 0);
    }
    pthread_mutex_unlock(&sprof.reg_lock);
}

/* Timers the program closed (sprof_timer_lost) are armed again, while
 * sampling runs: a daemon that closes every descriptor at its start is
 * still sampled after it. The writer calls this once a second: one system
 * call a thread. Returns how many were lost. */
unsigned sprof_threads_rearm_lost(void)
{
    unsigned lost = 0;
    if (sprof.backend != BACKEND_PERF) return 0;
    pthread_mutex_lock(&sprof.reg_lock);
    for (unsigned i = 0, used = sprof_slots_end(); i < used; i++) {
        struct sprof_thread *t = *sprof_slot_ref(i);
        if (!t || atomic_load(&t->state) != SLOT_ACTIVE || !sprof_timer_lost(t)) continue;
        lost++;
        if (atomic_load(&sprof.running)) sprof_timer_arm(t);
    }
    pthread_mutex_unlock(&sprof.reg_lock);
    return lost;
}

void sprof_threads_arm_all(void)
{
    pthread_mutex_lock(&sprof.reg_lock);
    for (unsigned i = 0, used = sprof_slots_end(); i < used; i++) {
        struct sprof_thread *t = *sprof_slot_ref(i);
        if (t && atomic_load(&t->state) == SLOT_ACTIVE) sprof_timer_arm(t);
    }
    pthread_mutex_unlock(&sprof.reg_lock);
}

static int tid_alive(pid_t tid, const pid_t *tids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (tids[i] == tid) return 1;
    return 0;
}

/* The scan's descriptor of /proc/self/task, kept from one scan to the
 * next (writer thread only): opening the directory again at each scan
 * walked procfs's path and made its dentries anew, 25-35 us of a scan's
 * 50-100 in a writer woken every 250 ms, and opendir's buffer came from
 * the heap (BENCHMARKS.md, session 45). task_dev and task_ino tell that the
 * number is still that directory: a program may close descriptors it did
 * not open (close_range, closefrom) and get the number again for a file of
 * its own, which sprof then neither reads, rewinds nor closes. In a child
 * of fork the directory is its parent's (task_stale): it is closed at the
 * child's first scan, or at once in a child that is not profiled, or by
 * its exec or exit. */
static int task_fd = -1, task_stale;
static dev_t task_dev;
static ino_t task_ino;

/* st: the directory's, where it is ours */
static int task_dir_ours(struct stat *st)
{
    return sys_fstat(task_fd, st) == 0 && st->st_dev == task_dev && st->st_ino == task_ino;
}

SPROF_ONCE void sprof_threads_close_parent_dir(void)
{
    struct stat st;
    if (task_fd >= 0 && task_stale && task_dir_ours(&st)) sys_close(task_fd);
    task_fd = -1;
    task_stale = 0;
}

static int task_dir(void)
{
    struct stat st;
    if (task_stale) sprof_threads_close_parent_dir();
    if (task_fd >= 0 && !task_dir_ours(&st)) task_fd = -1; /* the number is not ours */
    if (task_fd >= 0) return sys_lseek(task_fd, 0, SEEK_SET) == 0 ? task_fd : -1;
    int fd = sprof_open("/proc/self/task", O_RDONLY | O_DIRECTORY, 0);
    if (fd < 0) return -1;
    if (sys_fstat(fd, &st)) {
        sys_close(fd);
        return -1;
    }
    task_dev = st.st_dev;
    task_ino = st.st_ino;
    return task_fd = fd;
}

/* How many threads the kernel counts in this process, -1 if it cannot
 * tell: the links of /proc/self/task, two and one a thread (by the scan's
 * descriptor once it has one, a single fstat). Under the writer's lock. */
int sprof_threads_counted(void)
{
    struct stat st;
    int kept = task_fd >= 0 && !task_stale && task_dir_ours(&st);
    if (!kept && sys_fstatat(AT_FDCWD, "/proc/self/task", &st, 0) != 0) return -1;
    return st.st_nlink >= 3 ? (int)st.st_nlink - 2 : -1;
}

struct tid_list {
    pid_t tids[MAX_THREADS];
    size_t n;
};

static void add_tid(const char *name, void *arg)
{
    struct tid_list *l = arg;
    pid_t tid = 0;
    for (; *name >= '0' && *name <= '9'; name++)
        tid = tid * 10 + (*name - '0');
    if (!*name && tid > 0 && l->n < MAX_THREADS) l->tids[l->n++] = tid;
}

/* Writer thread, every drain (100 ms after its start, then every 250 ms;
 * writer.c): registers threads nobody told us about and
 * ends the external ones that are gone. */
void sprof_threads_scan(pid_t writer_tid)
{
    int fd = task_dir();
    if (fd < 0) return;
    struct tid_list l;
    l.n = 0;
    /* a list cut short would end threads that run */
    if (sprof_dir_each(fd, add_tid, &l) < 0) return;
    pid_t *tids = l.tids;
    size_t n = l.n;
    for (size_t i = 0; i < n; i++) {
        if (tids[i] == writer_tid) continue;
        pthread_mutex_lock(&sprof.reg_lock);
        int known = sprof_thread_find(tids[i]) != NULL;
        pthread_mutex_unlock(&sprof.reg_lock);
        if (!known) sprof_thread_register(tids[i], 1, 0, 0);
    }
    for (unsigned i = 0, used = sprof_slots_end(); i < used; i++) {
        /* slots are published by threads registering themselves */
        struct sprof_thread *t = __atomic_load_n(sprof_slot_ref(i), __ATOMIC_ACQUIRE);
        if (t && t->external && atomic_load(&t->state) == SLOT_ACTIVE &&
            !tid_alive(t->tid, tids, n))
            sprof_thread_end(t, 0);
    }
}

#ifndef MADV_WIPEONFORK
#define MADV_WIPEONFORK 18 /* Linux 4.14 */
#endif

/* Before a fork, in the parent, under reg_lock: the rings and rule caches
 * of its threads are left out of the child (MADV_WIPEONFORK: it gets
 * zeros there, an empty ring and an empty cache, as after_fork_child would
 * make them). A fork write-protects every page the child gets a copy of,
 * and the parent's handler then took a page fault at its first write to
 * each after every fork: a shell that forks for each command took 2 or 3
 * in the handler at each (a sample's median time 4-14 us against 0.5 in
 * the same shell not forking, BENCHMARKS.md, session 30), and the fork
 * copied the ring's page-table entries. Once a slot: the mark stays on
 * its pages, in the child's too. The pages shared with the thread's
 * struct, which the child needs, are left as they are; where the kernel
 * refuses (before 4.14), nothing changes. */
SPROF_ONCE void sprof_threads_before_fork(void)
{
    for (unsigned i = 0, used = sprof_slots_end(); i < used; i++) {
        struct sprof_thread *t = *sprof_slot_ref(i);
        if (!t || t->wipe_on_fork || atomic_load(&t->state) != SLOT_ACTIVE) continue;
        t->wipe_on_fork = 1;
        /* to the end of the rule cache's page, the shared frames'
         * included (the first slot's ring and cache follow the start's
         * arena) */
        uintptr_t from = ((uintptr_t)t->ring + 4095) & ~(uintptr_t)4095,
                  to = (uintptr_t)t->rules + 4096;
        if (to > from) (void)sys_madvise((void *)from, to - from, MADV_WIPEONFORK);
    }
}

/* In the child of fork: only the calling thread exists, with a new tid.
 * Other slots are dropped (their fds and rings belong to the parent's
 * threads); the forking thread's (parent_tid's) slot becomes ours, reset,
 * and re-armed by the caller. */
SPROF_ONCE void sprof_threads_after_fork_child(pid_t parent_tid, pid_t self_tid, uint64_t now)
{
    sprof_mutex_renew(&sprof.reg_lock);
    task_stale = task_fd >= 0;
    atomic_store(&sprof_posix_fallbacks, 0); /* the parent's threads' */
    own_running = 0;
    for (unsigned i = 0, used = sprof_slots_end(); i < used; i++) {
        struct sprof_thread *t = *sprof_slot_ref(i);
        if (!t) continue;
        sprof_timer_drop_inherited(t);
        if (t->tid == parent_tid && atomic_load(&t->state) == SLOT_ACTIVE) {
            t->tid = self_tid;
            sprof_thread_publish(i, t);
            atomic_store(&t->head, 0);
            atomic_store(&t->tail, 0);
            t->ring_ready = t->ring_seen = 0; /* its pages are the parent's until written */
            /* the entries that the shared frames were those of are gone */
            t->share_h = t->share_w = t->prev_n = 0;
            t->prev_id_ok = 0;
            t->memo_n = t->memo_rest = 0;
            atomic_store(&t->resync, 0);
            atomic_store(&t->samples, 0);
            atomic_store(&t->lost, 0);
            atomic_store(&t->truncated, 0);
            atomic_store(&t->handler_ns, 0);
            atomic_store(&t->reentered, 0);
            atomic_store(&t->unwind_fallback, 0);
            atomic_store(&t->unwind_inplace, 0);
            for (unsigned k = 0; k < SPROF_HIST_BUCKETS; k++)
                atomic_store(&t->hist[k], 0);
            t->announced = 0;
            t->name_ns = 0; /* read when announced in the child's file */
            t->start_ns = now;
            t->last_cpu_ns = 0;
            /* a wiped rule cache is not in the page tables: its first walk
             * reading a slot would map the zero page, its first rule then a
             * second fault; made stale, it is cleared first, one fault a
             * page (unwind.c) */
            if (t->wipe_on_fork) t->rules_gen = UINT64_MAX;
            own_running += !t->external;
            continue;
        }
        sprof_thread_publish(i, NULL);
        thread_free(t);
    }
}
