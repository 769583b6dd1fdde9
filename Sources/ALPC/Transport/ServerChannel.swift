internal import CALPC
internal import CALPCSystem
internal import Synchronization

/// The kernel's view of a connected peer, from SO_PEERCRED.
struct PeerCredentials: Sendable, Equatable {
    var pid: Int32
    var uid: UInt32
    var gid: UInt32

    /// The pid as a PORT_MESSAGE's `UniqueProcess` carries it. (A pid is never negative: no
    /// conversion here can trap.)
    var processId: UInt64 { UInt64(UInt32(bitPattern: pid)) }
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
/// The receiving thread owns the request ring's consumer end and the lifecycle state; replies
/// go through the connection's ``RecordWriter``, which keeps a reply that finds the ring full
/// and publishes it as soon as the client frees a slot, so a slow client never blocks the
/// server.
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

    /// The writing end of the reply ring, shared by the threads that reply.
    let writer: RecordWriter

    /// 0 while open, else set once the connection is torn down.
    let isClosed = Atomic<Bool>(false)

    /// The holds that keep this connection alive for requests not yet answered: one per pending
    /// request (in the ledger, or taken by a reply under way), and one while it is in the
    /// receiving thread's hot set, so that a busy connection's requests come and go without
    /// touching its reference count. While the count is not 0, the connection holds a strong
    /// reference to itself, taken when the count leaves 0 and given back when it returns to 0.
    private let holds = Atomic<Int>(0)

    var peer: PeerCredentials { handshake.peer }
    /// What the ledger remembers of the client for each of its messages (its credentials, and
    /// whether its QoS lets the server impersonate it), packed once at accept.
    let sender: RecentSenders.Sender

    init(
        id: Int, handshake: Handshake, segment: consuming ConnectionSegment, doorbell: consuming Doorbell,
        portContext: UInt64, policy: HandlePolicy, quota: PortQuota, replyTraffic: WrittenTraffic
    ) {
        self.peerResources = PeerResources(quota: quota)
        self.id = id
        self.handshake = handshake
        self.geometry = segment.geometry
        self.requestRing = segment.ring(.toServer)
        self.replyRing = segment.ring(.toClient)
        self.consumer = RingConsumer(ring: requestRing)
        // The server's CPU word is its request ring's consumer word.
        self.writer = RecordWriter(
            ring: replyRing, whenFull: .keep, quota: quota, ownCpu: requestRing.consumerCpu, readerDoorbell: nil,
            trafficList: replyTraffic)
        self.segment = segment
        self.doorbell = doorbell
        self.portContext = portContext
        self.policy = policy
        self.sender = RecentSenders.Sender(peer: handshake.peer, allowsImpersonation: handshake.allowsImpersonation)
    }

    /// Takes a hold on this connection. The caller keeps it alive meanwhile (a hold of its own,
    /// or a strong reference), so a first hold's retain never races its last release.
    @inline(__always)
    func hold() {
        if holds.wrappingAdd(1, ordering: .relaxed).oldValue == 0 { _ = Unmanaged.passUnretained(self).retain() }
    }

    /// Gives back a hold taken by ``hold()``; the last one gives back the connection's reference
    /// to itself.
    @inline(__always)
    func releaseHold() {
        if holds.wrappingSubtract(1, ordering: .acquiringAndReleasing).newValue == 0 { dropSelfReference() }
    }

    /// Gives back the reference the first hold took (out of line: the last hold is rare).
    @inline(never)
    private func dropSelfReference() {
        Unmanaged.passUnretained(self).release()
    }

    /// Publishes a record of `recordLength` bytes, `dataLength` of them data, to the client:
    /// sends `attributes`' sections and descriptors on the control socket (waiting at most
    /// ``controlSendTimeout`` for room there), then has `write` fill the slot, given its slot
    /// flags, or a copy kept until the client frees a slot. When `write` throws, nothing is
    /// published or kept.
    ///
    /// - Throws: ``NTStatus/quotaExceeded``, before anything is sent, when the ring is full and
    ///   keeping the record would exceed what the port keeps for this client or for all of
    ///   them (count and bytes, bounded by `MaxPoolUsage`); `.portDisconnected` (or `.timeout`
    ///   for a control packet) when the connection ended or cannot be trusted any more, which
    ///   then closes it.
    @inline(__always)
    func publish(
        recordLength: Int, dataLength: Int, attributes: OutgoingAttributes? = nil,
        write: (UnsafeMutableRawPointer, _ slotFlags: UInt32) throws(NTStatus) -> Void
    ) throws(NTStatus) {
        if isClosed.load(ordering: .acquiring) { throw .portDisconnected }
        var deadline = CallDeadline(after: Self.controlSendTimeout)
        do throws(RecordWriter.Failure) {
            try writer.publish(
                recordLength: recordLength, dataLength: dataLength, attributes: attributes, control: handshake.socket,
                deadline: &deadline,
                liveness: {}, write: write)
        } catch {
            switch error {
            case .refused(let status):
                throw status
            case .broken(let status):
                closeFromServer()
                throw status
            }
        }
    }

    /// The longest a reply waits for room on a client's control socket.
    static let controlSendTimeout: Duration = .seconds(2)

    /// Moves kept replies into the ring while it has room (the client freed slots).
    func flushKept() {
        do throws(RecordWriter.Failure) {
            try writer.flushKept()
        } catch {
            closeFromServer()
        }
    }

    /// Tells the client, if it was sent this process's section `id`, that the section was
    /// deleted. Best effort: a client whose socket is full keeps its mapping until it leaves.
    func notifySectionDeleted(_ id: UInt64) {
        writer.notifySectionDeleted(id, on: handshake.socket) { !isClosed.load(ordering: .acquiring) }
    }

    /// Marks the connection closed from the server's side and wakes the client's waiters.
    func closeFromServer() {
        guard !isClosed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        segment.closedFlags.pointee.bitwiseOr(ALPC_SEGMENT_SERVER_CLOSED, ordering: .releasing)
        try? handshake.socket.send(.disconnect, timeout: .zero)
        peerResources.releaseAll()
        writer.discardKept()
        _ = alpc_futex_wake(replyRing.tailAddress, Int32.max)
        _ = alpc_futex_wake(requestRing.headAddress, Int32.max)
        writer.ringReaderDoorbell()
        handshake.socket.shutdown()
    }
}
