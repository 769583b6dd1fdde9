internal import CALPC
internal import CALPCSystem

/// The server's side of a port: its parts, each with one job (the control plane of listener,
/// handshakes and connections; the ledger of MessageIds, pending requests and senders; the
/// receiver, which holds the receive role), and what crosses them: replies, closing the port
/// or one connection.
final class ServerPort: @unchecked Sendable {
    let name: PortName
    let maxMessageLength: Int
    /// MessageIds, pending requests and connection requests, recent senders.
    let ledger = ServerLedger()
    /// The listener, the handshakes, the connections' beginning and end.
    let controlPlane: ServerControlPlane
    /// Who receives: the receive role, the hot connections, the wait strategy.
    let receiver: ServerReceiver
    /// The port's lifecycle log and counters.
    let telemetry: PortTelemetry

    init(
        name: PortName, maxMessageLength: Int, access: AccessPolicy, quota: PortQuota, waitable: Bool = false,
        telemetry: PortTelemetry
    ) throws(NTStatus) {
        self.name = name
        self.maxMessageLength = maxMessageLength
        self.telemetry = telemetry
        self.controlPlane = try ServerControlPlane(
            name: name, ledger: ledger, access: access, quota: quota, telemetry: telemetry)
        self.receiver = try ServerReceiver(
            controlPlane: controlPlane, ledger: ledger, telemetry: telemetry, waitable: waitable)
    }

    deinit {
        close()
    }

    /// The number of accepted, open connections.
    var connectionCount: Int { controlPlane.connectionCount }

    /// The kernel credentials of the process that sent message `messageId`, and whether its
    /// QoS lets the server impersonate it (see ``ServerLedger/sender(of:)``).
    func sender(of messageId: UInt32) throws(NTStatus) -> (peer: PeerCredentials, allowsImpersonation: Bool) {
        try ledger.sender(of: messageId)
    }

    // MARK: Answering

    /// Sends `message` as the reply to the pending request it names by MessageId.
    @inline(__always)
    func reply(_ message: AlpcMessage) throws(NTStatus) {
        let messageId = message.port.messageId
        let pending = try ledger.takeRequest(messageId)
        try pending.withChannel { (channel) throws(NTStatus) in
            let dataLength: Int
            let attributes: OutgoingAttributes?
            do throws(NTStatus) {
                dataLength = try SlotRecord.validateOutgoing(message, maxMessageLength: channel.geometry.maxMessageLength)
                attributes = try OutgoingAttributes.travel(with: message)
                    ? OutgoingAttributes.prepare(message, policy: channel.policy) : nil
            } catch {
                // The request stays answerable.
                ledger.putBack(pending, messageId: messageId)
                throw error
            }
            let clientId = ClientID.callingThread
            let recordLength = SlotRecord.slotLength(dataLength: dataLength, attributeLength: attributes?.encodedLength ?? 0)
            do throws(NTStatus) {
                try channel.publish(recordLength: recordLength, dataLength: dataLength, attributes: attributes) {
                    slot, slotFlags in
                    if let attributes {
                        SlotRecord.write(
                            message, dataLength: dataLength, kind: ALPC_RECORD_REPLY, cookie: pending.cookie,
                            clientId: clientId, messageId: messageId, callbackId: 0,
                            attributes: attributes, flags: slotFlags, to: slot)
                    } else {
                        SlotRecord.write(
                            message, dataLength: dataLength, kind: ALPC_RECORD_REPLY, cookie: pending.cookie,
                            clientId: clientId, messageId: messageId, callbackId: 0, to: slot)
                    }
                }
            } catch {
                // Over quota, nothing was sent: the request stays answerable.
                if error == .quotaExceeded { ledger.putBack(pending, messageId: messageId) }
                throw error
            }
            attributes?.finish()
        }
    }

    /// Sends a reply of `dataLength` bytes, without attributes, to the pending request
    /// `messageId`: `fill` writes its data in place in the client's reply ring (or, when the
    /// ring is full, in the copy kept until the client frees a slot). When the length is
    /// refused or `fill` throws, nothing is sent and the request stays answerable.
    @inline(__always)
    func reply(
        to messageId: UInt32, dataLength: Int, fill: (UnsafeMutableRawBufferPointer) throws(NTStatus) -> Void
    ) throws(NTStatus) {
        let pending = try ledger.takeRequest(messageId)
        try pending.withChannel { (channel) throws(NTStatus) in
            var keepPending = true
            do throws(NTStatus) {
                try SlotRecord.validateOutgoing(dataLength: dataLength, maxMessageLength: channel.geometry.maxMessageLength)
                keepPending = false
                let clientId = ClientID.callingThread
                try channel.publish(
                    recordLength: SlotRecord.slotLength(dataLength: dataLength, attributeLength: 0),
                    dataLength: dataLength,
                    write: { (slot, _) throws(NTStatus) in
                        keepPending = true
                        try SlotRecord.write(
                            dataLength: dataLength, kind: ALPC_RECORD_REPLY, cookie: pending.cookie, clientId: clientId,
                            messageId: messageId, callbackId: 0, to: slot, fill: fill)
                        keepPending = false
                    })
            } catch {
                // As for the copying reply: a refused length, a failed fill or a reply over quota
                // leaves the request answerable.
                if keepPending || error == .quotaExceeded { ledger.putBack(pending, messageId: messageId) }
                throw error
            }
        }
    }

    /// Closes the port: every connection is told, nothing more is received.
    func close() {
        let connections = controlPlane.connectionCount
        guard controlPlane.close() else { return }
        for _ in 0..<connections { telemetry.connectionClosedByServer() }
        telemetry.portClosed()
        receiver.portClosed()
    }

    /// Tells every client that was sent this process's section `id` that it was deleted.
    func notifySectionDeleted(_ id: UInt64) {
        for channel in controlPlane.allChannels { channel.notifySectionDeleted(id) }
    }

    /// Closes one connection from the server's side.
    func disconnect(_ channel: ServerChannel) {
        if controlPlane.channel(channel.id) != nil { telemetry.connectionClosedByServer() }
        receiver.forgetAccepted(channel)
        controlPlane.remove(channel)
        // Its sockets have nothing more to say; left registered, their hang-up would wake every poll.
        try? controlPlane.events.remove(channel.handshake.socket.fd)
        try? controlPlane.events.remove(channel.doorbell.fd)
        channel.closeFromServer()
    }
}
