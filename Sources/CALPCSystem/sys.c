/*
 * sys.c - the cached process and thread ids of sys.h. getpid and gettid are system calls on
 * current glibc; the message path asks for them on every send, so they are cached per thread
 * and the caches are invalidated in a forked child.
 */
#include "alpc_system/sys.h"

#include <pthread.h>

uint32_t alpc__fork_generation = 1;

static void alpc_after_fork_in_child(void) { __atomic_add_fetch(&alpc__fork_generation, 1, __ATOMIC_RELAXED); }

__attribute__((constructor)) static void alpc_register_fork_handler(void) {
    pthread_atfork(NULL, NULL, alpc_after_fork_in_child);
}

__thread __attribute__((tls_model("initial-exec"))) uint64_t alpc__cached_ids;
__thread __attribute__((tls_model("initial-exec"))) uint32_t alpc__cached_generation;

uint64_t alpc__refresh_ids(void) {
    uint32_t generation = __atomic_load_n(&alpc__fork_generation, __ATOMIC_RELAXED);
    uint32_t tid = (uint32_t)syscall(SYS_gettid);
    uint32_t pid = (uint32_t)getpid();
    alpc__cached_ids = (uint64_t)pid << 32 | tid;
    alpc__cached_generation = generation;
    return alpc__cached_ids;
}

int32_t alpc_gettid(void) {
    return (int32_t)(uint32_t)alpc_current_ids();
}
