/*
 * phnt.h (SwiftALPC stand-in) - phnt's NT declarations that this library implements: the
 * ALPC API (ntlpcapi.h) and the NT basics around it, from <alpc/alpc.h>. PHNT_VERSION and
 * PHNT_MODE may be set as for phnt; every version sees the same declarations.
 */
#ifndef ALPC_COMPAT_PHNT_H
#define ALPC_COMPAT_PHNT_H

#define PHNT_MODE_KERNEL 0
#define PHNT_MODE_USER 1
#define PHNT_WIN2K 50
#define PHNT_WINXP 51
#define PHNT_WS03 52
#define PHNT_VISTA 60
#define PHNT_WIN7 61
#define PHNT_WIN8 62
#define PHNT_WINBLUE 63
#define PHNT_THRESHOLD 100
#define PHNT_REDSTONE5 105
#define PHNT_WIN11 114
#ifndef PHNT_MODE
#define PHNT_MODE PHNT_MODE_USER
#endif
#ifndef PHNT_VERSION
#define PHNT_VERSION PHNT_WIN11
#endif

#include "windef.h"

#endif /* ALPC_COMPAT_PHNT_H */
