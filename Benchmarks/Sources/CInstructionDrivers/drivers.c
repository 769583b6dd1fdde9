/* The C loops of alpc-instructions; see CInstructionDrivers.h. */
#define _GNU_SOURCE
#include "CInstructionDrivers.h"
#include "semantics.h"

#include <alpc/alpc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

/* --- The floor: two SPSC rings of 16 slots of 128 bytes -------------------------------- */

enum { SLOTS = 16, SLOT_SIZE = 128, HEADER = 40, DATA = 64 };

typedef struct {
    _Alignas(64) uint32_t tail; /* written by the producer */
    _Alignas(64) uint32_t head; /* written by the consumer */
    _Alignas(64) uint8_t slots[SLOTS][SLOT_SIZE];
} ring;

static void ring_put(ring *r, const uint8_t *header, const uint8_t *data) {
    uint32_t tail = __atomic_load_n(&r->tail, __ATOMIC_RELAXED);
    uint8_t *slot = r->slots[tail % SLOTS];
    memcpy(slot, header, HEADER);
    memcpy(slot + HEADER, data, DATA);
    __atomic_store_n(&r->tail, tail + 1, __ATOMIC_RELEASE);
}

static int ring_take(ring *r, uint8_t *header, uint8_t *data) {
    uint32_t head = __atomic_load_n(&r->head, __ATOMIC_RELAXED);
    if (__atomic_load_n(&r->tail, __ATOMIC_ACQUIRE) == head) return 0;
    const uint8_t *slot = r->slots[head % SLOTS];
    memcpy(header, slot, HEADER);
    memcpy(data, slot + HEADER, DATA);
    __atomic_store_n(&r->head, head + 1, __ATOMIC_RELEASE);
    return 1;
}

int cid_ring_pair(int64_t iterations) {
    static ring requests, replies;
    uint8_t header[HEADER] = {0}, data[DATA] = {0}, inHeader[HEADER], inData[DATA];
    for (int64_t i = 0; i < iterations; i++) {
        header[0] = (uint8_t)i;
        ring_put(&requests, header, data);
        if (!ring_take(&requests, inHeader, inData)) return 1;
        ring_put(&replies, inHeader, inData);
        if (!ring_take(&replies, inHeader, inData)) return 2;
        if (inHeader[0] != (uint8_t)i) return 3;
    }
    return 0;
}

/* --- ALPC's jobs in C (semantics.c): the in-place loop of alpc-instructions ---------------- */

static NTSTATUS stamp_first(uint8_t *data, size_t length, void *context) {
    (void)length;
    data[0] = *(const uint8_t *)context;
    return 0;
}

static NTSTATUS answer(const sem_message *request, void *context) {
    uint8_t first = request->data[0];
    return sem_server_reply(context, request->message_id, 64, stamp_first, &first);
}

static NTSTATUS read_first(const sem_message *reply, void *context) {
    *(uint8_t *)context = reply->data[0];
    return 0;
}

int cid_alpc_semantics(int64_t iterations) {
    static sem_server server;
    static sem_connection connection;
    static sem_client client;
    uint8_t *segment = aligned_alloc(4096, (sem_segment_size() + 4095) & ~(size_t)4095);
    if (segment == NULL) return 1;
    sem_connect(&server, &connection, &client, segment);
    int failed = 0;
    for (int64_t i = 0; i < iterations && !failed; i++) {
        uint8_t stamp = (uint8_t)i, seen = 0;
        if (sem_client_send(&client, 64, stamp_first, &stamp)) failed = 2;
        else if (sem_server_receive(&server, answer, &server)) failed = 3;
        else if (sem_client_receive(&client, read_first, &seen)) failed = 4;
        else if (seen != stamp) failed = 5;
    }
    free(segment);
    return failed;
}

/* --- The NT API -------------------------------------------------------------------------- */

typedef struct {
    PORT_MESSAGE header;
    UCHAR data[0x200];
} message;

static HANDLE server;

static NTSTATUS NTAPI accept_one(PVOID unused) {
    (void)unused;
    message request;
    SIZE_T length = sizeof request;
    LARGE_INTEGER timeout = {.QuadPart = -50000000};
    NTSTATUS status = NtAlpcSendWaitReceivePort(server, 0, NULL, NULL, &request.header, &length, NULL, &timeout);
    if (!NT_SUCCESS(status)) return status;
    HANDLE communication;
    return NtAlpcAcceptConnectPort(&communication, server, 0, NULL, NULL, NULL, &request.header, NULL, TRUE);
}

int32_t cid_nt_api(int64_t iterations) {
    wchar_t name[64];
    swprintf(name, 64, L"\\RPC Control\\alpc-instructions-%d", (int)getpid());
    UNICODE_STRING portName;
    RtlInitUnicodeString(&portName, name);
    OBJECT_ATTRIBUTES attributes;
    InitializeObjectAttributes(&attributes, &portName, 0, NULL, NULL);
    NTSTATUS status = NtAlpcCreatePort(&server, &attributes, NULL);
    if (!NT_SUCCESS(status)) return status;
    HANDLE thread;
    status = NtCreateThreadEx(&thread, THREAD_ALL_ACCESS, NULL, NtCurrentProcess(), accept_one, NULL, 0, 0, 0, 0, NULL);
    if (!NT_SUCCESS(status)) return status;
    HANDLE client;
    LARGE_INTEGER timeout = {.QuadPart = -50000000};
    status = NtAlpcConnectPort(&client, &portName, NULL, NULL, ALPC_MSGFLG_SYNC_REQUEST, NULL, NULL, NULL, NULL, NULL,
                               &timeout);
    if (!NT_SUCCESS(status)) return status;
    NtWaitForSingleObject(thread, FALSE, NULL);
    NtClose(thread);
    message request, atServer, atClient;
    for (int64_t i = 0; i < iterations; i++) {
        memset(&request.header, 0, sizeof request.header);
        request.header.u1.s1.DataLength = 64;
        request.header.u1.s1.TotalLength = (CSHORT)(sizeof(PORT_MESSAGE) + 64);
        request.data[0] = (UCHAR)i;
        if ((status = NtAlpcSendWaitReceivePort(client, 0, &request.header, NULL, NULL, NULL, NULL, &timeout))) break;
        SIZE_T length = sizeof atServer;
        if ((status = NtAlpcSendWaitReceivePort(server, 0, NULL, NULL, &atServer.header, &length, NULL, &timeout))) break;
        if ((status = NtAlpcSendWaitReceivePort(server, 0, &atServer.header, NULL, NULL, NULL, NULL, NULL))) break;
        length = sizeof atClient;
        if ((status = NtAlpcSendWaitReceivePort(client, 0, NULL, NULL, &atClient.header, &length, NULL, &timeout))) break;
        if (atClient.data[0] != (UCHAR)i) return STATUS_UNSUCCESSFUL;
    }
    NtClose(client);
    NtClose(server);
    return status;
}
