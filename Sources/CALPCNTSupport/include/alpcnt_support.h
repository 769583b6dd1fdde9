/*
 * alpcnt_support.h - the Linux calls behind libalpc's NT basics that Swift cannot make
 * directly (variadic syscall(), GNU-only declarations). Each returns what the call returns,
 * or a negative errno where it says so.
 */
#ifndef ALPCNT_SUPPORT_H
#define ALPCNT_SUPPORT_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_setfsuid
#define SYS_setfsuid 122
#endif

/** A pidfd for pid (a process, or a thread with flags 0x80 = PIDFD_THREAD); -errno on failure. */
static inline int alpcnt_pidfd_open(int32_t pid, unsigned int flags) {
    long fd = syscall(SYS_pidfd_open, pid, flags);
    return fd < 0 ? -errno : (int)fd;
}

/** The PIDFD_THREAD flag of pidfd_open (Linux 6.9 and later). */
#define ALPCNT_PIDFD_THREAD 0x80u

/** Sets the calling thread's filesystem uid; returns the previous one (setfsuid(2)). */
static inline int32_t alpcnt_setfsuid(uint32_t uid) { return (int32_t)syscall(SYS_setfsuid, uid); }
/** Sets the calling thread's filesystem gid; returns the previous one (setfsgid(2)). */
static inline int32_t alpcnt_setfsgid(uint32_t gid) { return (int32_t)syscall(SYS_setfsgid, gid); }

/** The calling thread's id. */
static inline int32_t alpcnt_gettid(void) { return (int32_t)syscall(SYS_gettid); }

/** A close-on-exec eventfd with count 0; -errno on failure. */
static inline int alpcnt_eventfd(void) {
    int fd = eventfd(0, EFD_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

/** Adds 1 to an eventfd's count. */
static inline void alpcnt_eventfd_signal(int fd) {
    uint64_t one = 1;
    ssize_t written;
    do { written = write(fd, &one, sizeof one); } while (written < 0 && errno == EINTR);
}

/**
 * Waits up to timeout_ms (-1: forever) for fd to be readable (or hung up): 1 when it is, 0 on
 * timeout, -errno on failure (-EBADF for a descriptor that is not open).
 */
static inline int alpcnt_wait_readable(int fd, int timeout_ms) {
    struct pollfd pfd = { .fd = fd, .events = POLLIN, .revents = 0 };
    int result = poll(&pfd, 1, timeout_ms);
    if (result < 0) return -errno;
    if (result == 1 && (pfd.revents & POLLNVAL)) return -EBADF;
    return result;
}

/** True when fd is an open descriptor. */
static inline int alpcnt_is_open(int fd) { return fd >= 0 && fcntl(fd, F_GETFD) >= 0; }

#endif /* ALPCNT_SUPPORT_H */
