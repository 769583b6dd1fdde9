internal import CALPC
internal import CALPCSystem
internal import Synchronization

extension ClientChannel {
    /// Receives the reply carrying `cookie` into `message`, or with cookie 0 the next message
    /// nobody else waits for, until `deadline`.
    func receive(cookie: UInt32, into message: AlpcMessage, deadline: inout CallDeadline) throws(NTStatus) {
        var sink = CopyingSink(message: message)
        try receive(cookie: cookie, into: &sink, deadline: &deadline)
    }

    /// Receives the reply carrying `cookie` into `sink`, or with cookie 0 the next message
    /// nobody else waits for, until `deadline`.
    ///
    /// With `keepExpecting`, a receive that times out leaves the reply `cookie` awaited (an
    /// asynchronous caller tries again later); otherwise any failure ends the wait for it.
    ///
    /// With `holdsConsumerRole`, the caller took the consumer role with its request (see
    /// ``sendRequest(_:deadline:)``) and consumes at once.
    func receive<Sink: MessageSink>(
        cookie: UInt32, into sink: inout Sink, deadline: inout CallDeadline, keepExpecting: Bool = false,
        holdsConsumerRole: Bool = false, reader: MessageReader = { _ in }
    ) throws(NTStatus) {
        if polling.isActive {
            try receivePolled(
                cookie: cookie, into: &sink, deadline: &deadline, keepExpecting: keepExpecting,
                holdsConsumerRole: holdsConsumerRole, reader: reader)
        } else {
            try receiveMessage(
                cookie: cookie, into: &sink, deadline: &deadline, keepExpecting: keepExpecting,
                holdsConsumerRole: holdsConsumerRole, reader: reader)
        }
    }

    /// Receives the reply to the request `pending` (see ``sendRequest(_:deadline:)``) into
    /// `message`, until `deadline`.
    func receive(_ pending: PendingReply, into message: AlpcMessage, deadline: inout CallDeadline) throws(NTStatus) {
        var sink = CopyingSink(message: message)
        try receive(
            cookie: pending.cookie, into: &sink, deadline: &deadline, holdsConsumerRole: pending.holdsConsumerRole)
    }

    /// ``receive(cookie:into:deadline:)`` on a polled connection: the server need not ring the
    /// doorbell while this thread receives, and afterwards the descriptor says again whether
    /// a message waits.
    @inline(never)
    func receivePolled<Sink: MessageSink>(
        cookie: UInt32, into sink: inout Sink, deadline: inout CallDeadline, keepExpecting: Bool,
        holdsConsumerRole: Bool, reader: MessageReader
    ) throws(NTStatus) {
        polling.suspend()
        // A receive that found nothing drains the doorbell whatever it knows of rings: an
        // event loop woken by a ring that landed after the drain of the receive it announced
        // then sees the descriptor quiet again.
        var foundNothing = false
        defer { polling.settle(drainingAnyway: foundNothing, hasKept: { hasKept }) }
        do {
            try receiveMessage(
                cookie: cookie, into: &sink, deadline: &deadline, keepExpecting: keepExpecting,
                holdsConsumerRole: holdsConsumerRole, reader: reader)
        } catch {
            foundNothing = error == .timeout
            throw error
        }
    }

    @inline(__always)
    func receiveMessage<Sink: MessageSink>(
        cookie: UInt32, into sink: inout Sink, deadline: inout CallDeadline, keepExpecting: Bool,
        holdsConsumerRole: Bool, reader: MessageReader
    ) throws(NTStatus) {
        // A caller that took the consumer role with its request consumes at once: nobody else
        // read the ring since, so its reply cannot be parked.
        var holdsRole = holdsConsumerRole
        // The closed-status check reaches the channel without a strong reference (see `publish`).
        unowned(unsafe) let unretained = self
        while true {
            let turn: ReplyDemultiplexer.Turn
            if holdsRole {
                holdsRole = false
                turn = .consume
            } else {
                do throws(NTStatus) {
                    turn = try replies.nextTurn(for: cookie, deadline: &deadline) {
                        unretained.closedStatus.load(ordering: .acquiring)
                    }
                } catch {
                    if cookie != 0 && !(keepExpecting && error == .timeout) {
                        replies.stopExpecting(cookie)
                        telemetry.callEnded(error)
                    }
                    throw error
                }
            }
            switch consume turn {
            case .deliver(let parked, let requeueFirst):
                // Not loaded (too big for the buffer): it stays queued for the next receive.
                try deliver(parked: parked, into: &sink, requeueFirst: requeueFirst, reader: reader)
                return
            case .consume:
                let outcome = Result { () throws(NTStatus) in try pump(cookie: cookie, into: &sink, deadline: &deadline, reader: reader) }
                switch outcome {
                case .success(.delivered):
                    return
                case .success(.deliveredThenFailed(let error)):
                    // The reply was consumed: nothing is awaited any more, whatever the error.
                    if cookie != 0 && !(keepExpecting && error == .timeout) { telemetry.callEnded(error) }
                    throw error
                case .success(.forAnother):
                    replies.releaseConsumer(stillExpecting: cookie)
                    continue
                case .failure(let error):
                    // A reply too big for the buffer stays on the ring; once nobody awaits its
                    // cookie, the next receive gets it.
                    let ended = cookie != 0 && !(keepExpecting && error == .timeout)
                    if ended {
                        replies.releaseConsumer(forgetting: cookie)
                        telemetry.callEnded(error)
                    } else {
                        replies.releaseConsumer(stillExpecting: cookie)
                    }
                    throw error
                }
            }
        }
    }

    /// What became of the record one turn of ``pump(cookie:into:deadline:reader:)`` read.
    enum Pumped {
        /// It was the caller's and was delivered; the slot and the consumer role are given up.
        case delivered
        /// It was the caller's and was delivered, then the sink failed with this error; the
        /// slot and the consumer role are given up.
        case deliveredThenFailed(NTStatus)
        /// It was for another thread (parked) or a cancelled request (dropped); the caller still
        /// holds the consumer role.
        case forAnother
    }

    /// Consumes the reply ring until a record for the caller arrives (delivered into `sink`;
    /// the consumer role is then given up, forgetting `cookie`) or one for somebody else was
    /// parked or dropped. Runs holding the consumer role; when it throws, the caller still
    /// holds it.
    @inline(__always)
    func pump<Sink: MessageSink>(
        cookie: UInt32, into sink: inout Sink, deadline: inout CallDeadline, reader: MessageReader
    ) throws(NTStatus) -> Pumped {
        // A record already there (the reply came while the request's sender worked on):
        // taken without a call into the wait. (An impossible Tail is read again, and
        // reported, by the wait.)
        let slot: UnsafeMutableRawPointer
        if let published = (try? consumer.peek()) ?? nil {
            slot = published
        } else {
            slot = try waitForRecord(deadline: &deadline)
        }
        let record: SlotRecord.Inbound
        var inbound = InboundAttributesHold()
        do {
            record = try InboundRecord.read(
                slot, maxRecordLength: geometry.maxRecordLength, maxMessageLength: geometry.maxMessageLength,
                peer: peerResources, control: control, policy: policy, attributes: &inbound)
        } catch {
            // A server that writes garbage or breaks the protocol is treated as gone.
            markClosed(.portDisconnected)
            throw .portDisconnected
        }
        let isReply = record.kind == ALPC_RECORD_REPLY
        if isReply, replies.dropIfCancelled(record.cookie) {
            // The reply to a cancelled request: dropped, with what came with it.
            InboundRecord.release(record, from: peerResources)
            receivedSequence &+= 1
            releaseSlot()
            return .forAnother
        }
        let mine: Bool
        if cookie != 0 {
            mine = isReply && record.cookie == cookie
        } else {
            mine = !(isReply && replies.isExpected(record.cookie))
        }
        if mine {
            // Too big for the buffer: the record stays on the ring.
            try sink.load(from: UnsafeRawPointer(slot + SlotRecord.slotHeaderSize), dataLength: record.dataLength)
            InboundRecord.release(record, from: peerResources)
            receivedSequence &+= 1
            // The slot is released whatever the receiver does with the message, and the consumer
            // role with it: Head's store, the role's, then one fence before either side's
            // sleepers are looked for. (The ring stays mapped: this channel outlives the call.)
            let delivered = Result { () throws(NTStatus) in
                try sink.deliver(
                    deliveryStamp(of: record), attributes: inbound,
                    context: ContextStamp(portContext: 0, sequence: receivedSequence), sender: serverCredentials,
                    reader: reader)
            }
            consumer.releaseUnfenced()
            let ring = replyRing
            if replies.releaseConsumer(forgetting: cookie, sharingFenceOf: { ring.fenceThenReadProducerSleeping() }) {
                // A server that keeps replies for a full ring asked to be rung when a slot frees.
                writer.ringReaderDoorbell()
            }
            if case .failure(let error) = delivered { return .deliveredThenFailed(error) }
            return .delivered
        }
        var bytes = SlotRecord.bytes(of: record)
        bytes.withUnsafeMutableBytes { raw in
            deliveryStamp(of: record).apply(to: PortMessage(unsafeStart: raw.baseAddress!, capacity: raw.count))
        }
        InboundRecord.release(record, from: peerResources)
        receivedSequence &+= 1
        let parked = ReplyDemultiplexer.Parked(
            bytes: bytes, attributes: inbound.take(), sequence: receivedSequence, cookie: isReply ? record.cookie : 0)
        releaseSlot()
        guard replies.park(parked, isReply: isReply) else {
            // The server sends more than anybody here claims (datagrams, replies nobody waits
            // for): the connection ends, and what is already kept can still be received.
            close(status: .quotaExceeded)
            throw .quotaExceeded
        }
        return .forAnother
    }

    /// Waits until `deadline` for the oldest record of the reply ring, holding the consumer
    /// role, and returns its slot.
    ///
    /// - Throws: `.timeout`; the connection's status once it is closed; `.invalidMessage` for
    ///   a server that published an impossible Tail (the connection is then closed).
    @inline(never)
    func waitForRecord(deadline: inout CallDeadline) throws(NTStatus) -> UnsafeMutableRawPointer {
        var slot: UnsafeMutableRawPointer?
        // The liveness check reaches the channel without a strong reference (see `publish`).
        unowned(unsafe) let unretained = self
        do {
            slot = try consumer.peek()
            if slot == nil {
                try AdaptiveWait.wait(
                    futexWord: replyRing.tailAddress,
                    sleepingFlag: replyRing.consumerSleeping,
                    ownCpu: replyRing.consumerCpu,
                    peerCpu: requestRing.consumerCpu,
                    deadline: &deadline,
                    poll: { () throws(NTStatus) -> Bool in
                        slot = try consumer.peek()
                        return slot != nil
                    },
                    liveness: { () throws(NTStatus) in try unretained.checkAlive() }
                )
            }
        } catch {
            if error == .invalidMessage { markClosed(.portDisconnected) }
            throw error
        }
        guard let slot else { throw .unsuccessful }
        return slot
    }

    /// What the receiver of a server message sees: its Type and the server's ClientId.
    @inline(__always)
    func deliveryStamp(of record: SlotRecord.Inbound) -> DeliveryStamp {
        DeliveryStamp(type: UInt16(record.kind == ALPC_RECORD_REPLY ? LPC_REPLY : LPC_DATAGRAM), clientProcess: UInt64(serverPid))
    }

    func releaseSlot() {
        // A server that keeps replies for a full ring asked to be rung when a slot frees.
        if consumer.release() { writer.ringReaderDoorbell() }
    }

    /// Delivers a parked message into `sink` (no lock is held: the receiver's closure may call
    /// back into the channel). A message the sink does not load goes back to its queue.
    func deliver<Sink: MessageSink>(
        parked: ReplyDemultiplexer.Parked, into sink: inout Sink, requeueFirst: Bool, reader: MessageReader
    ) throws(NTStatus) {
        var loaded = false
        let outcome = Result { () throws(NTStatus) in
            try sink.deliver(
                bytes: parked.bytes, DeliveryStamp(), attributes: InboundAttributesHold(parked.attributes),
                context: ContextStamp(portContext: 0, sequence: parked.sequence), sender: serverCredentials,
                reader: reader, loaded: &loaded)
        }
        if case .failure(let error) = outcome {
            if !loaded { replies.requeue(parked, first: requeueFirst) }
            throw error
        }
    }
}
