/*
 * alpc.h - the SwiftALPC C API. C and C++ programs include this one header and link libalpc
 * (`pkg-config --cflags --libs alpc`).
 *
 * It holds the wire format (ntalpc.h), the NT basics (ntbase.h) and the NtAlpc* functions with
 * phnt's prototypes and ntdll's semantics, implemented by the Swift library. Port names are
 * Windows names (L"\\RPC Control\\Name"). Handles are file descriptors (see ntbase.h); a
 * handle in a HANDLE attribute is a descriptor number, and the receiver gets its own.
 *
 * Every length pointer also takes a ULONG * (a _Generic selection in C, an overload in C++):
 * the call then reads and writes only the ULONG's four bytes. Define
 * ALPC_NO_LENGTH_OVERLOADS to declare the plain SIZE_T * functions only.
 */
#ifndef ALPC_ALPC_H
#define ALPC_ALPC_H

#include "ntalpc.h"
#include "ntbase.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The Windows name of Status ("STATUS_PORT_DISCONNECTED"), or NULL for a value the library does not know. */
const char *AlpcStatusName(NTSTATUS Status);

/* ---------------------------------------------------------------------------------------
 * Ports
 * ------------------------------------------------------------------------------------- */

/**
 * Creates the connection port named by ObjectAttributes->ObjectName. PortAttributes may be NULL
 * (0x1000-byte messages); ALPC_PORFLG_WAITABLE_PORT makes the handle waitable. Who may connect:
 * the server's user and root, or every user when ObjectAttributes->SecurityDescriptor has a
 * NULL DACL (SE_DACL_PRESENT with no DACL). Errors:
 * STATUS_OBJECT_NAME_COLLISION, STATUS_OBJECT_NAME_INVALID, STATUS_INVALID_PARAMETER.
 */
NTSYSCALLAPI NTSTATUS NTAPI NtAlpcCreatePort(PHANDLE PortHandle, POBJECT_ATTRIBUTES ObjectAttributes,
                                             PALPC_PORT_ATTRIBUTES PortAttributes);

/**
 * Connects to the port PortName. ConnectionMessage, when given, carries the connect data and
 * receives the server's reply (*BufferLength is its capacity). With ALPC_MSGFLG_SYNC_REQUEST
 * the call waits for the server's answer; without it, it returns at once and the answer comes
 * later as an LPC_CONNECTION_REPLY message (or a failed receive when the server refused).
 * RequiredServerSid, when given, must name the server's user (S-1-22-1-uid, or S-1-5-18 for
 * root): STATUS_SERVER_SID_MISMATCH otherwise.
 */
NTSYSCALLAPI NTSTATUS NTAPI NtAlpcConnectPort(PHANDLE PortHandle, PUNICODE_STRING PortName,
                                              POBJECT_ATTRIBUTES ObjectAttributes, PALPC_PORT_ATTRIBUTES PortAttributes,
                                              ULONG Flags, PSID RequiredServerSid, PPORT_MESSAGE ConnectionMessage,
                                              PSIZE_T BufferLength, PALPC_MESSAGE_ATTRIBUTES OutMessageAttributes,
                                              PALPC_MESSAGE_ATTRIBUTES InMessageAttributes, PLARGE_INTEGER Timeout);

/** NtAlpcConnectPort with the port named by ConnectionPortObjectAttributes->ObjectName. */
NTSYSCALLAPI NTSTATUS NTAPI NtAlpcConnectPortEx(PHANDLE PortHandle, POBJECT_ATTRIBUTES ConnectionPortObjectAttributes,
                                                POBJECT_ATTRIBUTES ClientPortObjectAttributes,
                                                PALPC_PORT_ATTRIBUTES PortAttributes, ULONG Flags,
                                                PSECURITY_DESCRIPTOR ServerSecurityRequirements,
                                                PPORT_MESSAGE ConnectionMessage, PSIZE_T BufferLength,
                                                PALPC_MESSAGE_ATTRIBUTES OutMessageAttributes,
                                                PALPC_MESSAGE_ATTRIBUTES InMessageAttributes, PLARGE_INTEGER Timeout);

/**
 * Accepts (AcceptConnection TRUE) or refuses the connection request ConnectionRequest received
 * on ConnectionPortHandle. Accepting sends ConnectionRequest's data back as the connection
 * reply and gives the communication port; PortContext comes back in the CONTEXT attribute of
 * every later message of the connection.
 */
NTSYSCALLAPI NTSTATUS NTAPI NtAlpcAcceptConnectPort(PHANDLE PortHandle, HANDLE ConnectionPortHandle, ULONG Flags,
                                                    POBJECT_ATTRIBUTES ObjectAttributes,
                                                    PALPC_PORT_ATTRIBUTES PortAttributes, PVOID PortContext,
                                                    PPORT_MESSAGE ConnectionRequest,
                                                    PALPC_MESSAGE_ATTRIBUTES ConnectionMessageAttributes,
                                                    BOOLEAN AcceptConnection);

/**
 * Sends SendMessage (when given), then receives into ReceiveMessage (when given).
 *
 * On a client port a send is a request (with ALPC_MSGFLG_SYNC_REQUEST the call waits for its
 * reply), or a datagram with ALPC_MSGFLG_RELEASE_MESSAGE. On a connection or communication
 * port a send is the reply to the request whose MessageId it carries. A receive on a
 * connection port takes the next message from any client. *BufferLength is the receive
 * buffer's capacity (NULL: the port's maximum message length); when the message does not fit,
 * STATUS_BUFFER_TOO_SMALL, *BufferLength set to the length needed, and the message stays
 * queued. Timeout as for NtWaitForSingleObject; STATUS_TIMEOUT is a success code.
 */
NTSYSCALLAPI NTSTATUS NTAPI NtAlpcSendWaitReceivePort(HANDLE PortHandle, ULONG Flags, PPORT_MESSAGE SendMessage,
                                                      PALPC_MESSAGE_ATTRIBUTES SendMessageAttributes,
                                                      PPORT_MESSAGE ReceiveMessage, PSIZE_T BufferLength,
                                                      PALPC_MESSAGE_ATTRIBUTES ReceiveMessageAttributes,
                                                      PLARGE_INTEGER Timeout);

/** Disconnects a port: a client or communication port ends its connection, a connection port closes. */
NTSYSCALLAPI NTSTATUS NTAPI NtAlpcDisconnectPort(HANDLE PortHandle, ULONG Flags);

/**
 * Cancels the client's asynchronous request whose id is MessageContext->MessageId (the id that
 * NtAlpcSendWaitReceivePort writes into the CONTEXT attribute of SendMessageAttributes, when one
 * is allocated, as it sends a request without ALPC_MSGFLG_SYNC_REQUEST): its reply, queued or
 * yet to come, is dropped; the server is not told. STATUS_INVALID_MESSAGE for an id never given
 * out, or for a request a thread waits for synchronously.
 */
NTSYSCALLAPI NTSTATUS NTAPI NtAlpcCancelMessage(HANDLE PortHandle, ULONG Flags, PALPC_CONTEXT_ATTR MessageContext);

/**
 * Information about a port: AlpcBasicInformation (ALPC_BASIC_INFORMATION: the port's flags,
 * its sequence number and its port context) and AlpcServerSessionInformation (the server's
 * process id, for a client port).
 */
NTSYSCALLAPI NTSTATUS NTAPI NtAlpcQueryInformation(HANDLE PortHandle, ALPC_PORT_INFORMATION_CLASS PortInformationClass,
                                                   PVOID PortInformation, ULONG Length, PULONG ReturnLength);

/**
 * Information about a received message: AlpcMessageSidInformation (the sender's SID,
 * S-1-22-1-uid, or S-1-5-18 for root) and AlpcMessageTokenModifiedIdInformation (a LUID:
 * the sender's process id).
 */
NTSYSCALLAPI NTSTATUS NTAPI NtAlpcQueryInformationMessage(HANDLE PortHandle, PPORT_MESSAGE PortMessage,
                                                          ALPC_MESSAGE_INFORMATION_CLASS MessageInformationClass,
                                                          PVOID MessageInformation, ULONG Length, PULONG ReturnLength);

/** A handle (a pidfd) to the process that sent the received message PortMessage. */
NTSYSCALLAPI NTSTATUS NTAPI NtAlpcOpenSenderProcess(PHANDLE ProcessHandle, HANDLE PortHandle, PPORT_MESSAGE PortMessage,
                                                    ULONG Flags, ACCESS_MASK DesiredAccess,
                                                    POBJECT_ATTRIBUTES ObjectAttributes);

/** A handle (a pidfd) to the thread that sent the received message PortMessage. */
NTSYSCALLAPI NTSTATUS NTAPI NtAlpcOpenSenderThread(PHANDLE ThreadHandle, HANDLE PortHandle, PPORT_MESSAGE PortMessage,
                                                   ULONG Flags, ACCESS_MASK DesiredAccess,
                                                   POBJECT_ATTRIBUTES ObjectAttributes);

/**
 * The calling thread takes the filesystem user and group of the sender of the received message
 * Message (setfsuid/setfsgid: file access checks only), until AlpcRevertToSelf.
 * STATUS_BAD_IMPERSONATION_LEVEL when the client's security QoS (in its connect attributes)
 * is below SecurityImpersonation; STATUS_PRIVILEGE_NOT_HELD when this process may not change
 * them (it lacks CAP_SETUID and CAP_SETGID and the client is another user).
 */
NTSYSCALLAPI NTSTATUS NTAPI NtAlpcImpersonateClientOfPort(HANDLE PortHandle, PPORT_MESSAGE Message, PVOID Flags);

/** Ends the calling thread's impersonation: its filesystem user and group are the process's again. */
NTSYSAPI NTSTATUS NTAPI AlpcRevertToSelf(void);

/* ---------------------------------------------------------------------------------------
 * Sections, views and security contexts
 * ------------------------------------------------------------------------------------- */

/** Creates a port section of at least SectionSize bytes (whole pages); SectionHandle must be NULL. */
NTSYSCALLAPI NTSTATUS NTAPI NtAlpcCreatePortSection(HANDLE PortHandle, ULONG Flags, HANDLE SectionHandle,
                                                    SIZE_T SectionSize, PALPC_HANDLE AlpcSectionHandle,
                                                    PSIZE_T ActualSectionSize);
/** Deletes a port section and its views. */
NTSYSCALLAPI NTSTATUS NTAPI NtAlpcDeletePortSection(HANDLE PortHandle, ULONG Flags, ALPC_HANDLE SectionHandle);
/** Maps a view of ViewAttributes->ViewSize bytes of ViewAttributes->SectionHandle; fills ViewBase. */
NTSYSCALLAPI NTSTATUS NTAPI NtAlpcCreateSectionView(HANDLE PortHandle, ULONG Flags,
                                                    PALPC_DATA_VIEW_ATTR ViewAttributes);
/** Deletes the view at ViewBase (one created here, or one received). */
NTSYSCALLAPI NTSTATUS NTAPI NtAlpcDeleteSectionView(HANDLE PortHandle, ULONG Flags, PVOID ViewBase);
/** Creates a security context for the port; fills SecurityAttribute->ContextHandle. */
NTSYSCALLAPI NTSTATUS NTAPI NtAlpcCreateSecurityContext(HANDLE PortHandle, ULONG Flags,
                                                        PALPC_SECURITY_ATTR SecurityAttribute);
/** Deletes a security context of the port. */
NTSYSCALLAPI NTSTATUS NTAPI NtAlpcDeleteSecurityContext(HANDLE PortHandle, ULONG Flags, ALPC_HANDLE ContextHandle);

/* ---------------------------------------------------------------------------------------
 * Linux additions
 * ------------------------------------------------------------------------------------- */

/**
 * The pollable file descriptor of a waitable port (ALPC_PORFLG_WAITABLE_PORT in its attributes:
 * a server port, or a client port once connected): readable while a message may be queued,
 * for epoll and event loops (a client port's also once its server has gone). It belongs to the
 * port: do not close it. -1 for a port that is not waitable or a handle that is not a port.
 */
int AlpcGetPortDescriptor(HANDLE PortHandle);

#ifdef __cplusplus
}
#endif

/* ---------------------------------------------------------------------------------------
 * ULONG * as well as SIZE_T * for every length pointer
 * ------------------------------------------------------------------------------------- */

#ifndef ALPC_NO_LENGTH_OVERLOADS

/* Runs `call` with a SIZE_T copy of *Length and writes back only a ULONG's worth. */
#define ALPC_WITH_SIZE_T(Length, call)                                                               \
    SIZE_T alpcp_length = (Length) ? *(Length) : 0;                                                  \
    NTSTATUS alpcp_status = call;                                                                    \
    if (Length) *(Length) = (ULONG)alpcp_length;                                                     \
    return alpcp_status

static inline NTSTATUS AlpcpConnectPortUlong(PHANDLE PortHandle, PUNICODE_STRING PortName,
                                             POBJECT_ATTRIBUTES ObjectAttributes, PALPC_PORT_ATTRIBUTES PortAttributes,
                                             ULONG Flags, PSID RequiredServerSid, PPORT_MESSAGE ConnectionMessage,
                                             ULONG *BufferLength, PALPC_MESSAGE_ATTRIBUTES OutMessageAttributes,
                                             PALPC_MESSAGE_ATTRIBUTES InMessageAttributes, PLARGE_INTEGER Timeout) {
    ALPC_WITH_SIZE_T(BufferLength, (NtAlpcConnectPort)(PortHandle, PortName, ObjectAttributes, PortAttributes, Flags,
                                                       RequiredServerSid, ConnectionMessage,
                                                       BufferLength ? &alpcp_length : NULL, OutMessageAttributes,
                                                       InMessageAttributes, Timeout));
}

static inline NTSTATUS AlpcpConnectPortExUlong(PHANDLE PortHandle, POBJECT_ATTRIBUTES ConnectionPortObjectAttributes,
                                               POBJECT_ATTRIBUTES ClientPortObjectAttributes,
                                               PALPC_PORT_ATTRIBUTES PortAttributes, ULONG Flags,
                                               PSECURITY_DESCRIPTOR ServerSecurityRequirements,
                                               PPORT_MESSAGE ConnectionMessage, ULONG *BufferLength,
                                               PALPC_MESSAGE_ATTRIBUTES OutMessageAttributes,
                                               PALPC_MESSAGE_ATTRIBUTES InMessageAttributes, PLARGE_INTEGER Timeout) {
    ALPC_WITH_SIZE_T(BufferLength,
                     (NtAlpcConnectPortEx)(PortHandle, ConnectionPortObjectAttributes, ClientPortObjectAttributes,
                                           PortAttributes, Flags, ServerSecurityRequirements, ConnectionMessage,
                                           BufferLength ? &alpcp_length : NULL, OutMessageAttributes,
                                           InMessageAttributes, Timeout));
}

static inline NTSTATUS AlpcpSendWaitReceivePortUlong(HANDLE PortHandle, ULONG Flags, PPORT_MESSAGE SendMessage,
                                                     PALPC_MESSAGE_ATTRIBUTES SendMessageAttributes,
                                                     PPORT_MESSAGE ReceiveMessage, ULONG *BufferLength,
                                                     PALPC_MESSAGE_ATTRIBUTES ReceiveMessageAttributes,
                                                     PLARGE_INTEGER Timeout) {
    ALPC_WITH_SIZE_T(BufferLength, (NtAlpcSendWaitReceivePort)(PortHandle, Flags, SendMessage, SendMessageAttributes,
                                                               ReceiveMessage, BufferLength ? &alpcp_length : NULL,
                                                               ReceiveMessageAttributes, Timeout));
}

static inline NTSTATUS AlpcpCreatePortSectionUlong(HANDLE PortHandle, ULONG Flags, HANDLE SectionHandle,
                                                   SIZE_T SectionSize, PALPC_HANDLE AlpcSectionHandle,
                                                   ULONG *ActualSectionSize) {
    ALPC_WITH_SIZE_T(ActualSectionSize,
                     (NtAlpcCreatePortSection)(PortHandle, Flags, SectionHandle, SectionSize, AlpcSectionHandle,
                                               ActualSectionSize ? &alpcp_length : NULL));
}

static inline NTSTATUS AlpcpInitializeMessageAttributeUlong(ULONG AttributeFlags, PALPC_MESSAGE_ATTRIBUTES Buffer,
                                                            SIZE_T BufferSize, ULONG *RequiredBufferSize) {
    ALPC_WITH_SIZE_T(RequiredBufferSize, (AlpcInitializeMessageAttribute)(AttributeFlags, Buffer, BufferSize,
                                                                          RequiredBufferSize ? &alpcp_length : NULL));
}

#undef ALPC_WITH_SIZE_T

#ifdef __cplusplus

#include <type_traits>

/* A ULONG * length picks the template (an exact match); SIZE_T *, NULL and nullptr the C function. */
template <typename Length, typename = typename std::enable_if<std::is_same<Length, ULONG>::value>::type>
inline NTSTATUS NtAlpcConnectPort(PHANDLE PortHandle, PUNICODE_STRING PortName, POBJECT_ATTRIBUTES ObjectAttributes,
                                  PALPC_PORT_ATTRIBUTES PortAttributes, ULONG Flags, PSID RequiredServerSid,
                                  PPORT_MESSAGE ConnectionMessage, Length *BufferLength,
                                  PALPC_MESSAGE_ATTRIBUTES OutMessageAttributes,
                                  PALPC_MESSAGE_ATTRIBUTES InMessageAttributes, PLARGE_INTEGER Timeout) {
    return AlpcpConnectPortUlong(PortHandle, PortName, ObjectAttributes, PortAttributes, Flags, RequiredServerSid,
                                 ConnectionMessage, BufferLength, OutMessageAttributes, InMessageAttributes, Timeout);
}

template <typename Length, typename = typename std::enable_if<std::is_same<Length, ULONG>::value>::type>
inline NTSTATUS NtAlpcConnectPortEx(PHANDLE PortHandle, POBJECT_ATTRIBUTES ConnectionPortObjectAttributes,
                                    POBJECT_ATTRIBUTES ClientPortObjectAttributes, PALPC_PORT_ATTRIBUTES PortAttributes,
                                    ULONG Flags, PSECURITY_DESCRIPTOR ServerSecurityRequirements,
                                    PPORT_MESSAGE ConnectionMessage, Length *BufferLength,
                                    PALPC_MESSAGE_ATTRIBUTES OutMessageAttributes,
                                    PALPC_MESSAGE_ATTRIBUTES InMessageAttributes, PLARGE_INTEGER Timeout) {
    return AlpcpConnectPortExUlong(PortHandle, ConnectionPortObjectAttributes, ClientPortObjectAttributes,
                                   PortAttributes, Flags, ServerSecurityRequirements, ConnectionMessage, BufferLength,
                                   OutMessageAttributes, InMessageAttributes, Timeout);
}

template <typename Length, typename = typename std::enable_if<std::is_same<Length, ULONG>::value>::type>
inline NTSTATUS NtAlpcSendWaitReceivePort(HANDLE PortHandle, ULONG Flags, PPORT_MESSAGE SendMessage,
                                          PALPC_MESSAGE_ATTRIBUTES SendMessageAttributes, PPORT_MESSAGE ReceiveMessage,
                                          Length *BufferLength, PALPC_MESSAGE_ATTRIBUTES ReceiveMessageAttributes,
                                          PLARGE_INTEGER Timeout) {
    return AlpcpSendWaitReceivePortUlong(PortHandle, Flags, SendMessage, SendMessageAttributes, ReceiveMessage,
                                         BufferLength, ReceiveMessageAttributes, Timeout);
}

template <typename Length, typename = typename std::enable_if<std::is_same<Length, ULONG>::value>::type>
inline NTSTATUS NtAlpcCreatePortSection(HANDLE PortHandle, ULONG Flags, HANDLE SectionHandle, SIZE_T SectionSize,
                                        PALPC_HANDLE AlpcSectionHandle, Length *ActualSectionSize) {
    return AlpcpCreatePortSectionUlong(PortHandle, Flags, SectionHandle, SectionSize, AlpcSectionHandle,
                                       ActualSectionSize);
}

template <typename Length, typename = typename std::enable_if<std::is_same<Length, ULONG>::value>::type>
inline NTSTATUS AlpcInitializeMessageAttribute(ULONG AttributeFlags, PALPC_MESSAGE_ATTRIBUTES Buffer,
                                               SIZE_T BufferSize, Length *RequiredBufferSize) {
    return AlpcpInitializeMessageAttributeUlong(AttributeFlags, Buffer, BufferSize, RequiredBufferSize);
}

#else /* C: _Generic on the length pointer's type */

#define NtAlpcConnectPort(PortHandle, PortName, ObjectAttributes, PortAttributes, Flags, RequiredServerSid,          \
                          ConnectionMessage, BufferLength, OutMessageAttributes, InMessageAttributes, Timeout)       \
    _Generic((BufferLength), ULONG *: AlpcpConnectPortUlong, default: (NtAlpcConnectPort))(                          \
        PortHandle, PortName, ObjectAttributes, PortAttributes, Flags, RequiredServerSid, ConnectionMessage,         \
        BufferLength, OutMessageAttributes, InMessageAttributes, Timeout)

#define NtAlpcConnectPortEx(PortHandle, ConnectionPortObjectAttributes, ClientPortObjectAttributes, PortAttributes,  \
                            Flags, ServerSecurityRequirements, ConnectionMessage, BufferLength,                      \
                            OutMessageAttributes, InMessageAttributes, Timeout)                                      \
    _Generic((BufferLength), ULONG *: AlpcpConnectPortExUlong, default: (NtAlpcConnectPortEx))(                      \
        PortHandle, ConnectionPortObjectAttributes, ClientPortObjectAttributes, PortAttributes, Flags,               \
        ServerSecurityRequirements, ConnectionMessage, BufferLength, OutMessageAttributes, InMessageAttributes,      \
        Timeout)

#define NtAlpcSendWaitReceivePort(PortHandle, Flags, SendMessage, SendMessageAttributes, ReceiveMessage,             \
                                  BufferLength, ReceiveMessageAttributes, Timeout)                                   \
    _Generic((BufferLength), ULONG *: AlpcpSendWaitReceivePortUlong, default: (NtAlpcSendWaitReceivePort))(          \
        PortHandle, Flags, SendMessage, SendMessageAttributes, ReceiveMessage, BufferLength,                         \
        ReceiveMessageAttributes, Timeout)

#define NtAlpcCreatePortSection(PortHandle, Flags, SectionHandle, SectionSize, AlpcSectionHandle,                    \
                                ActualSectionSize)                                                                   \
    _Generic((ActualSectionSize), ULONG *: AlpcpCreatePortSectionUlong, default: (NtAlpcCreatePortSection))(         \
        PortHandle, Flags, SectionHandle, SectionSize, AlpcSectionHandle, ActualSectionSize)

#define AlpcInitializeMessageAttribute(AttributeFlags, Buffer, BufferSize, RequiredBufferSize)                       \
    _Generic((RequiredBufferSize), ULONG *: AlpcpInitializeMessageAttributeUlong,                                     \
             default: (AlpcInitializeMessageAttribute))(AttributeFlags, Buffer, BufferSize, RequiredBufferSize)

#endif /* __cplusplus */
#endif /* ALPC_NO_LENGTH_OVERLOADS */

#endif /* ALPC_ALPC_H */
