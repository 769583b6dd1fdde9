internal import CALPC
internal import CALPCSystem
internal import Synchronization

/// The kernel's view of a connected peer, from SO_PEERCRED.
struct PeerCredentials: Sendable, Equatable {
    var pid: Int32
    var uid: UInt32
    var gid: UInt32
}

/// A client's connection request from the moment its socket is accepted until the server
/// application accepts or refuses it. Owns the socket until then.
final class Handshake: @unchecked Sendable {
    let id: Int
    let socket: ControlSocket
    let peer: PeerCredentials
    /// The client's request, once its CONNECT packet arrived.
    var request: ControlPacket.ConnectRequest?
    /// Set when the client gave up (closed its socket) before an answer.
    var abandoned = false
    /// When its socket was accepted (CLOCK_MONOTONIC ns): its CONNECT packet is due within
    /// the server's handshake deadline.
    let acceptedAt = alpc_now_ns()

    /// Whether the client's security QoS lets the server impersonate it: an impersonation
    /// level of SecurityImpersonation or above in its connect attributes.
    var allowsImpersonation: Bool {
        guard let level = request?.attributes.SecurityQos.ImpersonationLevel else { return false }
        return level.rawValue >= SecurityImpersonation.rawValue
    }

    init(id: Int, socket: consuming ControlSocket, peer: PeerCredentials) {
        self.id = id
        self.socket = socket
        self.peer = peer
    }
}

/// The server's side of one accepted connection.
///
/// The receiving thread owns the request ring's consumer end and the lifecycle state; senders
/// share the reply ring's producer end under `sendLock`. A reply that finds the ring full is
/// kept in `overflow` and published as soon as the client frees a slot, so a slow client never
/// blocks the server.
final class ServerChannel: @unchecked Sendable {
    /// Why a connection ends.
    enum Closing {
        /// The client disconnected on purpose: LPC_PORT_CLOSED.
        case closed
        /// The client's process went away: LPC_CLIENT_DIED.
        case died
    }

    let id: Int
    let handshake: Handshake
    let segment: ConnectionSegment
    let doorbell: Doorbell
    let geometry: SegmentGeometry
    let requestRing: RingView
    let replyRing: RingView
    /// The value every message from this connection carries in its context attribute.
    let portContext: UInt64
    /// Which handles may cross this connection.
    let policy: HandlePolicy
    /// The sections and attachments the client sent on the control socket.
    let peerResources: PeerResources
    /// The port's bounds, shared by its connections.
    var quota: PortQuota { peerResources.quota }

    // Owned by the receiving thread.
    @exclusivity(unchecked) var consumer: RingConsumer
    @exclusivity(unchecked) var sequence: UInt32 = 0
    @exclusivity(unchecked) var closing: Closing?
    @exclusivity(unchecked) var isHot = false

    // Shared by senders under sendLock.
    let sendLock = ConditionLock()
    @exclusivity(unchecked) var producer: RingProducer
    @exclusivity(unchecked) var overflow: [[UInt8]] = []
    /// The bytes of `overflow`, charged to the port's pool.
    @exclusivity(unchecked) private var overflowBytes = 0
    /// The client's doorbell, once it sent one (a client whose application polls it).
    private var clientDoorbell: Doorbell?
    /// The ids of this process's sections the client has been sent.
    var sentSections: Set<UInt64> = []
    /// The number of the last attachment sent to the client.
    var attachmentSequence: UInt32 = 0

    /// 0 while open, else set once the connection is torn down.
    let isClosed = Atomic<Bool>(false)

    var peer: PeerCredentials { handshake.peer }
    /// Whether the client lets the server impersonate it (its QoS, read once at accept).
    let allowsImpersonation: Bool

    init(
        id: Int, handshake: Handshake, segment: consuming ConnectionSegment, doorbell: consuming Doorbell,
        portContext: UInt64, policy: HandlePolicy, quota: PortQuota
    ) {
        self.peerResources = PeerResources(quota: quota)
        self.id = id
        self.handshake = handshake
        self.geometry = segment.geometry
        self.requestRing = segment.ring(.toServer)
        self.replyRing = segment.ring(.toClient)
        self.consumer = RingConsumer(ring: requestRing)
        self.producer = RingProducer(ring: replyRing)
        self.segment = segment
        self.doorbell = doorbell
        self.portContext = portContext
        self.policy = policy
        self.allowsImpersonation = handshake.allowsImpersonation
    }

    /// Publishes a record to the client: runs `prepare` (which sends what must precede the
    /// record on the control socket), then writes the record with `write` into a free slot, or
    /// keeps a copy for later when the ring is full. Both run under the send lock, so control
    /// packets and records reach the client in the same order. When `write` throws, nothing is
    /// published or kept.
    ///
    /// - Throws: ``NTStatus/quotaExceeded``, before anything is sent, when the ring is full and
    ///   keeping the record would exceed what the port keeps for this client or for all of
    ///   them (count and bytes, bounded by `MaxPoolUsage`).
    func publish(
        recordLength: Int, prepare: () throws(NTStatus) -> Void = {},
        write: (UnsafeMutableRawPointer) throws(NTStatus) -> Void
    ) throws(NTStatus) {
        if isClosed.load(ordering: .acquiring) { throw .portDisconnected }
        sendLock.lock()
        var broken = false
        defer {
            sendLock.unlock()
            // A client that moved its ring's head where no head can be has broken the protocol.
            if broken { closeFromServer() }
        }
        flushOverflowLocked()
        // Find the record a place before anything is sent for it.
        var slot: UnsafeMutableRawPointer?
        if overflow.isEmpty {
            do {
                slot = try producer.reserve()
            } catch {
                broken = true
                throw .portDisconnected
            }
        }
        if let slot {
            try prepare()
            try write(slot)
            if producer.publish() { wakeClient() }
            return
        }
        guard overflow.count < quota.maxQueuedPerPeer, overflowBytes + recordLength <= quota.maxPoolUsagePerPeer,
            quota.chargePool(bytes: recordLength)
        else { throw .quotaExceeded }
        var image = [UInt8](repeating: 0, count: recordLength)
        do {
            try prepare()
            try image.withUnsafeMutableBytes { raw in Result { () throws(NTStatus) in try write(raw.baseAddress!) } }.get()
        } catch {
            quota.refundPool(bytes: recordLength)
            throw error
        }
        overflow.append(image)
        overflowBytes += recordLength
        replyRing.producerSleeping.pointee.store(1, ordering: .sequentiallyConsistent)
        flushOverflowLocked()
    }

    /// Moves kept replies into the ring while it has room.
    func flushOverflow() {
        sendLock.lock()
        defer { sendLock.unlock() }
        flushOverflowLocked()
    }

    private func flushOverflowLocked() {
        guard !overflow.isEmpty else { return }
        var wake = false
        var moved = 0
        var bytes = 0
        while moved < overflow.count, let slot = try? producer.reserve() {
            overflow[moved].withUnsafeBytes { slot.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            wake = producer.publish() || wake
            bytes += overflow[moved].count
            moved += 1
        }
        overflow.removeFirst(moved)
        overflowBytes -= bytes
        quota.refundPool(bytes: bytes)
        if overflow.isEmpty { replyRing.producerSleeping.pointee.store(0, ordering: .relaxed) }
        if wake { wakeClient() }
    }

    /// Tells the client, if it was sent this process's section `id`, that the section was
    /// deleted. Best effort: a client whose socket is full keeps its mapping until it leaves.
    func notifySectionDeleted(_ id: UInt64) {
        sendLock.lock()
        defer { sendLock.unlock() }
        guard sentSections.remove(id) != nil, !isClosed.load(ordering: .acquiring) else { return }
        try? handshake.socket.send(.releaseSection(id: id), timeout: .zero)
    }

    /// Keeps the client's doorbell, and rings it when the client has records unread: one
    /// published before the doorbell was kept may have found the client asking for it.
    func installClientDoorbell(_ bell: consuming Doorbell) {
        sendLock.lock()
        defer { sendLock.unlock() }
        clientDoorbell = consume bell
        if replyRing.tail.pointee.load(ordering: .relaxed) != replyRing.head.pointee.load(ordering: .acquiring) {
            clientDoorbell?.ring()
        }
    }

    /// Wakes a client waiting for the reply ring, as it asked: on the futex, or through its
    /// doorbell. Holding the send lock.
    func wakeClient() {
        let requested = replyRing.consumerSleeping.pointee.load(ordering: .relaxed)
        if requested & WakeRequest.futex != 0 { _ = alpc_futex_wake(replyRing.tailAddress, Int32.max) }
        if requested & WakeRequest.doorbell != 0 { clientDoorbell?.ring() }
    }

    /// Marks the connection closed from the server's side and wakes the client's waiters.
    func closeFromServer() {
        guard !isClosed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        segment.closedFlags.pointee.bitwiseOr(ALPC_SEGMENT_SERVER_CLOSED, ordering: .releasing)
        try? handshake.socket.send(.disconnect, timeout: .zero)
        peerResources.releaseAll()
        sendLock.withLock {
            quota.refundPool(bytes: overflowBytes)
            overflow.removeAll()
            overflowBytes = 0
        }
        _ = alpc_futex_wake(replyRing.tailAddress, Int32.max)
        _ = alpc_futex_wake(requestRing.headAddress, Int32.max)
        sendLock.withLock { clientDoorbell?.ring() }
        handshake.socket.shutdown()
    }
}
