/* alpc_c.c - alpc bench's alpc-c rows: round trips through the NT API, from C. */
#include "internal.h"

#include <alpc/alpc.h>
#include <stdlib.h>
#include <wchar.h>

int32_t bl_alpc_c_connect(const char *port_name, const void *connect_data, size_t connect_length,
                          uint64_t max_message_length, void **port) {
    wchar_t name[256];
    size_t length = strlen(port_name);
    if (length >= 256 || connect_length > 0x1000) return STATUS_INVALID_PARAMETER;
    for (size_t i = 0; i <= length; i++) name[i] = (wchar_t)(unsigned char)port_name[i];
    UNICODE_STRING portName;
    RtlInitUnicodeString(&portName, name);

    ALPC_PORT_ATTRIBUTES attributes;
    memset(&attributes, 0, sizeof attributes);
    attributes.MaxMessageLength = max_message_length;
    attributes.DupObjectTypes = ALPC_PORFLG_OBJECT_TYPE_ALL;

    union {
        PORT_MESSAGE header;
        uint8_t bytes[sizeof(PORT_MESSAGE) + 0x1000];
    } message;
    memset(&message.header, 0, sizeof message.header);
    memcpy(message.bytes + sizeof(PORT_MESSAGE), connect_data, connect_length);
    message.header.u1.s1.DataLength = (CSHORT)connect_length;
    message.header.u1.s1.TotalLength = (CSHORT)(sizeof(PORT_MESSAGE) + connect_length);
    SIZE_T bufferLength = sizeof message;
    LARGE_INTEGER timeout;
    timeout.QuadPart = -5LL * 10000000; /* 5 s */
    HANDLE handle = NULL;
    NTSTATUS status = NtAlpcConnectPort(&handle, &portName, NULL, &attributes, ALPC_MSGFLG_SYNC_REQUEST, NULL,
                                        &message.header, &bufferLength, NULL, NULL, &timeout);
    if (NT_SUCCESS(status)) *port = handle;
    return status;
}

int64_t bl_alpc_c_round_trips(void *port, size_t payload, uint64_t warmup, uint64_t count,
                              uint64_t idle_gap_ns, uint64_t deadline_ns, uint64_t *samples_ns,
                              int32_t *status) {
    size_t size = sizeof(PORT_MESSAGE) + payload;
    PORT_MESSAGE *request = aligned_alloc(16, bl__round(size, 16));
    PORT_MESSAGE *reply = aligned_alloc(16, bl__round(size, 16));
    if (request == NULL || reply == NULL) {
        free(request);
        free(reply);
        *status = STATUS_NO_MEMORY;
        return -1;
    }
    uint8_t *requestData = (uint8_t *)(request + 1);
    const uint8_t *replyData = (const uint8_t *)(reply + 1);
    for (size_t i = 0; i < payload; i++) requestData[i] = (uint8_t)(i * 37 + 11);
    LARGE_INTEGER timeout;
    timeout.QuadPart = -5LL * 10000000; /* 5 s, as the Swift rows */
    uint64_t total = warmup + count, index = 0;
    int64_t result = -1;
    while (index < total) {
        /* A new request each time, as a C program builds it; the stamp shows a stale reply. */
        memset(request, 0, sizeof(PORT_MESSAGE));
        request->u1.s1.DataLength = (CSHORT)payload;
        request->u1.s1.TotalLength = (CSHORT)size;
        uint8_t stamp = (uint8_t)index;
        requestData[0] = stamp;
        if (index >= warmup && idle_gap_ns > 0) bl__sleep_ns(idle_gap_ns);
        SIZE_T length = size;
        uint64_t start = bl__now_ns();
        NTSTATUS sent = NtAlpcSendWaitReceivePort((HANDLE)port, ALPC_MSGFLG_SYNC_REQUEST, request, NULL, reply,
                                                  &length, NULL, &timeout);
        uint64_t end = bl__now_ns();
        if (sent != STATUS_SUCCESS) {
            *status = sent;
            goto done;
        }
        if ((size_t)(USHORT)reply->u1.s1.DataLength != payload || replyData[0] != stamp) {
            *status = STATUS_UNSUCCESSFUL;
            goto done;
        }
        if (index >= warmup) samples_ns[index - warmup] = end - start;
        index++;
        if ((index & 255) == 0 && bl__now_ns() > deadline_ns) break;
    }
    result = (int64_t)(index > warmup ? index - warmup : 0);
    *status = STATUS_SUCCESS;
done:
    free(request);
    free(reply);
    return result;
}

void bl_alpc_c_close(void *port) { NtClose((HANDLE)port); }
