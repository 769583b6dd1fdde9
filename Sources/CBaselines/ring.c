/* CBaselines: one-way throughput through a shared-memory single-producer single-consumer ring. */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define RING_BYTES ((size_t)256 * 1024)  /* slot area aimed for (at least 8 slots) */

/* Start of the mapping; slots follow. A slot is an 8-byte length then the payload, the
 * whole rounded up to a cache line. Message i's payload starts with min(8, n) bytes of i. */
typedef struct ring_hdr {
    uint64_t head;  uint8_t pad0[BL_LINE - 8];   /* messages published (producer writes) */
    uint64_t tail;  uint8_t pad1[BL_LINE - 8];   /* messages consumed (consumer writes) */
    uint32_t ready; uint32_t go; uint8_t pad2[BL_LINE - 8];  /* start handshake */
} ring_hdr;

typedef struct ring {
    ring_hdr *h;
    uint8_t *slots;
    size_t slot;       /* bytes per slot */
    uint64_t nslots;   /* a power of two */
    size_t n;          /* payload bytes */
    uint64_t count;    /* messages to send */
} ring;

static uint64_t checksum(const uint8_t *p, size_t n) {
    uint64_t sum = 0, w;
    size_t k = 0;
    for (; k + 8 <= n; k += 8) {
        memcpy(&w, p + k, 8);
        sum += w;
    }
    for (; k < n; k++) sum += p[k];
    return sum;
}

/* The child: fills the ring, spinning while it is full. */
static int produce(const ring *r, const uint8_t *tmpl) {
    for (size_t off = 0; off < r->nslots * r->slot; off += 4096) r->slots[off] = 0;  /* prefault */
    __atomic_store_n(&r->h->ready, 1, __ATOMIC_RELEASE);
    uint32_t steps = 0;
    while (!__atomic_load_n(&r->h->go, __ATOMIC_ACQUIRE)) bl__spin(&steps);

    const uint64_t len = r->n;
    const size_t k = r->n < 8 ? r->n : 8;
    uint64_t tail = 0;
    for (uint64_t head = 0; head < r->count; head++) {
        while (head - tail == r->nslots) {
            tail = __atomic_load_n(&r->h->tail, __ATOMIC_ACQUIRE);
            if (head - tail == r->nslots) bl__spin(&steps);
        }
        uint8_t *s = r->slots + (head & (r->nslots - 1)) * r->slot;
        memcpy(s, &len, 8);
        memcpy(s + 8, &head, k);
        memcpy(s + 8 + k, tmpl + k, r->n - k);
        __atomic_store_n(&r->h->head, head + 1, __ATOMIC_RELEASE);
    }
    return 0;
}

/* Called every BL_SPIN_CHECK spins of the consumer: 0, -ECHILD or -ETIMEDOUT. */
static int check(pid_t child, uint64_t progress, uint64_t *seen, uint64_t *since) {
    uint64_t now = bl__now_ns();
    if (progress != *seen) {
        *seen = progress;
        *since = now;
        return 0;
    }
    if (!bl__alive(child)) return -ECHILD;
    return now - *since > BL_STALL_NS ? -ETIMEDOUT : 0;
}

/* The caller: starts the producer, then reads and checksums every message. */
static int consume(const ring *r, pid_t child, uint64_t *sum_out, uint64_t *elapsed_ns) {
    uint32_t steps = 0;
    uint64_t seen = 0, since = bl__now_ns();
    int rc;
    while (!__atomic_load_n(&r->h->ready, __ATOMIC_ACQUIRE))
        if (bl__spin(&steps) && (rc = check(child, 0, &seen, &since)) != 0) return rc;

    uint64_t t0 = bl__now_ns(), head = 0, sum = 0;
    since = t0;
    __atomic_store_n(&r->h->go, 1, __ATOMIC_RELEASE);
    for (uint64_t tail = 0; tail < r->count;) {
        if (tail == head) {
            head = __atomic_load_n(&r->h->head, __ATOMIC_ACQUIRE);
            if (tail == head) {
                if (bl__spin(&steps) && (rc = check(child, tail, &seen, &since)) != 0)
                    return rc;
                continue;
            }
        }
        const uint8_t *s = r->slots + (tail & (r->nslots - 1)) * r->slot;
        uint64_t len, first = 0;
        memcpy(&len, s, 8);
        memcpy(&first, s + 8, r->n < 8 ? r->n : 8);
        if (len != r->n || (r->n >= 8 && first != tail)) return -EIO;
        sum += checksum(s + 8, r->n);
        __atomic_store_n(&r->h->tail, ++tail, __ATOMIC_RELEASE);
    }
    *elapsed_ns = bl__now_ns() - t0;
    *sum_out = sum;
    return 0;
}

/* The sum the consumer must arrive at. */
static uint64_t expected_sum(const ring *r, const uint8_t *tmpl) {
    uint64_t rest = r->n > 8 ? checksum(tmpl + 8, r->n - 8) : 0, sum = 0;
    for (uint64_t i = 0; i < r->count; i++) {
        uint8_t b[8];
        memcpy(b, &i, 8);
        sum += rest + (r->n >= 8 ? i : checksum(b, r->n));
    }
    return sum;
}

int bl_datagram_ring(size_t payload, uint64_t count, int cpu_producer, int cpu_consumer,
                     double *msgs_per_sec, uint64_t *elapsed_ns) {
    if (payload == 0 || payload > BL_MAX_PAYLOAD || count == 0 || cpu_producer < -1 ||
        cpu_consumer < -1)
        return -EINVAL;

    ring r = { .slot = bl__round(8 + payload, BL_LINE), .nslots = 8, .n = payload,
               .count = count };
    while (r.nslots < 65536 && r.nslots * 2 * r.slot <= RING_BYTES) r.nslots *= 2;
    uint8_t *tmpl = malloc(payload), *mem = NULL;
    if (!tmpl) return -ENOMEM;
    for (size_t k = 0; k < payload; k++) tmpl[k] = (uint8_t)(k * 37u + 11u);
    size_t len = sizeof(ring_hdr) + r.nslots * r.slot;
    int rc = bl__map_shared(len, &mem);
    if (rc != 0) {
        free(tmpl);
        return rc;
    }
    r.h = (ring_hdr *)(void *)mem;
    r.slots = mem + sizeof(ring_hdr);

    cpu_set_t saved_cpus;
    int have_saved = sched_getaffinity(0, sizeof saved_cpus, &saved_cpus) == 0;
    uint64_t sum = 0, ns = 0;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        bl__child_enter(parent, cpu_producer);
        _exit(produce(&r, tmpl));
    }
    if (pid < 0) {
        rc = -errno;
    } else {
        rc = bl__pin(cpu_consumer);
        if (rc == 0) rc = consume(&r, pid, &sum, &ns);
        int child_err = bl__reap(pid, rc == 0);
        if (rc == 0 || (rc == -ECHILD && child_err != 0)) rc = -child_err;
        if (rc == 0 && sum != expected_sum(&r, tmpl)) rc = -EIO;
    }
    if (have_saved && cpu_consumer >= 0) sched_setaffinity(0, sizeof saved_cpus, &saved_cpus);
    munmap(mem, len);
    free(tmpl);
    if (rc == 0) {
        if (ns == 0) ns = 1;
        if (msgs_per_sec) *msgs_per_sec = (double)count * 1e9 / (double)ns;
        if (elapsed_ns) *elapsed_ns = ns;
    }
    return rc;
}
