/* The jobs of an ALPC request and reply, written in C; see semantics.h. */
#include "semantics.h"

#include <string.h>

enum { SLOT_COUNT = 64, MAX_MESSAGE = 0x200 };

/* The slot geometry the Swift transport gives a connection for MAX_MESSAGE (SegmentGeometry). */
#define SLOT_SIZE \
    ((sizeof(ALPC_SLOT_HEADER) + MAX_MESSAGE + 8 + ALPC_SLOT_ATTRIBUTE_RESERVE + 63) & ~(size_t)63)

/* Every branch the loop never takes: a wait, a wake-up, a spill, attributes, a broken peer. */
__attribute__((noinline, cold)) static NTSTATUS sem_slow_path(void) {
    return STATUS_NOT_IMPLEMENTED;
}

/* --- Locks and roles ------------------------------------------------------------------------ */

static inline int try_lock(uint32_t *word) {
    uint32_t expected = 0;
    return __atomic_compare_exchange_n(word, &expected, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

/* --- Records -------------------------------------------------------------------------------- */

static inline uint8_t *slot_at(const sem_ring *ring, uint32_t index) {
    return ring->slots + (size_t)(index & ring->slot_mask) * ring->slot_size;
}

/* Reserves a slot, has `fill` write the data, writes the headers, publishes, unlocks, and reads
 * under one fence whether the reader or another writer sleeps. */
static inline NTSTATUS write_record(
    sem_writer *writer, USHORT kind, ULONG cookie, ULONG message_id, CLIENT_ID client_id, size_t length,
    sem_fill fill, void *context) {
    if (!try_lock(&writer->lock.held)) return sem_slow_path();
    uint32_t tail = writer->tail;
    if (writer->kept != 0) goto slow;
    if (tail - writer->head_seen >= writer->ring.slot_mask + 1) {
        uint32_t head = __atomic_load_n(&writer->ring.control->Head, __ATOMIC_ACQUIRE);
        if (tail - head > writer->ring.slot_mask + 1) goto slow; /* an impossible Head: broken */
        writer->head_seen = head;
        if (tail - head == writer->ring.slot_mask + 1) goto slow; /* full: wait or keep */
    }
    uint8_t *slot = slot_at(&writer->ring, tail);
    PORT_MESSAGE *message = (PORT_MESSAGE *)(slot + sizeof(ALPC_SLOT_HEADER));
    NTSTATUS status = fill((uint8_t *)(message + 1), length, context);
    if (status != 0) {
        __atomic_store_n(&writer->lock.held, 0, __ATOMIC_RELEASE);
        return status;
    }
    ALPC_SLOT_HEADER header = {
        .RecordLength = (ULONG)(sizeof(PORT_MESSAGE) + ((length + 7) & ~(size_t)7)), .Kind = kind, .Cookie = cookie};
    memcpy(slot, &header, sizeof header);
    memset(message, 0, sizeof *message);
    message->u1.s1.DataLength = (CSHORT)length;
    message->u1.s1.TotalLength = (CSHORT)(sizeof(PORT_MESSAGE) + length);
    message->ClientId = client_id;
    message->MessageId = message_id;
    writer->records++;
    writer->bytes += length;
    writer->tail = ++tail;
    __atomic_store_n(&writer->ring.control->Tail, tail, __ATOMIC_RELEASE);
    /* The next record's first lines, owned while the fence waits (as the Swift writer does). */
    if (tail - writer->head_seen < writer->ring.slot_mask + 1) {
        __builtin_prefetch(slot_at(&writer->ring, tail), 1);
        __builtin_prefetch(slot_at(&writer->ring, tail) + 64, 1);
    }
    __atomic_store_n(&writer->lock.held, 0, __ATOMIC_RELEASE);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if ((__atomic_load_n(&writer->lock.sleepers, __ATOMIC_RELAXED)
         | __atomic_load_n(&writer->ring.control->ConsumerSleeping, __ATOMIC_RELAXED)) != 0)
        return sem_slow_path();
    return 0;
slow:
    __atomic_store_n(&writer->lock.held, 0, __ATOMIC_RELEASE);
    return sem_slow_path();
}

/* The oldest published slot, or NULL; `broken` is set for an impossible Tail. */
static inline uint8_t *peek(sem_reader *reader, int *broken) {
    uint32_t head = reader->head;
    if (reader->tail_seen == head) {
        uint32_t tail = __atomic_load_n(&reader->ring.control->Tail, __ATOMIC_ACQUIRE);
        if (tail - head > reader->ring.slot_mask + 1) {
            *broken = 1;
            return NULL;
        }
        if (tail == head) return NULL;
        reader->tail_seen = tail;
    }
    uint8_t *slot = slot_at(&reader->ring, head);
    __builtin_prefetch(slot);
    __builtin_prefetch(slot + 64);
    return slot;
}

typedef struct {
    USHORT kind;
    ULONG cookie;
    size_t data_length;
    ULONG attribute_length;
    USHORT flags;
} inbound;

/* Validates the record in `slot`, reading each word the peer may rewrite once. */
static inline int inspect(const uint8_t *slot, const sem_ring *ring, inbound *record) {
    ALPC_SLOT_HEADER header;
    memcpy(&header, slot, sizeof header);
    if (header.RecordLength < sizeof(PORT_MESSAGE) || header.RecordLength > ring->max_record
        || header.Kind < ALPC_RECORD_REQUEST || header.Kind > ALPC_RECORD_REPLY)
        return 0;
    CSHORT data_length;
    memcpy(&data_length, slot + sizeof header + offsetof(PORT_MESSAGE, u1.s1.DataLength), sizeof data_length);
    size_t length = (USHORT)data_length;
    if (header.AttributeLength > ALPC_SLOT_ATTRIBUTE_RESERVE
        || sizeof(PORT_MESSAGE) + ((length + 7) & ~(size_t)7) + header.AttributeLength > header.RecordLength
        || sizeof(PORT_MESSAGE) + length > ring->max_message || (header.Flags & ~ALPC_SLOT_FLAG_ATTACHMENT) != 0)
        return 0;
    *record = (inbound){header.Kind, header.Cookie, length, header.AttributeLength, header.Flags};
    return 1;
}

/* --- The client ----------------------------------------------------------------------------- */

NTSTATUS sem_client_send(sem_client *client, size_t length, sem_fill fill, void *context) {
    if (__atomic_load_n(&client->closed, __ATOMIC_ACQUIRE)) return STATUS_PORT_DISCONNECTED;
    if (length > client->requests.ring.max_message - sizeof(PORT_MESSAGE)) return STATUS_PORT_MESSAGE_TOO_LONG;
    ULONG cookie = __atomic_add_fetch(&client->last_cookie, 1, __ATOMIC_RELAXED);
    if (cookie == 0) cookie = __atomic_add_fetch(&client->last_cookie, 1, __ATOMIC_RELAXED);
    return write_record(&client->requests, ALPC_RECORD_ASYNC_REQUEST, cookie, 0, client->client_id, length, fill,
                        context);
}

NTSTATUS sem_client_receive(sem_client *client, sem_body body, void *context) {
    if (__atomic_load_n(&client->parked, __ATOMIC_ACQUIRE) != 0 || __atomic_load_n(&client->closed, __ATOMIC_ACQUIRE)
        || !try_lock(&client->consumer_held))
        return sem_slow_path();
    int broken = 0;
    inbound record;
    uint8_t *slot = peek(&client->replies, &broken);
    /* Nothing yet (a wait), a broken server, attributes, a reply to a cancelled request or to
     * another thread's request: the slow paths. */
    if (slot == NULL || !inspect(slot, &client->replies.ring, &record) || record.attribute_length != 0
        || (record.kind == ALPC_RECORD_REPLY
            && (__atomic_load_n(&client->cancelled, __ATOMIC_RELAXED) != 0
                || __atomic_load_n(&client->awaited, __ATOMIC_ACQUIRE) != 0))) {
        __atomic_store_n(&client->consumer_held, 0, __ATOMIC_RELEASE);
        return sem_slow_path();
    }
    const PORT_MESSAGE *port = (const PORT_MESSAGE *)(slot + sizeof(ALPC_SLOT_HEADER));
    client->received_sequence++;
    sem_message message = {
        .type = record.kind == ALPC_RECORD_REPLY ? LPC_REPLY : LPC_DATAGRAM,
        .message_id = port->MessageId,
        .process_id = client->server_process_id,
        .data = (const uint8_t *)(port + 1),
        .data_length = record.data_length,
        .sequence = client->received_sequence};
    NTSTATUS status = body(&message, context);
    /* The slot and the consumer role, then one fence before either side's sleepers. */
    __atomic_store_n(&client->replies.ring.control->Head, ++client->replies.head, __ATOMIC_RELEASE);
    __atomic_store_n(&client->consumer_held, 0, __ATOMIC_RELEASE);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if ((__atomic_load_n(&client->replies.ring.control->ProducerSleeping, __ATOMIC_RELAXED)
         | __atomic_load_n(&client->waiting, __ATOMIC_RELAXED)) != 0)
        return sem_slow_path();
    return status;
}

/* --- The server ----------------------------------------------------------------------------- */

/* Delivers the record in `slot` of `connection` to `body`, then releases the slot. */
static inline NTSTATUS deliver(sem_server *server, sem_connection *connection, uint8_t *slot, sem_body body,
                               void *context) {
    inbound record;
    if (!inspect(slot, &connection->requests.ring, &record) || record.attribute_length != 0)
        return sem_slow_path(); /* a broken client (abandoned), or attributes */
    ULONG id = server->last_message_id == UINT32_MAX ? 1 : server->last_message_id + 1;
    server->last_message_id = id;
    if (record.kind == ALPC_RECORD_REQUEST || record.kind == ALPC_RECORD_ASYNC_REQUEST) {
        sem_pending *entry = &server->pending[id & (SEM_PENDING - 1)];
        if (__atomic_load_n(&entry->message_id, __ATOMIC_ACQUIRE) != 0) return sem_slow_path(); /* spill */
        entry->cookie = record.cookie;
        entry->connection = connection;
        __atomic_add_fetch(&connection->references, 1, __ATOMIC_RELAXED);
        __atomic_store_n(&entry->message_id, id, __ATOMIC_RELEASE);
    }
    server->senders[id & (SEM_PENDING - 1)].message_id = id;
    server->senders[id & (SEM_PENDING - 1)].sender = connection->sender;
    server->unflushed_bytes += record.data_length;
    connection->sequence++;
    sem_message message = {
        .type = record.kind == ALPC_RECORD_DATAGRAM ? LPC_DATAGRAM : ALPC_REQUEST,
        .message_id = id,
        .process_id = connection->process_id,
        .data = slot + sizeof(ALPC_SLOT_HEADER) + sizeof(PORT_MESSAGE),
        .data_length = record.data_length,
        .context = connection->context,
        .sequence = connection->sequence};
    NTSTATUS status = body(&message, context);
    /* The slot is released whatever the application did with the message. */
    __atomic_store_n(&connection->requests.ring.control->Head, ++connection->requests.head, __ATOMIC_RELEASE);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (__atomic_load_n(&connection->requests.ring.control->ProducerSleeping, __ATOMIC_RELAXED) != 0)
        return sem_slow_path();
    if (++server->unflushed_messages >= 4096) {
        server->flushed_messages += server->unflushed_messages;
        server->unflushed_messages = 0;
    }
    return status;
}

NTSTATUS sem_server_receive(sem_server *server, sem_body body, void *context) {
    if (!try_lock(&server->role)) return sem_slow_path();
    NTSTATUS status = STATUS_NOT_IMPLEMENTED; /* nothing found: a spin, then a sleep */
    if (server->control_events == 0 && !__atomic_load_n(&server->closed, __ATOMIC_RELAXED)) {
        for (uint32_t step = 0, count = server->hot_count; step < count; step++) {
            uint32_t index = server->hot_next + step;
            if (index >= count) index -= count;
            sem_connection *connection = server->hot[index];
            int broken = 0;
            uint8_t *slot = peek(&connection->requests, &broken);
            if (slot == NULL) {
                if (broken) break;
                continue;
            }
            server->hot_next = index + 1 == count ? 0 : index + 1;
            status = deliver(server, connection, slot, body, context);
            break;
        }
    }
    __atomic_exchange_n(&server->role, 0, __ATOMIC_RELEASE);
    if (__atomic_load_n(&server->role_waiters, __ATOMIC_RELAXED) != 0) return sem_slow_path();
    return status;
}

NTSTATUS sem_server_reply(sem_server *server, ULONG message_id, size_t length, sem_fill fill, void *context) {
    if (message_id == 0) return STATUS_INVALID_PARAMETER;
    sem_pending *entry = &server->pending[message_id & (SEM_PENDING - 1)];
    if (__atomic_load_n(&entry->message_id, __ATOMIC_ACQUIRE) != message_id) return sem_slow_path(); /* spilled */
    ULONG cookie = entry->cookie;
    sem_connection *connection = entry->connection;
    ULONG expected = message_id;
    if (!__atomic_compare_exchange_n(&entry->message_id, &expected, 0, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
        return STATUS_INVALID_MESSAGE;
    NTSTATUS status;
    if (__atomic_load_n(&connection->closed, __ATOMIC_ACQUIRE))
        status = STATUS_PORT_DISCONNECTED;
    else if (length > connection->replies.ring.max_message - sizeof(PORT_MESSAGE))
        status = sem_slow_path(); /* too long: the request is put back */
    else
        status = write_record(&connection->replies, ALPC_RECORD_REPLY, cookie, message_id, server->client_id, length,
                              fill, context);
    if (__atomic_sub_fetch(&connection->references, 1, __ATOMIC_ACQ_REL) == 0) return sem_slow_path();
    return status;
}

/* --- Set-up --------------------------------------------------------------------------------- */

size_t sem_segment_size(void) {
    return ALPC_SEGMENT_SLOTS_OFFSET + 2 * SLOT_COUNT * SLOT_SIZE;
}

static sem_ring ring_in(uint8_t *segment, int direction) {
    return (sem_ring){
        .control = (ALPC_RING_CONTROL *)(segment + ALPC_SEGMENT_RINGS_OFFSET) + direction,
        .slots = segment + ALPC_SEGMENT_SLOTS_OFFSET + (size_t)direction * SLOT_COUNT * SLOT_SIZE,
        .slot_mask = SLOT_COUNT - 1,
        .slot_size = SLOT_SIZE,
        .max_record = SLOT_SIZE - sizeof(ALPC_SLOT_HEADER),
        .max_message = MAX_MESSAGE};
}

void sem_connect(sem_server *server, sem_connection *connection, sem_client *client, uint8_t *segment) {
    memset(segment, 0, sem_segment_size());
    memset(server, 0, sizeof *server);
    memset(connection, 0, sizeof *connection);
    memset(client, 0, sizeof *client);
    connection->references = 1;
    connection->requests.ring = ring_in(segment, 0);
    connection->replies.ring = ring_in(segment, 1);
    connection->sender = 0x100000001ull;
    connection->process_id = 1;
    server->hot[0] = connection;
    server->hot_count = 1;
    client->requests.ring = ring_in(segment, 0);
    client->replies.ring = ring_in(segment, 1);
    client->server_process_id = 2;
}
