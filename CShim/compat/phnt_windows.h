/* phnt_windows.h (SwiftALPC stand-in): the Windows base that phnt builds on (windows.h). */
#ifndef ALPC_COMPAT_PHNT_WINDOWS_H
#define ALPC_COMPAT_PHNT_WINDOWS_H

#include "windows.h"

#endif /* ALPC_COMPAT_PHNT_WINDOWS_H */
