internal import CALPC
internal import CALPCSystem
internal import Synchronization

internal import Glibc

/// The engine of a server port: one receive queue fed by the listening socket, every
/// connection's control socket and doorbell, and every connection's request ring.
///
/// One thread at a time holds the receive role (others wait for it with their deadlines). It
/// polls the request rings of the connections that are active ("hot") without system calls,
/// and sleeps in epoll when nothing moves, after telling each hot connection's client to ring
/// its doorbell. Idle connections cost nothing per message: only hot rings are polled.
final class ServerCore: @unchecked Sendable {
    let name: PortName
    let maxMessageLength: Int
    /// MessageIds, pending requests and connection requests, recent senders.
    let ledger = ServerLedger()
    /// The listener, the handshakes, the connections' beginning and end.
    let controlPlane: ServerControlPlane
    let processId = getpid()

    // The receive role.
    private let roleLock = ConditionLock()
    private var receiverBusy = false

    /// Fired when the port closes: ends every asynchronous receive's suspension.
    let closeInterrupt = WaitInterrupt()
    /// The port's lifecycle log and counters.
    let telemetry: PortTelemetry
    /// Messages and data bytes delivered since the counters were last told; owned by the
    /// holder of the receive role.
    @exclusivity(unchecked) private var unflushedMessages: UInt64 = 0
    @exclusivity(unchecked) private var unflushedBytes: UInt64 = 0
    /// How many delivered messages the receiver counts before it tells the counters.
    private static let trafficFlushInterval: UInt64 = 4096

    /// How long the receiving thread spins before sleeping: halved when spinning did not pay,
    /// back to the full budget when it did.
    @exclusivity(unchecked) private var spinBudget = AdaptiveWait.spinBudgetNanos
    /// The least the server spins while a client is awake on another CPU.
    private static let minimumSpinNanos: UInt64 = 8_000

    // Owned by the holder of the receive role.
    @exclusivity(unchecked) private var hot = HotConnections()
    @exclusivity(unchecked) private var controlQueue: [ServerControlEvent] = []
    private var eventBuffer = EventPoll.Buffer(capacity: 64)
    /// Connections accepted since the receiver last looked. A client sends its first request
    /// microseconds after its accept arrives, so the receiver polls a new connection's ring
    /// (spinning its full budget) before it sleeps, rather than wait for the doorbell.
    private let accepted = Mutex<[ServerChannel]>([])
    /// Whether `accepted` may hold a connection: read by the receiver on its way to sleep.
    private let hasAccepted = Atomic<Bool>(false)
    /// Set when accepted connections joined the hot set: spin for their first request even
    /// though their clients have not said on which CPU they run. Owned by the receive role.
    @exclusivity(unchecked) private var awaitingFirstRequest = false

    /// For a waitable port: signalled while the receive role is free and a message waits that
    /// no doorbell announces (already read from the control plane, or in a ring being
    /// polled), so that the epoll descriptor stays readable while a message is queued.
    private let readiness: Doorbell?
    /// Whether `readiness` is signalled; owned by the holder of the receive role.
    @exclusivity(unchecked) private var readinessSignalled = false

    init(
        name: PortName, maxMessageLength: Int, access: AccessPolicy, quota: PortQuota, waitable: Bool = false,
        telemetry: PortTelemetry
    ) throws(NTStatus) {
        self.name = name
        self.maxMessageLength = maxMessageLength
        self.telemetry = telemetry
        self.controlPlane = try ServerControlPlane(
            name: name, ledger: ledger, access: access, quota: quota, telemetry: telemetry)
        if waitable {
            let readiness = try Doorbell()
            try controlPlane.events.add(readiness.fd, token: ServerEventToken.make(.readiness, 0))
            self.readiness = consume readiness
        } else {
            self.readiness = nil
        }
    }

    deinit {
        close()
    }

    /// The number of accepted, open connections.
    var connectionCount: Int { controlPlane.connectionCount }

    // MARK: Receiving

    /// Receives the next message from any client into `message`.
    func receive(into message: AlpcMessage, deadline: inout CallDeadline) throws(NTStatus) {
        var sink = CopyingSink(message: message)
        try receive(into: &sink, deadline: &deadline)
    }

    /// Receives the next message from any client into `sink`; with `batch` above 1, then as
    /// many more (up to `batch` in all) as the same client's ring already holds, releasing
    /// their slots together. Returns how many were delivered.
    @discardableResult
    @inline(__always)
    func receive<Sink: MessageSink>(
        into sink: inout Sink, deadline: inout CallDeadline, batch: Int = 1, reader: MessageReader = { _ in }
    ) throws(NTStatus) -> Int {
        try acquireRole(deadline: &deadline)
        defer { releaseRole() }
        var emptyRounds = 0
        var spinStart: UInt64 = 0
        // Whether the current spin yields the CPU (to a client on this CPU) rather than polls.
        var yielding = false
        while true {
            if try deliverControlEvent(into: &sink, reader: reader) { return 1 }
            let delivered = try deliverFromHotRing(into: &sink, batch: batch, reader: reader)
            if delivered > 0 {
                // Found while spinning: spinning pays now, so allow the full budget next time.
                if spinStart != 0 { spinBudget = AdaptiveWait.spinBudgetNanos }
                awaitingFirstRequest = false
                return delivered
            }
            emptyRounds &+= 1
            if hot.isEmpty || emptyRounds & 255 == 0 {
                if try pollEvents(timeoutNanos: 0) { emptyRounds = 0; continue }
            }
            if emptyRounds & 15 != 0 && spinStart != 0 && !yielding {
                alpc_cpu_relax()
                continue
            }
            let spinning = shouldSpin()
            // A client awake on this CPU sends its next request only when this thread stops
            // running: give it the CPU, for as long as a spin would last, instead of sleeping.
            yielding = !spinning && hot.clientRunsHere(me: AdaptiveWait.currentCpuWord)
            if spinning || yielding {
                let now = alpc_now_ns()
                if spinStart == 0 {
                    spinStart = now
                    // The first clock reading of this call's waits starts its timeout.
                    _ = deadline.instant(now: now)
                }
                if now &- spinStart < spinBudget {
                    if !yielding {
                        alpc_cpu_relax()
                        continue
                    }
                    if AdaptiveWait.mayYield(now: now) && AdaptiveWait.yieldProcessor() { continue }
                }
                // Spinning did not pay this time: spin less next time, down to a floor that
                // still catches a client's next request sent right after its reply.
                spinBudget = max(spinBudget / 2, Self.minimumSpinNanos)
            }
            if hasAccepted.load(ordering: .relaxed) && adoptAccepted() {
                spinStart = 0
                continue
            }
            awaitingFirstRequest = false
            // Nothing moves: ask hot clients to ring, re-check, then sleep in epoll.
            if hot.goColdAndRecheck() { spinStart = 0; continue }
            try sleepForEvents(until: &deadline)
            spinStart = 0
        }
    }

    // MARK: Waitable ports

    /// The descriptor that is readable while a message may be queued: the epoll descriptor of
    /// a waitable port, nil for another.
    var pollDescriptor: Int32? { readiness == nil ? nil : controlPlane.events.fd }

    /// Waits until a message can be received, without receiving it. True when one can, false
    /// when the deadline passed first.
    func waitForMessage(deadline: inout CallDeadline) throws(NTStatus) -> Bool {
        try acquireRole(deadline: &deadline)
        defer { releaseRole() }
        while true {
            if hasDeliverable() { return true }
            if try pollEvents(timeoutNanos: 0) { continue }
            do {
                try sleepForEvents(until: &deadline)
            } catch .timeout {
                return false
            }
        }
    }

    /// Sleeps in epoll for one slice, or until `deadline` when that comes first, and handles
    /// what arrived.
    ///
    /// - Throws: `.timeout` once `deadline` has passed, `.portDisconnected` when the port is closed.
    private func sleepForEvents(until deadline: inout CallDeadline) throws(NTStatus) {
        var timeout = Int64(AdaptiveWait.sliceNanos)
        let now = alpc_now_ns()
        if let end = deadline.instant(now: now) {
            guard now < end else { throw .timeout }
            timeout = min(timeout, Int64(end &- now))
        }
        if controlPlane.closed { throw .portDisconnected }
        // About to sleep: a cheap moment to tell the counters.
        flushTraffic()
        _ = try pollEvents(timeoutNanos: timeout)
    }

    /// Hands the delivered messages counted so far (and the replies) to the port's counters.
    /// Holding the receive role.
    private func flushTraffic() {
        telemetry.flushTraffic(messages: unflushedMessages, bytes: unflushedBytes)
        unflushedMessages = 0
        unflushedBytes = 0
    }

    /// True when a receive would deliver something now: a control event, or a hot ring with a
    /// record or a closing connection.
    private func hasDeliverable() -> Bool {
        !controlQueue.isEmpty || hot.hasDeliverable()
    }

    /// The receive role was taken: nothing needs `readiness` while it is held.
    private func clearReadiness() {
        guard readinessSignalled else { return }
        readiness?.drain()
        readinessSignalled = false
    }

    /// Before the receive role is given up: signals `readiness` when a message waits that no
    /// doorbell will announce; otherwise lets every hot connection's client ring again.
    private func settleReadiness() {
        var waiting = hasDeliverable()
        if !waiting { waiting = hot.goColdAndRecheck() }
        guard waiting != readinessSignalled else { return }
        if waiting { readiness?.ring() } else { readiness?.drain() }
        readinessSignalled = waiting
    }

    /// Takes the receive role, waiting until `deadline` for another holder to give it up. A
    /// waitable port's readiness is the holder's to keep from then on.
    private func acquireRole(deadline: inout CallDeadline) throws(NTStatus) {
        do {
            roleLock.lock()
            defer { roleLock.unlock() }
            while receiverBusy {
                if !roleLock.wait(until: deadline.instant()) { throw NTStatus.timeout }
            }
            receiverBusy = true
        }
        if readiness != nil { clearReadiness() }
    }

    /// Gives the receive role up, leaving a waitable port's readiness as what is queued says.
    private func releaseRole() {
        if readiness != nil { settleReadiness() }
        roleLock.withLock {
            receiverBusy = false
            roleLock.broadcast()
        }
    }

    /// True while spinning may pay: a hot connection's client is awake on another CPU, or a
    /// connection just accepted awaits its first request.
    private func shouldSpin() -> Bool {
        awaitingFirstRequest || hot.clientRunsElsewhere(me: AdaptiveWait.currentCpuWord)
    }

    /// Hands a connection just accepted to the receiver, which polls its ring before it next
    /// sleeps.
    func noteAccepted(_ channel: ServerChannel) {
        accepted.withLock { $0.append(channel) }
        hasAccepted.store(true, ordering: .releasing)
    }

    /// Drops `channel`, which is ending, from the connections accepted and not yet polled, so
    /// that its descriptors close with it even while the receiver never sleeps.
    private func forgetAccepted(_ channel: ServerChannel) {
        accepted.withLock { channels in channels.removeAll { $0 === channel } }
    }

    /// Makes the connections accepted since the last call hot, with the full spin budget for
    /// their first requests. True when one was still open. Holding the receive role. (Not
    /// inlined: the way to sleep is no part of the receive loop's fast path.)
    @inline(never)
    private func adoptAccepted() -> Bool {
        hasAccepted.store(false, ordering: .relaxed)
        let channels = accepted.withLock { channels in
            defer { channels.removeAll() }
            return channels
        }
        var adopted = false
        for channel in channels where channel.closing == nil && controlPlane.channel(channel.id) === channel {
            hot.add(channel)
            adopted = true
        }
        if adopted {
            awaitingFirstRequest = true
            spinBudget = AdaptiveWait.spinBudgetNanos
        }
        return adopted
    }

    /// What became of one record offered to a sink.
    private enum RecordDelivery {
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
    private func deliverFromHotRing<Sink: MessageSink>(
        into sink: inout Sink, batch: Int, reader: MessageReader
    ) throws(NTStatus) -> Int {
        let count = hot.count
        guard count > 0 else { return 0 }
        for step in 0..<count {
            let channel = hot.scanned(step)
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
                continue
            }
            hot.advance(past: step)
            // A batch takes the MessageIds of the records already published under one lock of
            // the ledger, not one per record, and ends with them.
            var (reservedId, limit) = batch > 1 ? reserveBatch(of: channel, upTo: batch) : (nil, 1)
            var delivered = 0
            var failure: NTStatus?
            switch deliverRecord(slot, of: channel, into: &sink, reader: reader, messageId: reservedId) {
            case .delivered:
                delivered = 1
            case .deliveredThenFailed(let error):
                delivered = 1
                failure = error
            case .notLoaded(let error):
                throw error
            case .broken:
                // A client that writes garbage or breaks the protocol is treated as gone: its
                // messages stop here, and nothing of the broken record is delivered.
                abandon(channel, "a malformed record")
                return try deliverControlEvent(into: &sink, reader: reader) ? 1 : 0
            }
            // More of the same ring, as long as they come whole; anything else waits for the
            // next receive, which sees it first.
            while failure == nil && delivered < limit, let next = try? channel.consumer.peek(after: delivered) {
                reservedId = reservedId.map(ServerLedger.messageId(after:))
                switch deliverRecord(next, of: channel, into: &sink, reader: reader, messageId: reservedId) {
                case .delivered:
                    delivered += 1
                    continue
                case .deliveredThenFailed(let error):
                    delivered += 1
                    failure = error
                case .notLoaded, .broken:
                    break
                }
                break
            }
            // The slots are released whatever the receiver did with the messages.
            if channel.consumer.release(count: delivered) { _ = alpc_futex_wake(channel.requestRing.headAddress, Int32.max) }
            unflushedMessages &+= UInt64(delivered)
            if unflushedMessages >= Self.trafficFlushInterval { flushTraffic() }
            if let failure { throw failure }
            return delivered
        }
        return 0
    }

    /// The MessageIds of the records `channel`'s ring has published, up to `batch`, taken
    /// together (the first, or nil when only one is there), and how many records the batch may
    /// deliver.
    @inline(never)
    private func reserveBatch(of channel: ServerChannel, upTo batch: Int) -> (UInt32?, Int) {
        let published = (try? channel.consumer.published(upTo: batch)) ?? 1
        guard published > 1 else { return (nil, batch) }
        return (ledger.reserveDeliveries(published, from: channel), published)
    }

    /// Checks the record in `slot` of `channel`'s request ring, takes what came with it, and
    /// delivers it into `sink` with the MessageId `reserved` for it (nil: a new one), leaving
    /// the slot to the caller to release.
    private func deliverRecord<Sink: MessageSink>(
        _ slot: UnsafeMutableRawPointer, of channel: ServerChannel, into sink: inout Sink, reader: MessageReader,
        messageId reserved: UInt32?
    ) -> RecordDelivery {
        let record: SlotRecord.Inbound
        let inbound: InboundAttributes?
        do {
            (record, inbound) = try InboundRecord.read(
                slot, maxRecordLength: channel.geometry.maxRecordLength,
                maxMessageLength: channel.geometry.maxMessageLength, peer: channel.peerResources,
                control: channel.handshake.socket, policy: channel.policy)
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
            clientProcess: UInt64(channel.peer.pid), messageId: messageId, callbackId: 0)
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
    private func abandon(_ channel: ServerChannel, _ violation: String) {
        telemetry.protocolViolation(channel.peer, violation)
        beginClosing(channel, .died)
        channel.closing = .died
        finishClosing(channel)
    }

    /// The kernel credentials of the process that sent message `messageId`, and whether its
    /// QoS lets the server impersonate it (see ``ServerLedger/sender(of:)``).
    func sender(of messageId: UInt32) throws(NTStatus) -> (peer: PeerCredentials, allowsImpersonation: Bool) {
        try ledger.sender(of: messageId)
    }

    /// Delivers the oldest control event (connection request, closed connection).
    private func deliverControlEvent<Sink: MessageSink>(into sink: inout Sink, reader: MessageReader) throws(NTStatus) -> Bool {
        guard let event = controlQueue.first else { return false }
        var loaded = false
        do {
            switch event {
            case .connectionRequest(let messageId, let handshake):
                try sink.deliver(
                    bytes: handshake.request?.message ?? [],
                    DeliveryStamp(
                        type: UInt16(ALPC_CONNECTION_REQUEST), clientProcess: UInt64(handshake.peer.pid),
                        clientThread: UInt64(UInt32(bitPattern: handshake.request?.threadId ?? 0)),
                        messageId: messageId, callbackId: 0),
                    attributes: nil, context: nil, sender: handshake.peer, reader: reader, loaded: &loaded)
            case .closed(let channel, let reason, let messageId):
                try sink.load(from: SlotRecord.emptyHeader, dataLength: 0)
                loaded = true
                channel.sequence &+= 1
                try sink.deliver(
                    DeliveryStamp(
                        type: UInt16(reason == .closed ? LPC_PORT_CLOSED : LPC_CLIENT_DIED),
                        clientProcess: UInt64(channel.peer.pid), clientThread: 0, messageId: messageId),
                    attributes: nil,
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

    // MARK: Events and the end of connections

    /// Waits up to `timeoutNanos` for control-plane events and handles them. True when one may
    /// have produced something to deliver.
    private func pollEvents(timeoutNanos: Int64) throws(NTStatus) -> Bool {
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
    private func handleControl(_ channel: ServerChannel, _ event: EventPoll.Event) {
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
    private func beginClosing(_ channel: ServerChannel, _ reason: ServerChannel.Closing) {
        guard channel.closing == nil else { return }
        // A client that said goodbye and then exits is closed, not dead.
        let flags = channel.segment.closedFlags.pointee.load(ordering: .acquiring)
        channel.closing = (flags & ALPC_SEGMENT_CLIENT_CLOSED != 0) ? .closed : reason
        try? controlPlane.events.remove(channel.handshake.socket.fd)
        try? controlPlane.events.remove(channel.doorbell.fd)
        hot.add(channel)
    }

    /// Ends a drained closing connection: queues LPC_PORT_CLOSED or LPC_CLIENT_DIED, forgets it.
    private func finishClosing(_ channel: ServerChannel) {
        hot.remove(channel)
        forgetAccepted(channel)
        controlPlane.remove(channel)
        let messageId = ledger.newMessageId()
        channel.closeFromServer()
        telemetry.connectionEnded(channel.peer, clientDied: channel.closing != .closed)
        controlQueue.append(.closed(channel, channel.closing ?? .died, messageId: messageId))
    }

    // MARK: Answering

    /// Sends `message` as the reply to the pending request it names by MessageId.
    func reply(_ message: AlpcMessage) throws(NTStatus) {
        let messageId = message.port.messageId
        let pending = try ledger.takeRequest(messageId)
        let channel = pending.channel
        let dataLength: Int
        let attributes: OutgoingAttributes?
        do {
            dataLength = try SlotRecord.validateOutgoing(message, maxMessageLength: channel.geometry.maxMessageLength)
            attributes = try OutgoingAttributes.travel(with: message)
                ? OutgoingAttributes.prepare(message, policy: channel.policy) : nil
        } catch {
            // The request stays answerable.
            ledger.restoreRequest(pending, messageId: messageId)
            throw error
        }
        let clientId = replyClientId()
        let recordLength = SlotRecord.slotLength(dataLength: dataLength, attributeLength: attributes?.encodedLength ?? 0)
        do {
            try channel.publish(recordLength: recordLength, attributes: attributes) { slot, slotFlags in
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
            if error == .quotaExceeded { ledger.restoreRequest(pending, messageId: messageId) }
            throw error
        }
        attributes?.finish()
        telemetry.replySent(bytes: dataLength)
    }

    /// Sends a reply of `dataLength` bytes, without attributes, to the pending request
    /// `messageId`: `fill` writes its data in place in the client's reply ring (or, when the
    /// ring is full, in the copy kept until the client frees a slot). When the length is
    /// refused or `fill` throws, nothing is sent and the request stays answerable.
    func reply(
        to messageId: UInt32, dataLength: Int, fill: (UnsafeMutableRawBufferPointer) throws(NTStatus) -> Void
    ) throws(NTStatus) {
        let pending = try ledger.takeRequest(messageId)
        let channel = pending.channel
        var keepPending = true
        do {
            try SlotRecord.validateOutgoing(dataLength: dataLength, maxMessageLength: channel.geometry.maxMessageLength)
            keepPending = false
            let clientId = replyClientId()
            try channel.publish(
                recordLength: SlotRecord.slotLength(dataLength: dataLength, attributeLength: 0),
                write: { (slot, _) throws(NTStatus) in
                    keepPending = true
                    try SlotRecord.write(
                        dataLength: dataLength, kind: ALPC_RECORD_REPLY, cookie: pending.cookie, clientId: clientId,
                        messageId: messageId, callbackId: 0, to: slot, fill: fill)
                    keepPending = false
                })
            telemetry.replySent(bytes: dataLength)
        } catch {
            // As for the copying reply: a refused length, a failed fill or a reply over quota
            // leaves the request answerable.
            if keepPending || error == .quotaExceeded { ledger.restoreRequest(pending, messageId: messageId) }
            throw error
        }
    }

    /// The ClientId a reply carries: this process and the replying thread.
    private func replyClientId() -> ClientID {
        ClientID(process: UInt64(processId), thread: UInt64(alpc_gettid()))
    }

    /// Closes the port: every connection is told, nothing more is received.
    func close() {
        let connections = controlPlane.connectionCount
        guard controlPlane.close() else { return }
        accepted.withLock { $0.removeAll() }
        for _ in 0..<connections { telemetry.connectionClosedByServer() }
        telemetry.portClosed()
        roleLock.withLock { roleLock.broadcast() }
        closeInterrupt.fire()
    }

    /// Whether a thread holds the receive role now (a hint: it may change at once).
    var receiveRoleIsHeld: Bool { roleLock.withLock { receiverBusy } }

    /// Tells every client that was sent this process's section `id` that it was deleted.
    func notifySectionDeleted(_ id: UInt64) {
        for channel in controlPlane.allChannels { channel.notifySectionDeleted(id) }
    }

    /// Closes one connection from the server's side.
    func disconnect(_ channel: ServerChannel) {
        if controlPlane.channel(channel.id) != nil { telemetry.connectionClosedByServer() }
        forgetAccepted(channel)
        controlPlane.remove(channel)
        // Its sockets have nothing more to say; left registered, their hang-up would wake every poll.
        try? controlPlane.events.remove(channel.handshake.socket.fd)
        try? controlPlane.events.remove(channel.doorbell.fd)
        channel.closeFromServer()
    }
}
