/*
 * ntalpc.h - the Windows x64 ALPC wire format, byte for byte, for C and Swift on Linux.
 *
 * Field names and union nesting follow phnt (ntlpcapi.h), so C written against the
 * Windows headers compiles unchanged. Every type has its Windows width (ULONG is 32-bit,
 * never `unsigned long`), and the x64 layout is the one wire format on every 64-bit Linux
 * target. Every size and field offset is checked by a _Static_assert at the end of this file.
 *
 * Naming conflicts between sources are settled as in the reference, section 2.13:
 * bit 0x08000000 is ALPC_MESSAGE_TOKEN_ATTRIBUTE, message flag 0x10000 is
 * ALPC_MSGFLG_RELEASE_MESSAGE, ALPC_MSGFLG_WOW64_CALL is 0x80000000, view flag 0x40000 is
 * ALPC_VIEWFLG_NOT_SECURE, port flag 0x40000 is ALPC_PORFLG_WAITABLE_PORT, Type 13 is
 * LPC_LEGACY_CONNECTION_REPLY, and the view attribute is ALPC_DATA_VIEW_ATTR.
 */
#ifndef ALPC_NTALPC_H
#define ALPC_NTALPC_H

#include <stddef.h>
#include <stdint.h>
#include <wchar.h>

#ifdef __cplusplus
extern "C" {
#ifndef _Static_assert
#define _Static_assert static_assert
#endif
#endif

/* ---------------------------------------------------------------------------------------
 * NT base types at their Windows widths
 * ------------------------------------------------------------------------------------- */

typedef uint8_t UCHAR;
typedef uint8_t BOOLEAN;
typedef int16_t CSHORT;
typedef uint16_t USHORT;
/* A wide character of this platform: wchar_t, so that L"..." literals work as they do on
 * Windows. No WCHAR crosses the wire (port names travel as UTF-8), so its width is local. */
typedef wchar_t WCHAR;
typedef int32_t LONG;
typedef uint32_t ULONG;
typedef int64_t LONGLONG;
typedef uint64_t ULONGLONG;
typedef uint64_t ULONG64;
typedef uint64_t ULONG_PTR;
typedef uint64_t SIZE_T;
typedef uint32_t ACCESS_MASK;
typedef int32_t NTSTATUS;
typedef void *PVOID;
typedef void *HANDLE;
typedef HANDLE ALPC_HANDLE;
typedef WCHAR *PWSTR;
typedef const WCHAR *PCWSTR;
typedef ULONG *PULONG;
typedef SIZE_T *PSIZE_T;
typedef HANDLE *PHANDLE;
typedef ALPC_HANDLE *PALPC_HANDLE;

#ifndef TRUE
#define TRUE 1
#endif
#ifndef FALSE
#define FALSE 0
#endif

/** A 64-bit signed integer with its 32-bit halves; NT timeouts are in 100 ns units, negative = relative. */
typedef union _LARGE_INTEGER {
    struct {
        ULONG LowPart;
        LONG HighPart;
    };
    struct {
        ULONG LowPart;
        LONG HighPart;
    } u;
    LONGLONG QuadPart;
} LARGE_INTEGER, *PLARGE_INTEGER;

/** A locally unique identifier. */
typedef struct _LUID {
    ULONG LowPart;
    LONG HighPart;
} LUID, *PLUID;

/** The sender of a message: its process id and thread id. */
typedef struct _CLIENT_ID {
    HANDLE UniqueProcess;
    HANDLE UniqueThread;
} CLIENT_ID, *PCLIENT_ID;

/** A counted wide string; Length and MaximumLength are in bytes. */
typedef struct _UNICODE_STRING {
    USHORT Length;
    USHORT MaximumLength;
    PWSTR Buffer;
} UNICODE_STRING, *PUNICODE_STRING;

/** How much of the client's identity a server may assume. */
typedef enum _SECURITY_IMPERSONATION_LEVEL {
    SecurityAnonymous = 0,
    SecurityIdentification = 1,
    SecurityImpersonation = 2,
    SecurityDelegation = 3
} SECURITY_IMPERSONATION_LEVEL, *PSECURITY_IMPERSONATION_LEVEL;

typedef BOOLEAN SECURITY_CONTEXT_TRACKING_MODE;
#define SECURITY_STATIC_TRACKING 0
#define SECURITY_DYNAMIC_TRACKING 1

/** Security quality of service; Length must be 12. */
typedef struct _SECURITY_QUALITY_OF_SERVICE {
    ULONG Length;
    SECURITY_IMPERSONATION_LEVEL ImpersonationLevel;
    SECURITY_CONTEXT_TRACKING_MODE ContextTrackingMode;
    BOOLEAN EffectiveOnly;
} SECURITY_QUALITY_OF_SERVICE, *PSECURITY_QUALITY_OF_SERVICE;

/** A reader/writer lock slot (one pointer). */
typedef struct _RTL_SRWLOCK {
    PVOID Ptr;
} RTL_SRWLOCK, *PRTL_SRWLOCK;

/* ---------------------------------------------------------------------------------------
 * PORT_MESSAGE: the header of every ALPC message; the data follows it directly
 * ------------------------------------------------------------------------------------- */

/** The header of an ALPC message (0x28 bytes); DataLength bytes of data follow it. */
typedef struct _PORT_MESSAGE {
#if defined(__swift__)
    union {
        struct {
            CSHORT DataLength;
            CSHORT TotalLength;
        } s1;
        ULONG Length;
    } u1;
    union {
        struct {
            CSHORT Type;
            CSHORT DataInfoOffset;
        } s2;
        ULONG ZeroInit;
    } u2;
#else
    /* phnt's nested names (u1.s1.DataLength) and the flat names other headers use
     * (DataLength), over the same bytes. */
    union {
        union {
            struct {
                CSHORT DataLength;
                CSHORT TotalLength;
            } s1;
            ULONG Length;
        } u1;
        struct {
            CSHORT DataLength;
            CSHORT TotalLength;
        };
        ULONG Length;
    };
    union {
        union {
            struct {
                CSHORT Type;
                CSHORT DataInfoOffset;
            } s2;
            ULONG ZeroInit;
        } u2;
        struct {
            CSHORT Type;
            CSHORT DataInfoOffset;
        };
        ULONG ZeroInit;
    };
#endif
    union {
        CLIENT_ID ClientId;
        double DoNotUseThisField;
    };
    ULONG MessageId;
    union {
        SIZE_T ClientViewSize;
        ULONG CallbackId;
    };
} PORT_MESSAGE, *PPORT_MESSAGE;

/** The x64 layout is the one layout: PORT_MESSAGE64 is PORT_MESSAGE. */
typedef PORT_MESSAGE PORT_MESSAGE64, *PPORT_MESSAGE64;

/* ---------------------------------------------------------------------------------------
 * Port attributes and message attributes
 * ------------------------------------------------------------------------------------- */

/** The attributes of a port: flags, QoS, size limits and which object types may be duplicated. */
typedef struct _ALPC_PORT_ATTRIBUTES {
    ULONG Flags;
    SECURITY_QUALITY_OF_SERVICE SecurityQos;
    SIZE_T MaxMessageLength;
    SIZE_T MemoryBandwidth;
    SIZE_T MaxPoolUsage;
    SIZE_T MaxSectionSize;
    SIZE_T MaxViewSize;
    SIZE_T MaxTotalSectionSize;
    ULONG DupObjectTypes;
    ULONG Reserved;
} ALPC_PORT_ATTRIBUTES, *PALPC_PORT_ATTRIBUTES;

/** The header of an attribute buffer; the allocated attribute blobs follow it. */
typedef struct _ALPC_MESSAGE_ATTRIBUTES {
    ULONG AllocatedAttributes;
    ULONG ValidAttributes;
} ALPC_MESSAGE_ATTRIBUTES, *PALPC_MESSAGE_ATTRIBUTES;

/** The security attribute: a QoS and a security-context handle. */
typedef struct _ALPC_SECURITY_ATTR {
    ULONG Flags;
#if defined(__swift__)
    PSECURITY_QUALITY_OF_SERVICE QoS;
#else
    union {
        PSECURITY_QUALITY_OF_SERVICE QoS;
        PSECURITY_QUALITY_OF_SERVICE SecurityQos; /* the name other headers use */
    };
#endif
    ALPC_HANDLE ContextHandle;
} ALPC_SECURITY_ATTR, *PALPC_SECURITY_ATTR;

/** The view attribute: a view of a port section; ViewBase is the receiver's own address. */
typedef struct _ALPC_DATA_VIEW_ATTR {
    ULONG Flags;
    ALPC_HANDLE SectionHandle;
    PVOID ViewBase;
    SIZE_T ViewSize;
} ALPC_DATA_VIEW_ATTR, *PALPC_DATA_VIEW_ATTR;

/** The older name of the view attribute. */
typedef ALPC_DATA_VIEW_ATTR ALPC_VIEW_ATTR, *PALPC_VIEW_ATTR;

/** The context attribute: the port context given at accept, and the message's sequence and ids. */
typedef struct _ALPC_CONTEXT_ATTR {
    PVOID PortContext;
    PVOID MessageContext;
    ULONG Sequence;
    ULONG MessageId;
    ULONG CallbackId;
} ALPC_CONTEXT_ATTR, *PALPC_CONTEXT_ATTR;

/** One entry of an indirect handle array (ALPC_HANDLEFLG_INDIRECT). */
typedef struct _ALPC_HANDLE_ATTR32 {
    ULONG Flags;
    ULONG Handle;
    ULONG ObjectType;
    ACCESS_MASK DesiredAccess;
} ALPC_HANDLE_ATTR32, *PALPC_HANDLE_ATTR32;

/** The handle attribute (the corrected 24-byte layout): one handle, or an indirect array of them. */
typedef struct _ALPC_HANDLE_ATTR {
    union {
        ULONG Flags;
        struct {
            ULONG Reserved0 : 16;
            ULONG SameAccess : 1;
            ULONG SameAttributes : 1;
            ULONG Indirect : 1;
            ULONG Inherit : 1;
            ULONG Reserved1 : 12;
        };
    };
    union {
        HANDLE Handle;
        PALPC_HANDLE_ATTR32 HandleAttrArray;
    };
    union {
        ULONG ObjectType;
        ULONG HandleCount;
    };
    union {
        ACCESS_MASK DesiredAccess;
        ACCESS_MASK GrantedAccess;
    };
} ALPC_HANDLE_ATTR, *PALPC_HANDLE_ATTR;

/** The token attribute: identifiers of the sender's token. */
typedef struct _ALPC_TOKEN_ATTR {
    ULONGLONG TokenId;
    ULONGLONG AuthenticationId;
    ULONGLONG ModifiedId;
} ALPC_TOKEN_ATTR, *PALPC_TOKEN_ATTR;

/** The direct attribute: an event signalled when the message is delivered. */
typedef struct _ALPC_DIRECT_ATTR {
    union {
        HANDLE EventHandle;
        HANDLE Event;
    };
} ALPC_DIRECT_ATTR, *PALPC_DIRECT_ATTR;

/** The work-on-behalf attribute: an opaque ticket passed through unchanged. */
typedef struct _ALPC_WORK_ON_BEHALF_ATTR {
    union {
        ULONGLONG Ticket;
        struct {
            ULONG ThreadId;
            ULONG ThreadCreationTimeLow;
        };
    };
} ALPC_WORK_ON_BEHALF_ATTR, *PALPC_WORK_ON_BEHALF_ATTR;

/* ---------------------------------------------------------------------------------------
 * Information structs
 * ------------------------------------------------------------------------------------- */

typedef struct _ALPC_BASIC_INFORMATION {
    ULONG Flags;
    ULONG SequenceNo;
    PVOID PortContext;
} ALPC_BASIC_INFORMATION, *PALPC_BASIC_INFORMATION;

typedef struct _ALPC_PORT_ASSOCIATE_COMPLETION_PORT {
    PVOID CompletionKey;
    HANDLE CompletionPort;
} ALPC_PORT_ASSOCIATE_COMPLETION_PORT, *PALPC_PORT_ASSOCIATE_COMPLETION_PORT;

typedef struct _ALPC_SERVER_INFORMATION {
    union {
        struct {
            HANDLE ThreadHandle;
        } In;
        struct {
            BOOLEAN ThreadBlocked;
            HANDLE ConnectedProcessId;
            UNICODE_STRING ConnectionPortName;
        } Out;
    };
} ALPC_SERVER_INFORMATION, *PALPC_SERVER_INFORMATION;

typedef struct _ALPC_PORT_MESSAGE_ZONE_INFORMATION {
    PVOID Buffer;
    ULONG Size;
} ALPC_PORT_MESSAGE_ZONE_INFORMATION, *PALPC_PORT_MESSAGE_ZONE_INFORMATION;

typedef struct _ALPC_PORT_COMPLETION_LIST_INFORMATION {
    PVOID Buffer;
    ULONG Size;
    ULONG ConcurrencyCount;
    ULONG AttributeFlags;
} ALPC_PORT_COMPLETION_LIST_INFORMATION, *PALPC_PORT_COMPLETION_LIST_INFORMATION;

typedef struct _ALPC_SERVER_SESSION_INFORMATION {
    ULONG SessionId;
    ULONG ProcessId;
} ALPC_SERVER_SESSION_INFORMATION, *PALPC_SERVER_SESSION_INFORMATION;

typedef struct _ALPC_MESSAGE_HANDLE_INFORMATION {
    ULONG Index;
    ULONG Flags;
    ULONG Handle;
    ULONG ObjectType;
    ACCESS_MASK GrantedAccess;
} ALPC_MESSAGE_HANDLE_INFORMATION, *PALPC_MESSAGE_HANDLE_INFORMATION;

typedef union _ALPC_COMPLETION_LIST_STATE {
    struct {
        ULONG64 Head : 24;
        ULONG64 Tail : 24;
        ULONG64 ActiveThreadCount : 16;
    } s1;
    ULONG64 Value;
} ALPC_COMPLETION_LIST_STATE, *PALPC_COMPLETION_LIST_STATE;

/**
 * The header of a completion list. Windows aligns its groups to 128 bytes; here explicit
 * padding gives the same offsets, because over-aligned structs do not import into Swift.
 */
typedef struct _ALPC_COMPLETION_LIST_HEADER {
    ULONG64 StartMagic;
    ULONG TotalSize;
    ULONG ListOffset;
    ULONG ListSize;
    ULONG BitmapOffset;
    ULONG BitmapSize;
    ULONG DataOffset;
    ULONG DataSize;
    ULONG AttributeFlags;
    ULONG AttributeSize;
    UCHAR Padding0[0x80 - 0x2C];
    ALPC_COMPLETION_LIST_STATE State;
    ULONG LastMessageId;
    ULONG LastCallbackId;
    UCHAR Padding1[0x100 - 0x90];
    ULONG PostCount;
    UCHAR Padding2[0x180 - 0x104];
    ULONG ReturnCount;
    UCHAR Padding3[0x200 - 0x184];
    ULONG LogSequenceNumber;
    UCHAR Padding4[0x280 - 0x204];
    RTL_SRWLOCK UserLock;
    ULONG64 EndMagic;
    UCHAR Padding5[0x300 - 0x290];
} ALPC_COMPLETION_LIST_HEADER, *PALPC_COMPLETION_LIST_HEADER;

/* Legacy LPC structs. */

typedef struct _PORT_VIEW {
    ULONG Length;
    HANDLE SectionHandle;
    ULONG SectionOffset;
    SIZE_T ViewSize;
    PVOID ViewBase;
    PVOID ViewRemoteBase;
} PORT_VIEW, *PPORT_VIEW;

typedef struct _REMOTE_PORT_VIEW {
    ULONG Length;
    SIZE_T ViewSize;
    PVOID ViewBase;
} REMOTE_PORT_VIEW, *PREMOTE_PORT_VIEW;

typedef struct _LPC_CLIENT_DIED_MSG {
    PORT_MESSAGE PortMsg;
    LARGE_INTEGER CreateTime;
} LPC_CLIENT_DIED_MSG, *PLPC_CLIENT_DIED_MSG;

typedef struct _PORT_DATA_ENTRY {
    PVOID Base;
    ULONG Size;
} PORT_DATA_ENTRY, *PPORT_DATA_ENTRY;

typedef struct _PORT_DATA_INFORMATION {
    ULONG CountDataEntries;
    PORT_DATA_ENTRY DataEntries[1];
} PORT_DATA_INFORMATION, *PPORT_DATA_INFORMATION;

/* ---------------------------------------------------------------------------------------
 * Information classes
 * ------------------------------------------------------------------------------------- */

typedef enum _ALPC_PORT_INFORMATION_CLASS {
    AlpcBasicInformation = 0,
    AlpcPortInformation = 1,
    AlpcAssociateCompletionPortInformation = 2,
    AlpcConnectedSIDInformation = 3,
    AlpcServerInformation = 4,
    AlpcMessageZoneInformation = 5,
    AlpcRegisterCompletionListInformation = 6,
    AlpcUnregisterCompletionListInformation = 7,
    AlpcAdjustCompletionListConcurrencyCountInformation = 8,
    AlpcRegisterCallbackInformation = 9,
    AlpcCompletionListRundownInformation = 10,
    AlpcWaitForPortReferences = 11,
    AlpcServerSessionInformation = 12
} ALPC_PORT_INFORMATION_CLASS;

typedef enum _ALPC_MESSAGE_INFORMATION_CLASS {
    AlpcMessageSidInformation = 0,
    AlpcMessageTokenModifiedIdInformation = 1,
    AlpcMessageDirectStatusInformation = 2,
    AlpcMessageHandleInformation = 3,
    MaxAlpcMessageInfoClass = 4
} ALPC_MESSAGE_INFORMATION_CLASS;

/* ---------------------------------------------------------------------------------------
 * Constants (reference section 2.9)
 * ------------------------------------------------------------------------------------- */

/* Access rights. */
#define PORT_CONNECT 0x1u
#define PORT_ALL_ACCESS 0x1F0001u

/* LPC message types: the low bits of PORT_MESSAGE.u2.s2.Type. */
#define LPC_REQUEST 1
#define LPC_REPLY 2
#define LPC_DATAGRAM 3
#define LPC_LOST_REPLY 4
#define LPC_PORT_CLOSED 5
#define LPC_CLIENT_DIED 6
#define LPC_EXCEPTION 7
#define LPC_DEBUG_EVENT 8
#define LPC_ERROR_EVENT 9
#define LPC_CONNECTION_REQUEST 10
#define LPC_INTERNAL_CONNECTION_REPLY 11
#define LPC_CANCEL_MESSAGE 12
/* Older spellings of 11 and 12. */
#define LPC_CONNECTION_REPLY LPC_INTERNAL_CONNECTION_REPLY
#define LPC_CANCELED LPC_CANCEL_MESSAGE
#define LPC_LEGACY_CONNECTION_REPLY 13

/* Type flag bits. */
#define LPC_RESERVED_MESSAGE 0x1000
#define LPC_CONTINUATION_REQUIRED 0x2000
#define LPC_NO_IMPERSONATE 0x4000
#define LPC_KERNELMODE_MESSAGE 0x8000

/* Type values as delivered: a type with LPC_CONTINUATION_REQUIRED. */
#define ALPC_REQUEST (LPC_CONTINUATION_REQUIRED | LPC_REQUEST)
#define ALPC_CONNECTION_REQUEST (LPC_CONTINUATION_REQUIRED | LPC_CONNECTION_REQUEST)

/* Flags of NtAlpcConnectPort and NtAlpcSendWaitReceivePort. */
#define ALPC_MSGFLG_REPLY_MESSAGE 0x1u
#define ALPC_MSGFLG_LPC_MODE 0x2u
#define ALPC_MSGFLG_RELEASE_MESSAGE 0x10000u
#define ALPC_MSGFLG_SYNC_REQUEST 0x20000u
/* The connect flag for a synchronous connection: ALPC_MSGFLG_SYNC_REQUEST. */
#define ALPC_SYNC_CONNECTION ALPC_MSGFLG_SYNC_REQUEST
#define ALPC_MSGFLG_TRACK_PORT_REFERENCES 0x40000u
#define ALPC_MSGFLG_WAIT_USER_MODE 0x100000u
#define ALPC_MSGFLG_WAIT_ALERTABLE 0x200000u
#define ALPC_MSGFLG_SIGNAL_ALERTABLE 0x400000u
#define ALPC_MSGFLG_INTERNAL_REJECT 0x1000000u
#define ALPC_MSGFLG_WOW64_CALL 0x80000000u

/* Port attribute flags (ALPC_PORT_ATTRIBUTES.Flags). */
#define ALPC_PORFLG_LPC_MODE 0x1000u
#define ALPC_PORFLG_ALLOW_IMPERSONATION 0x10000u
#define ALPC_PORFLG_ALLOW_LPC_REQUESTS 0x20000u
#define ALPC_PORFLG_WAITABLE_PORT 0x40000u
#define ALPC_PORFLG_ALLOW_DUP_OBJECT 0x80000u
#define ALPC_PORFLG_SYSTEM_PROCESS 0x100000u
#define ALPC_PORFLG_WAKE_POLICY1 0x200000u
#define ALPC_PORFLG_WAKE_POLICY2 0x400000u
#define ALPC_PORFLG_WAKE_POLICY3 0x800000u
#define ALPC_PORFLG_DIRECT_MESSAGE 0x1000000u
#define ALPC_PORFLG_ALLOW_MULTIHANDLE_ATTRIBUTE 0x2000000u

/* The other spellings found in the wild, ALPC_PORTFLG_* and the LRPC wake policies. */
#define ALPC_PORFLG_ALLOWIMPERSONATION ALPC_PORFLG_ALLOW_IMPERSONATION
#define ALPC_PORFLG_LRPC_WAKE_POLICY1 ALPC_PORFLG_WAKE_POLICY1
#define ALPC_PORFLG_LRPC_WAKE_POLICY2 ALPC_PORFLG_WAKE_POLICY2
#define ALPC_PORFLG_LRPC_WAKE_POLICY3 ALPC_PORFLG_WAKE_POLICY3
#define ALPC_PORTFLG_LPC_MODE ALPC_PORFLG_LPC_MODE
#define ALPC_PORTFLG_ALLOWIMPERSONATION ALPC_PORFLG_ALLOW_IMPERSONATION
#define ALPC_PORTFLG_ALLOW_IMPERSONATION ALPC_PORFLG_ALLOW_IMPERSONATION
#define ALPC_PORTFLG_ALLOW_LPC_REQUESTS ALPC_PORFLG_ALLOW_LPC_REQUESTS
#define ALPC_PORTFLG_WAITABLE_PORT ALPC_PORFLG_WAITABLE_PORT
#define ALPC_PORTFLG_ALLOW_DUP_OBJECT ALPC_PORFLG_ALLOW_DUP_OBJECT
#define ALPC_PORTFLG_SYSTEM_PROCESS ALPC_PORFLG_SYSTEM_PROCESS
#define ALPC_PORTFLG_LRPC_WAKE_POLICY1 ALPC_PORFLG_WAKE_POLICY1
#define ALPC_PORTFLG_LRPC_WAKE_POLICY2 ALPC_PORFLG_WAKE_POLICY2
#define ALPC_PORTFLG_LRPC_WAKE_POLICY3 ALPC_PORFLG_WAKE_POLICY3
#define ALPC_PORTFLG_DIRECT_MESSAGE ALPC_PORFLG_DIRECT_MESSAGE
#define ALPC_PORTFLG_ALLOW_MULTIHANDLE_ATTRIBUTE ALPC_PORFLG_ALLOW_MULTIHANDLE_ATTRIBUTE

/* Object types that may be duplicated (ALPC_PORT_ATTRIBUTES.DupObjectTypes). */
#define ALPC_PORFLG_OBJECT_TYPE_FILE 0x1u
#define ALPC_PORFLG_OBJECT_TYPE_INVALID 0x2u
#define ALPC_PORFLG_OBJECT_TYPE_THREAD 0x4u
#define ALPC_PORFLG_OBJECT_TYPE_SEMAPHORE 0x8u
#define ALPC_PORFLG_OBJECT_TYPE_EVENT 0x10u
#define ALPC_PORFLG_OBJECT_TYPE_PROCESS 0x20u
#define ALPC_PORFLG_OBJECT_TYPE_MUTEX 0x40u
#define ALPC_PORFLG_OBJECT_TYPE_SECTION 0x80u
#define ALPC_PORFLG_OBJECT_TYPE_REGKEY 0x100u
#define ALPC_PORFLG_OBJECT_TYPE_TOKEN 0x200u
#define ALPC_PORFLG_OBJECT_TYPE_COMPOSITION 0x400u
#define ALPC_PORFLG_OBJECT_TYPE_JOB 0x800u
#define ALPC_PORFLG_OBJECT_TYPE_ALL 0xFFDu

/* Message attribute flags, from the highest bit: also the order of the blobs in memory. */
#define ALPC_MESSAGE_SECURITY_ATTRIBUTE 0x80000000u
#define ALPC_MESSAGE_VIEW_ATTRIBUTE 0x40000000u
#define ALPC_MESSAGE_CONTEXT_ATTRIBUTE 0x20000000u
#define ALPC_MESSAGE_HANDLE_ATTRIBUTE 0x10000000u
#define ALPC_MESSAGE_TOKEN_ATTRIBUTE 0x08000000u
#define ALPC_MESSAGE_DIRECT_ATTRIBUTE 0x04000000u
#define ALPC_MESSAGE_WORK_ON_BEHALF_ATTRIBUTE 0x02000000u
/** All seven attributes. */
#define ALPC_MESSAGE_ATTRIBUTE_ALL 0xFE000000u
/** phnt's name for the four top attributes only. */
#define ALPC_MESSAGE_ATTRIBUTES_ALL 0xF0000000u

/* Handle attribute flags. */
#define ALPC_HANDLEFLG_DUPLICATE_SAME_ACCESS 0x10000u
#define ALPC_HANDLEFLG_DUPLICATE_SAME_ATTRIBUTES 0x20000u
#define ALPC_HANDLEFLG_INDIRECT 0x40000u
#define ALPC_HANDLEFLG_DUPLICATE_INHERIT 0x80000u
/** The most handles an indirect handle attribute may carry. */
#define ALPC_INDIRECT_HANDLE_MAX 512u

/* Security attribute flags. */
#define ALPC_SECFLG_DELETE_EXISTING 0x10000u
#define ALPC_SECFLG_CREATE_HANDLE 0x20000u
#define ALPC_SECFLG_NOSECTIONHANDLE 0x40000u

/* View attribute flags. */
#define ALPC_VIEWFLG_UNMAP_EXISTING 0x10000u
#define ALPC_VIEWFLG_AUTO_RELEASE 0x20000u
#define ALPC_VIEWFLG_NOT_SECURE 0x40000u
#define ALPC_VIEWFLG_VALID_MASK 0x70000u

/* NtAlpcCreatePortSection flags. */
#define ALPC_CREATEPORTSECTIONFLG_SECURE 0x40000u

/* NtAlpcCancelMessage flags. */
#define ALPC_CANCELFLG_TRY_CANCEL 0x1u
#define ALPC_CANCELFLG_RESERVED_CAPTURE32 0x4u
#define ALPC_CANCELFLG_NO_CONTEXT_CHECK 0x8u
#define ALPC_CANCELFLG_FLUSH 0x10000u
#define ALPC_CANCELFLGP_FLUSH ALPC_CANCELFLG_FLUSH

/* Impersonation flags; the required level goes in bits 2-3 (level << 2). */
#define ALPC_IMPERSONATEFLG_ANONYMOUS 0x1u
#define ALPC_IMPERSONATEFLG_REQUIRE_IMPERSONATE 0x2u

/* NtAlpcDisconnectPort flags. */
#define ALPC_DISCONNECTFLG_NO_FLUSH_ON_CLOSE 0x1u

/* Attribute flags of completion lists. */
#define ALPC_ATTRFLG_ALLOCATEDATTR 0x20000000u
#define ALPC_ATTRFLG_VALIDATTR 0x40000000u
#define ALPC_ATTRFLG_KEEPRUNNINGATTR 0x60000000u

/* Legacy LPC limits (x64). */
#define PORT_MAXIMUM_MESSAGE_LENGTH 512u
#define LPC_MAX_CONNECTION_INFO_SIZE (16u * 8u)
#define PORT_TOTAL_MAXIMUM_MESSAGE_LENGTH                                                   \
    ((PORT_MAXIMUM_MESSAGE_LENGTH + 0x28u + LPC_MAX_CONNECTION_INFO_SIZE + 15u) & ~15u)

/** The largest TotalLength of any message, header included (to verify on real Windows). */
#define ALPC_MAX_ALLOWED_MESSAGE_LENGTH 0xFFFFu

/* ---------------------------------------------------------------------------------------
 * NTSTATUS values (reference section 2.12). Written as negative decimals so that Swift
 * imports them as NTSTATUS; the Windows hex value is in each comment and checked below.
 * ------------------------------------------------------------------------------------- */

#define STATUS_SUCCESS                               ((NTSTATUS)0) /* 0x00000000 */
#define STATUS_USER_APC                              ((NTSTATUS)192) /* 0x000000C0 */
#define STATUS_ALERTED                               ((NTSTATUS)257) /* 0x00000101 */
#define STATUS_TIMEOUT                               ((NTSTATUS)258) /* 0x00000102 */
#define STATUS_PENDING                               ((NTSTATUS)259) /* 0x00000103 */
#define STATUS_OBJECT_NAME_EXISTS                    ((NTSTATUS)1073741824) /* 0x40000000 */
#define STATUS_MESSAGE_RETRIEVED                     ((NTSTATUS)1073741870) /* 0x4000002E */
#define STATUS_ALPC_CHECK_COMPLETION_LIST            ((NTSTATUS)1073741872) /* 0x40000030 */
#define STATUS_BUFFER_OVERFLOW                       ((NTSTATUS)-2147483643) /* 0x80000005 */
#define STATUS_UNSUCCESSFUL                          ((NTSTATUS)-1073741823) /* 0xC0000001 */
#define STATUS_NOT_IMPLEMENTED                       ((NTSTATUS)-1073741822) /* 0xC0000002 */
#define STATUS_INVALID_INFO_CLASS                    ((NTSTATUS)-1073741821) /* 0xC0000003 */
#define STATUS_INFO_LENGTH_MISMATCH                  ((NTSTATUS)-1073741820) /* 0xC0000004 */
#define STATUS_INVALID_HANDLE                        ((NTSTATUS)-1073741816) /* 0xC0000008 */
#define STATUS_INVALID_CID                           ((NTSTATUS)-1073741813) /* 0xC000000B */
#define STATUS_INVALID_PARAMETER                     ((NTSTATUS)-1073741811) /* 0xC000000D */
#define STATUS_NO_MEMORY                             ((NTSTATUS)-1073741801) /* 0xC0000017 */
#define STATUS_INVALID_VIEW_SIZE                     ((NTSTATUS)-1073741793) /* 0xC000001F */
#define STATUS_ACCESS_DENIED                         ((NTSTATUS)-1073741790) /* 0xC0000022 */
#define STATUS_BUFFER_TOO_SMALL                      ((NTSTATUS)-1073741789) /* 0xC0000023 */
#define STATUS_OBJECT_TYPE_MISMATCH                  ((NTSTATUS)-1073741788) /* 0xC0000024 */
#define STATUS_INVALID_PORT_ATTRIBUTES               ((NTSTATUS)-1073741778) /* 0xC000002E */
#define STATUS_PORT_MESSAGE_TOO_LONG                 ((NTSTATUS)-1073741777) /* 0xC000002F */
#define STATUS_INVALID_PARAMETER_MIX                 ((NTSTATUS)-1073741776) /* 0xC0000030 */
#define STATUS_OBJECT_NAME_INVALID                   ((NTSTATUS)-1073741773) /* 0xC0000033 */
#define STATUS_OBJECT_NAME_NOT_FOUND                 ((NTSTATUS)-1073741772) /* 0xC0000034 */
#define STATUS_OBJECT_NAME_COLLISION                 ((NTSTATUS)-1073741771) /* 0xC0000035 */
#define STATUS_PORT_DISCONNECTED                     ((NTSTATUS)-1073741769) /* 0xC0000037 */
#define STATUS_OBJECT_PATH_INVALID                   ((NTSTATUS)-1073741767) /* 0xC0000039 */
#define STATUS_OBJECT_PATH_NOT_FOUND                 ((NTSTATUS)-1073741766) /* 0xC000003A */
#define STATUS_OBJECT_PATH_SYNTAX_BAD                ((NTSTATUS)-1073741765) /* 0xC000003B */
#define STATUS_SECTION_TOO_BIG                       ((NTSTATUS)-1073741760) /* 0xC0000040 */
#define STATUS_PORT_CONNECTION_REFUSED               ((NTSTATUS)-1073741759) /* 0xC0000041 */
#define STATUS_INVALID_PORT_HANDLE                   ((NTSTATUS)-1073741758) /* 0xC0000042 */
#define STATUS_QUOTA_EXCEEDED                        ((NTSTATUS)-1073741756) /* 0xC0000044 */
#define STATUS_PORT_ALREADY_SET                      ((NTSTATUS)-1073741752) /* 0xC0000048 */
#define STATUS_THREAD_IS_TERMINATING                 ((NTSTATUS)-1073741749) /* 0xC000004B */
#define STATUS_PRIVILEGE_NOT_HELD                    ((NTSTATUS)-1073741727) /* 0xC0000061 */
#define STATUS_INSUFFICIENT_RESOURCES                ((NTSTATUS)-1073741670) /* 0xC000009A */
#define STATUS_BAD_IMPERSONATION_LEVEL               ((NTSTATUS)-1073741659) /* 0xC00000A5 */
#define STATUS_NOT_SUPPORTED                         ((NTSTATUS)-1073741637) /* 0xC00000BB */
#define STATUS_INVALID_PARAMETER_1                   ((NTSTATUS)-1073741585) /* 0xC00000EF */
#define STATUS_INVALID_PARAMETER_2                   ((NTSTATUS)-1073741584) /* 0xC00000F0 */
#define STATUS_INVALID_PARAMETER_3                   ((NTSTATUS)-1073741583) /* 0xC00000F1 */
#define STATUS_INVALID_PARAMETER_4                   ((NTSTATUS)-1073741582) /* 0xC00000F2 */
#define STATUS_INVALID_PARAMETER_5                   ((NTSTATUS)-1073741581) /* 0xC00000F3 */
#define STATUS_INVALID_PARAMETER_6                   ((NTSTATUS)-1073741580) /* 0xC00000F4 */
#define STATUS_INVALID_PARAMETER_7                   ((NTSTATUS)-1073741579) /* 0xC00000F5 */
#define STATUS_INVALID_PARAMETER_8                   ((NTSTATUS)-1073741578) /* 0xC00000F6 */
#define STATUS_INVALID_PARAMETER_9                   ((NTSTATUS)-1073741577) /* 0xC00000F7 */
#define STATUS_INVALID_PARAMETER_10                  ((NTSTATUS)-1073741576) /* 0xC00000F8 */
#define STATUS_INVALID_PARAMETER_11                  ((NTSTATUS)-1073741575) /* 0xC00000F9 */
#define STATUS_INVALID_PARAMETER_12                  ((NTSTATUS)-1073741574) /* 0xC00000FA */
#define STATUS_MESSAGE_NOT_FOUND                     ((NTSTATUS)-1073741559) /* 0xC0000109 */
#define STATUS_PROCESS_IS_TERMINATING                ((NTSTATUS)-1073741558) /* 0xC000010A */
#define STATUS_CANNOT_IMPERSONATE                    ((NTSTATUS)-1073741555) /* 0xC000010D */
#define STATUS_CANCELLED                             ((NTSTATUS)-1073741536) /* 0xC0000120 */
#define STATUS_REPLY_MESSAGE_MISMATCH                ((NTSTATUS)-1073741281) /* 0xC000021F */
#define STATUS_LPC_REPLY_LOST                        ((NTSTATUS)-1073741229) /* 0xC0000253 */
#define STATUS_NO_CALLBACK_ACTIVE                    ((NTSTATUS)-1073741224) /* 0xC0000258 */
#define STATUS_SERVER_SID_MISMATCH                   ((NTSTATUS)-1073741152) /* 0xC00002A0 */
#define STATUS_PORT_CLOSED                           ((NTSTATUS)-1073740032) /* 0xC0000700 */
#define STATUS_MESSAGE_LOST                          ((NTSTATUS)-1073740031) /* 0xC0000701 */
#define STATUS_INVALID_MESSAGE                       ((NTSTATUS)-1073740030) /* 0xC0000702 */
#define STATUS_REQUEST_CANCELED                      ((NTSTATUS)-1073740029) /* 0xC0000703 */
#define STATUS_RECURSIVE_DISPATCH                    ((NTSTATUS)-1073740028) /* 0xC0000704 */
#define STATUS_LPC_RECEIVE_BUFFER_EXPECTED           ((NTSTATUS)-1073740027) /* 0xC0000705 */
#define STATUS_LPC_INVALID_CONNECTION_USAGE          ((NTSTATUS)-1073740026) /* 0xC0000706 */
#define STATUS_LPC_REQUESTS_NOT_ALLOWED              ((NTSTATUS)-1073740025) /* 0xC0000707 */
#define STATUS_RESOURCE_IN_USE                       ((NTSTATUS)-1073740024) /* 0xC0000708 */
#define STATUS_PORT_ALREADY_HAS_COMPLETION_LIST      ((NTSTATUS)-1073740006) /* 0xC000071A */
#define STATUS_LPC_HANDLE_COUNT_EXCEEDED             ((NTSTATUS)-1073739998) /* 0xC0000722 */

/** NT_SUCCESS: true for success and informational codes (STATUS_TIMEOUT included). */
#define NT_SUCCESS(Status) (((NTSTATUS)(Status)) >= 0)
#define NT_INFORMATION(Status) ((((ULONG)(Status)) >> 30) == 1)
#define NT_WARNING(Status) ((((ULONG)(Status)) >> 30) == 2)
#define NT_ERROR(Status) ((((ULONG)(Status)) >> 30) == 3)

/* ---------------------------------------------------------------------------------------
 * The ntdll helpers (reference section 2.10)
 * ------------------------------------------------------------------------------------- */

/*
 * The bytes of the blobs of the seven attributes in a 7-bit set (bit 6 the security attribute,
 * 0x80000000, down to bit 0 work-on-behalf, 0x02000000), and that sum for each of the 128 sets:
 * a header size or a blob's offset is then one load, not seven multiplications.
 */
#define ALPCP_BLOB_BYTES(set)                                                   \
    ((((set) >> 6) & 1u) * sizeof(ALPC_SECURITY_ATTR) +                         \
     (((set) >> 5) & 1u) * sizeof(ALPC_DATA_VIEW_ATTR) +                        \
     (((set) >> 4) & 1u) * sizeof(ALPC_CONTEXT_ATTR) +                          \
     (((set) >> 3) & 1u) * sizeof(ALPC_HANDLE_ATTR) +                           \
     (((set) >> 2) & 1u) * sizeof(ALPC_TOKEN_ATTR) +                            \
     (((set) >> 1) & 1u) * sizeof(ALPC_DIRECT_ATTR) +                           \
     ((set) & 1u) * sizeof(ALPC_WORK_ON_BEHALF_ATTR))
#define ALPCP_BLOB_BYTES_2(n) ALPCP_BLOB_BYTES(n), ALPCP_BLOB_BYTES((n) + 1)
#define ALPCP_BLOB_BYTES_8(n) ALPCP_BLOB_BYTES_2(n), ALPCP_BLOB_BYTES_2((n) + 2), \
    ALPCP_BLOB_BYTES_2((n) + 4), ALPCP_BLOB_BYTES_2((n) + 6)
#define ALPCP_BLOB_BYTES_32(n) ALPCP_BLOB_BYTES_8(n), ALPCP_BLOB_BYTES_8((n) + 8), \
    ALPCP_BLOB_BYTES_8((n) + 16), ALPCP_BLOB_BYTES_8((n) + 24)
static const unsigned char AlpcpBlobBytes[128] = {ALPCP_BLOB_BYTES_32(0), ALPCP_BLOB_BYTES_32(32),
                                                  ALPCP_BLOB_BYTES_32(64), ALPCP_BLOB_BYTES_32(96)};

/**
 * The size of an attribute buffer holding the attributes in Flags: 8 for the header plus the
 * size of each known attribute. Unknown bits contribute nothing.
 */
static inline ULONG AlpcpGetHeaderSize(ULONG Flags) {
    return (ULONG)sizeof(ALPC_MESSAGE_ATTRIBUTES) + AlpcpBlobBytes[(Flags >> 25) & 0x7Fu];
}

/**
 * Prepares Buffer to hold the attributes in AttributeFlags. Always writes the needed size to
 * *RequiredBufferSize. Returns STATUS_BUFFER_TOO_SMALL, touching nothing, when BufferSize is
 * below it (the usual size query is (flags, NULL, 0, &size)); STATUS_SUCCESS otherwise, after
 * setting AllocatedAttributes = AttributeFlags and ValidAttributes = 0 when Buffer is given.
 */
static inline NTSTATUS AlpcpInitializeMessageAttribute(ULONG AttributeFlags, PALPC_MESSAGE_ATTRIBUTES Buffer,
                                                       SIZE_T BufferSize, PSIZE_T RequiredBufferSize) {
    SIZE_T required = AlpcpGetHeaderSize(AttributeFlags);
    if (RequiredBufferSize) *RequiredBufferSize = required;
    if (BufferSize < required) return STATUS_BUFFER_TOO_SMALL;
    if (Buffer) {
        Buffer->AllocatedAttributes = AttributeFlags;
        Buffer->ValidAttributes = 0;
    }
    return STATUS_SUCCESS;
}

/**
 * The address of the blob for the single attribute AttributeFlag in Buffer, or NULL when the
 * flag is zero, has more than one bit, is unknown, or is not allocated. ValidAttributes is not
 * consulted.
 */
static inline PVOID AlpcpGetMessageAttribute(PALPC_MESSAGE_ATTRIBUTES Buffer, ULONG AttributeFlag) {
    if (Buffer == NULL || AttributeFlag == 0 || (AttributeFlag & (AttributeFlag - 1)) != 0) return NULL;
    if ((AttributeFlag & ALPC_MESSAGE_ATTRIBUTE_ALL) == 0) return NULL;
    if ((Buffer->AllocatedAttributes & AttributeFlag) == 0) return NULL;
    ULONG before = Buffer->AllocatedAttributes & ~(AttributeFlag | (AttributeFlag - 1));
    return (PVOID)((UCHAR *)Buffer + AlpcpGetHeaderSize(before));
}

/** The largest TotalLength a message may have: 0xFFFF. */
static inline ULONG AlpcpMaxAllowedMessageLength(void) { return ALPC_MAX_ALLOWED_MESSAGE_LENGTH; }

/*
 * The same four helpers as real functions, exported by libalpc as ntdll exports them (programs
 * look them up with dlsym). Each calls its inline Alpcp twin above.
 */
ULONG AlpcGetHeaderSize(ULONG Flags);
NTSTATUS AlpcInitializeMessageAttribute(ULONG AttributeFlags, PALPC_MESSAGE_ATTRIBUTES Buffer, SIZE_T BufferSize,
                                        PSIZE_T RequiredBufferSize);
PVOID AlpcGetMessageAttribute(PALPC_MESSAGE_ATTRIBUTES Buffer, ULONG AttributeFlag);
ULONG AlpcMaxAllowedMessageLength(void);

/* ---------------------------------------------------------------------------------------
 * Layout checks: every size and offset of the reference's x64 column
 * ------------------------------------------------------------------------------------- */

#define ALPC_ASSERT_SIZE(T, n) _Static_assert(sizeof(T) == (n), "sizeof(" #T ") must be " #n)
#define ALPC_ASSERT_OFFSET(T, f, n) _Static_assert(offsetof(T, f) == (n), "offsetof(" #T ", " #f ") must be " #n)
#define ALPC_ASSERT_STATUS(s, v) _Static_assert((ULONG)(s) == (v), #s " must be " #v)

_Static_assert(sizeof(void *) == 8, "the x64 wire format needs 64-bit pointers");
ALPC_ASSERT_SIZE(ULONG, 4);
ALPC_ASSERT_SIZE(CSHORT, 2);
ALPC_ASSERT_SIZE(HANDLE, 8);
ALPC_ASSERT_SIZE(SIZE_T, 8);
ALPC_ASSERT_SIZE(NTSTATUS, 4);
ALPC_ASSERT_SIZE(LARGE_INTEGER, 8);
ALPC_ASSERT_SIZE(CLIENT_ID, 16);
ALPC_ASSERT_SIZE(UNICODE_STRING, 16);
ALPC_ASSERT_OFFSET(UNICODE_STRING, Buffer, 8);
ALPC_ASSERT_SIZE(SECURITY_IMPERSONATION_LEVEL, 4);

/* 2.1 PORT_MESSAGE */
ALPC_ASSERT_SIZE(PORT_MESSAGE, 0x28);
ALPC_ASSERT_OFFSET(PORT_MESSAGE, u1.s1.DataLength, 0x00);
ALPC_ASSERT_OFFSET(PORT_MESSAGE, u1.s1.TotalLength, 0x02);
ALPC_ASSERT_OFFSET(PORT_MESSAGE, u1.Length, 0x00);
ALPC_ASSERT_OFFSET(PORT_MESSAGE, u2.s2.Type, 0x04);
ALPC_ASSERT_OFFSET(PORT_MESSAGE, u2.s2.DataInfoOffset, 0x06);
ALPC_ASSERT_OFFSET(PORT_MESSAGE, u2.ZeroInit, 0x04);
ALPC_ASSERT_OFFSET(PORT_MESSAGE, ClientId.UniqueProcess, 0x08);
ALPC_ASSERT_OFFSET(PORT_MESSAGE, ClientId.UniqueThread, 0x10);
ALPC_ASSERT_OFFSET(PORT_MESSAGE, DoNotUseThisField, 0x08);
ALPC_ASSERT_OFFSET(PORT_MESSAGE, MessageId, 0x18);
ALPC_ASSERT_OFFSET(PORT_MESSAGE, ClientViewSize, 0x20);
ALPC_ASSERT_OFFSET(PORT_MESSAGE, CallbackId, 0x20);

/* 2.2 SECURITY_QUALITY_OF_SERVICE */
ALPC_ASSERT_SIZE(SECURITY_QUALITY_OF_SERVICE, 12);
ALPC_ASSERT_OFFSET(SECURITY_QUALITY_OF_SERVICE, Length, 0);
ALPC_ASSERT_OFFSET(SECURITY_QUALITY_OF_SERVICE, ImpersonationLevel, 4);
ALPC_ASSERT_OFFSET(SECURITY_QUALITY_OF_SERVICE, ContextTrackingMode, 8);
ALPC_ASSERT_OFFSET(SECURITY_QUALITY_OF_SERVICE, EffectiveOnly, 9);

/* 2.3 ALPC_PORT_ATTRIBUTES */
ALPC_ASSERT_SIZE(ALPC_PORT_ATTRIBUTES, 0x48);
ALPC_ASSERT_OFFSET(ALPC_PORT_ATTRIBUTES, Flags, 0x00);
ALPC_ASSERT_OFFSET(ALPC_PORT_ATTRIBUTES, SecurityQos, 0x04);
ALPC_ASSERT_OFFSET(ALPC_PORT_ATTRIBUTES, MaxMessageLength, 0x10);
ALPC_ASSERT_OFFSET(ALPC_PORT_ATTRIBUTES, MemoryBandwidth, 0x18);
ALPC_ASSERT_OFFSET(ALPC_PORT_ATTRIBUTES, MaxPoolUsage, 0x20);
ALPC_ASSERT_OFFSET(ALPC_PORT_ATTRIBUTES, MaxSectionSize, 0x28);
ALPC_ASSERT_OFFSET(ALPC_PORT_ATTRIBUTES, MaxViewSize, 0x30);
ALPC_ASSERT_OFFSET(ALPC_PORT_ATTRIBUTES, MaxTotalSectionSize, 0x38);
ALPC_ASSERT_OFFSET(ALPC_PORT_ATTRIBUTES, DupObjectTypes, 0x40);
ALPC_ASSERT_OFFSET(ALPC_PORT_ATTRIBUTES, Reserved, 0x44);

/* 2.4 ALPC_MESSAGE_ATTRIBUTES */
ALPC_ASSERT_SIZE(ALPC_MESSAGE_ATTRIBUTES, 8);
ALPC_ASSERT_OFFSET(ALPC_MESSAGE_ATTRIBUTES, AllocatedAttributes, 0);
ALPC_ASSERT_OFFSET(ALPC_MESSAGE_ATTRIBUTES, ValidAttributes, 4);

/* 2.5 and 2.6 attribute blobs */
ALPC_ASSERT_SIZE(ALPC_SECURITY_ATTR, 0x18);
ALPC_ASSERT_OFFSET(ALPC_SECURITY_ATTR, Flags, 0x00);
ALPC_ASSERT_OFFSET(ALPC_SECURITY_ATTR, QoS, 0x08);
ALPC_ASSERT_OFFSET(ALPC_SECURITY_ATTR, ContextHandle, 0x10);

ALPC_ASSERT_SIZE(ALPC_DATA_VIEW_ATTR, 0x20);
ALPC_ASSERT_OFFSET(ALPC_DATA_VIEW_ATTR, Flags, 0x00);
ALPC_ASSERT_OFFSET(ALPC_DATA_VIEW_ATTR, SectionHandle, 0x08);
ALPC_ASSERT_OFFSET(ALPC_DATA_VIEW_ATTR, ViewBase, 0x10);
ALPC_ASSERT_OFFSET(ALPC_DATA_VIEW_ATTR, ViewSize, 0x18);

ALPC_ASSERT_SIZE(ALPC_CONTEXT_ATTR, 0x20);
ALPC_ASSERT_OFFSET(ALPC_CONTEXT_ATTR, PortContext, 0x00);
ALPC_ASSERT_OFFSET(ALPC_CONTEXT_ATTR, MessageContext, 0x08);
ALPC_ASSERT_OFFSET(ALPC_CONTEXT_ATTR, Sequence, 0x10);
ALPC_ASSERT_OFFSET(ALPC_CONTEXT_ATTR, MessageId, 0x14);
ALPC_ASSERT_OFFSET(ALPC_CONTEXT_ATTR, CallbackId, 0x18);

ALPC_ASSERT_SIZE(ALPC_HANDLE_ATTR, 0x18);
ALPC_ASSERT_OFFSET(ALPC_HANDLE_ATTR, Flags, 0x00);
ALPC_ASSERT_OFFSET(ALPC_HANDLE_ATTR, Handle, 0x08);
ALPC_ASSERT_OFFSET(ALPC_HANDLE_ATTR, HandleAttrArray, 0x08);
ALPC_ASSERT_OFFSET(ALPC_HANDLE_ATTR, ObjectType, 0x10);
ALPC_ASSERT_OFFSET(ALPC_HANDLE_ATTR, HandleCount, 0x10);
ALPC_ASSERT_OFFSET(ALPC_HANDLE_ATTR, DesiredAccess, 0x14);
ALPC_ASSERT_OFFSET(ALPC_HANDLE_ATTR, GrantedAccess, 0x14);

ALPC_ASSERT_SIZE(ALPC_HANDLE_ATTR32, 0x10);
ALPC_ASSERT_OFFSET(ALPC_HANDLE_ATTR32, Flags, 0x0);
ALPC_ASSERT_OFFSET(ALPC_HANDLE_ATTR32, Handle, 0x4);
ALPC_ASSERT_OFFSET(ALPC_HANDLE_ATTR32, ObjectType, 0x8);
ALPC_ASSERT_OFFSET(ALPC_HANDLE_ATTR32, DesiredAccess, 0xC);

ALPC_ASSERT_SIZE(ALPC_TOKEN_ATTR, 0x18);
ALPC_ASSERT_OFFSET(ALPC_TOKEN_ATTR, TokenId, 0x00);
ALPC_ASSERT_OFFSET(ALPC_TOKEN_ATTR, AuthenticationId, 0x08);
ALPC_ASSERT_OFFSET(ALPC_TOKEN_ATTR, ModifiedId, 0x10);

ALPC_ASSERT_SIZE(ALPC_DIRECT_ATTR, 0x08);
ALPC_ASSERT_OFFSET(ALPC_DIRECT_ATTR, EventHandle, 0x00);
ALPC_ASSERT_OFFSET(ALPC_DIRECT_ATTR, Event, 0x00);

ALPC_ASSERT_SIZE(ALPC_WORK_ON_BEHALF_ATTR, 0x08);
ALPC_ASSERT_OFFSET(ALPC_WORK_ON_BEHALF_ATTR, Ticket, 0x00);
ALPC_ASSERT_OFFSET(ALPC_WORK_ON_BEHALF_ATTR, ThreadId, 0x00);
ALPC_ASSERT_OFFSET(ALPC_WORK_ON_BEHALF_ATTR, ThreadCreationTimeLow, 0x04);

/* 2.5 blob offsets with all seven attributes allocated, and the total */
#define ALPC_BLOB_OFFSET_SECURITY 0x08u
#define ALPC_BLOB_OFFSET_VIEW (ALPC_BLOB_OFFSET_SECURITY + sizeof(ALPC_SECURITY_ATTR))
#define ALPC_BLOB_OFFSET_CONTEXT (ALPC_BLOB_OFFSET_VIEW + sizeof(ALPC_DATA_VIEW_ATTR))
#define ALPC_BLOB_OFFSET_HANDLE (ALPC_BLOB_OFFSET_CONTEXT + sizeof(ALPC_CONTEXT_ATTR))
#define ALPC_BLOB_OFFSET_TOKEN (ALPC_BLOB_OFFSET_HANDLE + sizeof(ALPC_HANDLE_ATTR))
#define ALPC_BLOB_OFFSET_DIRECT (ALPC_BLOB_OFFSET_TOKEN + sizeof(ALPC_TOKEN_ATTR))
#define ALPC_BLOB_OFFSET_WORK_ON_BEHALF (ALPC_BLOB_OFFSET_DIRECT + sizeof(ALPC_DIRECT_ATTR))
#define ALPC_BLOB_TOTAL_ALL (ALPC_BLOB_OFFSET_WORK_ON_BEHALF + sizeof(ALPC_WORK_ON_BEHALF_ATTR))
_Static_assert(ALPC_BLOB_OFFSET_VIEW == 0x20, "VIEW blob must be at 0x20 with all attributes");
_Static_assert(ALPC_BLOB_OFFSET_CONTEXT == 0x40, "CONTEXT blob must be at 0x40 with all attributes");
_Static_assert(ALPC_BLOB_OFFSET_HANDLE == 0x60, "HANDLE blob must be at 0x60 with all attributes");
_Static_assert(ALPC_BLOB_OFFSET_TOKEN == 0x78, "TOKEN blob must be at 0x78 with all attributes");
_Static_assert(ALPC_BLOB_OFFSET_DIRECT == 0x90, "DIRECT blob must be at 0x90 with all attributes");
_Static_assert(ALPC_BLOB_OFFSET_WORK_ON_BEHALF == 0x98, "WORK_ON_BEHALF blob must be at 0x98 with all attributes");
_Static_assert(ALPC_BLOB_TOTAL_ALL == 0xA0, "all seven attributes must take 0xA0 bytes");
#undef ALPC_BLOB_OFFSET_SECURITY
#undef ALPC_BLOB_OFFSET_VIEW
#undef ALPC_BLOB_OFFSET_CONTEXT
#undef ALPC_BLOB_OFFSET_HANDLE
#undef ALPC_BLOB_OFFSET_TOKEN
#undef ALPC_BLOB_OFFSET_DIRECT
#undef ALPC_BLOB_OFFSET_WORK_ON_BEHALF
#undef ALPC_BLOB_TOTAL_ALL

/* 2.7 information and other structs */
ALPC_ASSERT_SIZE(ALPC_BASIC_INFORMATION, 0x10);
ALPC_ASSERT_OFFSET(ALPC_BASIC_INFORMATION, Flags, 0x0);
ALPC_ASSERT_OFFSET(ALPC_BASIC_INFORMATION, SequenceNo, 0x4);
ALPC_ASSERT_OFFSET(ALPC_BASIC_INFORMATION, PortContext, 0x8);

ALPC_ASSERT_SIZE(ALPC_PORT_ASSOCIATE_COMPLETION_PORT, 0x10);
ALPC_ASSERT_OFFSET(ALPC_PORT_ASSOCIATE_COMPLETION_PORT, CompletionKey, 0x0);
ALPC_ASSERT_OFFSET(ALPC_PORT_ASSOCIATE_COMPLETION_PORT, CompletionPort, 0x8);

ALPC_ASSERT_SIZE(ALPC_SERVER_INFORMATION, 0x20);
ALPC_ASSERT_OFFSET(ALPC_SERVER_INFORMATION, In.ThreadHandle, 0x0);
ALPC_ASSERT_OFFSET(ALPC_SERVER_INFORMATION, Out.ThreadBlocked, 0x0);
ALPC_ASSERT_OFFSET(ALPC_SERVER_INFORMATION, Out.ConnectedProcessId, 0x8);
ALPC_ASSERT_OFFSET(ALPC_SERVER_INFORMATION, Out.ConnectionPortName, 0x10);

ALPC_ASSERT_SIZE(ALPC_PORT_MESSAGE_ZONE_INFORMATION, 0x10);
ALPC_ASSERT_OFFSET(ALPC_PORT_MESSAGE_ZONE_INFORMATION, Buffer, 0x0);
ALPC_ASSERT_OFFSET(ALPC_PORT_MESSAGE_ZONE_INFORMATION, Size, 0x8);

ALPC_ASSERT_SIZE(ALPC_PORT_COMPLETION_LIST_INFORMATION, 0x18);
ALPC_ASSERT_OFFSET(ALPC_PORT_COMPLETION_LIST_INFORMATION, Buffer, 0x0);
ALPC_ASSERT_OFFSET(ALPC_PORT_COMPLETION_LIST_INFORMATION, Size, 0x8);
ALPC_ASSERT_OFFSET(ALPC_PORT_COMPLETION_LIST_INFORMATION, ConcurrencyCount, 0xC);
ALPC_ASSERT_OFFSET(ALPC_PORT_COMPLETION_LIST_INFORMATION, AttributeFlags, 0x10);

ALPC_ASSERT_SIZE(ALPC_SERVER_SESSION_INFORMATION, 0x8);
ALPC_ASSERT_OFFSET(ALPC_SERVER_SESSION_INFORMATION, SessionId, 0x0);
ALPC_ASSERT_OFFSET(ALPC_SERVER_SESSION_INFORMATION, ProcessId, 0x4);

ALPC_ASSERT_SIZE(ALPC_MESSAGE_HANDLE_INFORMATION, 0x14);
ALPC_ASSERT_OFFSET(ALPC_MESSAGE_HANDLE_INFORMATION, Index, 0x0);
ALPC_ASSERT_OFFSET(ALPC_MESSAGE_HANDLE_INFORMATION, Flags, 0x4);
ALPC_ASSERT_OFFSET(ALPC_MESSAGE_HANDLE_INFORMATION, Handle, 0x8);
ALPC_ASSERT_OFFSET(ALPC_MESSAGE_HANDLE_INFORMATION, ObjectType, 0xC);
ALPC_ASSERT_OFFSET(ALPC_MESSAGE_HANDLE_INFORMATION, GrantedAccess, 0x10);

ALPC_ASSERT_SIZE(ALPC_COMPLETION_LIST_HEADER, 0x300);
ALPC_ASSERT_OFFSET(ALPC_COMPLETION_LIST_HEADER, StartMagic, 0x00);
ALPC_ASSERT_OFFSET(ALPC_COMPLETION_LIST_HEADER, TotalSize, 0x08);
ALPC_ASSERT_OFFSET(ALPC_COMPLETION_LIST_HEADER, AttributeSize, 0x28);
ALPC_ASSERT_OFFSET(ALPC_COMPLETION_LIST_HEADER, State, 0x80);
ALPC_ASSERT_OFFSET(ALPC_COMPLETION_LIST_HEADER, LastMessageId, 0x88);
ALPC_ASSERT_OFFSET(ALPC_COMPLETION_LIST_HEADER, LastCallbackId, 0x8C);
ALPC_ASSERT_OFFSET(ALPC_COMPLETION_LIST_HEADER, PostCount, 0x100);
ALPC_ASSERT_OFFSET(ALPC_COMPLETION_LIST_HEADER, ReturnCount, 0x180);
ALPC_ASSERT_OFFSET(ALPC_COMPLETION_LIST_HEADER, LogSequenceNumber, 0x200);
ALPC_ASSERT_OFFSET(ALPC_COMPLETION_LIST_HEADER, UserLock, 0x280);
ALPC_ASSERT_OFFSET(ALPC_COMPLETION_LIST_HEADER, EndMagic, 0x288);

ALPC_ASSERT_SIZE(PORT_VIEW, 0x30);
ALPC_ASSERT_OFFSET(PORT_VIEW, Length, 0x00);
ALPC_ASSERT_OFFSET(PORT_VIEW, SectionHandle, 0x08);
ALPC_ASSERT_OFFSET(PORT_VIEW, SectionOffset, 0x10);
ALPC_ASSERT_OFFSET(PORT_VIEW, ViewSize, 0x18);
ALPC_ASSERT_OFFSET(PORT_VIEW, ViewBase, 0x20);
ALPC_ASSERT_OFFSET(PORT_VIEW, ViewRemoteBase, 0x28);

ALPC_ASSERT_SIZE(REMOTE_PORT_VIEW, 0x18);
ALPC_ASSERT_OFFSET(REMOTE_PORT_VIEW, Length, 0x00);
ALPC_ASSERT_OFFSET(REMOTE_PORT_VIEW, ViewSize, 0x08);
ALPC_ASSERT_OFFSET(REMOTE_PORT_VIEW, ViewBase, 0x10);

ALPC_ASSERT_SIZE(LPC_CLIENT_DIED_MSG, 0x30);
ALPC_ASSERT_OFFSET(LPC_CLIENT_DIED_MSG, CreateTime, 0x28);

ALPC_ASSERT_SIZE(PORT_DATA_ENTRY, 0x10);
ALPC_ASSERT_OFFSET(PORT_DATA_ENTRY, Base, 0x0);
ALPC_ASSERT_OFFSET(PORT_DATA_ENTRY, Size, 0x8);
ALPC_ASSERT_OFFSET(PORT_DATA_INFORMATION, DataEntries, 0x8);

/* 2.9 derived constants */
_Static_assert(PORT_TOTAL_MAXIMUM_MESSAGE_LENGTH == 0x2B0, "PORT_TOTAL_MAXIMUM_MESSAGE_LENGTH must be 688");
_Static_assert(ALPC_MESSAGE_ATTRIBUTE_ALL ==
                   (ALPC_MESSAGE_SECURITY_ATTRIBUTE | ALPC_MESSAGE_VIEW_ATTRIBUTE | ALPC_MESSAGE_CONTEXT_ATTRIBUTE |
                    ALPC_MESSAGE_HANDLE_ATTRIBUTE | ALPC_MESSAGE_TOKEN_ATTRIBUTE | ALPC_MESSAGE_DIRECT_ATTRIBUTE |
                    ALPC_MESSAGE_WORK_ON_BEHALF_ATTRIBUTE),
               "ALPC_MESSAGE_ATTRIBUTE_ALL must be the seven attributes");

/* 2.12 NTSTATUS values */
ALPC_ASSERT_STATUS(STATUS_SUCCESS, 0x00000000u);
ALPC_ASSERT_STATUS(STATUS_USER_APC, 0x000000C0u);
ALPC_ASSERT_STATUS(STATUS_ALERTED, 0x00000101u);
ALPC_ASSERT_STATUS(STATUS_TIMEOUT, 0x00000102u);
ALPC_ASSERT_STATUS(STATUS_PENDING, 0x00000103u);
ALPC_ASSERT_STATUS(STATUS_OBJECT_NAME_EXISTS, 0x40000000u);
ALPC_ASSERT_STATUS(STATUS_MESSAGE_RETRIEVED, 0x4000002Eu);
ALPC_ASSERT_STATUS(STATUS_ALPC_CHECK_COMPLETION_LIST, 0x40000030u);
ALPC_ASSERT_STATUS(STATUS_BUFFER_OVERFLOW, 0x80000005u);
ALPC_ASSERT_STATUS(STATUS_UNSUCCESSFUL, 0xC0000001u);
ALPC_ASSERT_STATUS(STATUS_NOT_IMPLEMENTED, 0xC0000002u);
ALPC_ASSERT_STATUS(STATUS_INVALID_INFO_CLASS, 0xC0000003u);
ALPC_ASSERT_STATUS(STATUS_INFO_LENGTH_MISMATCH, 0xC0000004u);
ALPC_ASSERT_STATUS(STATUS_INVALID_HANDLE, 0xC0000008u);
ALPC_ASSERT_STATUS(STATUS_INVALID_CID, 0xC000000Bu);
ALPC_ASSERT_STATUS(STATUS_INVALID_PARAMETER, 0xC000000Du);
ALPC_ASSERT_STATUS(STATUS_NO_MEMORY, 0xC0000017u);
ALPC_ASSERT_STATUS(STATUS_INVALID_VIEW_SIZE, 0xC000001Fu);
ALPC_ASSERT_STATUS(STATUS_ACCESS_DENIED, 0xC0000022u);
ALPC_ASSERT_STATUS(STATUS_BUFFER_TOO_SMALL, 0xC0000023u);
ALPC_ASSERT_STATUS(STATUS_OBJECT_TYPE_MISMATCH, 0xC0000024u);
ALPC_ASSERT_STATUS(STATUS_INVALID_PORT_ATTRIBUTES, 0xC000002Eu);
ALPC_ASSERT_STATUS(STATUS_PORT_MESSAGE_TOO_LONG, 0xC000002Fu);
ALPC_ASSERT_STATUS(STATUS_INVALID_PARAMETER_MIX, 0xC0000030u);
ALPC_ASSERT_STATUS(STATUS_OBJECT_NAME_INVALID, 0xC0000033u);
ALPC_ASSERT_STATUS(STATUS_OBJECT_NAME_NOT_FOUND, 0xC0000034u);
ALPC_ASSERT_STATUS(STATUS_OBJECT_NAME_COLLISION, 0xC0000035u);
ALPC_ASSERT_STATUS(STATUS_PORT_DISCONNECTED, 0xC0000037u);
ALPC_ASSERT_STATUS(STATUS_OBJECT_PATH_INVALID, 0xC0000039u);
ALPC_ASSERT_STATUS(STATUS_OBJECT_PATH_NOT_FOUND, 0xC000003Au);
ALPC_ASSERT_STATUS(STATUS_OBJECT_PATH_SYNTAX_BAD, 0xC000003Bu);
ALPC_ASSERT_STATUS(STATUS_SECTION_TOO_BIG, 0xC0000040u);
ALPC_ASSERT_STATUS(STATUS_PORT_CONNECTION_REFUSED, 0xC0000041u);
ALPC_ASSERT_STATUS(STATUS_INVALID_PORT_HANDLE, 0xC0000042u);
ALPC_ASSERT_STATUS(STATUS_QUOTA_EXCEEDED, 0xC0000044u);
ALPC_ASSERT_STATUS(STATUS_PORT_ALREADY_SET, 0xC0000048u);
ALPC_ASSERT_STATUS(STATUS_THREAD_IS_TERMINATING, 0xC000004Bu);
ALPC_ASSERT_STATUS(STATUS_PRIVILEGE_NOT_HELD, 0xC0000061u);
ALPC_ASSERT_STATUS(STATUS_INSUFFICIENT_RESOURCES, 0xC000009Au);
ALPC_ASSERT_STATUS(STATUS_BAD_IMPERSONATION_LEVEL, 0xC00000A5u);
ALPC_ASSERT_STATUS(STATUS_NOT_SUPPORTED, 0xC00000BBu);
ALPC_ASSERT_STATUS(STATUS_INVALID_PARAMETER_1, 0xC00000EFu);
ALPC_ASSERT_STATUS(STATUS_INVALID_PARAMETER_2, 0xC00000F0u);
ALPC_ASSERT_STATUS(STATUS_INVALID_PARAMETER_3, 0xC00000F1u);
ALPC_ASSERT_STATUS(STATUS_INVALID_PARAMETER_4, 0xC00000F2u);
ALPC_ASSERT_STATUS(STATUS_INVALID_PARAMETER_5, 0xC00000F3u);
ALPC_ASSERT_STATUS(STATUS_INVALID_PARAMETER_6, 0xC00000F4u);
ALPC_ASSERT_STATUS(STATUS_INVALID_PARAMETER_7, 0xC00000F5u);
ALPC_ASSERT_STATUS(STATUS_INVALID_PARAMETER_8, 0xC00000F6u);
ALPC_ASSERT_STATUS(STATUS_INVALID_PARAMETER_9, 0xC00000F7u);
ALPC_ASSERT_STATUS(STATUS_INVALID_PARAMETER_10, 0xC00000F8u);
ALPC_ASSERT_STATUS(STATUS_INVALID_PARAMETER_11, 0xC00000F9u);
ALPC_ASSERT_STATUS(STATUS_INVALID_PARAMETER_12, 0xC00000FAu);
ALPC_ASSERT_STATUS(STATUS_MESSAGE_NOT_FOUND, 0xC0000109u);
ALPC_ASSERT_STATUS(STATUS_PROCESS_IS_TERMINATING, 0xC000010Au);
ALPC_ASSERT_STATUS(STATUS_CANNOT_IMPERSONATE, 0xC000010Du);
ALPC_ASSERT_STATUS(STATUS_CANCELLED, 0xC0000120u);
ALPC_ASSERT_STATUS(STATUS_REPLY_MESSAGE_MISMATCH, 0xC000021Fu);
ALPC_ASSERT_STATUS(STATUS_LPC_REPLY_LOST, 0xC0000253u);
ALPC_ASSERT_STATUS(STATUS_NO_CALLBACK_ACTIVE, 0xC0000258u);
ALPC_ASSERT_STATUS(STATUS_SERVER_SID_MISMATCH, 0xC00002A0u);
ALPC_ASSERT_STATUS(STATUS_PORT_CLOSED, 0xC0000700u);
ALPC_ASSERT_STATUS(STATUS_MESSAGE_LOST, 0xC0000701u);
ALPC_ASSERT_STATUS(STATUS_INVALID_MESSAGE, 0xC0000702u);
ALPC_ASSERT_STATUS(STATUS_REQUEST_CANCELED, 0xC0000703u);
ALPC_ASSERT_STATUS(STATUS_RECURSIVE_DISPATCH, 0xC0000704u);
ALPC_ASSERT_STATUS(STATUS_LPC_RECEIVE_BUFFER_EXPECTED, 0xC0000705u);
ALPC_ASSERT_STATUS(STATUS_LPC_INVALID_CONNECTION_USAGE, 0xC0000706u);
ALPC_ASSERT_STATUS(STATUS_LPC_REQUESTS_NOT_ALLOWED, 0xC0000707u);
ALPC_ASSERT_STATUS(STATUS_RESOURCE_IN_USE, 0xC0000708u);
ALPC_ASSERT_STATUS(STATUS_PORT_ALREADY_HAS_COMPLETION_LIST, 0xC000071Au);
ALPC_ASSERT_STATUS(STATUS_LPC_HANDLE_COUNT_EXCEEDED, 0xC0000722u);

#ifdef __cplusplus
}
#endif

#endif /* ALPC_NTALPC_H */
