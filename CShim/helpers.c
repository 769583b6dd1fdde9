/*
 * helpers.c - the ntdll helpers of ntalpc.h as real, exported functions.
 */
#include "alpc/alpc.h"

ULONG AlpcGetHeaderSize(ULONG Flags) { return AlpcpGetHeaderSize(Flags); }

NTSTATUS (AlpcInitializeMessageAttribute)(ULONG AttributeFlags, PALPC_MESSAGE_ATTRIBUTES Buffer, SIZE_T BufferSize,
                                          PSIZE_T RequiredBufferSize) {
    return AlpcpInitializeMessageAttribute(AttributeFlags, Buffer, BufferSize, RequiredBufferSize);
}

PVOID AlpcGetMessageAttribute(PALPC_MESSAGE_ATTRIBUTES Buffer, ULONG AttributeFlag) {
    return AlpcpGetMessageAttribute(Buffer, AttributeFlag);
}

ULONG AlpcMaxAllowedMessageLength(void) { return AlpcpMaxAllowedMessageLength(); }
