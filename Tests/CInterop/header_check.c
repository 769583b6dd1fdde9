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

    if (failures) return 1;
    puts("header_check: ok");
    return 0;
}
