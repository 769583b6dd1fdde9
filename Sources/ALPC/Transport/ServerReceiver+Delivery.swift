internal import CALPC
internal import CALPCSystem
internal import Synchronization

extension ServerReceiver {
    /// What became of one record offered to a sink.
    enum RecordDelivery {
        /// Delivered: its slot may be released.
        case delivered
        /// Delivered, then the sink failed with this error: its slot may be released.
        case deliveredThenFailed(NTStatus)
        /// Not loaded (the sink's buffer is too small): the record stays, its slot is kept.
        case notLoaded(NTStatus)
        /// It broke the protocol: nothing of it was delivered.
        case broken
    }

    /// Delivers the oldest records of the next hot ring that has one, round-robin: the first,
    /// then up to `batch - 1` more already published on the same ring, whose slots are then
    /// released together. Returns how many were delivered (0: no ring had a record).
    @inline(__always)
    func deliverFromHotRing<Sink: MessageSink>(
        into sink: inout Sink, batch: Int, reader: MessageReader
    ) throws(NTStatus) -> Int {
        let count = hot.count
        guard count > 0 else { return 0 }
        for step in 0..<count {
            // Borrowed from the hot set, which holds the connection while it is scanned (and
            // `finishClosing` queues its last event before letting it go): no reference counted.
            // (The sink goes in by address: an inout captured by the closures would be checked
            // for exclusive access at run time.)
            let delivered = try withUnsafeMutablePointer(to: &sink) { (sink) throws(NTStatus) -> Int? in
                try hot.scanned(step).withBorrowed { (channel) throws(NTStatus) -> Int? in
                    try deliver(from: channel, scannedAt: step, into: &sink.pointee, batch: batch, reader: reader)
                }
            }
            if let delivered { return delivered }
        }
        return 0
    }

    /// Delivers the oldest records of `channel`, found `step` places after the scan's start
    /// (see ``deliverFromHotRing(into:batch:reader:)``): how many, or nil when its ring holds
    /// none and the scan goes on.
    @inline(__always)
    private func deliver<Sink: MessageSink>(
        from channel: ServerChannel, scannedAt step: Int, into sink: inout Sink, batch: Int, reader: MessageReader
    ) throws(NTStatus) -> Int? {
        let slot: UnsafeMutableRawPointer?
        do {
            slot = try channel.consumer.peek()
        } catch {
            beginClosing(channel, .died)
            slot = nil
        }
        guard let slot else {
            if channel.closing != nil {
                finishClosing(channel)
                return try deliverControlEvent(into: &sink, reader: reader) ? 1 : 0
            }
            return nil
        }
        hot.advance(past: step)
        // A batch takes the MessageIds of the records already published under one lock of
        // the ledger, not one per record, and ends with them.
        var (reservedId, limit) = batch > 1 ? reserveBatch(of: channel, upTo: batch) : (nil, 1)
        var delivered = 0
        var failure: NTStatus?
        var next: UnsafeMutableRawPointer? = slot
        // The first record, then more of the same ring as long as they come whole; anything
        // else waits for the next receive, which sees it first.
        records: while let record = next {
            switch deliverRecord(record, of: channel, into: &sink, reader: reader, messageId: reservedId) {
            case .delivered:
                delivered += 1
            case .deliveredThenFailed(let error):
                delivered += 1
                failure = error
            case .notLoaded(let error):
                if delivered == 0 { throw error }
                break records
            case .broken:
                guard delivered > 0 else {
                    // A client that writes garbage or breaks the protocol is treated as gone:
                    // its messages stop here, and nothing of the broken record is delivered.
                    abandon(channel, "a malformed record")
                    return try deliverControlEvent(into: &sink, reader: reader) ? 1 : 0
                }
                break records
            }
            guard failure == nil, delivered < limit else { break }
            next = try? channel.consumer.peek(after: delivered)
            reservedId = reservedId.map(ServerLedger.messageId(after:))
        }
        // The slots are released whatever the receiver did with the messages.
        if channel.consumer.release(count: delivered) { _ = alpc_futex_wake(channel.requestRing.headAddress, Int32.max) }
        unflushedMessages &+= UInt64(delivered)
        if unflushedMessages >= Self.trafficFlushInterval { flushTraffic() }
        if let failure { throw failure }
        return delivered
    }

    /// The MessageIds of the records `channel`'s ring has published, up to `batch`, taken
    /// together (the first, or nil when only one is there), and how many records the batch may
    /// deliver.
    @inline(never)
    func reserveBatch(of channel: ServerChannel, upTo batch: Int) -> (UInt32?, Int) {
        let published = (try? channel.consumer.published(upTo: batch)) ?? 1
        guard published > 1 else { return (nil, batch) }
        return (ledger.reserveDeliveries(published, from: channel), published)
    }

    /// Checks the record in `slot` of `channel`'s request ring, takes what came with it, and
    /// delivers it into `sink` with the MessageId `reserved` for it (nil: a new one), leaving
    /// the slot to the caller to release.
    @inline(__always)
    func deliverRecord<Sink: MessageSink>(
        _ slot: UnsafeMutableRawPointer, of channel: ServerChannel, into sink: inout Sink, reader: MessageReader,
        messageId reserved: UInt32?
    ) -> RecordDelivery {
        let record: SlotRecord.Inbound
        var inbound = InboundAttributesHold()
        do {
            record = try InboundRecord.read(
                slot, maxRecordLength: channel.geometry.maxRecordLength,
                maxMessageLength: channel.geometry.maxMessageLength, peer: channel.peerResources,
                control: channel.handshake.socket, policy: channel.policy, attributes: &inbound)
        } catch {
            return .broken
        }
        do throws(NTStatus) {
            try sink.load(from: UnsafeRawPointer(slot + SlotRecord.slotHeaderSize), dataLength: record.dataLength)
        } catch {
            return .notLoaded(error)
        }
        InboundRecord.release(record, from: channel.peerResources)
        unflushedBytes &+= UInt64(record.dataLength)
        let messageId: UInt32
        if let reserved {
            messageId = reserved
            if ServerLedger.awaitsReply(record.kind) { ledger.keepRequest(reserved, cookie: record.cookie, from: channel) }
        } else {
            messageId = ledger.recordDelivery(kind: record.kind, cookie: record.cookie, from: channel)
        }
        let stamp = DeliveryStamp(
            type: UInt16(record.kind == ALPC_RECORD_DATAGRAM ? Int32(LPC_DATAGRAM) : ALPC_REQUEST),
            clientProcess: channel.peer.processId, messageId: messageId, callbackId: 0)
        channel.sequence &+= 1
        do throws(NTStatus) {
            try sink.deliver(
                stamp, attributes: inbound,
                context: ContextStamp(portContext: channel.portContext, sequence: channel.sequence),
                sender: channel.peer, reader: reader)
        } catch {
            return .deliveredThenFailed(error)
        }
        return .delivered
    }

    /// Ends a connection whose client broke the protocol: nothing more of it is delivered,
    /// and LPC_CLIENT_DIED is queued.
    func abandon(_ channel: ServerChannel, _ violation: String) {
        telemetry.protocolViolation(channel.peer, violation)
        beginClosing(channel, .died)
        channel.closing = .died
        finishClosing(channel)
    }

    /// Delivers the oldest control event (connection request, closed connection).
    func deliverControlEvent<Sink: MessageSink>(into sink: inout Sink, reader: MessageReader) throws(NTStatus) -> Bool {
        guard let event = controlQueue.first else { return false }
        var loaded = false
        do {
            switch event {
            case .connectionRequest(let messageId, let handshake):
                try sink.deliver(
                    bytes: handshake.request?.message ?? [],
                    DeliveryStamp(
                        type: UInt16(ALPC_CONNECTION_REQUEST), clientProcess: handshake.peer.processId,
                        clientThread: UInt64(UInt32(bitPattern: handshake.request?.threadId ?? 0)),
                        messageId: messageId, callbackId: 0),
                    attributes: InboundAttributesHold(), context: nil, sender: handshake.peer, reader: reader,
                    loaded: &loaded)
            case .closed(let channel, let reason, let messageId):
                try sink.load(from: SlotRecord.emptyHeader, dataLength: 0)
                loaded = true
                channel.sequence &+= 1
                try sink.deliver(
                    DeliveryStamp(
                        type: UInt16(reason == .closed ? LPC_PORT_CLOSED : LPC_CLIENT_DIED),
                        clientProcess: channel.peer.processId, clientThread: 0, messageId: messageId),
                    attributes: InboundAttributesHold(),
                    context: ContextStamp(portContext: channel.portContext, sequence: channel.sequence),
                    sender: channel.peer, reader: reader)
            }
        } catch {
            // Not loaded (a connection request too big for the buffer): it stays queued.
            // Loaded, then the receiver's closure failed: it is consumed.
            if loaded { controlQueue.removeFirst() }
            throw error
        }
        controlQueue.removeFirst()
        return true
    }
}
