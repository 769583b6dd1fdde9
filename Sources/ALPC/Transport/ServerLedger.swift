internal import CALPCSystem

/// What a server port remembers about the messages it delivered: the MessageIds it hands out,
/// the requests and connection requests not yet answered, and who sent the most recent
/// messages. One short lock, inside this type, guards all of it.
///
/// Nothing here hashes per message: pending requests live in a direct-mapped table by
/// MessageId (``PendingRequests``), and so do the senders of the last ``rememberedSenders``
/// messages (MessageIds are consecutive, so they occupy distinct entries).
final class ServerLedger: @unchecked Sendable {
    /// How many recent messages ``sender(of:)`` remembers.
    static let rememberedSenders = 4096

    /// The sender of one recent message.
    private struct RememberedSender {
        var messageId: UInt32
        var peer: PeerCredentials
        var allowsImpersonation: Bool
    }

    // Guarded by lock (so not checked for exclusive access at run time, which would cost
    // more than the lock on every message).
    private let lock = ConditionLock()
    @exclusivity(unchecked) private var nextMessageId: UInt32 = 0
    @exclusivity(unchecked) private var pendingRequests = PendingRequests()
    @exclusivity(unchecked) private var pendingConnections: [UInt32: Handshake] = [:]
    /// Replies sent since ``takeReplyTraffic()`` last ran, and their data bytes. Below zero
    /// when a reply counted and handed over was then not sent: the next hand-over makes up
    /// for it.
    @exclusivity(unchecked) private var repliesSent = 0
    @exclusivity(unchecked) private var replyBytesSent = 0
    /// The senders of the last ``rememberedSenders`` messages, by MessageId modulo their
    /// number: a buffer of its own (an array would check its uniqueness on every write).
    private let senders: UnsafeMutableBufferPointer<RememberedSender> = {
        let senders = UnsafeMutableBufferPointer<RememberedSender>.allocate(capacity: ServerLedger.rememberedSenders)
        senders.initialize(
            repeating: RememberedSender(messageId: 0, peer: PeerCredentials(pid: 0, uid: 0, gid: 0), allowsImpersonation: false))
        return senders
    }()

    deinit {
        senders.deallocate()
    }

    /// A new MessageId (never 0). Holding the lock.
    private func newMessageIdLocked() -> UInt32 {
        nextMessageId = Self.messageId(after: nextMessageId)
        return nextMessageId
    }

    /// Remembers that the message `id` came from `channel`'s client. Holding the lock.
    private func rememberSenderLocked(_ id: UInt32, from channel: ServerChannel) {
        rememberSenderLocked(id, as: Self.sender(of: channel))
    }

    /// Remembers that the message `id` came from `sender` (its own MessageId is replaced).
    /// Holding the lock.
    private func rememberSenderLocked(_ id: UInt32, as sender: RememberedSender) {
        var remembered = sender
        remembered.messageId = id
        senders[Int(id) & (Self.rememberedSenders - 1)] = remembered
    }

    /// What is remembered of `channel`'s client for each of its messages.
    private static func sender(of channel: ServerChannel) -> RememberedSender {
        RememberedSender(messageId: 0, peer: channel.peer, allowsImpersonation: channel.allowsImpersonation)
    }

    /// A new MessageId, for a message the server itself makes (a lifecycle message).
    func newMessageId() -> UInt32 {
        lock.withLock { newMessageIdLocked() }
    }

    /// Records the delivery of a record of `kind` with `cookie` from `channel`: returns its new
    /// MessageId, keeps a request until it is answered, and remembers who sent it.
    func recordDelivery(kind: UInt32, cookie: UInt32, from channel: ServerChannel) -> UInt32 {
        lock.withLock {
            let id = newMessageIdLocked()
            if Self.awaitsReply(kind) {
                pendingRequests.insert(PendingRequest(channel: channel, cookie: cookie), for: id)
            }
            rememberSenderLocked(id, from: channel)
            return id
        }
    }

    /// Whether a record of `kind` is a request, kept until it is answered.
    static func awaitsReply(_ kind: UInt32) -> Bool {
        kind == ALPC_RECORD_REQUEST || kind == ALPC_RECORD_ASYNC_REQUEST
    }

    /// Gives the next `count` records from `channel` their MessageIds under one lock, and
    /// remembers their sender: returns the first; the others follow it (see
    /// ``messageId(after:)``). A request among them is then kept with ``keepRequest(_:cookie:from:)``.
    /// Ids reserved for records never delivered are simply not used.
    func reserveDeliveries(_ count: Int, from channel: ServerChannel) -> UInt32 {
        // The sender read once: a store to `senders` could otherwise be taken to change it.
        let sender = Self.sender(of: channel)
        return lock.withLock {
            let first = newMessageIdLocked()
            rememberSenderLocked(first, as: sender)
            for _ in 1..<max(count, 1) { rememberSenderLocked(newMessageIdLocked(), as: sender) }
            return first
        }
    }

    /// The MessageId handed out after `id` (never 0): the one sequence of MessageIds.
    static func messageId(after id: UInt32) -> UInt32 {
        id == UInt32.max ? 1 : id &+ 1
    }

    /// Keeps the request `messageId` (reserved by ``reserveDeliveries(_:from:)``) until it is
    /// answered.
    func keepRequest(_ messageId: UInt32, cookie: UInt32, from channel: ServerChannel) {
        lock.withLock { pendingRequests.insert(PendingRequest(channel: channel, cookie: cookie), for: messageId) }
    }

    /// Takes the request `messageId` from those waiting for a reply, and counts its reply, of
    /// `replyBytes` data bytes, as sent (``replyFailed(_:messageId:bytes:answerable:)`` takes
    /// that back).
    ///
    /// - Throws: `.invalidParameter` for MessageId 0, `.invalidMessage` when no request with
    ///   that MessageId waits (unknown, or already answered).
    func takeRequest(_ messageId: UInt32, replyBytes: Int) throws(NTStatus) -> PendingRequest {
        guard messageId != 0 else { throw .invalidParameter }
        let pending = lock.withLock { () -> PendingRequest? in
            guard let pending = pendingRequests.remove(messageId) else { return nil }
            repliesSent &+= 1
            replyBytesSent &+= replyBytes
            return pending
        }
        guard let pending else { throw .invalidMessage }
        return pending
    }

    /// The reply of `bytes` data bytes to `pending`, taken as `messageId`, was not sent: it no
    /// longer counts, and with `answerable` the request can be answered again.
    func replyFailed(_ pending: PendingRequest, messageId: UInt32, bytes: Int, answerable: Bool) {
        lock.withLock {
            repliesSent &-= 1
            replyBytesSent &-= bytes
            if answerable { pendingRequests.insert(pending, for: messageId) }
        }
    }

    /// The replies sent, and their data bytes, since the last call: counted here, under the
    /// lock a reply takes anyway, rather than with atomics of their own.
    func takeReplyTraffic() -> (replies: UInt64, bytes: UInt64) {
        lock.withLock {
            let replies = max(repliesSent, 0)
            let bytes = max(replyBytesSent, 0)
            repliesSent -= replies
            replyBytesSent -= bytes
            return (UInt64(replies), UInt64(bytes))
        }
    }

    /// Forgets the requests that came on `channel` (it is gone).
    func forgetRequests(of channel: ServerChannel) {
        lock.withLock { pendingRequests.removeAll(of: channel) }
    }

    /// Gives the connection request of `handshake` a MessageId and keeps it until answered.
    func addConnectionRequest(_ handshake: Handshake) -> UInt32 {
        lock.withLock {
            let id = newMessageIdLocked()
            pendingConnections[id] = handshake
            return id
        }
    }

    /// Takes the connection request `messageId` from those waiting for an answer.
    func takeConnectionRequest(_ messageId: UInt32) -> Handshake? {
        lock.withLock { pendingConnections.removeValue(forKey: messageId) }
    }

    /// The kernel credentials of the process that sent message `messageId` (a pending
    /// connection request, or one of the last ``rememberedSenders`` messages received), and
    /// whether its QoS lets the server impersonate it.
    func sender(of messageId: UInt32) throws(NTStatus) -> (peer: PeerCredentials, allowsImpersonation: Bool) {
        try lock.withLock { () throws(NTStatus) -> (peer: PeerCredentials, allowsImpersonation: Bool) in
            let remembered = senders[Int(messageId) & (Self.rememberedSenders - 1)]
            if messageId != 0 && remembered.messageId == messageId {
                return (remembered.peer, remembered.allowsImpersonation)
            }
            if let handshake = pendingConnections[messageId] { return (handshake.peer, handshake.allowsImpersonation) }
            throw .invalidMessage
        }
    }

    /// Forgets every pending request and connection request (the port is closing).
    func removeAll() {
        lock.withLock {
            pendingRequests.removeAll()
            pendingConnections.removeAll()
        }
    }
}
