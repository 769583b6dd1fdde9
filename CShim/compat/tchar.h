/*
 * tchar.h (SwiftALPC stand-in) - the generic-text names of a narrow (non-UNICODE) build:
 * _tmain is main and _TCHAR is char. Linux has no wmain, so a UNICODE build maps to the same.
 */
#ifndef ALPC_COMPAT_TCHAR_H
#define ALPC_COMPAT_TCHAR_H

#include <stdio.h>
#include <string.h>

typedef char _TCHAR;
typedef char TCHAR;
#define _tmain main
#define _T(x) x
#define _TEXT(x) x
#define _tprintf printf
#define _ftprintf fprintf
#define _tcslen strlen
#define _tcscmp strcmp

#endif /* ALPC_COMPAT_TCHAR_H */
