/*
 * capi_test.h - what the C API's test programs share: checks that stop the process with a
 * message, port names, and running this same program as a peer process (fork and exec, so
 * the peer starts with a fresh Swift runtime) with a bounded wait.
 */
#ifndef CAPI_TEST_H
#define CAPI_TEST_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <alpc/alpc.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#define CHECK(cond, ...)                                                                             \
    do {                                                                                             \
        if (!(cond)) {                                                                               \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);                 \
            fprintf(stderr, __VA_ARGS__);                                                            \
            fputc('\n', stderr);                                                                     \
            exit(1);                                                                                 \
        }                                                                                            \
    } while (0)

/* Checks that `expr` returns the status `expected`, naming both when it does not. */
#define CHECK_STATUS(expr, expected)                                                                 \
    do {                                                                                             \
        NTSTATUS capi_status = (expr);                                                               \
        CHECK(capi_status == (NTSTATUS)(expected), "%s is %s (0x%08X), expected %s", #expr,          \
              AlpcStatusName(capi_status) ? AlpcStatusName(capi_status) : "?", (unsigned)capi_status, \
              #expected);                                                                            \
    } while (0)

/* A port name in a wide buffer: "\RPC Control\<prefix>-<pid>-<tag>". */
static inline void capi_port_name(wchar_t *buffer, size_t capacity, const char *tag, long pid) {
    swprintf(buffer, capacity, L"\\RPC Control\\capi-%ld-%s", pid, tag);
}

/* The narrow form of a wide port name, for the Swift command-line tools. */
static inline void capi_narrow(char *out, size_t capacity, const wchar_t *name) {
    size_t i = 0;
    for (; name[i] && i + 1 < capacity; i++) out[i] = (char)name[i];
    out[i] = 0;
}

/* Runs this program again with `args` (NULL-terminated after the mode) as a peer process. */
static inline pid_t capi_spawn(const char *self, const char *mode, ...) {
    const char *argv[16] = {self, mode};
    int argc = 2;
    va_list list;
    va_start(list, mode);
    const char *arg;
    while ((arg = va_arg(list, const char *)) != NULL && argc < 15) argv[argc++] = arg;
    va_end(list);
    argv[argc] = NULL;
    pid_t pid = fork();
    CHECK(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        execv("/proc/self/exe", (char *const *)argv);
        _exit(127);
    }
    return pid;
}

/* Waits up to `seconds` for child `pid`; kills it after that. Its exit status, or -1. */
static inline int capi_wait(pid_t pid, int seconds) {
    for (int i = 0; i < seconds * 100; i++) {
        int status;
        pid_t done = waitpid(pid, &status, WNOHANG);
        if (done == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

/* A 4 KiB message buffer: the header, then room for the data. */
typedef struct {
    PORT_MESSAGE Header;
    UCHAR Data[0x1000 - sizeof(PORT_MESSAGE)];
} MESSAGE;

/* An attribute buffer with room for every attribute. */
typedef struct {
    ALPC_MESSAGE_ATTRIBUTES Header;
    UCHAR Blobs[0x100];
} ATTRIBUTES;

/* The wide form of an ASCII name (a port name from the command line). */
static inline void capi_widen(const char *narrow, wchar_t *wide, size_t capacity) {
    size_t i = 0;
    for (; narrow[i] && i + 1 < capacity; i++) wide[i] = (wchar_t)(unsigned char)narrow[i];
    wide[i] = 0;
}

/* Puts `length` bytes of data after `header` and sets both lengths; the header's ids stay. */
static inline void capi_set_data(PORT_MESSAGE *header, const void *data, size_t length) {
    memcpy(header + 1, data, length);
    header->u1.s1.DataLength = (CSHORT)length;
    header->u1.s1.TotalLength = (CSHORT)(sizeof(PORT_MESSAGE) + length);
}

/* Zeroes an attribute buffer of `size` bytes and allocates the attributes in `flags`. */
static inline void capi_init_attributes(ALPC_MESSAGE_ATTRIBUTES *attributes, size_t size, ULONG flags) {
    SIZE_T required = 0;
    memset(attributes, 0, size);
    NTSTATUS status = AlpcInitializeMessageAttribute(flags, attributes, size, &required);
    CHECK(status == STATUS_SUCCESS, "AlpcInitializeMessageAttribute(0x%x) in %zu bytes: %zu needed", (unsigned)flags,
          size, (size_t)required);
}

/* A relative NT timeout of `ms` milliseconds. */
static inline LARGE_INTEGER capi_ms(LONGLONG ms) {
    LARGE_INTEGER timeout;
    timeout.QuadPart = -ms * 10000;
    return timeout;
}

/* Milliseconds on the monotonic clock. */
static inline long long capi_now_ms(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

#endif /* CAPI_TEST_H */
