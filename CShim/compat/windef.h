/*
 * windef.h (SwiftALPC stand-in) - the Windows base types and annotations that ALPC programs
 * use, at their Windows widths, over <alpc/alpc.h>. Put this folder on the include path
 * (`pkg-config --cflags alpc-windows`); it declares only what works here.
 */
#ifndef ALPC_COMPAT_WINDEF_H
#define ALPC_COMPAT_WINDEF_H

#include <alpc/alpc.h>

#include "sal.h"

#ifndef WINAPI
#define WINAPI
#endif
#ifndef CALLBACK
#define CALLBACK
#endif
#ifndef APIENTRY
#define APIENTRY
#endif
#ifndef WINBASEAPI
#define WINBASEAPI
#endif

/* MSVC's sized integer keyword (`__int64`, `unsigned __int64`). */
#ifndef __int64
#define __int64 long long
#endif

typedef int BOOL;
typedef BOOL *PBOOL, *LPBOOL;
typedef UCHAR BYTE;
typedef BYTE *PBYTE, *LPBYTE;
typedef USHORT WORD;
typedef WORD *PWORD, *LPWORD;
typedef ULONG DWORD;
typedef DWORD *PDWORD, *LPDWORD;
typedef uint64_t DWORD64, DWORDLONG, DWORD_PTR;
typedef int INT;
typedef unsigned int UINT;
typedef int32_t LONG32;
typedef uint32_t ULONG32, DWORD32;
typedef int64_t LONG64, INT64;
typedef uint64_t UINT64;
typedef int64_t INT_PTR;
typedef uint64_t UINT_PTR;
typedef int64_t SSIZE_T;
typedef PVOID LPVOID;
typedef const void *LPCVOID;
typedef CHAR *LPSTR, *PSTR;
typedef const CHAR *LPCSTR;
typedef WCHAR *LPWSTR;
typedef const WCHAR *LPCWSTR;
typedef HANDLE *LPHANDLE;

#define INVALID_HANDLE_VALUE ((HANDLE)(LONG_PTR)-1)
#define MAX_PATH 260

#if !defined(NOMINMAX) && !defined(__cplusplus)
#ifndef min
#define min(a, b) (((a) < (b)) ? (a) : (b))
#endif
#ifndef max
#define max(a, b) (((a) > (b)) ? (a) : (b))
#endif
#endif

#define MAKEWORD(a, b) ((WORD)(((BYTE)(((DWORD_PTR)(a)) & 0xff)) | ((WORD)((BYTE)(((DWORD_PTR)(b)) & 0xff))) << 8))
#define MAKELONG(a, b) ((LONG)(((WORD)(((DWORD_PTR)(a)) & 0xffff)) | ((DWORD)((WORD)(((DWORD_PTR)(b)) & 0xffff))) << 16))

#endif /* ALPC_COMPAT_WINDEF_H */
