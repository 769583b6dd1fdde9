internal import Synchronization

/// A request delivered to the application and not yet answered: the connection it came on,
/// held (``ServerChannel/hold()``) until this is dropped, and the cookie its reply must carry.
struct PendingRequest: ~Copyable {
    private let channel: Unmanaged<ServerChannel>
    let cookie: UInt32

    /// A request from `channel`, taking a hold on it.
    init(holding channel: ServerChannel, cookie: UInt32) {
        channel.hold()
        self.channel = .passUnretained(channel)
        self.cookie = cookie
    }

    /// A request from `channel`, adopting a hold taken for it before.
    fileprivate init(adopting channel: Unmanaged<ServerChannel>, cookie: UInt32) {
        self.channel = channel
        self.cookie = cookie
    }

    deinit {
        channel._withUnsafeGuaranteedRef { $0.releaseHold() }
    }

    /// Runs `body` with the connection, which this request holds.
    @inline(__always)
    func withChannel<Result>(_ body: (ServerChannel) throws(NTStatus) -> Result) throws(NTStatus) -> Result {
        try channel.withBorrowed(body)
    }

    /// The connection, as a strong reference of its own.
    var retainedChannel: ServerChannel { channel.takeUnretainedValue() }
}

/// The requests a server delivered and has not answered, by MessageId.
///
/// MessageIds are handed out in sequence, so the most recent requests occupy distinct entries
/// of a direct-mapped table: remembering, finding and forgetting one hashes nothing, and takes
/// no lock. Only the holder of the receive role puts requests in the table; any thread takes
/// one out, by a compare-and-exchange of the entry's MessageId to 0, so that of two replies
/// to one request exactly one gets it. A request still unanswered when its entry is needed
/// again moves, under the lock, to a dictionary, where a reply that misses the table looks.
final class PendingRequests: @unchecked Sendable {
    /// One request of the table. The MessageId says whose the other fields are: they are written
    /// while it is 0, by the role's holder only, then published by storing it.
    private struct Entry: ~Copyable {
        /// The MessageId of the request kept here; 0 while the entry is free.
        let messageId = Atomic<UInt32>(0)
        /// The cookie its reply must carry.
        let cookie = Atomic<UInt32>(0)
        /// Its connection, held by the entry (``ServerChannel/hold()``): the bits of an
        /// `Unmanaged<ServerChannel>`.
        let channel = Atomic<UInt>(0)
    }

    /// Entries of the direct-mapped table (a power of two).
    static let tableSize = 1024

    private let table = MessageIdTable(count: PendingRequests.tableSize) { Entry() }
    /// A request kept out of the table: its connection by a strong reference, not a hold.
    private struct Spilled {
        let channel: ServerChannel
        let cookie: UInt32
    }

    /// Requests moved out of the table, unanswered when their entry was needed again, and
    /// requests put back after a failed reply.
    private let spilled = LockedState<[UInt32: Spilled]>([:])

    deinit {
        removeAll()
    }

    /// Remembers the request `messageId` from `channel`, whose reply carries `cookie`. Only the
    /// holder of the receive role inserts, in the order it hands MessageIds out.
    @inline(__always)
    func insert(_ messageId: UInt32, from channel: ServerChannel, cookie: UInt32) {
        let entry = table.entry(for: messageId)
        let older = entry.pointee.messageId.load(ordering: .acquiring)
        if older != 0 { spill(older, from: entry) }
        entry.pointee.cookie.store(cookie, ordering: .relaxed)
        channel.hold()
        entry.pointee.channel.store(UInt(bitPattern: Unmanaged.passUnretained(channel).toOpaque()), ordering: .relaxed)
        entry.pointee.messageId.store(messageId, ordering: .releasing)
    }

    /// Moves the unanswered request `messageId` out of `entry` into the dictionary, unless a
    /// reply takes it first.
    @inline(never)
    private func spill(_ messageId: UInt32, from entry: UnsafeMutablePointer<Entry>) {
        spilled.withLock { spilled in
            // Taken out of the table holding the lock: a reply that then misses the table
            // looks in the dictionary after this, and finds it.
            guard let request = Self.claim(messageId, in: entry) else { return }
            spilled[messageId] = Spilled(channel: request.retainedChannel, cookie: request.cookie)
        }
    }

    /// Forgets and returns the request `messageId` names, if one waits.
    @inline(__always)
    func take(_ messageId: UInt32) -> PendingRequest? {
        if let request = Self.claim(messageId, in: table.entry(for: messageId)) { return request }
        return takeSpilled(messageId)
    }

    @inline(never)
    private func takeSpilled(_ messageId: UInt32) -> PendingRequest? {
        guard let request = spilled.withLock({ $0.removeValue(forKey: messageId) }) else { return nil }
        return PendingRequest(holding: request.channel, cookie: request.cookie)
    }

    /// Puts back the request `messageId`, taken for a reply that was not sent.
    func putBack(_ request: borrowing PendingRequest, for messageId: UInt32) {
        let kept = Spilled(channel: request.retainedChannel, cookie: request.cookie)
        spilled.withLock { $0[messageId] = kept }
    }

    /// Takes the request out of `entry` if it is `messageId`'s: its fields are read first and
    /// are its own if the MessageId is still there to be swapped for 0 (they change only after
    /// the entry was free).
    @inline(__always)
    private static func claim(_ messageId: UInt32, in entry: UnsafeMutablePointer<Entry>) -> PendingRequest? {
        guard messageId != 0, entry.pointee.messageId.load(ordering: .acquiring) == messageId else { return nil }
        let cookie = entry.pointee.cookie.load(ordering: .relaxed)
        let channel = entry.pointee.channel.load(ordering: .relaxed)
        guard entry.pointee.messageId.compareExchange(
            expected: messageId, desired: 0, ordering: .acquiringAndReleasing).exchanged
        else { return nil }
        return PendingRequest(
            adopting: Unmanaged<ServerChannel>.fromOpaque(UnsafeRawPointer(bitPattern: channel)!), cookie: cookie)
    }

    /// Forgets every request that came on `channel`.
    func removeAll(of channel: ServerChannel) {
        forget(channel)
    }

    /// Forgets every request.
    func removeAll() {
        forget(nil)
    }

    /// Forgets the requests that came on `channel`, or every request for nil. Their references
    /// are released outside the lock. (Not inlined: inlined into its two callers, it changed
    /// what the optimizer inlined on the copying message path, +23 instructions a request.)
    @inline(never)
    private func forget(_ channel: ServerChannel?) {
        let bits = channel.map { UInt(bitPattern: Unmanaged.passUnretained($0).toOpaque()) }
        for index in 0..<table.count {
            let entry = table.entry(at: index)
            let messageId = entry.pointee.messageId.load(ordering: .acquiring)
            guard messageId != 0 else { continue }
            if let bits, entry.pointee.channel.load(ordering: .relaxed) != bits { continue }
            _ = Self.claim(messageId, in: entry)
        }
        let dropped = spilled.withLock { spilled in
            defer { spilled = channel.map { channel in spilled.filter { $0.value.channel !== channel } } ?? [:] }
            return spilled
        }
        _ = dropped
    }
}
