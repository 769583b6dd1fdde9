internal import CALPC
internal import CALPCSystem
internal import Synchronization

/// The client's side of one connection: the control socket, the shared segment, and the
/// coordination of the threads that send and receive on it.
///
/// Any number of threads may send and receive at once. Sends go through the request ring's
/// ``RecordWriter``. One receiving thread at a time consumes the reply ring; a record it finds
/// for another thread is parked by the ``ReplyDemultiplexer`` in that thread's mailbox, and
/// anything nobody waits for (replies to asynchronous requests, datagrams) goes to the inbox
/// that `receive` reads. Connecting, receiving and waiting without a thread are in the files
/// `ClientChannel+Connect`, `+Receive` and `+Async`; an event loop's polling is
/// ``ClientPolling``.
final class ClientChannel: @unchecked Sendable {
    let control: ControlSocket
    let segment: ConnectionSegment
    /// An application's event loop waiting for the connection, once it asked to.
    let polling: ClientPolling
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

    let requestRing: RingView
    let replyRing: RingView
    /// The writing end of the request ring, shared by the threads that send; it rings the
    /// server's doorbell.
    let writer: RecordWriter
    /// The last cookie given out (0: none yet); a request's reply carries its cookie.
    private let lastCookie = Atomic<UInt32>(0)

    /// Who gets each message read from the reply ring; holds the consumer role.
    let replies: ReplyDemultiplexer
    // Owned by the holder of the consumer role.
    @exclusivity(unchecked) var consumer: RingConsumer
    /// The number of messages consumed from the reply ring: their context Sequence.
    @exclusivity(unchecked) var receivedSequence: UInt32 = 0

    /// 0 while open; otherwise the status every call fails with.
    let closedStatus = Atomic<Int32>(0)
    /// The connection's lifecycle log and failure counters.
    let telemetry: ClientTelemetry

    init(
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
        self.polling = ClientPolling(replyRing: replyRing)
        self.control = control
        self.segment = segment
        self.serverPid = serverCredentials.pid
        self.serverCredentials = serverCredentials
        self.policy = policy
    }

    deinit {
        close()
    }

    // MARK: Sending

    /// Who waits for the reply to a record sent.
    enum ReplyWait {
        /// Nobody (a datagram, or a request whose reply `receive` will hand to anybody).
        case none
        /// A receive by its cookie, later (an asynchronous caller).
        case later
        /// The caller, at once: it takes the consumer role with the wait when nobody holds it,
        /// and keeps it for the receive (see ``PendingReply``).
        case caller
    }

    /// A request sent whose reply the caller receives next (``ReplyWait/caller``).
    struct PendingReply {
        /// The cookie the reply will carry.
        var cookie: UInt32
        /// Whether the caller holds the consumer role since the send.
        var holdsConsumerRole: Bool
    }

    /// Puts `message` on the request ring as a record of `kind`, waiting for room until `deadline`.
    ///
    /// - Returns: the cookie the reply will carry (0 for a datagram).
    @inline(__always)
    func send(_ message: AlpcMessage, kind: UInt32, awaitReply: Bool, deadline: inout CallDeadline) throws(NTStatus) -> UInt32 {
        try send(message, kind: kind, reply: awaitReply ? .later : .none, deadline: &deadline).cookie
    }

    /// Puts `message` on the request ring as a request whose reply the caller receives next.
    func sendRequest(_ message: AlpcMessage, deadline: inout CallDeadline) throws(NTStatus) -> PendingReply {
        try send(message, kind: ALPC_RECORD_REQUEST, reply: .caller, deadline: &deadline)
    }

    /// Puts `message` on the request ring as a record of `kind`, waiting for room until `deadline`.
    @inline(__always)
    private func send(
        _ message: AlpcMessage, kind: UInt32, reply: ReplyWait, deadline: inout CallDeadline
    ) throws(NTStatus) -> PendingReply {
        let dataLength = try SlotRecord.validateOutgoing(message, maxMessageLength: geometry.maxMessageLength)
        guard try OutgoingAttributes.travel(with: message) else {
            // Nothing travels but the header and the data.
            let recordLength = SlotRecord.slotLength(dataLength: dataLength, attributeLength: 0)
            return try publish(
                recordLength: recordLength, dataLength: dataLength, kind: kind, reply: reply, deadline: &deadline
            ) { (slot, _, cookie, clientId) in
                SlotRecord.write(
                    message, dataLength: dataLength, kind: kind, cookie: cookie,
                    clientId: clientId, messageId: 0, callbackId: 0, to: slot)
            }
        }
        let attributes = try OutgoingAttributes.prepare(message, policy: policy)
        let recordLength = SlotRecord.slotLength(dataLength: dataLength, attributeLength: attributes.encodedLength)
        let pending = try publish(
            recordLength: recordLength, dataLength: dataLength, attributes: attributes, kind: kind, reply: reply,
            deadline: &deadline
        ) { (slot, slotFlags, cookie, clientId) in
            SlotRecord.write(
                message, dataLength: dataLength, kind: kind, cookie: cookie,
                clientId: clientId, messageId: 0, callbackId: 0,
                attributes: attributes, flags: slotFlags, to: slot)
        }
        attributes.finish()
        return pending
    }

    /// Puts a record of `kind` with `dataLength` bytes of data and no attributes on the request
    /// ring, waiting for room until `deadline`; `fill` writes the data in the slot. When `fill`
    /// throws, nothing is published.
    ///
    /// - Returns: the cookie the reply will carry (0 for a datagram).
    @inline(__always)
    func send(
        dataLength: Int, kind: UInt32, awaitReply: Bool, deadline: inout CallDeadline,
        fill: (UnsafeMutableRawBufferPointer) throws(NTStatus) -> Void
    ) throws(NTStatus) -> UInt32 {
        try send(dataLength: dataLength, kind: kind, reply: awaitReply ? .later : .none, deadline: &deadline, fill: fill)
            .cookie
    }

    /// Puts a request of `dataLength` bytes, written in place by `fill`, on the request ring;
    /// the caller receives its reply next.
    func sendRequest(
        dataLength: Int, deadline: inout CallDeadline, fill: (UnsafeMutableRawBufferPointer) throws(NTStatus) -> Void
    ) throws(NTStatus) -> PendingReply {
        try send(dataLength: dataLength, kind: ALPC_RECORD_REQUEST, reply: .caller, deadline: &deadline, fill: fill)
    }

    @inline(__always)
    private func send(
        dataLength: Int, kind: UInt32, reply: ReplyWait, deadline: inout CallDeadline,
        fill: (UnsafeMutableRawBufferPointer) throws(NTStatus) -> Void
    ) throws(NTStatus) -> PendingReply {
        try SlotRecord.validateOutgoing(dataLength: dataLength, maxMessageLength: geometry.maxMessageLength)
        let recordLength = SlotRecord.slotLength(dataLength: dataLength, attributeLength: 0)
        return try publish(
            recordLength: recordLength, dataLength: dataLength, kind: kind, reply: reply, deadline: &deadline
        ) { (slot, _, cookie, clientId) throws(NTStatus) in
            try SlotRecord.write(
                dataLength: dataLength, kind: kind, cookie: cookie, clientId: clientId, messageId: 0, callbackId: 0,
                to: slot, fill: fill)
        }
    }

    /// Gives the record a cookie (awaited as `reply` says), then has the writer publish it:
    /// `write` fills the slot with the record, given its slot flags, its cookie and the
    /// sender's ClientId. When `write` throws, nothing is published and the cookie is not
    /// awaited.
    ///
    /// - Returns: the cookie the reply will carry (0 for a datagram), and whether the caller
    ///   holds the consumer role.
    @inline(__always)
    private func publish(
        recordLength: Int, dataLength: Int, attributes: OutgoingAttributes? = nil, kind: UInt32, reply: ReplyWait,
        deadline: inout CallDeadline,
        write: (UnsafeMutableRawPointer, _ slotFlags: UInt32, _ cookie: UInt32, ClientID) throws(NTStatus) -> Void
    ) throws(NTStatus) -> PendingReply {
        try checkOpen()
        let clientId = ClientID.callingThread
        var pending = PendingReply(cookie: 0, holdsConsumerRole: false)
        if kind != ALPC_RECORD_DATAGRAM {
            pending.cookie = lastCookie.wrappingAdd(1, ordering: .relaxed).newValue
            // 0 means "no cookie": skipped once every 2^32 requests.
            if pending.cookie == 0 { pending.cookie = lastCookie.wrappingAdd(1, ordering: .relaxed).newValue }
            // Awaited before it is published: the reply may come at once.
            if reply != .none {
                pending.holdsConsumerRole = replies.expect(pending.cookie, takingConsumerRole: reply == .caller)
            }
        }
        let cookie = pending.cookie
        // The liveness check reaches the channel without a strong reference: a closure that
        // captured `self` would retain and release it on every call.
        unowned(unsafe) let unretained = self
        do throws(RecordWriter.Failure) {
            try writer.publish(
                recordLength: recordLength, dataLength: dataLength, attributes: attributes, control: control,
                deadline: &deadline,
                liveness: { () throws(NTStatus) in try unretained.checkAlive() }
            ) { (slot, slotFlags) throws(NTStatus) in try write(slot, slotFlags, cookie, clientId) }
        } catch {
            if pending.holdsConsumerRole {
                replies.releaseConsumer(forgetting: cookie)
            } else if reply != .none {
                replies.stopExpecting(cookie)
            }
            throw settle(error)
        }
        return pending
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
        let clientId = ClientID.callingThread
        unowned(unsafe) let unretained = self  // (see `publish`)
        do throws(RecordWriter.Failure) {
            try writer.publishBatch(
                count: count, dataLength: dataLength, deadline: &deadline, liveness: { () throws(NTStatus) in try unretained.checkAlive() }
            ) { (index, slot) throws(NTStatus) in
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

    // MARK: Polling

    /// The descriptor an application waits on for this connection (epoll, poll, an event
    /// loop), made on first use: readable while a message may wait for `receive` (a reply to an
    /// asynchronous request, a datagram), and once the server has gone.
    ///
    /// From the first call on, a message that arrives while no thread of this process
    /// receives costs the server one doorbell ring.
    func pollDescriptor() throws(NTStatus) -> Int32 {
        try polling.descriptor(control: control, writer: writer, hasKept: { hasKept })
    }

    /// Waits until ``pollDescriptor()`` is readable or `timeout` passes: true when a message
    /// may wait (or the connection ended), false on time-out.
    func waitForMessage(timeout: Duration?) throws(NTStatus) -> Bool {
        try polling.wait(timeout: timeout, descriptor: pollDescriptor())
    }

    /// Whether a message already read waits for `receive`, or the connection ended: what the
    /// poll descriptor announces besides an unread record.
    var hasKept: Bool { replies.hasParked || closedStatus.load(ordering: .relaxed) != 0 }

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

    func markClosed(_ status: NTStatus) {
        if closedStatus.compareExchange(expected: 0, desired: status.rawValue, ordering: .acquiringAndReleasing).exchanged {
            telemetry.closed(byServer: true, status: status)
        }
        replies.wakeAll()
        polling.wake()
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
        polling.wake()
    }
}
