/*
 * sys.h - small Linux system-call helpers that Swift cannot call directly: futexes on shared
 * memory (not the PRIVATE variants, which only the *_private helpers for the process's own
 * locks use: ring words live in segments shared between processes),
 * memfd segments with seals, and the current CPU. Each returns 0 or a negative errno.
 *
 * Swift imports glibc as a prebuilt module without _GNU_SOURCE, so nothing here may rely on
 * GNU-only declarations: memfd_create and getcpu are reached through syscall(), and the seal
 * constants are spelled out (their values are the kernel ABI).
 */
#ifndef ALPC_SYS_H
#define ALPC_SYS_H

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A FUTEX_WAIT or FUTEX_WAKE of the kind `op` says (with FUTEX_PRIVATE_FLAG or not). */
static inline int alpc_futex_wait_op(uint32_t *word, uint32_t expected, int64_t timeout_ns, int op) {
    struct timespec ts, *tsp = NULL;
    if (timeout_ns >= 0) {
        ts.tv_sec = (time_t)(timeout_ns / 1000000000);
        ts.tv_nsec = (long)(timeout_ns % 1000000000);
        tsp = &ts;
    }
    long rc = syscall(SYS_futex, word, op, expected, tsp, NULL, 0);
    return rc == 0 ? 0 : -errno;
}

static inline int alpc_futex_wake_op(uint32_t *word, int count, int op) {
    long rc = syscall(SYS_futex, word, op, count, NULL, NULL, 0);
    return rc >= 0 ? (int)rc : -errno;
}

/**
 * Sleeps while *word == expected, for at most timeout_ns nanoseconds (negative: no limit).
 * Returns 0 when woken, -EAGAIN when *word != expected on entry, -ETIMEDOUT, or -EINTR.
 */
static inline int alpc_futex_wait(uint32_t *word, uint32_t expected, int64_t timeout_ns) {
    return alpc_futex_wait_op(word, expected, timeout_ns, FUTEX_WAIT);
}

/** Wakes up to count waiters sleeping on word. Returns the number woken or a negative errno. */
static inline int alpc_futex_wake(uint32_t *word, int count) {
    return alpc_futex_wake_op(word, count, FUTEX_WAKE);
}

/** As alpc_futex_wait, for a word only this process uses (cheaper for the kernel). */
static inline int alpc_futex_wait_private(uint32_t *word, uint32_t expected, int64_t timeout_ns) {
    return alpc_futex_wait_op(word, expected, timeout_ns, FUTEX_WAIT | FUTEX_PRIVATE_FLAG);
}

/** As alpc_futex_wake, for a word only this process uses. */
static inline int alpc_futex_wake_private(uint32_t *word, int count) {
    return alpc_futex_wake_op(word, count, FUTEX_WAKE | FUTEX_PRIVATE_FLAG);
}

/* The kernel ABI of memfd_create(2) and file seals (fcntl(2)). */
#define ALPC_MFD_CLOEXEC 0x0001u
#define ALPC_MFD_ALLOW_SEALING 0x0002u
#define ALPC_F_ADD_SEALS 1033
#define ALPC_F_GET_SEALS 1034
#define ALPC_F_SEAL_SEAL 0x0001
#define ALPC_F_SEAL_SHRINK 0x0002
#define ALPC_F_SEAL_GROW 0x0004
#define ALPC_F_SEAL_WRITE 0x0008

/** A new anonymous memory file of size bytes that can be sealed; returns the fd or a negative errno. */
static inline int alpc_memfd_create(const char *name, uint64_t size) {
    int fd = (int)syscall(SYS_memfd_create, name, ALPC_MFD_CLOEXEC | ALPC_MFD_ALLOW_SEALING);
    if (fd < 0) return -errno;
    if (ftruncate(fd, (off_t)size) != 0) {
        int err = errno;
        close(fd);
        return -err;
    }
    return fd;
}

/** Seals fd against shrinking, growing and further sealing, so a peer cannot truncate it under us. */
static inline int alpc_memfd_seal(int fd) {
    return fcntl(fd, ALPC_F_ADD_SEALS, ALPC_F_SEAL_SHRINK | ALPC_F_SEAL_GROW | ALPC_F_SEAL_SEAL) == 0 ? 0 : -errno;
}

/** The seals of fd, or a negative errno (-EINVAL when fd is not a memfd). */
static inline int alpc_memfd_seals(int fd) {
    int seals = fcntl(fd, ALPC_F_GET_SEALS);
    return seals >= 0 ? seals : -errno;
}

/** The CPU the calling thread runs on, or -1. On x86-64 it reads the CPU number Linux keeps in
 *  TSC_AUX (rdtscp: no system call); elsewhere it asks getcpu(2). */
static inline int alpc_current_cpu(void) {
#if defined(__x86_64__)
    unsigned int aux;
    (void)__builtin_ia32_rdtscp(&aux);
    return (int)(aux & 0xFFFu);
#else
    unsigned int cpu;
    return syscall(SYS_getcpu, &cpu, NULL, NULL) == 0 ? (int)cpu : -1;
#endif
}

/** The calling thread's kernel thread id (one system call per thread, then cached; a fork resets the cache). */
int32_t alpc_gettid(void);

/* The calling thread's ids as alpc_current_ids returns them, the fork generation they were read
 * in (0: not yet), and the process's generation, which a fork advances in the child (sys.c).
 * initial-exec: in libalpc.so the default model would call __tls_get_addr on every message. */
extern __thread __attribute__((tls_model("initial-exec"))) uint64_t alpc__cached_ids;
extern __thread __attribute__((tls_model("initial-exec"))) uint32_t alpc__cached_generation;
extern uint32_t alpc__fork_generation;

/** Reads the calling thread's ids into the cache and returns them (alpc_current_ids' slow path). */
uint64_t alpc__refresh_ids(void);

/** The calling process's id in the high 32 bits and the calling thread's in the low 32 (cached
 *  as alpc_gettid's is): a message's sender stamp, read inline from the cache. */
static inline uint64_t alpc_current_ids(void) {
    if (__builtin_expect(alpc__cached_generation == __atomic_load_n(&alpc__fork_generation, __ATOMIC_RELAXED), 1))
        return alpc__cached_ids;
    return alpc__refresh_ids();
}

/** A spin-wait hint to the CPU. */
/**
 * Asks for the cache line at `address` to be brought into this CPU's cache, to be read soon (a
 * hint: it never faults and may be ignored).
 */
static inline void alpc_prefetch_read(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

/**
 * Asks for the cache line at `address` to be brought into this CPU's cache and owned, to be
 * written soon: another CPU's copy is invalidated now rather than when the write comes (a hint:
 * it never faults and may be ignored; PREFETCHW on x86, a no-op on the oldest x86 CPUs).
 */
static inline void alpc_prefetch_write(void *address) {
#if defined(__x86_64__) || defined(__i386__)
    __asm__ __volatile__("prefetchw %0" : : "m"(*(const char *)address));
#else
    __builtin_prefetch(address, 1, 3);
#endif
}

static inline void alpc_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/** Monotonic time in nanoseconds. */
static inline uint64_t alpc_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#ifdef __cplusplus
}
#endif

#endif /* ALPC_SYS_H */
