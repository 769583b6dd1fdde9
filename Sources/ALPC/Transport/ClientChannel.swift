internal import CALPC
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
    let doorbell: Doorbell
    let geometry: SegmentGeometry
    /// The server's process id, from the kernel's peer credentials.
    let serverPid: Int32

    private let requestRing: RingView
    private let replyRing: RingView
    private let sendLock = ConditionLock()
    private var producer: RingProducer
    private var nextCookie: UInt32 = 0

    private let receiveLock = ConditionLock()
    private var consumer: RingConsumer
    private var consumerBusy = false
    private var awaiting: Set<UInt32> = []
    private var mailbox: [UInt32: [UInt8]] = [:]
    private var inbox: [[UInt8]] = []

    /// 0 while open; otherwise the status every call fails with.
    private let closedStatus = Atomic<Int32>(0)

    init(control: consuming ControlSocket, segment: consuming ConnectionSegment, doorbell: consuming Doorbell, serverPid: Int32) {
        self.geometry = segment.geometry
        self.requestRing = segment.ring(.toServer)
        self.replyRing = segment.ring(.toClient)
        self.producer = RingProducer(ring: requestRing)
        self.consumer = RingConsumer(ring: replyRing)
        self.control = control
        self.segment = segment
        self.doorbell = doorbell
        self.serverPid = serverPid
    }

    deinit {
        close()
    }

    // MARK: Sending

    /// Puts `message` on the request ring as a record of `kind`, waiting for room until `deadline`.
    ///
    /// - Returns: the cookie the reply will carry (0 for a datagram).
    func send(_ message: AlpcMessage, kind: UInt32, awaitReply: Bool, deadline: UInt64?) throws(NTStatus) -> UInt32 {
        let dataLength = try SlotRecord.validateOutgoing(message, maxMessageLength: geometry.maxMessageLength)
        try checkOpen()
        let clientId = ClientID(process: UInt64(alpc_getpid()), thread: UInt64(alpc_gettid()))
        sendLock.lock()
        defer { sendLock.unlock() }
        var cookie: UInt32 = 0
        if kind != ALPC_RECORD_DATAGRAM {
            nextCookie &+= 1
            if nextCookie == 0 { nextCookie = 1 }
            cookie = nextCookie
            if awaitReply { receiveLock.withLock { _ = awaiting.insert(cookie) } }
        }
        var slot: UnsafeMutableRawPointer?
        do {
            slot = try producer.reserve()
            if slot == nil {
                try AdaptiveWait.wait(
                    futexWord: requestRing.headAddress,
                    sleepingFlag: requestRing.producerSleeping,
                    ownCpu: replyRing.consumerCpu,
                    peerCpu: requestRing.consumerCpu,
                    deadline: deadline,
                    poll: { () throws(NTStatus) -> Bool in try producer.reserve() != nil },
                    liveness: checkAlive
                )
                slot = try producer.reserve()
            }
        } catch {
            if awaitReply { receiveLock.withLock { _ = awaiting.remove(cookie) } }
            if error == .invalidMessage { markClosed(.portDisconnected) }
            throw error
        }
        guard let slot else { throw .unsuccessful }
        SlotRecord.write(
            message, dataLength: dataLength, kind: kind, cookie: cookie,
            clientId: clientId, messageId: 0, callbackId: 0, to: slot)
        if producer.publish() { doorbell.ring() }
        return cookie
    }

    // MARK: Receiving

    /// Receives the reply carrying `cookie` into `message`, or with cookie 0 the next message
    /// nobody else waits for, until `deadline`.
    func receive(cookie: UInt32, into message: AlpcMessage, deadline: UInt64?) throws(NTStatus) {
        receiveLock.lock()
        defer { receiveLock.unlock() }
        while true {
            if cookie != 0, let parked = mailbox.removeValue(forKey: cookie) {
                awaiting.remove(cookie)
                try deliver(parked: parked, into: message)
                return
            }
            if cookie == 0, let parked = inbox.first {
                try deliver(parked: parked, into: message)
                inbox.removeFirst()
                return
            }
            let status = closedStatus.load(ordering: .acquiring)
            if status != 0 {
                if cookie != 0 { awaiting.remove(cookie) }
                throw NTStatus(rawValue: status)
            }
            if consumerBusy {
                if !receiveLock.wait(until: deadline) {
                    if cookie != 0 { awaiting.remove(cookie) }
                    throw .timeout
                }
                continue
            }
            consumerBusy = true
            receiveLock.unlock()
            let outcome: Result<Bool, NTStatus>
            do throws(NTStatus) {
                outcome = .success(try pump(cookie: cookie, into: message, deadline: deadline))
            } catch {
                outcome = .failure(error)
            }
            receiveLock.lock()
            consumerBusy = false
            receiveLock.broadcast()
            switch outcome {
            case .success(true):
                if cookie != 0 { awaiting.remove(cookie) }
                return
            case .success(false):
                continue
            case .failure(let error):
                if error != .bufferTooSmall, cookie != 0 { awaiting.remove(cookie) }
                throw error
            }
        }
    }

    /// Consumes the reply ring until a record for the caller arrives (true, delivered into
    /// `message`) or one for somebody else was parked (false). Runs holding the consumer role.
    private func pump(cookie: UInt32, into message: AlpcMessage, deadline: UInt64?) throws(NTStatus) -> Bool {
        var slot: UnsafeMutableRawPointer?
        do {
            try AdaptiveWait.wait(
                futexWord: replyRing.tailAddress,
                sleepingFlag: replyRing.consumerSleeping,
                ownCpu: replyRing.consumerCpu,
                peerCpu: requestRing.consumerCpu,
                deadline: deadline,
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
        do {
            record = try SlotRecord.inspect(
                slot, maxRecordLength: geometry.maxRecordLength, maxMessageLength: geometry.maxMessageLength)
        } catch {
            markClosed(.portDisconnected)
            throw .portDisconnected
        }
        let isReply = record.kind == ALPC_RECORD_REPLY
        let mine: Bool
        if cookie != 0 {
            mine = isReply && record.cookie == cookie
        } else {
            mine = !(isReply && receiveLock.withLock { awaiting.contains(record.cookie) })
        }
        if mine {
            try SlotRecord.copy(record, into: message)
            stampDelivery(of: record, on: message.port)
            releaseSlot()
            return true
        }
        var parked = SlotRecord.bytes(of: record)
        parked.withUnsafeMutableBytes { raw in
            stampDelivery(of: record, on: PortMessage(unsafeStart: raw.baseAddress!, capacity: raw.count))
        }
        releaseSlot()
        receiveLock.withLock {
            if isReply && awaiting.contains(record.cookie) {
                mailbox[record.cookie] = parked
            } else {
                inbox.append(parked)
            }
        }
        return false
    }

    /// Sets what the receiver of a server message sees: its Type and the server's ClientId.
    private func stampDelivery(of record: SlotRecord.Inbound, on port: PortMessage) {
        port.type = UInt16(record.kind == ALPC_RECORD_REPLY ? LPC_REPLY : LPC_DATAGRAM)
        port.clientId = ClientID(process: UInt64(serverPid), thread: port.clientId.thread)
    }

    private func releaseSlot() {
        if consumer.release() { doorbell.ring() }
    }

    private func deliver(parked: [UInt8], into message: AlpcMessage) throws(NTStatus) {
        try SlotRecord.copy(parked: parked, into: message)
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
        _ = closedStatus.compareExchange(expected: 0, desired: status.rawValue, ordering: .acquiringAndReleasing)
        receiveLock.withLock { receiveLock.broadcast() }
    }

    /// Tells the server this client is leaving; every later call fails with STATUS_PORT_DISCONNECTED.
    func close() {
        guard closedStatus.compareExchange(
            expected: 0, desired: NTStatus.portDisconnected.rawValue, ordering: .acquiringAndReleasing
        ).exchanged else { return }
        segment.closedFlags.pointee.bitwiseOr(ALPC_SEGMENT_CLIENT_CLOSED, ordering: .releasing)
        try? control.send(.disconnect)
        doorbell.ring()
        _ = alpc_futex_wake(replyRing.tailAddress, Int32.max)
        receiveLock.withLock { receiveLock.broadcast() }
    }
}
