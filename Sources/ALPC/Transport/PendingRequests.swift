/// A request delivered to the application and not yet answered: the connection it came on and
/// the cookie its reply must carry.
struct PendingRequest {
    let channel: ServerChannel
    let cookie: UInt32

    /// Runs `body` with the connection, borrowed from this request, which holds it: a
    /// reference loaded from a struct would otherwise be retained and released around the
    /// uses that need it whole (a borrow of its control socket).
    @inline(__always)
    func withChannel<Result>(_ body: (ServerChannel) throws(NTStatus) -> Result) throws(NTStatus) -> Result {
        try Unmanaged.passUnretained(channel).withBorrowed(body)
    }
}

/// The requests a server delivered and has not answered, by MessageId.
///
/// MessageIds are handed out in sequence, so the most recent requests occupy distinct entries
/// of a direct-mapped table: remembering, finding and forgetting one hashes nothing. A request
/// still unanswered when its entry is needed again moves to a dictionary, which is only looked
/// at while it holds something.
struct PendingRequests: ~Copyable {
    private struct Entry {
        var messageId: UInt32
        var request: PendingRequest?
    }

    /// Entries of the direct-mapped table (a power of two).
    static let tableSize = 1024

    /// A buffer of its own (an array would check its uniqueness on every write).
    private let table: UnsafeMutableBufferPointer<Entry>
    private var spilled: [UInt32: PendingRequest] = [:]

    init() {
        table = .allocate(capacity: Self.tableSize)
        table.initialize(repeating: Entry(messageId: 0, request: nil))
    }

    deinit {
        table.deinitialize()
        table.deallocate()
    }

    /// Remembers `request` as the one `messageId` names.
    mutating func insert(_ request: PendingRequest, for messageId: UInt32) {
        let entry = table.baseAddress! + (Int(messageId) & (Self.tableSize - 1))
        if let older = entry.pointee.request.take(), entry.pointee.messageId != messageId {
            spilled[entry.pointee.messageId] = older
        }
        entry.pointee.messageId = messageId
        // Empty now (taken above): the request is put in place, with nothing there to release.
        entry.pointer(to: \.request)!.initialize(to: request)
    }

    /// Forgets and returns the request `messageId` names, if one waits.
    mutating func remove(_ messageId: UInt32) -> PendingRequest? {
        let index = Int(messageId) & (Self.tableSize - 1)
        // Moved out of the table (take), not copied then cleared: no reference counting.
        let entry = table.baseAddress! + index
        if entry.pointee.messageId == messageId, let request = entry.pointee.request.take() {
            return request
        }
        return spilled.isEmpty ? nil : spilled.removeValue(forKey: messageId)
    }

    /// Forgets every request that came on `channel`.
    mutating func removeAll(of channel: ServerChannel) {
        for index in table.indices where table[index].request?.channel === channel {
            table[index].request = nil
        }
        if !spilled.isEmpty { spilled = spilled.filter { $0.value.channel !== channel } }
    }

    /// Forgets every request.
    mutating func removeAll() {
        for index in table.indices { table[index].request = nil }
        spilled.removeAll()
    }
}
