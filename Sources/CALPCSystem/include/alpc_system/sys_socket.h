/*
 * sys_socket.h - the control plane's system-call helpers: SOCK_SEQPACKET Unix sockets on
 * abstract addresses, file descriptors passed with SCM_RIGHTS, peer credentials, eventfd
 * doorbells and epoll. Each helper returns a value >= 0 on success or a negative errno, and
 * none retries on EINTR: the caller decides.
 *
 * Like sys.h, nothing here relies on GNU-only declarations, because Swift imports glibc
 * without _GNU_SOURCE: accept4 is reached through syscall(), and struct ucred and POLLRDHUP
 * are spelled out (their layout and value are the kernel ABI).
 */
#ifndef ALPC_SYS_SOCKET_H
#define ALPC_SYS_SOCKET_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The longest abstract socket name: sun_path without the leading NUL that marks it abstract. */
#define ALPC_ABSTRACT_NAME_MAX 107

/** The most descriptors one packet carries (the kernel's SCM_MAX_FD). */
#define ALPC_MAX_FDS_PER_PACKET 253

/** poll(2): the peer shut down its writing side or closed (POLLRDHUP, GNU-only in glibc). */
#define ALPC_POLLRDHUP 0x2000

#if defined(__cplusplus)
static_assert(sizeof(((struct sockaddr_un *)0)->sun_path) == ALPC_ABSTRACT_NAME_MAX + 1,
              "sun_path is 108 bytes");
#else
_Static_assert(sizeof(((struct sockaddr_un *)0)->sun_path) == ALPC_ABSTRACT_NAME_MAX + 1,
               "sun_path is 108 bytes");
#endif

/** The credentials SO_PEERCRED reports: the kernel's struct ucred. */
struct alpc_peer_credentials {
    int32_t pid;
    uint32_t uid;
    uint32_t gid;
};

/**
 * Fills *address with the abstract Unix address whose name is the length bytes at name (a
 * leading NUL is added; the name needs no terminator) and returns the address length, or
 * -EINVAL when the name is empty or longer than ALPC_ABSTRACT_NAME_MAX.
 */
static inline int alpc_abstract_address(struct sockaddr_un *address, const void *name, size_t length) {
    if (length == 0 || length > ALPC_ABSTRACT_NAME_MAX) return -EINVAL;
    memset(address, 0, sizeof(*address));
    address->sun_family = AF_UNIX;
    memcpy(address->sun_path + 1, name, length);
    return (int)(offsetof(struct sockaddr_un, sun_path) + 1 + length);
}

/**
 * A new non-blocking, close-on-exec SOCK_SEQPACKET socket bound to the abstract name and
 * listening with the given backlog. Returns the socket or a negative errno (-EADDRINUSE when
 * the name is taken); nothing is left open on failure.
 */
static inline int alpc_seqpacket_listen(const void *name, size_t length, int backlog) {
    struct sockaddr_un address;
    int address_length = alpc_abstract_address(&address, name, length);
    if (address_length < 0) return address_length;
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return -errno;
    if (bind(fd, (const struct sockaddr *)&address, (socklen_t)address_length) != 0 ||
        listen(fd, backlog) != 0) {
        int error = errno;
        close(fd);
        return -error;
    }
    return fd;
}

/**
 * A new blocking, close-on-exec SOCK_SEQPACKET socket connected to the abstract name. Returns
 * the socket or a negative errno (-ECONNREFUSED when nothing listens there); nothing is left
 * open on failure, so the caller may simply call again after -EINTR.
 */
static inline int alpc_seqpacket_connect(const void *name, size_t length) {
    struct sockaddr_un address;
    int address_length = alpc_abstract_address(&address, name, length);
    if (address_length < 0) return address_length;
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    if (connect(fd, (const struct sockaddr *)&address, (socklen_t)address_length) != 0) {
        int error = errno;
        close(fd);
        return -error;
    }
    return fd;
}

/** The next pending connection as a non-blocking, close-on-exec socket, or a negative errno
 *  (-EAGAIN when none is pending on a non-blocking listener). */
static inline int alpc_accept(int fd) {
    long rc = syscall(SYS_accept4, fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    return rc >= 0 ? (int)rc : -errno;
}

/** The control buffer for the most descriptors a packet carries, aligned for cmsghdr. */
union alpc_fd_control {
    struct cmsghdr header;
    unsigned char bytes[CMSG_SPACE(sizeof(int) * ALPC_MAX_FDS_PER_PACKET)];
};

/**
 * Sends one packet of length bytes, with nfds descriptors attached (SCM_RIGHTS) when nfds > 0.
 * MSG_NOSIGNAL is always added, so a closed peer gives -EPIPE rather than SIGPIPE. Returns the
 * number of bytes sent or a negative errno (-EINVAL when nfds is out of range).
 */
static inline ssize_t alpc_send_with_fds(int fd, const void *buffer, size_t length, const int *fds,
                                         int nfds, int flags) {
    if (nfds < 0 || nfds > ALPC_MAX_FDS_PER_PACKET) return -EINVAL;
    struct iovec vector;
    vector.iov_base = (void *)buffer;
    vector.iov_len = length;
    struct msghdr message;
    memset(&message, 0, sizeof(message));
    message.msg_iov = &vector;
    message.msg_iovlen = 1;
    union alpc_fd_control control;
    if (nfds > 0) {
        size_t fd_bytes = sizeof(int) * (size_t)nfds;
        memset(control.bytes, 0, CMSG_SPACE(fd_bytes));
        message.msg_control = control.bytes;
        message.msg_controllen = CMSG_SPACE(fd_bytes);
        struct cmsghdr *header = CMSG_FIRSTHDR(&message);
        header->cmsg_level = SOL_SOCKET;
        header->cmsg_type = SCM_RIGHTS;
        header->cmsg_len = CMSG_LEN(fd_bytes);
        memcpy(CMSG_DATA(header), fds, fd_bytes);
    }
    ssize_t rc = sendmsg(fd, &message, flags | MSG_NOSIGNAL);
    return rc >= 0 ? rc : -errno;
}

/**
 * Receives one packet into buffer (capacity bytes) and every descriptor that came with it into
 * fds, which must hold ALPC_MAX_FDS_PER_PACKET (the kernel's SCM_MAX_FD, so none is ever
 * discarded by the kernel), storing their number in *nfds. Received descriptors are
 * close-on-exec (MSG_CMSG_CLOEXEC) and always belong to the caller, whatever the result.
 * Returns the number of bytes received, 0 when the peer has closed, -EMSGSIZE for a packet
 * longer than capacity (consumed), or a negative errno.
 */
static inline ssize_t alpc_recv_with_fds(int fd, void *buffer, size_t capacity, int *fds, int *nfds, int flags) {
    *nfds = 0;
    struct iovec vector;
    vector.iov_base = buffer;
    vector.iov_len = capacity;
    struct msghdr message;
    memset(&message, 0, sizeof(message));
    message.msg_iov = &vector;
    message.msg_iovlen = 1;
    union alpc_fd_control control;
    message.msg_control = control.bytes;
    message.msg_controllen = sizeof(control.bytes);
    ssize_t rc = recvmsg(fd, &message, flags | MSG_CMSG_CLOEXEC);
    if (rc < 0) return -errno;

    int count = 0;
    if (message.msg_controllen > 0) {
        for (struct cmsghdr *header = CMSG_FIRSTHDR(&message); header != NULL;
             header = CMSG_NXTHDR(&message, header)) {
            if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) continue;
            size_t arrived = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            const unsigned char *data = CMSG_DATA(header);
            for (size_t i = 0; i < arrived && count < ALPC_MAX_FDS_PER_PACKET; i++) {
                memcpy(&fds[count++], data + i * sizeof(int), sizeof(int));
            }
        }
    }
    *nfds = count;
    if ((message.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0) return -EMSGSIZE;
    return rc;
}

/** The credentials of the process at the other end of a connected socket, as they were when
 *  it called connect(2) or listen(2). Returns 0 or a negative errno. */
static inline int alpc_peer_credentials(int fd, int32_t *pid, uint32_t *uid, uint32_t *gid) {
    struct alpc_peer_credentials credentials;
    socklen_t length = sizeof(credentials);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) return -errno;
    if (length != sizeof(credentials)) return -EPROTO;
    *pid = credentials.pid;
    *uid = credentials.uid;
    *gid = credentials.gid;
    return 0;
}

/** A new non-blocking, close-on-exec eventfd with a count of 0, or a negative errno. */
static inline int alpc_eventfd_create(void) {
    int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    return fd >= 0 ? fd : -errno;
}

/** Adds 1 to the eventfd's count. Returns 0 or a negative errno (-EAGAIN when the count is at
 *  its maximum on a non-blocking eventfd). */
static inline int alpc_eventfd_signal(int fd) {
    uint64_t one = 1;
    ssize_t rc = write(fd, &one, sizeof(one));
    if (rc < 0) return -errno;
    return rc == (ssize_t)sizeof(one) ? 0 : -EIO;
}

/** Reads the eventfd's count into *count and resets it to 0. Returns 0 or a negative errno
 *  (-EAGAIN when the count is 0 on a non-blocking eventfd). */
static inline int alpc_eventfd_drain(int fd, uint64_t *count) {
    ssize_t rc = read(fd, count, sizeof(*count));
    if (rc < 0) return -errno;
    return rc == (ssize_t)sizeof(*count) ? 0 : -EIO;
}

/** A new close-on-exec epoll instance, or a negative errno. */
static inline int alpc_epoll_create(void) {
    int fd = epoll_create1(EPOLL_CLOEXEC);
    return fd >= 0 ? fd : -errno;
}

/** Adds, modifies or removes (op: EPOLL_CTL_*) fd in the epoll set; events are EPOLL* bits and
 *  token comes back with each of fd's events. Returns 0 or a negative errno. */
static inline int alpc_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t token) {
    struct epoll_event event;
    memset(&event, 0, sizeof(event));
    event.events = events;
    event.data.u64 = token;
    return epoll_ctl(epfd, op, fd, &event) == 0 ? 0 : -errno;
}

/** One ready descriptor as alpc_epoll_wait reports it: the token given to alpc_epoll_ctl and
 *  the EPOLL* bits that are ready (struct epoll_event is packed on x86-64; this is not). */
struct alpc_epoll_ready {
    uint64_t token;
    uint32_t events;
    uint32_t reserved;
};

/** The most events one alpc_epoll_wait call reports. */
#define ALPC_EPOLL_BATCH 64

/**
 * Waits up to timeout_ns nanoseconds (negative: no limit) for events in the epoll set and stores
 * up to capacity of them (at most ALPC_EPOLL_BATCH) in ready. Returns their number (0 on
 * timeout) or a negative errno (-EINTR when a signal arrived first).
 *
 * With epoll_pwait2 (Linux 5.11) the timeout is kept to the nanosecond, so that a wait of a few
 * microseconds does not become a millisecond; where the kernel or a seccomp filter refuses it
 * (ENOSYS or EPERM, remembered) the timeout is rounded up to whole milliseconds.
 */
static inline int alpc_epoll_wait(int epfd, struct alpc_epoll_ready *ready, int capacity, int64_t timeout_ns) {
    static int no_pwait2;
    struct epoll_event events[ALPC_EPOLL_BATCH];
    if (capacity <= 0) return -EINVAL;
    if (capacity > ALPC_EPOLL_BATCH) capacity = ALPC_EPOLL_BATCH;
    int count = -1;
    int fell_back = __atomic_load_n(&no_pwait2, __ATOMIC_RELAXED);
    if (!fell_back) {
        struct timespec limit = {timeout_ns / 1000000000, timeout_ns % 1000000000};
        count = epoll_pwait2(epfd, events, capacity, timeout_ns < 0 ? NULL : &limit, NULL);
        /* ENOSYS: a kernel before 5.11; EPERM: a seccomp filter that does not know the call. */
        if (count < 0 && (errno == ENOSYS || errno == EPERM)) {
            __atomic_store_n(&no_pwait2, 1, __ATOMIC_RELAXED);
            fell_back = 1;
        }
    }
    if (fell_back) {
        int timeout_ms = -1;
        if (timeout_ns >= 0) {
            int64_t ms = timeout_ns / 1000000 + (timeout_ns % 1000000 != 0);
            timeout_ms = ms > INT32_MAX ? INT32_MAX : (int)ms;
        }
        count = epoll_wait(epfd, events, capacity, timeout_ms);
    }
    if (count < 0) return -errno;
    for (int i = 0; i < count; i++) {
        ready[i].token = events[i].data.u64;
        ready[i].events = events[i].events;
        ready[i].reserved = 0;
    }
    return count;
}

#ifdef __cplusplus
}
#endif

#endif /* ALPC_SYS_SOCKET_H */
