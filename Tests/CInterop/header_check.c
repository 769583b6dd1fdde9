/*
 * Compiled by Tests/CInterop/check.sh with gcc and clang, -Wall -Wextra -Werror: C code written
 * against the Windows ALPC headers compiles against ours, and the helpers behave as in ntdll.
 */
#include <alpc/alpc.h>
#include <stdio.h>
#include <string.h>

static int failures;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

int main(void) {
    /* A message built the Windows way. */
    unsigned char buffer[sizeof(PORT_MESSAGE) + 16];
    PPORT_MESSAGE message = (PPORT_MESSAGE)buffer;
    memset(buffer, 0, sizeof(buffer));
    message->u1.s1.DataLength = 16;
    message->u1.s1.TotalLength = (CSHORT)(sizeof(PORT_MESSAGE) + 16);
    message->u2.ZeroInit = 0;
    message->ClientId.UniqueProcess = (HANDLE)(ULONG_PTR)1234;
    message->MessageId = 7;
    message->CallbackId = 3;
    CHECK(message->u1.Length == ((ULONG)(sizeof(PORT_MESSAGE) + 16) << 16 | 16));
    CHECK(buffer[0x18] == 7 && buffer[0x20] == 3);

    /* The attribute helpers. */
    SIZE_T required = 0;
    CHECK(AlpcInitializeMessageAttribute(ALPC_MESSAGE_ATTRIBUTE_ALL, NULL, 0, &required) == STATUS_BUFFER_TOO_SMALL);
    CHECK(required == 0xA0);
    unsigned long long storage[0xA0 / 8];
    PALPC_MESSAGE_ATTRIBUTES attributes = (PALPC_MESSAGE_ATTRIBUTES)storage;
    CHECK(AlpcInitializeMessageAttribute(ALPC_MESSAGE_ATTRIBUTE_ALL, attributes, sizeof(storage), &required) == STATUS_SUCCESS);
    CHECK(attributes->AllocatedAttributes == ALPC_MESSAGE_ATTRIBUTE_ALL && attributes->ValidAttributes == 0);
    PALPC_CONTEXT_ATTR context = (PALPC_CONTEXT_ATTR)AlpcGetMessageAttribute(attributes, ALPC_MESSAGE_CONTEXT_ATTRIBUTE);
    CHECK((unsigned char *)context - (unsigned char *)attributes == 0x40);
    CHECK(AlpcGetMessageAttribute(attributes, ALPC_MESSAGE_CONTEXT_ATTRIBUTE | ALPC_MESSAGE_VIEW_ATTRIBUTE) == NULL);
    CHECK(AlpcGetHeaderSize(ALPC_MESSAGE_VIEW_ATTRIBUTE | 0x1) == 8 + sizeof(ALPC_DATA_VIEW_ATTR));
    CHECK(AlpcMaxAllowedMessageLength() == 0xFFFF);

    /* Statuses. */
    CHECK(NT_SUCCESS(STATUS_TIMEOUT) && !NT_SUCCESS(STATUS_PORT_DISCONNECTED) && NT_ERROR(STATUS_PORT_DISCONNECTED));
    CHECK((ULONG)STATUS_PORT_DISCONNECTED == 0xC0000037u);
    CHECK(strcmp(AlpcStatusName(STATUS_PORT_DISCONNECTED), "STATUS_PORT_DISCONNECTED") == 0);
    CHECK(AlpcStatusName((NTSTATUS)0x12345678) == NULL);

    /* The other spellings found in the wild name the same bytes and values. */
    PORT_MESSAGE64 flat;
    memset(&flat, 0, sizeof flat);
    flat.DataLength = 5;
    flat.TotalLength = (CSHORT)(sizeof(PORT_MESSAGE) + 5);
    flat.Type = LPC_REQUEST;
    CHECK(flat.u1.s1.DataLength == 5 && flat.u1.s1.TotalLength == 0x2D && flat.u2.s2.Type == LPC_REQUEST);
    CHECK(flat.Length == flat.u1.Length && flat.ZeroInit == flat.u2.ZeroInit);
    ALPC_VIEW_ATTR oldView;
    ALPC_DATA_VIEW_ATTR *view = &oldView;
    (void)view;
    ALPC_SECURITY_ATTR security;
    security.SecurityQos = NULL;
    CHECK(security.QoS == NULL);
    CHECK(LPC_CONNECTION_REPLY == 11 && LPC_CANCELED == 12 && ALPC_SYNC_CONNECTION == ALPC_MSGFLG_SYNC_REQUEST);
    CHECK(ALPC_PORTFLG_ALLOWIMPERSONATION == 0x10000u && ALPC_PORFLG_ALLOWIMPERSONATION == 0x10000u &&
          ALPC_PORTFLG_WAITABLE_PORT == ALPC_PORFLG_WAITABLE_PORT && ALPC_PORTFLG_SYSTEM_PROCESS == 0x100000u &&
          ALPC_PORTFLG_LRPC_WAKE_POLICY1 == 0x200000u && ALPC_PORFLG_LRPC_WAKE_POLICY2 == 0x400000u &&
          ALPC_PORTFLG_LRPC_WAKE_POLICY3 == 0x800000u);
    CHECK(ALPC_MESSAGE_ATTRIBUTE_ALL == 0xFE000000u);
    CHECK(sizeof(SIZE_T) == sizeof(ULONG64) && (ULONG64)-1 == (SIZE_T)-1);
    CHECK(sizeof(OBJECT_ATTRIBUTES) == 0x30);

    if (failures) return 1;
    puts("header_check: ok");
    return 0;
}
