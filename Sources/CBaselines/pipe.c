/* CBaselines: a pipe in each direction. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

/* fd[0]/fd[1]: request pipe (child reads fd[0]); fd[2]/fd[3]: reply pipe (parent reads fd[2]). */

static int pipe_open(bl_ctx *c) {
    if (pipe2(c->fd, O_CLOEXEC) != 0) return -errno;
    if (pipe2(c->fd + 2, O_CLOEXEC) != 0) return -errno;
    if (c->n > 65536) {  /* best effort: room for the whole payload, up to 1 MiB */
        size_t size = c->n < ((size_t)1 << 20) ? c->n : (size_t)1 << 20;
        fcntl(c->fd[1], F_SETPIPE_SZ, (int)size);
        fcntl(c->fd[3], F_SETPIPE_SZ, (int)size);
    }
    return 0;
}

static int write_all(int fd, const uint8_t *p, size_t n) {
    for (size_t off = 0; off < n;) {
        ssize_t r = write(fd, p + off, n - off);
        if (r < 0) {
            if (errno == EINTR) continue;
            return errno == EPIPE ? -ECHILD : -errno;
        }
        off += (size_t)r;
    }
    return 0;
}

/* Reads exactly n bytes. Returns 1 on end of file before any byte. */
static int read_all(int fd, uint8_t *p, size_t n) {
    for (size_t got = 0; got < n;) {
        ssize_t r = read(fd, p + got, n - got);
        if (r < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        if (r == 0) return got == 0 ? 1 : -ECHILD;
        got += (size_t)r;
    }
    return 0;
}

static int pipe_serve(bl_ctx *c) {
    close(c->fd[1]);
    close(c->fd[2]);
    for (;;) {
        int rc = read_all(c->fd[0], c->req, c->n);
        if (rc == 1) return 0;
        if (rc < 0) return -rc;
        bl__respond(c->req, c->n);
        rc = write_all(c->fd[3], c->req, c->n);
        if (rc < 0) return -rc;
    }
}

static void pipe_parent(bl_ctx *c) {
    close(c->fd[0]);
    close(c->fd[3]);
    c->fd[0] = c->fd[3] = -1;
}

static int pipe_call(bl_ctx *c) {
    int rc = write_all(c->fd[1], c->req, c->n);
    if (rc == 0) rc = read_all(c->fd[2], c->rep, c->n);
    return rc == 1 ? -ECHILD : rc;
}

static void pipe_stop(bl_ctx *c) {
    close(c->fd[1]);
    c->fd[1] = -1;
}

static void pipe_close(bl_ctx *c) {
    for (int k = 0; k < 4; k++)
        if (c->fd[k] >= 0) close(c->fd[k]);
}

const bl_ops bl__pipe_ops = { pipe_open, pipe_serve, pipe_parent, pipe_call, pipe_stop, pipe_close };
