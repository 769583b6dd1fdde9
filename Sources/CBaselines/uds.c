/* CBaselines: socketpair(AF_UNIX, SOCK_SEQPACKET) ping-pong. */
#include "internal.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#define FRAGMENT ((size_t)64 * 1024)  /* largest message sent */
#define WANT_BUF (4 << 20)            /* socket buffer asked for */

/* Asks for a large buffer: forced if privileged, else as far as wmem_max/rmem_max allow. */
static void grow(int fd, int opt, int force_opt) {
    int size = WANT_BUF;
    if (setsockopt(fd, SOL_SOCKET, force_opt, &size, sizeof size) != 0)
        setsockopt(fd, SOL_SOCKET, opt, &size, sizeof size);
}

static int uds_open(bl_ctx *c) {
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, c->fd) != 0) return -errno;
    for (int k = 0; k < 2; k++) {
        grow(c->fd[k], SO_SNDBUF, SO_SNDBUFFORCE);
        grow(c->fd[k], SO_RCVBUF, SO_RCVBUFFORCE);
    }
    return 0;
}

/* Sends n bytes as messages of at most FRAGMENT bytes. */
static int send_all(int fd, const uint8_t *p, size_t n) {
    for (size_t off = 0; off < n;) {
        size_t len = n - off < FRAGMENT ? n - off : FRAGMENT;
        ssize_t r = send(fd, p + off, len, MSG_NOSIGNAL);
        if (r < 0) {
            if (errno == EINTR) continue;
            return errno == EPIPE || errno == ECONNRESET ? -ECHILD : -errno;
        }
        if ((size_t)r != len) return -EIO;
        off += len;
    }
    return 0;
}

/* Receives messages until n bytes arrived. Returns 1 on end of stream before any byte. */
static int recv_all(int fd, uint8_t *p, size_t n) {
    for (size_t got = 0; got < n;) {
        ssize_t r = recv(fd, p + got, n - got, 0);
        if (r < 0) {
            if (errno == EINTR) continue;
            return errno == ECONNRESET ? -ECHILD : -errno;
        }
        if (r == 0) return got == 0 ? 1 : -ECHILD;
        got += (size_t)r;
    }
    return 0;
}

static int uds_serve(bl_ctx *c) {
    int fd = c->fd[1];
    close(c->fd[0]);
    for (;;) {
        int rc = recv_all(fd, c->req, c->n);
        if (rc == 1) return 0;
        if (rc < 0) return -rc;
        bl__respond(c->req, c->n);
        rc = send_all(fd, c->req, c->n);
        if (rc < 0) return -rc;
    }
}

static void uds_parent(bl_ctx *c) {
    close(c->fd[1]);
    c->fd[1] = -1;
}

static int uds_call(bl_ctx *c) {
    int rc = send_all(c->fd[0], c->req, c->n);
    if (rc == 0) rc = recv_all(c->fd[0], c->rep, c->n);
    return rc == 1 ? -ECHILD : rc;
}

static void uds_stop(bl_ctx *c) {
    shutdown(c->fd[0], SHUT_WR);
}

static void uds_close(bl_ctx *c) {
    for (int k = 0; k < 2; k++)
        if (c->fd[k] >= 0) close(c->fd[k]);
}

const bl_ops bl__uds_ops = { uds_open, uds_serve, uds_parent, uds_call, uds_stop, uds_close };
