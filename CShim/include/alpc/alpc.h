/*
 * alpc.h - the SwiftALPC C API: the wire format of ntalpc.h plus the library's own helpers.
 * C programs include this one header.
 */
#ifndef ALPC_ALPC_H
#define ALPC_ALPC_H

#include "ntalpc.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The Windows name of Status ("STATUS_PORT_DISCONNECTED"), or NULL for a value the library does not know. */
const char *AlpcStatusName(NTSTATUS Status);

#ifdef __cplusplus
}
#endif

#endif /* ALPC_ALPC_H */
