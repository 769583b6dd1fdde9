/* CBaselines: shared helpers and the bl_roundtrip driver. */
#include "internal.h"

#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

const char *bl_transport_name(bl_transport t) {
    switch (t) {
    case BL_UDS_SEQPACKET: return "uds-seqpacket";
    case BL_PIPE: return "pipe";
    case BL_FUTEX: return "futex";
    case BL_SPIN: return "spin";
    case BL_RING: return "ring";
    }
    return "unknown";
}

uint64_t bl__now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void bl__sleep_ns(uint64_t ns) {
    struct timespec ts = { (time_t)(ns / 1000000000u), (long)(ns % 1000000000u) };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

long bl__futex(uint32_t *word, int op, uint32_t val, const struct timespec *timeout) {
    return syscall(SYS_futex, word, op, val, timeout, NULL, 0);
}

int bl__pin(int cpu) {
    if (cpu < 0) return 0;
    if (cpu >= CPU_SETSIZE) return -EINVAL;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof set, &set) == 0 ? 0 : -errno;
}

int bl__alive(pid_t child) {
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (waitid(P_PID, (id_t)child, &si, WEXITED | WNOHANG | WNOWAIT) != 0) return errno == EINTR;
    return si.si_pid == 0;
}

void bl__child_enter(pid_t parent, int cpu) {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(ECHILD);
    int rc = bl__pin(cpu);
    if (rc != 0) _exit(-rc);
}

int bl__reap(pid_t child, int graceful) {
    int st = 0;
    if (graceful) {
        uint64_t deadline = bl__now_ns() + BL_STALL_NS;
        for (;;) {
            pid_t r = waitpid(child, &st, WNOHANG);
            if (r == child) goto reaped;
            if (r < 0 && errno != EINTR) return ECHILD;
            if (bl__now_ns() >= deadline) break;
            bl__sleep_ns(20000);
        }
    }
    kill(child, SIGKILL);
    while (waitpid(child, &st, 0) < 0)
        if (errno != EINTR) return ECHILD;
    if (graceful) return ETIMEDOUT;
reaped:
    if (WIFEXITED(st)) return WEXITSTATUS(st);
    return ECHILD;
}

int bl__map_shared(size_t len, uint8_t **out) {
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return -errno;
    memset(p, 0, len);
    *out = p;
    return 0;
}

int bl__shm_open(bl_ctx *c) {
    c->shm_len = sizeof(bl_shm) + 2 * bl__round(c->n, BL_LINE);
    return bl__map_shared(c->shm_len, &c->shm);
}

void bl__shm_close(bl_ctx *c) {
    if (c->shm) munmap(c->shm, c->shm_len);
}

void bl__respond(uint8_t *p, size_t n) {
    p[0] = (uint8_t)(p[0] + 1u);
    p[n - 1] = (uint8_t)(p[n - 1] + 2u);
}

/* Marks request i in its first and last byte. */
static void stamp(uint8_t *p, size_t n, uint64_t i) {
    p[n - 1] = (uint8_t)(i * 131u + 7u);
    p[0] = (uint8_t)i;
}

/* Whether p is bl__respond applied to request i. */
static int reply_ok(const uint8_t *p, size_t n, uint64_t i) {
    uint8_t first = (uint8_t)i, last = (uint8_t)(i * 131u + 7u);
    if (n == 1) return p[0] == (uint8_t)(first + 3u);
    return p[0] == (uint8_t)(first + 1u) && p[n - 1] == (uint8_t)(last + 2u);
}

/* Kills the child when the parent makes no progress for stall_ns, which unblocks a parent
 * stuck in a plain blocking read or write (the fd transports need no per-call timeout). */
typedef struct watchdog {
    pid_t child;
    uint64_t stall_ns;
    uint64_t progress;  /* bumped by the parent per round trip */
    uint32_t done;      /* futex word: 1 = stop watching */
    uint32_t fired;     /* 1 = the child was killed for a stall */
    pthread_t thread;
} watchdog;

static void *watchdog_main(void *arg) {
    watchdog *w = arg;
    const struct timespec slice = { 0, 250000000 };
    uint64_t seen = 0, since = bl__now_ns();
    for (;;) {
        bl__futex(&w->done, FUTEX_WAIT_PRIVATE, 0, &slice);
        if (__atomic_load_n(&w->done, __ATOMIC_ACQUIRE)) return NULL;
        uint64_t p = __atomic_load_n(&w->progress, __ATOMIC_RELAXED), now = bl__now_ns();
        if (p != seen) {
            seen = p;
            since = now;
        } else if (now - since >= w->stall_ns) {
            __atomic_store_n(&w->fired, 1, __ATOMIC_RELEASE);
            kill(w->child, SIGKILL);
            return NULL;
        }
    }
}

static void watchdog_stop(watchdog *w) {
    __atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
    bl__futex(&w->done, FUTEX_WAKE_PRIVATE, 1, NULL);
    pthread_join(w->thread, NULL);
}

static const bl_ops *ops_for(bl_transport t) {
    switch (t) {
    case BL_UDS_SEQPACKET: return &bl__uds_ops;
    case BL_PIPE: return &bl__pipe_ops;
    case BL_FUTEX: return &bl__futex_ops;
    case BL_SPIN: return &bl__spin_ops;
    case BL_RING: break;
    }
    return NULL;
}

/* Parent side once the child runs: the timed loop. Returns 0 or -errno. */
static int requester(const bl_ops *ops, bl_ctx *c, watchdog *w, uint64_t warmup,
                     uint64_t iterations, int cpu, uint64_t idle_gap_ns, uint64_t *samples_ns) {
    int rc = bl__pin(cpu);
    for (uint64_t i = 0; rc == 0 && i < warmup + iterations; i++) {
        stamp(c->req, c->n, i);
        if (i >= warmup && idle_gap_ns) bl__sleep_ns(idle_gap_ns);
        uint64_t t0 = bl__now_ns();
        rc = ops->call(c);
        uint64_t t1 = bl__now_ns();
        if (rc == 0 && !reply_ok(c->rep, c->n, i)) rc = -EIO;
        if (i >= warmup) samples_ns[i - warmup] = t1 - t0;
        __atomic_store_n(&w->progress, i + 1, __ATOMIC_RELAXED);
    }
    return rc;
}

int bl_roundtrip(bl_transport t, size_t payload, uint64_t warmup, uint64_t iterations,
                 int cpu_requester, int cpu_responder, uint64_t idle_gap_ns,
                 uint64_t *samples_ns) {
    const bl_ops *ops = ops_for(t);
    if (!ops || payload == 0 || payload > BL_MAX_PAYLOAD || (iterations && !samples_ns) ||
        cpu_requester < -1 || cpu_responder < -1)
        return -EINVAL;

    bl_ctx c = { .n = payload, .fd = { -1, -1, -1, -1 }, .child = -1 };
    c.req = malloc(2 * payload);
    if (!c.req) return -ENOMEM;
    c.rep = c.req + payload;
    for (size_t k = 0; k < 2 * payload; k++) c.req[k] = (uint8_t)(k * 37u + 11u);

    int rc = ops->open(&c);
    if (rc != 0) {
        ops->close(&c);
        free(c.req);
        return rc;
    }

    /* A write to a pipe whose reader died must fail with EPIPE, not kill the caller. */
    sigset_t sigpipe, old_mask, pending;
    sigemptyset(&sigpipe);
    sigaddset(&sigpipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &sigpipe, &old_mask);
    sigpending(&pending);
    int sigpipe_was_pending = sigismember(&pending, SIGPIPE);

    cpu_set_t saved_cpus;
    int have_saved = sched_getaffinity(0, sizeof saved_cpus, &saved_cpus) == 0;

    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        bl__child_enter(parent, cpu_responder);
        _exit(ops->serve(&c));
    }
    if (pid < 0) {
        rc = -errno;
    } else {
        c.child = pid;
        if (ops->parent) ops->parent(&c);
        watchdog w = { .child = pid, .stall_ns = BL_STALL_NS + idle_gap_ns };
        int err = pthread_create(&w.thread, NULL, watchdog_main, &w);
        if (err != 0) {
            rc = -err;
        } else {
            rc = requester(ops, &c, &w, warmup, iterations, cpu_requester, idle_gap_ns,
                           samples_ns);
            if (rc == 0) ops->stop(&c);
            watchdog_stop(&w);
        }
        int child_err = bl__reap(pid, rc == 0);
        if (w.fired) rc = -ETIMEDOUT;
        else if (rc == 0 || (rc == -ECHILD && child_err != 0)) rc = -child_err;
    }

    if (have_saved && cpu_requester >= 0) sched_setaffinity(0, sizeof saved_cpus, &saved_cpus);
    sigpending(&pending);
    if (!sigpipe_was_pending && sigismember(&pending, SIGPIPE)) {
        struct timespec zero = { 0, 0 };
        sigtimedwait(&sigpipe, NULL, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
    ops->close(&c);
    free(c.req);
    return rc;
}
