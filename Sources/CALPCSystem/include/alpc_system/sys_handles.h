/*
 * sys_handles.h - system-call helpers for the descriptors that travel as handle attributes,
 * which Swift cannot reach directly (pidfd_open has no glibc wrapper before 2.36 and is reached
 * through syscall(), which is variadic). Each returns a value >= 0 or a negative errno.
 */
#ifndef ALPC_SYS_HANDLES_H
#define ALPC_SYS_HANDLES_H

#include <errno.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

/** The kernel ABI of pidfd_open(2)'s only flag we pass: none. A pidfd is always close-on-exec. */
static inline int alpc_pidfd_open(int32_t pid) {
    long rc = syscall(SYS_pidfd_open, (long)pid, 0L);
    return rc >= 0 ? (int)rc : -errno;
}

#ifdef __cplusplus
}
#endif

#endif /* ALPC_SYS_HANDLES_H */
