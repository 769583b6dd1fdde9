/*
 * sys.h - small Linux system-call helpers that Swift cannot call directly: futexes on shared
 * memory (never the PRIVATE variants: the words live in segments shared between processes),
 * memfd segments with seals, and the current CPU. Each returns 0 or a negative errno.
 */
#ifndef ALPC_SYS_H
#define ALPC_SYS_H

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Sleeps while *word == expected, for at most timeout_ns nanoseconds (negative: no limit).
 * Returns 0 when woken, -EAGAIN when *word != expected on entry, -ETIMEDOUT, or -EINTR.
 */
static inline int alpc_futex_wait(uint32_t *word, uint32_t expected, int64_t timeout_ns) {
    struct timespec ts, *tsp = NULL;
    if (timeout_ns >= 0) {
        ts.tv_sec = (time_t)(timeout_ns / 1000000000);
        ts.tv_nsec = (long)(timeout_ns % 1000000000);
        tsp = &ts;
    }
    long rc = syscall(SYS_futex, word, FUTEX_WAIT, expected, tsp, NULL, 0);
    return rc == 0 ? 0 : -errno;
}

/** Wakes up to count waiters sleeping on word. Returns the number woken or a negative errno. */
static inline int alpc_futex_wake(uint32_t *word, int count) {
    long rc = syscall(SYS_futex, word, FUTEX_WAKE, count, NULL, NULL, 0);
    return rc >= 0 ? (int)rc : -errno;
}

/** A new anonymous memory file of size bytes that can be sealed; returns the fd or a negative errno. */
static inline int alpc_memfd_create(const char *name, uint64_t size) {
    int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
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
    return fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) == 0 ? 0 : -errno;
}

/** The seals of fd, or a negative errno (-EINVAL when fd is not a memfd). */
static inline int alpc_memfd_seals(int fd) {
    int seals = fcntl(fd, F_GET_SEALS);
    return seals >= 0 ? seals : -errno;
}

/** The CPU the calling thread runs on, or -1. */
static inline int alpc_current_cpu(void) { return sched_getcpu(); }

/** The calling thread's kernel thread id. */
static inline int32_t alpc_gettid(void) { return (int32_t)syscall(SYS_gettid); }

/** A spin-wait hint to the CPU. */
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
