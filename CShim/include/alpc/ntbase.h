/*
 * ntbase.h - the NT basics that ALPC programs call around the ALPC API: object attributes,
 * counted strings, handles (NtClose, NtWaitForSingleObject), threads (NtCreateThreadEx), the
 * process heap, memory macros, status conversion and Sleep. libalpc exports the functions.
 *
 * Handles are Linux file descriptors: HANDLE holds the descriptor's number. Every handle the
 * library gives out (ports, threads, sender processes and threads) is a descriptor of its own,
 * closed by NtClose; a descriptor received in a handle attribute is the receiver's own too.
 */
#ifndef ALPC_NTBASE_H
#define ALPC_NTBASE_H

#include "ntalpc.h"

#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Calling-convention and export markers of the Windows headers: nothing on Linux. */
#ifndef NTAPI
#define NTAPI
#endif
#ifndef NTSYSAPI
#define NTSYSAPI
#endif
#ifndef NTSYSCALLAPI
#define NTSYSCALLAPI
#endif
#ifndef VOID
#define VOID void
#endif

typedef char CHAR;
typedef CHAR *PCHAR;
typedef const CHAR *PCSTR;
typedef UCHAR *PUCHAR;
typedef BOOLEAN *PBOOLEAN;
typedef int64_t LONG_PTR;
typedef LONG *PLONG;
typedef PVOID PSID;
typedef PVOID PSECURITY_DESCRIPTOR;
typedef const UNICODE_STRING *PCUNICODE_STRING;

/** Names an object: its name, the directory it is relative to, and flags (OBJ_*). */
typedef struct _OBJECT_ATTRIBUTES {
    ULONG Length;
    HANDLE RootDirectory;
    PUNICODE_STRING ObjectName;
    ULONG Attributes;
    PVOID SecurityDescriptor;
    PVOID SecurityQualityOfService;
} OBJECT_ATTRIBUTES, *POBJECT_ATTRIBUTES;
typedef const OBJECT_ATTRIBUTES *PCOBJECT_ATTRIBUTES;

#define OBJ_INHERIT 0x00000002u
#define OBJ_PERMANENT 0x00000010u
#define OBJ_EXCLUSIVE 0x00000020u
#define OBJ_CASE_INSENSITIVE 0x00000040u
#define OBJ_OPENIF 0x00000080u
#define OBJ_KERNEL_HANDLE 0x00000200u

/** Fills an OBJECT_ATTRIBUTES: p, name n, attributes a, root directory r, security descriptor s. */
#define InitializeObjectAttributes(p, n, a, r, s)                                                    \
    do {                                                                                             \
        (p)->Length = (ULONG)sizeof(OBJECT_ATTRIBUTES);                                              \
        (p)->RootDirectory = (r);                                                                    \
        (p)->Attributes = (a);                                                                       \
        (p)->ObjectName = (n);                                                                       \
        (p)->SecurityDescriptor = (s);                                                               \
        (p)->SecurityQualityOfService = NULL;                                                        \
    } while (0)

/** A UNICODE_STRING for the string literal s, without copying it. */
#define RTL_CONSTANT_STRING(s) { (USHORT)(sizeof(s) - sizeof((s)[0])), (USHORT)sizeof(s), (PWSTR)(s) }

/** Points DestinationString at SourceString (NUL-terminated; NULL gives an empty string). */
NTSYSAPI VOID NTAPI RtlInitUnicodeString(PUNICODE_STRING DestinationString, PCWSTR SourceString);

/* ---------------------------------------------------------------------------------------
 * Handles and waits
 * ------------------------------------------------------------------------------------- */

/** The current process's pseudo handle (-1); NtClose of it does nothing. */
#define NtCurrentProcess() ((HANDLE)(LONG_PTR)-1)
/** The current thread's pseudo handle (-2). */
#define NtCurrentThread() ((HANDLE)(LONG_PTR)-2)
#define ZwCurrentProcess() NtCurrentProcess()
#define ZwCurrentThread() NtCurrentThread()

/** Wait results: the object is signalled. */
#define STATUS_WAIT_0 STATUS_SUCCESS

/**
 * Closes any handle the library gave out: a port (a connection port closes and wakes its
 * receivers with STATUS_PORT_DISCONNECTED; a communication or client port disconnects), a
 * thread, a sender process or thread, or a descriptor received in a handle attribute.
 * STATUS_INVALID_HANDLE for a value that is not an open handle.
 */
NTSYSCALLAPI NTSTATUS NTAPI NtClose(HANDLE Handle);

/**
 * Waits until Handle is signalled: a waitable port (server or client) while a message is queued
 * (a client port also once its connect has ended or its server has gone), a thread or a
 * process once it has ended, any other descriptor while it is readable. Timeout in 100 ns
 * units: NULL waits forever, 0 polls, negative is relative, positive an absolute system time.
 * STATUS_WAIT_0 when signalled, STATUS_TIMEOUT (a success code) when the time ran out,
 * STATUS_OBJECT_TYPE_MISMATCH for a port that is not waitable.
 */
NTSYSCALLAPI NTSTATUS NTAPI NtWaitForSingleObject(HANDLE Handle, BOOLEAN Alertable, PLARGE_INTEGER Timeout);

/* ---------------------------------------------------------------------------------------
 * Threads
 * ------------------------------------------------------------------------------------- */

/** A thread's start routine; what it returns is the thread's exit status. */
typedef NTSTATUS(NTAPI *PUSER_THREAD_START_ROUTINE)(PVOID ThreadParameter);

/** The process attribute list of NtCreateThreadEx (opaque here; only NULL is accepted). */
typedef struct _PS_ATTRIBUTE_LIST PS_ATTRIBUTE_LIST, *PPS_ATTRIBUTE_LIST;

#define THREAD_CREATE_FLAGS_CREATE_SUSPENDED 0x00000001u
#define THREAD_CREATE_FLAGS_SKIP_THREAD_ATTACH 0x00000002u
#define THREAD_CREATE_FLAGS_HIDE_FROM_DEBUGGER 0x00000004u
#define THREAD_ALL_ACCESS 0x001FFFFFu
#define PROCESS_ALL_ACCESS 0x001FFFFFu
#define SYNCHRONIZE 0x00100000u

/**
 * Starts StartRoutine(Argument) on a new thread of the current process (ProcessHandle must be
 * NtCurrentProcess()). The handle is signalled when the thread ends. StackSize, when nonzero,
 * is the thread's stack size. STATUS_NOT_SUPPORTED for CREATE_SUSPENDED, another process, or
 * an attribute list.
 */
NTSYSCALLAPI NTSTATUS NTAPI NtCreateThreadEx(PHANDLE ThreadHandle, ACCESS_MASK DesiredAccess,
                                             POBJECT_ATTRIBUTES ObjectAttributes, HANDLE ProcessHandle,
                                             PUSER_THREAD_START_ROUTINE StartRoutine, PVOID Argument,
                                             ULONG CreateFlags, SIZE_T ZeroBits, SIZE_T StackSize,
                                             SIZE_T MaximumStackSize, PPS_ATTRIBUTE_LIST AttributeList);

/* ---------------------------------------------------------------------------------------
 * The process heap and memory
 * ------------------------------------------------------------------------------------- */

#define HEAP_NO_SERIALIZE 0x00000001u
#define HEAP_GENERATE_EXCEPTIONS 0x00000004u
#define HEAP_ZERO_MEMORY 0x00000008u

/** The process heap (the C library's allocator). */
NTSYSAPI PVOID NTAPI AlpcProcessHeap(void);
#define RtlProcessHeap() AlpcProcessHeap()

/** Allocates Size bytes from the process heap (zeroed with HEAP_ZERO_MEMORY); NULL on failure. */
NTSYSAPI PVOID NTAPI RtlAllocateHeap(PVOID HeapHandle, ULONG Flags, SIZE_T Size);
/** Frees memory from RtlAllocateHeap; FALSE for another heap. NULL is accepted. */
NTSYSAPI BOOLEAN NTAPI RtlFreeHeap(PVOID HeapHandle, ULONG Flags, PVOID BaseAddress);

#define RtlZeroMemory(Destination, Length) memset((Destination), 0, (Length))
#define RtlCopyMemory(Destination, Source, Length) memcpy((Destination), (Source), (Length))
#define RtlMoveMemory(Destination, Source, Length) memmove((Destination), (Source), (Length))
#define RtlFillMemory(Destination, Length, Fill) memset((Destination), (Fill), (Length))
#define RtlEqualMemory(Destination, Source, Length) (!memcmp((Destination), (Source), (Length)))

/** Zeroes Length bytes at Pointer with stores the compiler may not remove; returns Pointer. */
static inline PVOID RtlSecureZeroMemory(PVOID Pointer, SIZE_T Length) {
    volatile UCHAR *bytes = (volatile UCHAR *)Pointer;
    while (Length--) *bytes++ = 0;
    return Pointer;
}

/** The address of the structure of type `type` whose member `field` is at `address`. */
#define CONTAINING_RECORD(address, type, field) ((type *)((PCHAR)(address) - offsetof(type, field)))
#define LOBYTE(w) ((UCHAR)(((ULONG_PTR)(w)) & 0xff))
#define HIBYTE(w) ((UCHAR)((((ULONG_PTR)(w)) >> 8) & 0xff))
#define LOWORD(l) ((USHORT)(((ULONG_PTR)(l)) & 0xffff))
#define HIWORD(l) ((USHORT)((((ULONG_PTR)(l)) >> 16) & 0xffff))

/* ---------------------------------------------------------------------------------------
 * Status, errors, time
 * ------------------------------------------------------------------------------------- */

/** The Win32 error code of Status (ERROR_MR_MID_NOT_FOUND, 317, for one it does not know). */
NTSYSAPI ULONG NTAPI RtlNtStatusToDosError(NTSTATUS Status);

/** The calling thread's last Win32 error (set by the Win32-style functions of windows.h). */
NTSYSAPI ULONG NTAPI GetLastError(void);
/** Sets the calling thread's last Win32 error. */
NTSYSAPI VOID NTAPI SetLastError(ULONG ErrorCode);
/** The calling thread's id (its Linux thread id). */
NTSYSAPI ULONG NTAPI GetCurrentThreadId(void);
/** The calling process's id. */
NTSYSAPI ULONG NTAPI GetCurrentProcessId(void);
/** Suspends the calling thread for Milliseconds ms (0 yields; INFINITE, 0xFFFFFFFF, forever). */
NTSYSAPI VOID NTAPI Sleep(ULONG Milliseconds);

#ifdef __cplusplus
}
#endif

#endif /* ALPC_NTBASE_H */
