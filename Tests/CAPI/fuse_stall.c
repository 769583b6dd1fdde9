/*
 * fuse_stall MOUNTPOINT: mounts a FUSE file system at MOUNTPOINT holding one file, "file",
 * whose reads never complete (the kernel's READ request is never answered), prints "READY",
 * and serves until killed; killing it ends the connection, and every read stuck on the file
 * fails. It plays a client whose file never answers (issue 10: one client stalls every other).
 * Prints "UNAVAILABLE <why>" and exits 2 where FUSE cannot be mounted.
 *
 * The FUSE protocol is spoken on /dev/fuse directly (no libfuse): INIT, LOOKUP, GETATTR and
 * OPEN are answered; READ never is; anything else is ENOSYS.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static int device = -1;

static void reply(uint64_t unique, int error, const void *payload, size_t size) {
    char buffer[sizeof(struct fuse_out_header) + 256];
    struct fuse_out_header header = {.len = (uint32_t)(sizeof header + (error ? 0 : size)), .error = error,
                                     .unique = unique};
    memcpy(buffer, &header, sizeof header);
    if (!error && size) memcpy(buffer + sizeof header, payload, size);
    if (write(device, buffer, header.len) < 0) perror("fuse_stall: write");
}

static void fill_attr(struct fuse_attr *attr, uint64_t node) {
    memset(attr, 0, sizeof *attr);
    attr->ino = node;
    if (node == FUSE_ROOT_ID) {
        attr->mode = S_IFDIR | 0755;
        attr->nlink = 2;
    } else {
        attr->mode = S_IFREG | 0644;
        attr->nlink = 1;
        attr->size = 4096;
    }
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: fuse_stall MOUNTPOINT\n");
        return 64;
    }
    device = open("/dev/fuse", O_RDWR | O_CLOEXEC);
    if (device < 0) {
        printf("UNAVAILABLE /dev/fuse: %s\n", strerror(errno));
        return 2;
    }
    char options[128];
    snprintf(options, sizeof options, "fd=%d,rootmode=40000,user_id=%u,group_id=%u,allow_other", device,
             (unsigned)getuid(), (unsigned)getgid());
    if (mount("swiftalpc-stall", argv[1], "fuse", MS_NOSUID | MS_NODEV, options) != 0) {
        printf("UNAVAILABLE mount: %s\n", strerror(errno));
        return 2;
    }
    printf("READY\n");
    fflush(stdout);
    static char buffer[FUSE_MIN_READ_BUFFER + 65536];
    for (;;) {
        ssize_t count = read(device, buffer, sizeof buffer);
        if (count < 0) {
            if (errno == EINTR || errno == ENOENT || errno == EAGAIN) continue;
            return errno == ENODEV ? 0 : 1; /* ENODEV: unmounted */
        }
        const struct fuse_in_header *in = (const void *)buffer;
        const char *argument = buffer + sizeof *in;
        switch (in->opcode) {
        case FUSE_INIT: {
            const struct fuse_init_in *init = (const void *)argument;
            struct fuse_init_out out;
            memset(&out, 0, sizeof out);
            out.major = FUSE_KERNEL_VERSION;
            out.minor = FUSE_KERNEL_MINOR_VERSION;
            out.max_readahead = init->max_readahead;
            out.max_write = 4096;
            out.max_background = 16;
            out.congestion_threshold = 12;
            out.time_gran = 1;
            reply(in->unique, 0, &out, sizeof out);
            break;
        }
        case FUSE_LOOKUP: {
            if (in->nodeid != FUSE_ROOT_ID || strcmp(argument, "file") != 0) {
                reply(in->unique, -ENOENT, NULL, 0);
                break;
            }
            struct fuse_entry_out out;
            memset(&out, 0, sizeof out);
            out.nodeid = 2;
            out.entry_valid = 60;
            out.attr_valid = 60;
            fill_attr(&out.attr, 2);
            reply(in->unique, 0, &out, sizeof out);
            break;
        }
        case FUSE_GETATTR: {
            struct fuse_attr_out out;
            memset(&out, 0, sizeof out);
            out.attr_valid = 60;
            fill_attr(&out.attr, in->nodeid);
            reply(in->unique, 0, &out, sizeof out);
            break;
        }
        case FUSE_OPEN: {
            struct fuse_open_out out;
            memset(&out, 0, sizeof out);
            out.fh = 1;
            out.open_flags = FOPEN_DIRECT_IO;
            reply(in->unique, 0, &out, sizeof out);
            break;
        }
        case FUSE_READ:       /* never answered: the reader waits until this process ends */
        case FUSE_INTERRUPT:  /* ignored, so the read stays stuck */
        case FUSE_FORGET:     /* never answered by any file system */
        case FUSE_BATCH_FORGET:
            break;
        default:
            reply(in->unique, -ENOSYS, NULL, 0);
        }
    }
}
