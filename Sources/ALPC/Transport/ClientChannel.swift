internal import CALPC
internal import CALPCSystem
internal import Synchronization

internal import Glibc

/// The client's side of one connection: the control socket, the shared segment, and the
/// coordination of the threads that send and receive on it.
///
/// Any number of threads may send and receive at once. Sends are serialized on the request
/// ring. One receiving thread at a time consumes the reply ring; a record it finds for another
/// thread is parked in that thread's mailbox, and anything nobody waits for (replies to
/// asynchronous requests, datagrams) goes to the inbox that `receive` reads.
final class ClientChannel: @unchecked Sendable {
    let control: ControlSocket
    let segment: ConnectionSegment
    /// What ``pollDescriptor()`` needs, made on first use.
    private let poller = Mutex<PollSet?>(nil)
    /// Whether the application polls the connection: from then on, messages that arrive while
    /// no thread receives ring ``wakeup``.
    private let polled = Atomic<Bool>(false)
    let geometry: SegmentGeometry
    /// The server's process id, from the kernel's peer credentials.
    let serverPid: Int32
    /// The server's credentials as the kernel recorded them: the token of every message received.
    let serverCredentials: PeerCredentials
    /// Which handles may cross this connection.
    let policy: HandlePolicy
    /// The sections and attachments the server sent on the control socket.
    let peerResources: PeerResources
    /// The bounds on what the server may make this process hold.
    var quota: PortQuota { peerResources.quota }

    private let requestRing: RingView
    private let replyRing: RingView
    /// The writing end of the request ring, shared by the threads that send; it rings the
    /// server's doorbell.
    private let writer: RecordWriter
    /// The last cookie given out (0: none yet); a request's reply carries its cookie.
    private let lastCookie = Atomic<UInt32>(0)

    /// Who gets each message read from the reply ring; holds the consumer role.
    let replies: ReplyDemultiplexer
    // Owned by the holder of the consumer role.
    @exclusivity(unchecked) private var consumer: RingConsumer
    /// The number of messages consumed from the reply ring: their context Sequence.
    @exclusivity(unchecked) private var receivedSequence: UInt32 = 0

    /// 0 while open; otherwise the status every call fails with.
    private let closedStatus = Atomic<Int32>(0)
    /// The connection's lifecycle log and failure counters.
    let telemetry: ClientTelemetry

    private init(
        control: consuming ControlSocket, segment: consuming ConnectionSegment, doorbell: consuming Doorbell,
        serverCredentials: PeerCredentials, policy: HandlePolicy, quota: PortQuota, telemetry: ClientTelemetry
    ) {
        self.telemetry = telemetry
        self.peerResources = PeerResources(quota: quota)
        self.replies = ReplyDemultiplexer(quota: quota)
        self.geometry = segment.geometry
        self.requestRing = segment.ring(.toServer)
        self.replyRing = segment.ring(.toClient)
        // The client's CPU word is its reply ring's consumer word.
        self.writer = RecordWriter(
            ring: requestRing, whenFull: .wait, quota: quota, ownCpu: replyRing.consumerCpu, readerDoorbell: doorbell)
        self.consumer = RingConsumer(ring: replyRing)
        self.control = control
        self.segment = segment
        self.serverPid = serverCredentials.pid
        self.serverCredentials = serverCredentials
        self.policy = policy
    }

    deinit {
        close()
    }

    /// Connects to the server port `name`: sends the CONNECT packet (the client's thread,
    /// `flags`, `attributes` and the connection message `request`, header and data, or
    /// nothing), then waits up to `timeout` for the answer.
    ///
    /// - Returns: the connection and the server's connection reply (header and data, or empty).
    /// - Throws: the refusal's status (only refusal statuses: see `NTStatus(refusal:)`),
    ///   `.objectNameNotFound` when nobody serves the name, `.timeout`, `.portDisconnected`
    ///   when the server goes away, `.invalidHandle` or `.invalidPortAttributes` for a segment
    ///   or doorbell that is not what it must be, `.invalidMessage` for any other answer.
    static func connect(
        to name: PortName, request: [UInt8], attributes: PortAttributes, flags: UInt32, timeout: Duration?,
        quota: PortQuota, telemetry: ClientTelemetry
    ) throws(NTStatus) -> (channel: ClientChannel, reply: [UInt8]) {
        let socket = try ControlSocket.connect(to: name)
        do throws(NTStatus) {
            try socket.send(.connect(.init(threadId: alpc_gettid(), flags: flags, attributes: attributes.raw, message: request)))
        } catch {
            // A server short of descriptors refuses and closes before reading: its refusal is
            // still there to read.
            guard error == .portDisconnected else { throw error }
        }
        // A server that is receiving answers within about one wake-up of its thread: poll for
        // the answer that long before sleeping in the socket, as a blocking call spins for a reply.
        let spinEnd = alpc_now_ns() &+ AdaptiveWait.spinBudgetNanos
        while alpc_now_ns() < spinEnd, (try? socket.poll(for: .readable, timeout: .zero))?.isEmpty == true {
            alpc_cpu_relax()
        }
        let (packet, fds) = try socket.receivePacket(maxFDs: 2, timeout: timeout)
        // Received descriptors are closed here unless something takes them.
        var unclaimed = fds
        defer { PeerDescriptorCloser.shared.close(unclaimed) }
        switch packet {
        case .refuse(let status, _):
            throw NTStatus(refusal: status)
        case .accept(_, let reply, let connectionFlags, let serverTypes):
            guard unclaimed.count == 2 else { throw .invalidHandle }
            let segment = try ConnectionSegment.attach(fd: unclaimed[0])
            // A sealed memfd, now mapped: its close cannot block, so it needs no closing thread
            // (waking or starting one cost a connect tens of microseconds).
            _ = system_close(unclaimed.removeFirst())
            let doorbell = try Doorbell(adopting: OwnedDescriptor(adopting: unclaimed.removeLast()))
            let credentials = (try? socket.peerCredentials()).map {
                PeerCredentials(pid: $0.pid, uid: $0.uid, gid: $0.gid)
            } ?? PeerCredentials(pid: 0, uid: 0, gid: 0)
            let policy = HandlePolicy(
                connectionFlags: connectionFlags, sendTypes: serverTypes, receiveTypes: attributes.dupObjectTypes)
            let channel = ClientChannel(
                control: socket, segment: segment, doorbell: doorbell, serverCredentials: credentials, policy: policy,
                quota: quota, telemetry: telemetry)
            telemetry.connected(server: credentials)
            return (channel, reply)
        default:
            throw .invalidMessage
        }
    }

    // MARK: Sending

    /// Puts `message` on the request ring as a record of `kind`, waiting for room until `deadline`.
    ///
    /// - Returns: the cookie the reply will carry (0 for a datagram).
    func send(_ message: AlpcMessage, kind: UInt32, awaitReply: Bool, deadline: inout CallDeadline) throws(NTStatus) -> UInt32 {
        let dataLength = try SlotRecord.validateOutgoing(message, maxMessageLength: geometry.maxMessageLength)
        guard try OutgoingAttributes.travel(with: message) else {
            // Nothing travels but the header and the data.
            let recordLength = SlotRecord.slotLength(dataLength: dataLength, attributeLength: 0)
            return try publish(recordLength: recordLength, kind: kind, awaitReply: awaitReply, deadline: &deadline) {
                (slot, _, cookie, clientId) in
                SlotRecord.write(
                    message, dataLength: dataLength, kind: kind, cookie: cookie,
                    clientId: clientId, messageId: 0, callbackId: 0, to: slot)
            }
        }
        let attributes = try OutgoingAttributes.prepare(message, policy: policy)
        let recordLength = SlotRecord.slotLength(dataLength: dataLength, attributeLength: attributes.encodedLength)
        let cookie = try publish(
            recordLength: recordLength, attributes: attributes, kind: kind, awaitReply: awaitReply, deadline: &deadline
        ) { (slot, slotFlags, cookie, clientId) in
            SlotRecord.write(
                message, dataLength: dataLength, kind: kind, cookie: cookie,
                clientId: clientId, messageId: 0, callbackId: 0,
                attributes: attributes, flags: slotFlags, to: slot)
        }
        attributes.finish()
        return cookie
    }

    /// Puts a record of `kind` with `dataLength` bytes of data and no attributes on the request
    /// ring, waiting for room until `deadline`; `fill` writes the data in the slot. When `fill`
    /// throws, nothing is published.
    ///
    /// - Returns: the cookie the reply will carry (0 for a datagram).
    func send(
        dataLength: Int, kind: UInt32, awaitReply: Bool, deadline: inout CallDeadline,
        fill: (UnsafeMutableRawBufferPointer) throws(NTStatus) -> Void
    ) throws(NTStatus) -> UInt32 {
        try SlotRecord.validateOutgoing(dataLength: dataLength, maxMessageLength: geometry.maxMessageLength)
        let recordLength = SlotRecord.slotLength(dataLength: dataLength, attributeLength: 0)
        return try publish(recordLength: recordLength, kind: kind, awaitReply: awaitReply, deadline: &deadline) {
            (slot, _, cookie, clientId) throws(NTStatus) in
            try SlotRecord.write(
                dataLength: dataLength, kind: kind, cookie: cookie, clientId: clientId, messageId: 0, callbackId: 0,
                to: slot, fill: fill)
        }
    }

    /// Gives the record a cookie (awaited when `awaitReply`), then has the writer publish it:
    /// `write` fills the slot with the record, given its slot flags, its cookie and the
    /// sender's ClientId. When `write` throws, nothing is published and the cookie is not
    /// awaited.
    ///
    /// - Returns: the cookie the reply will carry (0 for a datagram).
    @inline(__always)
    private func publish(
        recordLength: Int, attributes: OutgoingAttributes? = nil, kind: UInt32, awaitReply: Bool,
        deadline: inout CallDeadline,
        write: (UnsafeMutableRawPointer, _ slotFlags: UInt32, _ cookie: UInt32, ClientID) throws(NTStatus) -> Void
    ) throws(NTStatus) -> UInt32 {
        try checkOpen()
        let clientId = ClientID(process: UInt64(alpc_getpid()), thread: UInt64(alpc_gettid()))
        var cookie: UInt32 = 0
        if kind != ALPC_RECORD_DATAGRAM {
            cookie = lastCookie.wrappingAdd(1, ordering: .relaxed).newValue
            // 0 means "no cookie": skipped once every 2^32 requests.
            if cookie == 0 { cookie = lastCookie.wrappingAdd(1, ordering: .relaxed).newValue }
            // Awaited before it is published: the reply may come at once.
            if awaitReply { replies.expect(cookie) }
        }
        do throws(RecordWriter.Failure) {
            try writer.publish(
                recordLength: recordLength, attributes: attributes, control: control, deadline: &deadline,
                liveness: checkAlive
            ) { (slot, slotFlags) throws(NTStatus) in try write(slot, slotFlags, cookie, clientId) }
        } catch {
            if awaitReply { replies.stopExpecting(cookie) }
            throw settle(error)
        }
        return cookie
    }

    /// The status a call fails with when the writer did not publish; a connection that cannot
    /// be trusted any more is closed.
    private func settle(_ failure: RecordWriter.Failure) -> NTStatus {
        switch failure {
        case .refused(let status):
            return status
        case .broken(let status):
            markClosed(.portDisconnected)
            return status
        }
    }

    /// Sends `count` datagrams of `dataLength` bytes without attributes, `fill` writing the
    /// data of datagram `index` in its slot, and publishes them together: every slot the ring
    /// has free is filled, then published with one store and at most one doorbell, then the
    /// next group waits for room (until `deadline`).
    /// When `fill` throws, the datagrams before it are published and its error is rethrown.
    func sendDatagrams(
        count: Int, dataLength: Int, deadline: inout CallDeadline,
        fill: (Int, UnsafeMutableRawBufferPointer) throws(NTStatus) -> Void
    ) throws(NTStatus) {
        guard count >= 0 else { throw .invalidParameter }
        try SlotRecord.validateOutgoing(dataLength: dataLength, maxMessageLength: geometry.maxMessageLength)
        try checkOpen()
        let clientId = ClientID(process: UInt64(alpc_getpid()), thread: UInt64(alpc_gettid()))
        do throws(RecordWriter.Failure) {
            try writer.publishBatch(count: count, deadline: &deadline, liveness: checkAlive) {
                (index, slot) throws(NTStatus) in
                try SlotRecord.write(
                    dataLength: dataLength, kind: ALPC_RECORD_DATAGRAM, cookie: 0, clientId: clientId, messageId: 0,
                    callbackId: 0, to: slot
                ) { (data) throws(NTStatus) in try fill(index, data) }
            }
        } catch {
            throw settle(error)
        }
    }

    /// Tells the server, if it was sent this process's section `id`, that the section was
    /// deleted. Best effort: a server whose socket is full keeps its mapping until the
    /// connection ends.
    func notifySectionDeleted(_ id: UInt64) {
        writer.notifySectionDeleted(id, on: control) { closedStatus.load(ordering: .acquiring) == 0 }
    }

    // MARK: Receiving

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
    func receive<Sink: MessageSink>(
        cookie: UInt32, into sink: inout Sink, deadline: inout CallDeadline, keepExpecting: Bool = false,
        reader: MessageReader = { _ in }
    ) throws(NTStatus) {
        if polled.load(ordering: .relaxed) {
            try receivePolled(cookie: cookie, into: &sink, deadline: &deadline, keepExpecting: keepExpecting, reader: reader)
        } else {
            try receiveMessage(cookie: cookie, into: &sink, deadline: &deadline, keepExpecting: keepExpecting, reader: reader)
        }
    }

    /// ``receive(cookie:into:deadline:)`` on a polled connection: the server need not ring the
    /// doorbell while this thread receives, and afterwards the descriptor says again whether
    /// a message waits.
    @inline(never)
    private func receivePolled<Sink: MessageSink>(
        cookie: UInt32, into sink: inout Sink, deadline: inout CallDeadline, keepExpecting: Bool, reader: MessageReader
    ) throws(NTStatus) {
        suspendPolling()
        defer { settlePolling() }
        try receiveMessage(cookie: cookie, into: &sink, deadline: &deadline, keepExpecting: keepExpecting, reader: reader)
    }

    private func receiveMessage<Sink: MessageSink>(
        cookie: UInt32, into sink: inout Sink, deadline: inout CallDeadline, keepExpecting: Bool, reader: MessageReader
    ) throws(NTStatus) {
        while true {
            let turn: ReplyDemultiplexer.Turn
            do throws(NTStatus) {
                turn = try replies.nextTurn(for: cookie, deadline: &deadline) { closedStatus.load(ordering: .acquiring) }
            } catch {
                if cookie != 0 && !(keepExpecting && error == .timeout) {
                    replies.stopExpecting(cookie)
                    telemetry.callEnded(error)
                }
                throw error
            }
            switch turn {
            case .deliver(let parked, let requeueFirst):
                // Not loaded (too big for the buffer): it stays queued for the next receive.
                try deliver(parked: parked, into: &sink, requeueFirst: requeueFirst, reader: reader)
                return
            case .consume:
                let outcome = Result { () throws(NTStatus) in try pump(cookie: cookie, into: &sink, deadline: &deadline, reader: reader) }
                replies.releaseConsumer()
                switch outcome {
                case .success(true):
                    if cookie != 0 { replies.stopExpecting(cookie) }
                    return
                case .success(false):
                    continue
                case .failure(let error):
                    // A reply too big for the buffer stays on the ring; once nobody awaits its
                    // cookie, the next receive gets it.
                    if cookie != 0 && !(keepExpecting && error == .timeout) {
                        replies.stopExpecting(cookie)
                        telemetry.callEnded(error)
                    }
                    throw error
                }
            }
        }
    }

    /// Consumes the reply ring until a record for the caller arrives (true, delivered into
    /// `message`) or one for somebody else was parked (false). Runs holding the consumer role.
    private func pump<Sink: MessageSink>(
        cookie: UInt32, into sink: inout Sink, deadline: inout CallDeadline, reader: MessageReader
    ) throws(NTStatus) -> Bool {
        var slot: UnsafeMutableRawPointer?
        do {
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
                liveness: checkAlive
            )
        } catch {
            if error == .invalidMessage { markClosed(.portDisconnected) }
            throw error
        }
        guard let slot else { throw .unsuccessful }
        let record: SlotRecord.Inbound
        let inbound: InboundAttributes?
        do {
            (record, inbound) = try InboundRecord.read(
                slot, maxRecordLength: geometry.maxRecordLength, maxMessageLength: geometry.maxMessageLength,
                peer: peerResources, control: control, policy: policy)
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
            return false
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
            // The slot is released whatever the receiver does with the message.
            let delivered = Result { () throws(NTStatus) in
                try sink.deliver(
                    deliveryStamp(of: record), attributes: inbound,
                    context: ContextStamp(portContext: 0, sequence: receivedSequence), sender: serverCredentials,
                    reader: reader)
            }
            releaseSlot()
            try delivered.get()
            return true
        }
        var bytes = SlotRecord.bytes(of: record)
        bytes.withUnsafeMutableBytes { raw in
            deliveryStamp(of: record).apply(to: PortMessage(unsafeStart: raw.baseAddress!, capacity: raw.count))
        }
        InboundRecord.release(record, from: peerResources)
        receivedSequence &+= 1
        let parked = ReplyDemultiplexer.Parked(
            bytes: bytes, attributes: inbound, sequence: receivedSequence, cookie: isReply ? record.cookie : 0)
        releaseSlot()
        guard replies.park(parked, isReply: isReply) else {
            // The server sends more than anybody here claims (datagrams, replies nobody waits
            // for): the connection ends, and what is already kept can still be received.
            close(status: .quotaExceeded)
            throw .quotaExceeded
        }
        return false
    }

    /// What the receiver of a server message sees: its Type and the server's ClientId.
    @inline(__always)
    private func deliveryStamp(of record: SlotRecord.Inbound) -> DeliveryStamp {
        DeliveryStamp(type: UInt16(record.kind == ALPC_RECORD_REPLY ? LPC_REPLY : LPC_DATAGRAM), clientProcess: UInt64(serverPid))
    }

    private func releaseSlot() {
        // A server that keeps replies for a full ring asked to be rung when a slot frees.
        if consumer.release() { writer.ringReaderDoorbell() }
    }

    /// Delivers a parked message into `sink` (no lock is held: the receiver's closure may call
    /// back into the channel). A message the sink does not load goes back to its queue.
    private func deliver<Sink: MessageSink>(
        parked: ReplyDemultiplexer.Parked, into sink: inout Sink, requeueFirst: Bool, reader: MessageReader
    ) throws(NTStatus) {
        var loaded = false
        let outcome = Result { () throws(NTStatus) in
            try sink.deliver(
                bytes: parked.bytes, DeliveryStamp(), attributes: parked.attributes,
                context: ContextStamp(portContext: 0, sequence: parked.sequence), sender: serverCredentials,
                reader: reader, loaded: &loaded)
        }
        if case .failure(let error) = outcome {
            if !loaded { replies.requeue(parked, first: requeueFirst) }
            throw error
        }
    }

    // MARK: Waiting without a thread

    /// Waits, without blocking a thread, for the reply `cookie` (0: the next message nobody
    /// waits for) and delivers it into `sink`: spins briefly, then suspends the task until
    /// the poll descriptor says a message may wait, and tries again, until `deadline`.
    ///
    /// - Throws: `.timeout`, `.cancelled` when the task is cancelled (the reply, when it
    ///   comes, is dropped), or what a receive throws.
    func receiveAsync<Sink: MessageSink>(
        cookie: UInt32, into sink: inout Sink, deadline: UInt64?, reader: MessageReader = { _ in }
    ) async throws(NTStatus) {
        var attemptDeadline = min(deadline ?? .max, alpc_now_ns() &+ AdaptiveWait.asyncSpinNanos)
        var woken = false
        while true {
            do throws(NTStatus) {
                var attempt = CallDeadline(at: attemptDeadline)
                try receive(cookie: cookie, into: &sink, deadline: &attempt, keepExpecting: true, reader: reader)
                return
            } catch .timeout {
                // Not yet: suspend below.
            }
            if woken {
                // Readable, yet nothing to take: the server may have gone (a wait this short
                // never reaches the receive's own liveness check).
                do throws(NTStatus) {
                    try checkAlive()
                } catch {
                    if cookie != 0 { replies.abandon(cookie) }
                    throw error
                }
            }
            if Task.isCancelled || deadline.map({ alpc_now_ns() >= $0 }) == true {
                let status: NTStatus = Task.isCancelled ? .cancelled : .timeout
                if cookie != 0 {
                    replies.abandon(cookie)
                    telemetry.callEnded(status)
                }
                throw status
            }
            do throws(NTStatus) {
                try await AsyncWaiter(fd: try pollDescriptor()).wait(deadline: deadline)
            } catch {
                if cookie != 0 {
                    replies.abandon(cookie)
                    telemetry.callEnded(error)
                }
                throw error
            }
            // Readable (or the deadline, or a cancellation): try once more without waiting.
            woken = true
            attemptDeadline = alpc_now_ns()
        }
    }

    /// Runs `send` (given a deadline for room in the request ring) without blocking a thread
    /// for long: a full ring is waited for by spinning about ``AdaptiveWait/asyncSpinNanos``,
    /// then by suspending the task for 50 µs, doubling up to 1 ms, until `deadline`. (The
    /// server rings nobody when it frees a slot: a full ring means it is behind, and a short
    /// sleep costs it nothing.)
    ///
    /// - Throws: `.cancelled` when the task is cancelled (nothing was sent), `.timeout` at
    ///   `deadline`, or what `send` throws.
    func sendAsync<T>(
        deadline: UInt64?, _ send: (inout CallDeadline) throws(NTStatus) -> T
    ) async throws(NTStatus) -> T {
        var pause: UInt64 = 50_000
        while true {
            let attempt = Result { () throws(NTStatus) -> T in
                var room = CallDeadline(at: min(deadline ?? .max, alpc_now_ns() &+ AdaptiveWait.asyncSpinNanos))
                return try send(&room)
            }
            switch attempt {
            case .success(let value): return value
            case .failure(let error) where error != .timeout: throw error
            case .failure: break
            }
            if Task.isCancelled { throw .cancelled }
            if let deadline, alpc_now_ns() >= deadline { throw .timeout }
            try? await Task.sleep(for: .nanoseconds(Int64(pause)))
            pause = min(pause * 2, 1_000_000)
        }
    }

    // MARK: Polling

    /// The descriptor an application waits on for this connection (epoll, poll, an event
    /// loop), made on first use: readable while a message may wait for `receive` (a reply to an
    /// asynchronous request, a datagram), and once the server has gone.
    ///
    /// From the first call on, a message that arrives while no thread of this process
    /// receives costs the server one doorbell ring.
    func pollDescriptor() throws(NTStatus) -> Int32 {
        let set = try poller.withLock { (set) throws(NTStatus) -> PollSet in
            if let set { return set }
            let made = try PollSet(control: control)
            // The server keeps the doorbell, to ring it when asked (``WakeRequest/doorbell``).
            try writer.sendBetweenRecords(.wakeup, fds: [made.wakeup.fd], on: control, timeout: .seconds(2))
            set = made
            return made
        }
        polled.store(true, ordering: .relaxed)
        settlePolling(set)
        return set.events.fd
    }

    /// Waits until ``pollDescriptor()`` is readable or `timeout` passes: true when a message
    /// may wait (or the connection ended), false on time-out.
    func waitForMessage(timeout: Duration?) throws(NTStatus) -> Bool {
        let fd = try pollDescriptor()
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let deadline = WaitDeadline(timeout)
        while true {
            let result = Glibc.poll(&entry, 1, deadline.remainingMilliseconds)
            if result > 0 { return true }
            if result == 0 { return false }
            guard errno == EINTR else { throw NTStatus(transportErrno: errno) }
        }
    }

    /// Once polled, while no thread receives: asks the server to ring ``wakeup`` for the next
    /// message, and rings it now when a message already waits or the connection ended, so
    /// that the descriptor is readable while one may wait. (The request is made before the
    /// check, as a sleeper's flag is: a message published in between is not missed.)
    private func settlePolling(_ known: PollSet? = nil) {
        guard let set = known ?? poller.withLock({ $0 }) else { return }
        set.wakeup.drain()
        replyRing.consumerSleeping.pointee.bitwiseOr(WakeRequest.doorbell, ordering: .sequentiallyConsistent)
        let unread = replyRing.tail.pointee.load(ordering: .acquiring) != replyRing.head.pointee.load(ordering: .relaxed)
        if unread || replies.hasParked || closedStatus.load(ordering: .relaxed) != 0 { set.wakeup.ring() }
    }

    /// Rings the poll descriptor's doorbell, if the connection is polled (it closed).
    private func wakePoller() {
        guard polled.load(ordering: .relaxed) else { return }
        poller.withLock { $0 }?.wakeup.ring()
    }

    /// A thread starts receiving: the server need not ring ``wakeup`` meanwhile.
    private func suspendPolling() {
        replyRing.consumerSleeping.pointee.bitwiseAnd(~WakeRequest.doorbell, ordering: .relaxed)
    }

    // MARK: Cancelling

    /// Cancels the asynchronous request `cookie`: its reply is dropped, now when it is already
    /// queued or later when it comes.
    ///
    /// - Throws: `.invalidMessage` for a cookie this channel never gave out, and for a request
    ///   a thread waits for (its wait ends with its reply or its timeout).
    func cancel(cookie: UInt32) throws(NTStatus) {
        try replies.cancel(cookie, issued: lastCookie.load(ordering: .relaxed))
    }

    // MARK: Lifecycle

    /// Throws the status of a closed connection.
    func checkOpen() throws(NTStatus) {
        let status = closedStatus.load(ordering: .acquiring)
        if status != 0 { throw NTStatus(rawValue: status) }
    }

    /// Throws when the server closed the connection or died; runs between sleeps.
    func checkAlive() throws(NTStatus) {
        try checkOpen()
        if segment.closedFlags.pointee.load(ordering: .acquiring) & ALPC_SEGMENT_SERVER_CLOSED != 0
            || control.isPeerGone()
        {
            markClosed(.portDisconnected)
            throw .portDisconnected
        }
    }

    private func markClosed(_ status: NTStatus) {
        if closedStatus.compareExchange(expected: 0, desired: status.rawValue, ordering: .acquiringAndReleasing).exchanged {
            telemetry.closed(byServer: true, status: status)
        }
        replies.wakeAll()
        wakePoller()
    }

    /// Tells the server this client is leaving; every later call fails with `status`
    /// (STATUS_PORT_DISCONNECTED when the application disconnects). Messages already kept for
    /// `receive` can still be received.
    func close(status: NTStatus = .portDisconnected) {
        guard closedStatus.compareExchange(
            expected: 0, desired: status.rawValue, ordering: .acquiringAndReleasing
        ).exchanged else { return }
        telemetry.closed(byServer: false, status: status)
        segment.closedFlags.pointee.bitwiseOr(ALPC_SEGMENT_CLIENT_CLOSED, ordering: .releasing)
        try? control.send(.disconnect)
        peerResources.releaseAll()
        writer.ringReaderDoorbell()
        _ = alpc_futex_wake(replyRing.tailAddress, Int32.max)
        replies.wakeAll()
        wakePoller()
    }
}

/// What a polling application waits on for one client connection: an epoll set holding the
/// client's doorbell (the server rang: a message came) and its control socket (the server went
/// away).
final class PollSet: Sendable {
    /// The doorbell the server rings.
    let wakeup: Doorbell
    /// The epoll set whose descriptor the application polls.
    let events: EventPoll

    init(control: borrowing ControlSocket) throws(NTStatus) {
        let wakeup = try Doorbell()
        let events = try EventPoll()
        try events.add(wakeup.fd, token: 0, events: [.readable])
        try events.add(control.fd, token: 1, events: [.readHangUp])
        self.wakeup = wakeup
        self.events = events
    }
}
