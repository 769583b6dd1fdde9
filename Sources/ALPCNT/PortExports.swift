internal import ALPC
public import CALPC
internal import Glibc

/// NtAlpcCreatePort: see alpc.h.
@c(NtAlpcCreatePort)
public func ntAlpcCreatePort(
    _ portHandle: PHANDLE?, _ objectAttributes: POBJECT_ATTRIBUTES?, _ portAttributes: PALPC_PORT_ATTRIBUTES?
) -> NTSTATUS {
    guard let portHandle else { return STATUS_INVALID_PARAMETER_1 }
    guard let name = NTString.decode(objectAttributes?.pointee.ObjectName) else { return STATUS_OBJECT_NAME_INVALID }
    let attributes = PortAttributes(c: portAttributes, defaults: .server)
    return ntStatus { () throws(NTStatus) in
        let access = NTSecurity.accessPolicy(objectAttributes?.pointee.SecurityDescriptor)
        let server = try AlpcServer(portName: name, attributes: attributes, access: access)
        do throws(NTStatus) {
            let port = try NTPort.open(.connection(server), flags: attributes.flags)
            portHandle.pointee = port.handle
        } catch {
            server.disconnect()
            throw error
        }
    }
}

/// NtAlpcConnectPort: see alpc.h.
@c(NtAlpcConnectPort)
public func ntAlpcConnectPort(
    _ portHandle: PHANDLE?, _ portName: PUNICODE_STRING?, _ objectAttributes: POBJECT_ATTRIBUTES?,
    _ portAttributes: PALPC_PORT_ATTRIBUTES?, _ flags: ULONG, _ requiredServerSid: PSID?,
    _ connectionMessage: PPORT_MESSAGE?, _ bufferLength: PSIZE_T?, _ outMessageAttributes: PALPC_MESSAGE_ATTRIBUTES?,
    _ inMessageAttributes: PALPC_MESSAGE_ATTRIBUTES?, _ timeout: PLARGE_INTEGER?
) -> NTSTATUS {
    guard let portHandle else { return STATUS_INVALID_PARAMETER_1 }
    guard let name = NTString.decode(portName) else { return STATUS_OBJECT_NAME_INVALID }
    let requiredUid: UInt32?
    if let requiredServerSid {
        guard let uid = NTIdentity.uid(sid: requiredServerSid) else { return STATUS_SERVER_SID_MISMATCH }
        requiredUid = uid
    } else {
        requiredUid = nil
    }
    return connect(
        portHandle, name: name, portAttributes: portAttributes, flags: flags, requiredUid: requiredUid,
        connectionMessage: connectionMessage, bufferLength: bufferLength, timeout: NTTimeout.duration(timeout))
}

/// NtAlpcConnectPortEx: see alpc.h. ServerSecurityRequirements is not checked.
@c(NtAlpcConnectPortEx)
public func ntAlpcConnectPortEx(
    _ portHandle: PHANDLE?, _ connectionPortObjectAttributes: POBJECT_ATTRIBUTES?,
    _ clientPortObjectAttributes: POBJECT_ATTRIBUTES?, _ portAttributes: PALPC_PORT_ATTRIBUTES?, _ flags: ULONG,
    _ serverSecurityRequirements: PSECURITY_DESCRIPTOR?, _ connectionMessage: PPORT_MESSAGE?,
    _ bufferLength: PSIZE_T?, _ outMessageAttributes: PALPC_MESSAGE_ATTRIBUTES?,
    _ inMessageAttributes: PALPC_MESSAGE_ATTRIBUTES?, _ timeout: PLARGE_INTEGER?
) -> NTSTATUS {
    guard let portHandle else { return STATUS_INVALID_PARAMETER_1 }
    guard let name = NTString.decode(connectionPortObjectAttributes?.pointee.ObjectName) else {
        return STATUS_OBJECT_NAME_INVALID
    }
    return connect(
        portHandle, name: name, portAttributes: portAttributes, flags: flags, requiredUid: nil,
        connectionMessage: connectionMessage, bufferLength: bufferLength, timeout: NTTimeout.duration(timeout))
}

/// Both connects: synchronous with ALPC_MSGFLG_SYNC_REQUEST, otherwise on a thread of its own.
private func connect(
    _ portHandle: PHANDLE, name: String, portAttributes: PALPC_PORT_ATTRIBUTES?, flags: ULONG, requiredUid: UInt32?,
    connectionMessage: PPORT_MESSAGE?, bufferLength: PSIZE_T?, timeout: Duration?
) -> NTSTATUS {
    let attributes = PortAttributes(c: portAttributes, defaults: .client)
    return ntStatus { () throws(NTStatus) in
        if flags & ALPC_MSGFLG_SYNC_REQUEST != 0 {
            let message = connectionMessage.map { message in
                let capacity = bufferLength.map { Int(clamping: $0.pointee) }
                    ?? Int(UInt16(bitPattern: message.pointee.u1.s1.TotalLength))
                return AlpcMessage(
                    unsafeBuffer: UnsafeMutableRawPointer(message), size: max(capacity, CMessage.headerSize),
                    attributes: MessageAttributes(flags: []))
            }
            let client = try connectedClient(name, message, attributes, timeout, requiredUid)
            bufferLength?.pointee = SIZE_T(UInt16(bitPattern: connectionMessage?.pointee.u1.s1.TotalLength ?? 0))
            let port = try NTPort.open(.client(ClientPort(connected: client)), flags: attributes.flags)
            portHandle.pointee = port.handle
            return
        }
        // Asynchronous: the request is copied now; the reply comes as LPC_CONNECTION_REPLY.
        let requestData = connectionMessage.map { message in
            let length = Int(UInt16(bitPattern: message.pointee.u1.s1.DataLength))
            return [UInt8](UnsafeRawBufferPointer(start: UnsafeRawPointer(message) + CMessage.headerSize, count: length))
        }
        let clientPort = try ClientPort { () throws(NTStatus) -> (AlpcClient, [UInt8]) in
            let request = try requestData.map { (data) throws(NTStatus) -> AlpcMessage in
                let message = AlpcMessage(size: Int(ALPC_MAX_ALLOWED_MESSAGE_LENGTH))
                try message.setData(data)
                return message
            }
            let client = try connectedClient(name, request, attributes, timeout, requiredUid)
            let reply = request ?? AlpcMessage(size: CMessage.headerSize)
            reply.port.type = UInt16(LPC_CONNECTION_REPLY)
            reply.port.clientId = ClientID(process: UInt64(client.serverProcessId), thread: 0)
            let bytes = [UInt8](UnsafeRawBufferPointer(start: reply.port.start, count: Int(reply.port.totalLength)))
            return (client, bytes)
        }
        let port = try NTPort.open(.client(clientPort), flags: attributes.flags)
        portHandle.pointee = port.handle
    }
}

/// A client connected to `name` whose server runs as `requiredUid` (when given).
private func connectedClient(
    _ name: String, _ message: AlpcMessage?, _ attributes: PortAttributes, _ timeout: Duration?, _ requiredUid: UInt32?
) throws(NTStatus) -> AlpcClient {
    let client = try AlpcClient(
        portName: name, connectMessage: message, attributes: attributes, flags: .syncRequest, timeout: timeout)
    if let requiredUid, client.serverUserId != requiredUid {
        client.disconnect()
        throw .serverSIDMismatch
    }
    return client
}

/// NtAlpcAcceptConnectPort: see alpc.h.
@c(NtAlpcAcceptConnectPort)
public func ntAlpcAcceptConnectPort(
    _ portHandle: PHANDLE?, _ connectionPortHandle: HANDLE?, _ flags: ULONG, _ objectAttributes: POBJECT_ATTRIBUTES?,
    _ portAttributes: PALPC_PORT_ATTRIBUTES?, _ portContext: PVOID?, _ connectionRequest: PPORT_MESSAGE?,
    _ connectionMessageAttributes: PALPC_MESSAGE_ATTRIBUTES?, _ acceptConnection: BOOLEAN
) -> NTSTATUS {
    guard let port = PortTable.shared.port(connectionPortHandle), case .connection(let server) = port.kind else {
        return STATUS_INVALID_HANDLE
    }
    guard let connectionRequest else { return STATUS_INVALID_PARAMETER_7 }
    return ntStatus { () throws(NTStatus) in
        guard acceptConnection != 0 else {
            try CMessage.withOutgoing(connectionRequest, attributes: nil) { (request) throws(NTStatus) in
                try server.refuseConnection(request)
            }
            portHandle?.pointee = nil
            return
        }
        let attributes = PortAttributes(c: portAttributes, defaults: .accept)
        let context = UInt64(UInt(bitPattern: portContext))
        // The communication port's handle first: without a descriptor for it, the client is
        // refused (STATUS_INSUFFICIENT_RESOURCES), not accepted and then dropped.
        var descriptor: Int32 = -1
        if portHandle != nil {
            do throws(NTStatus) {
                descriptor = try NTPort.reserveDescriptor()
            } catch {
                try? CMessage.withOutgoing(connectionRequest, attributes: nil) { (request) throws(NTStatus) in
                    try server.refuseConnection(request, status: error)
                }
                throw error
            }
        }
        let connection: ServerConnection
        do throws(NTStatus) {
            connection = try CMessage.withOutgoing(connectionRequest, attributes: nil) {
                (request) throws(NTStatus) -> ServerConnection in
                try server.acceptConnection(request, attributes: attributes, portContext: context)
            }
        } catch {
            if descriptor >= 0 { _ = close(descriptor) }
            throw error
        }
        guard let portHandle else { return }
        let communication = NTPort.open(
            .communication(server, connection), descriptor: descriptor, flags: attributes.flags, portContext: context)
        portHandle.pointee = communication.handle
    }
}

/// NtAlpcDisconnectPort: see alpc.h.
@c(NtAlpcDisconnectPort)
public func ntAlpcDisconnectPort(_ portHandle: HANDLE?, _ flags: ULONG) -> NTSTATUS {
    guard let port = PortTable.shared.port(portHandle) else { return STATUS_INVALID_HANDLE }
    port.disconnect()
    return STATUS_SUCCESS
}

/// AlpcGetPortDescriptor: see alpc.h.
@c(AlpcGetPortDescriptor)
public func alpcGetPortDescriptor(_ portHandle: HANDLE?) -> Int32 {
    guard let port = PortTable.shared.port(portHandle), port.flags & ALPC_PORFLG_WAITABLE_PORT != 0 else { return -1 }
    switch port.kind {
    case .connection(let server):
        return server.pollDescriptor ?? -1
    case .client(let clientPort):
        return (try? clientPort.connectedClient?.pollDescriptor()) ?? -1
    case .communication:
        return -1
    }
}
