/*
 * winternl.h (SwiftALPC stand-in) - the NT types and calls (NTSTATUS, UNICODE_STRING,
 * OBJECT_ATTRIBUTES, NT_SUCCESS, NtClose, RtlInitUnicodeString, ...) from <alpc/alpc.h>.
 */
#ifndef ALPC_COMPAT_WINTERNL_H
#define ALPC_COMPAT_WINTERNL_H

#include "windef.h"

#endif /* ALPC_COMPAT_WINTERNL_H */
