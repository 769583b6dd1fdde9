/*
 * ntstatus.h (SwiftALPC stand-in) - the NTSTATUS values, from <alpc/ntalpc.h>. Including it
 * with or without WIN32_NO_STATUS around <windows.h> works the same.
 */
#ifndef ALPC_COMPAT_NTSTATUS_H
#define ALPC_COMPAT_NTSTATUS_H

#include <alpc/ntalpc.h>

#endif /* ALPC_COMPAT_NTSTATUS_H */
