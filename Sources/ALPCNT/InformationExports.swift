internal import ALPC
public import CALPC
internal import CALPCNTSupport
internal import Glibc

/// Who sent `message`, received on `port`: a client (on a server's ports) or the server.
private func sender(of message: PPORT_MESSAGE, on port: NTPort) throws(NTStatus) -> SenderCredentials {
    switch port.kind {
    case .connection(let server), .communication(let server, _):
        return try server.senderCredentials(messageId: message.pointee.MessageId)
    case .client(let clientPort):
        guard let client = clientPort.connectedClient else { throw .portDisconnected }
        return SenderCredentials(
            processId: client.serverProcessId, userId: client.serverUserId, groupId: client.serverGroupId)
    }
}

/// Writes `value` to `buffer` when `length` holds it; the length needed goes to `returnLength`.
private func answer<Value>(
    _ value: Value, size: Int, into buffer: PVOID?, length: ULONG, returnLength: PULONG?
) -> NTSTATUS {
    returnLength?.pointee = ULONG(size)
    guard let buffer, Int(length) >= size else { return STATUS_INFO_LENGTH_MISMATCH }
    buffer.storeBytes(of: value, as: Value.self)
    return STATUS_SUCCESS
}

/// NtAlpcQueryInformation: see alpc.h.
@c(NtAlpcQueryInformation)
public func ntAlpcQueryInformation(
    _ portHandle: HANDLE?, _ informationClass: ALPC_PORT_INFORMATION_CLASS, _ information: PVOID?, _ length: ULONG,
    _ returnLength: PULONG?
) -> NTSTATUS {
    guard let port = PortTable.shared.port(portHandle) else { return STATUS_INVALID_HANDLE }
    switch informationClass {
    case AlpcBasicInformation:
        var basic = ALPC_BASIC_INFORMATION()
        basic.Flags = port.flags
        basic.SequenceNo = port.sequenceNumber
        basic.PortContext = UnsafeMutableRawPointer(bitPattern: UInt(port.portContext))
        return answer(basic, size: MemoryLayout<ALPC_BASIC_INFORMATION>.size, into: information, length: length,
                      returnLength: returnLength)
    case AlpcServerSessionInformation:
        guard case .client(let clientPort) = port.kind, let client = clientPort.connectedClient else {
            return STATUS_INVALID_PARAMETER
        }
        var session = ALPC_SERVER_SESSION_INFORMATION()
        session.SessionId = ULONG(bitPattern: getsid(client.serverProcessId))
        session.ProcessId = ULONG(bitPattern: client.serverProcessId)
        return answer(session, size: MemoryLayout<ALPC_SERVER_SESSION_INFORMATION>.size, into: information,
                      length: length, returnLength: returnLength)
    default:
        return STATUS_INVALID_INFO_CLASS
    }
}

/// Looks up the port `portHandle` and the sender of `portMessage` on it, then returns what
/// `body` does with them; a failure of either, or of `body`, is its status.
private func withSender(
    of portMessage: PPORT_MESSAGE?, on portHandle: HANDLE?, missingMessage: NTSTATUS,
    _ body: (NTPort, PPORT_MESSAGE, SenderCredentials) throws(NTStatus) -> NTSTATUS
) -> NTSTATUS {
    guard let port = PortTable.shared.port(portHandle) else { return STATUS_INVALID_HANDLE }
    guard let portMessage else { return missingMessage }
    do {
        return try body(port, portMessage, try sender(of: portMessage, on: port))
    } catch {
        return error.rawValue
    }
}

/// NtAlpcQueryInformationMessage: see alpc.h.
@c(NtAlpcQueryInformationMessage)
public func ntAlpcQueryInformationMessage(
    _ portHandle: HANDLE?, _ portMessage: PPORT_MESSAGE?, _ informationClass: ALPC_MESSAGE_INFORMATION_CLASS,
    _ information: PVOID?, _ length: ULONG, _ returnLength: PULONG?
) -> NTSTATUS {
    withSender(of: portMessage, on: portHandle, missingMessage: STATUS_INVALID_PARAMETER_2) { (_, _, credentials) in
        switch informationClass {
        case AlpcMessageSidInformation:
            let sid = NTIdentity.sid(uid: credentials.userId)
            returnLength?.pointee = ULONG(sid.count)
            guard let information, Int(length) >= sid.count else { return STATUS_BUFFER_TOO_SMALL }
            sid.withUnsafeBytes { information.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            return STATUS_SUCCESS
        case AlpcMessageTokenModifiedIdInformation:
            // The token attribute's ModifiedId: the sender's process id.
            var luid = LUID()
            luid.LowPart = ULONG(bitPattern: credentials.processId)
            return answer(
                luid, size: MemoryLayout<LUID>.size, into: information, length: length, returnLength: returnLength)
        default:
            return STATUS_INVALID_INFO_CLASS
        }
    }
}

/// NtAlpcOpenSenderProcess: see alpc.h.
@c(NtAlpcOpenSenderProcess)
public func ntAlpcOpenSenderProcess(
    _ processHandle: PHANDLE?, _ portHandle: HANDLE?, _ portMessage: PPORT_MESSAGE?, _ flags: ULONG,
    _ desiredAccess: ACCESS_MASK, _ objectAttributes: POBJECT_ATTRIBUTES?
) -> NTSTATUS {
    openSender(processHandle, portHandle, portMessage, thread: false)
}

/// NtAlpcOpenSenderThread: see alpc.h.
@c(NtAlpcOpenSenderThread)
public func ntAlpcOpenSenderThread(
    _ threadHandle: PHANDLE?, _ portHandle: HANDLE?, _ portMessage: PPORT_MESSAGE?, _ flags: ULONG,
    _ desiredAccess: ACCESS_MASK, _ objectAttributes: POBJECT_ATTRIBUTES?
) -> NTSTATUS {
    openSender(threadHandle, portHandle, portMessage, thread: true)
}

/// A pidfd for the process, or the thread, that sent `portMessage`.
private func openSender(_ handle: PHANDLE?, _ portHandle: HANDLE?, _ portMessage: PPORT_MESSAGE?, thread: Bool) -> NTSTATUS {
    guard let handle else { return STATUS_INVALID_PARAMETER_1 }
    return withSender(of: portMessage, on: portHandle, missingMessage: STATUS_INVALID_PARAMETER_3) {
        (_, portMessage, credentials) in
        let pid = credentials.processId
        var fd: Int32
        if thread {
            // The thread named in the message's ClientId, if it belongs to the sender's process.
            let tid = Int32(truncatingIfNeeded: Int(bitPattern: portMessage.pointee.ClientId.UniqueThread))
            guard tid > 0, access("/proc/\(pid)/task/\(tid)", F_OK) == 0 else { return STATUS_INVALID_CID }
            fd = alpcnt_pidfd_open(tid, ALPCNT_PIDFD_THREAD)
            if fd == -EINVAL && tid == pid { fd = alpcnt_pidfd_open(pid, 0) }
        } else {
            fd = alpcnt_pidfd_open(pid, 0)
        }
        guard fd >= 0 else { return fd == -ESRCH ? STATUS_INVALID_CID : STATUS_NOT_SUPPORTED }
        handle.pointee = .init(descriptor: fd)
        return STATUS_SUCCESS
    }
}

/// NtAlpcImpersonateClientOfPort: see alpc.h.
@c(NtAlpcImpersonateClientOfPort)
public func ntAlpcImpersonateClientOfPort(_ portHandle: HANDLE?, _ message: PPORT_MESSAGE?, _ flags: PVOID?) -> NTSTATUS {
    withSender(of: message, on: portHandle, missingMessage: STATUS_INVALID_PARAMETER_2) { (port, _, credentials) in
        guard port.server != nil else { return STATUS_INVALID_HANDLE }
        guard credentials.allowsImpersonation else { return STATUS_BAD_IMPERSONATION_LEVEL }
        // setfsuid and setfsgid report no error: read the value back to learn whether it took.
        _ = alpcnt_setfsgid(credentials.groupId)
        _ = alpcnt_setfsuid(credentials.userId)
        let uid = UInt32(bitPattern: alpcnt_setfsuid(UInt32.max))
        let gid = UInt32(bitPattern: alpcnt_setfsgid(UInt32.max))
        guard uid == credentials.userId, gid == credentials.groupId else {
            _ = alpcRevertToSelf()
            return STATUS_PRIVILEGE_NOT_HELD
        }
        return STATUS_SUCCESS
    }
}

/// AlpcRevertToSelf: see alpc.h.
@c(AlpcRevertToSelf)
public func alpcRevertToSelf() -> NTSTATUS {
    _ = alpcnt_setfsuid(geteuid())
    _ = alpcnt_setfsgid(getegid())
    return STATUS_SUCCESS
}
