/*
 * sys.c - the cached process and thread ids of sys.h. getpid and gettid are system calls on
 * current glibc; the message path asks for them on every send, so they are cached per thread
 * and the caches are invalidated in a forked child.
 */
#include "alpc_system/sys.h"

#include <pthread.h>

static uint32_t fork_generation = 1;

static void alpc_after_fork_in_child(void) { __atomic_add_fetch(&fork_generation, 1, __ATOMIC_RELAXED); }

__attribute__((constructor)) static void alpc_register_fork_handler(void) {
    pthread_atfork(NULL, NULL, alpc_after_fork_in_child);
}

/* initial-exec: in libalpc.so the default model would call __tls_get_addr on every message. */
#define ALPC_TLS __thread __attribute__((tls_model("initial-exec")))

static ALPC_TLS uint32_t cached_generation;
static ALPC_TLS int32_t cached_tid;
static ALPC_TLS int32_t cached_pid;

static void alpc_refresh_ids(void) {
    uint32_t generation = __atomic_load_n(&fork_generation, __ATOMIC_RELAXED);
    if (cached_generation != generation) {
        cached_tid = (int32_t)syscall(SYS_gettid);
        cached_pid = (int32_t)getpid();
        cached_generation = generation;
    }
}

int32_t alpc_gettid(void) {
    alpc_refresh_ids();
    return cached_tid;
}

uint64_t alpc_current_ids(void) {
    alpc_refresh_ids();
    return (uint64_t)(uint32_t)cached_pid << 32 | (uint32_t)cached_tid;
}
