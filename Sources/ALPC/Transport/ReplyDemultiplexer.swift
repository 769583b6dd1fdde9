internal import Synchronization

/// Who gets each message a client connection receives: the thread that waits for a reply by
/// its cookie, or, for anything nobody waits for (replies to asynchronous requests,
/// datagrams), whoever calls `receive`.
///
/// One thread at a time holds the consumer role and reads the reply ring; a message it finds
/// for another thread is parked in that thread's mailbox, a message nobody waits for in the
/// inbox (bounded by the connection's quota), and the reply to a cancelled request is
/// dropped. The other threads wait here, with their deadlines, for their message or for the
/// role. All of this state is guarded by this type's lock, except the role itself.
///
/// The role is an atomic flag, so that the common synchronous caller, alone on its
/// connection, takes it with its request (one compare-and-exchange, its cookie kept as the
/// holder's instead of in the set of awaited cookies) and gives it up with its reply (a store,
/// and a load after the fence that the release of the reply's slot needs anyway), without the
/// lock. The lock is taken when the role is busy, when a
/// message must be parked, and to wake threads that announced that they wait.
final class ReplyDemultiplexer: @unchecked Sendable {
    /// A message consumed from the reply ring for a thread other than the consumer.
    struct Parked {
        /// The header and data.
        var bytes: [UInt8]
        /// The attributes that travelled with it, with their descriptors.
        var attributes: InboundAttributes?
        /// Its context Sequence.
        var sequence: UInt32
        /// The cookie of the request it answers; 0 for a datagram.
        var cookie: UInt32
    }

    /// What a receiver does next.
    enum Turn {
        /// Deliver this parked message (taken off its queue; put it back with
        /// ``requeue(_:first:)`` when it does not fit).
        case deliver(Parked, requeueFirst: Bool)
        /// Consume the reply ring: the caller holds the consumer role until
        /// ``releaseConsumer(forgetting:)``.
        case consume
    }

    /// How many cancelled requests are remembered.
    static let maxCancelled = 4096

    private let quota: PortQuota
    /// Whether a thread holds the consumer role.
    private let consumerHeld = Atomic<Bool>(false)
    /// The cookie of the reply the holder took the role for with ``expect(_:takingConsumerRole:)``
    /// (0: none): awaited, though not in `awaiting`. Written by the holder only.
    private let consumerCookie = Atomic<UInt32>(0)
    /// How many threads wait (or are about to) in ``nextTurn(for:deadline:closedStatus:)``:
    /// the holder wakes them when it gives the role up.
    private let waiting = Atomic<Int>(0)
    private let lock = ConditionLock()
    // Guarded by lock.
    @exclusivity(unchecked) private var awaiting = CookieSet() {
        didSet { someAwaited.store(!awaiting.isEmpty, ordering: .releasing) }
    }
    /// Whether `awaiting` holds a cookie, written holding the lock and read without it: see
    /// ``isExpected(_:)``.
    private let someAwaited = Atomic<Bool>(false)
    @exclusivity(unchecked) private var mailbox: [UInt32: Parked] = [:] {
        didSet { parkedCount.store(mailbox.count &+ inbox.count, ordering: .releasing) }
    }
    @exclusivity(unchecked) private var inbox: [Parked] = [] {
        didSet { parkedCount.store(mailbox.count &+ inbox.count, ordering: .releasing) }
    }
    /// How many messages `mailbox` and `inbox` hold, written holding the lock and read without
    /// it: a receiver that finds none takes the consumer role without the lock.
    private let parkedCount = Atomic<Int>(0)
    /// The bytes of the messages in `inbox`.
    @exclusivity(unchecked) private var inboxBytes = 0
    /// Cookies of cancelled requests whose replies are dropped on arrival, oldest first; at
    /// most ``maxCancelled`` (beyond that, a late reply reaches the inbox as any other).
    @exclusivity(unchecked) private var cancelled: [UInt32] = []
    /// `cancelled.count`, read without the lock so that a reply costs nothing while no
    /// request is cancelled.
    private let cancelledCount = Atomic<Int>(0)

    /// A demultiplexer keeping at most what `quota` allows for one peer in its inbox.
    init(quota: PortQuota) {
        self.quota = quota
    }

    // MARK: Waiting for replies

    /// A thread will wait for the reply carrying `cookie`; with `takingConsumerRole`, it also
    /// takes the consumer role if nobody holds it (true: it did, and gives it up with
    /// ``releaseConsumer(forgetting:)`` or ``releaseConsumer(stillExpecting:)``), so that its
    /// receive needs no second turn here.
    @discardableResult
    @inline(__always)
    func expect(_ cookie: UInt32, takingConsumerRole: Bool = false) -> Bool {
        if takingConsumerRole && takeConsumerRole() {
            consumerCookie.store(cookie, ordering: .relaxed)
            return true
        }
        lock.withLock { awaiting.insert(cookie) }
        return false
    }

    /// Takes the consumer role if nobody holds it.
    @inline(__always)
    private func takeConsumerRole() -> Bool {
        consumerHeld.compareExchange(expected: false, desired: true, ordering: .sequentiallyConsistent).exchanged
    }

    /// Nobody waits for the reply carrying `cookie` any more.
    func stopExpecting(_ cookie: UInt32) {
        lock.withLock { awaiting.remove(cookie) }
    }

    /// Whether a thread waits for the reply carrying `cookie`.
    func isExpected(_ cookie: UInt32) -> Bool {
        // A waiter puts its cookie in `awaiting` before its request is published, so before
        // the server can see it, let alone reply: a consumer that read the reply (an acquiring
        // load of the ring's Tail) sees the flag set. Clear, nobody waits: no lock.
        guard someAwaited.load(ordering: .acquiring) else { return false }
        return lock.withLock { awaiting.contains(cookie) }
    }

    /// The next step of a receiver of the reply `cookie` (0: of the next message nobody waits
    /// for): a parked message, or the consumer role, waiting for one of them until `deadline`.
    ///
    /// - Throws: the status `closedStatus` returns (nonzero once the connection is closed) when
    ///   nothing is parked for the receiver, or `.timeout`.
    @inline(__always)
    func nextTurn(for cookie: UInt32, deadline: inout CallDeadline, closedStatus: () -> Int32) throws(NTStatus) -> Turn {
        // Nothing parked and the role free: consume without the lock. (Only the role's holder
        // parks; a message put back by a receiver that could not load it may come meanwhile,
        // as it may after any look under the lock.)
        if parkedCount.load(ordering: .acquiring) == 0 && closedStatus() == 0 && takeConsumerRole() { return .consume }
        return try waitForTurn(for: cookie, deadline: &deadline, closedStatus: closedStatus)
    }

    /// ``nextTurn(for:deadline:closedStatus:)`` when a message is parked, the connection is
    /// closed or another thread holds the consumer role: looks under the lock, and waits.
    @inline(never)
    private func waitForTurn(for cookie: UInt32, deadline: inout CallDeadline, closedStatus: () -> Int32) throws(NTStatus) -> Turn {
        lock.lock()
        defer { lock.unlock() }
        while true {
            if cookie != 0, !mailbox.isEmpty, let parked = mailbox.removeValue(forKey: cookie) {
                awaiting.remove(cookie)
                return .deliver(parked, requeueFirst: false)
            }
            if cookie == 0, !inbox.isEmpty {
                let parked = inbox.removeFirst()
                inboxBytes -= parked.bytes.count
                return .deliver(parked, requeueFirst: true)
            }
            let status = closedStatus()
            if status != 0 { throw NTStatus(rawValue: status) }
            if takeConsumerRole() { return .consume }
            // Announced before the last try: a holder that leaves after it sees the count and
            // wakes this thread.
            waiting.wrappingAdd(1, ordering: .sequentiallyConsistent)
            if takeConsumerRole() {
                waiting.wrappingSubtract(1, ordering: .relaxed)
                return .consume
            }
            let woken = lock.wait(until: deadline.instant())
            waiting.wrappingSubtract(1, ordering: .relaxed)
            if !woken { throw .timeout }
        }
    }

    /// Gives the consumer role up, stops waiting for the reply `cookie` (0: none; the caller's
    /// wait for it ended), and wakes the threads waiting for a message or the role.
    @inline(__always)
    func releaseConsumer(forgetting cookie: UInt32 = 0) {
        releaseConsumer(forgetting: cookie, sharingFenceOf: { atomicMemoryFence(ordering: .sequentiallyConsistent) })
    }

    /// ``releaseConsumer(forgetting:)``, with the fence that must follow the role's release
    /// issued by `fenced` (a sequentially consistent `atomicMemoryFence` before it returns):
    /// the consumer that has just released its slot shares the fence its ring needs. Returns
    /// what `fenced` returns. `fenced` runs without the role.
    @inline(__always)
    func releaseConsumer<T>(forgetting cookie: UInt32, sharingFenceOf fenced: () -> T) -> T {
        if cookie != 0 {
            if consumerCookie.load(ordering: .relaxed) == cookie {
                consumerCookie.store(0, ordering: .relaxed)
            } else {
                lock.withLock { awaiting.remove(cookie) }
            }
        }
        return giveUpConsumerRole(sharingFenceOf: fenced)
    }

    /// Gives the consumer role up while the caller still waits for the reply `cookie`, which
    /// another thread may now read and must park for it.
    func releaseConsumer(stillExpecting cookie: UInt32) {
        if cookie != 0 && consumerCookie.load(ordering: .relaxed) == cookie {
            lock.withLock { awaiting.insert(cookie) }
            consumerCookie.store(0, ordering: .relaxed)
        }
        giveUpConsumerRole()
    }

    @inline(__always)
    private func giveUpConsumerRole() {
        giveUpConsumerRole(sharingFenceOf: { atomicMemoryFence(ordering: .sequentiallyConsistent) })
    }

    /// Gives the consumer role up with a plain store; `fenced` issues the fence after it, and
    /// only then is the count of waiting threads read (they count themselves before they last
    /// try the role: of the store and the count, one side sees the other).
    @inline(__always)
    private func giveUpConsumerRole<T>(sharingFenceOf fenced: () -> T) -> T {
        consumerHeld.store(false, ordering: .releasing)
        let result = fenced()
        if waiting.load(ordering: .relaxed) > 0 { wakeAll() }
        return result
    }

    /// Puts back a message the receiver did not load: first in line, or last. It was kept
    /// before, so it is kept again whatever the quota says.
    func requeue(_ parked: Parked, first: Bool) {
        lock.withLock {
            if first { inbox.insert(parked, at: 0) } else { inbox.append(parked) }
            inboxBytes += parked.bytes.count
        }
    }

    /// How many cancelled requests' replies are still to be dropped (for tests: every late
    /// reply that came took its entry with it).
    var pendingCancellations: Int { cancelledCount.load(ordering: .relaxed) }

    /// Whether a message is kept for a receiver: in the inbox, or in a waiting thread's
    /// mailbox (an asynchronous caller takes it when the poll descriptor wakes it).
    var hasParked: Bool {
        parkedCount.load(ordering: .acquiring) > 0
    }

    /// Wakes every waiting thread (the connection closed, or the role was given up).
    func wakeAll() {
        lock.withLock { lock.broadcast() }
    }

    // MARK: Sorting what the consumer reads

    /// Keeps `parked` for the thread that waits for it, or in the inbox. False when the inbox
    /// is full (its count or bytes would pass the quota): nothing is kept.
    func park(_ parked: Parked, isReply: Bool) -> Bool {
        lock.withLock {
            if isReply && awaiting.contains(parked.cookie) {
                mailbox[parked.cookie] = parked
                return true
            }
            guard inbox.count < quota.maxQueuedPerPeer, inboxBytes + parked.bytes.count <= quota.maxPoolUsagePerPeer else {
                return false
            }
            inbox.append(parked)
            inboxBytes += parked.bytes.count
            return true
        }
    }

    // MARK: Cancelling

    /// Cancels the asynchronous request `cookie`: its reply is dropped, now when it is already
    /// in the inbox or later when it comes.
    ///
    /// - Throws: `.invalidMessage` for a cookie above `issued` (never given out) and for a
    ///   request a thread waits for.
    func cancel(_ cookie: UInt32, issued: UInt32) throws(NTStatus) {
        try lock.withLock { () throws(NTStatus) in
            guard cookie != 0, cookie <= issued, !awaiting.contains(cookie),
                consumerCookie.load(ordering: .relaxed) != cookie
            else { throw .invalidMessage }
            if let index = inbox.firstIndex(where: { $0.cookie == cookie }) {
                inboxBytes -= inbox.remove(at: index).bytes.count
                return
            }
            if cancelled.count == Self.maxCancelled { cancelled.removeFirst() }
            cancelled.append(cookie)
            cancelledCount.store(cancelled.count, ordering: .relaxed)
        }
    }

    /// Stops waiting for the reply `cookie` and drops it: now when it is already parked, or
    /// when it comes (an asynchronous caller was cancelled).
    func abandon(_ cookie: UInt32) {
        let dropped: Parked? = lock.withLock {
            awaiting.remove(cookie)
            if let parked = mailbox.removeValue(forKey: cookie) { return parked }
            if cancelled.count == Self.maxCancelled { cancelled.removeFirst() }
            cancelled.append(cookie)
            cancelledCount.store(cancelled.count, ordering: .relaxed)
            return nil
        }
        // Its descriptors and section holds go with it, outside the lock.
        _ = dropped
    }

    /// True, forgetting the cancellation, when `cookie` is a cancelled request's (its reply is
    /// to be dropped). Costs one relaxed load while nothing is cancelled.
    func dropIfCancelled(_ cookie: UInt32) -> Bool {
        guard cancelledCount.load(ordering: .relaxed) > 0 else { return false }
        return lock.withLock {
            guard let index = cancelled.firstIndex(of: cookie) else { return false }
            cancelled.remove(at: index)
            cancelledCount.store(cancelled.count, ordering: .relaxed)
            return true
        }
    }
}
