/*
 * The jobs of an ALPC request and reply, written in C: a measuring instrument, not a library.
 *
 * alpc-instructions counts what the Swift paths spend per request and reply against a pair of
 * bare rings (cid_ring_pair). Between the two sits what ALPC's semantics themselves cost: a
 * lock because any thread may send on a connection, a cookie and a MessageId because a reply
 * names its request, a pending request that keeps its connection alive until the reply, a
 * receive role because any thread may receive, validation because the peer rewrites shared
 * memory at will, wake-up checks because the peer may sleep. This file writes those jobs, on the
 * real slot layout (ALPC_SLOT_HEADER, PORT_MESSAGE), each the way a careful C programmer would,
 * with the atomic operations the Swift path uses, so that the count says how much of the Swift
 * path is the semantics and how much is Swift.
 *
 * Only what the loop runs is written: the slow paths (a full ring, a sleeping peer, a spilled
 * request, attributes, a second thread) are branches to sem_slow_path, which the loop never
 * reaches and which fails the run if it does. The application's code (the fill and receive
 * callbacks) is reached through function pointers, as a library reaches its caller's closures;
 * the functions here are external and never inlined into the driver (drivers.c), which is
 * another translation unit.
 */
#ifndef CINSTRUCTIONDRIVERS_SEMANTICS_H
#define CINSTRUCTIONDRIVERS_SEMANTICS_H

#include <alpc/alpc.h>
#include <alpc_system/segment.h>
#include <stddef.h>
#include <stdint.h>

/* A lock whose unlock is a plain store that shares the fence the writer needs anyway. */
typedef struct {
    uint32_t held;
    uint32_t sleepers;
} sem_lock;

/* One direction of a connection: its control block and slots, in a segment both sides map. */
typedef struct {
    ALPC_RING_CONTROL *control;
    uint8_t *slots;
    uint32_t slot_mask; /* slot count - 1: a power of two */
    uint32_t slot_size;
    uint32_t max_record; /* the bytes a slot holds after its ALPC_SLOT_HEADER */
    uint32_t max_message; /* the longest PORT_MESSAGE and data */
} sem_ring;

/* The writing end of a ring, shared by the threads that write. */
typedef struct {
    sem_lock lock;
    sem_ring ring;
    /* Guarded by lock. */
    uint32_t tail;
    uint32_t head_seen;
    uint32_t kept; /* records kept because the ring was full */
    uint64_t records, bytes;
} sem_writer;

/* The reading end of a ring, owned by the holder of the reading role. */
typedef struct {
    sem_ring ring;
    uint32_t head;
    uint32_t tail_seen;
} sem_reader;

/* The server's side of a connection. */
typedef struct {
    uint32_t references;
    uint32_t closed;
    sem_reader requests;
    sem_writer replies;
    uint64_t sender; /* the credentials remembered for each of its messages */
    uint64_t process_id;
    uint64_t context;
    uint32_t sequence;
} sem_connection;

enum { SEM_PENDING = 1024, SEM_HOT_MAX = 8 };

typedef struct {
    uint32_t message_id; /* 0: free */
    uint32_t cookie;
    sem_connection *connection;
} sem_pending;

typedef struct {
    uint32_t role;
    uint32_t role_waiters;
    uint32_t closed;
    uint32_t control_events;
    sem_connection *hot[SEM_HOT_MAX];
    uint32_t hot_count, hot_next;
    uint32_t last_message_id;
    CLIENT_ID client_id;
    uint64_t unflushed_messages, unflushed_bytes, flushed_messages;
    sem_pending pending[SEM_PENDING];
    struct {
        uint32_t message_id;
        uint64_t sender;
    } senders[SEM_PENDING];
} sem_server;

typedef struct {
    uint32_t closed;
    uint32_t last_cookie;
    sem_writer requests;
    uint32_t consumer_held;
    uint32_t parked;
    uint32_t awaited;
    uint32_t cancelled;
    uint32_t waiting;
    sem_reader replies;
    uint32_t received_sequence;
    uint64_t server_process_id;
    CLIENT_ID client_id;
} sem_client;

/* What a receive shows the application: a view of the slot. */
typedef struct {
    USHORT type;
    ULONG message_id;
    uint64_t process_id;
    const uint8_t *data;
    size_t data_length;
    uint64_t context;
    uint32_t sequence;
} sem_message;

typedef NTSTATUS (*sem_fill)(uint8_t *data, size_t length, void *context);
typedef NTSTATUS (*sem_body)(const sem_message *message, void *context);

/* Sets up a server with one connection from `client`, over `segment` (see sem_segment_size). */
void sem_connect(sem_server *server, sem_connection *connection, sem_client *client, uint8_t *segment);
size_t sem_segment_size(void);

/* An asynchronous request of `length` bytes that `fill` writes in place. */
NTSTATUS sem_client_send(sem_client *client, size_t length, sem_fill fill, void *context);
/* The next message from any connection, shown to `body`. */
NTSTATUS sem_server_receive(sem_server *server, sem_body body, void *context);
/* The reply to the request `message_id`, of `length` bytes that `fill` writes in place. */
NTSTATUS sem_server_reply(sem_server *server, ULONG message_id, size_t length, sem_fill fill, void *context);
/* The next message for this client, shown to `body`. */
NTSTATUS sem_client_receive(sem_client *client, sem_body body, void *context);

#endif
