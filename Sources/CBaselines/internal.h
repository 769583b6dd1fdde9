/* Private to CBaselines: the per-transport interface and shared helpers. */
#ifndef CBASELINES_INTERNAL_H
#define CBASELINES_INTERNAL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE  /* CPU_SET, sched_getaffinity, pipe2, F_SETPIPE_SZ */
#endif

#include "CBaselines.h"

#include <sched.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define BL_LINE 64                            /* cache line size assumed for padding */
#define BL_MAX_PAYLOAD ((size_t)1 << 30)
#define BL_STALL_NS 3000000000ull             /* no progress for this long: -ETIMEDOUT */
#define BL_SPIN_YIELD 256u                    /* spins between sched_yield() calls */
#define BL_SPIN_CHECK (BL_SPIN_YIELD * 64u)   /* spins between checks that the peer lives */

/* State of one bl_roundtrip call, shared by the parent and (as a copy) the child. */
typedef struct bl_ctx {
    size_t n;          /* payload bytes each way */
    uint8_t *req;      /* parent: request to send; child: the responder's work buffer */
    uint8_t *rep;      /* parent: where the reply lands */
    int fd[4];         /* descriptors of fd transports, -1 when closed */
    uint8_t *shm;      /* MAP_SHARED region of shared-memory transports */
    size_t shm_len;
    uint32_t seq;      /* parent: sequence number of the last request */
    pid_t child;       /* parent: the responder */
} bl_ctx;

/* One transport. Error returns are -errno; -ECHILD means the peer went away. */
typedef struct bl_ops {
    int (*open)(bl_ctx *c);     /* before fork: create the channel */
    int (*serve)(bl_ctx *c);    /* child: answer requests until told to stop; 0 or +errno */
    void (*parent)(bl_ctx *c);  /* parent after fork: drop the child's ends (may be NULL) */
    int (*call)(bl_ctx *c);     /* parent: one round trip, c->req out, c->rep in */
    void (*stop)(bl_ctx *c);    /* parent: tell the child to finish */
    void (*close)(bl_ctx *c);   /* release what open made */
} bl_ops;

extern const bl_ops bl__uds_ops, bl__pipe_ops, bl__futex_ops, bl__spin_ops;

/* Control block at the start of the futex/spin mapping; request and reply areas follow. */
typedef struct bl_shm {
    uint32_t req;  uint8_t pad0[BL_LINE - 4];  /* request sequence word (requester writes) */
    uint32_t rep;  uint8_t pad1[BL_LINE - 4];  /* reply sequence word (responder writes) */
    uint32_t stop; uint8_t pad2[BL_LINE - 4];  /* set before the final request */
} bl_shm;

static inline size_t bl__round(size_t n, size_t to) { return (n + to - 1) / to * to; }
static inline bl_shm *bl__shm(bl_ctx *c) { return (bl_shm *)(void *)c->shm; }
static inline uint8_t *bl__shm_req(bl_ctx *c) { return c->shm + sizeof(bl_shm); }
static inline uint8_t *bl__shm_rep(bl_ctx *c) {
    return c->shm + sizeof(bl_shm) + bl__round(c->n, BL_LINE);
}

static inline void bl__pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield" ::: "memory");
#else
    __asm__ __volatile__("" ::: "memory");
#endif
}

/* One step of a busy-wait: pause, and sched_yield() every BL_SPIN_YIELD steps.
 * Returns nonzero every BL_SPIN_CHECK steps, when the caller should check its peer. */
static inline int bl__spin(uint32_t *steps) {
    uint32_t s = ++*steps;
    bl__pause();
    if (s % BL_SPIN_YIELD != 0) return 0;
    sched_yield();
    return s % BL_SPIN_CHECK == 0;
}

uint64_t bl__now_ns(void);
void bl__sleep_ns(uint64_t ns);
long bl__futex(uint32_t *word, int op, uint32_t val, const struct timespec *timeout);
int bl__pin(int cpu);                           /* pins the calling thread; -1 = no-op */
int bl__alive(pid_t child);                     /* child not yet exited (does not reap) */
void bl__child_enter(pid_t parent, int cpu);    /* child setup; _exits on failure */
int bl__reap(pid_t child, int graceful);        /* 0 or the child's +errno; always reaps */
int bl__map_shared(size_t len, uint8_t **out);  /* zeroed, prefaulted MAP_SHARED memory */
int bl__shm_open(bl_ctx *c);                   /* maps the bl_shm layout for c->n */
void bl__shm_close(bl_ctx *c);
void bl__respond(uint8_t *p, size_t n);         /* the responder's change to a request */

#endif /* CBASELINES_INTERNAL_H */
