/* CBaselines: shared memory, both sides busy-polling a sequence word (the floor). */
#include "internal.h"

#include <errno.h>
#include <string.h>

static void post(uint32_t *word, uint32_t seq) {
    __atomic_store_n(word, seq, __ATOMIC_RELEASE);
}

/* Spins until *word == seq; with a peer pid, checks now and then that it lives. */
static int await(const uint32_t *word, uint32_t seq, pid_t peer) {
    uint32_t steps = 0;
    while (__atomic_load_n(word, __ATOMIC_ACQUIRE) != seq)
        if (bl__spin(&steps) && peer > 0 && !bl__alive(peer)) return -ECHILD;
    return 0;
}

static int spin_serve(bl_ctx *c) {
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

static int spin_call(bl_ctx *c) {
    bl_shm *s = bl__shm(c);
    uint32_t seq = ++c->seq;
    memcpy(bl__shm_req(c), c->req, c->n);
    post(&s->req, seq);
    int rc = await(&s->rep, seq, c->child);
    if (rc == 0) memcpy(c->rep, bl__shm_rep(c), c->n);
    return rc;
}

static void spin_stop(bl_ctx *c) {
    __atomic_store_n(&bl__shm(c)->stop, 1, __ATOMIC_RELEASE);
    post(&bl__shm(c)->req, ++c->seq);
}

const bl_ops bl__spin_ops = { bl__shm_open, spin_serve, NULL, spin_call, spin_stop,
                              bl__shm_close };
