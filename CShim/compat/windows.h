/*
 * windows.h (SwiftALPC stand-in) - what ALPC programs use of <windows.h>: the base types
 * (windef.h), the NT API (<alpc/alpc.h>), and the Win32 calls that work here over it:
 * CloseHandle, WaitForSingleObject, GetLastError/SetLastError, GetCurrentThreadId,
 * GetCurrentProcessId, Sleep, and the process heap (GetProcessHeap, HeapAlloc, HeapFree).
 * Nothing else of Win32 is declared. WIN32_NO_STATUS and WIN32_LEAN_AND_MEAN change nothing.
 */
#ifndef ALPC_COMPAT_WINDOWS_H
#define ALPC_COMPAT_WINDOWS_H

#include "windef.h"

#include <stdio.h>
#include <stdlib.h>

#ifdef __cplusplus
extern "C" {
#endif

#define INFINITE 0xFFFFFFFFu
#define WAIT_OBJECT_0 0x00000000u
#define WAIT_TIMEOUT 0x00000102u
#define WAIT_FAILED 0xFFFFFFFFu

#define ERROR_SUCCESS 0u
#define ERROR_FILE_NOT_FOUND 2u
#define ERROR_ACCESS_DENIED 5u
#define ERROR_INVALID_HANDLE 6u
#define ERROR_NOT_ENOUGH_MEMORY 8u
#define ERROR_INVALID_PARAMETER 87u
#define ERROR_INSUFFICIENT_BUFFER 122u
#define ERROR_ALREADY_EXISTS 183u

/** Closes a handle (NtClose); FALSE with the last error set when it fails. */
static inline BOOL CloseHandle(HANDLE hObject) {
    NTSTATUS status = NtClose(hObject);
    if (!NT_SUCCESS(status)) {
        SetLastError(RtlNtStatusToDosError(status));
        return FALSE;
    }
    return TRUE;
}

/** Waits for a handle (NtWaitForSingleObject) up to dwMilliseconds (INFINITE: forever). */
static inline DWORD WaitForSingleObject(HANDLE hHandle, DWORD dwMilliseconds) {
    LARGE_INTEGER timeout;
    timeout.QuadPart = -(LONGLONG)dwMilliseconds * 10000;
    NTSTATUS status = NtWaitForSingleObject(hHandle, FALSE, dwMilliseconds == INFINITE ? NULL : &timeout);
    if (status == STATUS_WAIT_0) return WAIT_OBJECT_0;
    if (status == STATUS_TIMEOUT) return WAIT_TIMEOUT;
    SetLastError(RtlNtStatusToDosError(status));
    return WAIT_FAILED;
}

/** The process heap. */
static inline HANDLE GetProcessHeap(void) { return RtlProcessHeap(); }

/** Allocates from a heap (RtlAllocateHeap). */
static inline LPVOID HeapAlloc(HANDLE hHeap, DWORD dwFlags, SIZE_T dwBytes) {
    LPVOID memory = RtlAllocateHeap(hHeap, dwFlags, dwBytes);
    if (memory == NULL) SetLastError(ERROR_NOT_ENOUGH_MEMORY);
    return memory;
}

/** Frees memory from HeapAlloc (RtlFreeHeap). */
static inline BOOL HeapFree(HANDLE hHeap, DWORD dwFlags, LPVOID lpMem) {
    if (RtlFreeHeap(hHeap, dwFlags, lpMem)) return TRUE;
    SetLastError(ERROR_INVALID_HANDLE);
    return FALSE;
}

#define ZeroMemory RtlZeroMemory
#define CopyMemory RtlCopyMemory
#define MoveMemory RtlMoveMemory
#define FillMemory RtlFillMemory
#define SecureZeroMemory RtlSecureZeroMemory

#ifdef __cplusplus
}
#endif

#endif /* ALPC_COMPAT_WINDOWS_H */
