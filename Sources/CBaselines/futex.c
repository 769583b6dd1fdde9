/* CBaselines: shared memory, each side sleeping in FUTEX_WAIT until the other posts. */
#include "internal.h"

#include <errno.h>
#include <linux/futex.h>
#include <string.h>

/* A sequence word holds seq << 1 and, in bit 0, "a waiter sleeps here", so that a post
 * makes the FUTEX_WAKE system call only when someone is asleep. */
#define SLEEPING 1u

static void post(uint32_t *word, uint32_t seq) {
    if (__atomic_exchange_n(word, seq << 1, __ATOMIC_ACQ_REL) & SLEEPING)
        bl__futex(word, FUTEX_WAKE, 1, NULL);
}

/* Sleeps until *word carries seq. With a peer pid, wakes every second to check it lives. */
static int await(uint32_t *word, uint32_t seq, pid_t peer) {
    const struct timespec slice = { 1, 0 };
    seq &= UINT32_MAX >> 1;
    for (;;) {
        uint32_t v = __atomic_load_n(word, __ATOMIC_ACQUIRE);
        if (v >> 1 == seq) return 0;
        if (!(v & SLEEPING) &&
            !__atomic_compare_exchange_n(word, &v, v | SLEEPING, 0, __ATOMIC_ACQ_REL,
                                         __ATOMIC_ACQUIRE))
            continue;
        if (bl__futex(word, FUTEX_WAIT, v | SLEEPING, peer > 0 ? &slice : NULL) != 0 &&
            errno == ETIMEDOUT && !bl__alive(peer))
            return -ECHILD;
    }
}

static int futex_serve(bl_ctx *c) {
    bl_shm *s = bl__shm(c);
    for (uint32_t seq = 1;; seq++) {
        await(&s->req, seq, 0);
        if (__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) return 0;
        memcpy(c->req, bl__shm_req(c), c->n);
        bl__respond(c->req, c->n);
        memcpy(bl__shm_rep(c), c->req, c->n);
        post(&s->rep, seq);
    }
}

static int futex_call(bl_ctx *c) {
    bl_shm *s = bl__shm(c);
    uint32_t seq = ++c->seq;
    memcpy(bl__shm_req(c), c->req, c->n);
    post(&s->req, seq);
    int rc = await(&s->rep, seq, c->child);
    if (rc == 0) memcpy(c->rep, bl__shm_rep(c), c->n);
    return rc;
}

static void futex_stop(bl_ctx *c) {
    __atomic_store_n(&bl__shm(c)->stop, 1, __ATOMIC_RELEASE);
    post(&bl__shm(c)->req, ++c->seq);
}

const bl_ops bl__futex_ops = { bl__shm_open, futex_serve, NULL, futex_call, futex_stop,
                               bl__shm_close };
