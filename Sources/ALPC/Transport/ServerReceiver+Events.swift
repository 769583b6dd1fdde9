internal import CALPC
internal import CALPCSystem
internal import Synchronization

extension ServerReceiver {
    /// Waits up to `timeoutNanos` for control-plane events and handles them. True when one may
    /// have produced something to deliver.
    func pollEvents(timeoutNanos: Int64) throws(NTStatus) -> Bool {
        controlPlane.prepareToPoll(timeoutNanos: timeoutNanos)
        let count = try controlPlane.events.wait(into: &eventBuffer, timeout: timeoutNanos == 0 ? .zero : .nanoseconds(timeoutNanos))
        var progress = false
        for index in 0..<count {
            let event = eventBuffer[index]
            let (kind, id) = ServerEventToken.decode(event.token)
            switch kind {
            case .readiness:
                // Signalled only while nobody receives; the receiver clears it.
                break
            case .listener:
                controlPlane.acceptPendingSockets()
            case .handshake:
                if let request = controlPlane.handleHandshake(id: id, event) {
                    controlQueue.append(request)
                    progress = true
                }
            case .control:
                if let channel = controlPlane.channel(id) {
                    handleControl(channel, event)
                    progress = true
                }
            case .doorbell:
                // Doorbells are edge-triggered: each ring is one event, and the counter need not
                // be drained (it cannot overflow in practice: 2^64 - 2 rings).
                if let channel = controlPlane.channel(id) {
                    channel.flushKept()
                    if channel.closing == nil { hot.add(channel) }
                    progress = true
                }
            }
        }
        return progress
    }

    /// Handles a connection's control socket: sections and attachments for records to come,
    /// a goodbye packet, or a hang-up.
    func handleControl(_ channel: ServerChannel, _ event: EventPoll.Event) {
        if event.isReadable {
            readPackets: while true {
                let received = Result { () throws(NTStatus) in
                    try channel.handshake.socket.receivePacket(
                        maxFDs: Int(ALPC_MAX_FDS_PER_PACKET), timeout: .zero, capacity: ControlPacket.maxConnectedSize)
                }
                switch received {
                case .success((.disconnect, let fds)):
                    PeerDescriptorCloser.shared.close(fds)
                    beginClosing(channel, .closed)
                    return
                case .success((.wakeup, let fds)):
                    // The client's doorbell: exactly one eventfd (anything else is closed away
                    // from this thread, and the connection ends).
                    guard fds.count == 1, Doorbell.isEventFD(fds[0]),
                        let bell = try? Doorbell(adopting: OwnedDescriptor(adopting: fds[0]))
                    else {
                        PeerDescriptorCloser.shared.close(fds)
                        abandon(channel, "a WAKEUP packet without exactly one eventfd")
                        return
                    }
                    channel.writer.installReaderDoorbell(bell)
                case .success((let packet, let fds)):
                    guard channel.peerResources.accept(packet, fds: fds) else {
                        abandon(channel, "a control packet out of place, malformed or over quota")
                        return
                    }
                case .failure(.timeout):
                    break readPackets
                case .failure:
                    beginClosing(channel, .died)
                    return
                }
            }
        }
        if event.isHangUp { beginClosing(channel, .died) }
    }

    /// Starts ending a connection: its ring is drained first, then the closing message is queued.
    func beginClosing(_ channel: ServerChannel, _ reason: ServerChannel.Closing) {
        guard channel.closing == nil else { return }
        // A client that said goodbye and then exits is closed, not dead.
        let flags = channel.segment.closedFlags.pointee.load(ordering: .acquiring)
        channel.closing = (flags & ALPC_SEGMENT_CLIENT_CLOSED != 0) ? .closed : reason
        try? controlPlane.events.remove(channel.handshake.socket.fd)
        try? controlPlane.events.remove(channel.doorbell.fd)
        hot.add(channel)
    }

    /// Ends a drained closing connection: queues LPC_PORT_CLOSED or LPC_CLIENT_DIED, forgets it.
    func finishClosing(_ channel: ServerChannel) {
        // Queued first: the event holds the connection while the sets below let it go (the
        // receiver scans hot connections without references of its own).
        controlQueue.append(.closed(channel, channel.closing ?? .died, messageId: ledger.newMessageId()))
        hot.remove(channel)
        forgetAccepted(channel)
        controlPlane.remove(channel)
        channel.closeFromServer()
        telemetry.connectionEnded(channel.peer, clientDied: channel.closing != .closed)
    }
}
