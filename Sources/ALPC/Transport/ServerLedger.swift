internal import CALPCSystem

/// What a server port remembers about the messages it delivered: the MessageIds it hands out,
/// the requests and connection requests not yet answered, and who sent the most recent
/// messages.
///
/// Nothing here hashes or locks per message. MessageIds are handed out by the holder of the
/// receive role only (it delivers every message, connection request and lifecycle message),
/// so their counter is that role's; pending requests live in a direct-mapped table by
/// MessageId that a reply takes its request out of with one compare-and-exchange
/// (``PendingRequests``), and the senders of recent messages in another, read without a lock
/// (``RecentSenders``). The lock, inside this type, guards only the connection requests.
final class ServerLedger: @unchecked Sendable {
    /// The last MessageId handed out. Owned by the holder of the receive role.
    @exclusivity(unchecked) private var lastMessageId: UInt32 = 0
    private let pendingRequests = PendingRequests()
    private let senders = RecentSenders()
    private let lock = ConditionLock()
    // Guarded by lock.
    @exclusivity(unchecked) private var pendingConnections: [UInt32: Handshake] = [:]

    /// A new MessageId (never 0). The holder of the receive role's call only, as are all that
    /// hand one out below.
    func newMessageId() -> UInt32 {
        lastMessageId = Self.messageId(after: lastMessageId)
        return lastMessageId
    }

    /// Records the delivery of a record of `kind` with `cookie` from `channel`: returns its new
    /// MessageId, keeps a request until it is answered, and remembers who sent it.
    @inline(__always)
    func recordDelivery(kind: UInt32, cookie: UInt32, from channel: ServerChannel) -> UInt32 {
        let id = newMessageId()
        if Self.awaitsReply(kind) { pendingRequests.insert(id, from: channel, cookie: cookie) }
        senders.remember(id, from: channel.sender)
        return id
    }

    /// Whether a record of `kind` is a request, kept until it is answered.
    static func awaitsReply(_ kind: UInt32) -> Bool {
        kind == ALPC_RECORD_REQUEST || kind == ALPC_RECORD_ASYNC_REQUEST
    }

    /// Gives the next `count` records from `channel` their MessageIds, and remembers their
    /// sender: returns the first; the others follow it (see ``messageId(after:)``). A request
    /// among them is then kept with ``keepRequest(_:cookie:from:)``. Ids reserved for records
    /// never delivered are simply not used.
    func reserveDeliveries(_ count: Int, from channel: ServerChannel) -> UInt32 {
        let sender = channel.sender
        let first = newMessageId()
        senders.remember(first, from: sender)
        for _ in 1..<max(count, 1) { senders.remember(newMessageId(), from: sender) }
        return first
    }

    /// The MessageId handed out after `id` (never 0): the one sequence of MessageIds.
    static func messageId(after id: UInt32) -> UInt32 {
        id == UInt32.max ? 1 : id &+ 1
    }

    /// Keeps the request `messageId` (reserved by ``reserveDeliveries(_:from:)``) until it is
    /// answered.
    @inline(__always)
    func keepRequest(_ messageId: UInt32, cookie: UInt32, from channel: ServerChannel) {
        pendingRequests.insert(messageId, from: channel, cookie: cookie)
    }

    /// Takes the request `messageId` from those waiting for a reply: of two replies to one
    /// request, one gets it.
    ///
    /// - Throws: `.invalidParameter` for MessageId 0, `.invalidMessage` when no request with
    ///   that MessageId waits (unknown, or already answered).
    @inline(__always)
    func takeRequest(_ messageId: UInt32) throws(NTStatus) -> PendingRequest {
        guard messageId != 0 else { throw .invalidParameter }
        guard let pending = pendingRequests.take(messageId) else { throw .invalidMessage }
        return pending
    }

    /// The reply to `pending`, taken as `messageId`, was not sent, and the request can be
    /// answered again.
    func putBack(_ pending: borrowing PendingRequest, messageId: UInt32) {
        pendingRequests.putBack(pending, for: messageId)
    }

    /// Forgets the requests that came on `channel` (it is gone).
    func forgetRequests(of channel: ServerChannel) {
        pendingRequests.removeAll(of: channel)
    }

    /// Gives the connection request of `handshake` a MessageId and keeps it until answered.
    func addConnectionRequest(_ handshake: Handshake) -> UInt32 {
        let id = newMessageId()
        lock.withLock { pendingConnections[id] = handshake }
        return id
    }

    /// Takes the connection request `messageId` from those waiting for an answer.
    func takeConnectionRequest(_ messageId: UInt32) -> Handshake? {
        lock.withLock { pendingConnections.removeValue(forKey: messageId) }
    }

    /// The kernel credentials of the process that sent message `messageId` (a pending
    /// connection request, or one of the last ``RecentSenders/capacity`` messages received),
    /// and whether its QoS lets the server impersonate it.
    func sender(of messageId: UInt32) throws(NTStatus) -> (peer: PeerCredentials, allowsImpersonation: Bool) {
        if let sender = senders.sender(of: messageId) { return (sender.peer, sender.allowsImpersonation) }
        guard let handshake = lock.withLock({ pendingConnections[messageId] }) else { throw .invalidMessage }
        return (handshake.peer, handshake.allowsImpersonation)
    }

    /// Forgets every pending request and connection request (the port is closing).
    func removeAll() {
        pendingRequests.removeAll()
        lock.withLock { pendingConnections.removeAll() }
    }
}
