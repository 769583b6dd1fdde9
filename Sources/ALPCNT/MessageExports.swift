internal import ALPC
public import CALPC

/// NtAlpcSendWaitReceivePort: see alpc.h.
@c(NtAlpcSendWaitReceivePort)
public func ntAlpcSendWaitReceivePort(
    _ portHandle: HANDLE?, _ flags: ULONG, _ sendMessage: PPORT_MESSAGE?,
    _ sendMessageAttributes: PALPC_MESSAGE_ATTRIBUTES?, _ receiveMessage: PPORT_MESSAGE?,
    _ bufferLength: PSIZE_T?, _ receiveMessageAttributes: PALPC_MESSAGE_ATTRIBUTES?, _ timeout: PLARGE_INTEGER?
) -> NTSTATUS {
    // The calling thread's cached port and wrappers, borrowed: a program that calls again and
    // again on one handle takes no lock and counts no reference here.
    guard let cached = PortCache.entry(portHandle) else { return STATUS_INVALID_HANDLE }
    let wait = NTTimeout.duration(timeout)
    return cached.port._withUnsafeGuaranteedRef { port in ntStatus { () throws(NTStatus) in
        switch port.borrowed {
        case .server(let unretainedServer, let isConnectionPort):
            // (The closures capture the server unretained: a captured reference is retained
            // and released on every call.)
            if let sendMessage {
                try CMessage.withOutgoing(sendMessage, attributes: sendMessageAttributes, wrappers: cached.sendWrappers) {
                    (reply) throws(NTStatus) in
                    try unretainedServer.withBorrowed { (server) throws(NTStatus) in try server.send(reply) }
                }
            }
            try unretainedServer.withBorrowed { (server) throws(NTStatus) in
                guard let receiveMessage else { return }
                guard isConnectionPort else { throw .invalidParameter5 }
                try CMessage.receive(
                    into: receiveMessage, bufferLength: bufferLength, attributes: receiveMessageAttributes,
                    defaultCapacity: server.attributes.maxMessageLength, port: port, wrappers: cached.receiveWrappers
                ) { (message) throws(NTStatus) in
                    try server.receive(into: message, timeout: wait)
                }
            }
        case .client(let clientPort):
            try clientPort.withBorrowed { (clientPort) throws(NTStatus) in
                try clientSendReceive(
                    clientPort, port: port, cached: cached, flags: flags, sendMessage, sendMessageAttributes,
                    receiveMessage, bufferLength, receiveMessageAttributes, wait)
            }
        }
    } }
}

/// A client port's send and receive.
private func clientSendReceive(
    _ clientPort: ClientPort, port: NTPort, cached: PortCache.Entry, flags: ULONG, _ sendMessage: PPORT_MESSAGE?,
    _ sendMessageAttributes: PALPC_MESSAGE_ATTRIBUTES?, _ receiveMessage: PPORT_MESSAGE?,
    _ bufferLength: PSIZE_T?, _ receiveMessageAttributes: PALPC_MESSAGE_ATTRIBUTES?, _ wait: Duration?
) throws(NTStatus) {
    let synchronous = flags & ALPC_MSGFLG_SYNC_REQUEST != 0
    let datagram = flags & ALPC_MSGFLG_RELEASE_MESSAGE != 0
    if synchronous {
        guard !datagram else { throw .invalidParameter2 }
        guard sendMessage != nil else { throw .invalidParameter3 }
        guard receiveMessage != nil else { throw .lpcReceiveBufferExpected }
    }
    // An asynchronous connect's outcome comes first, as the next message.
    if sendMessage == nil, let receiveMessage {
        guard clientPort.waitConnected(timeout: wait) else { throw .timeout }
        if let outcome = clientPort.takeOutcome() {
            try deliver(outcome, clientPort: clientPort, into: receiveMessage, bufferLength: bufferLength)
            return
        }
    }
    try clientPort.withClient(timeout: wait) { (client) throws(NTStatus) in
        if let sendMessage {
            let answered = try CMessage.withOutgoing(
                sendMessage, attributes: sendMessageAttributes, wrappers: cached.sendWrappers
            ) {
                (request) throws(NTStatus) -> Bool in
                if synchronous, let receiveMessage {
                    try CMessage.receive(
                        into: receiveMessage, bufferLength: bufferLength, attributes: receiveMessageAttributes,
                        defaultCapacity: client.maxMessageLength, port: port, wrappers: cached.receiveWrappers
                    ) { (reply) throws(NTStatus) in
                        try client.sendReceive(request, receiveInto: reply, flags: .syncRequest, timeout: wait)
                    }
                    return true
                }
                let requestId = try client.send(request, flags: datagram ? .releaseMessage : [])
                // The request's id, for NtAlpcCancelMessage, in the CONTEXT attribute when allocated.
                if let sendMessageAttributes,
                    let context = AlpcpGetMessageAttribute(sendMessageAttributes, ALPC_MESSAGE_CONTEXT_ATTRIBUTE)
                {
                    context.assumingMemoryBound(to: ALPC_CONTEXT_ATTR.self).pointee.MessageId = requestId
                }
                return false
            }
            if answered { return }
        }
        guard let receiveMessage else { return }
        try CMessage.receive(
            into: receiveMessage, bufferLength: bufferLength, attributes: receiveMessageAttributes,
            defaultCapacity: client.maxMessageLength, port: port, wrappers: cached.receiveWrappers
        ) { (message) throws(NTStatus) in
            try client.receive(into: message, timeout: wait)
        }
    }
}

/// Delivers an asynchronous connect's outcome as a receive would.
private func deliver(
    _ outcome: ClientPort.Outcome, clientPort: ClientPort, into message: PPORT_MESSAGE, bufferLength: PSIZE_T?
) throws(NTStatus) {
    switch outcome {
    case .failure(let status):
        throw status
    case .reply(let bytes):
        let capacity = bufferLength.map { Int(clamping: $0.pointee) } ?? bytes.count
        guard capacity >= bytes.count else {
            bufferLength?.pointee = SIZE_T(bytes.count)
            clientPort.restore(outcome)
            throw .bufferTooSmall
        }
        bytes.withUnsafeBytes { UnsafeMutableRawPointer(message).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    }
}

/// NtAlpcCancelMessage: see alpc.h.
@c(NtAlpcCancelMessage)
public func ntAlpcCancelMessage(_ portHandle: HANDLE?, _ flags: ULONG, _ messageContext: PALPC_CONTEXT_ATTR?) -> NTSTATUS {
    guard let port = PortTable.shared.port(portHandle) else { return STATUS_INVALID_HANDLE }
    guard let messageContext else { return STATUS_INVALID_PARAMETER_3 }
    guard case .client(let clientPort) = port.kind else { return STATUS_INVALID_PARAMETER_1 }
    return ntStatus { () throws(NTStatus) in
        guard let client = clientPort.connectedClient else { throw .portDisconnected }
        try client.cancelRequest(messageContext.pointee.MessageId)
    }
}
