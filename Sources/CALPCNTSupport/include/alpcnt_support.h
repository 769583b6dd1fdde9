/*
 * alpcnt_support.h - the Linux calls behind libalpc's NT basics that Swift cannot make
 * directly (variadic syscall(), GNU-only declarations), each returning what the call returns
 * or a negative errno where it says so; and the calling thread's port cache, which needs
 * thread-local storage.
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

/*
 * The calling thread's port cache: the port handles it last used for message calls, their
 * ports, and the message wrappers of its last send and last receive on each (objects of the
 * Swift side, each retained for the cache), so that a program that calls
 * NtAlpcSendWaitReceivePort on the same few handles again and again finds its port and its
 * wrappers without a lock, a reference count or any other atomic instruction. Entries count
 * only while alpcnt__handle_epoch, which every close of a port handle advances, has the value
 * it had when they were made. A thread's entries are released when they are replaced, when the
 * thread closes their handle, and when the thread exits.
 */
#define ALPCNT_PORT_CACHE_ENTRIES 4
/* The wrappers of an entry: of the last send, of the last receive. */
#define ALPCNT_SEND_WRAPPER 0
#define ALPCNT_RECEIVE_WRAPPER 1
struct alpcnt_port_cache {
    void *handle[ALPCNT_PORT_CACHE_ENTRIES];
    void *port[ALPCNT_PORT_CACHE_ENTRIES];
    void *wrapper[ALPCNT_PORT_CACHE_ENTRIES][2];
    uint64_t epoch;
    /* The entry the next new handle takes. */
    uint32_t next;
};
extern __thread __attribute__((tls_model("initial-exec"))) struct alpcnt_port_cache alpcnt__port_cache;
extern uint64_t alpcnt__handle_epoch;

/** This thread's entry for handle (-1: none, or stale). */
static inline int alpcnt_cached_port_index(void *handle) {
    if (handle == NULL ||
        __builtin_expect(alpcnt__port_cache.epoch != __atomic_load_n(&alpcnt__handle_epoch, __ATOMIC_ACQUIRE), 0))
        return -1;
    for (int index = 0; index < ALPCNT_PORT_CACHE_ENTRIES; index++)
        if (alpcnt__port_cache.handle[index] == handle) return index;
    return -1;
}

/** The port of this thread's entry index, borrowed. */
static inline void *alpcnt_cached_port_at(int index) { return alpcnt__port_cache.port[index]; }

/** Where this thread's entry index keeps a wrapper (which: ALPCNT_SEND_WRAPPER or
 * ALPCNT_RECEIVE_WRAPPER): a retained object, or NULL. */
static inline void **alpcnt_cached_wrapper(int index, int which) { return &alpcnt__port_cache.wrapper[index][which]; }

/** The handle epoch, read before looking a handle up to cache what is found. */
static inline uint64_t alpcnt_handle_epoch(void) { return __atomic_load_n(&alpcnt__handle_epoch, __ATOMIC_ACQUIRE); }

/** Invalidates every thread's cached ports: a port handle was closed (after it left the table). */
static inline void alpcnt_advance_handle_epoch(void) { __atomic_add_fetch(&alpcnt__handle_epoch, 1, __ATOMIC_RELEASE); }

/**
 * Caches port (retained for the cache) for handle, as found when the epoch was epoch (entries
 * of an older epoch are emptied), and returns its entry. release is called with every object
 * the cache no longer holds (ports and wrappers), now and when the thread exits.
 */
int alpcnt_cache_port(void *handle, void *port, uint64_t epoch, void (*release)(void *));

/** Empties this thread's entry for handle, if it has one, calling release with what it held. */
void alpcnt_uncache_port(void *handle, void (*release)(void *));

#endif /* ALPCNT_SUPPORT_H */
