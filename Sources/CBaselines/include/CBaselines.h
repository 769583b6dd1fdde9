/*
 * CBaselines: honest C baselines for `alpc bench`.
 *
 * Every measurement runs between two processes: the caller and a child that the
 * call forks and reaps before it returns. The child runs only C (syscalls and
 * plain loops) and leaves with _exit, so the baselines carry no Swift overhead.
 */
#ifndef CBASELINES_H
#define CBASELINES_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The transports measured.
typedef enum bl_transport {
    /// socketpair(AF_UNIX, SOCK_SEQPACKET); payloads travel in messages of at most 64 KiB.
    BL_UDS_SEQPACKET = 0,
    /// One pipe in each direction, with full read/write loops.
    BL_PIPE = 1,
    /// Shared memory; each side sleeps in FUTEX_WAIT (shared futex) and never spins.
    BL_FUTEX = 2,
    /// Shared memory; both sides busy-poll. The floor, meaningful only with the two sides on
    /// different CPUs: pin them apart. A spinner that shares its CPU with the peer waits for
    /// its sched_yield() every 256 spins, and unpinned, the scheduler may start the child on
    /// the caller's CPU and take tens of milliseconds to move it.
    BL_SPIN = 3,
    /// One-way single-producer single-consumer ring; measured by bl_datagram_ring only.
    BL_RING = 4
} bl_transport;

/// Short name of a transport: "uds-seqpacket", "pipe", "futex", "spin", "ring" ("unknown" otherwise).
const char *bl_transport_name(bl_transport t);

/// Measures synchronous request/reply round trips between the caller and a forked child.
///
/// Runs `warmup` untimed, then `iterations` timed round trips of `payload` bytes each way
/// (1 ... 1 GiB); writes one round-trip time in nanoseconds (CLOCK_MONOTONIC) per timed
/// iteration into `samples_ns`, which must hold `iterations` values. Each reply is checked.
///
/// - cpu_requester / cpu_responder: -1 leaves that side on the caller's CPU mask, otherwise
///   pins it to that CPU. The caller's thread gets its own mask back before the call returns.
/// - idle_gap_ns: sleep this long before each timed request (0 = back to back), so that the
///   wake-up path of a sleeping peer is what gets measured.
///
/// Returns 0 on success, or -errno: -EINVAL (bad argument or CPU), -EIO (a reply was wrong),
/// -ECHILD (the child died), -ETIMEDOUT (no progress for 3 seconds plus idle_gap_ns), or the
/// error of a failed system call. The child is always reaped, killed first on error.
int bl_roundtrip(bl_transport t, size_t payload, uint64_t warmup, uint64_t iterations,
                 int cpu_requester, int cpu_responder, uint64_t idle_gap_ns,
                 uint64_t *samples_ns);

/// Measures one-way throughput: a forked child produces `count` messages of `payload` bytes
/// (1 ... 1 GiB) into a shared-memory SPSC ring and the caller consumes and checksums them.
///
/// Writes messages per second into `*msgs_per_sec` and the elapsed time from the start
/// signal to the last message consumed into `*elapsed_ns` (either pointer may be NULL).
/// cpu_producer / cpu_consumer are as in bl_roundtrip. Both sides busy-poll, yielding the
/// CPU every 256 spins. Returns 0, or -errno as bl_roundtrip (-EIO on a checksum mismatch).
int bl_datagram_ring(size_t payload, uint64_t count, int cpu_producer, int cpu_consumer,
                     double *msgs_per_sec, uint64_t *elapsed_ns);

/// The C side of alpc bench's "alpc-c" rows: a C client of the bench peer that goes through
/// the NT API (NtAlpcConnectPort, NtAlpcSendWaitReceivePort), as a C program linked with
/// libalpc does. Unlike the baselines it runs in the caller's process, against the peer that
/// serves the Swift client too. Statuses are NTSTATUS values.

/// Connects to the port `port_name` (ASCII) with `connect_length` bytes of connect data and
/// messages of up to `max_message_length` bytes; the port handle goes to `*port`.
int32_t bl_alpc_c_connect(const char *port_name, const void *connect_data, size_t connect_length,
                          uint64_t max_message_length, void **port);

/// Runs `warmup` untimed and up to `count` timed synchronous round trips of `payload` bytes
/// each way (the peer sends each request back), each timed alone into `samples_ns`; stops
/// early once CLOCK_MONOTONIC passes `deadline_ns` (checked every 256). `idle_gap_ns` as for
/// bl_roundtrip. Returns the number of samples written, or -1 with the failure in `*status`
/// (STATUS_UNSUCCESSFUL for a wrong reply).
int64_t bl_alpc_c_round_trips(void *port, size_t payload, uint64_t warmup, uint64_t count,
                              uint64_t idle_gap_ns, uint64_t deadline_ns, uint64_t *samples_ns,
                              int32_t *status);

/// Closes a port from bl_alpc_c_connect (NtClose).
void bl_alpc_c_close(void *port);

#ifdef __cplusplus
}
#endif

#endif /* CBASELINES_H */
