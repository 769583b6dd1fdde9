/*
 * The C loops that alpc-instructions counts: a minimal pair of single-producer single-consumer
 * rings (the floor: what the work needs), and the same request and reply through the NT API
 * of libalpc. Each returns 0, or a nonzero status when a step failed.
 */
#ifndef CINSTRUCTIONDRIVERS_H
#define CINSTRUCTIONDRIVERS_H

#include <stdint.h>

/* `iterations` times: write a 40-byte header and 64 bytes into a request ring with memcpy,
 * publish with a release store, read with an acquire load and copy out; the same back. */
int cid_ring_pair(int64_t iterations);

/* `iterations` times, the jobs of the in-place loop written in C (semantics.h): an asynchronous
 * 64-byte request filled in place, the server's receive and its reply from inside the receive's
 * callback, the client's receive; over the real slot layout, with ALPC's locks, roles, cookie,
 * MessageId, pending request, validation and wake-up checks. */
int cid_alpc_semantics(int64_t iterations);

/* `iterations` times, through NtAlpcSendWaitReceivePort on a client and a server port of this
 * process: an asynchronous 64-byte request, the server's receive and reply, the client's
 * receive. Creates, connects and closes the ports outside the loop. */
int32_t cid_nt_api(int64_t iterations);

#endif
